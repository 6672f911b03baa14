"""What maskgate did to one guarded flow, condensed for scripts and counters.

The response headers, the audit log and `maskgate.stats` report the same facts, read
from `flow.metadata["maskgate"]` (written by `annotate`): the mode, the findings counted
by type and by action, the placeholders issued and the answer's restore counts. Types
and counts only: nothing here can hold a detected value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """What happened to a guarded request, in one word (the `X-MaskGate-Mode` header)."""

    MASKED = "masked"
    """Forwarded with placeholders in place of what was found (`mask` or `redact`)."""
    LOGGED = "logged"
    """Forwarded as written: only `log` types were found."""
    CLEAN = "clean"
    """Forwarded as written: nothing was found."""
    BLOCKED = "blocked"
    """Refused: it holds a type the policy blocks."""
    REFUSED = "refused"
    """Refused for another reason: it could not be inspected (`on_failure: closed`), it is
    too large, or its endpoint is blocked (`other_endpoints: block`)."""
    FORWARDED_UNMASKED = "forwarded-unmasked"
    """It could not be inspected and went upstream as it came (`on_failure: open`)."""
    NOT_INSPECTED = "not-inspected"
    """An endpoint maskgate does not read, or one the rules pass, forwarded untouched."""


@dataclass(frozen=True, slots=True)
class RestoreCounts:
    """What restoring the answer did, counted in distinct placeholders."""

    restored: int
    redacted: int
    """Placeholders of redacted values, left in the answer on purpose."""
    not_returned: int
    """Placeholders sent upstream that the answer never used."""
    unresolved: int
    """Placeholder ids in the answer that maskgate never issued: the model made them up."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One flow's facts, as the headers, the audit log and the stats give them."""

    mode: Mode
    pii: dict[str, int]
    """Personal-data occurrences found, by type (every action, repeats included)."""
    secrets: dict[str, int]
    """Secret occurrences found, by type."""
    actions: dict[str, int]
    """Occurrences found, by the action taken on them."""
    placeholders: int
    """Distinct placeholders sent upstream in place of values."""
    blocked: tuple[str, ...]
    """The types that got the request refused, sorted."""
    refused: str | None
    """The refusal's code, when maskgate answered instead of upstream."""
    restore: RestoreCounts | None
    """None unless the answer to a masked request was restored: not yet, or it could not
    be (an upstream error, an answer that is not JSON)."""


def outcome(meta: dict[str, Any]) -> Outcome:
    """Condense one flow's `flow.metadata["maskgate"]`."""
    detections = meta.get("detections", [])
    refused = meta.get("refused")
    blocked = tuple(sorted({d["type"] for d in detections if d["action"] == "block"}))
    placeholders = len({d["placeholder"] for d in detections if d["placeholder"]})
    return Outcome(
        mode=_mode(meta, bool(detections), bool(blocked), placeholders),
        pii=dict(Counter(d["type"] for d in detections if not d["secret"])),
        secrets=dict(Counter(d["type"] for d in detections if d["secret"])),
        actions=dict(Counter(d["action"] for d in detections)),
        placeholders=placeholders,
        blocked=blocked,
        refused=refused["code"] if refused else None,
        restore=_restore_counts(meta.get("restore", {})),
    )


def _mode(meta: dict[str, Any], found: bool, blocked: bool, placeholders: int) -> Mode:
    if meta.get("refused"):
        # Only a policy block records detections on a refused flow.
        return Mode.BLOCKED if blocked else Mode.REFUSED
    if "failed_open" in meta:
        return Mode.FORWARDED_UNMASKED
    if meta.get("inspected") is False:
        return Mode.NOT_INSPECTED
    if placeholders:
        return Mode.MASKED
    return Mode.LOGGED if found else Mode.CLEAN


def _restore_counts(restore: dict[str, Any]) -> RestoreCounts | None:
    """The counts of `annotate.record_restore`'s id lists; None when nothing was restored."""
    if "restored" not in restore:
        return None
    return RestoreCounts(
        restored=restore["restored"]["count"],
        redacted=restore["redacted"]["count"],
        not_returned=restore["not_returned"]["count"],
        unresolved=restore["unresolved"]["count"],
    )
