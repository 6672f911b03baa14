"""Chat-completion requests that carry personal data and secrets in every field maskgate analyses.

Each entry lists the original sensitive values it contains, so a test can prove that none of
them left the proxy and that the answer brings them back. Between them the entries cover:
string content and ``text``/``refusal`` parts for every role, assistant tool-call arguments and
the legacy ``function_call`` (JSON text whose values hold quotes, backslashes and a bare
integer), the ``user`` field, an image part and unknown fields that must pass unchanged, and
values that also sit in fields the detector never reads (message ``name``, ``metadata``, an
unknown field), where only exact-match propagation can mask them.

Every entry ends with a user message holding some of the originals: the fake model echoes that
message, which is what makes the round trip checkable.

Secrets are generated from fixed seeds rather than written out, so the repository holds no
string that a secret scanner would report, while every run sends the same realistic values.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import string
import textwrap
from dataclasses import dataclass
from typing import Any

MODEL = "gpt-4o-mini"

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"


def _chars(alphabet: str, length: int, seed: str) -> str:
    """Deterministic random characters: realistic high-entropy token bodies, the same on every run."""
    return "".join(random.Random(seed).choices(alphabet, k=length))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt() -> str:
    """An HS256-shaped JWT with a real JSON header and payload, as detectors validate them."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = {"sub": "user-829104", "scope": "billing:write", "iat": 1718000000}
    payload_part = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64url(random.Random("jwt").randbytes(32))
    return f"{header}.{payload_part}.{signature}"


def _pem_body_lines() -> list[str]:
    """The base64 lines of an RSA private key block: DER sequence header, then random key bytes."""
    der = bytes.fromhex("308204a40201000282010100") + random.Random("pem").randbytes(360)
    return textwrap.wrap(base64.b64encode(der).decode(), 64)


# Personal data, chosen so that the shipped detector finds each one in its sentence.
DANA = "Dana Whitfield"
DANA_EMAIL = "dana.whitfield@example.org"
THOMAS = "Thomas Brennan"
THOMAS_EMAIL = "t.brennan@example.com"
RENEE = "Renée Dubois"
HENRIK = "Henrik Sørensen"
MARCUS = "Marcus Lindqvist"
MARCUS_EMAIL = "marcus.lindqvist@example.net"
PRIYA = "Priya Raman"
SARAH = "Sarah Kowalski"
INGRID = "Ingrid Halvorsen"
PHONE = "+1 415-555-0132"
PHONE_2 = "+1 415-555-0198"
SSN = "536-22-8471"
CARD = "4111 1111 1111 1111"
CARD_DIGITS = 5500000000000004
IBAN = "DE89370400440532013000"
IP = "203.0.113.42"
IP_2 = "198.51.100.7"
LYON = "Lyon"
COPENHAGEN = "Copenhagen"
DENVER = "Denver"

# Secrets in their providers' formats.
OPENAI_KEY = "sk-proj-" + _chars(URLSAFE, 26, "openai-1") + _chars(ALNUM, 22, "openai-2") + "T3BlbkFJ"
OPENAI_KEY += _chars(ALNUM, 48, "openai-3")
ANTHROPIC_KEY = "sk-ant-api03-" + _chars(URLSAFE, 93, "anthropic") + "AA"
GITHUB_TOKEN = "ghp_" + _chars(ALNUM, 36, "github")
AWS_KEY_ID = "AKIA" + _chars(string.ascii_uppercase + "234567", 16, "aws-id")
AWS_SECRET = _chars(ALNUM + "/+", 40, "aws-secret")
SLACK_TOKEN = "xoxb-" + "-".join(
    (_chars(string.digits, 10, "slack-1"), _chars(string.digits, 13, "slack-2"), _chars(ALNUM, 24, "slack-3"))
)
STRIPE_KEY = "sk_live_" + _chars(ALNUM, 99, "stripe")
JWT = _jwt()
PEM_LINES = _pem_body_lines()
PEM_KEY = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *PEM_LINES, "-----END RSA PRIVATE KEY-----"])
# A password with a quote and a backslash: it must stay valid inside JSON strings, twice escaped
# in tool-call arguments, and come back byte for byte.
DB_PASSWORD = 'p"a\\ss'
DB_URL = f"postgres://app:{DB_PASSWORD}@db.internal:5432/x"
# The shipped password-assignment rule ends a quoted value at its first quote, so a quote inside
# one is not masked whole; what such an assignment can carry intact is a backslash.
SMTP_PASSWORD = "Tr0ub4dor\\&3x"

# A tiny PNG: binary parts are never altered, whatever their bytes look like.
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a1d5a50000000049454e44ae426082"
    )
).decode("ascii")

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "record_note",
            "description": "Store a note for later.",
            "parameters": {"type": "object", "properties": {"echo": {"type": "string"}}},
        },
    }
]
"""Sending tools makes the fake answer with a tool call whose arguments echo the user text."""

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class CorpusEntry:
    """One request body and the sensitive values in it."""

    id: str
    body: dict[str, Any]
    originals: tuple[str, ...]
    """Every value that must not leave the proxy (secrets whole, key blocks line by line)."""
    sdk: bool = True
    """False for shapes the SDK refuses (unknown top-level fields): sent as raw JSON instead."""
    verbatim: tuple[Path, ...] = ()
    """Paths into the body whose values must reach upstream exactly as sent."""

    def request(self, **overrides: Any) -> dict[str, Any]:
        """A fresh copy of the body, so a test never sees another test's changes."""
        return {**copy.deepcopy(self.body), **overrides}


def text(value: str) -> dict[str, str]:
    """A ``text`` content part."""
    return {"type": "text", "text": value}


def arguments(**values: Any) -> str:
    """Tool-call arguments as a client sends them: JSON text, ASCII-escaped by default."""
    return json.dumps(values)


def value_at(body: Any, path: Path) -> Any:
    """The value at ``path`` in a parsed body, e.g. ``("messages", 0, "content", 1)``."""
    for key in path:
        body = body[key]
    return body


CORPUS: tuple[CorpusEntry, ...] = (
    CorpusEntry(
        id="string-content-every-role",
        body={
            "model": MODEL,
            "messages": [
                {"role": "system", "content": f"You are a support assistant for the account of {DANA}."},
                {"role": "developer", "content": f"Send every summary to {MARCUS_EMAIL} as well."},
                {"role": "user", "content": f"My colleague {THOMAS} moved to {DENVER} last spring."},
                {"role": "assistant", "content": f"Noted: {THOMAS} now works from {DENVER}."},
                {
                    "role": "user",
                    "content": (
                        f"Write a short, friendly reply to {DANA}. Her SSN is {SSN} and she asked about"
                        f" her card {CARD}. Call her on phone {PHONE} if needed."
                    ),
                },
            ],
        },
        originals=(DANA, MARCUS_EMAIL, THOMAS, DENVER, SSN, CARD, PHONE),
    ),
    CorpusEntry(
        id="text-parts-every-role",
        body={
            "model": MODEL,
            "messages": [
                {"role": "system", "content": [text(f"Answer questions about the clients of {RENEE}.")]},
                {"role": "developer", "content": [text(f"Never reveal the IBAN {IBAN} in full.")]},
                {"role": "user", "content": [text(f"I spoke with {HENRIK} from {COPENHAGEN} yesterday.")]},
                {
                    "role": "assistant",
                    "content": [
                        text(f"Thanks, I will keep {HENRIK} in mind."),
                        {"type": "refusal", "refusal": f"I can't share the home address of {SARAH}."},
                    ],
                },
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_lookup01",
                            "type": "function",
                            "function": {"name": "lookup_client", "arguments": arguments(city=LYON)},
                        }
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_lookup01",
                    "content": [text(f"Client {PRIYA}, phone {PHONE_2}, located in {LYON}.")],
                },
                {
                    "role": "user",
                    "content": [
                        text(f"Please ask {RENEE} to confirm the address of {PRIYA}."),
                        text(f"The build server at {IP} keeps rejecting her login."),
                    ],
                },
            ],
        },
        originals=(RENEE, IBAN, HENRIK, COPENHAGEN, SARAH, PRIYA, PHONE_2, LYON, IP),
    ),
    CorpusEntry(
        id="tool-call-arguments",
        body={
            "model": MODEL,
            "messages": [
                {"role": "user", "content": f"Email {INGRID} the database settings."},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_mail01",
                            "type": "function",
                            "function": {
                                "name": "send_email",
                                "arguments": arguments(
                                    to=DANA_EMAIL,
                                    body=f'Hi {INGRID},\nuse DATABASE_URL="{DB_URL}" for now.',
                                    card=CARD_DIGITS,
                                    cc=[{"name": SARAH, "phone": PHONE}],
                                ),
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_mail01", "content": f"Sent to {DANA_EMAIL}."},
                {"role": "user", "content": f"Now send {INGRID} the connection string {DB_URL} again."},
            ],
        },
        originals=(INGRID, DANA_EMAIL, DB_PASSWORD, str(CARD_DIGITS), SARAH, PHONE),
    ),
    CorpusEntry(
        id="legacy-function-call",
        body={
            "model": MODEL,
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "function_call": {
                        "name": "create_ticket",
                        "arguments": arguments(reporter=THOMAS, ip=IP_2, note=f'said "{SSN}" twice'),
                    },
                },
                {"role": "function", "name": "create_ticket", "content": f"Ticket opened for {THOMAS}."},
                {"role": "user", "content": f"Tell {THOMAS} that {IP_2} is blocked now."},
            ],
        },
        originals=(THOMAS, IP_2, SSN),
    ),
    CorpusEntry(
        id="user-field",
        body={
            "model": MODEL,
            "user": THOMAS_EMAIL,
            "messages": [{"role": "user", "content": f"Remind {DANA} to pay the invoice."}],
        },
        originals=(THOMAS_EMAIL, DANA),
    ),
    CorpusEntry(
        id="image-and-unknown-fields",
        body={
            "model": MODEL,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        text(f"Is this the signature of {MARCUS}? Reply to {MARCUS_EMAIL}."),
                        {"type": "image_url", "image_url": {"url": PNG_DATA_URL, "detail": "low"}},
                    ],
                }
            ],
            "client_context": {"app": "notes-desktop", "build": 2417, "flags": ["beta"], "ratio": 0.70},
            "client_routing": {"reply_to": MARCUS_EMAIL, "priority": "high"},
        },
        originals=(MARCUS, MARCUS_EMAIL),
        sdk=False,
        verbatim=(("messages", 0, "content", 1), ("client_context",), ("client_routing", "priority")),
    ),
    CorpusEntry(
        id="propagation-to-unanalysed-fields",
        body={
            "model": MODEL,
            "metadata": {"customer_email": DANA_EMAIL, "owner": SARAH, "team": "billing"},
            "messages": [
                {"role": "user", "name": SARAH, "content": f"Hi, this is {SARAH} from billing."},
                {"role": "user", "content": f"Please answer {DANA_EMAIL} today."},
            ],
        },
        originals=(DANA_EMAIL, SARAH),
        verbatim=(("metadata", "team"),),
    ),
    CorpusEntry(
        id="secrets-in-config",
        body={
            "model": MODEL,
            "messages": [
                {"role": "developer", "content": f"Use the service token {SLACK_TOKEN} for alerts."},
                {
                    "role": "user",
                    "content": (
                        "Why does this .env not load?\n\n"
                        f"OPENAI_API_KEY={OPENAI_KEY}\n"
                        f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n"
                        f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n"
                        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
                        f"STRIPE_SECRET_KEY={STRIPE_KEY}\n"
                        f"DATABASE_URL={DB_URL}\n"
                        f"git remote: https://{GITHUB_TOKEN}@github.com/acme/app.git\n"
                    ),
                },
            ],
        },
        originals=(
            SLACK_TOKEN,
            OPENAI_KEY,
            ANTHROPIC_KEY,
            AWS_KEY_ID,
            AWS_SECRET,
            STRIPE_KEY,
            DB_PASSWORD,
            GITHUB_TOKEN,
        ),
    ),
    CorpusEntry(
        id="password-in-code",
        body={
            "model": MODEL,
            "messages": [
                {
                    "role": "user",
                    "content": (
                        f'The mailer cannot log in with\n\n    smtp_password = "{SMTP_PASSWORD}"\n\n'
                        f"and the log says: connecting to {DB_URL} timed out. What is wrong?"
                    ),
                }
            ],
        },
        originals=(SMTP_PASSWORD, DB_PASSWORD),
    ),
    CorpusEntry(
        id="key-block-and-jwt",
        body={
            "model": MODEL,
            "messages": [
                {
                    "role": "user",
                    "content": (
                        f"The API answers 401 to `Authorization: Bearer {JWT}`.\n"
                        f"This is the signing key:\n{PEM_KEY}\nWhat is wrong?"
                    ),
                }
            ],
        },
        originals=(JWT, *PEM_LINES),
    ),
)
