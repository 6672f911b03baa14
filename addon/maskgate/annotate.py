"""What a person sees of maskgate's work on a flow: marker, comment and metadata.

Everything here describes detections by type, placeholder, path and length only;
`flow.metadata` is saved with flows, so no original value may ever go into it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mitmproxy import http

from maskgate.mask import Finding
from maskgate.restore.text import RestoreTally

MARK_MASKED = ":shield:"
MARK_LOGGED = ":eyes:"
MARK_REFUSED = ":no_entry:"
MARK_UNRESOLVED = ":warning:"
MARK_WARNING = ":warning:"
"""Something needs a person's attention: the request went out unmasked, or the rules
file's latest edit is not in use."""
MARK_NOT_INSPECTED = ":grey_question:"
METADATA_KEY = "maskgate"


def record_masked(flow: http.HTTPFlow, findings: list[Finding], analysis_ms: float) -> None:
    """Mark a flow whose request went upstream, with what was masked in it."""
    meta = flow.metadata.setdefault(METADATA_KEY, {})
    meta["analysis_ms"] = round(analysis_ms, 1)
    meta["detections"] = [f.as_dict() for f in findings]
    if any(f.placeholder for f in findings):
        _mark(flow, MARK_MASKED)
    elif findings:
        _mark(flow, MARK_LOGGED)
    _write_comment(flow)


def record_refused(flow: http.HTTPFlow, code: str, reason: str) -> None:
    """Mark a flow that maskgate answered itself instead of forwarding it."""
    flow.metadata.setdefault(METADATA_KEY, {})["refused"] = {"code": code, "reason": reason}
    _mark(flow, MARK_REFUSED)
    _write_comment(flow)


def record_failed_open(flow: http.HTTPFlow, cause: str) -> None:
    """Mark a flow that could not be inspected and went upstream as it came (`on_failure: open`)."""
    flow.metadata.setdefault(METADATA_KEY, {})["failed_open"] = cause
    flow.marked = MARK_WARNING
    _write_comment(flow)


def record_not_inspected(flow: http.HTTPFlow, where: str) -> None:
    """Mark a request to a guarded host that went upstream untouched: not an endpoint maskgate reads.

    `where` is the method and normalised path, never the query string.
    """
    flow.metadata.setdefault(METADATA_KEY, {}).update(inspected=False, endpoint=where)
    _mark(flow, MARK_NOT_INSPECTED)
    _write_comment(flow)


def record_rules_error(flow: http.HTTPFlow, problem: str) -> None:
    """Say on a flow that it was handled by the last good rules, because the rules file's
    latest content is invalid; `problem` names file, key and what is wrong."""
    flow.metadata.setdefault(METADATA_KEY, {})["rules_error"] = problem
    flow.marked = MARK_WARNING
    _write_comment(flow)


def record_restore(flow: http.HTTPFlow, tally: RestoreTally | None, note: str = "") -> None:
    """Add the answer's side: how many placeholders came back, how many were kept because
    their values are redacted, and which were unknown."""
    meta = flow.metadata.setdefault(METADATA_KEY, {})
    meta["restore"] = {
        "restored": sum(tally.restored.values()) if tally else 0,
        "redacted": sum(tally.redacted.values()) if tally else 0,
        "unresolved": sorted(tally.unresolved) if tally else [],
        "note": note,
    }
    if tally and tally.unresolved:
        flow.marked = MARK_UNRESOLVED
    _write_comment(flow)


def _mark(flow: http.HTTPFlow, marker: str) -> None:
    """Set `marker` unless the flow carries a warning, which must stay visible."""
    meta = flow.metadata.get(METADATA_KEY, {})
    if "failed_open" not in meta and "rules_error" not in meta:
        flow.marked = marker


def _write_comment(flow: http.HTTPFlow) -> None:
    meta = flow.metadata.get(METADATA_KEY, {})
    comment = _summary(meta)
    if problem := meta.get("rules_error"):
        comment += f"; WARNING: rules file not applied, keeping the last good rules: {problem}"
    flow.comment = comment


def _summary(meta: dict[str, Any]) -> str:
    """The comment's first part: what happened to the request, and to its answer."""
    if refused := meta.get("refused"):
        return f"maskgate: refused ({refused['code']}): {refused['reason']}"
    if cause := meta.get("failed_open"):
        return f"maskgate: forwarded UNMASKED (on_failure: open): {cause}"
    if meta.get("inspected") is False:
        return f"maskgate: not inspected ({meta['endpoint']})"
    detections = meta.get("detections", [])
    masked = Counter(
        d["type"] for d in {d["placeholder"]: d for d in detections if d["placeholder"]}.values()
    )
    logged = Counter(d["type"] for d in detections if d["action"] == "log")
    parts = ["maskgate: masked " + (_counts(masked) if masked else "nothing")]
    if logged:
        parts.append(f"logged {_counts(logged)} occurrence(s), not masked")
    if restore := meta.get("restore"):
        answer = f"answer: {restore['restored']} restored"
        if restore["redacted"]:
            answer += f", {restore['redacted']} kept redacted"
        parts.append(answer)
        if restore["unresolved"]:
            parts.append(f"{len(restore['unresolved'])} unknown placeholders")
        if restore["note"]:
            parts.append(restore["note"])
    return "; ".join(parts)


def _counts(by_type: Counter[str]) -> str:
    return ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
