"""Secret detection: today's key formats with exact spans, every occurrence, whole
private-key blocks, no findings on hashes and ids, linear-time patterns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from maskgate.detect.engine import Detector
from maskgate.detect.secrets import OVERLAP, WINDOW, SecretDetector, occurrences
from maskgate.policy import DEFAULT_RULES, Policy, PolicyError, load_policy, parse_policy

# Made-up values in the real formats.
OPENAI_PROJECT = "sk-proj-Zx7Qp2Lm9Rt4Vb8Nc1Kd6Hs3Jf5Gw0Ty-FAKEa1T3BlbkFJAe4Ui7Oo2Pq9Lk3Mn6Bv1Cx8Zs5Dw0Ef_x"
OPENAI_SERVICE = "sk-svcacct-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6Nm8FAKEqWeRtY"
OPENAI_ADMIN = "sk-admin-Mn8Bv6Cx4Za2Sd0Fg9Hj7Kl5Qw3Er1TyFAKE1234567890ab"
OPENAI_LEGACY = "sk-Ab3De6Gh9Jk2Mn5Pq8St1VT3BlbkFJWx4Za7Cd0Fg3Hj6Kl9N"
ANTHROPIC = "sk-ant-api03-Pq7Rs9Tu1Vw3Xy5Za7Bc9De1Fg3Hi5Jk7Lm9No1Pq3Rs5Tu7Vw9FAKE_b1c2d3-e4f5g6h7i8j9k0AA"
GITHUB_CLASSIC = "ghp_R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ngXyZ"
GITHUB_FINE = (
    "github_pat_11AQ3ZLNY0FAKE5bCdEfGh_ItIsNotARealTokenButItHasTheRightShape1234567890abcdefghijklmn"
)
SLACK = "xoxb-2048197712-4096318823-Zq8Wx7Ec6Rv5Tb4Yn3Um2Ik1"
STRIPE_LIVE = "sk_live_51FAKEq2w3e4r5t6y7u8i9o0pA"
STRIPE_RESTRICTED = "rk_live_51FAKEz9x8c7v6b5n4m3l2k1jH"
STRIPE_TEST = "sk_test_51FAKEa1s2d3f4g5h6j7k8l9qW"
AWS_KEY_ID = "AKIAZ5GMHYJQK7NOPQR7"
AWS_TEMP_KEY_ID = "ASIAY3FLDCKXQW2ZRT5M"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
BEARER = "7f3kLq92mZpX0aB4cD8eF1gH6jK5"
SENDGRID = "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"
PEM = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBGQUtFLWtleS1mb3ItdGVzdHMtb25seS1ub3QtcmVhbAAAAJgAAAAAAAAA
AAAAAAtzc2gtZWQyNTUxOQAAACBGQUtFLWtleS1mb3ItdGVzdHMtb25seS1ub3QtcmVhbA
-----END OPENSSH PRIVATE KEY-----"""


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]


@pytest.mark.parametrize(
    ("text", "entity_type", "value"),
    [
        (f'client = OpenAI(api_key="{OPENAI_PROJECT}")', "OPENAI_API_KEY", OPENAI_PROJECT),
        (f"export OPENAI_API_KEY={OPENAI_SERVICE}", "OPENAI_API_KEY", OPENAI_SERVICE),
        (f"admin key: {OPENAI_ADMIN}", "OPENAI_API_KEY", OPENAI_ADMIN),
        (f"my old key {OPENAI_LEGACY} still works", "OPENAI_API_KEY", OPENAI_LEGACY),
        (f'-H "x-api-key: {ANTHROPIC}"', "ANTHROPIC_API_KEY", ANTHROPIC),
        (f"git clone https://{GITHUB_CLASSIC}@github.com/acme/app.git", "GITHUB_TOKEN", GITHUB_CLASSIC),
        (f"GH_TOKEN={GITHUB_FINE}", "GITHUB_TOKEN", GITHUB_FINE),
        (f"slack_client = WebClient(token='{SLACK}')", "SLACK_TOKEN", SLACK),
        (f'stripe.api_key = "{STRIPE_LIVE}"', "STRIPE_API_KEY", STRIPE_LIVE),
        (f"restricted key {STRIPE_RESTRICTED} for the worker", "STRIPE_API_KEY", STRIPE_RESTRICTED),
        (f"the test key is {STRIPE_TEST}", "STRIPE_API_KEY", STRIPE_TEST),
        (f"aws_access_key_id = {AWS_KEY_ID}", "AWS_ACCESS_KEY_ID", AWS_KEY_ID),
        (f'"AccessKeyId": "{AWS_TEMP_KEY_ID}",', "AWS_ACCESS_KEY_ID", AWS_TEMP_KEY_ID),
        (f"aws_secret_access_key = {AWS_SECRET}", "AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        (f'"SecretAccessKey": "{AWS_SECRET}",', "AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        (f'aws_key = "{AWS_SECRET}"', "AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        (f'curl -H "Authorization: Bearer {JWT}" https://api.example.com', "JWT", JWT),
        ("postgres://app_user:N0t-A-R3al-Pass@db.example.com:5432/orders", "PASSWORD", "N0t-A-R3al-Pass"),
        ("redis://:p@ss:w0rd@cache.internal:6379/0", "PASSWORD", "p@ss:w0rd"),
        ('password = "Tr0ub4dor&3-horse"', "PASSWORD", "Tr0ub4dor&3-horse"),
        ('{"username": "admin", "password": "c0rrect h0rse"}', "PASSWORD", "c0rrect h0rse"),
        ('config = {"client_secret": "9d8f7a6b5c4e3d2f1a0b"}', "SECRET", "9d8f7a6b5c4e3d2f1a0b"),
        ("DB_PASSWORD=s3cr3t!value", "SECRET", "s3cr3t!value"),
        ('  - POSTGRES_PASSWORD="compose-Pa55"', "PASSWORD", "compose-Pa55"),
        ("export API_TOKEN=tok_9Xk2Lm5Qp8Rs", "SECRET", "tok_9Xk2Lm5Qp8Rs"),
        (
            "Authorization: Bearer 7f3kLq92mZpX0aB4cD8eF1gH6jK5",
            "BEARER_TOKEN",
            "7f3kLq92mZpX0aB4cD8eF1gH6jK5",
        ),
        (f"sendgrid = '{SENDGRID}'", "SENDGRID_API_KEY", SENDGRID),
    ],
)
def test_secret_formats_are_found_with_exact_spans(detector, text, entity_type, value):
    detections = detector.detect(text)
    assert [(d.entity_type, text[d.start : d.end]) for d in detections] == [(entity_type, value)]
    assert all(d.secret for d in detections)


def test_aws_secret_key_right_after_its_key_id(detector):
    text = f"Access key ID,Secret access key\n{AWS_KEY_ID},{AWS_SECRET}\n"
    assert found(detector, text) == [("AWS_ACCESS_KEY_ID", AWS_KEY_ID), ("AWS_SECRET_ACCESS_KEY", AWS_SECRET)]


def test_every_occurrence_of_a_repeated_secret_is_found(detector):
    text = f"first {SENDGRID} then {SENDGRID}\nand again: {SENDGRID}; {OPENAI_PROJECT} {OPENAI_PROJECT}"
    spans = [(d.entity_type, d.start) for d in detector.detect(text)]
    sendgrid = [i for i in range(len(text)) if text.startswith(SENDGRID, i)]
    openai = [i for i in range(len(text)) if text.startswith(OPENAI_PROJECT, i)]
    assert spans == [("SENDGRID_API_KEY", i) for i in sendgrid] + [("OPENAI_API_KEY", i) for i in openai]


def test_private_key_is_masked_as_one_block(detector):
    text = f"Here is my deploy key:\n{PEM}\nWhy does ssh reject it?"
    assert found(detector, text) == [("PRIVATE_KEY", PEM)]


def test_private_key_with_escaped_newlines_is_masked_as_one_block(detector):
    escaped = json.dumps(PEM)[1:-1]
    text = f'{{"type": "service_account", "private_key": "{escaped}\\n", "client_id": "1"}}'
    assert found(detector, text) == [("PRIVATE_KEY", escaped)]


def test_unterminated_private_key_is_masked_to_the_end(detector):
    head = PEM.rsplit("\n", 2)[0]
    text = f"my key starts like this:\n{head}\nand then the paste was cut"
    start = text.index("-----BEGIN")
    assert found(detector, text) == [("PRIVATE_KEY", text[start:])]


def test_two_private_keys_are_two_blocks(detector):
    rsa = PEM.replace("OPENSSH", "RSA")
    text = f"{PEM}\n\n{rsa}\n"
    assert found(detector, text) == [("PRIVATE_KEY", PEM), ("PRIVATE_KEY", rsa)]


@pytest.mark.parametrize(
    "text",
    [
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (HEAD -> main)",
        'sha = "9fceb02d0ae598e95dc970b74767f19372d61af8"',
        'request_id = "123e4567-e89b-12d3-a456-426614174000"',
        '"integrity": "sha512-Q2Xd9cWv3nQzGz1E9m3W1uJ0yV2eW4fC+XJ9mW3bXGm7XH2bkcCkVZ9W2F3Hq1yQ0YbPZt7vUe0F'
        'j1K7FZsDpA=="',
        '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk'
        'YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">',
        'resolved "https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz'
        '#679591c564c3bffaae8454cf0b3df370c3d6911c"',
        "password = get_password()\nsecret = os.environ['SECRET']\n"
        'api_key = "<your-api-key>"\ntoken = "{token}"',
        'password = "********"\nTOKEN_TTL=3600\nAPI_KEY=${API_KEY}\n'
        "SECRET_KEY=load_secret()\nDEBUG_TOKEN=true",
        "let token_count = tokens.len(); const MAX_TOKENS: usize = 4096; tokenizer = 'bert-base'",
        "See https://docs.example.com:8443/guide?user=me@example.com#auth for the login flow.",
        "A PEM file starts with a BEGIN CERTIFICATE line: -----BEGIN CERTIFICATE-----",
    ],
)
def test_hashes_ids_images_and_code_are_not_secrets(detector, text):
    assert [d for d in detector.detect(text) if d.secret] == []


def test_occurrences_skip_matches_inside_longer_words():
    assert list(occurrences("pwd pw pw2 (pw)", "pw")) == [(4, 6), (12, 14)]
    assert list(occurrences("a+b a+bc", "a+b")) == [(0, 3)]
    assert list(occurrences("x+y+z", "+y+")) == [(1, 4)]


def test_long_lines_are_scanned_in_overlapping_windows():
    line = "x " * WINDOW + SENDGRID + " y" * WINDOW
    detector = SecretDetector(_policy(plugins=[{"name": "SendGridDetector"}], patterns=[]))
    assert [(d.start, d.end) for d in detector.detect(line)] == [(2 * WINDOW, 2 * WINDOW + len(SENDGRID))]
    assert len(SENDGRID) < OVERLAP


ADVERSARIAL_FRAGMENTS = [
    "sk-proj-",
    "sk-",
    "eyJ",
    "eyJa.",
    "AKIA",
    f"{AWS_KEY_ID},",
    "aws key ",
    "password",
    'password="',
    "-----BEGIN PRIVATE KEY-----",
    "a://",
    "postgres://u:",
    "ghp_",
    "xoxb-",
    "Bearer ",
    "\nTOKEN=",
    "\nAPI_KEY_TOKEN",
    "`a",
    "a",
]


@pytest.mark.parametrize("fragment", ADVERSARIAL_FRAGMENTS)
def test_secret_scan_terminates_on_200_kb_of_repeated_prefixes(fragment):
    """Catastrophic backtracking would hang here; a linear scan takes well under a second."""
    text = (fragment * (200_000 // len(fragment) + 1))[:200_000]
    SecretDetector(load_policy()).detect(text)


def _policy(plugins: list[dict], patterns: list[dict], actions: dict | None = None) -> Policy:
    raw = yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))
    raw["secrets"] = {
        "actions": actions or {"default": "mask"},
        "detect_secrets": plugins,
        "patterns": patterns,
    }
    return parse_policy(raw, "test.yaml")


def test_off_secret_types_are_not_detected():
    rules = [
        {"id": "ticket", "type": "TICKET_TOKEN", "regex": r"tkt-[0-9]{6}", "score": 0.7},
        {"id": "order", "type": "ORDER_TOKEN", "regex": r"ord-[0-9]{6}", "score": 0.7},
    ]
    detector = SecretDetector(
        _policy(
            plugins=[{"name": "GitHubTokenDetector"}],
            patterns=rules,
            actions={"default": "off", "ORDER_TOKEN": "log"},
        )
    )
    text = "use tkt-123456 and ord-654321 with ghp_" + "a1B2" * 9
    assert [d.entity_type for d in detector.detect(text)] == ["ORDER_TOKEN"]


def test_unknown_plugin_names_file_and_key():
    with pytest.raises(PolicyError, match=r"test\.yaml: secrets\.detect_secrets\[0\]\.name: unknown"):
        SecretDetector(_policy(plugins=[{"name": "NoSuchDetector"}], patterns=[]))


def test_invalid_plugin_options_name_file_and_key():
    with pytest.raises(PolicyError, match=r"test\.yaml: secrets\.detect_secrets\[0\]: invalid options"):
        SecretDetector(_policy(plugins=[{"name": "Base64HighEntropyString", "limit": 9}], patterns=[]))


def test_plugin_options_are_honoured():
    line = 'blob = "c2VjcmV0LXZhbHVlLWZvci10ZXN0cy1vbmx5LTEyMzQ1Ng=="'
    strict = SecretDetector(_policy(plugins=[{"name": "Base64HighEntropyString", "limit": 5.5}], patterns=[]))
    loose = SecretDetector(_policy(plugins=[{"name": "Base64HighEntropyString", "limit": 3.0}], patterns=[]))
    assert strict.detect(line) == []
    assert [d.entity_type for d in loose.detect(line)] == ["HIGH_ENTROPY_STRING"]


def test_pattern_without_secret_group_masks_the_whole_match():
    rule = {"id": "ticket", "type": "TICKET_TOKEN", "regex": r"tkt-[0-9]{6}", "score": 0.7}
    detector = SecretDetector(_policy(plugins=[], patterns=[rule]))
    [d] = detector.detect("use tkt-123456 now")
    assert (d.start, d.end, d.entity_type, d.engine, d.recognizer, d.score) == (
        4,
        14,
        "TICKET_TOKEN",
        "pattern",
        "ticket",
        0.7,
    )


def test_actions_for_types_of_configured_plugins_and_patterns_are_accepted():
    rule = {"id": "ticket", "type": "TICKET_TOKEN", "regex": r"tkt-[0-9]{6}", "score": 0.7}
    actions = {"default": "mask", "GITHUB_TOKEN": "block", "TICKET_TOKEN": "redact", "SLACK_TOKEN": "off"}
    plugins = [{"name": "GitHubTokenDetector"}, {"name": "SlackDetector"}]
    detector = SecretDetector(_policy(plugins=plugins, patterns=[rule], actions=actions))
    assert [d.entity_type for d in detector.detect("use tkt-123456")] == ["TICKET_TOKEN"]


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKN",  # a typo
        "SLACK_TOKEN",  # a real type, but no configured plugin or pattern reports it
    ],
)
def test_action_for_a_type_nothing_reports_names_file_and_key(name):
    actions = {"default": "mask", name: "block"}
    with pytest.raises(PolicyError, match=rf"test\.yaml: secrets\.actions\.{name}: no plugin"):
        SecretDetector(_policy(plugins=[{"name": "GitHubTokenDetector"}], patterns=[], actions=actions))
