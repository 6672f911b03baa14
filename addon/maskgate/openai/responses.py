"""Responses API bodies (`POST …/responses`, `…/responses/input_tokens`, `…/responses/compact`):
which strings get masked, and where originals come back.

Requests: `input` is a string or a list of items. Every text the model reads is analysed:
the fields of each item type in `TEXT_FIELDS` — message content (a string, or the `text`
and `refusal` of its parts, assistant history included), reasoning summaries, function and
MCP call arguments (decoded, masked inside their values, re-encoded), custom tool input,
and what tools returned (function, custom, MCP, shell and patch outputs, as a string or
parts; a shell output's `stdout` and `stderr`). Also analysed: `instructions`, the
end-user fields `user` and `safety_identifier`, the values of `prompt.variables`, and
every `description` in tool definitions and in the `text` output format (including those
inside parameter schemas), where people describe their data.

Items of types this module does not list (a web search's query, interpreter code, a
computer action, types added to the API later) may carry text the model reads too: all
their strings are analysed, but for base64 results such as a generated image. All other
strings only get values that were detected elsewhere in the request masked. Images, audio
and files, the model name, ids, and the opaque `encrypted_content` of reasoning and
compaction items are never touched.

Answers: the same fields of every item in `output[]` (the assistant's text and refusals,
reasoning summaries, call arguments with the originals JSON-escaped, custom tool input),
and the convenience field `output_text` when a server includes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from maskgate.mask import ActionFn, DetectFn, Finding, mask_everything
from maskgate.openai.slots import SlotCollector, setter
from maskgate.restore.text import RestoreTally, json_string_escape, restore_text
from maskgate.vault import Vault

TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "message": ("content",),
    "reasoning": ("summary", "content"),
    "function_call": ("arguments",),
    "function_call_output": ("output",),
    "custom_tool_call": ("input",),
    "custom_tool_call_output": ("output",),
    "mcp_call": ("arguments", "output", "error"),
    "mcp_approval_request": ("arguments",),
    "local_shell_call_output": ("output",),
    "shell_call_output": ("output",),
    "apply_patch_call_output": ("output",),
}
"""Per item type, the fields that carry text to the model or from it: analysed in requests,
restored in answers. Each is a string, or a list of parts (see `PART_TEXT_KEYS`)."""

PART_TEXT_KEYS = ("text", "refusal", "stdout", "stderr")
"""The keys of a part that hold its text: `input_text`/`output_text`/`summary_text`/
`reasoning_text` parts, refusals, and a shell command's output."""

JSON_FIELDS = frozenset({"arguments"})
"""Fields holding JSON text: masked inside its values, restored JSON-escaped."""
_BINARY_PARTS = frozenset({"input_image", "input_file", "input_audio", "computer_screenshot"})
_NEVER_TOUCHED = frozenset({"model", "type", "role", "id", "call_id", "encrypted_content"})
_ENCODED_RESULTS = frozenset({"result"})
"""Fields of other item types that hold base64 output (an image generation's `result`),
megabytes that are no text: values found elsewhere are still masked there."""
_END_USER_IDS = frozenset({"user", "safety_identifier"})
"""Fields that identify the end user; clients often put an e-mail address there."""
_DESCRIBED = frozenset({"tools", "text"})
"""Tool definitions and the output format: their `description`s are analysed."""

TextKey = tuple[str, int | None]
"""Where a text sits in an output item: its field and, in a list of parts, the part's index."""


def mask_responses_request(
    body: dict[str, Any], detect: DetectFn, action_of: ActionFn = mask_everything
) -> tuple[Vault, list[Finding]]:
    """Mask a parsed Responses API request in place, each type as `action_of` says.

    Left unchanged when a finding is to be blocked (see `mask_slots`).
    """
    collector = _ResponsesSlots()
    for key, value in body.items():
        write = setter(body, key)
        if key in ("input", "instructions"):
            collector.input(value, key, write)
        elif key in _DESCRIBED:
            collector.described(value, key, write)
        elif key == "prompt" and isinstance(value, dict):
            collector.prompt(value, key)
        elif key not in _NEVER_TOUCHED:
            collector.walk(value, key, write, scan=key in _END_USER_IDS)
    return collector.mask(detect, action_of)


def restore_responses_answer(body: dict[str, Any], vault: Vault) -> RestoreTally:
    """Put originals back into a parsed `response` object (or compacted response), in place."""
    tally = RestoreTally()
    output = body.get("output")
    for item in output if isinstance(output, list) else ():
        for _, container, key, escape in item_texts(item):
            container[key] = restore_text(container[key], vault, tally, escape)
    if isinstance(body.get("output_text"), str):
        # The output's texts joined, counted above already.
        body["output_text"] = restore_text(body["output_text"], vault, RestoreTally())
    return tally


def item_type(item: dict[str, Any]) -> Any:
    """An item's type; a message may leave it out (`{"role": "user", "content": …}`)."""
    return item.get("type", "message" if "role" in item else None)


def item_texts(item: Any) -> Iterator[tuple[TextKey, Any, Any, Callable[[str], str] | None]]:
    """Every text of an output item that may hold placeholders: where it is in the item,
    its container and key there, and how an original is escaped inside it."""
    if not isinstance(item, dict):
        return
    for field in TEXT_FIELDS.get(item_type(item), ()):
        value = item.get(field)
        escape = json_string_escape if field in JSON_FIELDS else None
        if isinstance(value, str):
            yield (field, None), item, field, escape
        elif isinstance(value, list):
            for i, part in enumerate(value):
                if isinstance(part, str):
                    yield (field, i), value, i, escape
                else:
                    yield from (((field, i), container, key, None) for container, key in part_texts(part))
        else:
            yield from (((field, None), container, key, None) for container, key in part_texts(value))


def part_texts(part: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """The text fields of a content part, as (part, key)."""
    if isinstance(part, dict) and part.get("type") not in _BINARY_PARTS:
        for key in PART_TEXT_KEYS:
            if isinstance(part.get(key), str):
                yield part, key


class _ResponsesSlots(SlotCollector):
    """Lists a Responses request's strings, analysing only those the model reads as text."""

    def input(self, value: Any, path: str, write: Callable[[Any], None]) -> None:
        """`input` or `instructions`: one text, or a list of items."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                self._item(item, f"{path}[{i}]", setter(value, i))
        else:
            self.walk(value, path, write, scan=True)

    def described(self, value: Any, path: str, write: Callable[[Any], None]) -> None:
        """Tool definitions or an output format: each `description`, at any depth, is analysed."""
        if isinstance(value, dict):
            for key, item in value.items():
                here, write_item = f"{path}.{key}", setter(value, key)
                if key == "description" and isinstance(item, str):
                    self.walk(item, here, write_item, scan=True)
                elif key not in _NEVER_TOUCHED:
                    self.described(item, here, write_item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.described(item, f"{path}[{i}]", setter(value, i))
        else:
            self.walk(value, path, write, scan=False)

    def prompt(self, prompt: dict[str, Any], path: str) -> None:
        """A stored prompt's `variables` are text (or parts) filled into it; its id is not."""
        for key, value in prompt.items():
            if key == "variables" and isinstance(value, dict):
                for name, variable in value.items():
                    self._text(variable, f"{path}.variables.{name}", setter(value, name))
            else:
                self.walk(value, f"{path}.{key}", setter(prompt, key), scan=False)

    def _item(self, item: Any, path: str, write: Callable[[Any], None]) -> None:
        if not isinstance(item, dict):
            self.walk(item, path, write, scan=True)  # a bare string in a list of items
            return
        listed = item_type(item) in TEXT_FIELDS
        fields = TEXT_FIELDS.get(item_type(item), ())
        for key, value in item.items():
            here, write_field = f"{path}.{key}", setter(item, key)
            if key in JSON_FIELDS and key in fields and isinstance(value, str):
                self.json_text(value, here, write_field)
            elif key in fields:
                self._text(value, here, write_field)
            elif key not in _NEVER_TOUCHED:
                scan = not listed and key not in _ENCODED_RESULTS
                self.walk(value, here, write_field, scan=scan)

    def _text(self, value: Any, path: str, write: Callable[[Any], None]) -> None:
        """A text field: a string, a part, or a list of them."""
        if isinstance(value, list):
            for i, part in enumerate(value):
                self._text(part, f"{path}[{i}]", setter(value, i))
        elif isinstance(value, dict):
            if value.get("type") in _BINARY_PARTS:
                return
            for key, item in value.items():
                if key not in _NEVER_TOUCHED:
                    self.walk(item, f"{path}.{key}", setter(value, key), scan=key in PART_TEXT_KEYS)
        else:
            self.walk(value, path, write, scan=True)
