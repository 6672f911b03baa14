"""Restore a streamed Responses API answer while it streams.

The Responses API streams typed events (`event: <type>` and `data: {json}`, no `[DONE]`).
The model's words arrive piece by piece in delta events (`response.output_text.delta`,
`response.function_call_arguments.delta`, …), then whole again in the matching `.done`
event, in `response.content_part.done`, `response.output_item.done`, and the final
`response.completed` (or `.incomplete`, `.failed`).

Each text that streams in deltas — one per output item and part — is restored as one
stream, which holds back only a tail that could still become one of our placeholders.
Held text goes out in a copy of that stream's last delta event (same sequence number,
no logprobs), before any `.done` event of its item, before the response's final event,
and at the end of the stream: a client never reads a `.done` whose text its deltas lack.
Events that carry text whole are restored whole.

The tally counts each text once, when the client first gets it: through its deltas, or
else in the first event that carries it whole. Later events repeat the same text and are
restored without being counted again, so a streamed answer counts as the same answer
given as JSON does.

Events we do not change go out byte for byte; changed ones are re-serialized. This runs
on mitmproxy's event loop, so it only does cheap, linear string work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maskgate.openai.responses import JSON_FIELDS, item_texts, part_texts
from maskgate.restore.sse import Event, EventStreamRestorer, data_lines, rewrite
from maskgate.restore.text import (
    IncrementalRestorer,
    PlaceholderTails,
    RestoreTally,
    json_string_escape,
    prose_in,
    restore_text,
)
from maskgate.vault import Vault


@dataclass(frozen=True, slots=True)
class _Streamed:
    """A kind of text that streams in `<prefix>.delta` events and ends in `<prefix>.done`."""

    field: str
    """The output item's field the text belongs to (see `TEXT_FIELDS`)."""
    index: str | None
    """The event key naming the part of that field; None for a field holding one text."""
    whole: str
    """The key of the whole text in the `.done` event."""


_STREAMED = {
    "response.output_text": _Streamed("content", "content_index", "text"),
    "response.refusal": _Streamed("content", "content_index", "refusal"),
    "response.reasoning_text": _Streamed("content", "content_index", "text"),
    "response.reasoning_summary_text": _Streamed("summary", "summary_index", "text"),
    "response.function_call_arguments": _Streamed("arguments", None, "arguments"),
    "response.custom_tool_call_input": _Streamed("input", None, "input"),
    "response.mcp_call_arguments": _Streamed("arguments", None, "arguments"),
}
_PART_EVENTS = {
    "response.content_part.added": ("content", "content_index"),
    "response.content_part.done": ("content", "content_index"),
    "response.reasoning_summary_part.added": ("summary", "summary_index"),
    "response.reasoning_summary_part.done": ("summary", "summary_index"),
}
_ITEM_EVENTS = frozenset({"response.output_item.added", "response.output_item.done"})
_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed", "error"})
_DONE = b"[DONE]"
"""Not part of the Responses stream, but some compatible servers end with it."""

_Key = tuple[Any, str, int | None]
"""A text of the answer: its output item (index, else id), field, and part index."""
_ALL = object()
_NONE_DUE = object()


@dataclass(slots=True)
class _Stream:
    """One text arriving in deltas, and its latest delta event (copied to send held text)."""

    restorer: IncrementalRestorer
    event: Event
    payload: dict[str, Any]


class ResponsesSseRestorer(EventStreamRestorer):
    """Restores a `text/event-stream` Responses answer; `finished` once its final event
    (`response.completed`, …) has passed.

    `tally` is filled in as the answer streams, so it is complete after the final call.
    """

    def __init__(self, vault: Vault, tally: RestoreTally) -> None:
        super().__init__()
        self._vault = vault
        self._tally = tally
        self._tails = PlaceholderTails(vault)
        self._streams: dict[_Key, _Stream] = {}
        self._counted: set[_Key] = set()
        self._answer: list[str] = []

    def answer_texts(self) -> list[str]:
        """The restored texts of the final response event's output."""
        return self._answer

    def _flush_pending(self) -> bytes:
        return self._flush(_ALL)

    def _event(self, event: Event, *, last: bool = False) -> bytes:
        """The bytes that replace `event`, after any held text that must go out before it.

        `last` marks the unterminated tail at the end of the stream: everything still held
        goes out with it (into it when it is a delta of that text).
        """
        at = data_lines(event)
        raw = at[0][1] if len(at) == 1 else b"\n".join(value for _, value in at)
        payload = _payload(raw) if at else None
        if payload is None:
            final = last or raw.strip() == _DONE
            self.finished |= final
            return self._flush(_ALL) + event.raw if final else event.raw
        kind: str = payload["type"]
        self.finished |= kind in _FINAL
        streamed = _STREAMED.get(kind.removesuffix(".delta")) if kind.endswith(".delta") else None
        if streamed is not None:
            changed = self._delta(event, payload, streamed, flush=last)
            before = self._flush(_ALL) if last else b""
        else:
            before = self._flush(self._due(payload, kind, last))
            changed = self._whole_texts(payload, kind)
        return before + (rewrite(event, [i for i, _ in at], payload) if changed else event.raw)

    def _due(self, payload: dict[str, Any], kind: str, last: bool) -> Any:
        """Whose held text must go out before this event: every text's, one item's, or none."""
        if last or kind in _FINAL:
            return _ALL
        if kind.endswith(".done"):
            return _item_of(payload)
        return _NONE_DUE

    def _delta(self, event: Event, payload: dict[str, Any], streamed: _Streamed, *, flush: bool) -> bool:
        delta = payload.get("delta")
        if not isinstance(delta, str):
            return False
        key = (_item_of(payload), streamed.field, _index(payload, streamed.index))
        stream = self._streams.get(key)
        if stream is None:
            escape = json_string_escape if streamed.field in JSON_FIELDS else None
            restorer = IncrementalRestorer(self._vault, self._tally_for(key), self._tails, escape)
            stream = self._streams[key] = _Stream(restorer, event, payload)
        stream.event, stream.payload = event, payload
        restored = stream.restorer.feed(delta)
        if flush:
            restored += stream.restorer.flush()
        if restored == delta:
            return False
        payload["delta"] = restored
        return True

    def _whole_texts(self, payload: dict[str, Any], kind: str) -> bool:
        """Restore the texts an event carries whole; True if any changed."""
        item = _item_of(payload)
        changed = False
        if kind.endswith(".done") and (streamed := _STREAMED.get(kind.removesuffix(".done"))):
            key = (item, streamed.field, _index(payload, streamed.index))
            escape = json_string_escape if streamed.field in JSON_FIELDS else None
            changed |= self._whole(key, payload, streamed.whole, escape)
        elif kind in _PART_EVENTS:
            field, index = _PART_EVENTS[kind]
            for container, name in part_texts(payload.get("part")):
                changed |= self._whole((item, field, _index(payload, index)), container, name, None)
        elif kind in _ITEM_EVENTS:
            value = payload.get("item")
            fallback = value.get("id") if isinstance(value, dict) else None
            changed |= self._item(item if item is not None else fallback, value)
        response = payload.get("response")
        if isinstance(response, dict):
            output = response.get("output")
            for position, value in enumerate(output if isinstance(output, list) else ()):
                changed |= self._item(position, value)
            if isinstance(response.get("output_text"), str):
                # The output's texts joined: each is counted on its own.
                text = response["output_text"]
                response["output_text"] = restore_text(text, self._vault, RestoreTally())
                changed |= response["output_text"] != text
            if kind in _FINAL:
                self._answer = prose_in(output)
        return changed

    def _item(self, item: Any, value: Any) -> bool:
        changed = False
        for where, container, name, escape in item_texts(value):
            changed |= self._whole((item, *where), container, name, escape)
        return changed

    def _whole(self, key: _Key, container: Any, name: Any, escape: Callable[[str], str] | None) -> bool:
        text = container[name]
        if not isinstance(text, str) or not text:
            return False
        restored = restore_text(text, self._vault, self._tally_for(key), escape)
        if restored == text:
            return False
        container[name] = restored
        return True

    def _tally_for(self, key: _Key) -> RestoreTally:
        """The answer's tally the first time a text reaches the client; a throwaway one after."""
        if key in self._counted:
            return RestoreTally()
        self._counted.add(key)
        return self._tally

    def _flush(self, item: Any) -> bytes:
        """Held text of the streams of `item` (or `_ALL`), each in a copy of its last delta event."""
        if item is _NONE_DUE:
            return b""
        events = []
        for key, stream in self._streams.items():
            if (item is _ALL or key[0] == item) and stream.restorer.held:
                copy = {**stream.payload, "delta": stream.restorer.flush()}
                copy.pop("obfuscation", None)
                if "logprobs" in copy:
                    copy["logprobs"] = []  # already sent with the delta this one continues
                events.append(rewrite(stream.event, [i for i, _ in data_lines(stream.event)], copy))
        return b"".join(events)


def _payload(raw: bytes) -> dict[str, Any] | None:
    """The event's data as a typed Responses event; None for anything else (passed through)."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) and isinstance(payload.get("type"), str) else None


def _item_of(payload: dict[str, Any]) -> Any:
    """The output item an event is about: its `output_index`, else its `item_id`, else None."""
    index = payload.get("output_index")
    if isinstance(index, int):
        return index
    item_id = payload.get("item_id")
    return item_id if isinstance(item_id, str) else None


def _index(payload: dict[str, Any], key: str | None) -> int | None:
    value = payload.get(key) if key is not None else None
    return value if isinstance(value, int) else None
