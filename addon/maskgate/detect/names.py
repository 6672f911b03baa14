"""Full names that spaCy's entity recognizer misses, found from what is written around them.

The entity recognizer reads prose; people's names in configs, records, logs and forms reach it
without the sentence it learnt from, and it misses them or finds a part ("Song" of "Jie Song").
Here a run of capitalised words counts as a name where something beside it says so:

- an e-mail address nearby whose local part spells it ("Teófilo Cid" and ``teofiloc@``,
  "Charity Uche" and ``uche.charity@``): whole words or initials, in either order, accents
  and case folded. Role addresses (``info@``, ``support@``) vouch for nobody.
- a key that holds a person's name (``full_name``, ``last_name``, ``cardholder``, and keys
  that may also hold a team or a company: ``owner``, ``author``, ``assignee``), for two words
  or more (one after ``first_name``, ``surname``...), none of which names an organisation, a
  role or a job.
- a courtesy title before it ("Prof. Jockel", "Mx. Cas Dubois", "Frau Weber");
- initials before a surname where a list or a line starts ("E.M. Obi (Italy)");
- "Surname, Firstname" in a record after a word such as "for" or "user", followed by more of
  the record ("record for Buchholz, Leon ssn=..."), unless the second part is a country.

These spans score above spaCy's entities (0.85), so the whole name replaces a part of it, or a
part that spaCy typed as a place. `repeat_names` then finds, after every recognizer ran, the
same name and its distinctive parts elsewhere in the text ("Justin sends the draft" after
"Justin Obi"), leaving out words that are also everyday words, in general ("Hope", "Mark") or
in that text (a text that writes "scan" does not make "Scan" a name).

Every expression is bounded (words of at most 30 letters, names of at most six words), and
e-mail addresses are only looked around within a few lines, so the time grows with the text.
"""

from __future__ import annotations

import bisect
import dataclasses
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS

from maskgate.detect.address import COUNTRIES
from maskgate.detect.results import found_by
from maskgate.detect.types import Detection

ENTITY = "PERSON"

SCORE = 0.9
"""Above spaCy's entities (0.85), so the whole name wins over a part of it that spaCy found,
over a span that runs on past it, or over a part it took for a place."""

REPEATED = "name-repeated"
"""Recognizer name of the occurrences `repeat_names` adds."""

TITLES = ("Mr", "Mrs", "Ms", "Mx", "Miss", "Dr", "Prof", "Herr", "Frau", "Mme", "Mlle", "Sra", "Srta")
"""Courtesy titles, with or without their dot."""
DOTTED_TITLES = ("Sr", "Sig", "Dott", "Ing")
"""Titles that only count with their dot ("Sr. García", but "Sr Engineer" is a job)."""

PARTICLES = ("van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "le", "la",
             "ten", "ter", "zu", "bin", "ibn", "al", "el", "y")  # fmt: skip
"""Lower-case words inside names ("Tess van der Maath", "Roan le Gallen")."""

NAME_PART_KEYS = (
    "first name", "firstname", "last name", "lastname", "given name", "family name", "surname",
    "middle name", "maiden name", "forename",
)  # fmt: skip
"""Keys that hold a part of a person's name: a value of one word counts."""

PERSON_KEYS = (
    "full name", "fullname", "person name", "contact name", "customer name", "client name",
    "patient name", "employee name", "student name", "applicant name", "candidate name", "tenant name",
    "member name", "owner name", "author name", "sender name", "recipient name", "holder name",
    "card holder", "cardholder", "card holder name", "cardholder name", "account holder",
    "account holder name", "name on card", "emergency contact", "next of kin",
)  # fmt: skip
"""Keys that hold a person's full name. Words may be joined by a space, ``_``, ``-``, a dot or
nothing, in any case (``full_name``, ``fullName``, ``Full name``)."""

PEOPLE_OR_TEAM_KEYS = (
    "owner", "author", "assignee", "assigned to", "reporter", "reviewer", "approver", "approved by",
    "requester", "requestor", "requested by", "maintainer", "contact", "customer", "employee",
    "patient", "manager", "attendee", "speaker", "candidate", "applicant", "tenant", "sender",
    "recipient", "signed by", "prepared by", "created by", "submitted by", "display name",
    "beneficiary", "payee", "ship to", "bill to", "deliver to", "attn", "attention", "addressee",
    "consignee",
)  # fmt: skip
"""Keys that hold a person, or a team, a company, a bot or a service account."""

SURNAME_FIRST_CUES = ("for", "by", "of", "user", "employee", "customer", "patient", "member", "client",
                      "student", "record", "name", "contact")  # fmt: skip
"""Words after which "Surname, Firstname" is a person in a record."""

INITIALS_CUES = ("and", "by", "with", "to", "from", "cc", "dear")
"""Words after which initials and a surname are a name (besides a line start and ``( , ; :``)."""

ABBREVIATIONS = frozenset({"AD", "AM", "BC", "DC", "EU", "HR", "IT", "LA", "NB", "NY", "PM", "PO", "PS", "QA",
                           "UK", "UN", "US", "USA"})  # fmt: skip
"""Dotted capitals that are abbreviations, not initials ("U.S. Army", "P.S. Thanks")."""

ROLE_ADDRESS_WORDS = frozenset((
    "abuse", "accounting", "accounts", "admin", "administrator", "alert", "alerts", "billing", "bookings",
    "bounce", "bounces", "build", "careers", "ci", "compliance", "contact", "daemon", "demo", "dev",
    "devops", "do", "donotreply", "engineering", "enquiries", "example", "feedback", "finance", "hello",
    "help", "helpdesk", "hi", "hostmaster", "hr", "info", "inquiries", "invoice", "invoices", "it", "jobs",
    "legal", "mail", "mailer", "marketing", "media", "news", "newsletter", "no", "noreply", "not",
    "notification", "notifications", "office", "ops", "orders", "payments", "payroll", "postmaster",
    "press", "privacy", "recruiting", "reply", "reservations", "root", "sales", "security", "service",
    "services", "shop", "store", "support", "system", "team", "test", "updates", "user", "webmaster",
))  # fmt: skip
"""Words of e-mail local parts that name a role or a system, not a person (``info@``,
``no-reply@``, ``sales.team@``)."""

NOT_NAME_WORDS = frozenset((
    # Organisations, teams, roles and jobs; legal forms and "group" in other languages too.
    "ab", "ag", "agency", "analyst", "analytics", "anonymous", "api", "app", "architect", "assistant",
    "associates", "bank", "billing", "board", "bot", "business", "bv", "center", "centre", "chief",
    "clinic", "cloud", "co", "college", "committee", "company", "consultant", "consulting", "contractor",
    "coordinator", "corp", "corporation", "council", "crew", "customer", "customers", "data", "default",
    "demo", "department", "dept", "designer", "desk", "developer", "director", "division", "engineer",
    "engineering", "example", "executive", "finance", "foods", "foundation", "global", "gmbh", "groep",
    "group", "groupe", "grupo", "gruppe", "gruppo", "guest", "head", "health", "healthcare", "helpdesk",
    "holding", "holdings", "hospital", "inc", "industries", "infrastructure", "institute", "insurance",
    "intern", "international", "kg", "lab", "labs", "lead", "legal", "limited", "llc", "llp", "logistics",
    "ltd", "management", "manager", "marketing", "media", "member", "ministry", "national", "network",
    "none", "null", "nv", "office", "officer", "operations", "ops", "oy", "partner", "partners", "platform",
    "plc", "president", "principal", "product", "products", "program", "programme", "project", "pty", "qa",
    "research", "researcher", "resources", "robotics", "sa", "sales", "sarl", "school", "scientist",
    "security", "senior", "server", "service", "services", "software", "solutions", "specialist", "squad",
    "srl", "staff", "studio", "studios", "success", "support", "system", "systems", "team", "tech",
    "technologies", "technology", "test", "university", "unknown", "user", "users", "ventures", "world",
    # Days and months.
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "march", "april", "june", "july", "august", "september", "october", "november", "december",
))  # fmt: skip
"""Words that make a run of capitalised words an organisation, a team, a role, a job or a date
rather than a person ("Payments Team", "Acme Corp", "Project Coordinator")."""

COMPONENT_WORDS = frozenset((
    # Parts of a running program.
    "adapter", "agent", "aggregator", "allocator", "api", "app", "backend", "balancer", "broker", "buffer",
    "builder", "bundler", "bus", "cache", "channel", "check", "checker", "cleaner", "client", "cluster",
    "collector", "compiler", "config", "connection", "connector", "consumer", "container", "controller",
    "crawler", "daemon", "database", "decoder", "dispatcher", "downloader", "emitter", "encoder",
    "endpoint", "engine", "executor", "exporter", "fetcher", "filter", "formatter", "frontend", "gateway",
    "generator", "handler", "importer", "indexer", "installer", "interceptor", "job", "launcher", "limiter",
    "linter", "listener", "loader", "logger", "loop", "main", "manager", "middleware", "migrator", "module",
    "monitor", "parser", "pipeline", "plugin", "poller", "pool", "probe", "processor", "producer", "provider",
    "provisioner", "proxy", "publisher", "queue", "reaper", "receiver", "refresher", "registry", "renderer",
    "replica", "repository", "resolver", "router", "runner", "runtime", "scheduler", "seeder", "sender",
    "serializer", "server", "service", "session", "socket", "storage", "store", "stream", "subscriber",
    "supervisor", "sweeper", "task", "thread", "timer", "token", "updater", "uploader", "validator",
    "watcher", "worker",
    # Kinds of data and errors ("Directory String", "Connection Error").
    "array", "error", "exception", "index", "object", "string", "table", "type",
))  # fmt: skip
"""Nouns that end the name of a part of a program or of a kind of data ("Connection Pool",
"Config Loader", "Docker Socket", "Directory String"), as logs and code write them with
capitals; no person's or place's name ends in one. Words that also end places or are also
surnames ("Bridge", "Station", "Port", "Driver", "Field") are left out."""

COMMON_WORD_NAMES = frozenset((
    "amber", "angel", "april", "art", "august", "autumn", "baker", "bill", "bishop", "black", "blessing",
    "bliss", "brown", "bush", "carol", "carter", "cash", "chance", "charity", "cliff", "comfort", "cook",
    "cooper", "crystal", "dale", "dawn", "dean", "destiny", "don", "drew", "earl", "faith", "favour",
    "finch", "fisher", "forest", "fox", "frank", "gift", "gold", "grace", "gray", "green", "grey", "guy",
    "harmony", "hazel", "heath", "heather", "hill", "holly", "honour", "hope", "hunter", "iris", "ivy",
    "jack", "jade", "joy", "judge", "june", "king", "knight", "lane", "liberty", "lily", "love", "major",
    "march", "mark", "mason", "max", "mercy", "miles", "miller", "moss", "noble", "olive", "page", "pastor",
    "patience", "pat", "peace", "pearl", "penny", "porter", "precious", "price", "prince", "ray", "rich",
    "river", "rock", "rose", "ruby", "sky", "smith", "star", "stone", "storm", "summer", "sunny", "taylor",
    "turner", "unity", "violet", "wade", "walker", "white", "winter", "wood", "young",
))  # fmt: skip
"""English words that are also given names or surnames ("Hope", "Mark", "Will" among the stop
words): found alone, they are more often the word than the person, so `repeat_names` leaves
them."""

_L = r"[\p{Ll}\p{M}]"
_WORD = rf"(?:(?:Mc|Mac|O['’]|D['’])?\p{{Lu}}{_L}{{1,30}}(?:-\p{{L}}{_L}{{1,30}}){{0,2}})"
"""A capitalised word: a capital and small letters, hyphenated parts ("Bernd-Dieter"), Mc, Mac
and O' prefixes. Capitals inside ("JavaScript", "GitHub") or alone ("API") make no name word."""
_INITIALS = r"(?:\p{Lu}\.(?:[ ]?\p{Lu}\.){0,2})"
_PARTICLE = "(?:" + "|".join(PARTICLES) + ")"
_SUFFIX = r"(?:[ ](?:Jr|Sr)\.?(?![\p{L}\p{N}])|[ ](?:II|III|IV)(?![\p{L}\p{N}]))"
_NAME = (
    rf"(?:{_WORD}|{_INITIALS})"
    rf"(?:[ ](?:{_PARTICLE}[ ]){{0,2}}(?!(?:Jr|Sr)\b)(?:{_WORD}|{_INITIALS})){{0,5}}{_SUFFIX}?"
    r"(?![\p{L}\p{N}_@-]|\.[\p{L}\p{N}_])"
)
"""One to six capitalised words or initials with particles between them, then a generational
suffix ("Jr.", "III"), not run on into an identifier or an address."""
_START = r"(?<![\p{L}\p{N}_@.-])"

_PARTS = regex.compile(rf"(?P<initial>\p{{Lu}})\.|(?P<word>{_WORD})|(?P<particle>{_PARTICLE})(?=[ ])")
_RUN = regex.compile(_START + _NAME)
_EMAIL = regex.compile(
    r"(?<![\w.+-])(?P<local>\w[\w.+-]{0,63})@[\w-]{1,63}(?:\.[\w-]{1,63}){0,7}\.[A-Za-z]{2,24}\b"
)
"""An e-mail address; its domain ends in letters, unlike a package's ``name@1.2.3``."""


def _key_words(keys: Iterable[str]) -> str:
    """An alternation of `keys`, longest first, their words joined by a space, ``_``, ``-``, a
    dot or nothing."""
    return "|".join(k.replace(" ", r"[ _.-]?") for k in sorted(keys, key=len, reverse=True))


_KEY = (
    rf"(?<![\p{{L}}\p{{N}}_-])(?i:(?P<part>{_key_words(NAME_PART_KEYS)})"
    rf"|(?P<person>{_key_words(PERSON_KEYS)})|(?P<either>{_key_words(PEOPLE_OR_TEAM_KEYS)}))"
)
_KEY_VALUE = regex.compile(
    rf"""
    (?:
        (?:=>|[:=])(?<={_KEY}["']?[ \t]*(?:=>|[:=]))[ \t]*(?:\r?\n[ \t]*)?
    |   (?P<is>[ ]is[ ])(?<={_KEY}[ ]is[ ])
    )
    ["']?(?P<value>{_NAME})
    (?=["'\],;)<|]|[ \t]*(?:[,;)<|]|$)|[ ]\(|\.(?:\s|$))
    """,
    regex.VERBOSE | regex.MULTILINE,
)
"""A key, ``:``, ``=`` or " is ", and a name as the whole value (quoted or not, the value may
also start on the next line after a colon: "SHIP TO:"). The expression starts at the separator
and looks back for the key, which is much faster than trying every key at every position."""

_TITLE = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}_.])"
    rf"(?P<titles>(?:(?:{'|'.join(TITLES)})\.?[ ]|(?:{'|'.join(DOTTED_TITLES)})\.[ ]){{1,3}})"
    rf"(?P<name>{_NAME})"
)
"""One or more titles ("Prof. Dr."), then a name."""

_INITIALS_NAME = regex.compile(
    rf"""
    (?:(?<=^[ \t]*(?:[-*•][ \t]+)?)|(?<=[(,;:][ ]?|[&/][ ])|(?<=\b(?i:{"|".join(INITIALS_CUES)})[ ]))
    (?P<initials>{_INITIALS})[ ]?(?P<surname>(?:{_PARTICLE}[ ]){{0,2}}{_WORD})
    (?![\p{{L}}\p{{N}}_@-]|\.[\p{{L}}\p{{N}}_]|[ ]\p{{Lu}})
    """,
    regex.VERBOSE | regex.MULTILINE,
)
"""Initials, then a surname (with particles): "A.K. Ikeda", "V. H. Millán", "M.B. Salmon"."""

_SURNAME_FIRST = regex.compile(
    rf"""
    (?<=
        (?<![\p{{L}}\p{{N}}_-])(?i:{"|".join(SURNAME_FIRST_CUES)})(?:[ \t]*[:=][ \t]*|[ \t]+)
        (?P<surname>{_WORD}(?:[ ]{_WORD})?)
    )
    ,[ ](?P<given>{_WORD}(?:[ ]{_WORD})?(?:[ ]{_INITIALS})?)
    (?=[ \t]+[\w.-]{{1,30}}[=:]|[ \t]*[(<;|])
    """,
    regex.VERBOSE,
)
"""A cue, "Surname, Firstname", then more of the record: a ``key=`` or ``key:``, or ``( < ; |``."""

_LOOK_BACK_LINES = 3
_LOOK_BACK_CHARS = 300
_LOOK_AHEAD_CHARS = 200
"""Where a name vouched for by an e-mail address may stand: on the address's line, the three
lines before it (a CV's name above its address and phone) or the line after it."""

Span = tuple[int, int]


class NameRecognizer(LocalRecognizer):
    """PERSON spans from one kind of evidence around a run of capitalised words (see the module
    docstring); each kind is a recognizer of its own, so a detection says which one found it."""

    def __init__(self, name: str, find: Callable[[str], Iterable[Span]], supported_language: str) -> None:
        super().__init__(supported_entities=[ENTITY], name=name, supported_language=supported_language)
        self._find = find

    def load(self) -> None:
        """Nothing to load: the expressions are compiled once, on import."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [found_by(self, ENTITY, start, end, SCORE) for start, end in self._find(text)]


def name_recognizers(language: str) -> list[NameRecognizer]:
    """One recognizer per kind of evidence, for the registry."""
    return [
        NameRecognizer("name-by-email", names_by_email, language),
        NameRecognizer("name-by-key", names_by_key, language),
        NameRecognizer("name-after-title", names_after_titles, language),
        NameRecognizer("initials-surname", initials_and_surnames, language),
        NameRecognizer("surname-first", surnames_first, language),
    ]


# -- e-mail addresses ---------------------------------------------------------------------------


def names_by_email(text: str) -> Iterator[Span]:
    """Names near an e-mail address whose local part spells them (see `_spelled_span`)."""
    if "@" not in text:
        return
    found: set[Span] = set()
    for email in _EMAIL.finditer(text):
        local = _fold(email.group("local").split("+", 1)[0])
        if not ROLE_ADDRESS_WORDS.isdisjoint(_NOT_LETTER.split(local)):
            continue
        letters = _NOT_LETTER.sub("", local)
        start, end = _window(text, email.start(), email.end())
        for run in _RUN.finditer(text, start, end):
            inside = run.start() < email.end() and email.start() < run.end()
            if inside or not _may_spell(letters, run.group()):
                continue
            span = _spelled_span(letters, run)
            if span is not None and span not in found:
                found.add(span)
                yield span


_NOT_LETTER = regex.compile(r"[^a-z]+")


def _window(text: str, start: int, end: int) -> Span:
    """Where a name that the e-mail address at `start`..`end` vouches for may stand."""
    low = max(0, start - _LOOK_BACK_CHARS)
    begin = start
    # The address's own line, then as many lines before it.
    for _ in range(_LOOK_BACK_LINES + 1):
        begin = text.rfind("\n", low, begin)
        if begin < 0:
            begin = low
            break
    high = min(len(text), end + _LOOK_AHEAD_CHARS)
    first = text.find("\n", end, high)
    second = text.find("\n", first + 1, high) if first >= 0 else -1
    return begin, second if second >= 0 else high


@dataclasses.dataclass(frozen=True, slots=True)
class _Part:
    start: int
    end: int
    forms: tuple[str, ...]
    """Folded spellings; empty for an initial, which only its letter stands for."""
    letter: str


def _parts(run: regex.Match[str]) -> list[_Part]:
    """The words, initials and particles of a run of capitalised words, titles and greetings
    left out."""
    parts = []
    for m in _PARTS.finditer(run.group(), 0):
        piece = m.group()
        if m.group("word") and (piece in _NOT_SPELLED or piece.lower() in _GREETINGS):
            continue
        forms = () if m.group("initial") else _folded(piece)
        parts.append(_Part(run.start() + m.start(), run.start() + m.end(), forms, _fold(piece[0])[:1]))
    return parts


def _may_spell(local: str, name: str) -> bool:
    """False when `local` cannot spell `name` (see `_spelled_span`): a name of one word, or one
    none of whose words starts with the local part's first letter. A quick test that spares
    most runs of capitalised words near an address the full one."""
    if " " not in name or not local:
        return False
    return any(_fold(c) == local[0] for c in name if c.isupper()) or f" {local[0]}" in name


def _spelled_span(local: str, run: regex.Match[str]) -> Span | None:
    """The span of the words of `run` that `local` spells, in their order or reversed, each
    whole or as its initial, at least two words and one whole one; None if it spells none.

    ``teofiloc`` spells "Teófilo Cid", ``uche.charity`` "Charity Uche", ``s.ishikawa`` "Sotaro
    Ishikawa", ``marialuisa.aragao`` "Maria Luísa Aragão".
    """
    parts = _parts(run)
    if len(parts) < 2 or len(local) < 3:
        return None
    for ordered in (parts, parts[::-1]):
        used = _spell(local, ordered, 0, 0, ())
        if used is not None:
            words = (run.string[p.start : p.end].lower() for p in used if p.forms)
            if not NOT_NAME_WORDS.isdisjoint(words):
                return None
            return min(p.start for p in used), _name_end(run, parts, max(p.end for p in used))
    return None


def _spell(
    local: str, parts: Sequence[_Part], pos: int, first: int, used: tuple[_Part, ...]
) -> tuple[_Part, ...] | None:
    """Parts from `first` on that spell `local` from `pos` (see `_spelled_span`)."""
    if pos == len(local):
        whole = any(p.forms for p in used)
        return used if len(used) >= 2 and whole else None
    for i in range(first, len(parts)):
        part = parts[i]
        for form in part.forms:
            if len(form) >= 2 and local.startswith(form, pos):
                found = _spell(local, parts, pos + len(form), i + 1, (*used, part))
                if found is not None:
                    return found
        if part.letter and local[pos] == part.letter:
            found = _spell(local, parts, pos + 1, i + 1, (*used, dataclasses.replace(part, forms=())))
            if found is not None:
                return found
    return None


def _name_end(run: regex.Match[str], parts: Sequence[_Part], end: int) -> int:
    """Where the name ending at `end` ends: past the words of `run` that follow it up to the
    first everyday word ("Yaser Martinez [Palenzuela]" for ``yaser.martinez``), and past a
    generational suffix ("Jr.", "III")."""
    for part in parts:
        if part.start >= end and part.forms:
            if _is_plain(run.string[part.start : part.end]):
                return end
            end = part.end
    rest = run.string[end : run.end()]
    return run.end() if rest and _SUFFIX_ONLY.fullmatch(rest) else end


_SUFFIX_ONLY = regex.compile(_SUFFIX)


_SPECIAL_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "ı": "i", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ħ": "h"}
)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _fold(text: str) -> str:
    """Lower case without accents, as names are written in e-mail addresses ("Gałach" -> galach)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SPECIAL_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _folded(word: str) -> tuple[str, ...]:
    """The letters of `word` as an address may spell them: plain, and with German umlauts
    written out ("Müller" -> muller, mueller)."""
    plain = _NOT_LETTER.sub("", _fold(word))
    german = _NOT_LETTER.sub("", _fold(word.lower().translate(_GERMAN)))
    return tuple(dict.fromkeys((plain, german)))


# -- keys ---------------------------------------------------------------------------------------


def names_by_key(text: str) -> Iterator[Span]:
    """Names that are the value of a key holding people: one word or more for a part of a name
    (`NAME_PART_KEYS`), two or more otherwise, none of them naming an organisation, a role or a
    job. After " is ", only keys that only hold people count: "the owner is" may go on with
    anything."""
    for m in _KEY_VALUE.finditer(text):
        if m.group("is") and m.group("either") is not None:
            continue
        words = _name_words(m.group("value"))
        if len(words) < (1 if m.group("part") is not None else 2):
            continue
        if (
            words[0] in _TITLE_WORDS
            or _is_plain(words[0])
            or not NOT_NAME_WORDS.isdisjoint(map(str.lower, words))
        ):
            continue
        yield m.span("value")


def _name_words(name: str) -> list[str]:
    """The capitalised words of a name, initials, particles and suffixes left out."""
    return [m.group() for m in _PARTS.finditer(name) if m.group("word") and m.group() not in _SUFFIX_WORDS]


# -- titles, initials, "Surname, Firstname" --------------------------------------------------------


def names_after_titles(text: str) -> Iterator[Span]:
    """Names after a courtesy title, the title left out ("Dear Prof. [Jockel]")."""
    for m in _TITLE.finditer(text):
        if m.group("titles").startswith("Dr") and _after_capitalised_word(text, m.start()):
            continue  # "Elm Dr. Springfield": a street
        words = _name_words(m.group("name"))
        if not words or words[0] in _TITLE_WORDS or _is_plain(words[0]):
            continue
        if NOT_NAME_WORDS.isdisjoint(w.lower() for w in words):
            yield m.span("name")


def _after_capitalised_word(text: str, pos: int) -> bool:
    before = text[max(0, pos - 30) : pos]
    m = _LAST_WORD.search(before)
    return m is not None and m.group(1)[0].isupper() and m.group(1).lower() not in _GREETINGS


_LAST_WORD = regex.compile(r"(\p{L}+)[ ]\Z")
_GREETINGS = frozenset(
    {"dear", "hi", "hello", "hey", "thanks", "to", "from", "cc", "attn", "meet", "call", "ask"}
)


def initials_and_surnames(text: str) -> Iterator[Span]:
    """Initials and a surname at the start of a line or a list item ("E.M. Obi", "A. Nowak,")."""
    for m in _INITIALS_NAME.finditer(text):
        letters = m.group("initials").replace(".", "").replace(" ", "")
        if letters in ABBREVIATIONS or _is_plain(m.group("surname").split()[-1]):
            continue
        after = text[m.end() : m.end() + 3]
        if (
            len(letters) == 1
            and _at_line_start(text, m.start())
            and after.lstrip(" ")[:1] not in {",", "(", "<", "|"}
        ):
            continue  # "A. Introduction": an outline's heading
        yield m.span()


def _at_line_start(text: str, pos: int) -> bool:
    line = text.rfind("\n", 0, pos) + 1
    return not text[line:pos].strip(" \t-*•")


def surnames_first(text: str) -> Iterator[Span]:
    """Names written "Surname, Firstname" in a record (see `_SURNAME_FIRST`), unless the second
    part is a country ("Lyon, France")."""
    for m in _SURNAME_FIRST.finditer(text):
        words = [*m.group("surname").split(), *_name_words(m.group("given"))]
        if m.group("given") in _COUNTRIES or any(_is_plain(w) for w in words):
            continue
        yield m.start("surname"), m.end("given")


_COUNTRIES = frozenset(COUNTRIES)


# -- words --------------------------------------------------------------------------------------


_STOP_WORDS = frozenset(STOP_WORDS)
_TITLE_WORDS = frozenset((*TITLES, *DOTTED_TITLES))
_SUFFIX_WORDS = frozenset({"Jr", "Sr", "II", "III", "IV"})
_NOT_SPELLED = _TITLE_WORDS | _SUFFIX_WORDS


def _is_plain(word: str) -> bool:
    """True for a stop word, a greeting, or a word of an organisation, role, job or date."""
    lower = word.lower()
    return lower in _STOP_WORDS or lower in NOT_NAME_WORDS or lower in _GREETINGS


# -- the same name elsewhere in the text ----------------------------------------------------------


def repeat_names(text: str, detections: Sequence[Detection]) -> list[Detection]:
    """`detections`, and the other occurrences of each name of two words or more among them:
    the whole name, and each word of it that is a name and not also a word (see `_terms`):
    "Justin" after "Justin Obi", not "Hope" after "Hope Ibrahim". Occurrences glued to code
    ("Justin_id", "Obi.find") and where something was detected already are left alone.

    It runs after every recognizer, on what they found together, so a name that one of them
    found in a header vouches for its parts in the text below."""
    sources: dict[str, Detection] = {}
    for d in detections:
        if d.entity_type == ENTITY and not d.secret:
            sources.setdefault(text[d.start : d.end], d)
    terms: dict[str, Detection] = {}
    written_small = _WrittenSmall(text)
    for name, d in sources.items():
        if _NAME_ONLY.fullmatch(name) is not None:
            for term in _terms(name, written_small):
                terms.setdefault(term, d)
    if not terms:
        return list(detections)
    taken = _joined(sorted((d.start, d.end) for d in detections))
    added: list[Detection] = []
    for term, source in sorted(terms.items(), key=lambda item: -len(item[0])):
        for start in _occurrences(text, term):
            end = start + len(term)
            if _overlaps(taken, start, end):
                continue
            bisect.insort(taken, (start, end))
            added.append(dataclasses.replace(source, start=start, end=end, recognizer=REPEATED))
    return [*detections, *_adjacent_joined(text, added)]


def _adjacent_joined(text: str, found: list[Detection]) -> list[Detection]:
    """`found` with parts one space apart joined: "Ingrid" and "Raman" of two names make one
    name, "Ingrid Raman", and one placeholder."""
    joined: list[Detection] = []
    for d in sorted(found, key=lambda d: d.start):
        if joined and text[joined[-1].end : d.start] == " ":
            joined[-1] = dataclasses.replace(joined[-1], end=d.end)
        else:
            joined.append(d)
    return joined


def _terms(name: str, written_small: _WrittenSmall) -> list[str]:
    """What to look for elsewhere for a detected `name`, written as a name: the name and each
    word of it of three letters or more that is not an everyday word, nor one of the words the
    text also writes in small letters, `written_small` (a word a text writes as "run" or "page"
    somewhere is a word, not a name, wherever it is capitalised). Nothing when no word is left
    ("Code Page"), or when `name` has fewer than two words or initials ("TypeAlias" is one) or
    names an organisation or a part of a program ("Payments Team", "Oracle Nederland", "Task
    Runner")."""
    parts = list(_PARTS.finditer(name))
    words = [m.group() for m in parts if m.group("word") and m.group() not in _SUFFIX_WORDS]
    initials = sum(1 for m in parts if m.group("initial"))
    lower = {word.lower() for word in words}
    if len(words) + initials < 2 or not (
        NOT_NAME_WORDS.isdisjoint(lower) and COMPONENT_WORDS.isdisjoint(lower)
    ):
        return []
    if not _COUNTRIES.isdisjoint(words):
        return []
    given = [
        word
        for word in words
        if len(word) >= 3
        and not _is_plain(word)
        and word.lower() not in COMMON_WORD_NAMES
        and not written_small(word.lower())
    ]
    return [name, *given] if given else []


_NAME_ONLY = regex.compile(_NAME)


class _WrittenSmall:
    """Whether a text writes a word in small letters somewhere, as a word of its own: one search
    of the text per word asked about, each word asked about once."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._known: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        if word not in self._known:
            self._known[word] = next(_occurrences(self._text, word), None) is not None
        return self._known[word]


def _occurrences(text: str, term: str) -> Iterator[int]:
    """Where `term` stands as a whole word, not glued to code around it."""
    start = text.find(term)
    while start >= 0:
        end = start + len(term)
        before = text[start - 1] if start else " "
        after = text[end : end + 2]
        if not (before.isalnum() or before in "_.@/\\-") and not _GLUED_AFTER.match(after):
            yield start
        start = text.find(term, end)


_GLUED_AFTER = regex.compile(r"[\p{L}\p{N}_@(-]|\.[\p{L}\p{N}_]")


def _joined(spans: Sequence[Span]) -> list[Span]:
    """Sorted `spans` with overlapping ones joined, so that `_overlaps` needs one look."""
    joined: list[Span] = []
    for start, end in spans:
        if joined and start < joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _overlaps(taken: Sequence[Span], start: int, end: int) -> bool:
    """True when `start`..`end` overlaps one of `taken`, sorted spans that do not overlap."""
    i = bisect.bisect_left(taken, (end, end))
    return i > 0 and taken[i - 1][1] > start
