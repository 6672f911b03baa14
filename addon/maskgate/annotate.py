"""What a person sees of maskgate's work on a flow: marker, comment and metadata.

Everything here describes detections by type, placeholder, path and length only;
`flow.metadata` is saved with flows, so no original value may ever go into it.
"""

from __future__ import annotations

from collections import Counter

from mitmproxy import http

from maskgate.mask import Finding
from maskgate.restore.text import RestoreTally

MARK_MASKED = ":shield:"
MARK_LOGGED = ":eyes:"
MARK_REFUSED = ":no_entry:"
MARK_UNRESOLVED = ":warning:"
METADATA_KEY = "maskgate"


def record_masked(flow: http.HTTPFlow, findings: list[Finding], analysis_ms: float) -> None:
    """Mark a flow whose request went upstream, with what was masked in it."""
    meta = flow.metadata.setdefault(METADATA_KEY, {})
    meta["analysis_ms"] = round(analysis_ms, 1)
    meta["detections"] = [f.as_dict() for f in findings]
    if any(f.placeholder for f in findings):
        flow.marked = MARK_MASKED
    elif findings:
        flow.marked = MARK_LOGGED
    _write_comment(flow)


def record_refused(flow: http.HTTPFlow, code: str, reason: str) -> None:
    """Mark a flow that maskgate answered itself instead of forwarding it."""
    flow.metadata.setdefault(METADATA_KEY, {})["refused"] = {"code": code, "reason": reason}
    flow.marked = MARK_REFUSED
    _write_comment(flow)


def record_restore(flow: http.HTTPFlow, tally: RestoreTally | None, note: str = "") -> None:
    """Add the answer's side: how many placeholders came back, and which did not."""
    meta = flow.metadata.setdefault(METADATA_KEY, {})
    meta["restore"] = {
        "restored": sum(tally.restored.values()) if tally else 0,
        "unresolved": sorted(tally.unresolved) if tally else [],
        "note": note,
    }
    if tally and tally.unresolved:
        flow.marked = MARK_UNRESOLVED
    _write_comment(flow)


def _write_comment(flow: http.HTTPFlow) -> None:
    meta = flow.metadata.get(METADATA_KEY, {})
    if refused := meta.get("refused"):
        flow.comment = f"maskgate: refused ({refused['code']}): {refused['reason']}"
        return
    detections = meta.get("detections", [])
    masked = Counter(
        d["type"] for d in {d["placeholder"]: d for d in detections if d["placeholder"]}.values()
    )
    logged = Counter(d["type"] for d in detections if d["action"] == "log")
    parts = ["maskgate: masked " + (_counts(masked) if masked else "nothing")]
    if logged:
        parts.append(f"logged {_counts(logged)} occurrence(s), not masked")
    if restore := meta.get("restore"):
        parts.append(f"answer: {restore['restored']} restored")
        if restore["unresolved"]:
            parts.append(f"{len(restore['unresolved'])} unknown placeholders")
        if restore["note"]:
            parts.append(restore["note"])
    flow.comment = "; ".join(parts)


def _counts(by_type: Counter[str]) -> str:
    return ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
