"""Legacy text completions: what gets masked in requests, what is refused, and where
originals come back, on their own and through the addon."""

from __future__ import annotations

import copy
import json

import pytest
from mitmproxy import http

from maskgate.errors import Refusal
from maskgate.openai.completions import (
    TOKEN_INPUT,
    mask_completion_request,
    restore_completion_response,
)
from maskgate.restore.text import RestoreTally

from .fakes import fake_detect
from .gate import chat, running_gate, sse_answer, through_stream

URL = "https://api.openai.com/v1/completions"


def _request(prompt, **extra):
    return {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, **extra}


def _answer(*texts: str) -> dict:
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "model": "gpt-3.5-turbo-instruct",
        "choices": [
            {"text": text, "index": i, "logprobs": None, "finish_reason": "stop"}
            for i, text in enumerate(texts)
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }


def test_prompt_suffix_and_end_user_fields_are_analysed():
    body = _request(
        "Dear Jane Doe,", suffix="Regards, jane@corp.example", user="a@x.io", safety_identifier="b@x.io"
    )
    vault, findings = mask_completion_request(body, fake_detect)
    assert body == _request(
        "Dear [[PERSON_1]],",
        suffix="Regards, [[EMAIL_ADDRESS_1]]",
        user="[[EMAIL_ADDRESS_2]]",
        safety_identifier="[[EMAIL_ADDRESS_3]]",
    )
    assert {f.path for f in findings} == {"prompt", "suffix", "user", "safety_identifier"}
    assert len(vault) == 4


def test_every_prompt_of_a_list_is_masked_numbered_by_first_appearance():
    body = _request(["Ann met Jane Doe.", "Jane Doe wrote to a@x.io", "nothing here"])
    _, findings = mask_completion_request(body, fake_detect)
    assert body["prompt"] == [
        "[[PERSON_1]] met [[PERSON_2]].",
        "[[PERSON_2]] wrote to [[EMAIL_ADDRESS_1]]",
        "nothing here",
    ]
    assert [f.path for f in findings] == ["prompt[0]", "prompt[0]", "prompt[1]", "prompt[1]"]


def test_other_fields_only_get_values_found_elsewhere_and_the_model_is_never_touched():
    body = _request(
        "Write to Ann.", stop=["Ann", "\n"], metadata={"mail": "c@x.io", "who": "Ann"}, model="Ann", n=2
    )
    _, findings = mask_completion_request(body, fake_detect)
    assert body["stop"] == ["[[PERSON_1]]", "\n"]
    # Not analysed: an address that only appears there is not looked for.
    assert body["metadata"] == {"mail": "c@x.io", "who": "[[PERSON_1]]"}
    assert body["model"] == "Ann" and body["n"] == 2
    assert [(f.path, f.propagated) for f in findings] == [
        ("prompt", False),
        ("stop[0]", True),
        ("metadata.who", True),
    ]


@pytest.mark.parametrize(
    "prompt",
    [[1734, 374, 264], [[1734, 374], [264]], ["Jane Doe", [1734]], ["Jane Doe", 1734]],
    ids=["ids", "lists of ids", "text and ids", "text and an id"],
)
def test_a_prompt_of_token_ids_is_refused_and_left_as_it_came(prompt):
    body = _request(prompt, suffix="Jane Doe")
    before = copy.deepcopy(body)
    with pytest.raises(Refusal) as refused:
        mask_completion_request(body, fake_detect)
    assert (refused.value.status, refused.value.code) == (400, TOKEN_INPUT)
    assert "`prompt` is given as token ids" in refused.value.message
    assert "send it as text" in refused.value.message
    assert body == before


def test_every_choice_text_is_restored_and_nothing_else():
    body = _request(["Hi Jane Doe", 'pw "Ann"'])
    vault, _ = mask_completion_request(body, fake_detect)
    answer = _answer("Hello [[PERSON_1]] [[PERSON_9]]", 'Quoted: "[[PERSON_2]]"')
    answer["choices"][0]["logprobs"] = {"tokens": ["[[", "PERSON_1", "]]"]}
    answer["id"] = "[[PERSON_1]]"
    tally = restore_completion_response(answer, vault)
    assert [c["text"] for c in answer["choices"]] == ["Hello Jane Doe [[PERSON_9]]", 'Quoted: "Ann"']
    assert answer["choices"][0]["logprobs"] == {"tokens": ["[[", "PERSON_1", "]]"]}
    assert answer["id"] == "[[PERSON_1]]"
    assert tally == RestoreTally(
        restored={"[[PERSON_1]]": 1, "[[PERSON_2]]": 1}, unresolved={"[[PERSON_9]]": 1}
    )


def test_odd_answers_are_left_alone():
    vault, _ = mask_completion_request(_request("Jane Doe"), fake_detect)
    for answer in ({}, {"choices": None}, {"choices": ["x", {"text": None}, {"index": 0}]}):
        before = copy.deepcopy(answer)
        assert restore_completion_response(answer, vault) == RestoreTally()
        assert answer == before


# --- through the addon ---


def _flow(body: dict, url: str = URL):
    return chat(json.dumps(body).encode(), url)


def test_addon_masks_the_request_and_restores_the_json_answer(tmp_path):
    body = _request(["Dear Jane Doe,", "Mail a@x.io"], n=1)
    with running_gate(tmp_path) as gate:
        flow = gate.request(_flow(body))
        sent = flow.request.get_text()
        assert "Jane Doe" not in sent and "a@x.io" not in sent
        assert json.loads(sent)["prompt"] == ["Dear [[PERSON_1]],", "Mail [[EMAIL_ADDRESS_1]]"]
        upstream = json.dumps(_answer("[[PERSON_1]] says hi", "to [[EMAIL_ADDRESS_1]]")).encode()
        gate.answer_headers(flow, http.Response.make(200, b"", {"content-type": "application/json"}))
        client = through_stream(flow.response, upstream) + through_stream(flow.response, b"")
        gate.finish(flow)
    assert [c["text"] for c in json.loads(client)["choices"]] == ["Jane Doe says hi", "to a@x.io"]
    assert flow.response.raw_content == upstream  # the flow keeps what upstream sent
    assert "answer: 2 restored" in flow.comment


def test_addon_restores_a_streamed_completion(tmp_path):
    def event(text: str, finish: str | None = None) -> bytes:
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps({'object': 'text_completion', 'choices': [choice]})}\n\n".encode()

    with running_gate(tmp_path) as gate:
        flow = gate.answer_headers(gate.request(_flow(_request("Hi Jane Doe", stream=True))), sse_answer())
        wire = event("Hello [[PER") + event("SON_1]]!") + event("", "stop") + b"data: [DONE]\n\n"
        client = b"".join(through_stream(flow.response, wire[i : i + 7]) for i in range(0, len(wire), 7))
        client += through_stream(flow.response, b"")
        gate.finish(flow)
    texts = [
        json.loads(line[6:])["choices"][0]["text"]
        for line in client.split(b"\n")
        if line.startswith(b"data: {")
    ]
    assert "".join(texts) == "Hello Jane Doe!"
    assert client.endswith(b"data: [DONE]\n\n")


def test_addon_refuses_token_ids_without_forwarding(tmp_path):
    with running_gate(tmp_path) as gate:
        flow = gate.request(_flow(_request([[1734, 374]], user="a@x.io")))
    assert flow.response.status_code == 400
    error = json.loads(flow.response.content)["error"]
    assert error["code"] == TOKEN_INPUT and "`prompt` is given as token ids" in error["message"]
    assert flow.request.content == b""  # the refused body is not kept on the flow
    assert flow.marked == ":no_entry:"


def test_chat_completions_are_not_taken_for_legacy_completions(tmp_path):
    """`/chat/completions` ends with `/completions`: the chat endpoint must win."""
    with running_gate(tmp_path) as gate:
        flow = gate.request(chat("Hi Jane Doe"))
    assert json.loads(flow.request.get_text())["messages"][0]["content"] == "Hi [[PERSON_1]]"
