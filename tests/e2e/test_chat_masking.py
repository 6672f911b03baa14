"""Chat-completion masking end to end: what leaves the proxy, and what the client gets back.

A real mitmdump runs the addon; the fake API records every byte it receives and echoes the last
user message. So "nothing detected leaves the machine" becomes a search of the recorded bytes,
and "exact round trip" becomes comparing the client's answer with the text it sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx2
import openai
import pytest

from .conftest import Proxy
from .corpus import (
    AWS_SECRET,
    CARD,
    CORPUS,
    DANA,
    DANA_EMAIL,
    MODEL,
    PHONE,
    SMTP_PASSWORD,
    THOMAS,
    TOOLS,
    CorpusEntry,
    value_at,
)
from .fake_openai import FakeOpenAI, RecordedRequest, last_user_text, openai_error

CHAT_PATH = "/v1/chat/completions"
PLACEHOLDER = re.compile(r"\[\[[A-Z][A-Z0-9_]*_\d+\]\]")
FRAGMENT_MIN_LENGTH = 24
FRAGMENT_WINDOW = 16

MODES: dict[str, dict[str, Any]] = {"content": {}, "two-choices": {"n": 2}, "tool-call": {"tools": TOOLS}}
"""How the fake answers: echoed content, echoed content in two choices, or a tool call."""

NOTHING_TO_MASK = (
    b'{"model":  "gpt-4o-mini",\n  "messages": [ {"role": "user", "content": "Summarise the plot of a'
    b' heist film in two lines."} ],   "temperature": 0.70 , "top_p":1.0e0}'
)
MALFORMED_BODIES = {
    "truncated": f'{{"model": "{MODEL}", "messages": [{{"role": "user", "content": "Call {DANA}, {PHONE}"}}',
    "single-quotes": f"{{'model': '{MODEL}', 'messages': [{{'role': 'user', 'content': 'Hi {DANA}'}}]}}",
    "repeated-key": (
        f'{{"model": "{MODEL}", "messages": [], "messages": [{{"role": "user", "content": "Card {CARD}"}}]}}'
    ),
}
"""Bodies the addon cannot inspect safely; the repeated key could hide a value from inspection."""


def wire_forms(value: str) -> set[bytes]:
    """Every way ``value`` can be written in a request body or header.

    Raw UTF-8, JSON-escaped with and without ``ensure_ascii``, and escaped twice, as a value is
    inside tool-call arguments (JSON text carried in a JSON string).
    """
    forms = {value}
    for _ in range(2):
        forms |= {
            json.dumps(form, ensure_ascii=ascii_only)[1:-1] for form in forms for ascii_only in (True, False)
        }
    return {form.encode() for form in forms}


def fragments(value: str) -> set[str]:
    """Windows of a long value: a detector that masks only a prefix of a long token leaks the rest."""
    if len(value) < FRAGMENT_MIN_LENGTH:
        return set()
    return {value[i : i + FRAGMENT_WINDOW] for i in range(len(value) - FRAGMENT_WINDOW + 1)}


def leaks(values: Iterable[str], data: bytes) -> list[str]:
    """The originals found in ``data``, whole or in part, each with the first form seen."""
    found = []
    for value in values:
        for piece in [value, *sorted(fragments(value))]:
            hit = next((form for form in wire_forms(piece) if form in data), None)
            if hit is not None:
                found.append(f"{value!r} as {hit!r}" if piece == value else f"{value!r} in part: {hit!r}")
                break
    return found


def wire_bytes(recorded: RecordedRequest) -> bytes:
    """Request line, headers and body as the fake server read them (headers decode as Latin-1)."""
    head = f"{recorded.method} {recorded.path}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in recorded.headers)
    return head.encode("latin-1") + b"\r\n" + recorded.body


def assert_nothing_leaked(values: Iterable[str], fake: FakeOpenAI) -> None:
    received = fake.requests
    assert received, "the fake server received nothing"
    for recorded in received:
        found = leaks(values, wire_bytes(recorded))
        assert not found, f"{recorded.method} {recorded.path} carried originals upstream: {found}"


def send_chat(
    body: dict[str, Any], *, sdk: bool, client: openai.OpenAI, raw: httpx2.Client
) -> dict[str, Any]:
    """Send through the proxy, with the SDK where it accepts the shape; the answer as plain JSON."""
    if sdk:
        return client.chat.completions.create(**body).model_dump(mode="json")
    answer = raw.post(CHAT_PATH, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def argument_texts(body: dict[str, Any]) -> list[str]:
    """The ``arguments`` JSON texts of every tool call and legacy function call in a request."""
    texts = []
    for message in body["messages"]:
        functions = [call["function"] for call in message.get("tool_calls") or []]
        functions += [message["function_call"]] if "function_call" in message else []
        texts += [function["arguments"] for function in functions]
    return texts


def choice_outputs(answer: dict[str, Any], mode: str) -> list[Any]:
    """What each choice says: its content, or its tool call's decoded arguments."""
    if mode != "tool-call":
        return [choice["message"]["content"] for choice in answer["choices"]]
    return [
        json.loads(call["function"]["arguments"])
        for choice in answer["choices"]
        for call in choice["message"]["tool_calls"]
    ]


def messages_span(body: bytes) -> bytes:
    """The raw bytes of a request's ``messages`` array, exactly as they were sent."""
    text = body.decode()
    match = re.search(r'"messages"\s*:\s*', text)
    assert match, "no messages array"
    _, end = json.JSONDecoder().raw_decode(text, match.end())
    return text[match.end() : end].encode()


def test_corpus_is_consistent() -> None:
    """Every original is really in its body, and the echoed message holds one, or a pass proves nothing."""
    for entry in CORPUS:
        sent = json.dumps(entry.body).encode() + json.dumps(entry.body, ensure_ascii=False).encode()
        missing = [value for value in entry.originals if not leaks([value], sent)]
        assert not missing, f"{entry.id}: originals not in the body: {missing}"
        echoed = last_user_text(entry.body["messages"])
        assert any(value in echoed for value in entry.originals), f"{entry.id}: nothing to restore"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", CORPUS, ids=lambda entry: entry.id)
def test_masked_upstream_and_exact_answer(
    entry: CorpusEntry, mode: str, client: openai.OpenAI, raw_client: httpx2.Client, fake_openai: FakeOpenAI
) -> None:
    """Invariants 1 and 2 for every analysed field: no original upstream, the exact text back.

    Fields the detector never reads (``name``, ``metadata``, unknown fields) only stay clean by
    exact-match propagation; images and unknown fields without known values arrive as sent.
    """
    body = entry.request(**MODES[mode])
    answer = send_chat(body, sdk=entry.sdk, client=client, raw=raw_client)

    assert_nothing_leaked(entry.originals, fake_openai)
    [recorded] = fake_openai.requests_to(CHAT_PATH)
    upstream = recorded.json()
    assert PLACEHOLDER.search(recorded.body.decode()), "no placeholder upstream"
    for path in entry.verbatim:
        assert value_at(upstream, path) == value_at(body, path), f"{path} was altered"
    for arguments in argument_texts(upstream):
        json.loads(arguments)  # masked arguments must stay valid JSON

    echoed = last_user_text(body["messages"])
    expected = {"echo": echoed} if mode == "tool-call" else echoed
    assert choice_outputs(answer, mode) == [expected] * body.get("n", 1)


def test_secret_named_by_its_key_in_tool_arguments_is_masked(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """Invariant 1 for the commonest secret shape in tool calls: a credential under a telling key."""
    call = {"password": SMTP_PASSWORD, "aws_secret_access_key": AWS_SECRET, "host": "smtp.internal"}
    messages = [
        {"role": "user", "content": "Configure the mailer."},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_cfg01",
                    "type": "function",
                    "function": {"name": "configure_mailer", "arguments": json.dumps(call)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_cfg01", "content": "ok"},
        {"role": "user", "content": "Did that work?"},
    ]
    client.chat.completions.create(model=MODEL, messages=messages)
    assert_nothing_leaked([SMTP_PASSWORD, AWS_SECRET], fake_openai)


def test_nothing_to_mask_arrives_byte_for_byte(raw_client: httpx2.Client, fake_openai: FakeOpenAI) -> None:
    """Invariant 5: a guarded request with nothing detected is forwarded as the client wrote it."""
    answer = raw_client.post(CHAT_PATH, content=NOTHING_TO_MASK, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    [recorded] = fake_openai.requests_to(CHAT_PATH)
    assert recorded.body == NOTHING_TO_MASK
    assert answer.content == recorded.response_body


def test_other_endpoints_pass_unchanged(raw_client: httpx2.Client, fake_openai: FakeOpenAI) -> None:
    """Invariant 5 for paths maskgate does not inspect: forwarded as they came, answers too."""
    moderation = f'{{"model": "omni-moderation-latest", "input": "Contact {DANA_EMAIL}",  "x": 1}}'
    answer = raw_client.post("/v1/moderations", content=moderation.encode())
    assert answer.status_code == 404  # the fake API has no moderations: its error passes unchanged
    models = raw_client.get("/v1/models")
    assert models.status_code == 200

    [recorded_moderation] = fake_openai.requests_to("/v1/moderations")
    assert recorded_moderation.body == moderation.encode()
    assert answer.content == recorded_moderation.response_body
    [recorded_models] = fake_openai.requests_to("/v1/models", method="GET")
    assert recorded_models.body == b""
    assert models.content == recorded_models.response_body


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_uninspectable_body_is_refused(body: str, raw_client: httpx2.Client, fake_openai: FakeOpenAI) -> None:
    """Invariant 3: a body the addon cannot parse safely is answered by the proxy, never forwarded."""
    answer = raw_client.post(CHAT_PATH, content=body.encode(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["message"].startswith("maskgate:")
    assert error["type"] == "invalid_request_error"
    assert not leaks([DANA, PHONE, CARD], answer.content)
    assert fake_openai.requests == []


def test_upstream_error_reaches_sdk_unchanged(client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    """Errors from the API are the API's own words: the SDK raises them with the body as sent."""
    error = openai_error(
        "Rate limit reached for gpt-4o-mini on requests per min.", "requests", code="rate_limit_exceeded"
    )
    fake_openai.next_response(429, error, headers={"x-request-id": "req_limit"})
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"Greet {DANA}."}])
    [recorded] = fake_openai.requests
    assert caught.value.response.content == recorded.response_body
    assert caught.value.body == error["error"]
    assert caught.value.request_id == "req_limit"
    assert_nothing_leaked([DANA], fake_openai)


def test_history_masks_to_the_same_bytes_on_every_turn(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """Placeholders are numbered by first appearance, so turn 2 starts with turn 1's masked bytes.

    That keeps the provider's prompt cache warm, and the model sees one name per person.
    """
    turn_1 = [
        {"role": "system", "content": "You help the support team write replies."},
        {"role": "user", "content": f"Draft a reply to {DANA} ({DANA_EMAIL}) about her refund."},
    ]
    first = client.chat.completions.create(model=MODEL, messages=turn_1)
    turn_2 = [
        *turn_1,
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": f"Also copy {THOMAS}, and send it to {DANA} at {DANA_EMAIL} again."},
    ]
    second = client.chat.completions.create(model=MODEL, messages=turn_2)
    assert second.choices[0].message.content == turn_2[-1]["content"]

    assert_nothing_leaked([DANA, DANA_EMAIL, THOMAS], fake_openai)
    request_1, request_2 = fake_openai.requests_to(CHAT_PATH)
    history = messages_span(request_1.body)
    assert messages_span(request_2.body).startswith(history[:-1] + b","), "history masked differently"
    placeholders_1 = set(PLACEHOLDER.findall(request_1.json()["messages"][1]["content"]))
    placeholders_2 = set(PLACEHOLDER.findall(request_2.json()["messages"][-1]["content"]))
    assert placeholders_1 < placeholders_2, "a value got a new placeholder in the new message"


def test_proxy_log_holds_no_originals(
    proxy: Proxy, client: openai.OpenAI, raw_client: httpx2.Client, fake_openai: FakeOpenAI
) -> None:
    """Invariant 4, read after the module's other tests: the whole mitmdump log has no original.

    It masks and refuses one request itself, so it also means something when run alone.
    """
    entry = CORPUS[0]
    send_chat(entry.request(), sdk=entry.sdk, client=client, raw=raw_client)
    raw_client.post(CHAT_PATH, content=MALFORMED_BODIES["truncated"].encode())
    log = proxy.log_text()
    assert "masked" in log and "refused" in log, "the log does not show the requests of this module"
    values = {value for item in CORPUS for value in item.originals}
    found = leaks(values, log.encode())
    assert not found, f"the proxy log holds originals: {found}"
