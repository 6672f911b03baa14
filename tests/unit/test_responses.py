"""The Responses API walker: what gets masked in requests and restored in answers, and the
addon routing `…/responses` requests through it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from mitmproxy import http

from maskgate.openai.responses import mask_responses_request, restore_responses_answer
from maskgate.policy import Action
from maskgate.restore.text import RestoreTally
from maskgate.vault import Vault

from .fakes import fake_detect
from .gate import chat, running_gate, sse_answer, through_stream

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2"
RESPONSES_URL = "https://api.openai.com/v1/responses"
IMAGE = "data:image/png;base64,SmFuZSBEb2U="


def _masked(body: dict) -> tuple[dict, Vault, list]:
    vault, findings = mask_responses_request(body, fake_detect)
    return body, vault, findings


def test_input_as_a_string_and_instructions_are_masked():
    body, vault, findings = _masked(
        {"model": "gpt-4.1", "instructions": "You assist Jane Doe.", "input": "Mail ann@x.io for Jane Doe"}
    )
    assert body == {
        "model": "gpt-4.1",
        "instructions": "You assist [[PERSON_1]].",
        "input": "Mail [[EMAIL_ADDRESS_1]] for [[PERSON_1]]",
    }
    assert {f.path for f in findings} == {"instructions", "input"}
    assert len(vault) == 2


def test_every_text_of_every_input_item_is_masked():
    arguments = json.dumps(
        {"to": "John O'Neil", "note": 'say "hi" to a@x.io \\ ok', "card": 4111111111111111}
    )
    items = [
        {"role": "developer", "content": "Serve Zoë Müller"},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": f"my key {KEY}"},
                {"type": "input_image", "image_url": IMAGE, "detail": "auto"},
                {"type": "input_file", "filename": "Jane Doe.pdf", "file_data": "SmFuZSBEb2U="},
            ],
        },
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [
                {"type": "output_text", "text": "Hello Jane Doe", "annotations": []},
                {"type": "refusal", "refusal": "not for b@x.io"},
            ],
        },
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Ann asked"}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "send", "arguments": arguments},
        {"type": "function_call_output", "call_id": "call_1", "output": "sent to c@x.io"},
        {
            "type": "function_call_output",
            "call_id": "call_2",
            "output": [
                {"type": "input_text", "text": "read d@x.io"},
                {"type": "input_image", "image_url": IMAGE},
            ],
        },
        {"type": "custom_tool_call", "call_id": "call_3", "name": "sql", "input": "WHERE name = 'Jane Doe'"},
        {"type": "custom_tool_call_output", "call_id": "call_3", "output": "1 row: e@x.io"},
        {
            "type": "mcp_call",
            "id": "mcp_1",
            "name": "crm",
            "server_label": "crm",
            "arguments": '{"q": "f@x.io"}',
        },
        {"type": "shell_call_output", "call_id": "call_4", "output": [{"stdout": "g@x.io\n", "stderr": ""}]},
        {"type": "local_shell_call_output", "id": "ls_1", "output": "h@x.io"},
    ]
    body, _, findings = _masked({"model": "gpt-4.1", "input": items})
    text = json.dumps(body, ensure_ascii=False)
    for value in ("Zoë Müller", KEY, "b@x.io", "Ann", "John O'Neil", "4111"):
        assert value not in text, value
    assert text.count("Jane Doe") == 1  # the file part's own name: files are left as they are
    for letter in "acdefgh":
        assert f"{letter}@x.io" not in text
    masked = body["input"]
    assert masked[0]["content"] == "Serve [[PERSON_1]]"
    assert masked[1]["content"][0]["text"] == "my key [[OPENAI_API_KEY_1]]"
    assert masked[1]["content"][1:] == items[1]["content"][1:]  # images and files never altered
    assert masked[2]["content"][0]["text"] == "Hello [[PERSON_2]]"
    assert masked[2]["content"][1]["refusal"] == "not for [[EMAIL_ADDRESS_1]]"
    assert masked[3]["summary"][0]["text"] == "[[PERSON_3]] asked"
    assert json.loads(masked[4]["arguments"]) == {
        "to": "[[PERSON_4]]",
        "note": 'say "hi" to [[EMAIL_ADDRESS_2]] \\ ok',
        "card": "[[CREDIT_CARD_1]]",
    }
    assert masked[6]["output"][1] == items[6]["output"][1]
    assert masked[7]["input"] == "WHERE name = '[[PERSON_2]]'"
    assert json.loads(masked[9]["arguments"]) == {"q": "[[EMAIL_ADDRESS_6]]"}
    assert masked[10]["output"][0]["stdout"] == "[[EMAIL_ADDRESS_7]]\n"
    assert [(item.get("id"), item.get("call_id")) for item in masked] == [
        (item.get("id"), item.get("call_id")) for item in items
    ]
    assert not any(f.propagated for f in findings if f.path.startswith("input[10]"))


def test_tool_and_format_descriptions_end_user_fields_and_prompt_variables_are_analysed():
    body, _, findings = _masked(
        {
            "model": "gpt-4.1",
            "input": "hi",
            "tools": [
                {
                    "type": "function",
                    "name": "notify",
                    "description": "Notify Jane Doe",
                    "parameters": {
                        "type": "object",
                        "properties": {"to": {"type": "string", "description": "e.g. a@x.io"}},
                    },
                },
                {"type": "custom", "name": "sql", "description": "Rows of Ann"},
            ],
            "text": {
                "format": {"type": "json_schema", "name": "r", "description": "for b@x.io", "schema": {}}
            },
            "user": "c@x.io",
            "safety_identifier": "d@x.io",
            "prompt": {
                "id": "pmpt_1",
                "variables": {"name": "Zoë Müller", "note": {"type": "input_text", "text": "e@x.io"}},
            },
        }
    )
    assert body["tools"][0]["description"] == "Notify [[PERSON_1]]"
    assert body["tools"][0]["parameters"]["properties"]["to"] == {
        "type": "string",
        "description": "e.g. [[EMAIL_ADDRESS_1]]",
    }
    assert body["tools"][1]["description"] == "Rows of [[PERSON_2]]"
    assert body["text"]["format"]["description"] == "for [[EMAIL_ADDRESS_2]]"
    assert (body["user"], body["safety_identifier"]) == ("[[EMAIL_ADDRESS_3]]", "[[EMAIL_ADDRESS_4]]")
    assert body["prompt"] == {
        "id": "pmpt_1",
        "variables": {"name": "[[PERSON_3]]", "note": {"type": "input_text", "text": "[[EMAIL_ADDRESS_5]]"}},
    }
    assert not any(f.propagated for f in findings)


def test_fields_not_read_as_text_are_not_analysed_but_get_known_values_masked():
    items = [
        {"role": "user", "content": "About Jane Doe"},
        {"type": "message", "role": "user", "content": "x", "payload": "Jane Doe and Ann"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAJane Doe"},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "x", "extra": "Jane Doe"}],
        },
    ]
    body, _, findings = _masked(
        {
            "model": "gpt-4.1",
            "input": items,
            "metadata": {"who": "Jane Doe", "other": "Ann"},
            "future": ["Jane Doe"],
        }
    )
    assert body["input"][1]["payload"] == "[[PERSON_1]] and Ann"
    assert body["input"][2]["encrypted_content"] == "gAAAJane Doe"  # opaque: never altered
    assert body["input"][3]["content"][0]["extra"] == "[[PERSON_1]]"
    assert body["metadata"] == {"who": "[[PERSON_1]]", "other": "Ann"}
    assert body["future"] == ["[[PERSON_1]]"]
    assert {f.path for f in findings if f.propagated} == {
        "input[1].payload",
        "input[3].content[0].extra",
        "metadata.who",
        "future[0]",
    }


def test_items_of_unlisted_types_are_analysed_but_base64_results():
    """A web search's query or interpreter code resent as history reaches the model too."""
    items = [
        {"type": "web_search_call", "id": "ws_1", "status": "completed",
         "action": {"type": "search", "query": "where does Jane Doe live"}},
        {"type": "code_interpreter_call", "id": "ci_1", "code": "send('ann@x.io')"},
        {"type": "image_generation_call", "id": "ig_1", "result": "ann@y.io"},
    ]  # fmt: skip
    body, _, findings = _masked({"model": "gpt-4.1", "input": items})
    assert body["input"][0]["action"]["query"] == "where does [[PERSON_1]] live"
    assert body["input"][1]["code"] == "send('[[EMAIL_ADDRESS_1]]')"
    assert body["input"][2]["result"] == "ann@y.io"  # base64 output: not analysed
    assert {f.path for f in findings} == {"input[0].action.query", "input[1].code"}


def test_same_history_masks_to_the_same_bytes_on_every_turn():
    turn_1 = {"model": "gpt-4.1", "input": [{"role": "user", "content": "Ann wrote to b@x.io and Jane Doe"}]}
    turn_2 = copy.deepcopy(turn_1)
    turn_2["input"] += [
        {"role": "assistant", "content": [{"type": "output_text", "text": "Noted, Jane Doe."}]},
        {"role": "user", "content": "Also a@x.io"},
    ]
    mask_responses_request(turn_1, fake_detect)
    mask_responses_request(turn_2, fake_detect)
    assert turn_2["input"][0] == turn_1["input"][0]
    assert turn_2["input"][2]["content"] == "Also [[EMAIL_ADDRESS_2]]"


def test_a_blocked_value_leaves_the_body_as_it_was():
    body = {"model": "gpt-4.1", "input": [{"role": "user", "content": f"Jane Doe's key {KEY}"}]}
    sent = copy.deepcopy(body)

    def block_secrets(d):
        return Action.BLOCK if d.secret else Action.MASK

    _, findings = mask_responses_request(body, fake_detect, block_secrets)
    assert body == sent
    assert any(f.action == Action.BLOCK for f in findings)


def _vault() -> Vault:
    vault = Vault()
    vault.placeholder_for("Jane Doe", "PERSON")
    vault.placeholder_for('p"w\\d', "PASSWORD", secret=True)
    return vault


def test_every_output_kind_is_restored_and_counted_once():
    answer = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "instructions": "Assist [[PERSON_1]]",
        "output": [
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "[[PERSON_1]]?"}],
            },
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Hi [[PERSON_1]] [[PERSON_9]]", "annotations": []},
                    {"type": "refusal", "refusal": "Not [[PASSWORD_1]]"},
                ],
            },
            {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_[[PERSON_1]]",
                "name": "login",
                "arguments": json.dumps({"user": "[[PERSON_1]]", "pw": "[[PASSWORD_1]]"}),
            },
            {
                "id": "ctc_1",
                "type": "custom_tool_call",
                "call_id": "c",
                "name": "sql",
                "input": "[[PERSON_1]]",
            },
        ],
        "output_text": "Hi [[PERSON_1]] [[PERSON_9]]",
        "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
    }
    tally = restore_responses_answer(answer, _vault())
    output = answer["output"]
    assert output[0]["summary"][0]["text"] == "Jane Doe?"
    assert output[1]["content"][0]["text"] == "Hi Jane Doe [[PERSON_9]]"
    assert output[1]["content"][1]["refusal"] == 'Not p"w\\d'
    assert json.loads(output[2]["arguments"]) == {"user": "Jane Doe", "pw": 'p"w\\d'}
    assert output[2]["call_id"] == "call_[[PERSON_1]]"  # ids are never rewritten
    assert output[3]["input"] == "Jane Doe"
    assert answer["output_text"] == "Hi Jane Doe [[PERSON_9]]"
    assert answer["instructions"] == "Assist [[PERSON_1]]"  # the request's echo, not the model's words
    assert tally == RestoreTally(
        restored={"[[PERSON_1]]": 4, "[[PASSWORD_1]]": 2}, unresolved={"[[PERSON_9]]": 1}
    )


def test_compacted_user_messages_come_back_restored():
    compacted = {
        "object": "response.compaction",
        "output": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "To [[PERSON_1]]"}],
            },
            {"type": "compaction", "id": "cmp_1", "encrypted_content": "[[PERSON_1]]"},
        ],
    }
    restore_responses_answer(compacted, _vault())
    assert compacted["output"][0]["content"][0]["text"] == "To Jane Doe"
    assert compacted["output"][1]["encrypted_content"] == "[[PERSON_1]]"


# --- through the addon ---


def _request(body: dict, url: str = RESPONSES_URL) -> http.HTTPFlow:
    return chat(json.dumps(body).encode(), url)


def _response(text: str) -> http.Response:
    body = {
        "id": "resp_1",
        "object": "response",
        "output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
        ],
    }
    return http.Response.make(200, json.dumps(body).encode(), {"content-type": "application/json"})


def test_the_addon_masks_responses_and_restores_the_json_answer(tmp_path: Path):
    with running_gate(tmp_path) as gate:
        flow = gate.request(_request({"model": "gpt-4.1", "input": "Greet Jane Doe"}))
        sent = flow.request.get_text()
        assert "Jane Doe" not in sent and "[[PERSON_1]]" in sent
        flow.response = _response("Hello [[PERSON_1]]")
        gate.answer_headers(flow)
        restored = through_stream(flow.response, flow.response.raw_content) + through_stream(
            flow.response, b""
        )
        assert json.loads(restored)["output"][0]["content"][0]["text"] == "Hello Jane Doe"
        gate.finish(flow)
        assert "answer: 1 restored" in flow.comment


def test_the_addon_restores_a_streamed_responses_answer(tmp_path: Path):
    events = [
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Hi [[PER"},
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "SON_1]]"},
        {
            "type": "response.output_text.done",
            "output_index": 0,
            "content_index": 0,
            "text": "Hi [[PERSON_1]]",
        },
    ]
    stream = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
    with running_gate(tmp_path) as gate:
        flow = gate.request(_request({"model": "gpt-4.1", "input": "Greet Jane Doe", "stream": True}))
        gate.answer_headers(flow, sse_answer())
        out = through_stream(flow.response, stream) + through_stream(flow.response, b"")
        gate.finish(flow)
    assert b"[[PERSON_1]]" not in out and out.count(b"Jane Doe") == 2
    assert "answer: 1 restored" in flow.comment


def test_input_token_counts_and_compaction_are_masked_and_other_response_paths_are_not_inspected(
    tmp_path: Path,
):
    body = {"model": "gpt-4.1", "input": [{"role": "user", "content": "Count Jane Doe"}]}
    with running_gate(tmp_path) as gate:
        for path in ("/v1/responses/input_tokens", "/v1/responses/compact", "/openai/v1/responses"):
            flow = gate.request(_request(body, "https://api.openai.com" + path))
            assert "Jane Doe" not in flow.request.get_text(), path
        cancel = gate.request(_request(body, RESPONSES_URL + "/resp_1/cancel"))
        assert "Jane Doe" in cancel.request.get_text()
        assert cancel.marked == ":grey_question:"


def test_responses_blocked_by_the_rules_are_refused(tmp_path: Path):
    with running_gate(tmp_path, ("responses: inspect", "responses: block")) as gate:
        flow = gate.send(json.dumps({"model": "gpt-4.1", "input": "hi"}).encode(), RESPONSES_URL)
        assert flow.response.status_code == 403
        assert flow.response.json()["error"]["code"] == "maskgate_endpoint_blocked"
        assert gate.send("hi").response.status_code == 200  # chat completions still inspected
