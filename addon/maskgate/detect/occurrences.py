"""Where a request's known values occur in its texts, remembered from one request to the next.

A value detected anywhere in a request is masked wherever it occurs (`maskgate.mask`). Chat
clients resend the whole conversation on every turn, so the same texts are searched for nearly
the same values turn after turn. Searched afresh, a 100 KB history with its 800 values took
23 ms a turn, most of it compiling one regular expression of all values, which changes with
every new value. So every text's occurrences are remembered together with the values it was
searched for; a text met again is only searched for the values it was not searched for before,
and the occurrences of values no longer known are dropped.

What is remembered holds no value and no text. A text is recognised by a digest keyed with a
secret drawn when the cache is made, as in `DetectionCache`; the values searched by digests
under the same key; occurrences by their offsets. With them go the placeholder-shaped tokens a
text holds (`[[PERSON_1]]`), which masking must not issue again, and which are nobody's data.
Nothing can be matched against guessed values outside this process, and nothing outlives it:
the cache lives in memory only, holds at most `MAX_TEXTS` texts and `MAX_ITEMS` digests,
offsets and tokens in all, and forgets the least recently used text first.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

MAX_TEXTS = 10_000
MAX_ITEMS = 500_000
"""Value digests, offsets and tokens held in all: some 40 MB at most, far less in practice,
since the texts of one request share one set of value digests."""

FIND_VALUES = 24
"""Up to this many values, each is looked for with `str.find` through the whole text; beyond,
the text's words are looked up among the values' first words, in one pass over it."""

Span = tuple[int, int]
PlaceholderFn = Callable[[str], Iterable[str]]
"""The placeholder-shaped tokens of a text."""

_WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")


class Values:
    """Values to look for in texts."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = values

    @functools.cached_property
    def by_first_word(self) -> dict[str, list[str]]:
        """The values by their leading run of word characters, those that start otherwise
        under the empty string: only needed to look for many values at once."""
        groups: dict[str, list[str]] = {}
        for value in self.values:
            first = _WORD.match(value)
            groups.setdefault(first.group() if first else "", []).append(value)
        return groups


class KeyedValues(Values):
    """A request's values, each with its keyed digest: what the cache remembers of them."""

    def __init__(self, values: Sequence[str], digest: _Digest) -> None:
        super().__init__(values)
        self.digests = {value: digest(value) for value in values}
        self.searched = frozenset(self.digests.values())

    def __contains__(self, value: str) -> bool:
        return value in self.digests


def occurrences(text: str, values: Values | Sequence[str]) -> list[Span]:
    """Every occurrence of any of `values` in `text` that does not continue a word, in no
    particular order; occurrences may overlap.

    At a value's edge that is a word character the text must not go on with another one, so
    `Ann` is not found inside `Annual`, while `+1 415…` or `…@x.org` are found anywhere. A plain
    search rather than a regular expression of the values: `re` keeps every expression it
    compiles in a module-wide cache, keyed by its source, long after the request.
    """
    if not isinstance(values, Values):
        values = Values(values)
    if len(values.values) <= FIND_VALUES:
        return [span for value in values.values for span in _found(text, value)]
    groups = values.by_first_word
    spans = [span for value in groups.get("", ()) for span in _found(text, value)]
    for word in _WORD.finditer(text):
        # A value starting with a word character can only start where a word does, and that
        # word must be its own leading run of word characters, neither longer nor shorter.
        for value in groups.get(word.group(), ()):
            start = word.start()
            if text.startswith(value, start) and _free_end(text, start + len(value), value):
                spans.append((start, start + len(value)))
    return spans


def _found(text: str, value: str) -> Iterator[Span]:
    guard_start = _WORD_CHAR.match(value) is not None
    start = text.find(value)
    while start >= 0:
        end = start + len(value)
        if not (guard_start and start and _WORD_CHAR.match(text, start - 1)) and _free_end(text, end, value):
            yield start, end
        start = text.find(value, start + 1)


def _free_end(text: str, end: int, value: str) -> bool:
    """False where `value` ends in a word character that the text continues."""
    return not (end < len(text) and _WORD_CHAR.match(text, end) and _WORD_CHAR.match(value, len(value) - 1))


class _Digest:
    """A keyed digest: equal strings, equal digests, within one process and one key only."""

    def __init__(self) -> None:
        self._keyed = hashlib.blake2b(key=os.urandom(16), digest_size=16)

    def __call__(self, text: str) -> bytes:
        digest = self._keyed.copy()  # cheaper than keying anew for each of a request's values
        # surrogatepass: a lone surrogate from a JSON body is text too, and must not raise here.
        digest.update(text.encode("utf-8", "surrogatepass"))
        return digest.digest()


@dataclass(eq=False, slots=True)
class _Searched:
    """The digests of the values some texts were searched for, shared by those texts."""

    digests: frozenset[bytes]
    texts: int = 0
    """How many remembered texts refer to it: its digests count towards the bound while any do."""


@dataclass(slots=True)
class _Entry:
    searched: _Searched
    spans: tuple[Span, ...]
    placeholders: frozenset[str]


@dataclass(frozen=True, slots=True)
class Found:
    """What one text holds."""

    spans: list[Span]
    """Occurrences of the request's values, in no particular order; they may overlap."""
    placeholders: frozenset[str]
    """Placeholder-shaped tokens."""


class OccurrenceCache:
    """Occurrences of known values, and placeholder-shaped tokens, per text: bounded,
    thread-safe, least recently used first out."""

    def __init__(self, max_texts: int = MAX_TEXTS, max_items: int = MAX_ITEMS) -> None:
        self._max_texts = max_texts
        self._max_items = max_items
        self._digest = _Digest()
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._items = 0
        self._lock = threading.Lock()

    def values(self, values: Sequence[str]) -> KeyedValues:
        """`values` prepared for `find`: digested once for all texts of a request."""
        return KeyedValues(values, self._digest)

    def find(self, texts: Sequence[str], values: KeyedValues, placeholders: PlaceholderFn) -> list[Found]:
        """For each text, the occurrences of `values` in it (as `occurrences` finds them) and
        the placeholder-shaped tokens `placeholders` finds in it."""
        searched = _Searched(values.searched)
        missing: dict[_Searched, Values] = {}
        found = []
        for text in texts:
            key = self._digest(text)
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
            if entry is None:
                spans, tokens = occurrences(text, values), frozenset(placeholders(text))
            else:
                # Texts met in one earlier request share its values: what is new is worked out once.
                new = missing.get(entry.searched)
                if new is None:
                    digests = entry.searched.digests
                    new = missing[entry.searched] = Values(
                        [v for v in values.values if values.digests[v] not in digests]
                    )
                known = [(s, e) for s, e in entry.spans if text[s:e] in values]
                spans, tokens = known + occurrences(text, new), entry.placeholders
            self._put(key, _Entry(searched, tuple(spans), tokens))
            found.append(Found(spans, tokens))
        return found

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def items(self) -> int:
        """Value digests, offsets and tokens held: the quantity `max_items` bounds."""
        return self._items

    def _put(self, key: bytes, entry: _Entry) -> None:
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._forget(previous)
            self._entries[key] = entry
            self._items += len(entry.spans) + len(entry.placeholders)
            entry.searched.texts += 1
            if entry.searched.texts == 1:
                self._items += len(entry.searched.digests)
            while len(self._entries) > self._max_texts or self._items > self._max_items:
                self._forget(self._entries.popitem(last=False)[1])

    def _forget(self, entry: _Entry) -> None:
        self._items -= len(entry.spans) + len(entry.placeholders)
        entry.searched.texts -= 1
        if not entry.searched.texts:
            self._items -= len(entry.searched.digests)
