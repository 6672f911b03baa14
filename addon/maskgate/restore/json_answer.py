"""Restore a JSON answer on its way to the client, without the flow keeping it.

A JSON answer can only be restored whole. Restoring it in the `response` hook would leave
the restored body, originals included, on the flow, where mitmweb shows it and `-w` saves
it. As a stream callable it is gathered, restored at its end and sent on, and mitmproxy
keeps no copy of what a stream callable returns; the addon stores the answer as upstream
sent it (`upstream`) on the flow instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from maskgate.openai.jsonbody import encode_json
from maskgate.restore.text import RestoreTally
from maskgate.vault import Vault

RestoreFn = Callable[[dict[str, Any], Vault], RestoreTally]
"""Puts originals back into a parsed answer of one endpoint, in place."""


class JsonAnswerRestorer:
    """A `flow.response.stream` callable: gathers the answer, sends it on restored at its end."""

    def __init__(self, vault: Vault, restore: RestoreFn) -> None:
        self._vault = vault
        self._restore = restore
        self._body = bytearray()
        self.upstream: bytes | None = None
        """The whole answer as upstream sent it; None until it has ended."""
        self.tally: RestoreTally | None = None
        """What the answer gave back; None when it was not restored (`note` says why)."""
        self.note = ""

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        """Nothing (`[]`, never `b""`, which ends an HTTP/1.1 body) until the final empty read."""
        if data:
            self._body += data
            return []
        self.upstream, self._body = bytes(self._body), bytearray()
        restored, self.tally, self.note = restore_json_answer(self.upstream, self._vault, self._restore)
        return restored or []


def restore_json_answer(
    body: bytes, vault: Vault, restore: RestoreFn
) -> tuple[bytes, RestoreTally | None, str]:
    """The body to send on, what came back, and a note saying why when it was not restored.

    Anything but a JSON object goes on exactly as it came.
    """
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return body, None, "answer is not JSON; left as it came"
    if not isinstance(answer, dict):
        return body, None, "answer is not a JSON object; left as it came"
    tally = restore(answer, vault)
    return (encode_json(answer) if tally.restored else body), tally, ""
