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
from maskgate.restore.text import RestoreTally, prose_in
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
        self.answer_texts: list[str] = []
        """The restored answer's texts, as the client will send them back as history."""
        self.note = ""

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        """Nothing (`[]`, never `b""`, which ends an HTTP/1.1 body) until the final empty read."""
        if data:
            self._body += data
            return []
        self.upstream, self._body = bytes(self._body), bytearray()
        return self._restored(self.upstream) or []

    def _restored(self, body: bytes) -> bytes:
        """The body to send on: anything but a JSON object goes on exactly as it came, and
        `note` says so."""
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            self.note = "answer is not JSON; left as it came"
            return body
        if not isinstance(answer, dict):
            self.note = "answer is not a JSON object; left as it came"
            return body
        self.tally = self._restore(answer, self._vault)
        self.answer_texts = prose_in(answer)
        return encode_json(answer) if self.tally.restored else body
