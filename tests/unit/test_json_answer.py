"""A JSON answer restored as a stream callable: gathered whatever the reads, sent on whole and
restored at its end, and the answer as upstream sent it kept for the flow."""

from __future__ import annotations

import json

import pytest

from maskgate.openai.chat import restore_chat_response
from maskgate.restore.json_answer import JsonAnswerRestorer
from maskgate.vault import Vault

NAME = "Zoë Müller"
PASSWORD = 'p"w\\d€'


def _vault() -> Vault:
    vault = Vault()
    assert vault.placeholder_for(NAME, "PERSON") == "[[PERSON_1]]"
    assert vault.placeholder_for(PASSWORD, "PASSWORD", secret=True) == "[[PASSWORD_1]]"
    assert vault.placeholder_for("tok-3xY9", "TOKEN", restore=False) == "[[TOKEN_1]]"
    return vault


def _answer(content: str, arguments: str | None = None) -> bytes:
    message: dict = {"role": "assistant", "content": content}
    if arguments is not None:
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": "login", "arguments": arguments}}
        ]
    body = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": message}]}
    return json.dumps(body).encode()


def _feed(restorer: JsonAnswerRestorer, wire: bytes, cuts: list[int]) -> bytes:
    """Pass `wire` cut at `cuts`, then the final empty read; what the restorer sent on."""
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        out = restorer(wire[start:end])
        assert out == [], "nothing goes out before the answer is whole, and never b''"
    out = restorer(b"")
    assert out != b""
    return out if isinstance(out, bytes) else b"".join(out)


def test_answer_is_restored_at_its_end_for_every_cut():
    wire = _answer("Hi [[PERSON_1]]!", json.dumps({"user": "[[PERSON_1]]", "password": "[[PASSWORD_1]]"}))
    expected = _feed(JsonAnswerRestorer(_vault(), restore_chat_response), wire, [])
    for cut in range(1, len(wire)):
        restorer = JsonAnswerRestorer(_vault(), restore_chat_response)
        assert _feed(restorer, wire, [cut]) == expected
        assert restorer.upstream == wire
    message = json.loads(expected)["choices"][0]["message"]
    assert message["content"] == f"Hi {NAME}!"
    # The password goes back into the arguments' JSON text escaped, so it still parses.
    arguments = json.loads(message["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"user": NAME, "password": PASSWORD}


def test_tally_counts_restored_redacted_and_unresolved_placeholders():
    restorer = JsonAnswerRestorer(_vault(), restore_chat_response)
    _feed(restorer, _answer("[[PERSON_1]] [[PERSON_1]] [[TOKEN_1]] [[PERSON_8]]"), [])
    assert restorer.tally is not None and restorer.note == ""
    assert restorer.tally.restored == {"[[PERSON_1]]": 2}
    assert restorer.tally.redacted == {"[[TOKEN_1]]": 1}
    assert restorer.tally.unresolved == {"[[PERSON_8]]": 1}


def test_answer_without_our_placeholders_goes_on_byte_for_byte():
    wire = b'{"choices": [{"message": {"content": "No names here.  [[TOKEN_1]]"}}],  "x": 1.50}'
    restorer = JsonAnswerRestorer(_vault(), restore_chat_response)
    assert _feed(restorer, wire, [3, 9]) == wire
    assert restorer.tally is not None and restorer.tally.redacted == {"[[TOKEN_1]]": 1}


@pytest.mark.parametrize(
    ("wire", "note"),
    [
        (b"<html>Bad gateway [[PERSON_1]]</html>", "answer is not JSON; left as it came"),
        (b'["[[PERSON_1]]"]', "answer is not a JSON object; left as it came"),
        (b"\xff\xfe{}", "answer is not JSON; left as it came"),
        (b"[" * 100_000 + b"]" * 100_000, "answer is not JSON; left as it came"),
    ],
    ids=["html", "array", "not-utf8", "too-deep"],
)
def test_anything_but_a_json_object_goes_on_as_it_came(wire, note):
    restorer = JsonAnswerRestorer(_vault(), restore_chat_response)
    assert _feed(restorer, wire, [1]) == wire
    assert restorer.tally is None and restorer.note == note and restorer.upstream == wire


def test_empty_answer_sends_nothing():
    restorer = JsonAnswerRestorer(_vault(), restore_chat_response)
    assert restorer(b"") == []
    assert restorer.upstream == b"" and restorer.tally is None


def test_nothing_is_known_before_the_end():
    restorer = JsonAnswerRestorer(_vault(), restore_chat_response)
    assert restorer(_answer("Hi [[PERSON_1]]")) == []
    assert restorer.upstream is None and restorer.tally is None
