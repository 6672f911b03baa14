"""Seeded benchmark texts: prose full of personal data, code-heavy text, and chat bodies of them.

Every text comes from its own `random.Random(seed)`, so a run is reproducible and two seeds give
two different texts. Almost every line carries randomly chosen names, numbers or identifiers: a
detection cache keyed by text (whole messages or single lines) meets nothing it has seen before
unless the benchmark repeats a text on purpose, as a client resending its history does.

Sizes are in bytes of the compact JSON request body, as it travels; the texts are ASCII.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

KB = 1024
MODEL = "gpt-4o-mini"
MESSAGE_CHARS = 2000
"""A body grows by messages of about this length, as a conversation does."""
MIN_NEW_MESSAGE = 200
"""Bytes left below the size for a new message to start; less goes to the last message."""

FIRST = (
    "Dana", "Michael", "Priya", "Jonas", "Helen", "Marcus", "Sofia", "Daniel", "Grace", "Oliver",
    "Laura", "Samuel", "Chloe", "Victor", "Nadia", "Peter", "Emily", "Robert", "Alice", "Thomas",
)  # fmt: skip
LAST = (
    "Whitfield", "Hartmann", "Raman", "Becker", "Morgan", "Delgado", "Lindqvist", "Okafor", "Turner",
    "Fischer", "Brennan", "Castillo", "Novak", "Harrison", "Sullivan", "Keller", "Duarte", "Walsh",
)  # fmt: skip
DOMAINS = ("example.org", "example.com", "mail.example.net", "corp.example.io")
STREETS = ("Maple Avenue", "Oak Street", "Harbor Road", "Elm Drive", "Cedar Lane", "Mill Road")
CITIES = (
    ("Springfield", "IL"), ("Portland", "OR"), ("Denver", "CO"), ("Austin", "TX"), ("Boston", "MA"),
    ("Seattle", "WA"), ("Chicago", "IL"), ("Phoenix", "AZ"),
)  # fmt: skip
TOPICS = ("refund", "delivery", "contract", "invoice", "appointment", "warranty claim", "subscription")
NOUNS = ("order", "invoice", "customer", "account", "shipment", "report", "session", "ticket", "item")
VERBS = ("load", "fetch", "sync", "parse", "build", "update", "delete", "render", "validate")
LEVELS = ("INFO", "WARNING", "ERROR", "DEBUG")


def prose_paragraphs(rng: random.Random) -> Iterator[str]:
    """Endless paragraphs of a support conversation: names, e-mails, phones, addresses."""
    while True:
        yield " ".join(_prose_sentence(rng) for _ in range(rng.randint(3, 6)))


def code_paragraphs(rng: random.Random) -> Iterator[str]:
    """Endless blocks of Python, JavaScript or log lines, some with a short question around them."""
    blocks = (_python_block, _js_block, _log_block)
    while True:
        yield rng.choice(blocks)(rng)


def mixed_paragraphs(rng: random.Random) -> Iterator[str]:
    """Prose and code in turns, as a conversation about a program goes."""
    prose, code = prose_paragraphs(rng), code_paragraphs(rng)
    while True:
        yield next(prose)
        yield next(code)


PARAGRAPHS: dict[str, Callable[[random.Random], Iterator[str]]] = {
    "prose": prose_paragraphs,
    "code": code_paragraphs,
    "mixed": mixed_paragraphs,
}


def text(kind: str, size: int, seed: int | str) -> str:
    """About `size` characters of `kind` text, cut after a word."""
    paragraphs = PARAGRAPHS[kind](random.Random(f"{kind}:{seed}"))
    out = ""
    while len(out) < size:
        out += ("\n\n" if out else "") + next(paragraphs)
    cut = out.rfind(" ", 0, size)
    return out[: cut if cut > 0 else size].rstrip()


def chat_body(contents: list[str], *, stream: bool = False, last_role: str = "user") -> dict[str, Any]:
    """A chat-completion request whose messages are `contents`, user and assistant in turns,
    the last one from `last_role`."""
    other = "assistant" if last_role == "user" else "user"
    last = len(contents) - 1
    messages = [
        {"role": last_role if (last - i) % 2 == 0 else other, "content": content}
        for i, content in enumerate(contents)
    ]
    return {"model": MODEL, "stream": stream, "messages": messages}


def encode(body: dict[str, Any]) -> bytes:
    """Compact JSON, as the openai SDK sends a body."""
    return json.dumps(body, separators=(",", ":")).encode()


def sized_body(kind: str, size: int, seed: int | str, last_role: str = "user") -> dict[str, Any]:
    """A chat body of at most `size` bytes (a few less where the cut leaves trailing space) of
    `kind` text, in messages of about `MESSAGE_CHARS` characters; `last_role` says who wrote the
    last one."""
    paragraphs = PARAGRAPHS[kind](random.Random(f"{kind}:{seed}"))
    contents: list[str] = []

    def length() -> int:
        return len(encode(chat_body(contents, last_role=last_role)))

    while (room := size - length()) > 0:
        # A new message only where it fits with some text, so the cut below never empties it.
        if contents and (len(contents[-1]) < MESSAGE_CHARS or room < MIN_NEW_MESSAGE):
            contents[-1] += "\n\n" + next(paragraphs)
        else:
            contents.append(next(paragraphs))
    # The longest cut of the last message that fits: escapes (\n, \") cost more than a byte.
    whole, low, high = contents[-1], 0, len(contents[-1])
    while low < high:
        middle = (low + high + 1) // 2
        contents[-1] = whole[:middle]
        low, high = (middle, high) if length() <= size else (low, middle - 1)
    contents[-1] = whole[:low].rstrip()
    return chat_body(contents, last_role=last_role)


def contents(body: dict[str, Any]) -> list[str]:
    """The message texts of a body built here: what a plain analyzer is given."""
    return [message["content"] for message in body["messages"]]


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
    return f"{first} {last}", email


def _phone(rng: random.Random) -> str:
    area, line = rng.choice((212, 312, 415, 503, 617, 720)), rng.randint(100, 199)
    return rng.choice((f"+1 {area}-555-0{line}", f"({area}) 555-0{line}"))


def _address(rng: random.Random) -> str:
    city, state = rng.choice(CITIES)
    return f"{rng.randint(10, 9999)} {rng.choice(STREETS)}, {city}, {state} {rng.randint(10000, 99999)}"


def _prose_sentence(rng: random.Random) -> str:
    (name, email), (other, _) = _person(rng), _person(rng)
    topic, number, days = rng.choice(TOPICS), rng.randint(1000, 99999), rng.randint(2, 30)
    city = rng.choice(CITIES)[0]
    return rng.choice(
        (
            f"Please forward the {topic} papers for case {number} to {name} ({email}) within {days} days.",
            f"{name} called from {_phone(rng)} about the {topic} for order {number}.",
            f"The {topic} should be sent to {_address(rng)}, attention of {name}.",
            f"{name} met {other} in {city} on day {days} to settle the {topic} of account {number}.",
            f"You can reach {name} at {email} or on {_phone(rng)} after {days % 12 + 1} pm.",
            f"The {topic} queue held {number} requests this week and cleared {days} of them a day.",
            f"Our team closed {days} {topic} tickets and reopened {number % 97} after a second review.",
        )
    )


def _ident(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}{rng.choice(('', 's', '_ids', '_map'))}"


def _python_block(rng: random.Random) -> str:
    func, noun, other = _ident(rng), rng.choice(NOUNS), rng.choice(NOUNS)
    limit, retries, skip = rng.randint(10, 500), rng.randint(2, 9), rng.randint(0, 999)
    return "\n".join(
        (
            f"Why does `{func}` return nothing for {noun}s older than {limit} days?",
            "```python",
            f"def {func}(session, {noun}_id: int, limit: int = {limit}) -> list[dict]:",
            f'    """Fetch at most {limit} {other}s of one {noun}, skipping the first {skip}."""',
            f"    rows = session.query({other.title()}).filter_by({noun}_id={noun}_id).offset({skip})",
            f"    for attempt in range({retries}):  # {func} gives up after {retries * limit} ms",
            f"        if rows.count() > {rng.randint(0, 50)} and attempt < {retries - 1}:",
            f"            return [r.as_dict() for r in rows if r.{other}_state != {rng.randint(0, 99)}]",
            f"        log.debug('{func}: retry %d of {retries} for {noun} %s', attempt, {noun}_id)",
            f"    return [] if {noun}_id > {rng.randint(0, 9999)} else [{{'{other}': None}}]",
            "```",
        )
    )


def _js_block(rng: random.Random) -> str:
    func, noun = _ident(rng).replace("_", ""), rng.choice(NOUNS)
    page, timeout = rng.randint(10, 200), rng.randint(1, 60) * 500
    return "\n".join(
        (
            f"This {noun} page times out after {timeout} ms, here is the fetch:",
            "```js",
            f"export async function {func}(client, {noun}Id, page = {page}) {{",
            f"  const res = await client.get(`/api/{noun}s/${{{noun}Id}}/items?page=${{page}}&n={page}`);",
            f"  if (res.status === {rng.choice((404, 429, 500, 503))}) throw new Error('{func} failed');",
            f"  return res.json().then((data) => data.{rng.choice(NOUNS)}s.slice(0, {page}));",
            f"}}  // {noun} v{rng.randint(1, 9)}.{rng.randint(0, 20)}",
            "```",
        )
    )


def _log_block(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(3, 7)):
        name, email = _person(rng)
        stamp = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:"
        stamp += f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d},{rng.randint(0, 999):03d}"
        where = f"[worker-{rng.randint(1, 8)}] {rng.choice(NOUNS)}s.{rng.choice(VERBS)}"
        detail = rng.choice(
            (
                f"timeout after {rng.randint(1, 60)}.0s for account {rng.randint(10000, 99999)}",
                f"user={email} ip=10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                f"retrying {rng.choice(NOUNS)} {rng.randint(1, 9999)} ({rng.randint(1, 5)} of 5)",
                f"owner '{name}' has no {rng.choice(NOUNS)} in region eu-{rng.randint(1, 3)}",
            )
        )
        lines.append(f"{stamp} {rng.choice(LEVELS)} {where}: {detail}")
    return "The job log shows:\n" + "\n".join(lines)
