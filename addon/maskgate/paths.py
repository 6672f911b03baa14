"""Request paths in the form a server routes them.

The addon decides by this form which endpoint a request is for, and the audit log
records it: it carries no query string, which may hold data.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote


def endpoint(path: str) -> str:
    """The path a server would route: no query, no percent-escapes, no `//`, `.` or trailing `/`.

    Compared in this form, `/v1//chat/completions/` or `/v1/chat%2Fcompletions` cannot slip
    past the check while upstream still serves them as chat completions.
    """
    normal = posixpath.normpath(re.sub("/+", "/", "/" + unquote(path.split("?", 1)[0])))
    return normal.rstrip("/").lower() or "/"
