"""Detections remembered per text, so that history resent on every turn is analysed once.

Chat clients send the whole conversation with every request: without a cache, each turn
costs as much analysis as all turns before it. Entries are keyed by a digest of the text and
hold only `Detection` values (offsets, types, scores), never the text. The digest is keyed
with a secret drawn when the cache is made, so a key cannot be matched against guessed texts
outside this process. The cache lives in memory only, is bounded by its number of entries and
by the total length of the texts it stands for, and forgets the least recently used first.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from maskgate.detect.types import Detection

MAX_ENTRIES = 10_000
MAX_CHARS = 20_000_000
"""Defaults: about 20 MB of analysed text, whose detections take some 10-20 MB of memory."""

Analyse = Callable[[str], Sequence[Detection]]


class DetectionCache:
    """A bounded, thread-safe, least-recently-used map from a text's digest to its detections."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._secret = os.urandom(16)
        self._entries: OrderedDict[bytes, tuple[tuple[Detection, ...], int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, text: str, analyse: Analyse) -> tuple[Detection, ...]:
        """The detections remembered for `text`, or those `analyse` finds, then remembered.

        Analysis runs outside the lock, so other threads look up and analyse meanwhile; two
        threads meeting the same new text both analyse it, and the result is the same.
        """
        key = self._digest(text)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]
        found = tuple(analyse(text))
        self._put(key, found, len(text))
        return found

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        """Total length of the texts whose detections are held."""
        return self._chars

    def _digest(self, text: str) -> bytes:
        # surrogatepass: a lone surrogate from a JSON body is text too, and must not raise here.
        data = text.encode("utf-8", "surrogatepass")
        return hashlib.blake2b(data, key=self._secret, digest_size=16).digest()

    def _put(self, key: bytes, detections: tuple[Detection, ...], length: int) -> None:
        if length > self._max_chars:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._chars -= previous[1]
            self._entries[key] = (detections, length)
            self._chars += length
            while len(self._entries) > self._max_entries or self._chars > self._max_chars:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._chars -= evicted
