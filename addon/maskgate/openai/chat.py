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

from collections.abc import Callable
from typing import Any

from maskgate.mask import ActionFn, DetectFn, Finding, mask_everything
from maskgate.openai.slots import SlotCollector, setter
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
    collector = _ChatSlots()
    for key, value in body.items():
        if key == "messages" and isinstance(value, list):
            for i, message in enumerate(value):
                collector.message(message, f"messages[{i}]", setter(value, i))
        elif key not in _NEVER_TOUCHED:
            collector.walk(value, key, setter(body, key), scan=key in _END_USER_IDS)
    return collector.mask(detect, action_of)


def restore_chat_response(body: dict[str, Any], vault: Vault) -> RestoreTally:
    """Put originals back into a parsed chat.completion answer, in place."""
    tally = RestoreTally()
    choices = body.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            _restore_message(message, vault, tally)
    return tally


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


class _ChatSlots(SlotCollector):
    """Lists a chat request's strings, analysing only those the model reads as text."""

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
                    self._content_part(part, f"{here}[{i}]", setter(value, i))
            elif key in ("content", "refusal"):
                self.walk(value, here, setter(message, key), scan=True)
            elif key == "tool_calls" and isinstance(value, list):
                for i, call in enumerate(value):
                    self._tool_call(call, f"{here}[{i}]", setter(value, i))
            elif key == "function_call" and isinstance(value, dict):
                self._function(value, here)
            else:
                self.walk(value, here, setter(message, key), scan=False)

    def _content_part(self, part: Any, path: str, write: Callable[[Any], None]) -> None:
        if not isinstance(part, dict):
            self.walk(part, path, write, scan=False)
            return
        if part.get("type") in _BINARY_PARTS:
            return
        for key, value in part.items():
            if key not in _NEVER_TOUCHED:
                self.walk(value, f"{path}.{key}", setter(part, key), scan=key in _PART_TEXT_KEYS)

    def _tool_call(self, call: Any, path: str, write: Callable[[Any], None]) -> None:
        if not isinstance(call, dict):
            self.walk(call, path, write, scan=False)
            return
        for key, value in call.items():
            if key == "function" and isinstance(value, dict):
                self._function(value, f"{path}.function")
            elif key not in _NEVER_TOUCHED:
                self.walk(value, f"{path}.{key}", setter(call, key), scan=False)

    def _function(self, function: dict[str, Any], path: str) -> None:
        """A function call's `arguments` is JSON text the model reads: analyse its values."""
        for key, value in function.items():
            if key == "arguments" and isinstance(value, str):
                self.json_text(value, f"{path}.arguments", setter(function, key))
            else:
                self.walk(value, f"{path}.{key}", setter(function, key), scan=False)
