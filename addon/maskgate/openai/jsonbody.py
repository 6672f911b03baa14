"""How rewritten request and answer bodies are encoded."""

from __future__ import annotations

import json
from typing import Any


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, as a rewritten body is sent; falls back to ASCII escapes for text
    that is not valid Unicode (a lone surrogate)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")
