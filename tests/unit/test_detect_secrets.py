"""Secret detection: today's key formats with exact spans, every occurrence, whole
private-key blocks, no findings on hashes, ids and placeholders, kingfisher as a second
engine, linear-time patterns."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
import yaml

from maskgate.detect import secrets
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
GITLAB = "glpat-FAKEq2w3e4r5t6y7u8i9"
GITLAB_ROUTABLE = "glpat-FAKEa1b2c3d4e5f6g7h8i9j0k1l.01.0w1x2y3z4"
SLACK_REFRESH = "xoxe.xoxp-1-Mi0yLTE3FAKEq2w3e4r5t6y7"
SLACK_WEBHOOK = "https://hooks.slack.com/services/T0FAKE123/B0FAKE456/aBcDeFgHiJkLmNoPqRsTuVwX"
HUGGINGFACE = "hf_FAKEabcdefghijklmnopqrstuvwxyzABCD"
GOOGLE_CLIENT_SECRET = "GOCSPX-FAKE1a2b3c4d5e6f7g8h9i0j_k-l"
GOOGLE_ACCESS_TOKEN = "ya29.a0FAKEAfH6SMBx3y2z1w0v9u8t7s6r5q4p3o2n1m"
AZURE_CLIENT_SECRET = "Ab12Q~FAKEzYxWvUtSrQpOnMlKjIhGfEdCbA.9_8"
AZURE_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
AZURE_SHARED_KEY = "ICRwx4vAsIDC7GRUvdvtokJCGTlShvycYDO/z7GI1Mk="
AZURE_SAS = "FAKEq9Xk2Lm5Qp8Rs1Tu4Vw7Yz0Ab3Cd6Ef9Gh2Ij5Kl%3D"
GROQ = "gsk_FAKEu8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj"
"""A format no plugin or pattern of the shipped rules knows: only kingfisher finds it."""


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
        (f"the pipeline log prints {GITLAB} in full", "GITLAB_TOKEN", GITLAB),
        (f"use {GITLAB_ROUTABLE}.", "GITLAB_TOKEN", GITLAB_ROUTABLE),
        (f"refresh with {SLACK_REFRESH} when it expires", "SLACK_TOKEN", SLACK_REFRESH),
        (f"curl -X POST -d @msg.json {SLACK_WEBHOOK}", "SLACK_TOKEN", SLACK_WEBHOOK),
        (f"login({HUGGINGFACE}) keeps failing", "HUGGINGFACE_TOKEN", HUGGINGFACE),
        (f"the OAuth client secret is {GOOGLE_CLIENT_SECRET}", "GOOGLE_CLIENT_SECRET", GOOGLE_CLIENT_SECRET),
        (f"my access token {GOOGLE_ACCESS_TOKEN} expired", "GOOGLE_ACCESS_TOKEN", GOOGLE_ACCESS_TOKEN),
        (f"tenant login with {AZURE_CLIENT_SECRET} fails", "AZURE_CLIENT_SECRET", AZURE_CLIENT_SECRET),
        (f"AZURE_OPENAI_API_KEY={AZURE_KEY}", "AZURE_API_KEY", AZURE_KEY),
        (f'curl $ENDPOINT -H "api-key: {AZURE_KEY}"', "AZURE_API_KEY", AZURE_KEY),
        (
            f"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={AZURE_SHARED_KEY}",
            "AZURE_SHARED_ACCESS_KEY",
            AZURE_SHARED_KEY,
        ),
        (
            f"https://acct.blob.core.windows.net/c/report.pdf?sv=2022-11-02&sp=r&sig={AZURE_SAS}",
            "AZURE_SAS_TOKEN",
            AZURE_SAS,
        ),
        ("db:\n  host: db.internal\n  password: Tr0ub4dor&3-horse\n", "PASSWORD", "Tr0ub4dor&3-horse"),
        ("spring.datasource.password=c0rrect-h0rse", "PASSWORD", "c0rrect-h0rse"),
        ("machine api.example.com\n  login deploy\n  password N3tRc-pass\n", "PASSWORD", "N3tRc-pass"),
        ("auth:\n  client_secret: 9d8f7a6b5c4e3d2f1a0b\n", "SECRET", "9d8f7a6b5c4e3d2f1a0b"),
        ("mysql -u root -p'Sq1-pass!' shop", "PASSWORD", "Sq1-pass!"),
        ("backup --password=Hunter2x9 --user admin", "PASSWORD", "Hunter2x9"),
        ("  502  export SMTP_PASSWORD=hist0ry-Pa55", "SECRET", "hist0ry-Pa55"),
        ("FROM python:3.12\nENV API_TOKEN=tok_4Fq9Zr2Lx7\n", "SECRET", "tok_4Fq9Zr2Lx7"),
        ("PGPASSWORD=inl1ne-Pa55 psql -h db -U app", "SECRET", "inl1ne-Pa55"),
        ("env -i API_TOKEN=tok_8Hs2Kd5Lq1 ./deploy.sh", "SECRET", "tok_8Hs2Kd5Lq1"),
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


@pytest.mark.parametrize(
    "text",
    [
        "GitLab tokens start with glpat- and a short one like glpat-abc123 is rejected",
        "the xoxe.xoxp- prefix marks a refresh token; webhooks live under https://hooks.slack.com/services/",
        "from huggingface_hub import hf_hub_download; hf_hub_download(repo_id='bert-base-uncased')",
        "GOCSPX-short and ya29.short are cut-off examples",
        "abc1Q~short is not a client secret",
        "md5 = 0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "SharedAccessKeyName=RootManageSharedAccessKey",
        "https://example.com/img.png?sig=short",
        "db:\n  password: required\n  passphrase: str\n  pwd: 12345678\n",
        "  password: settings.DB_PASSWORD\n  password: ${DB_PASSWORD}\n",
        "Password: use the reset link in the e-mail.\n",
        "tls:\n  private_key: /etc/ssl/private/app.key\n",
        "  token: Optional[str] = None\n  secretName: tls-cert-2024\n  max_tokens: 256\n",
        "  tokenizer: bert-base-v2\ninterface Login {\n  password: string;\n}\n",
        "  --password TEXT  Password to log in with\n  --password-stdin\ndocker run -p 8080:80 app\n",
        "SECRET_FILE=/run/secrets/app_key\nexport TOKEN=$(gh auth token)\n",
        "TOKEN_TTL=3600 ./run.sh\nAPI_KEY=$KEY make deploy\n",
    ],
)
def test_near_misses_of_the_patterns_are_not_secrets(detector, text):
    assert [text[d.start : d.end] for d in detector.detect(text) if d.secret] == []


@pytest.mark.parametrize(
    ("pattern_id", "text", "value", "near_miss"),
    [
        (
            "gitlab-token",
            f"token {GITLAB_ROUTABLE}.",
            GITLAB_ROUTABLE,
            "see glpat-abc123 or myglpat-FAKEq2w3e4r5t6y7u8i9",
        ),
        ("slack-token", f"use {SLACK_REFRESH}", SLACK_REFRESH, "xoxe.xoxp- is the refresh prefix"),
        (
            "slack-webhook",
            f"POST {SLACK_WEBHOOK}",
            SLACK_WEBHOOK,
            "https://hooks.slack.com/services/T0FAKE123",
        ),
        (
            "huggingface-token",
            f"login({HUGGINGFACE})",
            HUGGINGFACE,
            "hf_hub_download_with_a_long_name_abcdefgh()",
        ),
        ("google-client-secret", f"secret {GOOGLE_CLIENT_SECRET}", GOOGLE_CLIENT_SECRET, "GOCSPX-tooshort"),
        (
            "google-access-token",
            f"token {GOOGLE_ACCESS_TOKEN}",
            GOOGLE_ACCESS_TOKEN,
            "ya29.short or x.ya29.a0FAKEAfH6SMBx3y2z1w0v9u8t7s6r5q",
        ),
        (
            "azure-client-secret",
            f"secret {AZURE_CLIENT_SECRET}",
            AZURE_CLIENT_SECRET,
            "abc1Q~short and Ab1xQ~FAKEzYxWvUtSrQpOnMlKjIhGfEdCbA.9_8",
        ),
        ("azure-api-key", f'azure_openai_key = "{AZURE_KEY}"', AZURE_KEY, f'md5 = "{AZURE_KEY}"'),
        (
            "azure-shared-access-key",
            f"SharedAccessKey={AZURE_SHARED_KEY}",
            AZURE_SHARED_KEY,
            "SharedAccessKeyName=RootManageSharedAccessKey",
        ),
        (
            "azure-sas-signature",
            f"?sv=2022-11-02&sig={AZURE_SAS}",
            AZURE_SAS,
            "?sig=short&design=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7",
        ),
        (
            "password-unquoted",
            "  db_password: Cobalt998.",
            "Cobalt998.",
            "  password: required\n  password: str\n  password: a.b",
        ),
        (
            "secret-unquoted",
            "secret_key: 9d8f7a6b5c4e",
            "9d8f7a6b5c4e",
            "  secretName: tls-2024\n  token: 3600\n  token: x;",
        ),
        (
            "cli-password",
            "mysql -p'Sq1-pass!' db",
            "Sq1-pass!",
            "--password TEXT\n-p 8080:80\n--password-stdin",
        ),
        (
            "env-secret-assignment",
            "  17  export DB_PASSWORD=hist0ry-Pa55",
            "hist0ry-Pa55",
            "DB_PASSWORD=/run/secrets/db",
        ),
        (
            "inline-env-secret",
            "PGPASSWORD=inl1ne-Pa55 psql",
            "inl1ne-Pa55",
            "TOKEN_TTL=3600 ./run.sh\nX_TOKEN=ab1c\n",
        ),
        ("secret-assignment", 'secret_key = "9d8f7a6b5c4e"', "9d8f7a6b5c4e", 'secret_name = "9d8f7a6b5c4e"'),
    ],
)
def test_each_pattern_finds_its_format_and_not_a_near_miss(pattern_id, text, value, near_miss):
    """Each pattern on its own, so that another pattern or engine cannot cover for it."""
    [pattern] = [p for p in load_policy().secrets.patterns if p.id == pattern_id]
    assert [text[d.start : d.end] for d in secrets._pattern_detections(pattern, text)] == [value]
    assert [near_miss[d.start : d.end] for d in secrets._pattern_detections(pattern, near_miss)] == []


@pytest.mark.parametrize(
    "text",
    [
        "OPENAI_API_KEY=sk-...",
        f"GITHUB_TOKEN=ghp_{'x' * 36}",
        "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
        "api_key: YOUR_API_KEY",
        f'stripe.api_key = "sk_live_{"X" * 24}"',
        'password = "********"',
        "export API_TOKEN=replace-me-123",
        "token = 'sk-your-key-here-1234567890'",
    ],
)
def test_placeholder_keys_are_not_secrets(detector, text):
    assert [text[d.start : d.end] for d in detector.detect(text) if d.secret] == []


def test_an_elided_private_key_is_still_masked(detector):
    text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu3z8FAKE...\n-----END RSA PRIVATE KEY-----"
    assert found(detector, text) == [("PRIVATE_KEY", text)]


GENERIC_PLUGINS = [
    {"name": "Base64HighEntropyString"},
    {"name": "HexHighEntropyString"},
    {"name": "KeywordDetector"},
]
SRI = "a76HJeVEqLALWQ2LQ3UF6q1B7AYqqBXCJS4yhwabT0yrDn/6ojaWpJLeAt2id0wXx/M5svZAb9gIcthCGKi1hA=="
HEX64 = "39536b3216fdaeeb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947c"
HEX40 = "cf25ec84d8dbc74254770f58904dba41ecccc3fc"
PNG = (
    "iVBORw0KGgoAAAANSUhEUusKtBVNi6vVOSQcqQkBsh6JJ+foBxR3Y3AARchxZyS2kjQJwKGYBjORWmB6vjmW43+Zsy2tthVvn8cEyg=="
)


@pytest.mark.parametrize(
    "text",
    [
        f'"integrity": "sha512-{SRI}",',
        f'<script src="lib.js" integrity="sha384-{SRI[:64]}"></script>',
        f'checksum = "{HEX64}"',
        f'  resolved "https://registry.yarnpkg.com/x/-/x-1.0.0.tgz#{HEX40}"',
        f'    {{file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:{HEX64}"}},',
        f'image: "ghcr.io/acme/api@sha256:{HEX64}"',
        f'pip install "git+https://github.com/acme/widgets@{HEX40}"',
        f'commit = "{HEX40}"',
        f'<img src="data:image/png;base64,{PNG}">',
        '{"id": "chatcmpl-W2mZp0zVZomHFwUbbYrEqmSM9wCZ7", "tool_call_id": "call_Uw9xfogoEmvnEN5N1aE6PwZP"}',
        '{"customer": "cus_W2mZp0zVZomHFw", "payment_method": "pm_Uw9xfogoEmvnEN5N1aE6PwZP"}',
    ],
)
def test_generic_plugins_leave_digests_hashes_and_object_ids_alone(without_kingfisher, text):
    detector = SecretDetector(_policy(plugins=GENERIC_PLUGINS, patterns=[]))
    assert [text[d.start : d.end] for d in detector.detect(text)] == []


@pytest.mark.parametrize(
    "text, value",
    [
        (f'signing_key = "{HEX40}"', HEX40),
        (
            'client_token = "lwngXdShg+hGRMMqb+cOWxa5ncUn8gg5pPlXiKSK"',
            "lwngXdShg+hGRMMqb+cOWxa5ncUn8gg5pPlXiKSK",
        ),
    ],
)
def test_generic_plugins_still_find_keys(without_kingfisher, text, value):
    detector = SecretDetector(_policy(plugins=GENERIC_PLUGINS, patterns=[]))
    assert {text[d.start : d.end] for d in detector.detect(text)} == {value}


def test_kingfisher_finds_formats_the_rules_do_not_know(detector):
    text = f"my groq key {GROQ} stopped working, then {GROQ} worked again"
    detections = detector.detect(text)
    assert [(d.entity_type, text[d.start : d.end], d.engine) for d in detections] == [
        ("GROQ_API_KEY", GROQ, "kingfisher"),
        ("GROQ_API_KEY", GROQ, "kingfisher"),
    ]
    assert all(d.secret and d.recognizer.endswith("groq-api-key") for d in detections)


def test_kingfisher_spans_count_characters_not_bytes():
    text = f"Schlüssel für Groq — {GROQ} — geht nicht 🙁 {GROQ}"
    spans = [(d.start, d.end) for d in SecretDetector(load_policy()).detect(text)]
    assert [text[start:end] for start, end in spans] == [GROQ, GROQ]


def test_kingfisher_types_take_their_actions_from_the_policy():
    raw = yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))
    raw["secrets"]["actions"] = {"default": "mask", "GROQ_API_KEY": "off", "NPM_TOKEN": "block"}
    detector = SecretDetector(parse_policy(raw, "test.yaml"))
    assert detector.detect(f"key {GROQ}") == []


def test_without_kingfisher_installed_the_other_engines_still_run(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "kingfisher_sdk", None)
    with caplog.at_level(logging.WARNING, logger="maskgate"):
        assert secrets._kingfisher.__wrapped__() is None
    assert "kingfisher-secret-scanner is not installed" in caplog.text
    monkeypatch.setattr(secrets, "_kingfisher", lambda: None)
    text = f"keys {GROQ} and {GITLAB}"
    assert [text[d.start : d.end] for d in SecretDetector(load_policy()).detect(text)] == [GITLAB]


def test_kingfisher_caches_only_its_compiled_rules_in_the_users_cache(monkeypatch, tmp_path):
    for name in ("HOME", "XDG_CACHE_HOME", "KF_RULE_CACHE_DIR", "TMPDIR"):
        monkeypatch.setenv(name, str(tmp_path / name))
        (tmp_path / name).mkdir()
    for _ in range(2):  # the second build reads the cache the first one wrote
        kingfisher = secrets._kingfisher.__wrapped__()
        assert kingfisher is not None and [d.engine for d in _scan(kingfisher, GROQ)] == ["kingfisher"]
    cache = tmp_path / "XDG_CACHE_HOME" / "maskgate" / "kingfisher"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.parent == cache for p in written)
    assert cache.stat().st_mode & 0o077 == 0
    assert not any(GROQ.encode() in p.read_bytes() for p in written)


def _scan(kingfisher, text: str) -> list:
    return list(secrets._kingfisher_detections(kingfisher, text))


def test_occurrences_skip_matches_inside_longer_words():
    assert list(occurrences("pwd pw pw2 (pw)", "pw")) == [(4, 6), (12, 14)]
    assert list(occurrences("a+b a+bc", "a+b")) == [(0, 3)]
    assert list(occurrences("x+y+z", "+y+")) == [(1, 4)]


def test_long_lines_are_scanned_in_overlapping_windows(without_kingfisher):
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
    "glpat-",
    "password: a1",
    "--password=",
    "-p'",
    "sig=",
    "aaa1Q~",
    "azure_key=",
    "\n  db_password: ",
    "\nsecret_key: a",
    " API_TOKEN=aaaa",
    "\n1 export TOKEN=",
]


@pytest.mark.parametrize("fragment", ADVERSARIAL_FRAGMENTS)
def test_secret_scan_terminates_on_200_kb_of_repeated_prefixes(fragment):
    """Catastrophic backtracking would hang here; a linear scan takes well under a second."""
    text = (fragment * (200_000 // len(fragment) + 1))[:200_000]
    SecretDetector(load_policy()).detect(text)


@pytest.fixture
def without_kingfisher(monkeypatch):
    """Detectors built in this test run only the plugins and patterns of their rules."""
    monkeypatch.setattr(secrets, "_kingfisher", lambda: None)


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
        "SQUARE_OAUTH_SECRET",  # a real type, but no configured plugin or pattern reports it
    ],
)
def test_action_for_a_type_nothing_reports_names_file_and_key(name):
    actions = {"default": "mask", name: "block"}
    with pytest.raises(PolicyError, match=rf"test\.yaml: secrets\.actions\.{name}: no plugin"):
        SecretDetector(_policy(plugins=[{"name": "GitHubTokenDetector"}], patterns=[], actions=actions))
