"""The strings of a request body, listed for masking in document order.

Each endpoint module walks its own body shape and decides which strings are analysed
(`scan=True`, text the model reads) and which only get values found elsewhere masked.
What they share is here: walking any JSON value, and masking inside JSON documents
carried as strings (tool-call arguments), re-encoded only when something changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from maskgate.mask import ActionFn, DetectFn, Finding, TextSlot, mask_slots
from maskgate.vault import Vault


def setter(container: dict[str, Any] | list[Any], key: str | int) -> Callable[[Any], None]:
    """A function that replaces `container[key]`: how a masked string is written back."""

    def write(value: Any) -> None:
        container[key] = value  # type: ignore[index]

    return write


class SlotCollector:
    """Walks a request body and lists its strings as `TextSlot`s in document order."""

    def __init__(self) -> None:
        self.slots: list[TextSlot] = []
        self._encoders: list[Callable[[], None]] = []

    def mask(self, detect: DetectFn, action_of: ActionFn) -> tuple[Vault, list[Finding]]:
        """Mask the listed strings in place as `action_of` says (see `mask_slots`), then
        re-encode the decoded JSON strings (tool arguments) whose values were masked."""
        vault, findings = mask_slots(self.slots, detect, action_of)
        for encode in self._encoders:
            encode()
        return vault, findings

    def json_text(self, text: str, path: str, write: Callable[[Any], None]) -> None:
        """Mask inside the values of a JSON document carried as a string."""
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict | list):
            self.slots.append(TextSlot(path, text, True, write))
            return
        changed = False

        def mark_changed(_: Any) -> None:
            nonlocal changed
            changed = True

        start = len(self.slots)
        self.walk(decoded, path, write, scan=True)
        for slot in self.slots[start:]:
            slot.write = _chain(slot.write, mark_changed)
        # Also analyse the JSON text whole, so a value named only by its key
        # ("password", "api_key") is found; it is then masked in the decoded values.
        self.slots.append(TextSlot(path, text, True, None, json_source=True))

        def encode() -> None:
            if changed:
                write(json.dumps(decoded, ensure_ascii=False))

        self._encoders.append(encode)

    def walk(self, value: Any, path: str, write: Callable[[Any], None], *, scan: bool) -> None:
        """List every string under `value`; integers too where detection runs.

        A card or phone number can arrive as a JSON number in tool arguments; if it is
        detected, it is replaced by its placeholder as a string.
        """
        if isinstance(value, str):
            self.slots.append(TextSlot(path, value, scan, write))
        elif scan and isinstance(value, int) and not isinstance(value, bool):
            self.slots.append(TextSlot(path, str(value), scan, write))
        elif isinstance(value, dict):
            for key, item in value.items():
                self.walk(item, f"{path}.{key}", setter(value, key), scan=scan)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.walk(item, f"{path}[{i}]", setter(value, i), scan=scan)


def _chain(first: Callable[[Any], None], then: Callable[[Any], None]) -> Callable[[Any], None]:
    def write(value: Any) -> None:
        first(value)
        then(value)

    return write
