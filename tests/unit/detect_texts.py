"""Generated chat text for detection tests and measurements: prose with personal data, and code.

Texts are built from fixed seeds, so every run sees the same characters. Prose mixes sentences
that carry names, places, e-mail addresses, phone, card, IBAN, IP and social security numbers
with sentences that carry none; code mixes Python, SQL, logs, shell and JSON, with the odd
credential in it, as pasted into a chat.
"""

from __future__ import annotations

import random
import string

FIRST = (
    "Margaret", "Thomas", "Priya", "Henrik", "Renée", "Dana", "Oluwaseun", "Carlos", "Mei", "Ingrid",
    "Jonathan", "Aisha", "Pavel", "Sofia", "Kenji", "Fatima", "Liam", "Greta", "Rafael", "Chloe",
)  # fmt: skip
LAST = (
    "Thornton", "Brennan", "Raman", "Sørensen", "Dubois", "Whitfield", "Adeyemi", "Mendoza", "Chen",
    "Halvorsen", "Reyes", "Khan", "Novak", "Rossi", "Tanaka", "Haddad", "Murphy", "Lindqvist", "Costa",
)  # fmt: skip
PLACES = (
    "Boston", "Lyon", "Copenhagen", "Denver", "Nairobi", "Osaka", "Lisbon", "Toronto", "Bristol",
    "Munich", "Seattle", "Krakow", "Melbourne", "Austin", "Dublin", "Texas", "California", "Ohio",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.co.uk")

PII_SENTENCES = (
    "Please forward the signed contract to {name} before Friday.",
    "My colleague {name} moved to {place} last spring.",
    "You can reach {first} at {email} any time this week.",
    "Call my mobile phone on {phone} after five.",
    "The card number is {card} and it expires next year.",
    "Please pay the deposit to {iban} by Monday.",
    "Somebody logged into my account from {ip} last night.",
    "My social security number is {ssn}, if the form needs it.",
    "{name} from {place} asked whether the invoice was paid.",
    "Send the minutes to {email} and copy {name}.",
    "Her office phone is {phone}, the fax is no longer used.",
    "We met {name} at the conference in {place}.",
    "I spoke with {first} yesterday; she said the server at {ip} is down.",
    "Mr. {last} lives in {place} and works with {name}.",
)
FILLER = (
    "The function returns early when the cache is warm.",
    "I think we should add a test for the empty list case before merging.",
    "Can you summarise the discussion below in three bullet points?",
    "The meeting was moved to the afternoon because of the release.",
    "Thanks for the quick reply, that answers most of my questions.",
    "The report covers the second quarter and compares it with last year.",
    "Please keep the tone friendly but short.",
    "Nothing in the log explains why the job stopped at 3 a.m.",
    "We still need a decision on the budget for the new laptops.",
    "Version 2.4.1 fixed the crash, but the export is still slow.",
)

CODE_BLOCKS = (
    '''class OrderRepository(BaseRepository):
    """Loads orders from the database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, order_id: int) -> Order | None:
        return self.session.get(Order, order_id)
''',
    """def normalise(lines: list[str]) -> list[str]:
    cleaned = [line.strip() for line in lines if line.strip()]
    return sorted(set(map(str.lower, cleaned)))

timeout = self.get("timeout", {n})
response = requests.get(url, timeout=timeout)
""",
    """Traceback (most recent call last):
  File "/srv/app/worker.py", line {n}, in run
    result = handler.process(job)
  File "/srv/app/handlers/export.py", line 87, in process
    rows = self.fetch_rows(job.batch_size)
ValueError: invalid literal for int() with base 10: '3.5'
""",
    """SELECT o.id, o.total, c.name
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.created_at > now() - interval '{n} days'
ORDER BY o.total DESC LIMIT 50;
""",
    """2024-06-11T15:30:{s:02d}.123Z INFO  http.server request_id={hex} path=/api/v1/items ms={n}
2024-06-11T15:30:{s:02d}.456Z WARN  pool.conn retrying in {n} ms (attempt 3 of 5)
""",
    """const total = items.reduce((sum, item) => sum + item.price * item.qty, 0);
export function formatPrice(value: number): string {{
  return new Intl.NumberFormat("en-US", {{ style: "currency", currency: "USD" }}).format(value / 100);
}}
""",
    """{{"id": {n}, "status": "shipped", "items": [{{"sku": "AB-{n}", "qty": 2}}], "weight_kg": 1.25}}
""",
    """$ docker compose up -d
[+] Running 3/3
 ✔ Container app-db-1     Started                 0.{s}s
 ✔ Container app-cache-1  Started                 0.{n}s
""",
    """commit {hex}
    Bump version to 2.4.1; request id 123e4567-e89b-12d3-a456-426614174000
""",
    'std::vector<int> v; auto x = a::b::c(); fmt::print("{{}}", v); // at 12:30:45, v1.2.3\n',
)
SECRET_LINES = (
    'smtp_password = "{token}"\n',
    "export API_TOKEN={token}\n",
    "DATABASE_URL=postgres://app:{token}@db.internal:5432/orders\n",
    'stripe.api_key = "sk_live_{token}"\n',
    "git clone https://ghp_{token36}@github.com/acme/app.git\n",
)

ALNUM = string.ascii_letters + string.digits


def prose(size: int, seed: str) -> str:
    """Chat prose of about `size` characters, roughly one sentence in three with personal data."""
    rnd = random.Random(f"prose-{seed}")
    paragraphs: list[str] = []
    length = 0
    while length < size:
        sentences = [_pii_sentence(rnd) if rnd.random() < 0.35 else rnd.choice(FILLER) for _ in range(5)]
        paragraphs.append(" ".join(sentences))
        length += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)[:size].rsplit(" ", 1)[0]


def code(size: int, seed: str) -> str:
    """Code, logs and shell output of about `size` characters, with a credential now and then."""
    rnd = random.Random(f"code-{seed}")
    blocks: list[str] = []
    length = 0
    while length < size:
        if rnd.random() < 0.08:
            block = rnd.choice(SECRET_LINES).format(token=_chars(rnd, 24), token36=_chars(rnd, 36))
        else:
            block = rnd.choice(CODE_BLOCKS).format(
                n=rnd.randint(2, 999), s=rnd.randint(0, 59), hex=f"{rnd.getrandbits(160):040x}"
            )
        blocks.append(block)
        length += len(block) + 1
    return "\n".join(blocks)[:size].rsplit("\n", 1)[0]


def _pii_sentence(rnd: random.Random) -> str:
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    return rnd.choice(PII_SENTENCES).format(
        name=f"{first} {last}",
        first=first,
        last=last,
        place=rnd.choice(PLACES),
        email=f"{first.lower()}.{last.lower()}@{rnd.choice(DOMAINS)}".replace("é", "e").replace("ø", "o"),
        phone=rnd.choice(("+1 {a} 555 {b:04d}", "({a}) 555-{b:04d}", "+44 7911 {b:06d}")).format(
            a=rnd.randint(201, 989), b=rnd.randint(100, 9999)
        ),
        card=_card(rnd),
        iban=rnd.choice(("DE89370400440532013000", "GB33BUKB20201555555555", "FR1420041010050500013M02606")),
        ip=f"{rnd.randint(11, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
        ssn=f"{rnd.randint(100, 665)}-{rnd.randint(10, 99)}-{rnd.randint(1000, 9999)}",
    )


def _card(rnd: random.Random) -> str:
    """A 16-digit number with a valid Luhn check digit, in groups of four."""
    digits = [4, *(rnd.randint(0, 9) for _ in range(14))]
    total = sum(d if i % 2 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    number = "".join(map(str, digits)) + str(-total % 10)
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _chars(rnd: random.Random, length: int) -> str:
    return "".join(rnd.choices(ALNUM, k=length))


CONTEXT_WORDS = (
    "phone", "Phones", "phoning", "phoned", "telephoning", "Call", "calling", "called", "numbers", "cell",
    "mobile's", "IP", "ip-address", "IPv4", "social security", "securities", "SSN:", "ssns", "card",
    "cards", "email", "emailing", "iban", "banking", "transactions", "caller", "nothing",
)  # fmt: skip
FILLERS = (
    "the", "of", "is", ",", "(", "and", "was", "'s", "n't", "others", "using", "made", "our", "new",
    "office", "-", ":", "I", "'m", "being", "got", "a::b::c", "http://x.example", "Be", "ca", "wo",
)  # fmt: skip
VALUES = (
    "+1 212 555 0147", "(212) 555-0147", "212-555-0147", "203.0.113.42", "536-22-8471", "536228471",
    "4111 1111 1111 1111", "GB33BUKB20201555555555", "jane.roe@example.com",
)  # fmt: skip


def context_sentences(count: int, seed: str) -> list[str]:
    """Sentences that put a value after a word that may raise its score, 0 to 8 words before it,
    with stop words, punctuation and inflected forms in between: they pin down exactly which
    surrounding words count as context."""
    rnd = random.Random(f"context-{seed}")
    sentences = []
    for _ in range(count):
        between = rnd.choices(FILLERS, k=rnd.randint(0, 8))
        lead = rnd.choices(FILLERS + FIRST, k=rnd.randint(0, 3))
        sentences.append(" ".join([*lead, rnd.choice(CONTEXT_WORDS), *between, rnd.choice(VALUES)]) + ".")
    return sentences
