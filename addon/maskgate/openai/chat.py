"""Chat Completions bodies: which strings get masked, and where originals come back.

Requests: every text the model reads is analysed — message content (a string or
`text`/`refusal` parts) for every role, assistant tool-call and legacy function-call
arguments (decoded, masked inside their values, re-encoded), and the end-user fields
`user` and `safety_identifier`.
All other strings only get values that were detected elsewhere in the request
masked; images, audio, files and the model name are never touched.

Answers: content, refusal and reasoning text of every choice, and tool-call
arguments with the originals JSON-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from maskgate.mask import ActionFn, DetectFn, Finding, TextSlot, mask_everything, mask_slots
from maskgate.restore.text import RestoreTally, json_string_escape, restore_text
from maskgate.vault import Vault

PATH = "/v1/chat/completions"

_BINARY_PARTS = frozenset({"image_url", "input_audio", "file"})
_PART_TEXT_KEYS = frozenset({"text", "refusal"})
_ANSWER_TEXT_KEYS = ("content", "refusal", "reasoning_content", "reasoning")
_NEVER_TOUCHED = frozenset({"model", "role", "type", "id", "tool_call_id"})
_END_USER_IDS = frozenset({"user", "safety_identifier"})
"""Fields that identify the end user; clients often put an e-mail address there."""


def mask_chat_request(
    body: dict[str, Any], detect: DetectFn, action_of: ActionFn = mask_everything
) -> tuple[Vault, list[Finding]]:
    """Mask a parsed chat-completion request in place, each type as `action_of` says.

    Left unchanged when a finding is to be blocked (see `mask_slots`).
    """
    collector = _SlotCollector()
    for key, value in body.items():
        if key == "messages" and isinstance(value, list):
            for i, message in enumerate(value):
                collector.message(message, f"messages[{i}]", _setter(value, i))
        elif key not in _NEVER_TOUCHED:
            collector.walk(value, key, _setter(body, key), scan=key in _END_USER_IDS)
    vault, findings = mask_slots(collector.slots, detect, action_of)
    collector.finish()
    return vault, findings


def restore_chat_response(body: dict[str, Any], vault: Vault) -> RestoreTally:
    """Put originals back into a parsed chat.completion answer, in place."""
    tally = RestoreTally()
    choices = body.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            _restore_message(message, vault, tally)
    return tally


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, as a rewritten body is sent; falls back to ASCII escapes for text
    that is not valid Unicode (a lone surrogate)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def _restore_message(message: dict[str, Any], vault: Vault, tally: RestoreTally) -> None:
    for key in _ANSWER_TEXT_KEYS:
        value = message.get(key)
        if isinstance(value, str):
            message[key] = restore_text(value, vault, tally)
        elif isinstance(value, list):
            for part in value:
                for part_key in _PART_TEXT_KEYS:
                    if isinstance(part, dict) and isinstance(part.get(part_key), str):
                        part[part_key] = restore_text(part[part_key], vault, tally)
    calls = message.get("tool_calls")
    functions = [c.get("function") for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
    functions.append(message.get("function_call"))
    for function in functions:
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            function["arguments"] = restore_text(function["arguments"], vault, tally, json_string_escape)


def _setter(container: dict[str, Any] | list[Any], key: str | int) -> Callable[[Any], None]:
    def write(value: Any) -> None:
        container[key] = value  # type: ignore[index]

    return write


class _SlotCollector:
    """Walks a request body and lists its strings as `TextSlot`s in document order."""

    def __init__(self) -> None:
        self.slots: list[TextSlot] = []
        self._encoders: list[Callable[[], None]] = []

    def finish(self) -> None:
        """Re-encode decoded JSON strings (tool arguments) whose values were masked."""
        for encode in self._encoders:
            encode()

    def message(self, message: Any, path: str, write: Callable[[Any], None]) -> None:
        if not isinstance(message, dict):
            self.walk(message, path, write, scan=False)
            return
        for key, value in message.items():
            here = f"{path}.{key}"
            if key in _NEVER_TOUCHED:
                continue
            if key == "content" and isinstance(value, list):
                for i, part in enumerate(value):
                    self._content_part(part, f"{here}[{i}]", _setter(value, i))
            elif key in ("content", "refusal"):
                self.walk(value, here, _setter(message, key), scan=True)
            elif key == "tool_calls" and isinstance(value, list):
                for i, call in enumerate(value):
                    self._tool_call(call, f"{here}[{i}]", _setter(value, i))
            elif key == "function_call" and isinstance(value, dict):
                self._function(value, here)
            else:
                self.walk(value, here, _setter(message, key), scan=False)

    def _content_part(self, part: Any, path: str, write: Callable[[Any], None]) -> None:
        if not isinstance(part, dict):
            self.walk(part, path, write, scan=False)
            return
        if part.get("type") in _BINARY_PARTS:
            return
        for key, value in part.items():
            if key not in _NEVER_TOUCHED:
                self.walk(value, f"{path}.{key}", _setter(part, key), scan=key in _PART_TEXT_KEYS)

    def _tool_call(self, call: Any, path: str, write: Callable[[Any], None]) -> None:
        if not isinstance(call, dict):
            self.walk(call, path, write, scan=False)
            return
        for key, value in call.items():
            if key == "function" and isinstance(value, dict):
                self._function(value, f"{path}.function")
            elif key not in _NEVER_TOUCHED:
                self.walk(value, f"{path}.{key}", _setter(call, key), scan=False)

    def _function(self, function: dict[str, Any], path: str) -> None:
        """A function call's `arguments` is JSON text the model reads: analyse its values."""
        for key, value in function.items():
            if key == "arguments" and isinstance(value, str):
                self._json_text(value, f"{path}.arguments", _setter(function, key))
            else:
                self.walk(value, f"{path}.{key}", _setter(function, key), scan=False)

    def _json_text(self, text: str, path: str, write: Callable[[Any], None]) -> None:
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
                self.walk(item, f"{path}.{key}", _setter(value, key), scan=scan)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.walk(item, f"{path}[{i}]", _setter(value, i), scan=scan)


def _chain(first: Callable[[Any], None], then: Callable[[Any], None]) -> Callable[[Any], None]:
    def write(value: Any) -> None:
        first(value)
        then(value)

    return write
