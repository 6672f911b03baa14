"""Mask a set of text slots from one request, consistently across all of them.

Detection runs on the slots that carry text the model reads; every value it finds is
then masked wherever it occurs in any slot, so a value the detector caught in one
message cannot leak from another where it was missed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from maskgate.detect.types import Detection
from maskgate.restore.text import IN_TEXT
from maskgate.vault import Vault

DetectFn = Callable[[str], list[Detection]]


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
    """One masked occurrence, described without its value."""

    path: str
    entity_type: str
    placeholder: str
    score: float
    engine: str
    recognizer: str
    secret: bool
    length: int
    propagated: bool
    """True when this occurrence was masked because the value was detected elsewhere."""

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "type": self.entity_type,
            "placeholder": self.placeholder,
            "score": round(self.score, 3),
            "engine": self.engine,
            "recognizer": self.recognizer,
            "secret": self.secret,
            "length": self.length,
            "propagated": self.propagated,
        }


def mask_slots(slots: list[TextSlot], detect: DetectFn) -> tuple[Vault, list[Finding]]:
    """Detect in the scanned slots, then mask every known value in every slot.

    Slots are written back only where something was masked. Placeholders are issued in
    slot order, left to right, so numbering follows first appearance in the request.
    """
    vault = Vault(reserved=_placeholders_in(slot.text for slot in slots))
    detections = _detect_all(slots, detect)
    known: dict[str, Detection] = {}
    for slot, found in zip(slots, detections, strict=True):
        for d in found:
            value = slot.text[d.start : d.end]
            known.setdefault(_json_unescape(value) if slot.json_source else value, d)
    if not known:
        return vault, []

    finder = _value_finder(known)
    findings: list[Finding] = []
    for slot, found in zip(slots, detections, strict=True):
        if slot.write is None:
            continue
        spans = [(d.start, d.end, d, False) for d in found]
        spans += [(m.start(), m.end(), known[m.group()], True) for m in finder.finditer(slot.text)]
        chosen = _non_overlapping(spans)
        if not chosen:
            continue
        pieces: list[str] = []
        pos = 0
        for start, end, d, propagated in chosen:
            value = slot.text[start:end]
            placeholder = vault.placeholder_for(value, d.entity_type, secret=d.secret)
            pieces += (slot.text[pos:start], placeholder)
            pos = end
            findings.append(
                Finding(
                    slot.path, vault.lookup(placeholder).entity_type, placeholder, d.score,
                    d.engine, d.recognizer, d.secret, len(value), propagated,
                )
            )  # fmt: skip
        pieces.append(slot.text[pos:])
        slot.write("".join(pieces))
    return vault, findings


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


def _detect_all(slots: list[TextSlot], detect: DetectFn) -> list[list[Detection]]:
    """Detections per slot; identical texts (repeated history, tool echoes) are analysed once."""
    cache: dict[str, list[Detection]] = {}
    result = []
    for slot in slots:
        if not slot.scan or not slot.text.strip():
            result.append([])
            continue
        if slot.text not in cache:
            cache[slot.text] = [d for d in detect(slot.text) if d.end > d.start]
        result.append(cache[slot.text])
    return result


def _value_finder(values: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching any known value, longest first, never inside a longer word.

    The word guard applies only at a value's edges that are word characters, so
    `Ann` is not masked inside `Annual`, while `+1 415…` or `…@x.org` still match.
    """
    alternatives = []
    for value in sorted(values, key=len, reverse=True):
        left = r"(?<!\w)" if re.match(r"\w", value[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", value[-1]) else ""
        alternatives.append(f"{left}{re.escape(value)}{right}")
    return re.compile("|".join(alternatives))


def _non_overlapping(spans: list[tuple[int, int, Detection, bool]]) -> list[tuple[int, int, Detection, bool]]:
    """Leftmost spans first, the longer one on a tie, detected before propagated."""
    spans.sort(key=lambda s: (s[0], -s[1], s[3]))
    chosen = []
    end = -1
    for span in spans:
        if span[0] >= end:
            chosen.append(span)
            end = span[1]
    return chosen
