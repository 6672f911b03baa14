"""`maskgate.stats`: what maskgate did since the proxy started, counted over finished flows.

A flow is counted once, when it finishes (`response` or `error`, of which mitmproxy calls
exactly one), so a request still waiting for its answer is not in the counts yet.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict

from mitmproxy import command, http

from maskgate.annotate import METADATA_KEY
from maskgate.outcome import Mode, outcome


class MaskGateStats:
    """Counts guarded flows by mode, findings by type, placeholders and restore results."""

    def __init__(self) -> None:
        self._since = time.time()
        self._modes: Counter[Mode] = Counter()
        self._types: Counter[str] = Counter()
        self._placeholders = 0
        self._restore: Counter[str] = Counter()

    def response(self, flow: http.HTTPFlow) -> None:
        self._count(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._count(flow)

    def _count(self, flow: http.HTTPFlow) -> None:
        if (meta := flow.metadata.get(METADATA_KEY)) is None:
            return
        result = outcome(meta)
        self._modes[result.mode] += 1
        self._types.update(result.pii)
        self._types.update(result.secrets)
        self._placeholders += result.placeholders
        if result.restore is not None:
            self._restore.update(asdict(result.restore))

    @command.command("maskgate.stats")
    def stats(self) -> str:
        """What maskgate did since the proxy started: flows by mode, placeholders, restores, types."""
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._since))
        modes = ", ".join(f"{self._modes[mode]} {mode.replace('-', ' ')}" for mode in Mode)
        types = ", ".join(f"{t} {n}" for t, n in sorted(self._types.items())) or "none"
        return "\n".join(
            [
                f"maskgate since {since}: {self._modes.total()} guarded flows",
                f"  requests: {modes}",
                f"  placeholders issued: {self._placeholders}",
                f"  answers: {self._restore['restored']} placeholders restored, "
                f"{self._restore['redacted']} kept redacted, "
                f"{self._restore['not_returned']} not returned, "
                f"{self._restore['unresolved']} unresolved (never issued)",
                f"  found, by type: {types}",
            ]
        )
