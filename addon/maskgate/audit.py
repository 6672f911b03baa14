"""The audit log: one JSON line per guarded flow, safe to keep.

Each line says when, where and what maskgate did (mode, findings counted by type and by
action, analysis time, restore counts, refusal code), never a detected value, so the
file can be kept and shared like any access log. A line is written when the flow is
finished, in the `response` or `error` hook: mitmproxy calls exactly one of them per
flow, also for a request maskgate refused itself, so each flow gets exactly one line.

Lines are appended and flushed by one writer thread, in order: a slow disk never stalls
the proxy.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mitmproxy import ctx, exceptions, http

from maskgate.annotate import METADATA_KEY
from maskgate.outcome import outcome
from maskgate.paths import endpoint

logger = logging.getLogger("maskgate")


class MaskGateAudit:
    """Appends a line per finished guarded flow to the file `maskgate_audit` names."""

    def __init__(self) -> None:
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="maskgate-audit")
        self._file: TextIO | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            "maskgate_audit",
            str,
            "",
            "Append one JSON line per guarded flow to this file: time, host, path, model, "
            "mode, counts by type and action, analysis time, restore counts. Never a "
            "detected value. Empty: no audit log.",
        )

    def configure(self, updated: set[str]) -> None:
        if "maskgate_audit" not in updated:
            return
        path = ctx.options.maskgate_audit
        opened = _open(path) if path else None
        previous, self._file = self._file, opened
        if previous is not None:
            # Queued behind the lines still to be written to it.
            self._writer.submit(previous.close)

    def response(self, flow: http.HTTPFlow) -> None:
        self._write(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._write(flow)

    def done(self) -> None:
        if self._file is not None:
            self._writer.submit(self._file.close)
            self._file = None  # a flow that finishes later is not written
        self._writer.shutdown(wait=True)

    def _write(self, flow: http.HTTPFlow) -> None:
        if self._file is None or METADATA_KEY not in flow.metadata:
            return
        line = json.dumps(record(flow), ensure_ascii=False, separators=(",", ":")) + "\n"
        self._writer.submit(_append, self._file, line)


def record(flow: http.HTTPFlow) -> dict[str, Any]:
    """The audit line of a finished guarded flow, as a JSON-ready dict."""
    meta = flow.metadata[METADATA_KEY]
    result = outcome(meta)
    return {
        "time": datetime.fromtimestamp(flow.request.timestamp_start, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "host": flow.request.pretty_host,
        "method": flow.request.method,
        "path": endpoint(flow.request.path),
        "model": meta.get("model"),
        "mode": str(result.mode),
        "status": flow.response.status_code if flow.response else None,
        "refused": result.refused,
        "types": dict(sorted((Counter(result.pii) + Counter(result.secrets)).items())),
        "actions": dict(sorted(result.actions.items())),
        "placeholders": result.placeholders,
        "blocked": list(result.blocked),
        "analysis_ms": meta.get("analysis_ms"),
        "restore": asdict(result.restore) if result.restore else None,
        "error": flow.error is not None,
        "rules_warning": "rules_error" in meta,
    }


def _open(path: str) -> TextIO:
    """The file opened for appending (and created if need be), or an `OptionsError` saying why not."""
    try:
        return Path(path).expanduser().open("a", encoding="utf-8")
    except OSError as e:
        raise exceptions.OptionsError(f"maskgate_audit: cannot append to {path}: {e.strerror or e}") from None


def _append(file: TextIO, line: str) -> None:
    """Write and flush one line (in the writer thread); a failure is logged, never raised."""
    try:
        file.write(line)
        file.flush()
    except OSError as e:
        logger.error("maskgate: audit line not written to %s: %s", file.name, e)
