"""A local stand-in for api.openai.com whose "model" echoes the last user message.

The e2e tests need an upstream that behaves like the real API on the wire and that records the
exact bytes it received, so a test can prove that nothing detected left the proxy and that the
client got back exactly what it sent. What matters on the wire, and is therefore imitated here:

* JSON answers carry ``Content-Length`` and are gzip-compressed when the request accepts gzip,
  as the real API does; SSE answers use chunked transfer encoding and are compressed the same way.
* Streamed content arrives in deltas of 1-6 characters, and network writes cut events anywhere,
  mid-line and mid-character included, with a flush and a short pause after each write so the
  proxy really reads them separately. All cuts come from a seeded RNG, so a failure reproduces.
* Keep-alive HTTP/1.1, so the proxy's upstream connection is reused as with the real API.

Two switches let a test go beyond the ordinary: ``hold_stream`` pauses the next streamed answer
after its first writes until the test releases it, and ``always_gzip`` compresses generated
answers even when the request asked for ``identity`` (whether the real API ever does is unknown
offline, so the proxy must cope).

Standard library only: the server runs in a background thread of the test process.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import random
import re
import string
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

log = logging.getLogger(__name__)

JsonBody = Mapping[str, Any] | Sequence[Any]
Headers = tuple[tuple[str, str], ...]

MODEL_IDS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "text-embedding-3-small")
DEFAULT_EMBEDDING_DIMENSIONS = 8
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
HOLD_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it, with the answer it sent back.

    ``body`` holds the raw request bytes (after de-chunking). ``response_body`` holds the answer
    before the fake's own gzip compression (scripted answers: exactly as given), so tests compare
    it with what a decoding client sees.
    """

    method: str
    path: str
    headers: Headers
    body: bytes
    status: int
    response_headers: Headers
    response_body: bytes

    def header(self, name: str) -> str | None:
        """First request header called ``name`` (case-insensitive), or None."""
        return _find_header(self.headers, name)

    def json(self) -> Any:
        """The request body parsed as JSON (raises on malformed bodies, which tests may send)."""
        return json.loads(self.body)


@dataclass(frozen=True)
class _Answer:
    """What the handler sends: the body as separate network writes, and uncompressed for the record."""

    status: int
    headers: Headers
    writes: tuple[bytes, ...]
    chunked: bool
    identity: bytes


def openai_error(
    message: str, type_: str = "invalid_request_error", *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """An error body in the shape the real API (and the SDK's error parsing) uses."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def last_user_text(messages: Any) -> str:
    """The text of the last user message: what the fake model echoes.

    String content is taken as is; a list of parts contributes its ``text`` parts joined by newlines.
    """
    messages = messages if isinstance(messages, list) else []
    return _last_user_content(messages, "text", is_message=lambda _: True)


def split_text(text: str, rng: random.Random) -> list[str]:
    """Cut ``text`` into deltas of 1-6 characters, like a model's token stream."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        size = rng.randint(1, 6)
        pieces.append(text[start : start + size])
        start += size
    return pieces


def split_writes(events: Sequence[bytes], rng: random.Random) -> list[bytes]:
    """Group SSE events into network writes that may cut an event anywhere or join several.

    Every write is non-empty and the writes concatenate to exactly the events.
    """
    writes: list[bytes] = []
    pending = b""
    for event in events:
        if len(event) > 1 and rng.random() < 0.5:
            cut = rng.randrange(1, len(event))
            writes.append(pending + event[:cut])
            pending = event[cut:]
        else:
            pending += event
        if rng.random() < 0.7:
            writes.append(pending)
            pending = b""
    if pending:
        writes.append(pending)
    return writes


def _find_header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _accepts_gzip(headers: Headers) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (a ``q=0`` entry refuses it)."""
    for item in (_find_header(headers, "accept-encoding") or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _random_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    return prefix + "".join(rng.choices(string.ascii_letters + string.digits, k=length))


def _dump_compact(obj: Any) -> bytes:
    """JSON as the real API streams it: no spaces, UTF-8 rather than escapes."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _dump_pretty(obj: Any) -> bytes:
    """JSON as the real API answers non-streamed calls: indented, UTF-8 rather than escapes."""
    return json.dumps(obj, indent=2, ensure_ascii=False).encode()


def _token_estimate(text: str) -> int:
    return max(1, len(text) // 4)


def _usage(prompt: str, completions: Sequence[str]) -> dict[str, Any]:
    prompt_tokens = _token_estimate(prompt)
    completion_tokens = sum(_token_estimate(text) for text in completions)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _first_tool_name(request: Mapping[str, Any]) -> str | None:
    """Name of the first tool when the request offers tools, else None (the model answers in text)."""
    tools = request.get("tools")
    if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
        return None
    function = tools[0].get("function")
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) else "tool"


def _choice_count(request: Mapping[str, Any]) -> int:
    n = request.get("n")
    return n if isinstance(n, int) and n >= 1 else 1


class _Completion:
    """The fields shared by one chat completion's JSON answer and its stream chunks."""

    def __init__(self, request: Mapping[str, Any], rng: random.Random) -> None:
        self.rng = rng
        self.id = _random_id(rng, "chatcmpl-", 29)
        self.created = int(time.time())
        model = request.get("model")
        self.model = model if isinstance(model, str) else "gpt-4o-mini"
        self.fingerprint = _random_id(rng, "fp_", 10).lower()
        self.text = last_user_text(request.get("messages"))
        self.tool_name = _first_tool_name(request)
        self.arguments = json.dumps({"echo": self.text})
        self.n = _choice_count(request)
        self.prompt = json.dumps(request.get("messages"), ensure_ascii=False)

    def envelope(self, kind: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": kind,
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
        }

    def output(self) -> str:
        """What each choice produces: the text, or the tool-call arguments."""
        return self.text if self.tool_name is None else self.arguments

    def usage(self) -> dict[str, Any]:
        return _usage(self.prompt, [self.output()] * self.n)

    def message(self) -> dict[str, Any]:
        if self.tool_name is None:
            return {"role": "assistant", "content": self.text, "refusal": None, "annotations": []}
        call = {
            "id": _random_id(self.rng, "call_"),
            "type": "function",
            "function": {"name": self.tool_name, "arguments": self.arguments},
        }
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [call],
            "refusal": None,
            "annotations": [],
        }

    def finish_reason(self) -> str:
        return "stop" if self.tool_name is None else "tool_calls"


def chat_completion(request: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` answer echoing the last user message in every choice."""
    completion = _Completion(request, rng)
    choices = [
        {
            "index": index,
            "message": completion.message(),
            "logprobs": None,
            "finish_reason": completion.finish_reason(),
        }
        for index in range(completion.n)
    ]
    return {**completion.envelope("chat.completion"), "choices": choices, "usage": completion.usage()}


def _choice_deltas(completion: _Completion) -> list[dict[str, Any]]:
    """The deltas of one streamed choice: role first, then content or tool-call argument pieces."""
    if completion.tool_name is None:
        first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        return [first, *({"content": piece} for piece in split_text(completion.text, completion.rng))]
    start = {
        "index": 0,
        "id": _random_id(completion.rng, "call_"),
        "type": "function",
        "function": {"name": completion.tool_name, "arguments": ""},
    }
    first = {"role": "assistant", "content": None, "tool_calls": [start], "refusal": None}
    pieces = split_text(completion.arguments, completion.rng)
    return [first, *({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in pieces)]


def chat_completion_events(request: Mapping[str, Any], rng: random.Random) -> list[bytes]:
    """The SSE events of a streamed answer, ``data: [DONE]`` included.

    With ``n > 1`` the choices' chunks interleave, as they do on the real API. A usage chunk with
    empty ``choices`` comes last when ``stream_options.include_usage`` is set; every other chunk
    then carries ``"usage": null``.
    """
    completion = _Completion(request, rng)
    options = request.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        body = {**completion.envelope("chat.completion.chunk"), "choices": choices}
        if include_usage:
            body["usage"] = usage
        return b"data: " + _dump_compact(body) + b"\n\n"

    per_choice = [_choice_deltas(completion) for _ in range(completion.n)]
    events = [
        chunk([{"index": index, "delta": deltas[step], "logprobs": None, "finish_reason": None}])
        for step in range(max(len(deltas) for deltas in per_choice))
        for index, deltas in enumerate(per_choice)
        if step < len(deltas)
    ]
    events += [
        chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": completion.finish_reason()}])
        for index in range(completion.n)
    ]
    if include_usage:
        events.append(chunk([], completion.usage()))
    events.append(b"data: [DONE]\n\n")
    return events


def _embedding_vector(item: Any, dimensions: int) -> list[float]:
    """A deterministic unit-range vector derived from the input, so equal inputs embed equally."""
    digest = hashlib.sha256(json.dumps(item, ensure_ascii=False).encode()).digest()
    return [round(digest[i % len(digest)] / 127.5 - 1.0, 6) for i in range(dimensions)]


def embeddings(request: Mapping[str, Any]) -> dict[str, Any]:
    """An embeddings answer; honours ``encoding_format: base64``, which the SDK asks for by default."""
    raw_input = request.get("input")
    items = (
        raw_input
        if isinstance(raw_input, list) and raw_input and not isinstance(raw_input[0], int)
        else [raw_input]
    )
    dimensions = request.get("dimensions")
    dimensions = (
        dimensions if isinstance(dimensions, int) and dimensions > 0 else DEFAULT_EMBEDDING_DIMENSIONS
    )
    data = []
    for index, item in enumerate(items):
        vector = _embedding_vector(item, dimensions)
        encoded: list[float] | str = vector
        if request.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    model = request.get("model")
    tokens = _token_estimate(json.dumps(raw_input, ensure_ascii=False))
    return {
        "object": "list",
        "data": data,
        "model": model if isinstance(model, str) else "text-embedding-3-small",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _prompts(request: Mapping[str, Any]) -> list[str]:
    """The texts a legacy completion request asks to continue (a string or a list of them)."""
    prompt = request.get("prompt")
    items = prompt if isinstance(prompt, list) else [prompt]
    return [item if isinstance(item, str) else "" for item in items]


class _TextCompletion:
    """The fields shared by a legacy completion's JSON answer and its stream chunks.

    The model echoes each prompt, ``n`` times: choice ``i * n + j`` belongs to prompt ``i``,
    as on the real API.
    """

    def __init__(self, request: Mapping[str, Any], rng: random.Random) -> None:
        n = _choice_count(request)
        self.texts = [text for text in _prompts(request) for _ in range(n)]
        model = request.get("model")
        self.envelope = {
            "id": _random_id(rng, "cmpl-", 29),
            "object": "text_completion",
            "created": int(time.time()),
            "model": model if isinstance(model, str) else "gpt-3.5-turbo-instruct",
        }

    def usage(self) -> dict[str, Any]:
        return _usage("".join(self.texts), self.texts)


def text_completion(request: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A non-streamed ``text_completion`` answer echoing every prompt."""
    completion = _TextCompletion(request, rng)
    choices = [
        {"text": text, "index": index, "logprobs": None, "finish_reason": "stop"}
        for index, text in enumerate(completion.texts)
    ]
    return {**completion.envelope, "choices": choices, "usage": completion.usage()}


def text_completion_events(request: Mapping[str, Any], rng: random.Random) -> list[bytes]:
    """The SSE events of a streamed legacy completion: text pieces of the choices interleaved,
    a finish chunk per choice, a usage chunk if asked for, ``data: [DONE]``."""
    completion = _TextCompletion(request, rng)
    options = request.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        body = {**completion.envelope, "choices": choices}
        if include_usage:
            body["usage"] = usage
        return b"data: " + _dump_compact(body) + b"\n\n"

    def choice(index: int, text: str, finish_reason: str | None = None) -> dict[str, Any]:
        return {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}

    pieces = [split_text(text, rng) for text in completion.texts]
    events = [
        chunk([choice(index, texts[step])])
        for step in range(max(map(len, pieces), default=0))
        for index, texts in enumerate(pieces)
        if step < len(texts)
    ]
    events += [chunk([choice(index, "", "stop")]) for index in range(len(pieces))]
    if include_usage:
        events.append(chunk([], completion.usage()))
    events.append(b"data: [DONE]\n\n")
    return events


def _text_completion_answer(body: bytes, rng: random.Random, gzipped: bool) -> _Answer:
    try:
        request = json.loads(body)
    except ValueError:
        request = None
    if not isinstance(request, dict) or not isinstance(request.get("prompt"), str | list):
        error = openai_error(
            "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
        )
        return _json_answer(400, error, rng, gzipped)
    if request.get("stream") is True:
        return _sse_answer(text_completion_events(request, rng), rng, gzipped)
    return _json_answer(200, text_completion(request, rng), rng, gzipped)


_AZURE_DEPLOYMENT = re.compile(r"^/openai/deployments/[^/]+(?=/)")
"""Azure OpenAI serves the same endpoints under ``/openai/deployments/NAME``."""


def last_user_input(items: Any) -> str:
    """The text of the last user message of a Responses ``input``: what the fake model echoes.

    A string input is that message; a list of parts contributes its ``input_text`` parts joined
    by newlines. Other items (function call outputs, assistant history) are not echoed.
    """
    if isinstance(items, str):
        return items
    return _last_user_content(
        items if isinstance(items, list) else [],
        "input_text",
        is_message=lambda item: item.get("type", "message") == "message",
    )


def _last_user_content(items: list[Any], part_type: str, *, is_message: Callable[[dict], bool]) -> str:
    """The content of the last user message among `items`, its `part_type` parts joined by newlines."""
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user" and is_message(item):
            content = item.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(
                    part["text"]
                    for part in content
                    if isinstance(part, dict)
                    and part.get("type") == part_type
                    and isinstance(part.get("text"), str)
                )
            return ""
    return ""


def _first_function_tool(request: Mapping[str, Any]) -> str | None:
    """Name of the first function tool of a Responses request (tools are flat there), else None."""
    tools = request.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict) and tool.get("type") == "function":
            return tool["name"] if isinstance(tool.get("name"), str) else "tool"
    return None


def _responses_usage(request: Mapping[str, Any], output: str) -> dict[str, Any]:
    input_tokens = _token_estimate(json.dumps(request.get("input"), ensure_ascii=False))
    output_tokens = _token_estimate(output)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


class _ModelResponse:
    """The fields shared by one Responses answer's JSON object and its stream events.

    The model echoes the last user message as one ``output_text``, or, when the request offers a
    function tool, calls it with ``{"echo": text}`` as arguments.
    """

    def __init__(self, request: Mapping[str, Any], rng: random.Random) -> None:
        self.request = request
        self.id = _random_id(rng, "resp_", 48)
        self.created_at = int(time.time())
        model = request.get("model")
        self.model = model if isinstance(model, str) else "gpt-4o-mini"
        self.text = last_user_input(request.get("input"))
        self.tool_name = _first_function_tool(request)
        self.arguments = json.dumps({"echo": self.text})
        self.item_id = _random_id(rng, "msg_" if self.tool_name is None else "fc_", 48)
        self.call_id = _random_id(rng, "call_")

    def output(self) -> str:
        """What the model produces: the text, or the function call's arguments."""
        return self.text if self.tool_name is None else self.arguments

    def part(self, done: bool) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": self.text if done else ""}

    def item(self, done: bool) -> dict[str, Any]:
        """The output item: empty while it streams, whole once done."""
        status = "completed" if done else "in_progress"
        if self.tool_name is None:
            content = [self.part(True)] if done else []
            message = {"type": "message", "status": status, "role": "assistant", "content": content}
            return {"id": self.item_id, **message}
        return {
            "id": self.item_id,
            "type": "function_call",
            "status": status,
            "arguments": self.arguments if done else "",
            "call_id": self.call_id,
            "name": self.tool_name,
        }

    def response(self, done: bool) -> dict[str, Any]:
        """The ``response`` object, echoing the request's settings as the real API does."""
        request = self.request
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": "completed" if done else "in_progress",
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": request.get("instructions"),
            "max_output_tokens": request.get("max_output_tokens"),
            "model": self.model,
            "output": [self.item(True)] if done else [],
            "parallel_tool_calls": True,
            "previous_response_id": request.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "store": request.get("store", True),
            "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": request.get("tools") or [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": _responses_usage(request, self.output()) if done else None,
            "user": request.get("user"),
            "metadata": request.get("metadata") or {},
        }


def model_response(request: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A non-streamed ``response`` object echoing the last user message (or calling a tool)."""
    return _ModelResponse(request, rng).response(done=True)


def model_response_events(request: Mapping[str, Any], rng: random.Random) -> list[bytes]:
    """The typed SSE events of a streamed Responses answer, numbered by ``sequence_number``.

    Created and in progress, the item added, its text or arguments in deltas of 1-6 characters
    then whole in the ``.done`` event, the part and item done, and ``response.completed``.
    """
    answer = _ModelResponse(request, rng)
    where = {"item_id": answer.item_id, "output_index": 0}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": answer.response(done=False)}),
        ("response.in_progress", {"response": answer.response(done=False)}),
        ("response.output_item.added", {"output_index": 0, "item": answer.item(done=False)}),
    ]
    if answer.tool_name is None:
        text = {**where, "content_index": 0}
        steps.append(("response.content_part.added", {**text, "part": answer.part(done=False)}))
        steps += [
            ("response.output_text.delta", {**text, "delta": piece, "logprobs": []})
            for piece in split_text(answer.text, rng)
        ]
        steps.append(("response.output_text.done", {**text, "text": answer.text, "logprobs": []}))
        steps.append(("response.content_part.done", {**text, "part": answer.part(done=True)}))
    else:
        steps += [
            ("response.function_call_arguments.delta", {**where, "delta": piece})
            for piece in split_text(answer.arguments, rng)
        ]
        steps.append(("response.function_call_arguments.done", {**where, "arguments": answer.arguments}))
    steps.append(("response.output_item.done", {"output_index": 0, "item": answer.item(done=True)}))
    steps.append(("response.completed", {"response": answer.response(done=True)}))
    return [
        f"event: {kind}\n".encode()
        + b"data: "
        + _dump_compact({"type": kind, "sequence_number": number, **fields})
        + b"\n\n"
        for number, (kind, fields) in enumerate(steps)
    ]


def compacted_response(request: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A ``response.compaction``: the user messages of the input as sent, then an opaque item."""
    items = request.get("input")
    items = [{"role": "user", "content": items}] if isinstance(items, str) else items
    messages = []
    for item in items if isinstance(items, list) else ():
        if not (isinstance(item, dict) and item.get("role") == "user"):
            continue
        content = item.get("content")
        parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
        message = {"type": "message", "status": "completed", "role": "user", "content": parts}
        messages.append({"id": _random_id(rng, "msg_", 48), **message})
    compaction = {
        "id": _random_id(rng, "cmp_", 48),
        "type": "compaction",
        "encrypted_content": base64.b64encode(rng.randbytes(48)).decode(),
    }
    return {
        "id": _random_id(rng, "resp_", 48),
        "object": "response.compaction",
        "created_at": int(time.time()),
        "output": [*messages, compaction],
        "usage": _responses_usage(request, ""),
    }


def _responses_answer(route: str, body: bytes, rng: random.Random, gzipped: bool) -> _Answer:
    """``POST /v1/responses`` (JSON or streamed), ``/input_tokens`` and ``/compact``."""
    try:
        request = json.loads(body)
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return _json_answer(400, openai_error("The request body must be a JSON object."), rng, gzipped)
    if route == "/v1/responses/input_tokens":
        tokens = _token_estimate(json.dumps(request.get("input"), ensure_ascii=False))
        return _json_answer(200, {"object": "response.input_tokens", "input_tokens": tokens}, rng, gzipped)
    if route == "/v1/responses/compact":
        return _json_answer(200, compacted_response(request, rng), rng, gzipped)
    if route != "/v1/responses":
        return _json_answer(404, openai_error(f"Invalid URL (POST {route})"), rng, gzipped)
    if request.get("stream") is True:
        return _sse_answer(model_response_events(request, rng), rng, gzipped)
    return _json_answer(200, model_response(request, rng), rng, gzipped)


def models_list() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": model, "object": "model", "created": 1715367049, "owned_by": "system"}
            for model in MODEL_IDS
        ],
    }


def _api_headers(rng: random.Random, content_type: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", content_type),
        ("openai-version", "2020-10-01"),
        ("openai-processing-ms", str(rng.randint(80, 900))),
        ("x-request-id", _random_id(rng, "req_", 32).lower()),
    ]


def _json_answer(status: int, body: Any, rng: random.Random, gzipped: bool) -> _Answer:
    identity = data = _dump_pretty(body)
    headers = _api_headers(rng, "application/json")
    if gzipped:
        data = gzip.compress(data, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    return _Answer(status, tuple(headers), (data,), chunked=False, identity=identity)


def _sse_answer(events: Sequence[bytes], rng: random.Random, gzipped: bool) -> _Answer:
    writes = split_writes(events, rng)
    identity = b"".join(writes)
    headers = _api_headers(rng, "text/event-stream; charset=utf-8")
    headers.append(("Cache-Control", "no-cache, must-revalidate"))
    if gzipped:
        compressor = zlib.compressobj(wbits=31)
        writes = [compressor.compress(write) + compressor.flush(zlib.Z_SYNC_FLUSH) for write in writes]
        writes.append(compressor.flush())
        headers.append(("Content-Encoding", "gzip"))
    return _Answer(200, tuple(headers), tuple(writes), chunked=True, identity=identity)


def _generated_answer(
    method: str, path: str, headers: Headers, body: bytes, rng: random.Random, *, always_gzip: bool
) -> _Answer:
    """The fake API's own answer for one request (compressed if accepted, or always if so switched)."""
    route = path.split("?", 1)[0]
    gzipped = always_gzip or _accepts_gzip(headers)
    route = _AZURE_DEPLOYMENT.sub("/v1", route)
    if (method, route) == ("POST", "/v1/completions"):
        return _text_completion_answer(body, rng, gzipped)
    if method == "POST" and route.startswith("/v1/responses"):
        return _responses_answer(route, body, rng, gzipped)
    if (method, route) == ("GET", "/v1/models"):
        return _json_answer(200, models_list(), rng, gzipped)
    if (method, route) not in (("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings")):
        return _json_answer(404, openai_error(f"Invalid URL ({method} {route})"), rng, gzipped)
    try:
        request = json.loads(body)
    except ValueError:
        message = (
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't"
            " using your HTTP library correctly.)"
        )
        return _json_answer(400, openai_error(message), rng, gzipped)
    if not isinstance(request, dict):
        return _json_answer(400, openai_error("The request body must be a JSON object."), rng, gzipped)
    if route == "/v1/embeddings":
        return _json_answer(200, embeddings(request), rng, gzipped)
    if not isinstance(request.get("messages"), list):
        error = openai_error(
            "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
        return _json_answer(400, error, rng, gzipped)
    if request.get("stream") is True:
        return _sse_answer(chat_completion_events(request, rng), rng, gzipped)
    return _json_answer(200, chat_completion(request, rng), rng, gzipped)


class StreamHold:
    """A pause in the next streamed answer after its first ``after_writes`` writes.

    It lets a test look at what a client has received while the upstream is provably in the
    middle of a stream: an ordering fact, not a timing guess. The server waits at most
    ``timeout`` seconds, so a test that fails before releasing cannot hang the session; leaving
    the ``with`` block releases it too. An answer with fewer writes is never paused.
    """

    def __init__(self, after_writes: int, timeout: float) -> None:
        if after_writes < 1:
            raise ValueError("pause after at least one write, or the client receives nothing first")
        self.after_writes = after_writes
        self.timeout = timeout
        self.sent = b""
        """The body written before the pause, decompressed if the answer is gzipped."""
        self.timed_out = False
        """True when the server gave up waiting: the test never released the stream in time."""
        self._reached = threading.Event()
        self._released = threading.Event()
        self._resumed = threading.Event()
        self._finished = threading.Event()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    @property
    def resumed(self) -> bool:
        """Whether the server has gone on past the pause (released, or tired of waiting).

        False until then, also before the pause: the client may see the first writes an instant
        before the server notes that it paused, so "not resumed" is the fact a test can rely on.
        """
        return self._resumed.is_set()

    def wait_reached(self, timeout: float = HOLD_TIMEOUT_S) -> bool:
        """Wait until the server has written its first writes and paused."""
        return self._reached.wait(timeout)

    def release(self) -> None:
        """Let the server send the rest of the answer."""
        self._released.set()

    def wait_finished(self, timeout: float = HOLD_TIMEOUT_S) -> bool:
        """Wait until the server is done with the answer: all of it sent, or the peer gone."""
        return self._finished.wait(timeout)

    def _pause(self, sent: bytes) -> None:
        self.sent = sent
        self._reached.set()
        self.timed_out = not self._released.wait(self.timeout)
        self._resumed.set()

    def _finish(self) -> None:
        self._finished.set()


def _plain_prefix(answer: _Answer, writes: int) -> bytes:
    """The uncompressed body of the first ``writes`` writes (each gzip write ends with a sync flush)."""
    data = b"".join(answer.writes[:writes])
    if _find_header(answer.headers, "content-encoding") == "gzip":
        return zlib.decompressobj(wbits=31).decompress(data)
    return data


class _QuietServer(ThreadingHTTPServer):
    """Clients that close a kept-alive connection are normal here, not errors to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAI:
    """The fake API server: start it, point the proxy at ``url``, read ``requests`` afterwards.

    ``seed`` fixes every random choice (ids, delta sizes, write cuts); request number ``i`` since
    the last ``clear()`` uses its own RNG, so a test's streams do not depend on earlier tests.
    ``write_delay`` is the pause after each streamed write, in seconds. ``always_gzip`` compresses
    every generated answer whatever the request accepts; ``clear()`` turns it off again, like it
    drops scripted answers, so one test's switch cannot leak into the next.
    """

    def __init__(self, *, seed: int = 0, write_delay: float = 0.001) -> None:
        self.seed = seed
        self.write_delay = write_delay
        self.always_gzip = False
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._scripted: deque[_Answer] = deque()
        self._holds: deque[StreamHold] = deque()
        self._received = 0
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Bind a free loopback port, serve in a daemon thread, and return the port."""
        if self._server is not None:
            raise RuntimeError("fake OpenAI server already started")
        server = _QuietServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving; open keep-alive connections die with their daemon threads."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake OpenAI server not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL for the redirect option, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last ``clear()``, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str = "POST") -> list[RecordedRequest]:
        """The recorded requests for one method and path (query string ignored)."""
        return [r for r in self.requests if r.method == method and r.path.split("?", 1)[0] == path]

    def clear(self) -> None:
        """Forget recorded requests, unused scripted responses and holds, and ``always_gzip``.

        Request numbering restarts. Unused holds are released, so none can pause a later test.
        """
        with self._lock:
            self._requests.clear()
            self._scripted.clear()
            holds, self._holds = self._holds, deque()
            self._received = 0
            self.always_gzip = False
        for hold in holds:
            hold.release()

    def hold_stream(self, after_writes: int, *, timeout: float = HOLD_TIMEOUT_S) -> StreamHold:
        """Pause the next streamed (chunked) answer after ``after_writes`` writes; see ``StreamHold``.

        Holds apply to streamed answers in the order they were asked for; JSON answers pass by.
        """
        hold = StreamHold(after_writes, timeout)
        with self._lock:
            self._holds.append(hold)
        return hold

    def next_response(
        self,
        status: int = 200,
        body: bytes | str | JsonBody = b"",
        *,
        headers: Mapping[str, str] | None = None,
        chunks: Sequence[bytes] | None = None,
    ) -> None:
        """Queue the answer to the next request, whatever its path (first queued, first used).

        ``body`` is sent with ``Content-Length``; a mapping or list is sent as JSON with a JSON
        content type unless ``headers`` name another. With ``chunks`` the answer is sent with
        chunked transfer encoding, one write and flush per chunk, and ``body`` must be empty.
        The server sets the framing headers itself; everything else is sent as given.
        """
        header_items = list((headers or {}).items())
        if any(name.lower() in _FRAMING_HEADERS for name, _ in header_items):
            raise ValueError("Content-Length and Transfer-Encoding are set by the fake server")
        if chunks is not None:
            if body:
                raise ValueError("give either body or chunks")
            if not all(chunks):
                raise ValueError("an empty chunk would end the chunked body early")
            answer = _Answer(
                status, tuple(header_items), tuple(chunks), chunked=True, identity=b"".join(chunks)
            )
        else:
            if isinstance(body, str):
                data = body.encode()
            elif isinstance(body, bytes):
                data = body
            else:
                data = _dump_pretty(body)
                if _find_header(tuple(header_items), "content-type") is None:
                    header_items.append(("Content-Type", "application/json"))
            answer = _Answer(status, tuple(header_items), (data,), chunked=False, identity=data)
        with self._lock:
            self._scripted.append(answer)

    def _respond(
        self, method: str, path: str, headers: Headers, body: bytes
    ) -> tuple[_Answer, StreamHold | None]:
        """Choose the answer (and its hold, if streamed) and record the exchange before sending.

        Recording first means a test that has read the answer always finds the request recorded.
        """
        with self._lock:
            scripted = self._scripted.popleft() if self._scripted else None
            number = self._received
            self._received += 1
            always_gzip = self.always_gzip
        answer = scripted or _generated_answer(
            method, path, headers, body, random.Random(f"{self.seed}:{number}"), always_gzip=always_gzip
        )
        record = RecordedRequest(method, path, headers, body, answer.status, answer.headers, answer.identity)
        with self._lock:
            self._requests.append(record)
            hold = self._holds.popleft() if answer.chunked and self._holds else None
        return answer, hold


class _Handler(BaseHTTPRequestHandler):
    """Reads one request at a time on a keep-alive connection and writes the fake's answer."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake openai: " + format, *args)

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";", 1)[0].strip(), 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailer fields
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        body = self._read_body()
        fake: FakeOpenAI = self.server.fake  # type: ignore[attr-defined]
        answer, hold = fake._respond(self.command, self.path, tuple(self.headers.items()), body)
        try:
            self._send(answer, fake.write_delay, hold)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            if hold is not None:
                hold._finish()

    def _send(self, answer: _Answer, write_delay: float, hold: StreamHold | None) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        if answer.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(sum(len(w) for w in answer.writes)))
        self.end_headers()
        if not answer.chunked:
            self.wfile.write(b"".join(answer.writes))
            self.wfile.flush()
            return
        for number, write in enumerate(answer.writes, start=1):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(write), write))
            self.wfile.flush()
            if hold is not None and number == hold.after_writes:
                hold._pause(_plain_prefix(answer, number))
            elif write_delay:
                time.sleep(write_delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
