"""Value <-> placeholder mapping for one request.

Placeholders look like ``[[PERSON_1]]``: one counter per entity type, numbered in the
order values are first met, so the same conversation masks to the same bytes on every
turn (which keeps the provider's prompt cache warm). Placeholder-shaped text that the
user wrote is reserved up front, so an issued placeholder never equals it and an answer
that quotes it is left alone.

A placeholder of a redacted value stands in for it in the answer too: its entry says it
is not to be restored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from maskgate.detect.placeholder import PLACEHOLDER_SHAPE

__all__ = ["PLACEHOLDER_SHAPE", "Vault", "VaultEntry"]


@dataclass(frozen=True, slots=True)
class VaultEntry:
    placeholder: str
    value: str = field(repr=False)
    entity_type: str
    secret: bool
    restore: bool = True
    """False for a redacted value: the answer keeps the placeholder."""


class Vault:
    """The placeholders issued for one request, and the originals they stand for."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._by_value: dict[str, VaultEntry] = {}
        self._by_placeholder: dict[str, VaultEntry] = {}
        self._counters: dict[str, int] = {}
        self._reserved = frozenset(reserved)

    def placeholder_for(
        self, value: str, entity_type: str, *, secret: bool = False, restore: bool = True
    ) -> str:
        """The placeholder of `value`, issuing the next free one on first sight.

        A value keeps the placeholder (and type) it got first, wherever it appears again.
        Once redacted it stays redacted: restoring it because it was also masked elsewhere
        would put back what the policy keeps out of the answer.
        """
        return self.entry_for(value, entity_type, secret=secret, restore=restore).placeholder

    def entry_for(
        self, value: str, entity_type: str, *, secret: bool = False, restore: bool = True
    ) -> VaultEntry:
        """The entry of `value`, made on first sight as `placeholder_for` says."""
        entry = self._by_value.get(value)
        if entry is not None and entry.restore and not restore:
            entry = replace(entry, restore=False)
            self._by_value[value] = self._by_placeholder[entry.placeholder] = entry
        elif entry is None:
            n = self._counters.get(entity_type, 0)
            while True:
                n += 1
                placeholder = f"[[{entity_type}_{n}]]"
                if placeholder not in self._reserved:
                    break
            self._counters[entity_type] = n
            entry = VaultEntry(placeholder, value, entity_type, secret, restore)
            self._by_value[value] = entry
            self._by_placeholder[placeholder] = entry
        return entry

    def lookup(self, placeholder: str) -> VaultEntry | None:
        """The entry behind a placeholder we issued, or None."""
        return self._by_placeholder.get(placeholder)

    def is_reserved(self, placeholder: str) -> bool:
        """True for placeholder-shaped text the user wrote themselves."""
        return placeholder in self._reserved

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def __iter__(self) -> Iterator[VaultEntry]:
        return iter(self._by_placeholder.values())

    def __repr__(self) -> str:
        # Never show the values: a vault may end up in a log or a traceback.
        redacted = sum(not entry.restore for entry in self)
        return f"<Vault {len(self)} placeholders, {redacted} redacted>"
