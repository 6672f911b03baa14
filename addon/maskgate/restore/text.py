"""Put originals back in place of the placeholders we issued.

Only placeholders in the vault are replaced. Placeholder-shaped text the user wrote
stays as it is; ids the model made up stay too and are counted as unresolved, so a
person can see that an answer refers to something maskgate never sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from maskgate.vault import PLACEHOLDER_SHAPE, Vault


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
            if not vault.is_reserved(placeholder):
                tally.unresolved[placeholder] = tally.unresolved.get(placeholder, 0) + 1
            return placeholder
        tally.restored[placeholder] = tally.restored.get(placeholder, 0) + 1
        return escape(entry.value) if escape else entry.value

    return PLACEHOLDER_SHAPE.sub(replace, text)

