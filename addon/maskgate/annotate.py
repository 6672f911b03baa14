"""What a person sees of maskgate's work on a flow: marker, comment and metadata.

Everything here describes detections by type, placeholder, path, length and keyed
fingerprint only; `flow.metadata` is saved with flows, so no original value may ever go
into it.

Markers, as mitmweb shows them in the flow list (none on a guarded flow in which nothing
was found):

- `:shield:` something was masked or redacted, and the masked request went upstream;
- `:eyes:` something was found, but only logged: the request went upstream as written;
- `:no_entry:` maskgate refused the request and answered it itself;
- `:warning:` a person should look: the request went upstream unmasked (`on_failure:
  open`), the rules file's latest edit is not in use, or the answer holds placeholders
  maskgate never issued. It wins over every other marker;
- `:grey_question:` an endpoint of a guarded host that maskgate does not inspect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from mitmproxy import http

from maskgate.mask import Finding
from maskgate.restore.text import RestoreTally
from maskgate.vault import PLACEHOLDER_SHAPE

MARK_MASKED = ":shield:"
MARK_LOGGED = ":eyes:"
MARK_REFUSED = ":no_entry:"
MARK_WARNING = ":warning:"
MARK_NOT_INSPECTED = ":grey_question:"
METADATA_KEY = "maskgate"

MAX_IDS = 20
"""Placeholder ids kept per list of the restore summary; the count says how many there were.
A model can write any number of made-up placeholders: they must not bloat saved flows."""

MAX_ID_CHARS = 48
"""Longest id kept as written; a made-up one can be any length."""


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
    """Add the answer's side: which placeholders came back restored, which were kept because
    their values are redacted, which issued ones the answer never used, and which ids in it
    maskgate never issued. `tally` is None when the answer was not restored; `note` says why.

    The issued placeholders are those of the flow's recorded detections.
    """
    meta = flow.metadata.setdefault(METADATA_KEY, {})
    restore: dict[str, Any] = {"note": note}
    if tally is not None:
        issued = {d["placeholder"] for d in meta.get("detections", []) if d["placeholder"]}
        restore.update(
            restored=_id_list(tally.restored),
            redacted=_id_list(tally.redacted),
            not_returned=_id_list(issued - tally.restored.keys() - tally.redacted.keys()),
            unresolved=_id_list(tally.unresolved),
        )
    meta["restore"] = restore
    if tally is not None and tally.unresolved:
        flow.marked = MARK_WARNING
    _write_comment(flow)


def _id_list(placeholders: Iterable[str]) -> dict[str, Any]:
    """How many distinct placeholders, and the first `MAX_IDS` of them in type and number order."""
    ids = sorted(set(placeholders), key=_placeholder_order)
    shown = [p if len(p) <= MAX_ID_CHARS else p[: MAX_ID_CHARS - 3] + "…]]" for p in ids[:MAX_IDS]]
    return {"count": len(ids), "ids": shown}


def _placeholder_order(placeholder: str) -> tuple[str, int, str]:
    """`[[PERSON_2]]` before `[[PERSON_10]]`."""
    match = PLACEHOLDER_SHAPE.fullmatch(placeholder)
    return (match.group(1), int(match.group(2)), "") if match else (placeholder, 0, placeholder)


def _mark(flow: http.HTTPFlow, marker: str) -> None:
    """Set `marker` unless the flow carries a warning, which must stay visible."""
    meta = flow.metadata.get(METADATA_KEY, {})
    if "failed_open" not in meta and "rules_error" not in meta:
        flow.marked = marker


def _write_comment(flow: http.HTTPFlow) -> None:
    flow.comment = comment_for(flow.metadata.get(METADATA_KEY, {}))


def comment_for(meta: Mapping[str, Any]) -> str:
    """The flow's comment, from its maskgate metadata: one line, so that the flow list's
    comment column shows all of it."""
    comment = _summary(meta)
    if problem := meta.get("rules_error"):
        comment += f"; WARNING: rules file not applied, keeping the last good rules: {problem}"
    return " ".join(comment.split())


def _summary(meta: Mapping[str, Any]) -> str:
    """What happened to the request, and to its answer."""
    if refused := meta.get("refused"):
        return f"maskgate: refused ({refused['code']}): {refused['reason']}"
    if cause := meta.get("failed_open"):
        return f"maskgate: forwarded UNMASKED (on_failure: open): {cause}"
    if meta.get("inspected") is False:
        return f"maskgate: not inspected ({meta['endpoint']})"
    detections = meta.get("detections", [])
    # Masked and redacted values are counted once each, by their placeholder.
    by_placeholder = {d["placeholder"]: d for d in detections if d["placeholder"]}.values()
    masked = Counter(d["type"] for d in by_placeholder if d["action"] != "redact")
    redacted = Counter(d["type"] for d in by_placeholder if d["action"] == "redact")
    logged = Counter(d["type"] for d in detections if d["action"] == "log")
    parts = ["maskgate: masked " + (_counts(masked) if masked else "nothing")]
    if redacted:
        parts.append(f"redacted {_counts(redacted)}")
    if logged:
        parts.append(f"logged {_counts(logged)} occurrence(s), not masked")
    if (restore := meta.get("restore")) is not None:
        parts.append(f"answer: {_answer_summary(restore)}")
    return "; ".join(parts)


def _answer_summary(restore: Mapping[str, Any]) -> str:
    """The restore record in a few words: counts of placeholders, then the note if any."""
    if "restored" not in restore:
        return restore["note"] or "not restored"
    words = [f"{restore['restored']['count']} restored"]
    for key, label in (
        ("redacted", "kept redacted"),
        ("not_returned", "not returned"),
        ("unresolved", "unresolved (never issued)"),
    ):
        if n := restore[key]["count"]:
            words.append(f"{n} {label}")
    if restore["note"]:
        words.append(restore["note"])
    return ", ".join(words)


def _counts(by_type: Counter[str]) -> str:
    return ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))


def record_model(flow: http.HTTPFlow, model: str | None) -> None:
    """Note the model a request asks for, for the audit log: a model id is not personal data.
    None when the body names none, or text that does not look like one (see `addon.MODEL_ID`)."""
    flow.metadata.setdefault(METADATA_KEY, {})["model"] = model


def record_blocked(
    flow: http.HTTPFlow, findings: list[Finding], analysis_ms: float, code: str, reason: str
) -> None:
    """Mark a flow refused because the policy blocks a type found in it, with all its findings:
    the view, the headers and the audit log say what was found besides the blocked type."""
    meta = flow.metadata.setdefault(METADATA_KEY, {})
    meta["analysis_ms"] = round(analysis_ms, 1)
    meta["detections"] = [f.as_dict() for f in findings]
    record_refused(flow, code, reason)
