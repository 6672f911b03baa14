"""The chat-completion walker: what gets masked in requests and restored in answers."""

import copy
import json

from hypothesis import given
from hypothesis import strategies as st

from maskgate.openai.chat import mask_chat_request, restore_chat_response
from maskgate.policy import Action

from .fakes import fake_detect

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2"


def _request(*messages, **extra):
    return {"model": "gpt-4o-mini", "messages": list(messages), **extra}


def _answer(*messages):
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": i, "message": m, "finish_reason": "stop"} for i, m in enumerate(messages)],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }


def test_every_role_and_text_part_is_masked():
    body = _request(
        {"role": "system", "content": "Assist Jane Doe."},
        {"role": "developer", "content": [{"type": "text", "text": "Mail jane@corp.example"}]},
        {"role": "user", "content": [{"type": "text", "text": f"my key {KEY}"}]},
        {"role": "assistant", "content": "Hello Jane Doe", "refusal": "no, Jane Doe"},
        {"role": "tool", "tool_call_id": "call_1", "content": "result for jane@corp.example"},
    )
    vault, findings = mask_chat_request(body, fake_detect)
    text = json.dumps(body)
    assert "Jane Doe" not in text and "jane@corp.example" not in text and KEY not in text
    assert body["messages"][0]["content"] == "Assist [[PERSON_1]]."
    assert body["messages"][2]["content"][0]["text"] == "my key [[OPENAI_API_KEY_1]]"
    assert body["messages"][4]["content"] == "result for [[EMAIL_ADDRESS_1]]"
    assert body["messages"][4]["tool_call_id"] == "call_1"
    assert {f.path for f in findings} >= {
        "messages[0].content",
        "messages[1].content[0].text",
        "messages[3].refusal",
        "messages[4].content",
    }
    assert len(vault) == 3


def test_end_user_fields_are_analysed():
    body = _request({"role": "user", "content": "hi"}, user="a@x.io", safety_identifier="b@x.io")
    mask_chat_request(body, fake_detect)
    assert body["user"] == "[[EMAIL_ADDRESS_1]]" and body["safety_identifier"] == "[[EMAIL_ADDRESS_2]]"


def test_numbering_follows_first_appearance_and_is_stable_across_turns():
    turn1 = _request({"role": "user", "content": "Ann wrote to b@x.io, then Jane Doe and Ann met."})
    turn2 = _request(
        copy.deepcopy(turn1["messages"][0]),
        {"role": "assistant", "content": "Noted: Jane Doe."},
        {"role": "user", "content": "Also a@x.io"},
    )
    mask_chat_request(turn1, fake_detect)
    mask_chat_request(turn2, fake_detect)
    first = "[[PERSON_1]] wrote to [[EMAIL_ADDRESS_1]], then [[PERSON_2]] and [[PERSON_1]] met."
    assert turn1["messages"][0]["content"] == first
    assert turn2["messages"][0]["content"] == first
    assert turn2["messages"][2]["content"] == "Also [[EMAIL_ADDRESS_2]]"


def test_value_detected_once_is_masked_everywhere_even_where_not_analysed():
    body = _request(
        {"role": "user", "content": "Contact Jane Doe", "name": "Jane Doe"},
        metadata={"customer": "Jane Doe", "note": "Jane Does not match"},
    )
    _, findings = mask_chat_request(body, fake_detect)
    assert body["messages"][0]["name"] == "[[PERSON_1]]"
    assert body["metadata"] == {"customer": "[[PERSON_1]]", "note": "Jane Does not match"}
    propagated = [f for f in findings if f.propagated]
    assert {f.path for f in propagated} >= {"messages[0].name", "metadata.customer"}


def test_value_is_not_masked_inside_a_longer_word():
    body = _request({"role": "user", "content": "Ann filed the Annual report"})
    mask_chat_request(body, fake_detect)
    assert body["messages"][0]["content"] == "[[PERSON_1]] filed the Annual report"


def test_tool_call_arguments_are_masked_inside_values_and_stay_valid_json():
    args = json.dumps({"to": "John O'Neil", "note": 'say "hi" to jane@corp.example \\ ok', "n": 2})
    body = _request(
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "send", "arguments": args}}
            ],
        },
        {"role": "assistant", "function_call": {"name": "legacy", "arguments": '{"card": 4111111111111111}'}},
    )
    mask_chat_request(body, fake_detect)
    masked = json.loads(body["messages"][1]["tool_calls"][0]["function"]["arguments"])
    assert masked == {"to": "[[PERSON_1]]", "note": 'say "hi" to [[EMAIL_ADDRESS_1]] \\ ok', "n": 2}
    assert body["messages"][1]["tool_calls"][0]["id"] == "call_9"
    legacy = json.loads(body["messages"][2]["function_call"]["arguments"])
    assert legacy == {"card": "[[CREDIT_CARD_1]]"}


def test_secret_named_only_by_its_key_in_arguments_is_masked_in_its_value():
    args = json.dumps({"api_key": 'k3y-with-"quote\\', "other": 'k3y-with-"quote\\ again'})
    body = _request(
        {
            "role": "assistant",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}],
        }
    )
    vault, _ = mask_chat_request(body, fake_detect)
    masked = json.loads(body["messages"][0]["tool_calls"][0]["function"]["arguments"])
    assert masked == {"api_key": "[[API_KEY_1]]", "other": "[[API_KEY_1]] again"}
    assert vault.lookup("[[API_KEY_1]]").value == 'k3y-with-"quote\\'


def test_arguments_that_are_not_json_are_masked_as_text():
    body = _request(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"to": "Jane Doe'}}
            ],
        }
    )
    mask_chat_request(body, fake_detect)
    assert body["messages"][0]["tool_calls"][0]["function"]["arguments"] == '{"to": "[[PERSON_1]]'


def test_images_audio_model_and_unknown_fields_pass_unchanged():
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,QW5uIGphbmVAY29ycC5leGFtcGxl"}}
    audio = {"type": "input_audio", "input_audio": {"data": "Ann", "format": "wav"}}
    body = _request(
        {"role": "user", "content": [{"type": "text", "text": "Ann"}, image, audio]},
        model="Ann",
        temperature=0.2,
        x_unknown={"deep": [1, 2.5, None, True]},
    )
    before = copy.deepcopy(body)
    mask_chat_request(body, fake_detect)
    assert body["messages"][0]["content"][1:] == before["messages"][0]["content"][1:]
    assert body["model"] == "Ann"
    assert body["x_unknown"] == before["x_unknown"] and body["temperature"] == 0.2


def test_nothing_detected_changes_nothing():
    body = _request({"role": "user", "content": "What is 2 + 2?"}, tools=[{"type": "function"}])
    before = copy.deepcopy(body)
    vault, findings = mask_chat_request(body, fake_detect)
    assert body == before and findings == [] and len(vault) == 0


def test_user_written_placeholders_are_never_confused_with_ours():
    body = _request({"role": "user", "content": "Template: [[PERSON_1]] greets Jane Doe."})
    vault, _ = mask_chat_request(body, fake_detect)
    assert body["messages"][0]["content"] == "Template: [[PERSON_1]] greets [[PERSON_2]]."
    answer = _answer({"role": "assistant", "content": "[[PERSON_1]] and [[PERSON_2]]"})
    tally = restore_chat_response(answer, vault)
    assert answer["choices"][0]["message"]["content"] == "[[PERSON_1]] and Jane Doe"
    assert tally.unresolved == {}


def test_altered_forms_the_user_wrote_are_reserved_too():
    body = _request({"role": "user", "content": "Fill [person_1] and \\[\\[ PERSON_2 \\]\\] for Jane Doe."})
    vault, _ = mask_chat_request(body, fake_detect)
    assert body["messages"][0]["content"].endswith("for [[PERSON_3]].")
    answer = _answer({"role": "assistant", "content": "[person_1], [[PERSON_2]] and [[PERSON_3]]"})
    tally = restore_chat_response(answer, vault)
    assert answer["choices"][0]["message"]["content"] == "[person_1], [[PERSON_2]] and Jane Doe"
    assert tally.unresolved == {}


def test_answers_are_restored_in_every_choice_and_field():
    body = _request({"role": "user", "content": "John O'Neil, jane@corp.example, Jane Doe, password: x\"\\y"})
    vault, _ = mask_chat_request(body, fake_detect)
    args = json.dumps({"who": "[[PERSON_1]]", "mail": "[[EMAIL_ADDRESS_1]]", "pw": "[[PASSWORD_1]]"})
    answer = _answer(
        {
            "role": "assistant",
            "content": "Hi [[PERSON_2]]",
            "refusal": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": args}}
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "[[PERSON_1]]"}],
            "refusal": "[[PERSON_2]]",
        },
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "g", "arguments": '{"a": "[[PERSON_1]]"}'},
        },
    )
    before = copy.deepcopy(answer)
    tally = restore_chat_response(answer, vault)
    first, second, third = (c["message"] for c in answer["choices"])
    assert first["content"] == "Hi Jane Doe"
    assert json.loads(first["tool_calls"][0]["function"]["arguments"]) == {
        "who": "John O'Neil",
        "mail": "jane@corp.example",
        "pw": 'x"\\y',
    }
    assert second["content"][0]["text"] == "John O'Neil" and second["refusal"] == "Jane Doe"
    assert json.loads(third["function_call"]["arguments"]) == {"a": "John O'Neil"}
    assert answer["id"] == before["id"] and answer["usage"] == before["usage"]
    assert first["tool_calls"][0]["id"] == "call_1"
    assert sum(tally.restored.values()) == 7


def test_invented_placeholders_are_left_and_counted():
    body = _request({"role": "user", "content": "Jane Doe"})
    vault, _ = mask_chat_request(body, fake_detect)
    answer = _answer({"role": "assistant", "content": "[[PERSON_1]] met [[PERSON_7]]"})
    tally = restore_chat_response(answer, vault)
    assert answer["choices"][0]["message"]["content"] == "Jane Doe met [[PERSON_7]]"
    assert tally.unresolved == {"[[PERSON_7]]": 1}


def test_redacted_placeholders_stay_in_every_field_of_the_answer():
    body = _request({"role": "user", "content": f"Jane Doe uses {KEY}"})
    vault, _ = mask_chat_request(body, fake_detect, lambda d: Action.REDACT if d.secret else Action.MASK)
    assert body["messages"][0]["content"] == "[[PERSON_1]] uses [[OPENAI_API_KEY_1]]"
    args = json.dumps({"key": "[[OPENAI_API_KEY_1]]", "who": "[[PERSON_1]]"})
    answer = _answer(
        {
            "role": "assistant",
            "content": "[[PERSON_1]]: set [[ openai_api_key_1 ]]",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "[OPENAI_API_KEY_1]"}]},
    )
    tally = restore_chat_response(answer, vault)
    first, second = (c["message"] for c in answer["choices"])
    assert first["content"] == "Jane Doe: set [[ openai_api_key_1 ]]"
    assert json.loads(first["tool_calls"][0]["function"]["arguments"]) == {
        "key": "[[OPENAI_API_KEY_1]]",
        "who": "Jane Doe",
    }
    assert second["content"][0]["text"] == "[OPENAI_API_KEY_1]"
    assert KEY not in json.dumps(answer)
    assert tally.restored == {"[[PERSON_1]]": 2} and tally.redacted == {"[[OPENAI_API_KEY_1]]": 3}
    assert tally.unresolved == {}


_pieces = st.sampled_from(
    [
        "Jane Doe",
        "John O'Neil",
        "Zoë Müller",
        "a.b@c.io",
        KEY,
        " ",
        "\n",
        '"',
        "\\",
        "[[",
        "]]",
        "[[PERSON_1]]",
        "x",
        "Ünïcode ✓",
        "{}",
        "Annual",
        'password: p"w\\d\\u00e9 ',
    ]
)


@given(st.lists(_pieces, max_size=12).map("".join))
def test_round_trip_through_an_echoing_model_is_exact(text):
    """Content and tool arguments echoed by the model come back byte for byte."""
    body = _request({"role": "user", "content": text})
    vault, _ = mask_chat_request(body, fake_detect)
    masked = body["messages"][0]["content"]
    answer = _answer(
        {
            "role": "assistant",
            "content": masked,
            "tool_calls": [
                {
                    "id": "c",
                    "type": "function",
                    "function": {"name": "echo", "arguments": json.dumps({"echo": masked})},
                }
            ],
        },
    )
    restore_chat_response(answer, vault)
    message = answer["choices"][0]["message"]
    assert message["content"] == text
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"echo": text}
