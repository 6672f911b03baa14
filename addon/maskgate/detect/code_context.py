"""Names and places from the entity recognizer, checked against the text around them.

spaCy's entity recognizer reads code as if it were prose: it takes class names, type hints,
calls and attribute chains for people and places (``Layer``, ``t.Optional[t``,
``TemplateSyntaxError(``), and its spans run on into neighbouring text ("Philip ssn=734-").
Masking those garbles the code a user asked about, or hides the number next to the name
from its own recognizer. `refine` keeps what can be a name and drops the rest, in four steps:

1. A span is cut at characters a name (or a place) never contains, a spaced dash and wide
   gaps included ("Worker - Retrying", a table's "PORTS      NAMES"), and each piece is kept
   on its own, so a cut never uncovers the part of a name beyond the cut. A piece without a
   word of letters alone is a number or an id (``0edbc76d``, a UUID), never a name or a place;
   one that ends in a component noun ("Connection Pool", "Config Loader") names a part of a
   program; a person of one word in small letters (``npm``) is a command or a key.
2. A piece glued to code syntax (``_``, ``(``, ``[``, ``=``, ``self.`` before it, ``.attr``
   after it), inside base64 (``h1:Hu/p+Zh...=``), written as a dotted name or in small letters
   joined by hyphens (``ci-runner``) is part of an identifier, and a person in capitals after
   an article ("the CAP theorem") is an acronym, wherever they stand.
3. `CodeMap` finds the parts of a text that are code (fenced blocks, statement lines and what
   is indented under them or comments just before them, stack frames) and, inside code, the
   string literals and comments, where real names do occur (``author = "Jane Doe"``, ``# ask
   Jane``). In code outside those, a single word is an identifier, and so is anything on a
   statement line; a value without quotes is data only in a config file, not in a program
   that defines or imports. Inside literals and comments, only words that the code itself
   uses as identifiers (or parts of them), that only code writes, that are ordinary English
   verbs, adjectives or adverbs in running text ("Invalid value", "when Rich requires a
   Console"; `maskgate.detect.common_words`), words of a docstring's examples, and strings
   that are a mapping's key or a constant the code compares with. Shell commands after a
   ``$`` prompt and minified lines are code too.
4. On a log line (one that starts with a time stamp, a level or a service's prefix), the
   words a log is made of are dropped: ordinary words, levels, months and days, words the
   text also writes in small letters, and places no gazetteer knows.

Only the recognizer's PERSON and LOCATION spans are checked: pattern types (e-mail, phone,
card...), secrets, deny lists and the rules' own recognizers mean what they say. Every pass is
a handful of regular expressions over the text and one step per line, none per token.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Iterator, Sequence

from maskgate.detect.common_words import common_words
from maskgate.detect.names import COMPONENT_WORDS, DOTTED_TITLES, PARTICLES, TITLES
from maskgate.detect.places import gazetteer
from maskgate.detect.types import Detection

NER_RECOGNIZER = "SpacyRecognizer"
"""Presidio's name for the recognizer that reports spaCy's entities."""

NER_TYPES = frozenset({"PERSON", "LOCATION"})

_WORD = r"[^\W\d_]"
"""A letter (of any script)."""

_PARTS = {
    # Letters, with spaces, initials' dots, commas ("Last, First"), apostrophes and hyphens
    # between them; a line break, a digit or any symbol ends a name.
    # A hyphen joins words only when no space is beside it ("Jean-Luc", not "Worker - Started"),
    # and a table's columns ("PORTS      NAMES") are further apart than two spaces.
    "PERSON": re.compile(rf"{_WORD}+(?:(?:[.,'’]*\s{{1,2}}|[.'’-]+){_WORD}+)*\.?"),
    # Addresses also hold digits, slashes, "#" and line breaks; code syntax ends a place.
    "LOCATION": re.compile(r"[^\s_=()\[\]{}<>\"`|;:@*$^~\\]+(?:\s+[^\s_=()\[\]{}<>\"`|;:@*$^~\\]+)*"),
}
"""What a piece of a PERSON or LOCATION span may be made of."""

_TITLE_WORD = re.compile(rf"(?<!{_WORD})[^\W\d_a-z]{_WORD}*[a-z]")
"""A word with a capital first letter and a small letter after it: what a piece cut out of a
longer span must hold to still be taken for a name ("Philip", not "ERROR" or "ms")."""

_PARTICLE = "(?:" + "|".join(PARTICLES) + r")\s"
_LEADING_LOWER = re.compile(rf"(?:(?!{_PARTICLE})[a-z]{_WORD}*\s+)+(?=(?:{_PARTICLE})*[^\W\d_a-z])")
"""Small-letter words before a capitalised word at the start of a name piece ("new Gt",
"typeof Be"): a name written with capitals starts with one or a particle ("van Gogh")."""

_TITLES = frozenset((*TITLES, *DOTTED_TITLES))
"""A courtesy title left alone by a cut ("Mx" of "...org\n- Mx") names nobody."""

_LETTER_WORD = re.compile(rf"{_WORD}+")
_DIGIT = re.compile(r"\d")
_FIRST_PART = re.compile(r"[^,\n]*")

_TRAILING_LOWER = re.compile(rf"(?:[\s,]+[a-z]{_WORD}*)+\.?\Z")
"""Small-letter words at the end of a name piece ("Philip ssn"): names never end in one."""

_DOTTED = re.compile(rf"{_WORD}{{2}}\.{_WORD}")
"""``self.file``, ``connection.Server``: an attribute chain, never a name."""

_GLUED_BEFORE = re.compile(r"(?:\w|\w{2}\.|</?|(?:^|\s):)\Z")
_GLUED_AFTER = re.compile(r"^(?:[\w(\[=]|\.\w)")
"""Characters next to a piece that make it part of a longer identifier, a call, an assignment
(``Po={``, ``Be==``), a markup tag or a reStructuredText role or field (``:param json:``)."""

_RANDOM_TOKEN = re.compile(r"(?=[\w-]*[a-z])(?=[\w-]*[A-Z])(?=[\w-]*[0-9])[\w-]{8,}")
"""A run of small and capital letters and digits: an id or a hash, never a name or a place."""

_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_MAX_BLOB = 200
"""How far `_in_blob` follows a run of base64 each way."""

_LETTERS_ONLY = re.compile(rf"(?<![\w'’-]){_WORD}+(?:['’.-]{_WORD}+)*(?![\w'’-])")
"""A word of letters alone ("Flat" in "Flat 27W", "O'Neil"): every name and place has one;
``0edbc76d`` and ``ef4d1d7b-67eb-4be6-a870-1249a2d17feb`` have none."""

_KEBAB_CASE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
"""``ci-runner``, ``user-service``: a host, package or branch name. A name with a hyphen has
capitals ("Jean-Luc")."""

_ARTICLE_BEFORE = re.compile(r"(?i)(?<![\w-])(?:an?|the)[ \t]+\Z")
"""A word in capitals alone after an article ("the CAP theorem", "an SDK"): people's names take
no article."""


def is_checked(d: Detection) -> bool:
    """True for the entity recognizer's names and places, the only spans `refine` changes."""
    return d.recognizer == NER_RECOGNIZER and d.entity_type in NER_TYPES and not d.secret


def refine(text: str, detections: Sequence[Detection]) -> list[Detection]:
    """`detections` with the recognizer's names and places cut to what can be a name, and
    dropped where they are identifiers (see the module docstring); others are kept as they are."""
    if not any(is_checked(d) for d in detections):
        return list(detections)
    code = CodeMap(text)
    kept = []
    for d in detections:
        if not is_checked(d):
            kept.append(d)
            continue
        kept += [
            p
            for p in name_parts(text, d)
            if not _glued(text, p)
            and not _acronym(text, p)
            and not code.is_identifier(p)
            and not code.is_log_term(p)
        ]
    return kept


def name_parts(text: str, d: Detection) -> Iterator[Detection]:
    """The pieces of `d` that can be a name or a place; `d` itself when it is one piece.

    A span that had to be cut keeps only pieces with a capitalised word: what is left of
    "ms status=204" or "16,571 ERROR" is no name.
    """
    value = text[d.start : d.end]
    pieces = [(m.start(), m.end()) for m in _PARTS[d.entity_type].finditer(value)]
    whole = pieces == [(0, len(value))]
    for start, end in pieces:
        if d.entity_type == "PERSON":
            lead = _LEADING_LOWER.match(value, start, end)
            start = lead.end() if lead else start
            if not whole:
                tail = _TRAILING_LOWER.search(value, start, end)
                end = tail.start() if tail else end
        piece = value[start:end].rstrip(" \t,.'’-")
        end = start + len(piece)
        if not piece or _DOTTED.search(piece) or _KEBAB_CASE.fullmatch(piece):
            continue
        if any(map(_RANDOM_TOKEN.fullmatch, piece.split())) or not _LETTERS_ONLY.search(piece):
            continue
        if _names_component(piece) or _small_letters(d.entity_type, piece):
            continue
        if whole and (start, end) == (0, len(value)):
            yield d
        elif _TITLE_WORD.search(piece) and piece not in _TITLES:
            yield dataclasses.replace(d, start=d.start + start, end=d.start + end)


def _small_letters(entity_type: str, piece: str) -> bool:
    """True for a person of one word in small letters (``npm``, ``statuscode``: a command or a
    key; a person written in small letters has a surname too, "ekaja khatri") and a place in
    small letters with a number ("a5ce1c867332  9 weeks ago")."""
    if not piece.islower():
        return False
    if entity_type == "PERSON":
        return piece.isalpha()
    return _DIGIT.search(piece) is not None


def _names_component(piece: str) -> bool:
    """True for a part of a program written with capitals: words that end in a component noun
    ("Worker", "Connection Pool"), also when the recognizer ran on into the next ordinary word
    ("Db Migrator Started"). A comma or a line break ends the test: "Ana Ruiz, Engineering
    Manager" and "Ana Ruiz\nBackend Developer" name a person before it."""
    words = [w.lower() for w in _LETTER_WORD.findall(_FIRST_PART.match(piece).group())]
    while len(words) > 1 and words[-1] in common_words():
        words.pop()
    return bool(words) and (words[-1] in COMPONENT_WORDS or words[-1].removesuffix("s") in COMPONENT_WORDS)


def _glued(text: str, d: Detection) -> bool:
    """True when `d` continues an identifier or a call on either side (``_VT``, ``Layer(``,
    ``connection.Server``, ``x.rsplit``), which a name in prose never does."""
    before = text[max(0, d.start - 3) : d.start]
    after = text[d.end : d.end + 2]
    return bool(_GLUED_BEFORE.search(before) or _GLUED_AFTER.search(after)) or _in_blob(text, d)


def _in_blob(text: str, d: Detection) -> bool:
    """True when `d` is letters inside base64 (``h1:Hu/p+Zh...=``, ``sha384-...``): a run of
    its alphabet, with small and capital letters and digits, that has a ``+`` or ends in
    ``=``, or has no ``/`` (a path, "/Users/Ana/report2024", may have all the rest)."""
    start = d.start
    while start > d.start - _MAX_BLOB and start > 0 and text[start - 1] in _BASE64:
        start -= 1
    end = d.end
    while end < d.end + _MAX_BLOB and end < len(text) and text[end] in _BASE64:
        end += 1
    run = text[start:end]
    if len(run) < 20 or not _RANDOM_TOKEN.fullmatch(run.replace("+", "").replace("/", "").rstrip("=")):
        return False
    return "+" in run or run.endswith("=") or "/" not in run


def _acronym(text: str, d: Detection) -> bool:
    """True for a person that is a word in capitals after an article (see `_ARTICLE_BEFORE`)."""
    value = text[d.start : d.end]
    return (
        d.entity_type == "PERSON"
        and len(value) > 1
        and value.isalpha()
        and value.isupper()
        and _ARTICLE_BEFORE.search(text, max(0, d.start - 8), d.start) is not None
    )


_FENCE = re.compile(r"^[ \t]*(?:```|~~~(?!~))")
"""A Markdown fence; a longer run of tildes underlines a reStructuredText heading in a docstring."""

_STATEMENT = re.compile(
    r"""^[ \t]*(?:
        (?:async[ \t]+)?def[ \t]+\w+[ \t]*\(
      | class[ \t]+\w+[ \t]*[(:]
      | import[ \t]+[\w.]+
      | from[ \t]+[\w.]+[ \t]+import\b
      | @[\w.]+
      | (?:return|raise|yield|await|assert|del|pass|break|continue|elif|else|try|finally|except)\b
      | (?:if|while|for|with)\b.*:[ \t]*(?:\#.*)?$
    )
    | ->
    """,
    re.X | re.M,
)
"""Lines that are statements of code: outside string literals they hold no prose at all.
(``^`` also matches at the start of a line searched from its offset in a longer text.)"""

_CODE_LINE = re.compile(
    r"""
      ^[ \t]*[\w.]+(?:\[[^\]\n]*\])?[ \t]*(?:[-+*/%|&^]|//|\*\*)?=(?!=)   # assignment
    | ^[ \t]*[A-Za-z_][\w.]*[ \t]*:[ \t]*[\w.]+(?:\[[^\n]*\])?[ \t]*=(?!=)  # annotated assignment
    | ^[ \t]*[A-Za-z_][\w.]*[ \t]*:[ \t]*[\w.]+\[[^\n]*\][ \t]*$          # annotation with a generic
    | ^[ \t]*\$[ \t]+[\w./-]+(?:[ \t]|$)                                 # a shell command
    | ^[ \t]*[A-Za-z_][\w.]*\(                                           # a call
    | =>|[!=<>]=|&&|\|\|
    | [;{}\[(][ \t]*$ | ^[ \t]*[})\]]                                    # brackets and ends
    | ^[ \t]*File[ \t]"[^"\n]*",[ \t]line[ \t]\d+                        # stack frames
    | ^[ \t]*at[ \t][\w$.<>]+\(
    | ^Traceback[ \t]\(most[ \t]recent
    """,
    re.X,
)
"""Lines that look like code even when they are not statements."""

_LITERALS = re.compile(
    r"""
    (?P<string>
        [rbfuRBFU]{0,2}
        (?:\"\"\"(?:\\.|[^\\])*?(?:\"\"\"|\Z)
          | '''(?:\\.|[^\\])*?(?:'''|\Z)
          | "(?:\\.|[^"\\\n])*"
          | '(?:\\.|[^'\\\n])*'
          | `(?:\\.|[^`\\])*`)
    )
    | (?P<comment>\#[^\n]*|//[^\n]*|/\*(?s:.*?)(?:\*/|\Z))
    """,
    re.X,
)
"""String literals and comments of most languages, found left to right, so a quote inside
a comment or a "#" inside a string is read as part of it."""

_LOG_LINE = re.compile(
    r"""^[ \t]*\[?(?:
        \d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}                       # ISO date and time
      | \d{1,2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}               # access log time
      | (?:[A-Z][a-z]{2}[ ]+)?[A-Z][a-z]{2}[ ]+\d{1,2}[ ]\d{2}:\d{2}:\d{2}  # syslog, ctime
      | \d{2}:\d{2}:\d{2}                                    # time of day
      | [IWEF]\d{4}[ ]\d{2}:\d{2}:\d{2}                       # klog
      | (?i:trace|debug|info|notice|warn|warning|error|err|critical|crit|fatal|severe)(?:\]|:|[ ]+-|[ \t]{2})
      | (?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|SEVERE)[ ]
      | [\w.-]*[-_]\d+[ \t]+\|[ ]                             # a compose service's prefix
      | \d{1,3}(?:\.\d{1,3}){3}[ ]\S+[ ]\S+[ ]\[                # access log with the client's address
    )""",
    re.X | re.M,
)
"""Lines of a log: a time stamp, a level or a service's prefix first."""

LOG_WORDS = frozenset((
    "trace", "debug", "info", "notice", "warn", "warning", "error", "err", "critical", "crit", "fatal",
    "severe", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday",
))  # fmt: skip
"""Levels, months and days, as log lines write them with capitals ("Thu Mar 14", "Error")."""

_INLINE_CODE = re.compile(r"`[^`\n]+`")
"""Markdown inline code in prose."""

_ASSIGNED_VALUE = re.compile(r"(?:[=:]|=>)[ \t]*$")
"""What comes before a value written without quotes (``name: Jan``, ``author = Jan``),
which is data, not an identifier, when it is a capitalised word (not ``t.BinaryIO``)."""

_PLAIN_NAME = re.compile(r"[^\W\d_a-z][^\W\d_]*(?:[ '’-][^\W\d_]+)*")

_SECTION_HEADING = re.compile(r":[ \t]*$", re.M)
"""``Raises:``, ``Returns:`` at the end of a line in a docstring."""

_CODE_WORD = re.compile(r"[a-z][a-z0-9]*|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Z][A-Z0-9]+")
"""A string literal that is only this (``"lineno"``, ``"AsyncGeneratorType"``,
``"APPDATA"``) is a key, a mode, a type or a variable's name."""

_QUOTES = frozenset("'\"`")
"""Quotes around a word inside a literal or a comment (``open(path, 'wb')`` in a docstring's
example) make it a string of the code, like a literal that is only this word."""

_CAMEL_CASE = re.compile(r"[\w-]*(?:[a-z0-9][A-Z]|[A-Z]{2}[a-z])[\w-]*")
"""``ProxyManager``, ``readInto``, ``SSLContext``, ``Sec-WebSocket-Key``: several words run
together, as only identifiers and protocol names are."""

_KEY_AFTER = re.compile(r"[ \t]*:(?!:)")
"""A colon after a string literal: the string is a key of a mapping (``"Lao": range(...)``)."""

_COMPARED = re.compile(r"(?:[=!]=|(?<!\w)(?:is|in|case))[ \t]*\Z")
"""What comes before a constant the code tests a value against (``system() == "Darwin"``)."""

_DOCTEST = re.compile(r"[ \t]*(?:>>>|\.\.\.)[ \t]|[ \t]*Traceback \(most recent call last\):")
"""An example's line in a docstring: a prompt and code, or the traceback it prints (a
statement line without a prompt is an example too)."""

_DEFINITIONS = re.compile(
    r"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(|class[ \t]+\w+[ \t]*[(:{]"
    r"|import[ \t]+[\w.{*]|from[ \t]+[\w.]+[ \t]+import\b"
    r"|(?:export[ \t]+)?(?:function|const|let|var)[ \t]+\w+)",
    re.M,
)
"""Lines that define or import: a region with one is a program (not a config file), whose
values without quotes (``cls=MyModel``, ``name: NormalizedName``) are names of its own."""

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")

_END = 1 << 62
"""Larger than any offset: sorts a (start, _END) probe after every span starting at start."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Literal:
    start: int
    end: int
    comment: bool


class CodeMap:
    """Which parts of a text are code, and which parts of the code are literals or comments."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._code = _code_regions(text)
        self._literals: list[_Literal] = []
        for start, end in self._code:
            self._literals += [
                _Literal(m.start(), m.end(), m.lastgroup == "comment")
                for m in _LITERALS.finditer(text, start, end)
            ]
        self._literal_starts = [lit.start for lit in self._literals]
        self._programs = [(start, end) for start, end in self._code if _DEFINITIONS.search(text, start, end)]
        self._inline = [m.span() for m in _INLINE_CODE.finditer(text)]
        self._log_lines = [m.start() for m in _LOG_LINE.finditer(text)]

    @functools.cached_property
    def _code_words(self) -> frozenset[str]:
        """Every word of the code outside its literals and comments: its identifiers."""
        words: set[str] = set()
        for start, end in self._code:
            i = bisect.bisect_left(self._literal_starts, start)
            for lit in self._literals[i:]:
                if lit.start >= end:
                    break
                words.update(_IDENTIFIER.findall(self._text, start, lit.start))
                start = lit.end
            words.update(_IDENTIFIER.findall(self._text, start, end))
        return frozenset(words)

    @functools.cached_property
    def _code_word_parts(self) -> frozenset[str]:
        """The code's identifiers and their snake_case parts, in small letters (``typer`` of
        ``typer_instance``): what its comments name with a capital ("Typer")."""
        return frozenset(part for word in self._code_words for part in word.lower().split("_") if part)

    def is_log_term(self, d: Detection) -> bool:
        """True when `d` stands on a log line and is made of its usual words: ordinary English
        verbs, adjectives and adverbs (`common_words`), levels, months and days ("Retrying",
        "Graceful", "Thu Mar"); a word the text also writes in small letters ("Git" and ``git
        config``); or a place no gazetteer knows ("Uvicorn running on ..."). A log names a
        service or a step far more often than a person, and its places are cities."""
        text = self._text
        line = bisect.bisect_right(self._log_lines, d.start) - 1
        if line < 0 or "\n" in text[self._log_lines[line] : d.start]:
            return False
        value = text[d.start : d.end]
        words = _LETTER_WORD.findall(value)
        if all(w.lower() in LOG_WORDS or w in common_words() for w in words):
            return True
        if len(words) == 1 and self._written_small(value.lower()):
            return True
        return d.entity_type == "LOCATION" and value not in gazetteer().places

    @functools.cache  # noqa: B019 - one map per text, dropped with it
    def _written_small(self, word: str) -> bool:
        """True when the text writes `word` in small letters as a word of its own."""
        return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", self._text) is not None

    def in_code(self, pos: int) -> bool:
        """True when `pos` is in a part of the text taken for code."""
        return _within(self._code, pos, pos + 1)

    def literal_at(self, start: int, end: int) -> _Literal | None:
        """The string literal or comment that holds ``text[start:end]``, if any."""
        i = bisect.bisect_right(self._literal_starts, start) - 1
        if i >= 0 and self._literals[i].end >= end:
            return self._literals[i]
        return None

    def is_identifier(self, d: Detection) -> bool:
        """True when `d` stands where only code can be: in code outside literals and comments,
        a single word (or anything on a statement line) other than an unquoted value, words in
        small letters only, or a word alone in inline code. In the code's comments and
        literals, a single word run together from several (``ProxyManager``) or used as an
        identifier elsewhere in the code, a small-letter word that is the whole string or quoted
        (``"lineno"``, ``'wb'``), in running text an ordinary English verb, adjective or adverb
        (`common_words`) or a word in capitals (``TODO``), and in a literal also a docstring
        section heading (``Raises:``), a line of an example, a key (``"Lao": ...``) or a
        constant compared with (``== "Darwin"``). A place in small letters in code is a module
        or a variable (``asyncio``), and a program's values without quotes are its names."""
        text, start, end = self._text, d.start, d.end
        value = text[start:end]
        single = not any(c.isspace() for c in value)
        if _within(self._inline, start - 1, end + 1):
            return single
        if not self.in_code(start):
            return False
        if single and value.islower():
            # A module or a variable (``asyncio``, ``rv``), also in a comment.
            return True
        line_start = text.rfind("\n", 0, start) + 1
        line_end = _line_end(text, end)
        literal = self.literal_at(start, end)
        if literal is not None:
            if not single:
                return False
            # Docstrings and comments name the code's own classes, functions and modules.
            if _CAMEL_CASE.fullmatch(value) or value.lower() in self._code_word_parts:
                return True
            if (
                not literal.comment
                and literal.start < line_start
                and (_DOCTEST.match(text, line_start) or _STATEMENT.search(text, line_start, line_end))
            ):
                return True
            whole = text[literal.start : literal.end].lstrip("rbfuRBFU").strip("\"'`")
            if whole == value and (
                _KEY_AFTER.match(text, literal.end) or _COMPARED.search(text, line_start, literal.start)
            ):
                return True
            quoted = text[start - 1 : start] in _QUOTES and text[end : end + 1] == text[start - 1]
            if whole == value or quoted:
                return _CODE_WORD.fullmatch(value) is not None
            # An ordinary word in running text ("Invalid value", "when Rich requires a Console").
            if value in common_words():
                return True
            # A constant, an acronym or a marker in running text ("TODO: ...", "known type, FFF").
            if value.isupper():
                return True
            return not literal.comment and _SECTION_HEADING.match(text, end, line_end) is not None
        if _STATEMENT.search(text, line_start, line_end):
            return True
        if not single:
            # Words in small letters around code syntax: ``k for k, v in``.
            return value.islower()
        # An unquoted value at the end of a line of a config file (YAML, .ini) is data.
        if _within(self._programs, start, end) or text[end:line_end].strip(" \t"):
            return True
        return not (_PLAIN_NAME.fullmatch(value) and _ASSIGNED_VALUE.search(text, line_start, start))


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _within(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect.bisect_right(spans, (start, _END)) - 1
    return i >= 0 and spans[i][0] <= start and end <= spans[i][1]


def _code_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) of the code in `text`: fenced blocks, and runs of lines from a line of code
    over further code, blank lines and indented lines, up to the last line of code or indent.
    A fenced block is the lines between its fences: a fence's backticks open no string."""
    regions: list[tuple[int, int]] = []
    run_start = run_end = -1
    comments_start = -1  # comment lines that the next line of code takes into its run
    fenced = False
    pos = 0
    for line in text.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        body = line.rstrip("\r\n")
        if _FENCE.match(body) and not (run_start >= 0 and body[:1] in " \t"):
            fenced = not fenced
            comments_start = -1
            if fenced:
                _close(regions, run_start, run_end)
                run_start = pos
            else:
                regions.append((run_start, start))
                run_start = run_end = -1
            continue
        if fenced:
            continue
        if _is_code_line(body):
            if run_start < 0:
                run_start = start if comments_start < 0 else comments_start
            run_end = start + len(body)
        elif run_start >= 0 and (not body.strip() or body[:1] in " \t" or _COMMENT_LINE.match(body)):
            if body.strip():
                run_end = start + len(body)
        else:
            _close(regions, run_start, run_end)
            run_start = run_end = -1
            if _COMMENT_LINE.match(body):
                comments_start = start if comments_start < 0 else comments_start
                continue
        if body.strip():
            comments_start = -1
    if fenced:
        regions.append((run_start, len(text)))
    else:
        _close(regions, run_start, run_end)
    return regions


def _close(regions: list[tuple[int, int]], start: int, end: int) -> None:
    if start >= 0:
        regions.append((start, end))


_COMMENT_LINE = re.compile(r"[ \t]*(?:#|//)")
"""A line that is a comment: code when it stands in or just before code."""


def _is_code_line(line: str) -> bool:
    return bool(line.strip()) and bool(_STATEMENT.search(line) or _CODE_LINE.search(line) or _minified(line))


MINIFIED_LINE = 200
"""A line at least this long with a space for fewer than every 20 characters is minified code
(or data): running text has a space every five or six."""


def _minified(line: str) -> bool:
    return len(line) >= MINIFIED_LINE and line.count(" ") * 20 < len(line)
