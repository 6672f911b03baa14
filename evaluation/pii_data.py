"""Labelled personal data: templates of realistic prompts filled with seeded Faker values.

Each template is a text a user might paste into a chat (a support ticket, a CV, an e-mail, a log,
a config file, a question) with slots such as ``{name}``, ``{address}`` or ``{phone_intl}``. A
slot of a personal-data kind becomes a gold span of maskgate's type for it; filler slots (dates,
order numbers, amounts, company names, hex ids) put look-alikes next to them that must not be
flagged. ``{name:2}`` is a second person; ``{email:2}`` is that person's address; a slot written
twice with the same number repeats the same value.

Values come from Faker in several locales, seeded per sample, so the same code always gives the
same samples. Cities are real places (from the lists below), streets and postcodes are Faker's;
phone numbers are random digits kept only when `phonenumbers` accepts them as a valid number of
their country, so every gold number is one a person could have; card numbers and IBANs carry
valid check digits. presidio-evaluator's generator is not used: it pulls in transformers,
pandas, scikit-learn and plotly for what a few templates and Faker do here.

Templates are split into dev and held-out sets by template, never by sample: held-out phrasings
are never looked at while tuning, so their figures show how detection carries over to new text.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import re
import unicodedata
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from faker import Faker

from evaluation.samples import Kind, Sample, Span, Split


@dataclass(frozen=True)
class Country:
    """Where a sample's addresses, national phone numbers and IBAN come from."""

    code: str
    locale: str
    """Faker locale for streets, postcodes and IBANs."""
    name: str
    cities: tuple[tuple[str, str], ...]
    """Real cities with the region an address names after them ("" where none)."""
    layout: str
    """Lines of a postal address, from {street}, {city}, {region} and {postcode}."""
    iban_locale: str | None


COUNTRIES = {
    c.code: c
    for c in (
        Country(
            "US", "en_US", "United States",
            (("Chicago", "IL"), ("Austin", "TX"), ("Denver", "CO"), ("Portland", "OR"), ("Columbus", "OH"),
             ("Raleigh", "NC"), ("Phoenix", "AZ"), ("Boston", "MA"), ("Seattle", "WA"), ("Atlanta", "GA"),
             ("Madison", "WI"), ("Sacramento", "CA")),
            "{street}\n{city}, {region} {postcode}", None,
        ),
        Country(
            "GB", "en_GB", "United Kingdom",
            (("London", ""), ("Manchester", ""), ("Leeds", ""), ("Bristol", ""), ("Glasgow", ""),
             ("Cardiff", ""), ("Sheffield", ""), ("Nottingham", ""), ("Brighton", ""), ("York", "")),
            "{street}\n{city}\n{postcode}", "en_GB",
        ),
        Country(
            "DE", "de_DE", "Germany",
            (("Berlin", ""), ("Hamburg", ""), ("München", ""), ("Köln", ""), ("Leipzig", ""),
             ("Dresden", ""), ("Stuttgart", ""), ("Freiburg", ""), ("Bonn", "")),
            "{street}\n{postcode} {city}", "de_DE",
        ),
        Country(
            "FR", "fr_FR", "France",
            (("Paris", ""), ("Lyon", ""), ("Marseille", ""), ("Toulouse", ""), ("Nantes", ""),
             ("Lille", ""), ("Bordeaux", ""), ("Rennes", "")),
            "{street}\n{postcode} {city}", "fr_FR",
        ),
        Country(
            "ES", "es_ES", "Spain",
            (("Madrid", ""), ("Barcelona", ""), ("Valencia", ""), ("Sevilla", ""), ("Bilbao", ""),
             ("Zaragoza", ""), ("Málaga", "")),
            "{street}\n{postcode} {city}", "es_ES",
        ),
        Country(
            "IT", "it_IT", "Italy",
            (("Roma", ""), ("Milano", ""), ("Torino", ""), ("Bologna", ""), ("Firenze", ""),
             ("Napoli", ""), ("Verona", "")),
            "{street}\n{postcode} {city}", "it_IT",
        ),
        Country(
            "NL", "nl_NL", "Netherlands",
            (("Amsterdam", ""), ("Rotterdam", ""), ("Utrecht", ""), ("Eindhoven", ""), ("Groningen", ""),
             ("Leiden", "")),
            "{street}\n{postcode} {city}", "nl_NL",
        ),
        Country(
            "AU", "en_AU", "Australia",
            (("Sydney", "NSW"), ("Melbourne", "VIC"), ("Brisbane", "QLD"), ("Perth", "WA"),
             ("Adelaide", "SA"), ("Hobart", "TAS")),
            "{street}\n{city} {region} {postcode}", None,
        ),
        Country(
            "IN", "en_IN", "India",
            (("Mumbai", ""), ("Pune", ""), ("Bengaluru", ""), ("Chennai", ""), ("Hyderabad", ""),
             ("Kolkata", "")),
            "{street}\n{city} {postcode}", None,
        ),
    )
}  # fmt: skip
ALL_COUNTRIES = tuple(COUNTRIES)
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT", "de_AT", "de_CH")
"""Where an IBAN comes from when the sample's country has none."""
INTERNATIONAL_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "AU", "IN", "BR", "JP", "SG", "ZA", "MX",
                         "CH", "SE", "IE", "BE", "AT", "CA", "PL")  # fmt: skip

NAME_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_IN", "pt_BR", "pl_PL",
                "tr_TR", "sv_SE", "en_NG", "ja_JP", "zh_CN")  # fmt: skip
"""People come from everywhere, whatever the country of their address."""
ROMANIZED = frozenset({"ja_JP", "zh_CN"})
"""Locales whose names are written in Latin letters, as in an English text."""

FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.de", "web.de", "orange.fr",
             "icloud.com", "hotmail.co.uk", "libero.it")  # fmt: skip
SUFFIXES = ("Jr.", "Sr.", "II", "III", "IV")
TITLES = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
COMPANIES = ("Northwind Analytics", "Bluepeak Logistics", "Kestrel Software GmbH", "Orbital Foods Ltd",
             "Lumen Health Partners", "Quartzline Media", "Harbor & Pine Consulting", "Redwood Data Systems",
             "Silverleaf Insurance", "Tidewater Robotics")  # fmt: skip
PRODUCTS = ("standing desk", "noise-cancelling headset", "espresso machine", "27-inch monitor", "road bike",
            "robot vacuum", "mechanical keyboard", "air fryer", "tent", "baby monitor")  # fmt: skip
ROLES = ("Senior Data Engineer", "Product Manager", "Head of Customer Success", "Backend Developer",
         "HR Business Partner", "Chief Financial Officer", "UX Researcher", "Site Reliability Engineer",
         "Accountant", "Project Coordinator")  # fmt: skip
SKILLS = ("distributed systems", "Kubernetes", "data warehousing", "React", "supply-chain analytics", "Rust",
          "machine learning", "payments", "technical writing", "SQL tuning")  # fmt: skip
UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "ı": "i"})
"""Letters that Unicode does not split into a base letter and a mark."""
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Template:
    name: str
    """``family/variant``: the family (support-ticket, cv, ...) has templates in both splits."""
    split: Split
    text: str
    countries: tuple[str, ...] = ALL_COUNTRIES
    """The sample's country is drawn from these (SSN forms are American)."""

    @property
    def family(self) -> str:
        return self.name.split("/", 1)[0]


def _dev(name: str, text: str, countries: tuple[str, ...] = ALL_COUNTRIES) -> Template:
    return Template(name, Split.DEV, text, countries)


def _heldout(name: str, text: str, countries: tuple[str, ...] = ALL_COUNTRIES) -> Template:
    return Template(name, Split.HELDOUT, text, countries)


EUROPE = ("GB", "DE", "FR", "ES", "IT", "NL")

DEV_TEMPLATES = (
    _dev(
        "support-ticket/refund",
        "Subject: Refund request for order {order}\n\nHi, my name is {name} and I ordered a {product} on"
        " {date}. It arrived broken. I paid with my card {card}. You can reach me at {email} or"
        " {phone}.\n\nThanks,\n{first}",
    ),
    _dev(
        "support-ticket/address-change",
        "Ticket {ticket}: customer {name} asked us to update the delivery address for order {order} to:"
        "\n\n{address}\n\nConfirmed by phone from {phone}. Earlier orders went to {city:2}.",
    ),
    _dev(
        "support-ticket/login",
        "User {email} cannot log in since {date}. Last successful login from {ipv4} at {time}. Account"
        " owner: {name_mid}. Please reset MFA and call back on {phone_intl}.",
    ),
    _dev(
        "cv/header",
        "{name}\n{address_line}\n{phone} | {email}\n\nPROFILE\n{role} with {years} years of experience in"
        " {skill} and {skill:2}. Open to relocation to {city:2}.",
    ),
    _dev(
        "cv/experience",
        "EXPERIENCE\n{role:2}, {company:2}, {city} ({date} – present)\n- Led a team of {count} engineers"
        " building the {product} platform.\n\nREFERENCES\n{name_init}, {role} at {company},"
        " {email}, {phone_intl}",
    ),
    _dev(
        "email/interview-invitation",
        "Dear {title} {last},\n\nThank you for your application. We would like to invite you to an"
        " interview on {date} at {time} in our office at {address_line}.\n\nKind regards,\n{name:2}\n"
        "{role}, {company}\n{phone:2}",
    ),
    _dev(
        "email/forward",
        "---------- Forwarded message ---------\nFrom: {name} <{email}>\nDate: {date}\nSubject: Invoice"
        " {invoice}\nTo: {name:2} <{email:2}>\n\nHi {first:2}, please find the invoice attached. Payment to"
        " IBAN {iban} within 14 days.",
    ),
    _dev(
        "chat/write-reply",
        "Can you help me write a polite reply to {name}? She says invoice {invoice} was paid twice from"
        " her account {iban}. Her number is {phone}.",
    ),
    _dev(
        "chat/summarise",
        'Summarise this complaint in two sentences: "I am {name_suffix}, I live at {address_line} and your'
        ' courier left my parcel in the rain again. Call me on {phone}."',
    ),
    _dev(
        "chat/translate",
        "Translate into German: My name is {name}, I was born in {city} and I now live in {city:2}."
        " You can write to me at {email}.",
    ),
    _dev(
        "chat/code-with-data",
        'Why does this test fail?\n\n```python\ndef test_user():\n    user = User(name="{name}",'
        ' email="{email}", phone="{phone_intl}")\n    assert user.display_name() == "{name}"\n```',
    ),
    _dev(
        "chat/sql",
        "INSERT INTO customers (name, email, city, card) VALUES ('{name}', '{email}', '{city}', '{card}');"
        "\nWhy do I get a unique constraint error on the second run?",
    ),
    _dev(
        "log/auth",
        "{date_iso} INFO auth.login user={email} ip={ipv4} result=success session={uuid}\n{date_iso:2} WARN"
        " auth.login user={email:2} ip={ipv4:2} result=failed attempts={count}\n{date_iso:3} INFO"
        " auth.logout user={email} duration={duration}",
    ),
    _dev(
        "log/app-error",
        'Traceback (most recent call last):\n  File "/srv/app/billing/charge.py", line {count}, in charge\n'
        '    gateway.charge(card="{card}", amount={amount_num})\nPaymentError: declined for customer'
        " {name} ({email}), card {card}",
    ),
    _dev(
        "log/access",
        '{ipv4} - - [{date_clf}] "GET /api/v1/users/{count}/profile HTTP/1.1" 200 {count:2} "-"'
        ' "Mozilla/5.0"\n{ipv6} - - [{date_clf:2}] "POST /api/v1/orders HTTP/1.1" 201 {count:3} "-"'
        ' "curl/8.5.0"',
    ),
    _dev(
        "log/hr-audit",
        "{date_iso} AUDIT hr.export exported record for {name_rev} ssn={ssn} by admin {email:2}\n"
        "{date_iso:2} AUDIT hr.export {count} records exported in {duration}",
        ("US",),
    ),
    _dev(
        "config/yaml",
        'notifications:\n  on_call:\n    name: {name}\n    email: {email}\n    phone: "{phone_intl}"\n'
        "  escalation:\n    name: {name:2}\n    email: {email:2}\nserver:\n  bind: {ipv4}\n  port: {port}",
    ),
    _dev(
        "config/json",
        '{{"customer": {{"id": "{uuid}", "full_name": "{name}", "email": "{email}", "phone": "{phone}",'
        ' "billing_address": "{address_line}", "iban": "{iban}"}}}}',
    ),
    _dev(
        "config/ini",
        "[contact]\nowner = {name}\nowner_email = {email}\nfallback_host = {ipv4}\nretries = {count}\n\n"
        "[billing]\naccount = {iban}\ncurrency = EUR",
        EUROPE,
    ),
    _dev(
        "address/shipping-label",
        "SHIP TO:\n{name}\n{address}\n\nFROM:\n{company}\n{address:2}\n\nOrder {order}, {count} item(s)",
    ),
    _dev(
        "address/moving",
        "We are moving! From {date} our new address is {address_line}. Post sent to the old one at"
        " {street:2} will be forwarded until the end of the month.",
    ),
    _dev(
        "payment/card-dispute",
        "Hi, I see two charges of {amount} on my card {card} dated {date}. The card holder is {name}."
        " Please cancel one of them.",
    ),
    _dev(
        "payment/sepa",
        "Please set up a SEPA transfer of {amount} to {name} (IBAN {iban}, BIC {bic}). Reference: {invoice}.",
        EUROPE,
    ),
    _dev(
        "network/firewall",
        "Our firewall blocks traffic from {ipv4} and {ipv4:2}, and the IPv6 host {ipv6} cannot reach port"
        " {port}. How do I write an nftables rule that lets them in?",
    ),
    _dev(
        "hr/onboarding-form",
        "Employee onboarding\nName: {name_mid}\nSSN: {ssn}\nDate of birth: {date}\nHome address:\n"
        "{address}\nEmergency contact: {name:2}, {phone}",
        ("US",),
    ),
    _dev(
        "hr/payroll",
        "Payroll correction for {name}, SSN {ssn}: the {date} payment of {amount} was short by"
        " {amount:2}. Please confirm by e-mail to {email}.",
        ("US",),
    ),
    _dev(
        "names/meeting-notes",
        "Meeting notes {date}\nAttendees: {title} {name_init}, {title:2} {name:2}, {name_suffix:3}\n"
        "Action items:\n- {first:2} sends the draft to {email:3}\n- {title} {last} reviews the budget",
    ),
    _dev(
        "names/conference",
        "Speakers: {title} {name} ({city}), {name_init:2} ({country}) and {title:3} {name_mid:3}. Each talk"
        " is {count} minutes.",
    ),
    _dev(
        "email/signature",
        "Best regards,\n\n{name_suffix}\n{role} | {company}\nM: {phone_intl}\nE: {email}\n{address}",
    ),
    _dev(
        "support-ticket/chat-transcript",
        "[{time}] Agent: Could you confirm your full name and date of birth?\n[{time:2}] Customer:"
        " {name_lower}, {date}\n[{time:3}] Agent: Thanks. Which card should the refund go to?\n"
        "[{time:4}] Customer: {card}",
    ),
)

HELDOUT_TEMPLATES = (
    _heldout(
        "support-ticket/warranty",
        "Warranty claim #{ticket}\nCustomer: {name_mid}\nContact: {phone_intl} / {email}\nProduct: {product},"
        " bought {date}, serial {serial}.\nPlease send the return label to:\n{address}",
    ),
    _heldout(
        "support-ticket/phone-note",
        "Call note {date} {time}: spoke with {name} (callback {phone}). Wants the {product} picked up"
        " from {address_line}. Paid with {card}.",
    ),
    _heldout(
        "cv/contact-block",
        "CURRICULUM VITAE\n\n{name_suffix}\nBorn in {city}, living in {city:2}\nTel. {phone}  ·  {email}\n\n"
        "Education\n{date}: degree in {skill}",
    ),
    _heldout(
        "cv/references",
        "References available on request:\n1. {name_init}, {role}, {phone_intl}, {email}\n2."
        " {name_suffix:2}, {role:2}, {phone_intl:2}, {email:2}",
    ),
    _heldout(
        "email/reply-thread",
        "On {date}, {name} <{email}> wrote:\n> Could you send the signed contract to my new address?\n>"
        " {address_line}\n\nHi {first}, sure, I'll post it today. My direct line is {phone:2} if"
        " anything is unclear.\n{name:2}",
    ),
    _heldout(
        "email/out-of-office",
        "I am out of the office until {date}. For urgent matters please contact {name} at {email} or"
        " {phone_intl}.",
    ),
    _heldout(
        "chat/reminder-letter",
        "write a reminder letter to {title} {name_init} who still owes us {amount}; the IBAN for the"
        " refund of her overpayment is {iban} and she lives in {city}",
    ),
    _heldout(
        "chat/casual",
        "hey, my neighbour {name_lower} gave me her card {card} to book tickets for both of us, is it safe"
        " to use it on a site i don't know? her email is {email}",
    ),
    _heldout(
        "chat/spreadsheet",
        "name,email,phone,city\n{name},{email},{phone},{city}\n{name:2},{email:2},{phone:2},{city:2}\n"
        "How do I drop duplicate rows from this CSV in pandas by email?",
    ),
    _heldout(
        "chat/iban-check",
        "Is {iban} a valid IBAN? My landlord {name} asked me to pay the deposit there, and the account is"
        " in {country}.",
    ),
    _heldout(
        "log/json-lines",
        '{{"ts": "{date_iso}", "level": "info", "event": "signup", "email": "{email}", "client_ip":'
        ' "{ipv4}", "name": "{name}"}}\n{{"ts": "{date_iso:2}", "level": "error", "event":'
        ' "payment_failed", "card": "{card}", "client_ip": "{ipv6}"}}',
    ),
    _heldout(
        "log/payroll-worker",
        "{date_clf} payroll-worker[{count}]: generated W-2 for {name} ({ssn}), mailed to {address_line}",
        ("US",),
    ),
    _heldout(
        "config/toml",
        '[owner]\nname = "{name}"\nemail = "{email}"\n\n[[servers]]\nhost = "{ipv4}"\nadmin_phone ='
        ' "{phone_intl}"\nport = {port}',
    ),
    _heldout(
        "config/env",
        'SUPPORT_CONTACT_NAME="{name}"\nSUPPORT_EMAIL={email}\nSUPPORT_PHONE={phone_intl}\n'
        "ALLOWED_IP={ipv4}\nWORKERS={count}",
    ),
    _heldout(
        "address/invoice-header",
        "INVOICE {invoice}\n\nBill to:\n{name_suffix}\n{address}\n\nPayable to {company}, IBAN {iban}",
    ),
    _heldout(
        "address/delivery-note",
        "The parcel for {name} should be delivered to {address_line}; if nobody answers, leave it with"
        " the neighbour at {street:2}.",
    ),
    _heldout(
        "payment/fraud-alert",
        "Fraud alert: card {card} (holder {name_rev}) was used from {ipv4} in {country} at {time}. The"
        " holder's registered phone is {phone_intl}.",
    ),
    _heldout(
        "network/ssh",
        "ssh: connect to host {ipv4} port 22: Connection refused. I can ping {ipv6} though. My home IP"
        " is {ipv4:2}, could my provider be blocking it?",
    ),
    _heldout(
        "hr/benefits",
        "Benefits enrollment: {name_mid} (SSN {ssn}), spouse {name:2} (SSN {ssn:2}). Mailing address:\n"
        "{address}",
        ("US",),
    ),
    _heldout(
        "names/panel",
        "Our panel: {title} {name_suffix}, Professor {name_init:2} and {name:3} from {city}, chaired by"
        " {title:4} {last:4}.",
    ),
)

TEMPLATES = DEV_TEMPLATES + HELDOUT_TEMPLATES

GOLD_TYPES = {
    "name": "PERSON",
    "name_mid": "PERSON",
    "name_init": "PERSON",
    "name_suffix": "PERSON",
    "name_rev": "PERSON",
    "name_lower": "PERSON",
    "first": "PERSON",
    "last": "PERSON",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "phone_intl": "PHONE_NUMBER",
    "card": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "ipv4": "IP_ADDRESS",
    "ipv6": "IP_ADDRESS",
    "ssn": "US_SSN",
    "city": "LOCATION",
    "country": "LOCATION",
    "street": "LOCATION",
    "address": "LOCATION",
    "address_line": "LOCATION",
}
"""Slots whose value is personal data, with maskgate's type for it; every other slot is filler."""

SLOT = re.compile(r"\{\{|\}\}|\{(?P<slot>[a-z0-9_]+)(?::(?P<n>\d))?\}")


def pii_samples(split: Split, per_template: int) -> list[Sample]:
    """`per_template` samples of every template of `split`, the same ones on every call."""
    return [
        render(template, i) for template in TEMPLATES if template.split == split for i in range(per_template)
    ]


def render(template: Template, index: int) -> Sample:
    """The `index`-th sample of `template`: its text and the gold span of every personal slot."""
    rng = random.Random(zlib.crc32(f"{template.name}/{index}".encode()))
    filler = _Filler(rng, COUNTRIES[rng.choice(template.countries)])
    parts: list[str] = []
    spans: list[Span] = []
    at = 0
    for piece, slot, n in _pieces(template.text):
        value = piece if slot is None else filler.value(slot, n)
        if slot in GOLD_TYPES:
            spans.append(Span(at, at + len(value), GOLD_TYPES[slot]))
        parts.append(value)
        at += len(value)
    return Sample(
        id=f"{template.name}#{index}",
        text="".join(parts),
        spans=tuple(spans),
        kind=Kind.PII,
        split=template.split,
        source=template.name,
    )


def _pieces(text: str) -> list[tuple[str, str | None, int]]:
    """Literal text (slot None) and slots with their number, in order; ``{{``/``}}`` are braces."""
    pieces: list[tuple[str, str | None, int]] = []
    at = 0
    for m in SLOT.finditer(text):
        pieces.append((text[at : m.start()], None, 0))
        if m["slot"] is None:
            pieces.append((m[0][0], None, 0))
        else:
            pieces.append(("", m["slot"], int(m["n"] or 1)))
        at = m.end()
    pieces.append((text[at:], None, 0))
    return [p for p in pieces if p[0] or p[1]]


@functools.cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    middle: str
    """A middle initial letter."""
    suffix: str
    email: str


class _Filler:
    """The values of one sample: every slot and number keeps its value within the sample."""

    def __init__(self, rng: random.Random, country: Country) -> None:
        self.rng = rng
        self.country = country
        self._values: dict[tuple[str, int], str] = {}
        self._people: dict[int, _Person] = {}

    def value(self, slot: str, n: int) -> str:
        key = (slot, n)
        if key not in self._values:
            self._values[key] = self._make(slot, n)
        return self._values[key]

    def faker(self, locale: str) -> Faker:
        """Faker for `locale`, seeded from this sample's generator, so that values do not depend
        on what other samples asked for before."""
        fake = _faker(locale)
        fake.seed_instance(self.rng.getrandbits(32))
        return fake

    def _make(self, slot: str, n: int) -> str:
        if slot in _PERSON_SLOTS:
            return _PERSON_SLOTS[slot](self._person(n), self.rng)
        return _SLOTS[slot](self)

    def _person(self, n: int) -> _Person:
        if n not in self._people:
            self._people[n] = self._new_person()
        return self._people[n]

    def _new_person(self) -> _Person:
        rng = self.rng
        locale = rng.choice(NAME_LOCALES)
        fake = self.faker(locale)
        if locale in ROMANIZED:
            first, last = fake.first_romanized_name(), fake.last_romanized_name()
        else:
            first, last = fake.first_name(), fake.last_name()
        middle = rng.choice("ABCDEFGHJKLMNPRSTW")
        return _Person(first, last, middle, rng.choice(SUFFIXES), self._email(first, last))

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        f, la = _ascii_word(first), _ascii_word(last)
        local = rng.choice(
            (f"{f}.{la}", f"{f}{la}", f"{f[0]}.{la}", f"{f}_{la}", f"{f}.{la}{rng.randrange(10, 99)}",
             f"{la}.{f}", f"{f}{la[0]}")
        )  # fmt: skip
        domain = rng.choice(FREE_MAIL) if rng.random() < 0.6 else self.faker("en_US").domain_name()
        return f"{local}@{domain}"


def _ascii_word(name: str) -> str:
    """A name as it appears in an e-mail address: ASCII letters only, lower case."""
    folded = unicodedata.normalize("NFKD", name.translate(UNDECOMPOSED)).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalpha()) or "user"


_PERSON_SLOTS: dict[str, Callable[[_Person, random.Random], str]] = {
    "name": lambda p, rng: f"{p.first} {p.last}",
    "name_mid": lambda p, rng: f"{p.first} {p.middle}. {p.last}",
    "name_init": lambda p, rng: rng.choice(
        (
            f"{p.first[0]}. {p.middle}. {p.last}",
            f"{p.first[0]}.{p.middle}. {p.last}",
            f"{p.first[0]}. {p.last}",
        )
    ),
    "name_suffix": lambda p, rng: f"{p.first} {p.last} {p.suffix}",
    "name_rev": lambda p, rng: f"{p.last}, {p.first}",
    "name_lower": lambda p, rng: f"{p.first} {p.last}".lower(),
    "first": lambda p, rng: p.first,
    "last": lambda p, rng: p.last,
    "email": lambda p, rng: p.email,
}


def _phone(f: _Filler, region: str, international: bool) -> str:
    """A valid number of `region`, written as people write it at home or abroad."""
    rng = f.rng
    number = _valid_number(rng, region)
    if international:
        styles = (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164)
        text = phonenumbers.format_number(number, rng.choice(styles))
        return text.replace(" ", "-") if rng.random() < 0.2 else text
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if region == "US":
        digits = re.sub(r"\D", "", text)
        text = rng.choice(
            (text, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", f"{digits[:3]}.{digits[3:6]}.{digits[6:]}")
        )
    return text


def _valid_number(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """Random digits in the shape of the region's example number, until one is valid there."""
    kind = rng.choice((phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE))
    example = phonenumbers.example_number_for_type(region, kind)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    keep = len(str(example.country_code)) + 2  # "+", the country code and the first national digit
    for _ in range(1000):
        candidate = e164[:keep] + "".join(str(rng.randrange(10)) for _ in e164[keep:])
        number = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(number):
            return number
    raise RuntimeError(f"no valid {region} number found")


def _card(f: _Filler) -> str:
    rng = f.rng
    kind = rng.choice(("visa16", "mastercard", "amex", "discover", "jcb16", "diners"))
    digits = f.faker("en_US").credit_card_number(kind)
    style = rng.choice(("spaces", "spaces", "dashes", "compact"))
    if style == "compact":
        return digits
    sizes = {15: (4, 6, 5), 14: (4, 6, 4)}.get(len(digits), (4,) * (len(digits) // 4))
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    return (" " if style == "spaces" else "-").join(groups)


def _iban(f: _Filler) -> str:
    locale = f.country.iban_locale or f.rng.choice(IBAN_LOCALES)
    compact = f.faker(locale).iban()
    if f.rng.random() < 0.5:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _ipv4(f: _Filler) -> str:
    fake = f.faker("en_US")
    return fake.ipv4_private() if f.rng.random() < 0.3 else fake.ipv4_public()


def _ipv6(f: _Filler) -> str:
    full = f.faker("en_US").ipv6()
    if f.rng.random() < 0.5:
        return full
    # The shortened form people usually write: zero groups dropped, leading zeros removed.
    groups = full.split(":")
    at = f.rng.randrange(1, 6)
    groups[at : at + 2] = ["0", "0"]
    return str(ipaddress.IPv6Address(":".join(groups)))


def _street(f: _Filler) -> str:
    return _one_line(f.faker(f.country.locale).street_address())


def _address_lines(f: _Filler) -> list[str]:
    country = f.country
    fake = f.faker(country.locale)
    city, region = f.rng.choice(country.cities)
    text = country.layout.format(
        street=fake.street_address(), city=city, region=region, postcode=fake.postcode()
    )
    lines = [" ".join(line.split()) for line in text.splitlines()]
    if f.rng.random() < 0.3:
        lines.append(country.name)
    return [line for line in lines if line]


def _one_line(text: str) -> str:
    return ", ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _date(f: _Filler) -> str:
    rng = f.rng
    year, month, day = rng.randrange(2019, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice(
        (f"{year}-{month:02}-{day:02}", f"{day:02}/{month:02}/{year}", f"{MONTHS[month - 1]} {day}, {year}",
         f"{day} {MONTHS[month - 1]} {year}", f"{month}/{day}/{year % 100:02}")
    )  # fmt: skip


def _date_iso(f: _Filler) -> str:
    rng = f.rng
    return (
        f"{rng.randrange(2022, 2026)}-{rng.randrange(1, 13):02}-{rng.randrange(1, 29):02}"
        f"T{rng.randrange(24):02}:{rng.randrange(60):02}:{rng.randrange(60):02}.{rng.randrange(1000):03}Z"
    )


def _date_clf(f: _Filler) -> str:
    rng = f.rng
    month = MONTHS[rng.randrange(12)][:3]
    return (
        f"{rng.randrange(1, 29):02}/{month}/{rng.randrange(2022, 2026)}"
        f":{rng.randrange(24):02}:{rng.randrange(60):02}:{rng.randrange(60):02} +0000"
    )


def _amount(f: _Filler) -> str:
    rng = f.rng
    value = rng.randrange(500, 250_000) / 100
    return rng.choice((f"${value:,.2f}", f"€{value:.2f}", f"£{value:,.0f}", f"{value:.2f} EUR"))


def _bic(f: _Filler) -> str:
    rng = f.rng
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    bank = "".join(rng.choice(letters) for _ in range(4))
    place = "".join(rng.choice(letters + "0123456789") for _ in range(2))
    return bank + rng.choice(("DE", "FR", "NL", "ES", "IT", "GB")) + place + rng.choice(("", "XXX"))


_SLOTS: dict[str, Callable[[_Filler], str]] = {
    "phone": lambda f: _phone(f, f.country.code, international=False),
    "phone_intl": lambda f: _phone(f, f.rng.choice(INTERNATIONAL_REGIONS), international=True),
    "card": _card,
    "iban": _iban,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "ssn": lambda f: f.faker("en_US").ssn(),
    "city": lambda f: f.rng.choice(f.country.cities)[0],
    "country": lambda f: f.country.name,
    "street": _street,
    "address": lambda f: "\n".join(_address_lines(f)),
    "address_line": lambda f: ", ".join(_address_lines(f)),
    # Fillers: look-alikes with no personal data in them.
    "date": _date,
    "date_iso": _date_iso,
    "date_clf": _date_clf,
    "time": lambda f: f"{f.rng.randrange(24):02}:{f.rng.randrange(60):02}",
    "order": lambda f: f.rng.choice(("ORD-", "PO-", "")) + str(f.rng.randrange(100_000, 99_999_999)),
    "ticket": lambda f: f.rng.choice(("SUP-", "")) + str(f.rng.randrange(1000, 99_999)),
    "invoice": lambda f: f"INV-{f.rng.randrange(2020, 2026)}-{f.rng.randrange(1, 99_999):05}",
    "serial": lambda f: (
        "SN-" + "".join(f.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
    ),
    "amount": _amount,
    "amount_num": lambda f: f"{f.rng.randrange(100, 100_000) / 100:.2f}",
    "count": lambda f: str(f.rng.randrange(2, 500)),
    "years": lambda f: str(f.rng.randrange(2, 26)),
    "duration": lambda f: f.rng.choice(
        (f"{f.rng.randrange(1, 999)}ms", f"{f.rng.randrange(1, 9999) / 100}s")
    ),
    "port": lambda f: str(f.rng.choice((443, 8080, 5432, 6379, f.rng.randrange(1024, 65535)))),
    "uuid": lambda f: str(uuid.UUID(int=f.rng.getrandbits(128), version=4)),
    "bic": _bic,
    "title": lambda f: f.rng.choice(TITLES),
    "company": lambda f: f.rng.choice(COMPANIES),
    "product": lambda f: f.rng.choice(PRODUCTS),
    "role": lambda f: f.rng.choice(ROLES),
    "skill": lambda f: f.rng.choice(SKILLS),
}
