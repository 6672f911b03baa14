"""Restore a streamed (SSE) chat-completion answer while it streams.

mitmproxy calls `SseRestorer` with every network read, cut anywhere: inside a line,
inside a UTF-8 character, between `\\r` and `\\n`. Events are reassembled and sent on
as soon as they are complete. Each choice's text fields and each tool call's
arguments are restored as separate streams; a placeholder the model splits across
deltas is held back only as long as it could still become one of ours, and goes out
at the latest with its choice's `finish_reason`, before `[DONE]`, or at the end.
Placeholders of redacted values are held the same way, then go out as written.

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
class _Event:
    """One SSE event as it arrived: its exact bytes and its lines (content, line ending)."""

    raw: bytes
    lines: list[tuple[bytes, bytes]]


class _EventReader:
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

    def feed(self, data: bytes) -> list[_Event]:
        """The events this read completes (a late `\\n` of `\\r\\n` comes as a line-less event)."""
        events: list[_Event] = []
        self._buf += data
        if self._cr_pending and self._buf[self._line_start] == 0x0A:
            if self._lines:
                content, _ = self._lines[-1]
                self._lines[-1] = (content, b"\r\n")
                self._line_start = self._scan = self._line_start + 1
            else:
                events.append(_Event(b"\n", []))
                del self._buf[:1]
        self._cr_pending = False
        buf = self._buf
        while (end := _LINE_END.search(buf, self._scan)) is not None:
            content = bytes(buf[self._line_start : end.start()])
            self._lines.append((content, end.group()))
            self._line_start = self._scan = end.end()
            self._cr_pending = end.end() == len(buf) and end.group() == b"\r"
            if not content:
                events.append(_Event(bytes(buf[: end.end()]), self._lines))
                del buf[: end.end()]
                self._lines = []
                self._line_start = self._scan = 0
        self._scan = len(buf)
        return events

    def finish(self) -> _Event | None:
        """What is left at the end of the stream: an event that never got its blank line."""
        if not self._buf:
            return None
        lines = self._lines
        if self._line_start < len(self._buf):
            lines.append((bytes(self._buf[self._line_start :]), b""))
        return _Event(bytes(self._buf), lines)


@dataclass(slots=True)
class _ChoiceStreams:
    """The text streams of one choice, and its latest chunk (to copy ids from)."""

    fields: dict[str, IncrementalRestorer] = field(default_factory=dict)
    tools: dict[int, IncrementalRestorer] = field(default_factory=dict)
    last_chunk: dict[str, Any] = field(default_factory=dict)

    def pending(self) -> bool:
        return any(s.held for s in self.fields.values()) or any(s.held for s in self.tools.values())


class SseRestorer:
    """A `flow.response.stream` callable restoring a `text/event-stream` chat completion.

    `tally` is filled in as the answer streams, so it is complete after the final call.
    """

    def __init__(self, vault: Vault, tally: RestoreTally) -> None:
        self._vault = vault
        self._tally = tally
        self._tails = PlaceholderTails(vault)
        self._reader = _EventReader()
        self._choices: dict[int, _ChoiceStreams] = {}
        self._newline = b"\n"

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        """Bytes to send on; `[]` when nothing is ready, never `b""` (it ends HTTP/1.1 bodies)."""
        out = self._read(data) if data else self._end()
        return out or []

    def _read(self, data: bytes) -> bytes:
        return b"".join([self._event(event) for event in self._reader.feed(data)])

    def _end(self) -> bytes:
        event = self._reader.finish()
        if event is None:
            return self._flush_pending()
        return self._event(event, last=True)

    def _event(self, event: _Event, *, last: bool = False) -> bytes:
        """The bytes that replace `event`, after any held text that must go out before it.

        `last` marks the unterminated tail at the end of the stream: everything still
        held goes out with it (into it when it is a chunk of the same choice).
        """
        data = _data_lines(event)
        if not data:
            return self._flush_pending() + event.raw if last else event.raw
        if event.lines[data[0][0]][1]:
            self._newline = event.lines[data[0][0]][1]
        payload = data[0][1] if len(data) == 1 else b"\n".join(value for _, value in data)
        if payload.strip() == _DONE:
            return self._flush_pending() + event.raw
        chunk = _chunk(payload)
        changed = chunk is not None and self._restore_chunk(chunk, flush=last)
        before = self._flush_pending() if last else b""
        if not changed:
            return before + event.raw
        return before + _rewrite(event, [i for i, _ in data], chunk)

    def _restore_chunk(self, chunk: dict[str, Any], *, flush: bool) -> bool:
        changed = False
        for position, choice in enumerate(chunk["choices"]):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            streams = self._streams(index if isinstance(index, int) else position)
            streams.last_chunk = chunk
            delta = choice.get("delta")
            if isinstance(delta, dict):
                changed |= self._restore_delta(delta, streams)
            if flush or choice.get("finish_reason") is not None:
                changed |= self._flush_into(choice, streams)
        return changed

    def _restore_delta(self, delta: dict[str, Any], streams: _ChoiceStreams) -> bool:
        changed = False
        for key, value in list(delta.items()):
            if key != "role" and isinstance(value, str):
                stream = streams.fields.get(key) or streams.fields.setdefault(key, self._stream())
                restored = stream.feed(value)
                if restored != value:
                    delta[key] = restored
                    changed = True
        calls = delta.get("tool_calls")
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
        """Append every held text of the choice to its delta, adding fields it lacks."""
        if not streams.pending():
            return False
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice["delta"] = {}
        for key, stream in streams.fields.items():
            if held := stream.flush():
                current = delta.get(key)
                delta[key] = (current if isinstance(current, str) else "") + held
        for index, stream in streams.tools.items():
            if held := stream.flush():
                function = _tool_function(delta, index)
                function["arguments"] += held
        return True

    def _flush_pending(self) -> bytes:
        """Held text of every choice as extra chunk events, copying ids from its last chunk."""
        events = []
        for index, streams in self._choices.items():
            if not streams.pending():
                continue
            choice: dict[str, Any] = {"index": index, "delta": {}, "finish_reason": None}
            self._flush_into(choice, streams)
            chunk = {key: streams.last_chunk[key] for key in _ENVELOPE if key in streams.last_chunk}
            chunk["choices"] = [choice]
            events.append(b"data: " + _dumps(chunk) + self._newline + self._newline)
        return b"".join(events)

    def _streams(self, index: int) -> _ChoiceStreams:
        streams = self._choices.get(index)
        if streams is None:
            streams = self._choices[index] = _ChoiceStreams()
        return streams

    def _stream(self, escape: Callable[[str], str] | None = None) -> IncrementalRestorer:
        return IncrementalRestorer(self._vault, self._tally, self._tails, escape)


def _data_lines(event: _Event) -> list[tuple[int, bytes]]:
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


def _dumps(chunk: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; escaped ASCII when the chunk holds a lone surrogate (`"\\ud83d"`)."""
    try:
        return json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(chunk, separators=(",", ":")).encode()


def _rewrite(event: _Event, data_lines: list[int], chunk: dict[str, Any]) -> bytes:
    """The event with its data lines replaced by one line holding `chunk`; other lines kept."""
    first = data_lines[0]
    prefix = b"data: " if event.lines[first][0].startswith(b"data: ") else b"data:"
    dropped = set(data_lines[1:])
    parts = []
    for i, (content, ending) in enumerate(event.lines):
        if i == first:
            parts.append(prefix + _dumps(chunk) + ending)
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
