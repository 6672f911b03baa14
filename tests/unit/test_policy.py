"""The rules schema beyond actions: allow list, deny lists, custom recognizers, failure mode,
other endpoints. Each invalid form must be refused with an error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from maskgate.policy import (
    CUSTOM_TYPE_RULE,
    DEFAULT_RULES,
    ENDPOINTS,
    Action,
    Checksum,
    DenyList,
    EndpointMode,
    EntityRule,
    OnFailure,
    OtherEndpoints,
    PolicyError,
    load_policy,
    parse_policy,
)


def _shipped() -> dict:
    return yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))


def _parse(change) -> object:
    raw = _shipped()
    change(raw)
    return parse_policy(raw, "test.yaml")


def test_shipped_rules_fail_closed_pass_other_endpoints_and_list_only_their_own_extras():
    policy = load_policy()
    assert policy.on_failure == OnFailure.CLOSED
    assert policy.other_endpoints == OtherEndpoints.PASS
    assert policy.pii.deny == ()
    # Software names, never taken for people or places; nothing else is exempt.
    [software] = policy.allow
    assert software.types == {"PERSON", "LOCATION"}
    assert policy.allows("Django", "PERSON") and not policy.allows("Django", "EMAIL_ADDRESS")
    assert not policy.allows("Leroy Jenkins", "PERSON")
    # Libraries a traceback or docstring names, which read like surnames.
    assert all(policy.allows(name, "PERSON") for name in ("Paramiko", "Werkzeug", "Uvicorn", "Jython"))
    assert [r.id for r in policy.pii.recognizers] == [
        "mastercard-2-series",
        "name-after-greeting",
        "name-after-sign-off",
    ]


def test_optional_keys_take_their_safe_defaults_when_left_out():
    def drop(raw):
        for key in ("on_failure", "other_endpoints", "endpoints", "allow"):
            del raw[key]
        del raw["pii"]["recognizers"], raw["pii"]["deny"]

    policy = _parse(drop)
    assert policy.on_failure == OnFailure.CLOSED and policy.other_endpoints == OtherEndpoints.PASS
    assert policy.endpoints == dict.fromkeys(ENDPOINTS, EndpointMode.INSPECT)
    assert policy.allow == () and policy.pii.recognizers == () and policy.pii.deny == ()


def test_explicit_choices_are_read():
    policy = _parse(lambda raw: raw.update(on_failure="open", other_endpoints="block"))
    assert policy.on_failure == OnFailure.OPEN and policy.other_endpoints == OtherEndpoints.BLOCK


def test_shipped_rules_inspect_every_endpoint_maskgate_knows():
    assert load_policy().endpoints == dict.fromkeys(ENDPOINTS, EndpointMode.INSPECT)


def test_each_endpoint_mode_is_read_and_the_unnamed_ones_are_inspected():
    policy = _parse(lambda raw: raw.update(endpoints={"embeddings": "block", "responses": "pass"}))
    assert policy.endpoints["embeddings"] == EndpointMode.BLOCK
    assert policy.endpoints["responses"] == EndpointMode.PASS
    assert policy.endpoints["chat_completions"] == policy.endpoints["completions"] == EndpointMode.INSPECT


def test_allow_entries_match_whole_values_only():
    def allow(raw):
        raw["allow"] = [
            {"value": "Acme"},
            {"regex": r"[a-z]+@example\.com", "types": ["EMAIL_ADDRESS"]},
        ]

    policy = _parse(allow)
    assert policy.allows("Acme", "PERSON") and policy.allows("Acme", "GITHUB_TOKEN")
    assert not policy.allows("Acme Corp", "PERSON")
    assert not policy.allows("acme", "PERSON")
    assert not policy.allows("Acm", "PERSON")
    assert policy.allows("jane@example.com", "EMAIL_ADDRESS")
    assert not policy.allows("jane@example.com.evil.org", "EMAIL_ADDRESS")
    assert not policy.allows("x jane@example.com", "EMAIL_ADDRESS")
    assert not policy.allows("jane@example.com", "PERSON")


def test_custom_types_are_masked_at_any_score_unless_listed():
    def custom(raw):
        raw["pii"]["recognizers"] = [
            {"id": "badge", "type": "BADGE_ID", "regex": r"\bB\d{5}\b", "score": 0.3, "context": ["badge"]},
            {"id": "card", "type": "LOYALTY_CARD", "regex": r"\b\d{16}\b", "score": 0.6, "checksum": "luhn"},
        ]
        raw["pii"]["deny"] = [
            {"type": "PROJECT_NAME", "terms": ["Bluebird"]},
            {"type": "PERSON", "terms": ["Q"]},
        ]
        raw["pii"]["entities"]["BADGE_ID"] = {"action": "block", "min_score": 0.5}

    policy = _parse(custom)
    badge, card = policy.pii.recognizers
    assert badge.context == ("badge",) and badge.checksum is None and badge.score == 0.3
    assert card.checksum == Checksum.LUHN and card.context == ()
    assert policy.pii.deny == (DenyList("PROJECT_NAME", ("Bluebird",)), DenyList("PERSON", ("Q",)))
    assert policy.pii.entities["BADGE_ID"] == EntityRule(Action.BLOCK, 0.5)
    assert policy.pii.entities["LOYALTY_CARD"] == CUSTOM_TYPE_RULE
    assert policy.pii.entities["PROJECT_NAME"] == CUSTOM_TYPE_RULE
    # A deny list of a listed type keeps that type's own rule.
    assert policy.pii.entities["PERSON"] == EntityRule(Action.MASK, 0.5)
    assert policy.pii.custom_types == {"BADGE_ID", "LOYALTY_CARD", "PROJECT_NAME", "PERSON"}
    assert policy.action_for("PROJECT_NAME", secret=False) == Action.MASK


def test_redact_is_an_action():
    policy = _parse(lambda raw: raw["secrets"]["actions"].update(PRIVATE_KEY="redact"))
    assert policy.action_for("PRIVATE_KEY", secret=True) == Action.REDACT


def _recognizer(**fields) -> dict:
    return {"id": "badge", "type": "BADGE_ID", "regex": r"B\d{5}", "score": 0.5, **fields}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            lambda raw: raw.update(on_failure="ignore"),
            r"test\.yaml: on_failure: 'ignore' is not one of: closed, open",
        ),
        (
            lambda raw: raw.update(endpoints={"moderations": "pass"}),
            r"test\.yaml: endpoints\.moderations: unknown key \(expected one of: chat_completions, responses",
        ),
        (
            lambda raw: raw.update(endpoints={"embeddings": "mask"}),
            r"test\.yaml: endpoints\.embeddings: 'mask' is not one of: inspect, pass, block",
        ),
        (
            lambda raw: raw.update(other_endpoints=True),
            r"test\.yaml: other_endpoints: must be str, got bool",
        ),
        (lambda raw: raw.update(allow={"value": "x"}), r"test\.yaml: allow: must be list, got dict"),
        (
            lambda raw: raw.update(allow=[{"value": "Acme", "regex": "Acme"}]),
            r"test\.yaml: allow\[0\]: needs exactly one of value, regex",
        ),
        (
            lambda raw: raw.update(allow=[{"types": ["PERSON"]}]),
            r"test\.yaml: allow\[0\]: needs exactly one of value, regex",
        ),
        (lambda raw: raw.update(allow=[{"value": " "}]), r"test\.yaml: allow\[0\]\.value: must not be empty"),
        (
            lambda raw: raw.update(allow=[{"regex": "[a-"}]),
            r"test\.yaml: allow\[0\]\.regex: invalid regular expression",
        ),
        (
            lambda raw: raw.update(allow=[{"regex": ".*"}]),
            r"test\.yaml: allow\[0\]\.regex: matches the empty string",
        ),
        (
            lambda raw: raw.update(allow=[{"value": "x", "types": ["person"]}]),
            r"test\.yaml: allow\[0\]\.types\[0\]: 'person' must be UPPER_SNAKE_CASE",
        ),
        (
            lambda raw: raw.update(allow=[{"value": "x", "type": "PERSON"}]),
            r"test\.yaml: allow\[0\]\.type: unknown key",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(regex="(")]),
            r"test\.yaml: pii\.recognizers\[0\]\.regex: invalid regular expression",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(regex=r"\d*")]),
            r"test\.yaml: pii\.recognizers\[0\]\.regex: matches the empty string",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(), _recognizer()]),
            r"test\.yaml: pii\.recognizers\[1\]\.id: duplicate recognizer id 'badge'",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(type="Badge")]),
            r"test\.yaml: pii\.recognizers\[0\]\.type: 'Badge' must be UPPER_SNAKE_CASE",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(checksum="crc")]),
            r"test\.yaml: pii\.recognizers\[0\]\.checksum: 'crc' is not one of: luhn, iban",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(context="badge")]),
            r"test\.yaml: pii\.recognizers\[0\]\.context: must be list, got str",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(score=2)]),
            r"test\.yaml: pii\.recognizers\[0\]\.score: must be a number between 0 and 1",
        ),
        (
            lambda raw: raw["pii"].update(recognizers=[_recognizer(score=0)]),
            r"test\.yaml: pii\.recognizers\[0\]\.score: must be above 0",
        ),
        (
            lambda raw: raw["pii"].update(deny=[{"type": "PROJECT_NAME", "terms": []}]),
            r"test\.yaml: pii\.deny\[0\]\.terms: must list at least one term",
        ),
        (
            lambda raw: raw["pii"].update(deny=[{"type": "PROJECT_NAME", "terms": ["ok", "--"]}]),
            r"test\.yaml: pii\.deny\[0\]\.terms\[1\]: must contain a letter or digit",
        ),
        (
            lambda raw: raw["pii"].update(deny=[{"terms": ["Bluebird"]}]),
            r"test\.yaml: pii\.deny\[0\]\.type: missing",
        ),
    ],
)
def test_invalid_rules_name_file_and_key(change, error):
    with pytest.raises(PolicyError, match=error):
        _parse(change)
