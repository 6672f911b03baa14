"""Restore a streamed (SSE) chat or legacy text completion while it streams.

mitmproxy calls `SseRestorer` with every network read, cut anywhere: inside a line,
inside a UTF-8 character, between `\\r` and `\\n`. Events are reassembled and sent on
as soon as they are complete. Each choice's text fields and each tool call's
arguments are restored as separate streams; a placeholder the model splits across
deltas is held back only as long as it could still become one of ours, and goes out
at the latest with its choice's `finish_reason`, before `[DONE]`, or at the end.
Placeholders of redacted values are held the same way, then go out as written.

Both endpoints stream `data:` chunks with a `choices` list and end with `[DONE]`; they
differ only in where a choice carries its text (`ChunkShape`).

Events we do not change go out byte for byte; changed ones are re-serialized. This
runs on mitmproxy's event loop, so it only does cheap, linear string work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from maskgate.restore.text import (
    IncrementalRestorer,
    PlaceholderTails,
    RestoreTally,
    json_string_escape,
)
from maskgate.vault import Vault

_LINE_END = re.compile(rb"\r\n|\r|\n")
_ENVELOPE = ("id", "object", "created", "model")
_DONE = b"[DONE]"


@dataclass(slots=True)
class Event:
    """One SSE event as it arrived: its exact bytes and its lines (content, line ending)."""

    raw: bytes
    lines: list[tuple[bytes, bytes]]


class EventReader:
    """Cuts a byte stream into SSE events, whatever the read boundaries.

    The buffer only holds the event being read; `_scan` remembers how far the current
    line has been searched for a line end, so a long line arriving byte by byte is not
    searched again from its start.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._lines: list[tuple[bytes, bytes]] = []
        self._line_start = 0
        self._scan = 0
        # A read ended with `\r`: a `\n` at the start of the next one belongs to that line end.
        self._cr_pending = False

    def feed(self, data: bytes) -> list[Event]:
        """The events this read completes (a late `\\n` of `\\r\\n` comes as a line-less event)."""
        events: list[Event] = []
        self._buf += data
        if self._cr_pending and self._buf[self._line_start] == 0x0A:
            if self._lines:
                content, _ = self._lines[-1]
                self._lines[-1] = (content, b"\r\n")
                self._line_start = self._scan = self._line_start + 1
            else:
                events.append(Event(b"\n", []))
                del self._buf[:1]
        self._cr_pending = False
        buf = self._buf
        while (end := _LINE_END.search(buf, self._scan)) is not None:
            content = bytes(buf[self._line_start : end.start()])
            self._lines.append((content, end.group()))
            self._line_start = self._scan = end.end()
            self._cr_pending = end.end() == len(buf) and end.group() == b"\r"
            if not content:
                events.append(Event(bytes(buf[: end.end()]), self._lines))
                del buf[: end.end()]
                self._lines = []
                self._line_start = self._scan = 0
        self._scan = len(buf)
        return events

    def finish(self) -> Event | None:
        """What is left at the end of the stream: an event that never got its blank line."""
        if not self._buf:
            return None
        lines = self._lines
        if self._line_start < len(self._buf):
            lines.append((bytes(self._buf[self._line_start :]), b""))
        return Event(bytes(self._buf), lines)


@dataclass(frozen=True, slots=True)
class ChunkShape:
    """Where the choices of one endpoint's stream chunks carry their text."""

    holder: str | None
    """The key of the object in each choice that holds the text fields and tool calls
    (chat: `delta`); None when they are fields of the choice itself."""
    fields: frozenset[str] | None
    """The text fields; None for every string field but `role`, so that text fields a
    model streams besides `content` (refusal, reasoning) are restored too."""

    def carries_text(self, key: str) -> bool:
        return key in self.fields if self.fields is not None else key != "role"


CHAT_CHUNKS = ChunkShape("delta", None)
"""`chat.completion.chunk`: `delta.content`, `.refusal`, reasoning text, `.tool_calls`."""
COMPLETION_CHUNKS = ChunkShape(None, frozenset({"text"}))
"""Legacy `text_completion` chunks: `choices[].text`."""


@dataclass(slots=True)
class _ChoiceStreams:
    """The text streams of one choice, and its latest chunk (to copy ids from)."""

    fields: dict[str, IncrementalRestorer] = field(default_factory=dict)
    tools: dict[int, IncrementalRestorer] = field(default_factory=dict)
    last_chunk: dict[str, Any] = field(default_factory=dict)
    sent: dict[str, list[str]] = field(default_factory=dict)
    """What went out of each text field, restored: the choice's whole texts once it ends."""

    def pending(self) -> bool:
        return any(s.held for s in self.fields.values()) or any(s.held for s in self.tools.values())


class EventStreamRestorer:
    """What every `flow.response.stream` callable restoring an event stream shares: reads cut
    anywhere become whole events, each replaced by what `_event` makes of it; at the end,
    held text goes out (`_flush_pending`), into an unterminated last event if there is one.
    """

    def __init__(self) -> None:
        self._reader = EventReader()
        self.finished = False
        """True once the stream's last event or its end has passed: the client has the whole answer."""

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        """Bytes to send on; `[]` when nothing is ready, never `b""` (it ends HTTP/1.1 bodies)."""
        out = self._read(data) if data else self._end()
        return out or []

    def _read(self, data: bytes) -> bytes:
        return b"".join([self._event(event) for event in self._reader.feed(data)])

    def _end(self) -> bytes:
        self.finished = True
        event = self._reader.finish()
        return self._flush_pending() if event is None else self._event(event, last=True)

    def _event(self, event: Event, *, last: bool = False) -> bytes:
        """The bytes that replace `event`; `last` marks an unterminated tail at the stream's end."""
        raise NotImplementedError

    def _flush_pending(self) -> bytes:
        """Every text still held back, as events to send now."""
        raise NotImplementedError

    def answer_texts(self) -> list[str]:
        """The restored texts the client got whole, as it will send them back as history."""
        raise NotImplementedError


class SseRestorer(EventStreamRestorer):
    """Restores a `text/event-stream` answer whose chunks have the given shape (chat
    completions by default); `finished` once `[DONE]` has passed.

    `tally` is filled in as the answer streams, so it is complete after the final call.
    """

    def __init__(self, vault: Vault, tally: RestoreTally, shape: ChunkShape = CHAT_CHUNKS) -> None:
        super().__init__()
        self._vault = vault
        self._tally = tally
        self._shape = shape
        self._tails = PlaceholderTails(vault)
        self._choices: dict[int, _ChoiceStreams] = {}
        self._newline = b"\n"

    def _event(self, event: Event, *, last: bool = False) -> bytes:
        """The bytes that replace `event`, after any held text that must go out before it.

        `last` marks the unterminated tail at the end of the stream: everything still
        held goes out with it (into it when it is a chunk of the same choice).
        """
        data = data_lines(event)
        if not data:
            return self._flush_pending() + event.raw if last else event.raw
        if event.lines[data[0][0]][1]:
            self._newline = event.lines[data[0][0]][1]
        payload = data[0][1] if len(data) == 1 else b"\n".join(value for _, value in data)
        if payload.strip() == _DONE:
            self.finished = True
            return self._flush_pending() + event.raw
        chunk = _chunk(payload)
        changed = chunk is not None and self._restore_chunk(chunk, flush=last)
        before = self._flush_pending() if last else b""
        if not changed:
            return before + event.raw
        return before + rewrite(event, [i for i, _ in data], chunk)

    def _restore_chunk(self, chunk: dict[str, Any], *, flush: bool) -> bool:
        changed = False
        for position, choice in enumerate(chunk["choices"]):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            streams = self._streams(index if isinstance(index, int) else position)
            streams.last_chunk = chunk
            texts = self._texts(choice)
            if texts is not None:
                changed |= self._restore_texts(texts, streams)
            if flush or choice.get("finish_reason") is not None:
                changed |= self._flush_into(choice, streams)
        return changed

    def _texts(self, choice: dict[str, Any], *, create: bool = False) -> dict[str, Any] | None:
        """The object of `choice` that holds its text fields; added empty if `create` and missing."""
        key = self._shape.holder
        if key is None:
            return choice
        texts = choice.get(key)
        if not isinstance(texts, dict) and create:
            texts = choice[key] = {}
        return texts if isinstance(texts, dict) else None

    def _restore_texts(self, texts: dict[str, Any], streams: _ChoiceStreams) -> bool:
        changed = False
        for key, value in list(texts.items()):
            if self._shape.carries_text(key) and isinstance(value, str):
                stream = streams.fields.get(key) or streams.fields.setdefault(key, self._stream())
                restored = stream.feed(value)
                streams.sent.setdefault(key, []).append(restored)
                if restored != value:
                    texts[key] = restored
                    changed = True
        calls = texts.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else ()):
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("arguments"), str):
                continue
            index = call.get("index")
            key = index if isinstance(index, int) else position
            stream = streams.tools.get(key) or streams.tools.setdefault(key, self._stream(json_string_escape))
            restored = stream.feed(function["arguments"])
            if restored != function["arguments"]:
                function["arguments"] = restored
                changed = True
        return changed

    def _flush_into(self, choice: dict[str, Any], streams: _ChoiceStreams) -> bool:
        """Append every held text of the choice to its text fields, adding those it lacks."""
        if not streams.pending():
            return False
        texts = self._texts(choice, create=True)
        assert texts is not None
        for key, stream in streams.fields.items():
            if held := stream.flush():
                streams.sent.setdefault(key, []).append(held)
                current = texts.get(key)
                texts[key] = (current if isinstance(current, str) else "") + held
        for index, stream in streams.tools.items():
            if held := stream.flush():
                function = _tool_function(texts, index)
                function["arguments"] += held
        return True

    def answer_texts(self) -> list[str]:
        return [
            text
            for streams in self._choices.values()
            for parts in streams.sent.values()
            if " " in (text := "".join(parts))
        ]

    def _flush_pending(self) -> bytes:
        """Held text of every choice as extra chunk events, copying ids from its last chunk."""
        events = []
        for index, streams in self._choices.items():
            if not streams.pending():
                continue
            choice: dict[str, Any] = {"index": index}
            self._flush_into(choice, streams)
            choice["finish_reason"] = None
            chunk = {key: streams.last_chunk[key] for key in _ENVELOPE if key in streams.last_chunk}
            chunk["choices"] = [choice]
            events.append(b"data: " + dumps(chunk) + self._newline + self._newline)
        return b"".join(events)

    def _streams(self, index: int) -> _ChoiceStreams:
        streams = self._choices.get(index)
        if streams is None:
            streams = self._choices[index] = _ChoiceStreams()
        return streams

    def _stream(self, escape: Callable[[str], str] | None = None) -> IncrementalRestorer:
        return IncrementalRestorer(self._vault, self._tally, self._tails, escape)


def data_lines(event: Event) -> list[tuple[int, bytes]]:
    """(line number, value) of each `data` field line of the event."""
    return [(i, value) for i, (content, _) in enumerate(event.lines) if (value := _data(content)) is not None]


def _data(content: bytes) -> bytes | None:
    """The value of a `data` field line (one leading space removed), None for other lines."""
    if content.startswith(b"data:"):
        value = content[5:]
        return value[1:] if value.startswith(b" ") else value
    return b"" if content == b"data" else None


def _chunk(payload: bytes) -> dict[str, Any] | None:
    """The payload as a chunk with a `choices` list; None for anything else (passed through)."""
    try:
        chunk = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return chunk if isinstance(chunk, dict) and isinstance(chunk.get("choices"), list) else None


def dumps(chunk: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; escaped ASCII when the chunk holds a lone surrogate (`"\\ud83d"`)."""
    try:
        return json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(chunk, separators=(",", ":")).encode()


def rewrite(event: Event, data_at: list[int], chunk: dict[str, Any]) -> bytes:
    """The event with its data lines (numbers `data_at`) replaced by one line holding `chunk`;
    other lines kept."""
    first = data_at[0]
    prefix = b"data: " if event.lines[first][0].startswith(b"data: ") else b"data:"
    dropped = set(data_at[1:])
    parts = []
    for i, (content, ending) in enumerate(event.lines):
        if i == first:
            parts.append(prefix + dumps(chunk) + ending)
        elif i not in dropped:
            parts.append(content + ending)
    return b"".join(parts)


def _tool_function(delta: dict[str, Any], index: int) -> dict[str, Any]:
    """The `function` of tool call `index` in `delta`, added with empty arguments if missing."""
    calls = delta.get("tool_calls")
    if not isinstance(calls, list):
        calls = delta["tool_calls"] = []
    call = next((c for c in calls if isinstance(c, dict) and c.get("index") == index), None)
    if call is None:
        call = {"index": index}
        calls.append(call)
    function = call.get("function")
    if not isinstance(function, dict):
        function = call["function"] = {}
    if not isinstance(function.get("arguments"), str):
        function["arguments"] = ""
    return function
