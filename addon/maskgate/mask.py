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
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from maskgate.detect.types import Detection
from maskgate.fingerprint import fingerprint
from maskgate.policy import ACTION_STRENGTH, Action
from maskgate.restore.text import IN_TEXT
from maskgate.vault import Vault

DetectFn = Callable[[str], list[Detection]]
ActionFn = Callable[[Detection], Action]
"""The policy's action for a detection (by its type and whether it is a secret)."""


_BY_STRICTNESS = (Action.BLOCK, Action.REDACT, Action.MASK, Action.LOG)
_PLACEHOLDER_ACTIONS = frozenset({Action.MASK, Action.REDACT})


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
    vault = Vault(reserved=_placeholders_in(slot.text for slot in slots))
    detections = _detect_all(slots, detect, action_of)
    known = _known_values(slots, detections, action_of)
    if not known:
        return vault, []

    # One finder per action: an alternation matches without overlaps, so a logged value
    # containing a masked one (or a masked one containing a blocked one) would hide it.
    finders = [_value_finder(v for v, (_, a) in known.items() if a == action) for action in _BY_STRICTNESS]
    plans: list[tuple[TextSlot, list[_Span]]] = []
    for slot, found in zip(slots, detections, strict=True):
        spans = [
            _Span(d.start, d.end, *_strictest(known, slot.text[d.start : d.end], d, action_of), False)
            for d in found
        ]
        if slot.write is None:
            # Analysis-only text is never rewritten, but a blocked value found there must
            # still be reported, or the request could go out with nothing to refuse it.
            spans = [span for span in spans if span.action == Action.BLOCK]
        else:
            spans += [
                _Span(m.start(), m.end(), *known[m.group()], True)
                for finder in finders
                if finder
                for m in finder.finditer(slot.text)
            ]
        if chosen := _non_overlapping(spans):
            plans.append((slot, chosen))
    blocked = any(action == Action.BLOCK for _, action in known.values())
    findings: list[Finding] = []
    for slot, chosen in plans:
        pieces: list[str] = []
        pos = 0
        for span in chosen:
            d, value, placeholder = span.detection, slot.text[span.start : span.end], ""
            if span.action in _PLACEHOLDER_ACTIONS and not blocked:
                placeholder = vault.placeholder_for(
                    value, d.entity_type, secret=d.secret, restore=span.action == Action.MASK
                )
                pieces += (slot.text[pos : span.start], placeholder)
                pos = span.end
            entity_type = vault.lookup(placeholder).entity_type if placeholder else d.entity_type
            # Described as the value it stands for, so JSON source matches the same value elsewhere.
            plain = _json_unescape(value) if slot.json_source else value
            findings.append(
                Finding(
                    slot.path, entity_type, placeholder, d.score, d.engine, d.recognizer,
                    d.secret, len(plain), span.propagated, fingerprint(plain), span.action,
                )
            )  # fmt: skip
        if pos and slot.write is not None:
            pieces.append(slot.text[pos:])
            slot.write("".join(pieces))
    return vault, findings


def masked_any(findings: Iterable[Finding]) -> bool:
    """True when the request body was rewritten: something was masked or redacted."""
    return any(f.placeholder for f in findings)


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    detection: Detection
    action: Action
    propagated: bool


def _known_values(
    slots: list[TextSlot], detections: list[list[Detection]], action_of: ActionFn
) -> dict[str, tuple[Detection, Action]]:
    """Every detected value with the detection that decides it: the strictest action,
    and among equals the first one found."""
    known: dict[str, tuple[Detection, Action]] = {}
    for slot, found in zip(slots, detections, strict=True):
        for d in found:
            value = slot.text[d.start : d.end]
            value = _json_unescape(value) if slot.json_source else value
            action = action_of(d)
            if value not in known or ACTION_STRENGTH[action] > ACTION_STRENGTH[known[value][1]]:
                known[value] = (d, action)
    return known


def _strictest(
    known: dict[str, tuple[Detection, Action]], value: str, d: Detection, action_of: ActionFn
) -> tuple[Detection, Action]:
    """`d` with its own action, unless the same value was detected with a stricter one."""
    action = action_of(d)
    other = known.get(value)
    return other if other and ACTION_STRENGTH[other[1]] > ACTION_STRENGTH[action] else (d, action)


def _json_unescape(value: str) -> str:
    """The string a JSON string-literal body stands for, or `value` if it is not one."""
    try:
        decoded = json.loads(f'"{value}"')
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def _placeholders_in(texts: Iterable[str]) -> set[str]:
    """Placeholders the user already wrote, in any form the answer restorer accepts.

    `[person_1]` in the request reserves `[[PERSON_1]]`: were it issued, an answer quoting
    the user's own text would be "restored" into a value the user never wrote there.
    """
    return {
        f"[[{m.group('id').upper()}]]" for text in texts if "[" in text for m in IN_TEXT.form.finditer(text)
    }


def _detect_all(slots: list[TextSlot], detect: DetectFn, action_of: ActionFn) -> list[list[Detection]]:
    """Detections per slot, without `off` types; identical texts (repeated history, tool
    echoes) are analysed once."""
    cache: dict[str, list[Detection]] = {}
    result = []
    for slot in slots:
        if not slot.scan or not slot.text.strip():
            result.append([])
            continue
        if slot.text not in cache:
            cache[slot.text] = [
                d for d in detect(slot.text) if d.end > d.start and action_of(d) != Action.OFF
            ]
        result.append(cache[slot.text])
    return result


def _value_finder(values: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of `values` (None if there are none), longest first, never
    inside a longer word.

    The word guard applies only at a value's edges that are word characters, so
    `Ann` is not masked inside `Annual`, while `+1 415…` or `…@x.org` still match.

    Values are grouped by their first character, which each group's pattern starts with, so
    the regex engine skips every position holding none of them instead of trying each value
    there: the whole history is searched on every turn. The guard before a value is checked
    once its first character has matched, by a look-behind over that character and the one
    before it.
    """
    groups: dict[str, list[str]] = {}
    for value in sorted(values, key=len, reverse=True):
        groups.setdefault(value[0], []).append(value)
    alternatives = []
    for first, group in groups.items():
        left = r"(?<!\w[\s\S])" if re.match(r"\w", first) else ""
        rests = "|".join(
            re.escape(value[1:]) + (r"(?!\w)" if re.match(r"\w", value[-1]) else "") for value in group
        )
        alternatives.append(f"{re.escape(first)}{left}(?:{rests})")
    # Compiled outside `re`'s module-wide cache, whose keys would hold the values in clear
    # long after the request: `re.compile` offers no way around it.
    return re._compiler.compile("|".join(alternatives), 0) if alternatives else None


def _non_overlapping(spans: list[_Span]) -> list[_Span]:
    """Disjoint spans in text order, the strictest action chosen first.

    Blocked spans are taken first, then redacted, masked and logged ones, each only
    where nothing stricter was taken: a logged value never leaves part of an overlapping
    masked one in clear, a masked value never hides a blocked one, and a redacted one is
    never given back in the answer as part of a masked one. Within one action, leftmost
    first, the longer one on a tie, detected before propagated.
    """
    chosen: list[_Span] = []
    for action in _BY_STRICTNESS:
        taken = sorted(chosen, key=lambda s: s.start)
        starts = [s.start for s in taken]
        for span in _leftmost([s for s in spans if s.action == action]):
            i = bisect.bisect_left(starts, span.end)
            if i == 0 or taken[i - 1].end <= span.start:
                chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _leftmost(spans: list[_Span]) -> list[_Span]:
    """Leftmost spans first, the longer one on a tie, detected before propagated."""
    spans.sort(key=lambda s: (s.start, -s.end, s.propagated))
    chosen: list[_Span] = []
    end = -1
    for span in spans:
        if span.start >= end:
            chosen.append(span)
            end = span.end
    return chosen
