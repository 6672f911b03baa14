"""Mask a set of text slots from one request, consistently across all of them.

Detection runs on the slots that carry text the model reads; every value it finds is
then masked wherever it occurs in any slot, so a value the detector caught in one
message cannot leak from another where it was missed.

Each detection's type has an action. Values of `mask` and `redact` types are replaced
by placeholders alike; only the vault remembers that a redacted one is not restored in
the answer. Values of `log` types are only recorded; values of `block` types are
recorded so the caller can refuse the request, and then nothing is rewritten. When one
value is detected as types with different actions, the strictest applies to every
occurrence: a value masked anywhere is masked everywhere, one redacted anywhere is
redacted everywhere.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from maskgate.detect.occurrences import OccurrenceCache
from maskgate.detect.types import Detection
from maskgate.fingerprint import fingerprint
from maskgate.policy import ACTION_STRENGTH, Action
from maskgate.restore.text import IN_TEXT
from maskgate.vault import Vault

DetectFn = Callable[[str], list[Detection]]
ActionFn = Callable[[Detection], Action]
"""The policy's action for a detection (by its type and whether it is a secret)."""


OCCURRENCES = OccurrenceCache()
"""Where known values occur in each text, kept from one request to the next: a conversation's
history comes again with every turn (see `maskgate.detect.occurrences`)."""

_BY_STRICTNESS = (Action.BLOCK, Action.REDACT, Action.MASK, Action.LOG)
_PLACEHOLDER_ACTIONS = (Action.MASK, Action.REDACT)
"""A tuple, whose `in` finds a member by identity: a set would hash it, and hashing an enum
member runs Python code, for each of thousands of spans."""


def mask_everything(_: Detection) -> Action:
    return Action.MASK


@dataclass(slots=True)
class TextSlot:
    """One string of a request body: where it is, its text, and how to write it back."""

    path: str
    text: str
    scan: bool
    """True: run detection on it. False: only mask values detected elsewhere."""
    write: Callable[[str], None] | None
    """None: the slot is only analysed, never rewritten (see `json_source`)."""
    json_source: bool = False
    """The text is JSON source: values found in it are unescaped before being masked
    elsewhere. Lets a detector see `"password": "…"` whole, where the decoded value
    alone would not say what it is."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected occurrence and what was done with it, described without its value."""

    path: str
    entity_type: str
    placeholder: str
    """Empty unless the occurrence was masked or redacted."""
    score: float
    engine: str
    recognizer: str
    secret: bool
    length: int
    propagated: bool
    """True when this occurrence was found because the value was detected elsewhere."""
    fingerprint: str
    """The value's keyed hash (`maskgate.fingerprint`): equal values, equal fingerprints."""
    action: Action = Action.MASK
    """`mask`, `redact`, `log` or `block`: `off` types are never found."""

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "type": self.entity_type,
            "action": str(self.action),
            "placeholder": self.placeholder or None,
            "score": round(self.score, 3),
            "engine": self.engine,
            "recognizer": self.recognizer,
            "secret": self.secret,
            "length": self.length,
            "propagated": self.propagated,
            "fingerprint": self.fingerprint,
        }


def mask_slots(
    slots: list[TextSlot], detect: DetectFn, action_of: ActionFn = mask_everything
) -> tuple[Vault, list[Finding]]:
    """Detect in the scanned slots, then act on every known value in every slot.

    Slots are written back only where something was masked, and not at all when a
    finding is to be blocked (the caller refuses the request). Placeholders are issued
    in slot order, left to right, so numbering follows first appearance in the request.
    """
    detections = _detect_all(slots, detect, action_of)
    known = _known_values(slots, detections)
    found = OCCURRENCES.find([slot.text for slot in slots], OCCURRENCES.values(list(known)), _placeholders_in)
    vault = Vault(reserved=frozenset().union(*(f.placeholders for f in found)))
    if not known:
        return vault, []
    blocked = any(action == Action.BLOCK for _, action in known.values())
    fingerprints: dict[str, str] = {}
    findings: list[Finding] = []
    for slot, detected, occurring in zip(slots, detections, found, strict=True):
        text = slot.text
        spans = [
            _Span(d.start, d.end, *_strictest(known, text[d.start : d.end], d, action), False)
            for d, action in detected
        ]
        if slot.write is None:
            # Analysis-only text is never rewritten, but a blocked value found there must
            # still be reported, or the request could go out with nothing to refuse it.
            spans = [span for span in spans if span.action == Action.BLOCK]
        else:
            # In text that is written back the detected text is the value itself: found again
            # at the same place, it adds nothing to its detection, which has the same action.
            detected_at = {(d.start, d.end) for d, _ in detected}
            spans += [
                _Span(start, end, *known[text[start:end]], True)
                for start, end in occurring.spans
                if (start, end) not in detected_at
            ]
        pieces: list[str] = []
        pos = 0
        for span in _non_overlapping(spans):
            d, value = span.detection, text[span.start : span.end]
            placeholder, entity_type = "", d.entity_type
            if span.action in _PLACEHOLDER_ACTIONS and not blocked:
                restore = span.action == Action.MASK
                entry = vault.entry_for(value, d.entity_type, secret=d.secret, restore=restore)
                # The value is described as the type it was first masked as.
                placeholder, entity_type = entry.placeholder, entry.entity_type
                pieces += (text[pos : span.start], placeholder)
                pos = span.end
            # Described as the value it stands for, so JSON source matches the same value elsewhere.
            plain = _json_unescape(value) if slot.json_source else value
            if plain not in fingerprints:
                fingerprints[plain] = fingerprint(plain)
            findings.append(
                Finding(
                    slot.path, entity_type, placeholder, d.score, d.engine, d.recognizer,
                    d.secret, len(plain), span.propagated, fingerprints[plain], span.action,
                )
            )  # fmt: skip
        if pos and slot.write is not None:
            pieces.append(text[pos:])
            slot.write("".join(pieces))
    return vault, findings


def masked_any(findings: Iterable[Finding]) -> bool:
    """True when the request body was rewritten: something was masked or redacted."""
    return any(f.placeholder for f in findings)


_Acted = tuple[Detection, Action]
"""A detection and the action the policy takes on it."""


class _Span(NamedTuple):
    """A stretch of a slot to act on: a tuple, as there are thousands per request."""

    start: int
    end: int
    detection: Detection
    action: Action
    propagated: bool


def _known_values(slots: list[TextSlot], detections: list[list[_Acted]]) -> dict[str, _Acted]:
    """Every detected value with the detection that decides it: the strictest action,
    and among equals the first one found."""
    known: dict[str, _Acted] = {}
    for slot, found in zip(slots, detections, strict=True):
        for d, action in found:
            value = slot.text[d.start : d.end]
            value = _json_unescape(value) if slot.json_source else value
            if value not in known or ACTION_STRENGTH[action] > ACTION_STRENGTH[known[value][1]]:
                known[value] = (d, action)
    return known


def _strictest(known: dict[str, _Acted], value: str, d: Detection, action: Action) -> _Acted:
    """`d` with its own action, unless the same value was detected with a stricter one."""
    other = known.get(value)
    return other if other and ACTION_STRENGTH[other[1]] > ACTION_STRENGTH[action] else (d, action)


def _json_unescape(value: str) -> str:
    """The string a JSON string-literal body stands for, or `value` if it is not one."""
    try:
        decoded = json.loads(f'"{value}"')
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def _placeholders_in(text: str) -> list[str]:
    """Placeholders the user already wrote, in any form the answer restorer accepts.

    `[person_1]` in the request reserves `[[PERSON_1]]`: were it issued, an answer quoting
    the user's own text would be "restored" into a value the user never wrote there.
    """
    return [f"[[{m.group('id').upper()}]]" for m in IN_TEXT.form.finditer(text)] if "[" in text else []


def _detect_all(slots: list[TextSlot], detect: DetectFn, action_of: ActionFn) -> list[list[_Acted]]:
    """Detections per slot with their actions, without `off` types; identical texts
    (repeated history, tool echoes) are analysed once."""
    cache: dict[str, list[_Acted]] = {}
    result = []
    for slot in slots:
        if not slot.scan or not slot.text.strip():
            result.append([])
            continue
        if slot.text not in cache:
            acted = [(d, action_of(d)) for d in detect(slot.text) if d.end > d.start]
            cache[slot.text] = [(d, action) for d, action in acted if action != Action.OFF]
        result.append(cache[slot.text])
    return result


def _non_overlapping(spans: list[_Span]) -> list[_Span]:
    """Disjoint spans in text order, the strictest action chosen first.

    Blocked spans are taken first, then redacted, masked and logged ones, each only
    where nothing stricter was taken: a logged value never leaves part of an overlapping
    masked one in clear, a masked value never hides a blocked one, and a redacted one is
    never given back in the answer as part of a masked one. Within one action, leftmost
    first, the longer one on a tie, detected before propagated; a span that does not fit
    leaves room for a shorter one at the same place.
    """
    spans.sort(key=_leftmost_first)
    chosen: list[_Span] = []
    for action in _BY_STRICTNESS:
        if candidates := [span for span in spans if span.action is action]:
            chosen = _fill(chosen, candidates)
    return chosen


def _leftmost_first(span: _Span) -> tuple[int, int, bool]:
    return span.start, -span.end, span.propagated


def _fill(taken: list[_Span], candidates: list[_Span]) -> list[_Span]:
    """`taken` (disjoint, in text order) with every candidate, in the given order, that
    overlaps nothing taken before it; in text order."""
    starts = [span.start for span in taken]
    added: list[_Span] = []
    end = -1
    for span in candidates:
        if span.start < end:
            continue
        i = bisect.bisect_left(starts, span.end)
        if i == 0 or taken[i - 1].end <= span.start:
            added.append(span)
            end = span.end
    return sorted(taken + added, key=_leftmost_first) if taken else added
