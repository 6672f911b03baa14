"""The e2e harness itself works: fake upstream, redirect, proxy start-up, clients and CA trust.

Nothing here relies on masking; the texts contain nothing a detector should flag, so these tests
hold for any addon that passes unflagged traffic through unchanged.
"""

from __future__ import annotations

import json
import random

import httpx2
import openai
import pytest

from .conftest import TEST_API_KEY, Proxy
from .fake_openai import FakeOpenAI, chat_completion_events, last_user_text, openai_error, split_writes

MODEL = "gpt-4o-mini"
# Multi-byte characters make the fake's byte-level write cuts land inside a character sometimes.
TEXT = "Echo this sentence back, please: the quick brown fox jumps over the lazy dog. Café ☕ ok."
MESSAGES = [{"role": "system", "content": "Repeat the user."}, {"role": "user", "content": TEXT}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "record_note",
            "description": "Store a note.",
            "parameters": {"type": "object", "properties": {"echo": {"type": "string"}}},
        },
    }
]


def _sse_payloads(body: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, in order."""
    return [line.removeprefix("data: ") for line in body.split("\n") if line.startswith("data: ")]


def _streamed_content(payloads: list[str], index: int = 0) -> str:
    chunks = [json.loads(p) for p in payloads if p != "[DONE]"]
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        for choice in chunk["choices"]
        if choice["index"] == index
    )


def test_last_user_text_joins_text_parts() -> None:
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ignored"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}],
        },
    ]
    assert last_user_text(messages) == "a\nb"


def test_stream_writes_cut_events_mid_line() -> None:
    events = chat_completion_events({"model": MODEL, "messages": MESSAGES, "stream": True}, random.Random(1))
    writes = split_writes(events, random.Random(2))
    assert b"".join(writes) == b"".join(events)
    assert all(writes)
    assert any(not write.endswith(b"\n\n") for write in writes), "no write ends mid-event"
    assert any(write.count(b"data: ") > 1 for write in writes), "no write joins two events"


def test_fake_streams_gzip_when_accepted(fake_openai: FakeOpenAI) -> None:
    request = {"model": MODEL, "messages": MESSAGES, "stream": True, "n": 2}
    with httpx2.Client(trust_env=False) as http:
        answer = http.post(
            f"{fake_openai.url}/v1/chat/completions", json=request, headers={"Accept-Encoding": "gzip"}
        )
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["transfer-encoding"] == "chunked"
    payloads = _sse_payloads(answer.text)
    assert payloads[-1] == "[DONE]"
    assert _streamed_content(payloads, 0) == _streamed_content(payloads, 1) == TEXT
    assert fake_openai.requests[0].response_body.decode() == answer.text


def test_request_reaches_fake_with_openai_host(raw_client: httpx2.Client, fake_openai: FakeOpenAI) -> None:
    answer = raw_client.get("/v1/models")
    assert answer.status_code == 200
    assert MODEL in [model["id"] for model in answer.json()["data"]]
    [recorded] = fake_openai.requests
    assert (recorded.method, recorded.path) == ("GET", "/v1/models")
    assert recorded.header("Host") == "api.openai.com"
    assert recorded.header("Authorization") == f"Bearer {TEST_API_KEY}"


def test_raw_bytes_arrive_unchanged(raw_client: httpx2.Client, fake_openai: FakeOpenAI) -> None:
    body = b'{"model":  "text-embedding-3-small", "input": "plain words",  "encoding_format": "float"}'
    answer = raw_client.post("/v1/embeddings", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    [recorded] = fake_openai.requests_to("/v1/embeddings")
    assert recorded.body == body
    assert answer.content == recorded.response_body


def test_sdk_chat_completion_echoes_every_choice(client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, n=2)
    assert [choice.message.content for choice in completion.choices] == [TEXT, TEXT]
    assert completion.object == "chat.completion"
    [recorded] = fake_openai.requests_to("/v1/chat/completions")
    assert recorded.header("Host") == "api.openai.com"
    assert last_user_text(recorded.json()["messages"]) == TEXT


def test_sdk_stream_echoes_text(client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    assert len(fake_openai.requests_to("/v1/chat/completions")) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_sdk_tool_call_echoes_arguments(client: openai.OpenAI, stream: bool) -> None:
    expected = json.dumps({"echo": TEXT})
    if stream:
        chunks = list(
            client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS, stream=True)
        )
        calls = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []]
        assert calls[0].function.name == "record_note"
        assert "".join(call.function.arguments or "" for call in calls) == expected
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
    else:
        message = (
            client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS).choices[0].message
        )
        assert message.content is None
        [call] = message.tool_calls or []
        assert call.id.startswith("call_")
        assert (call.function.name, call.function.arguments) == ("record_note", expected)


def test_sdk_embeddings_decode(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert [len(item.embedding) for item in result.data] == [8, 8]


def test_scripted_error_passes_through(client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    fake_openai.next_response(
        429,
        openai_error("Rate limit reached for requests", "requests", code="rate_limit_exceeded"),
        headers={"x-request-id": "req_scripted"},
    )
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.request_id == "req_scripted"
    assert fake_openai.requests[0].status == 429


def test_sdk_trusts_only_the_mitmproxy_ca(proxy: Proxy, fake_openai: FakeOpenAI) -> None:
    http_client = openai.DefaultHttpxClient(proxy=proxy.url, trust_env=False)
    with (
        openai.OpenAI(api_key=TEST_API_KEY, max_retries=0, timeout=10, http_client=http_client) as untrusting,
        pytest.raises(openai.APIConnectionError),
    ):
        untrusting.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert fake_openai.requests == []
