"""The Responses API end to end: the openai SDK through a real mitmdump to the fake API.

The same invariants as for chat completions: nothing detected reaches the fake server, which
records every byte; the SDK gets back exactly what it sent, in JSON and in streamed answers
whose deltas and network writes are cut anywhere; a body the proxy cannot inspect is refused;
and rules that block the endpoint refuse it before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from .conftest import Proxy, _sdk, running_mitmdump, write_rules
from .corpus import (
    DANA,
    DANA_EMAIL,
    MARCUS_EMAIL,
    MODEL,
    OPENAI_KEY,
    PHONE,
    PHONE_2,
    PNG_DATA_URL,
    THOMAS,
    THOMAS_EMAIL,
)
from .fake_openai import FakeOpenAI
from .test_chat_masking import PLACEHOLDER, assert_nothing_leaked, leaks

RESPONSES_PATH = "/v1/responses"
PROMPT = f"Write to {DANA} <{DANA_EMAIL}>, or call {PHONE}; the key is {OPENAI_KEY}."
INSTRUCTIONS = f"You write on behalf of {THOMAS} ({THOMAS_EMAIL})."
ORIGINALS = (DANA, DANA_EMAIL, PHONE, OPENAI_KEY, THOMAS, THOMAS_EMAIL, MARCUS_EMAIL, PHONE_2)
SEEDS = (1, 2, 3)

TOOLS = [
    {
        "type": "function",
        "name": "record_note",
        "description": f"Store a note; notes about {THOMAS} go to {THOMAS_EMAIL}.",
        "parameters": {"type": "object", "properties": {"echo": {"type": "string"}}},
    }
]
"""Offering a function tool makes the fake call it with the last user text as `echo`."""

HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": [{"type": "input_text", "text": f"Look up {DANA} in the CRM."}]},
    {
        "type": "function_call",
        "call_id": "call_lookup1",
        "name": "crm_lookup",
        "arguments": json.dumps({"email": DANA_EMAIL, "cc": MARCUS_EMAIL}),
    },
    {
        "type": "function_call_output",
        "call_id": "call_lookup1",
        "output": f"Found {DANA}, phone {PHONE}, fax {PHONE_2}.",
    },
    {
        "role": "user",
        "content": [
            {"type": "input_text", "text": f"Now write to {DANA} at {DANA_EMAIL} and call {PHONE}."},
            {"type": "input_image", "image_url": PNG_DATA_URL},
        ],
    },
]
"""A conversation with a function call: MARCUS_EMAIL and PHONE_2 are only in the call's arguments
and its output, so only analysing those fields keeps them from upstream."""
HISTORY_ECHO = f"Now write to {DANA} at {DANA_EMAIL} and call {PHONE}."


def _upstream(fake: FakeOpenAI, path: str = RESPONSES_PATH) -> dict[str, Any]:
    """The one request the fake received on `path`, checked to carry placeholders."""
    [recorded] = fake.requests_to(path)
    assert PLACEHOLDER.search(recorded.body.decode()), "no placeholder upstream"
    return recorded.json()


def _streamed(events: Any) -> dict[str, Any]:
    """What a streamed answer told the client: text and arguments put together from the deltas,
    the whole texts of the `.done` events, and the final response."""
    seen: dict[str, Any] = {"text": "", "arguments": "", "done": [], "final": None}
    for event in events:
        if event.type == "response.output_text.delta":
            seen["text"] += event.delta
        elif event.type == "response.function_call_arguments.delta":
            seen["arguments"] += event.delta
        elif event.type == "response.output_text.done":
            seen["done"].append(event.text)
        elif event.type == "response.function_call_arguments.done":
            seen["done"].append(event.arguments)
        elif event.type == "response.completed":
            seen["final"] = event.response
    return seen


def test_json_answer_is_restored_and_nothing_original_goes_upstream(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    answer = client.responses.create(model=MODEL, instructions=INSTRUCTIONS, input=PROMPT)

    assert_nothing_leaked(ORIGINALS, fake_openai)
    upstream = _upstream(fake_openai)
    assert PLACEHOLDER.search(upstream["instructions"]) and PLACEHOLDER.search(upstream["input"])
    assert answer.output_text == PROMPT
    assert answer.output[0].content[0].text == PROMPT


@pytest.mark.parametrize("seed", SEEDS)
def test_streamed_answer_is_restored_exactly(
    seed: int, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """Deltas of 1-6 characters in writes cut anywhere: the text, its `.done` and the final
    response all read exactly what was sent."""
    fake_openai.seed = seed
    seen = _streamed(
        client.responses.create(model=MODEL, instructions=INSTRUCTIONS, input=PROMPT, stream=True)
    )

    assert_nothing_leaked(ORIGINALS, fake_openai)
    assert seen["text"] == PROMPT
    assert seen["done"] == [PROMPT]
    assert seen["final"].output_text == PROMPT


def test_sdk_stream_helper_gets_held_text_before_the_done_event(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """The text ends in `[[`, which could still begin a placeholder: it is held back, then sent
    in a copy of the last delta before `response.output_text.done`; the SDK's own accumulating
    stream helper must take it like any delta."""
    prompt = f"Remind {DANA} that lists open with [["
    deltas, at_done = "", None
    with client.responses.stream(model=MODEL, input=prompt) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas += event.delta
            elif event.type == "response.output_text.done":
                at_done = deltas
        final = stream.get_final_response()
    assert at_done == deltas == prompt
    assert final.output_text == prompt
    assert_nothing_leaked([DANA], fake_openai)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "streamed"])
def test_items_with_a_function_call_and_its_output_are_masked_and_arguments_restored(
    stream: bool, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    body = {"model": MODEL, "instructions": INSTRUCTIONS, "input": HISTORY, "tools": TOOLS}
    if stream:
        seen = _streamed(client.responses.create(**body, stream=True))
        arguments, final = seen["arguments"], seen["final"]
        assert seen["done"] == [arguments]
    else:
        final = client.responses.create(**body)
        arguments = final.output[0].arguments
    assert json.loads(arguments) == {"echo": HISTORY_ECHO}
    assert json.loads(final.output[0].arguments) == {"echo": HISTORY_ECHO}

    assert_nothing_leaked(ORIGINALS, fake_openai)
    upstream = _upstream(fake_openai)
    json.loads(upstream["input"][1]["arguments"])  # masked arguments stay valid JSON
    assert upstream["input"][3]["content"][1] == HISTORY[3]["content"][1]  # the image arrives as sent
    assert upstream["input"][1]["call_id"] == "call_lookup1"


def test_history_masks_to_the_same_bytes_on_the_next_turn(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    first = client.responses.create(model=MODEL, input=HISTORY)
    turn_2 = [
        *HISTORY,
        {"role": "assistant", "content": [{"type": "output_text", "text": first.output_text}]},
        {"role": "user", "content": f"Copy {THOMAS} too."},
    ]
    client.responses.create(model=MODEL, input=turn_2)
    request_1, request_2 = fake_openai.requests_to(RESPONSES_PATH)
    assert request_2.json()["input"][: len(HISTORY)] == request_1.json()["input"]
    assert_nothing_leaked(ORIGINALS, fake_openai)


def test_input_token_count_sends_only_the_masked_input(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    counted = client.responses.input_tokens.count(model=MODEL, instructions=INSTRUCTIONS, input=HISTORY)
    assert counted.input_tokens > 0
    assert_nothing_leaked(ORIGINALS, fake_openai)
    _upstream(fake_openai, RESPONSES_PATH + "/input_tokens")


def test_compaction_masks_the_input_and_gives_back_its_user_messages(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    compacted = client.responses.compact(model=MODEL, input=HISTORY)
    assert_nothing_leaked(ORIGINALS, fake_openai)
    _upstream(fake_openai, RESPONSES_PATH + "/compact")
    messages = [item for item in compacted.output if item.type == "message"]
    texts = [part.text for item in messages for part in item.content if part.type == "input_text"]
    assert texts == [HISTORY[0]["content"][0]["text"], HISTORY_ECHO]


def test_uninspectable_body_is_refused(raw_client: httpx2.Client, fake_openai: FakeOpenAI) -> None:
    body = f'{{"model": "{MODEL}", "input": "Call {DANA} at {PHONE}"'
    answer = raw_client.post(
        RESPONSES_PATH, content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("maskgate:")
    assert not leaks([DANA, PHONE], answer.content)
    assert fake_openai.requests == []


@pytest.fixture(scope="module")
def blocking_proxy(
    fake_openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    """A mitmdump whose rules block the Responses API."""
    workdir: Path = tmp_path_factory.mktemp("mitmdump-responses-blocked")
    rules = write_rules(workdir / "rules.yaml", [("responses: inspect", "responses: block")])
    with running_mitmdump(fake_openai_server, workdir, ["--set", f"maskgate_rules={rules}"]) as proxy:
        yield proxy


def test_endpoint_blocked_by_the_rules_is_refused(blocking_proxy: Proxy, fake_openai: FakeOpenAI) -> None:
    with _sdk(blocking_proxy) as client:
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.responses.create(model=MODEL, input=PROMPT)
        with pytest.raises(openai.PermissionDeniedError):
            client.responses.input_tokens.count(model=MODEL, input=PROMPT)
        chat = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": PROMPT}])
    assert refused.value.code == "maskgate_endpoint_blocked"
    assert chat.choices[0].message.content == PROMPT  # other endpoints are still served
    assert fake_openai.requests_to(RESPONSES_PATH) == []
    assert fake_openai.requests_to(RESPONSES_PATH + "/input_tokens") == []
