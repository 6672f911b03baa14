"""Streamed answers on the transport level: no buffering, HTTP/2, compression, aborts, errors.

The restorer is proven exact elsewhere; these tests check that what mitmproxy does around it
keeps a stream a stream: the first chunk reaches the client while the upstream is still
sending, curl gets valid SSE over HTTP/2 and HTTP/1.1, a compressed upstream stream is still
restored, a client that hangs up leaves the proxy healthy, and an upstream error is passed on.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from .conftest import OPENAI_BASE_URL, TEST_API_KEY, Proxy
from .corpus import CORPUS, DANA, DANA_EMAIL, MODEL, PHONE
from .fake_openai import FakeOpenAI, StreamHold, last_user_text, openai_error
from .test_chat_masking import CHAT_PATH, assert_nothing_leaked, leaks

CURL = "/usr/bin/curl"
CURL_TIMEOUT_S = 60
HOLD_TIMEOUT_S = 10.0
ENTRY = CORPUS[0]

HOLD_AFTER_WRITES = 5
"""Each SSE event takes at most two writes, so the first five hold the role and a content event."""

PROMPT = f"Hello there, please forward the notes to {DANA} at {DANA_EMAIL} and call {PHONE} tomorrow."
"""Starts with plain words, so the first content delta cannot be a placeholder held back."""
PROMPT_ORIGINALS = (DANA, DANA_EMAIL, PHONE)
NOTHING_DETECTED = "Hello there, please forward the notes to the team and call the office tomorrow."


def _chat(content: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}]}


def _stream_text(chunks: Iterable[Any]) -> str:
    """The first choice's text, reassembled from SDK stream chunks."""
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def _sse_events(data: bytes) -> list[bytes]:
    """The complete SSE events in ``data`` (an unterminated tail is left out)."""
    return data.replace(b"\r\n", b"\n").split(b"\n\n")[:-1]


def _data_payloads(data: bytes) -> list[str]:
    """The value of every ``data:`` line, in order."""
    lines = data.decode().replace("\r\n", "\n").split("\n")
    return [line.removeprefix("data:").removeprefix(" ") for line in lines if line.startswith("data:")]


def _first_choice_deltas(data: bytes) -> list[dict[str, Any]]:
    """The first choice's delta of every complete chunk event in ``data``."""
    payloads = _data_payloads(b"\n\n".join(_sse_events(data)))
    chunks = [json.loads(payload) for payload in payloads if payload != "[DONE]"]
    return [chunk["choices"][0]["delta"] for chunk in chunks if chunk["choices"]]


def _assert_paused_after_content(hold: StreamHold) -> None:
    """The precondition of a hold test: before pausing, the fake sent the role and some content."""
    assert hold.wait_reached(HOLD_TIMEOUT_S), "the fake never paused: the answer had too few writes"
    deltas = _first_choice_deltas(hold.sent)
    assert deltas and "role" in deltas[0], f"no role chunk before the pause: {hold.sent!r}"
    assert any(delta.get("content") for delta in deltas[1:]), f"no content before the pause: {hold.sent!r}"


def _curl_env() -> dict[str, str]:
    """The environment without proxy settings, so only ``--proxy`` decides the route."""
    return {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}


def _curl_stream(proxy: Proxy, http_flag: str, body: dict[str, Any], out: Path) -> str:
    """POST ``body`` with curl through the proxy; the answer goes to ``out``, the HTTP version is returned."""
    command = [
        CURL,
        "-q",
        http_flag,
        "-sS",
        "-N",
        "--proxy",
        proxy.url,
        "--cacert",
        str(proxy.ca_path),
        "-o",
        str(out),
        "-w",
        "%{http_version}",
        f"{OPENAI_BASE_URL}{CHAT_PATH}",
        "-H",
        "content-type: application/json",
        "-H",
        f"authorization: Bearer {TEST_API_KEY}",
        "--data-binary",
        json.dumps(body),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=CURL_TIMEOUT_S, env=_curl_env(), check=False
    )
    assert result.returncode == 0, f"curl exited with {result.returncode}: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("prompt", [PROMPT, NOTHING_DETECTED], ids=["masked", "nothing-detected"])
def test_first_chunk_arrives_while_upstream_is_still_sending(
    prompt: str, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """The proxy passes each event on as it comes: the client reads content before the rest exists.

    A proxy that buffers the stream could only deliver the first chunk after the fake resumes,
    which it does only on release or after its timeout. mitmproxy buffers every answer unless
    told otherwise, so an answer with nothing to restore must be streamed on purpose too.
    """
    body = _chat(prompt)
    pieces: list[str] = []
    resumed_when_first_content_arrived: bool | None = None
    with fake_openai.hold_stream(HOLD_AFTER_WRITES, timeout=HOLD_TIMEOUT_S) as hold:
        for chunk in client.chat.completions.create(**body, stream=True):
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text and resumed_when_first_content_arrived is None:
                resumed_when_first_content_arrived = hold.resumed
                hold.release()
            pieces.append(text or "")

    _assert_paused_after_content(hold)
    assert resumed_when_first_content_arrived is False, "the first content came only after the rest was sent"
    assert not hold.timed_out
    assert "".join(pieces) == prompt
    [recorded] = fake_openai.requests_to(CHAT_PATH)
    assert (recorded.json()["messages"][0]["content"] == prompt) == (prompt == NOTHING_DETECTED)
    assert_nothing_leaked(PROMPT_ORIGINALS, fake_openai)


@pytest.mark.parametrize(("http_flag", "version"), [("--http2", "2"), ("--http1.1", "1.1")])
def test_curl_stream_is_valid_sse_with_the_exact_text(
    http_flag: str, version: str, proxy: Proxy, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A client speaking HTTP/2 to the proxy (mitmproxy speaks HTTP/1.1 upstream) gets the same SSE."""
    body = ENTRY.request(stream=True)
    out = tmp_path / "answer.sse"
    assert _curl_stream(proxy, http_flag, body, out) == version

    payloads = _data_payloads(out.read_bytes())
    assert payloads and payloads[-1] == "[DONE]", f"[DONE] is not the last data line: {payloads[-1:]}"
    assert "[DONE]" not in payloads[:-1]
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    text = "".join(choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"])
    assert text == last_user_text(body["messages"])
    assert_nothing_leaked(ENTRY.originals, fake_openai)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_answer_compressed_despite_identity_is_restored(
    stream: bool, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """The proxy asks upstream for no compression; if the answer comes gzipped anyway, it still decodes.

    Otherwise the restorer would see gzip bytes, find no event, and the client would get placeholders.
    """
    fake_openai.always_gzip = True
    body = ENTRY.request()
    if stream:
        text = _stream_text(client.chat.completions.create(**body, stream=True))
    else:
        text = client.chat.completions.create(**body).choices[0].message.content

    [recorded] = fake_openai.requests_to(CHAT_PATH)
    assert recorded.header("accept-encoding") == "identity", "the masked request did not ask for identity"
    assert ("Content-Encoding", "gzip") in recorded.response_headers, "the fake did not compress"
    assert_nothing_leaked(ENTRY.originals, fake_openai)
    assert text == last_user_text(body["messages"])


def test_client_hanging_up_mid_stream_leaves_the_proxy_healthy(
    proxy: Proxy, raw_client: httpx2.Client, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """A client that closes a streamed answer early (a user pressing stop) must not break the proxy.

    The upstream is held while the client hangs up, so the abort is surely mid-stream; released,
    it sends the rest into a flow that has lost its client. The next request must work as usual,
    and the log must show neither a traceback nor an original.
    """
    log_start = proxy.log_size()
    body = ENTRY.request()
    with (
        fake_openai.hold_stream(HOLD_AFTER_WRITES, timeout=HOLD_TIMEOUT_S) as hold,
        raw_client.stream("POST", CHAT_PATH, json={**body, "stream": True}) as response,
    ):
        assert response.status_code == 200
        # Keep the iterator: dropping it mid-stream already closes the connection.
        chunks = response.iter_bytes()
        assert next(chunks), "the first chunk was empty"
        _assert_paused_after_content(hold)
        assert not hold.resumed, "the upstream was not mid-stream when the client hung up"
    assert hold.wait_finished(), "the fake never finished sending the answer"

    text = _stream_text(client.chat.completions.create(**body, stream=True))
    assert text == last_user_text(body["messages"])
    assert_nothing_leaked(ENTRY.originals, fake_openai)
    log = proxy.log_text(log_start)
    assert "Traceback" not in log, log
    assert not leaks(ENTRY.originals, log.encode()), "the proxy log holds originals"


def test_upstream_error_on_streamed_request_reaches_sdk_unchanged(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """An API error answering ``stream: true`` is plain JSON, not SSE: it passes as the API wrote it."""
    error = openai_error("The server had an error while processing your request.", "server_error")
    fake_openai.next_response(500, error, headers={"x-request-id": "req_stream_error"})
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(**_chat(PROMPT), stream=True)

    [recorded] = fake_openai.requests
    assert recorded.json()["stream"] is True
    assert caught.value.status_code == 500
    assert caught.value.response.content == recorded.response_body
    assert caught.value.body == error["error"]
    assert caught.value.request_id == "req_stream_error"
    assert_nothing_leaked(PROMPT_ORIGINALS, fake_openai)
