"""Per-entity actions end to end, through a mitmdump whose rules block private keys, redact
AWS secret access keys and only log phone numbers (see ``ACTION_RULE_CHANGES`` in conftest.py)."""

from __future__ import annotations

import json

import openai
import pytest

from .conftest import Proxy
from .corpus import AWS_SECRET, DANA, MODEL, PEM_KEY, PEM_LINES, PHONE
from .fake_openai import FakeOpenAI

CHAT_PATH = "/v1/chat/completions"


def test_blocked_type_is_refused_and_never_reaches_upstream(
    actions_client: openai.OpenAI, actions_proxy: Proxy, fake_openai: FakeOpenAI
) -> None:
    """The SDK raises BadRequestError naming the type and field; upstream receives nothing."""
    start = actions_proxy.log_size()
    messages = [
        {"role": "system", "content": "You review configuration."},
        {"role": "user", "content": f"Is this key well-formed?\n{PEM_KEY}\nAsk {DANA} on {PHONE}."},
    ]
    with pytest.raises(openai.BadRequestError) as raised:
        actions_client.chat.completions.create(model=MODEL, messages=messages)

    assert fake_openai.requests == []
    error = raised.value
    assert error.status_code == 400 and error.code == "maskgate_blocked"
    assert "PRIVATE_KEY in messages[1].content" in str(error)
    answer = error.response.text
    log = actions_proxy.log_text(start)
    for value in (PEM_LINES[1], DANA, PHONE):
        assert value not in answer and value not in log


def test_logged_type_goes_upstream_as_written(actions_client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    """A logged phone number is forwarded unchanged, while a name beside it is still masked."""
    content = f"Please call {DANA} on {PHONE} tomorrow."
    answer = actions_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}]
    )

    [recorded] = fake_openai.requests_to(CHAT_PATH)
    sent = recorded.json()["messages"][0]["content"]
    assert PHONE in sent and DANA not in sent and "[[PERSON_1]]" in sent
    assert answer.choices[0].message.content == content


def test_only_logged_findings_arrive_byte_for_byte(
    actions_client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """With nothing to mask, the request body reaches upstream exactly as the SDK wrote it."""
    raw = actions_client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": f"Is {PHONE} a valid number?"}]
    )
    [recorded] = fake_openai.requests_to(CHAT_PATH)
    assert recorded.body == raw.http_request.content
    assert json.loads(recorded.body)["messages"][0]["content"] == f"Is {PHONE} a valid number?"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "streamed"])
def test_redacted_type_is_masked_upstream_and_stays_a_placeholder_in_the_answer(
    stream: bool, actions_client: openai.OpenAI, actions_proxy: Proxy, fake_openai: FakeOpenAI
) -> None:
    """The echoed answer brings the masked name back but keeps the AWS secret's placeholder."""
    start = actions_proxy.log_size()
    content = f"Please ask {DANA} to rotate this key:\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
    messages = [{"role": "user", "content": content}]
    if stream:
        chunks = actions_client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        answer = (
            actions_client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content
        )

    [recorded] = fake_openai.requests_to(CHAT_PATH)
    sent = recorded.json()["messages"][0]["content"]
    assert AWS_SECRET not in recorded.body.decode() and DANA not in recorded.body.decode()
    assert (
        sent
        == "Please ask [[PERSON_1]] to rotate this key:\nAWS_SECRET_ACCESS_KEY=[[AWS_SECRET_ACCESS_KEY_1]]\n"
    )
    assert answer == content.replace(AWS_SECRET, "[[AWS_SECRET_ACCESS_KEY_1]]")
    assert AWS_SECRET not in actions_proxy.log_text(start)
