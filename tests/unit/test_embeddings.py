"""Embeddings: the inputs are masked, token ids are refused, the vectors pass untouched,
and the rules can pass or block the endpoint instead."""

from __future__ import annotations

import copy
import json

import pytest
from mitmproxy import http

from maskgate.errors import Refusal
from maskgate.openai.completions import TOKEN_INPUT
from maskgate.openai.embeddings import mask_embedding_request

from .fakes import fake_detect
from .gate import chat, running_gate

URL = "https://api.openai.com/v1/embeddings"
VECTORS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": "AACAPwAAAEA="}],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 4, "total_tokens": 4},
}


def _request(value, **extra):
    return {"model": "text-embedding-3-small", "input": value, "encoding_format": "base64", **extra}


def test_a_text_input_and_the_user_are_analysed():
    body = _request("Profile of Jane Doe", user="a@x.io", dimensions=8)
    _, findings = mask_embedding_request(body, fake_detect)
    assert body == _request("Profile of [[PERSON_1]]", user="[[EMAIL_ADDRESS_1]]", dimensions=8)
    assert [f.path for f in findings] == ["input", "user"]


def test_every_input_of_a_list_is_masked_and_other_fields_only_by_propagation():
    body = _request(["Ann", "mail Jane Doe at a@x.io", ""], metadata={"x": "Jane Doe", "y": "b@x.io"})
    mask_embedding_request(body, fake_detect)
    assert body["input"] == ["[[PERSON_1]]", "mail [[PERSON_2]] at [[EMAIL_ADDRESS_1]]", ""]
    assert body["metadata"] == {"x": "[[PERSON_2]]", "y": "b@x.io"}
    assert body["model"] == "text-embedding-3-small" and body["encoding_format"] == "base64"


@pytest.mark.parametrize("value", [[15339, 1917], [[15339], [1917, 0]]], ids=["ids", "lists of ids"])
def test_token_ids_are_refused_with_the_langchain_switch_named(value):
    body = _request(value, user="a@x.io")
    before = copy.deepcopy(body)
    with pytest.raises(Refusal) as refused:
        mask_embedding_request(body, fake_detect)
    assert (refused.value.status, refused.value.code) == (400, TOKEN_INPUT)
    assert "`input` is given as token ids" in refused.value.message
    assert "check_embedding_ctx_length=False" in refused.value.message
    assert body == before


# --- through the addon ---


def _flow(body: dict):
    return chat(json.dumps(body).encode(), URL)


def _vectors() -> http.Response:
    return http.Response.make(200, json.dumps(VECTORS).encode(), {"content-type": "application/json"})


def test_addon_masks_the_inputs_and_passes_the_vectors_untouched(tmp_path):
    with running_gate(tmp_path) as gate:
        flow = gate.request(_flow(_request(["Jane Doe", "a@x.io"])))
        assert json.loads(flow.request.get_text())["input"] == ["[[PERSON_1]]", "[[EMAIL_ADDRESS_1]]"]
        gate.answer(flow, _vectors())
    assert flow.response.stream is False  # nothing to restore: the answer is not rewritten
    assert json.loads(flow.response.content) == VECTORS
    assert flow.response.headers["X-MaskGate-Mode"] == "masked"
    assert "answer carries no text to restore" in flow.comment


@pytest.mark.parametrize(
    ("mode", "status", "header"), [("pass", 200, "not-inspected"), ("block", 403, "refused")]
)
def test_rules_can_pass_or_block_embeddings(tmp_path, mode, status, header):
    body = _request("Jane Doe")
    raw = json.dumps(body).encode()
    with running_gate(tmp_path, ("embeddings: inspect", f"embeddings: {mode}")) as gate:
        flow = gate.request(_flow(body))
        if mode == "pass":
            assert flow.request.raw_content == raw
        gate.answer(flow, _vectors())
    assert flow.response.status_code == status
    assert flow.response.headers["X-MaskGate-Mode"] == header
    if mode == "block":
        error = json.loads(flow.response.content)["error"]
        assert (
            error["code"] == "maskgate_endpoint_blocked" and "endpoints.embeddings: block" in error["message"]
        )
    else:
        assert flow.marked == ":grey_question:"
        assert flow.comment == "maskgate: not inspected (POST /v1/embeddings)"
