"""Put originals back in place of the placeholders we issued.

Only placeholders in the vault are replaced. Placeholder-shaped text the user wrote
stays as it is; ids the model made up stay too and are counted as unresolved, so a
person can see that an answer refers to something maskgate never sent.

Streamed text is restored piece by piece by `IncrementalRestorer`, which holds back
only a tail that could still become one of our placeholders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from maskgate.vault import PLACEHOLDER_SHAPE, Vault

_OPEN_SHAPE = re.compile(r"\[(?:\[(?:[A-Z][A-Z0-9_]*(?:_\d+\])?)?)?")
"""A start of `PLACEHOLDER_SHAPE` that the next characters could still complete."""

_OPEN_SHAPE_LIMIT = 64
"""Longest open start kept for counting split unknown placeholders; type names are short."""


def json_string_escape(value: str) -> str:
    """`value` as it must appear inside a JSON string literal (without the quotes)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


@dataclass(slots=True)
class RestoreTally:
    """What restoring one answer did, by placeholder (never by value)."""

    restored: dict[str, int] = field(default_factory=dict)
    unresolved: dict[str, int] = field(default_factory=dict)

    def add(self, other: RestoreTally) -> None:
        for mine, theirs in ((self.restored, other.restored), (self.unresolved, other.unresolved)):
            for placeholder, n in theirs.items():
                mine[placeholder] = mine.get(placeholder, 0) + n


def restore_text(
    text: str, vault: Vault, tally: RestoreTally, escape: Callable[[str], str] | None = None
) -> str:
    """Replace every placeholder of `vault` in `text` with its original.

    `escape` transforms the original before insertion, e.g. `json_string_escape` when
    `text` is itself JSON, as in tool-call arguments.
    """
    if "[[" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        entry = vault.lookup(placeholder)
        if entry is None:
            _count_unknown(placeholder, vault, tally)
            return placeholder
        tally.restored[placeholder] = tally.restored.get(placeholder, 0) + 1
        return escape(entry.value) if escape else entry.value

    return PLACEHOLDER_SHAPE.sub(replace, text)


def _count_unknown(placeholder: str, vault: Vault, tally: RestoreTally) -> None:
    """An id the model made up is counted; placeholder-shaped text the user wrote is not."""
    if vault.lookup(placeholder) is None and not vault.is_reserved(placeholder):
        tally.unresolved[placeholder] = tally.unresolved.get(placeholder, 0) + 1


def _bracket_tail(text: str, window: int) -> int:
    """Where a placeholder could begin at the end of `text`: its last `[`, or the `[` before it.

    Inside a placeholder `[` only occurs in its first two characters, so no earlier start
    can still be open. Only the last `window` characters are searched; -1 when none.
    """
    last = text.rfind("[", max(0, len(text) - window))
    if last > 0 and text[last - 1] == "[":
        return last - 1
    return last


class PlaceholderTails:
    """The beginnings of the vault's placeholders, to find what a streamed text must hold back.

    Built once per answer: the vault does not change while its answer streams.
    """

    def __init__(self, vault: Vault) -> None:
        placeholders = [entry.placeholder for entry in vault]
        self.longest = max(map(len, placeholders), default=0)
        self._starts = frozenset(p[:n] for p in placeholders for n in range(1, len(p)))

    def hold_from(self, text: str) -> int:
        """Where the tail of `text` that could still grow into one of our placeholders begins.

        `len(text)` when there is none: text that cannot become one of OUR placeholders
        (another id, a Python list, anything too long) is never held.
        """
        start = _bracket_tail(text, self.longest - 1)
        if start >= 0 and text[start:] in self._starts:
            return start
        return len(text)


class IncrementalRestorer:
    """Restores one text that arrives in pieces, such as a streamed `delta.content`.

    Each piece goes out at once, except a tail that could still grow into one of our
    placeholders, taken from the earliest `[` where one could start (`[[` of `[[[`, since
    `[` + `[P…` never becomes one); that tail is put in front of the next piece. All outputs
    joined with `flush()` equal `restore_text` of the whole text, and the tally gets the
    same counts, even for an unknown placeholder split across pieces.
    """

    def __init__(
        self,
        vault: Vault,
        tally: RestoreTally,
        tails: PlaceholderTails,
        escape: Callable[[str], str] | None = None,
    ) -> None:
        self._vault = vault
        self._tally = tally
        self._tails = tails
        self._escape = escape
        self._held = ""
        # End of the text already released that may begin a placeholder we did not issue:
        # only used to count it as unresolved once its end arrives.
        self._open = ""

    @property
    def held(self) -> str:
        """The text held back, waiting for the next piece."""
        return self._held

    def feed(self, piece: str) -> str:
        """Restored text that can go out now; the rest is held for the next piece."""
        text = self._held + piece if self._held else piece
        cut = self._tails.hold_from(text)
        self._held = text[cut:]
        return self._release(text[:cut])

    def flush(self) -> str:
        """Everything still held, for when the text ends (or must be emitted now)."""
        text, self._held = self._held, ""
        return self._release(text)

    def _release(self, text: str) -> str:
        if not text:
            return ""
        self._count_split_unknown(text)
        return restore_text(text, self._vault, self._tally, self._escape)

    def _count_split_unknown(self, text: str) -> None:
        """Count an unknown placeholder that began in earlier released text and ends in `text`."""
        joined = self._open + text if self._open else text
        if self._open:
            match = PLACEHOLDER_SHAPE.match(joined)
            if match is None and self._open == "[[":  # `[[` + `[X…`: the shape starts one later
                match = PLACEHOLDER_SHAPE.match(joined, 1)
            if match is not None and match.end() > len(self._open):
                _count_unknown(match.group(0), self._vault, self._tally)
        start = _bracket_tail(joined, _OPEN_SHAPE_LIMIT)
        self._open = joined[start:] if start >= 0 and _OPEN_SHAPE.fullmatch(joined, start) else ""
