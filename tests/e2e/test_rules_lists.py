"""The rules' own lists end to end: deny lists, the allow list and a custom recognizer with
context words, through the mitmdump whose rules add them (see ``ACTION_RULE_CHANGES`` in
conftest.py)."""

from __future__ import annotations

import openai

from .corpus import MODEL
from .fake_openai import FakeOpenAI

CHAT_PATH = "/v1/chat/completions"

ALLOWED_NAME = "Ada Lovelace"
ALLOWED_EMAIL = "ada.lovelace@example.org"
OTHER_NAME = "Margaret Thornton"
OTHER_EMAIL = "m.thornton@example.com"
EMPLOYEE_ID = "E-204811"
BUILD_ID = "E-998877"


def _sent(fake_openai: FakeOpenAI) -> tuple[str, list[str]]:
    """The raw body of the one chat request upstream received, and its message contents."""
    [recorded] = fake_openai.requests_to(CHAT_PATH)
    return recorded.body.decode(), [m["content"] for m in recorded.json()["messages"]]


def test_deny_list_terms_are_masked_and_restored(
    actions_client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """Deny-list terms count in any case; each value gets its own placeholder."""
    content = "Status of Project Falcon: the bluebird release ships on Friday."
    answer = actions_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}]
    )

    body, [sent] = _sent(fake_openai)
    assert "falcon" not in body.lower() and "bluebird" not in body.lower()
    assert sent == "Status of [[PROJECT_NAME_1]]: the [[PROJECT_NAME_2]] release ships on Friday."
    assert answer.choices[0].message.content == content


def test_allowed_name_and_email_go_upstream_unchanged(
    actions_client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """Only the allowed values stay; another name and another e-mail address beside them are masked."""
    content = f"{ALLOWED_NAME} ({ALLOWED_EMAIL}) asked {OTHER_NAME} ({OTHER_EMAIL}) to review the notes."
    answer = actions_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}]
    )

    body, [sent] = _sent(fake_openai)
    assert OTHER_NAME not in body and OTHER_EMAIL not in body
    assert (
        sent
        == f"{ALLOWED_NAME} ({ALLOWED_EMAIL}) asked [[PERSON_1]] ([[EMAIL_ADDRESS_1]]) to review the notes."
    )
    assert answer.choices[0].message.content == content


def test_custom_recognizer_needs_its_context_word(
    actions_client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """An employee id counts after "employee"; an id of the same shape elsewhere goes as written.

    The two ids sit in different messages: within one text, "employee" would be among the
    five words before the second id too.
    """
    system = f"Build {BUILD_ID} passed all checks."
    content = f"Please update the record of employee {EMPLOYEE_ID} before noon."
    answer = actions_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": content}],
    )

    body, sent = _sent(fake_openai)
    assert EMPLOYEE_ID not in body
    assert sent == [system, "Please update the record of employee [[EMPLOYEE_ID_1]] before noon."]
    assert answer.choices[0].message.content == content
