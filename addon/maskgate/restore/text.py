"""Put originals back in place of the placeholders we issued.

Only placeholders in the vault are replaced, and only those of values that are not
redacted: a redacted placeholder stays exactly as the model wrote it, in any of the forms
below, and is counted apart. Placeholder-shaped text the user wrote stays as it is; ids
the model made up stay too and are counted as unresolved, so a person can see that an
answer refers to something maskgate never sent.

Models do not always copy a placeholder exactly, so these forms of one of OUR ids are
restored too (an altered form of any other id stays as written and is not counted:
only the exact `[[TYPE_N]]` of an unknown id is, as it is certainly meant as one):

- up to `MAX_SPACES` spaces or tabs on each side of the id: `[[ PERSON_1 ]]`;
- any letter case: `[[person_1]]` (the id is compared upper-cased);
- markdown-escaped brackets, which are consumed with their backslashes: `\\[\\[PERSON_1\\]\\]`
  and `\\[\\[PERSON_1]]`; the brackets on one side are escaped all or none, so the
  backslash of `C:\\[[PERSON_1]]` (a path ending where a value was masked) is kept;
- a single pair of brackets, `[PERSON_1]`, also escaped; when it is followed by `(` it is
  the text of a markdown link, so its brackets stay: `[PERSON_1](url)` -> `[Jane Doe](url)`.

A bare `PERSON_1` is never touched. In JSON text (tool-call arguments, restored with
`json_string_escape`) a markdown backslash is written `\\\\` and a tab `\\t`: the forms are
matched in their JSON-escaped spelling, so restoring the JSON text gives what restoring
its decoded string would (a backslash or bracket written as a `\\u` escape is not
recognised).

Streamed text is restored piece by piece by `IncrementalRestorer`, which holds back
only a tail that could still become one of our placeholders in one of these forms
(redacted ones included, so that each is counted once, whole).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from maskgate.vault import PLACEHOLDER_SHAPE, Vault

MAX_SPACES = 2
"""Spaces or tabs accepted on each side of the id. Models add one, rarely two; the bound
keeps the longest accepted form, and so the longest held tail, short."""

_ID_START = r"[A-Za-z][A-Za-z0-9_]*"
"""An id as far as it is written; a whole one ends in `_N`. Any case: it is upper-cased."""

_OPEN_SHAPE = re.compile(r"\[(?:\[(?:[A-Z][A-Z0-9_]*(?:_\d+\])?)?)?")
"""A start of `PLACEHOLDER_SHAPE` that the next characters could still complete."""

_OPEN_SHAPE_LIMIT = 64
"""Longest open start kept for counting split unknown placeholders; type names are short."""


@dataclass(frozen=True, slots=True)
class PlaceholderForms:
    """The accepted forms of a placeholder as spelled in one kind of text.

    `form` matches a whole form: `double` or `single` is its opening, `close` the closing
    of a single one, `id` the id as written. `tail` matches, up to the end of a text, a
    start that more characters could still turn into a form, or a complete single form
    (whether it is a link depends on the next character); `id` is the id written so far
    and `after` what follows it, empty while the id may still grow. `extra` is how much
    longer than `[[TYPE_N]]` a form can be, `before_bracket` how far before its last
    opening bracket a form can begin (`\\[\\[`).
    """

    form: re.Pattern[str]
    tail: re.Pattern[str]
    extra: int
    before_bracket: int


def _forms(backslash: str, spaces: tuple[str, ...]) -> PlaceholderForms:
    """The forms for a text where a backslash and the spaces are written as given.

    Both regexes are built from the same pieces, so the hold-back sees exactly the
    beginnings of what the matcher replaces. Escape sequences longer than one character
    may also be cut in half at the end of a streamed piece: `half` matches such a half.
    """
    esc = re.escape(backslash)
    space = "(?:" + "|".join(map(re.escape, spaces)) + ")"
    run = f"{space}{{0,{MAX_SPACES}}}"
    halves = sorted({t[:n] for t in (backslash, *spaces) for n in range(1, len(t))})
    half = "|".join(map(re.escape, halves))
    or_half = f"|{half}" if half else ""
    half_space = f"|{space}{{0,{MAX_SPACES - 1}}}(?:{half})" if half else ""
    form = (
        rf"(?:(?P<double>{esc}\[{esc}\[|\[\[)|(?P<single>{esc}\[|\[))"
        rf"{run}(?P<id>{_ID_START}_\d+){run}"
        rf"(?(double)(?:\]\]|{esc}\]{esc}\])|(?P<close>\]|{esc}\]))"
    )
    double_close = rf"(?:\]|{esc}(?:\](?:{esc}{or_half})?)?{or_half})?"
    single_close = rf"(?:\]|{esc}{or_half})?"
    after = rf"(?:{run}(?(double){double_close}|{single_close}){half_space})"
    tail = (
        rf"(?:{esc}(?:\[(?:{esc}{or_half}))?{or_half}"
        rf"|(?:(?P<double>{esc}\[{esc}\[|\[\[)|{esc}\[|\[)"
        rf"(?:{run}(?:(?P<id>{_ID_START})(?P<after>{after}))?{half_space}))\Z"
    )
    longest_space = max(map(len, spaces))
    extra = 4 * len(backslash) + 2 * MAX_SPACES * longest_space
    return PlaceholderForms(re.compile(form), re.compile(tail), extra, 2 * len(backslash) + 1)


IN_TEXT = _forms("\\", (" ", "\t"))
"""Forms in plain text such as message content."""

IN_JSON_STRING = _forms("\\\\", (" ", "\t", "\\t"))
"""Forms inside a JSON string literal, as in tool-call arguments: each character of the
plain forms in its JSON spelling."""


def json_string_escape(value: str) -> str:
    """`value` as it must appear inside a JSON string literal (without the quotes)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


@dataclass(slots=True)
class RestoreTally:
    """What restoring one answer did, by placeholder (never by value)."""

    restored: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    """Our placeholders of redacted values, left in the answer as written."""
    unresolved: dict[str, int] = field(default_factory=dict)

    def add(self, other: RestoreTally) -> None:
        for mine, theirs in (
            (self.restored, other.restored),
            (self.redacted, other.redacted),
            (self.unresolved, other.unresolved),
        ):
            for placeholder, n in theirs.items():
                mine[placeholder] = mine.get(placeholder, 0) + n


def restore_text(
    text: str, vault: Vault, tally: RestoreTally, escape: Callable[[str], str] | None = None
) -> str:
    """Replace every accepted form of a placeholder of `vault` in `text` with its original,
    unless the value is redacted.

    `escape` transforms the original before insertion, e.g. `json_string_escape` when
    `text` is itself JSON, as in tool-call arguments; the forms are then read in their
    JSON spelling too.
    """
    return _restore(text, vault, tally, escape, forms_for(escape))


def forms_for(escape: Callable[[str], str] | None) -> PlaceholderForms:
    """The spelling of the forms in a text whose originals are inserted with `escape`.

    Only JSON text is inserted into escaped, so `json_string_escape` marks it; any other
    `escape` is taken to mean plain text.
    """
    return IN_JSON_STRING if escape is json_string_escape else IN_TEXT


def _restore(
    text: str,
    vault: Vault,
    tally: RestoreTally,
    escape: Callable[[str], str] | None,
    forms: PlaceholderForms,
) -> str:
    if "[" not in text or forms.form.search(text) is None:  # most pieces hold no form
        return text

    def replace(match: re.Match[str]) -> str:
        placeholder = f"[[{match.group('id').upper()}]]"
        entry = vault.lookup(placeholder)
        if entry is None:
            if match.group() == placeholder:
                _count_unknown(placeholder, vault, tally)
            return match.group()
        if not entry.restore:
            tally.redacted[placeholder] = tally.redacted.get(placeholder, 0) + 1
            return match.group()
        tally.restored[placeholder] = tally.restored.get(placeholder, 0) + 1
        value = escape(entry.value) if escape else entry.value
        return f"[{value}]" if _is_link_text(match) else value

    return forms.form.sub(replace, text)


def _is_link_text(match: re.Match[str]) -> bool:
    """`[PERSON_1](url)`: the placeholder is a markdown link's text, whose brackets stay."""
    return (
        match.group("single") == "["
        and match.group("close") == "]"
        and match.string.startswith("(", match.end())
    )


def _count_unknown(placeholder: str, vault: Vault, tally: RestoreTally) -> None:
    """An id the model made up is counted; placeholder-shaped text the user wrote is not."""
    if vault.lookup(placeholder) is None and not vault.is_reserved(placeholder):
        tally.unresolved[placeholder] = tally.unresolved.get(placeholder, 0) + 1


def _bracket_tail(text: str, window: int) -> int:
    """Where a placeholder could begin at the end of `text`: its last `[`, or the `[` before it.

    Inside a placeholder `[` only occurs in its first two characters, so no earlier start
    can still be open. Only the last `window` characters are searched; -1 when none.
    """
    last = text.rfind("[", max(0, len(text) - window))
    if last > 0 and text[last - 1] == "[":
        return last - 1
    return last


class PlaceholderTails:
    """The ids of the vault's placeholders, to find what a streamed text must hold back.

    Redacted ones are held too, though they go out unchanged: released in halves, they
    would not be counted. Built once per answer: the vault does not change while its
    answer streams.
    """

    def __init__(self, vault: Vault) -> None:
        ids = [entry.placeholder[2:-2] for entry in vault]
        self.longest = max((len(i) + 4 for i in ids), default=0)
        self._ids = frozenset(ids)
        self._id_starts = frozenset(i[:n] for i in ids for n in range(1, len(i) + 1))

    def hold_from(self, text: str, forms: PlaceholderForms = IN_TEXT) -> int:
        """Where the tail of `text` that could still grow into one of our placeholders begins.

        `len(text)` when there is none: text that cannot become a form of one of OUR ids
        (another id, a Python list, anything too long) is never held. The earliest such
        start wins, since releasing it would cut a form; a complete single-bracket form
        waits for one more character, which tells whether it is a link's text. No tail is
        longer than the longest accepted form, so only that much of the end is searched.
        """
        pos = max(0, len(text) - self.longest - forms.extra)
        # A tail has its brackets in its opening, or is a backslash starting one: it begins
        # at most `forms.before_bracket` characters before the last bracket.
        last = text.rfind("[", pos)
        if not self._ids or (last < 0 and not text.endswith("\\")):
            return len(text)
        pos = max(pos, last - forms.before_bracket)
        while (match := forms.tail.search(text, pos)) is not None:
            if self._could_be_ours(match):
                return match.start()
            pos = match.start() + 1
        return len(text)

    def _could_be_ours(self, tail: re.Match[str]) -> bool:
        """An opening alone may become any id; an id must be ours, or a start of ours if unfinished."""
        written = tail.group("id")
        if written is None:
            return True
        return written.upper() in (self._ids if tail.group("after") else self._id_starts)


class IncrementalRestorer:
    """Restores one text that arrives in pieces, such as a streamed `delta.content`.

    Each piece goes out at once, except a tail that could still grow into one of our
    placeholders in an accepted form (see `PlaceholderTails.hold_from`); that tail is put
    in front of the next piece. All outputs joined with `flush()` equal `restore_text` of
    the whole text, and the tally gets the same counts, even for an unknown placeholder
    split across pieces.
    """

    def __init__(
        self,
        vault: Vault,
        tally: RestoreTally,
        tails: PlaceholderTails,
        escape: Callable[[str], str] | None = None,
    ) -> None:
        self._vault = vault
        self._tally = tally
        self._tails = tails
        self._escape = escape
        self._forms = forms_for(escape)
        self._held = ""
        # End of the text already released that may begin a placeholder we did not issue:
        # only used to count it as unresolved once its end arrives.
        self._open = ""

    @property
    def held(self) -> str:
        """The text held back, waiting for the next piece."""
        return self._held

    def feed(self, piece: str) -> str:
        """Restored text that can go out now; the rest is held for the next piece."""
        text = self._held + piece if self._held else piece
        cut = self._tails.hold_from(text, self._forms)
        self._held = text[cut:]
        return self._release(text[:cut])

    def flush(self) -> str:
        """Everything still held, for when the text ends (or must be emitted now)."""
        text, self._held = self._held, ""
        return self._release(text)

    def _release(self, text: str) -> str:
        if not text:
            return ""
        self._count_split_unknown(text)
        return _restore(text, self._vault, self._tally, self._escape, self._forms)

    def _count_split_unknown(self, text: str) -> None:
        """Count an unknown placeholder that began in earlier released text and ends in `text`."""
        joined = self._open + text if self._open else text
        if self._open:
            match = PLACEHOLDER_SHAPE.match(joined)
            if match is None and self._open == "[[":  # `[[` + `[X…`: the shape starts one later
                match = PLACEHOLDER_SHAPE.match(joined, 1)
            if match is not None and match.end() > len(self._open):
                _count_unknown(match.group(0), self._vault, self._tally)
        start = _bracket_tail(joined, _OPEN_SHAPE_LIMIT)
        self._open = joined[start:] if start >= 0 and _OPEN_SHAPE.fullmatch(joined, start) else ""


def prose_in(value: object) -> list[str]:
    """The strings of a restored JSON answer that read as text (they hold a space): what a
    client sends back as history in its next request, so worth analysing ahead of it.

    Ids, model names and finish reasons hold no space and are left out.
    """
    if isinstance(value, str):
        return [value] if " " in value else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in prose_in(item)]
    return []
