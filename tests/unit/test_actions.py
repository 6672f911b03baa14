"""Per-entity actions: how the rules declare them, and what masking does with each."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from mitmproxy.test import tflow

from maskgate import annotate
from maskgate.detect.engine import resolve
from maskgate.detect.types import Detection
from maskgate.mask import masked_any
from maskgate.openai.chat import mask_chat_request
from maskgate.policy import DEFAULT_RULES, Action, EntityRule, PolicyError, load_policy, parse_policy
from maskgate.restore.text import RestoreTally

from .fakes import fake_detect

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2"
ACTIONS = {"PERSON": Action.LOG, "EMAIL_ADDRESS": Action.MASK, "CREDIT_CARD": Action.BLOCK}


def _shipped() -> dict:
    return yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))


def _action_of(d: Detection) -> Action:
    return ACTIONS.get(d.entity_type, Action.MASK)


def _request(*contents: str) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": c} for c in contents]}


# --- rules ---------------------------------------------------------------------------


def test_shipped_rules_mask_everything_with_the_previous_thresholds():
    policy = load_policy()
    assert policy.pii.entities["PHONE_NUMBER"] == EntityRule(Action.MASK, 0.4)
    assert {rule.action for rule in policy.pii.entities.values()} == {Action.MASK}
    assert {name: rule.min_score for name, rule in policy.pii.entities.items() if rule.min_score != 0.5} == {
        "PHONE_NUMBER": 0.4
    }
    assert policy.secrets.default_action == Action.MASK and policy.secrets.actions == {}


def test_secret_actions_fall_back_to_the_default():
    raw = _shipped()
    raw["secrets"]["actions"] = {"PRIVATE_KEY": "block", "default": "log"}
    raw["pii"]["entities"]["LOCATION"]["action"] = "off"
    policy = parse_policy(raw, "test.yaml")
    assert policy.action_for("PRIVATE_KEY", secret=True) == Action.BLOCK
    assert policy.action_for("GITHUB_TOKEN", secret=True) == Action.LOG
    assert policy.action_for("PERSON", secret=False) == Action.MASK
    assert "LOCATION" in policy.pii.entities and "LOCATION" not in policy.pii.min_scores


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            lambda raw: raw["pii"]["entities"]["PERSON"].update(action="hide"),
            r"test\.yaml: pii\.entities\.PERSON\.action: 'hide' is not an action \(expected one of: mask",
        ),
        (
            lambda raw: raw["pii"]["entities"]["PERSON"].update(minscore=0.5),
            r"test\.yaml: pii\.entities\.PERSON\.minscore: unknown key",
        ),
        (
            lambda raw: raw["pii"]["entities"]["PERSON"].update(min_score=1.5),
            r"test\.yaml: pii\.entities\.PERSON\.min_score: must be a number between 0 and 1",
        ),
        (
            lambda raw: raw["pii"]["entities"].update(PERSON=0.5),
            r"test\.yaml: pii\.entities\.PERSON: must be dict, got float",
        ),
        (
            lambda raw: raw["pii"]["entities"]["PERSON"].pop("action"),
            r"test\.yaml: pii\.entities\.PERSON\.action: missing",
        ),
        (
            lambda raw: raw["secrets"]["actions"].update(PRIVATE_KEY="drop"),
            r"test\.yaml: secrets\.actions\.PRIVATE_KEY: 'drop' is not an action",
        ),
        (
            lambda raw: raw["secrets"]["actions"].update(private_key="block"),
            r"test\.yaml: secrets\.actions\.private_key: entity type must be UPPER_SNAKE_CASE",
        ),
        (
            lambda raw: raw["secrets"]["actions"].pop("default"),
            r"test\.yaml: secrets\.actions\.default: missing",
        ),
        (
            lambda raw: raw["secrets"].pop("actions"),
            r"test\.yaml: secrets\.actions: missing",
        ),
    ],
)
def test_invalid_actions_name_file_and_key(change, error):
    raw = _shipped()
    change(raw)
    with pytest.raises(PolicyError, match=error):
        parse_policy(raw, "test.yaml")


# --- masking -------------------------------------------------------------------------


def test_logged_values_go_out_unchanged_and_are_recorded():
    body = _request("Dear Jane Doe, mail jane@example.com", "Jane Doe again")
    original = copy.deepcopy(body)
    vault, findings = mask_chat_request(body, fake_detect, _action_of)
    assert body["messages"][0]["content"] == "Dear Jane Doe, mail [[EMAIL_ADDRESS_1]]"
    assert body["messages"][1]["content"] == original["messages"][1]["content"]
    assert len(vault) == 1
    logged = [f for f in findings if f.action == Action.LOG]
    assert [(f.path, f.entity_type, f.placeholder, f.propagated) for f in logged] == [
        ("messages[0].content", "PERSON", "", False),
        ("messages[1].content", "PERSON", "", False),
    ]
    assert logged[0].as_dict()["action"] == "log" and logged[0].as_dict()["placeholder"] is None


def test_only_logged_findings_leave_the_body_untouched():
    body = _request("Jane Doe says hi")
    original = copy.deepcopy(body)
    vault, findings = mask_chat_request(body, fake_detect, _action_of)
    assert body == original and len(vault) == 0
    assert [f.action for f in findings] == [Action.LOG] and not masked_any(findings)


def test_a_value_masked_anywhere_is_masked_where_it_was_only_logged():
    def detect(text: str) -> list[Detection]:
        start = text.find("Ann")
        entity_type = "PERSON" if text.startswith("log") else "EMAIL_ADDRESS"
        return [Detection(start, start + 3, entity_type, 0.9, "presidio")] if start >= 0 else []

    body = _request("log: Ann", "mask: Ann", "plain Ann")
    _, findings = mask_chat_request(body, detect, _action_of)
    assert [m["content"] for m in body["messages"]] == [
        "log: [[EMAIL_ADDRESS_1]]",
        "mask: [[EMAIL_ADDRESS_1]]",
        "plain [[EMAIL_ADDRESS_1]]",
    ]
    assert {f.action for f in findings} == {Action.MASK}


def test_a_logged_span_never_uncovers_an_overlapping_masked_one():
    def detect(text: str) -> list[Detection]:
        if text.startswith("Jane"):
            return [Detection(0, len(text), "PERSON", 0.9, "presidio")]
        return [Detection(0, len(text), "EMAIL_ADDRESS", 0.9, "presidio")]

    body = _request("jane@example.com", "Jane at jane@example.com")
    mask_chat_request(body, detect, _action_of)
    assert "jane@example.com" not in json.dumps(body)
    assert body["messages"][1]["content"] == "Jane at [[EMAIL_ADDRESS_1]]"


def test_blocked_values_are_reported_by_path_and_nothing_is_rewritten():
    body = _request("Jane Doe pays with 4111 1111 1111 1111", f"key {KEY}")
    body["user"] = "4111 1111 1111 1111"
    original = copy.deepcopy(body)
    vault, findings = mask_chat_request(body, fake_detect, _action_of)
    assert body == original and len(vault) == 0
    blocked = [(f.path, f.entity_type) for f in findings if f.action == Action.BLOCK]
    assert blocked == [("messages[0].content", "CREDIT_CARD"), ("user", "CREDIT_CARD")]
    assert not masked_any(findings)


def test_a_masked_value_never_hides_a_blocked_one():
    body = _request("4111 1111 1111 1111", "Card: 4111 1111 1111 1111", "Card: 4111 1111 1111 1111 again")

    def detect(text: str) -> list[Detection]:
        if text.startswith("Card:") and text.endswith("again"):
            return [Detection(0, len(text), "EMAIL_ADDRESS", 0.9, "presidio")]
        return fake_detect(text)

    original = copy.deepcopy(body)
    _, findings = mask_chat_request(body, detect, _action_of)
    assert body == original
    assert [f.path for f in findings if f.action == Action.BLOCK] == [
        f"messages[{i}].content" for i in range(3)
    ]


def test_off_types_are_ignored_even_when_a_detector_reports_them():
    body = _request("Jane Doe, jane@example.com")
    _, findings = mask_chat_request(body, fake_detect, lambda d: Action.OFF)
    assert findings == [] and body == _request("Jane Doe, jane@example.com")


def test_stricter_action_wins_overlaps_in_detection():
    text = "Ann Smith Street"
    place = Detection(0, 16, "LOCATION", 0.95, "presidio")
    person = Detection(0, 9, "PERSON", 0.6, "presidio")
    strength = {"LOCATION": 1, "PERSON": 2}
    assert resolve(text, [place, person]) == [place]
    assert resolve(text, [place, person], lambda d: strength[d.entity_type]) == [person]


def test_a_logged_secret_never_hides_overlapping_masked_personal_data():
    text = "token=Ann.Smith.x"
    secret = Detection(6, 17, "SECRET", 0.8, "pattern", secret=True)
    person = Detection(6, 15, "PERSON", 0.85, "presidio")
    strength = {"SECRET": 1, "PERSON": 2}
    assert resolve(text, [secret, person]) == [secret]
    assert resolve(text, [secret, person], lambda d: strength[d.entity_type]) == [person]


def test_a_blocked_value_named_only_by_its_key_in_tool_arguments_is_reported():
    arguments = json.dumps({"config": {"api_key": "hunter2-but-longer"}})
    body = _request("Run it.")
    body["messages"].append(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "run", "arguments": arguments}}
            ],
        }
    )
    original = copy.deepcopy(body)
    _, findings = mask_chat_request(body, fake_detect, lambda d: Action.BLOCK if d.secret else Action.MASK)
    assert body == original
    paths = {f.path for f in findings if f.action == Action.BLOCK}
    assert paths == {
        "messages[1].tool_calls[0].function.arguments",
        "messages[1].tool_calls[0].function.arguments.config.api_key",
    }


# --- redaction -----------------------------------------------------------------------

REDACTING = {"PASSWORD": Action.REDACT}


def _redacting(d: Detection) -> Action:
    return REDACTING.get(d.entity_type, Action.MASK)


def test_redacted_values_are_masked_upstream_and_kept_out_of_the_answer():
    body = _request("Jane Doe logs in with password: hunter2!", "hunter2! again, Jane Doe")
    vault, findings = mask_chat_request(body, fake_detect, _redacting)
    assert [m["content"] for m in body["messages"]] == [
        "[[PERSON_1]] logs in with password: [[PASSWORD_1]]",
        "[[PASSWORD_1]] again, [[PERSON_1]]",
    ]
    assert {e.placeholder: e.restore for e in vault} == {"[[PERSON_1]]": True, "[[PASSWORD_1]]": False}
    redacted = [(f.path, f.placeholder, f.propagated) for f in findings if f.action == Action.REDACT]
    assert redacted == [
        ("messages[0].content", "[[PASSWORD_1]]", False),
        ("messages[1].content", "[[PASSWORD_1]]", True),
    ]
    assert findings[1].as_dict()["action"] == "redact" and masked_any(findings)


def test_only_redacted_findings_still_rewrite_the_body():
    body = _request("password: hunter2!")
    _, findings = mask_chat_request(body, fake_detect, _redacting)
    assert body["messages"][0]["content"] == "password: [[PASSWORD_1]]"
    assert masked_any(findings)


def test_a_value_both_masked_and_redacted_is_redacted_everywhere():
    def detect(text: str) -> list[Detection]:
        start = text.find("Ann")
        entity_type = "PASSWORD" if text.startswith("redact") else "PERSON"
        return [Detection(start, start + 3, entity_type, 0.9, "presidio")] if start >= 0 else []

    body = _request("mask: Ann", "redact: Ann", "plain Ann")
    vault, findings = mask_chat_request(body, detect, _redacting)
    assert [m["content"] for m in body["messages"]] == [
        "mask: [[PASSWORD_1]]",
        "redact: [[PASSWORD_1]]",
        "plain [[PASSWORD_1]]",
    ]
    assert {f.action for f in findings} == {Action.REDACT}
    assert [e.restore for e in vault] == [False]


def test_a_masked_span_never_uncovers_an_overlapping_redacted_one():
    def detect(text: str) -> list[Detection]:
        if text.startswith("Jane"):
            return [Detection(0, len(text), "PERSON", 0.9, "presidio")]
        return [Detection(0, len(text), "PASSWORD", 0.9, "pattern", secret=True)]

    body = _request("Doe-secret-1", "Jane Doe-secret-1")
    vault, _ = mask_chat_request(body, detect, _redacting)
    assert body["messages"][1]["content"] == "Jane [[PASSWORD_1]]"
    assert [(e.placeholder, e.restore) for e in vault] == [("[[PASSWORD_1]]", False)]


def test_the_restore_record_counts_redacted_placeholders_apart():
    flow = tflow.tflow(resp=True)
    tally = RestoreTally(
        restored={"[[PERSON_1]]": 2},
        redacted={"[[PASSWORD_1]]": 1},
        unresolved={"[[PERSON_9]]": 1},
    )
    annotate.record_restore(flow, tally)
    assert flow.metadata["maskgate"]["restore"] == {
        "restored": {"count": 1, "ids": ["[[PERSON_1]]"]},
        "redacted": {"count": 1, "ids": ["[[PASSWORD_1]]"]},
        "not_returned": {"count": 0, "ids": []},
        "unresolved": {"count": 1, "ids": ["[[PERSON_9]]"]},
        "note": "",
    }
    assert "answer: 1 restored, 1 kept redacted, 1 unresolved (never issued)" in flow.comment


def test_the_restore_record_names_no_redaction_when_there_was_none():
    flow = tflow.tflow(resp=True)
    annotate.record_restore(flow, RestoreTally(restored={"[[PERSON_1]]": 1}))
    assert flow.metadata["maskgate"]["restore"]["redacted"] == {"count": 0, "ids": []}
    assert flow.comment.endswith("answer: 1 restored")
    annotate.record_restore(flow, None, "streamed answer not restored")
    assert flow.metadata["maskgate"]["restore"] == {"note": "streamed answer not restored"}
    assert flow.comment.endswith("answer: streamed answer not restored")
