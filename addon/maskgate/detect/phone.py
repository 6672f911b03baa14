"""Presidio's phone number recognizer without the work that cannot find a number.

Presidio runs python-phonenumbers' matcher once per region (eight by default) over the whole
text, and the matcher parses every run of digits it meets, in each region, and the pieces of
each run too. Most runs in chat text are short numbers (`42`, `3.14`, `2024`): in code, four in
five hold fewer than four digits. A run can only be a valid number if it has the digits of one:
written with a country code, at least six (`+49 1644`); written the national way, at least as
many as the shortest number of the country it is read in (four in Germany, nine in France),
less what that country's rule for national numbers adds. Shorter runs are turned down before
any parsing, in the region where they are too short. Nor does the matcher search the whole text
in each region: only the stretches around runs of digits (`digit_stretches`). Everything else
is the library's own matching: the same numbers are found at the same places with the same
scores.

The one difference: the matcher gives up after 65,535 failed attempts on one text, and runs
turned down here count as one attempt instead of several, so on a text with that many digit
runs this finds numbers further on where the library would have stopped.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    COUNTRY_CODES_FOR_NON_GEO_REGIONS,
    SUPPORTED_REGIONS,
    region_code_for_country_code,
)
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

_PLUS = frozenset("+\uff0b")
"""The plus signs the library accepts before a country code: ASCII and full-width."""
_OPENING = "([\uff08\uff3b"
"""Brackets the library lets a number open with, before its plus sign."""
_GROUP_REFERENCE = re.compile(r"\\\d")
_DIGIT = re.compile(r"\d")
"""A reference to a matched group in a rewriting rule (`\\1`)."""


@functools.cache
def shortest_international_number() -> int:
    """The fewest digits of a valid number written with its country code, after a plus sign or
    a dialling prefix: those of the country code, and of the shortest national number of any
    region using it, less what the rule that reads national numbers in the code's main region
    may add (San Marino's adds four: `0549`)."""
    countries = [
        *(PhoneMetadata.metadata_for_region(region) for region in SUPPORTED_REGIONS),
        *(PhoneMetadata.metadata_for_nongeo_region(code) for code in COUNTRY_CODES_FOR_NON_GEO_REGIONS),
    ]
    fewest = [
        len(str(metadata.country_code)) + _shortest(metadata) - _added_digits(_main(metadata.country_code))
        for metadata in countries
    ]
    return max(min(fewest), 0)


@functools.cache
def shortest_national_number(region: str) -> int:
    """The fewest digits of a valid number written the national way and read in `region`: the
    shortest national number of any region sharing its country code (`US` shares `+1` with 24
    others), less what the region's rule for reading national numbers may add (Guernsey's
    adds `1481`)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return 0
    sharing = COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())
    fewest = min((_shortest(PhoneMetadata.metadata_for_region(other)) for other in sharing), default=0)
    return max(fewest - _added_digits(metadata), 0)


def _main(code: int) -> PhoneMetadata | None:
    """The metadata of the region a country code belongs to first (`+1`: `US`)."""
    return PhoneMetadata.metadata_for_region_or_calling_code(code, region_code_for_country_code(code))


def _shortest(metadata: PhoneMetadata | None) -> int:
    """The shortest national number `metadata` allows; 0 where it lists no lengths, since its
    pattern alone then decides."""
    allowed = metadata.general_desc.possible_length if metadata is not None else ()
    return min(allowed) if allowed else 0


def _added_digits(metadata: PhoneMetadata | None) -> int:
    """How many digits the rule that reads national numbers adds to them: its literal digits,
    besides the references to what it matched."""
    rule = metadata.national_prefix_transform_rule if metadata is not None else None
    return len(_GROUP_REFERENCE.sub("", rule)) if rule else 0


@functools.cache
def _abroad_starts_with_zero(region: str) -> bool:
    """True where every international dialling prefix of `region` starts with 0."""
    metadata = PhoneMetadata.metadata_for_region(region)
    return metadata is not None and (metadata.international_prefix or "").startswith("0")


class _Matcher(phonenumbers.PhoneNumberMatcher):
    """The library's matcher, turning down candidates too short to be valid where it looks, and
    those with fewer decimal digits than `fewest_digits`, before they are parsed.

    The check is made on each whole candidate and on each piece of one the library then tries
    on its own ("(269" of "(269) 555-7558"), which it would otherwise parse in every region.
    A number written with a plus sign reads the same in every region, as its country code
    says where it belongs: `read_abroad`, shared by the matchers of all regions over one text,
    keeps what each such candidate gave, so it is parsed once rather than once per region.
    """

    def __init__(
        self,
        text: str,
        region: str,
        leniency: Leniency,
        fewest_digits: int,
        read_abroad: dict[tuple[str, int], phonenumbers.PhoneNumberMatch | None],
    ) -> None:
        super().__init__(text, region, leniency=leniency)
        self._fewest_digits = fewest_digits
        self._read_abroad = read_abroad

    def _extract_match(self, candidate: str, offset: int) -> phonenumbers.PhoneNumberMatch | None:
        if self._too_short(candidate):
            return None
        return super()._extract_match(candidate, offset)

    def _parse_and_verify(self, candidate: str, offset: int) -> phonenumbers.PhoneNumberMatch | None:
        if self._too_short(candidate):
            return None
        if candidate.lstrip(_OPENING)[:1] not in _PLUS:
            return super()._parse_and_verify(candidate, offset)
        key = (candidate, offset)
        if key not in self._read_abroad:
            self._read_abroad[key] = super()._parse_and_verify(candidate, offset)
        return self._read_abroad[key]

    def _too_short(self, candidate: str) -> bool:
        if sum(map(str.isdecimal, candidate)) < self._fewest_digits:
            return True
        # Letters count too (the library reads `1-800-FLOWERS` as digits), and any other
        # character that is a letter or a number: counting more only lets more through.
        digits = sum(map(str.isalnum, candidate))
        region = self.preferred_region
        fewest = shortest_national_number(region)
        if not _national(candidate, region):
            fewest = min(fewest, shortest_international_number())
        return digits < fewest


def _national(candidate: str, region: str) -> bool:
    """True when `candidate` can only be a number written the national way in `region`: it has
    no plus sign, and its first digit is not 0, which starts the region's dialling prefix."""
    first = next((c for c in candidate if c.isdecimal()), "0")
    return _abroad_starts_with_zero(region) and not _PLUS.intersection(candidate) and int(first) != 0


class FastPhoneRecognizer(PhoneRecognizer):
    """`PhoneRecognizer` with the same settings, results and name, matching with `_Matcher`."""

    FEWEST_DIGITS = 0
    """Candidates with fewer decimal digits are not parsed (see `_Matcher`)."""

    @classmethod
    def replacing(cls, original: PhoneRecognizer) -> PhoneRecognizer:
        """The fast twin of `original`, or `original` itself where its leniency accepts merely
        possible numbers, whose shortest local forms have fewer digits."""
        if original.leniency < Leniency.VALID:
            return original
        return cls(
            context=original.context,
            supported_language=original.supported_language,
            supported_entity=original.supported_entities[0],
            supported_regions=original.supported_regions,
            leniency=original.leniency,
            name=original.name,
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for start, end in digit_stretches(text, max(self.FEWEST_DIGITS, 1)):
            piece = text[start:end]
            read_abroad: dict[tuple[str, int], phonenumbers.PhoneNumberMatch | None] = {}
            for region in self.supported_regions:
                for match in _Matcher(piece, region, self.leniency, self.FEWEST_DIGITS, read_abroad):
                    result = self._get_recognizer_result(match, piece, region, nlp_artifacts)
                    result.start += start
                    result.end += start
                    results.append(result)
        return self.remove_duplicates(results)


DIGIT_GAP = 24
"""The most characters between two digits of one number, its extension included ("ext. 12")."""
_MARGIN = 16
"""What the library reads around a number: up to ten brackets, plus signs and separators before
its first digit and the character before those; a time's ":30" and the character after it."""
_DIGIT_CLUSTER = re.compile(rf"\d(?:\D{{0,{DIGIT_GAP}}}\d)*")


def digit_stretches(text: str, fewest: int) -> Iterator[tuple[int, int]]:
    """(start, end) of the stretches of `text` the matcher needs to read: each run of digits no
    more than `DIGIT_GAP` apart that holds at least `fewest` of them, with `_MARGIN` characters on
    either side, overlapping stretches joined.

    Each region's matcher searches the whole text for candidates again; a chat text's words and
    its short numbers (`3 a.m.`, `2024`) need not be searched even once.
    """
    joined: tuple[int, int] | None = None
    for cluster in _DIGIT_CLUSTER.finditer(text):
        if len(_DIGIT.findall(cluster.group())) < fewest:
            continue
        start, end = max(cluster.start() - _MARGIN, 0), min(cluster.end() + _MARGIN, len(text))
        if joined is not None and start <= joined[1]:
            joined = (joined[0], end)
            continue
        if joined is not None:
            yield joined
        joined = (start, end)
    if joined is not None:
        yield joined


MIN_DIGITS = 7
"""The fewest digits a number people give out to be called has, area code included (a US local
number: 555-0100). Shorter valid numbers exist (German ones have four), but in chat text a run
that short is a count, a port, a year or a duration far more often than a phone number."""

_DECIMAL = re.compile(r"[(\[]?(?:\d+,\d{1,2}|\d+\.\d+|\d{5,}(?:\.\d{1,3})+)")
"""A price, a measure or a build number the library may read as a number with dots in it:
`1683.35`, a kernel's uptime `[67968.887570`, `20240310.1.0`."""
_TIME_BEFORE = re.compile(r"\d:\Z")
"""Digits right after "09:12:" are a time's seconds and what follows them (`03.123456`)."""
_JOINED_BEFORE = re.compile(r"\w[./_-]?\Z")
_JOINED_AFTER = re.compile(r"[./_-]?\w")
"""A character next to the number, or a dot, slash, underscore or dash and then one: the run is
part of a longer token (`app.08258127.js`, `/orders/12345678/items`, `id_4155550100`)."""
_GIT_WORD_BEFORE = re.compile(
    r"(?im)(?:^[ \t]*(?:pick|reword|edit|squash|fixup|drop)|\b(?:commit|revert|cherry-pick))[ \t]+\Z"
)
"""A rebase instruction or a git command word: the digits after it are a short commit hash that
happens to hold no letter (`pick 9509486981 Merge pull request`)."""


def dialable(text: str, start: int, end: int) -> bool:
    """True when `text[start:end]` reads as a phone number someone would dial rather than an
    amount, a short count, a time, a build number, a commit hash, or part of an identifier, a
    file name or a path."""
    number = text[start:end]
    if sum(map(str.isdecimal, number)) < MIN_DIGITS or _DECIMAL.fullmatch(number):
        return False
    if _TIME_BEFORE.search(text, max(start - 2, 0), start):
        return False
    if number.isdecimal() and _GIT_WORD_BEFORE.search(text, max(start - 40, 0), start):
        return False
    # A plus sign or bracket opens a number whatever comes before it ("Tel.+49 ...").
    joined_before = number[0].isdecimal() and _JOINED_BEFORE.search(text, max(start - 2, 0), start)
    return not (joined_before or _JOINED_AFTER.match(text, end))


class ChatPhoneRecognizer(FastPhoneRecognizer):
    """`FastPhoneRecognizer` without the digit runs of chat text that are valid numbers somewhere
    but not phone numbers there (see `dialable`).

    Runs and pieces of runs with fewer than `MIN_DIGITS` digits are not even parsed, as `dialable`
    would drop what they give. Where the library would have taken such a piece for a number, it
    goes on to the rest of the run instead, so a longer number next to a short one is found.
    """

    FEWEST_DIGITS = MIN_DIGITS

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        found = super().analyze(text, entities, nlp_artifacts)
        return [result for result in found if dialable(text, result.start, result.end)]


NATIONAL_REGIONS = ("ES", "IT", "NL", "BE", "PT")
"""Countries whose numbers written the national way Presidio's default regions do not read.
Each region is one more pass of the matcher; countries with short national numbers (AT, CH,
SE) cost several times as much as these, as their short runs cannot be turned down early."""


class NationalPhoneRecognizer(ChatPhoneRecognizer):
    """Numbers of `NATIONAL_REGIONS` written the national way ("612 34 56 78", "393 984 6584").

    Without a country code such a number is nine or ten digits like any other, so it is only
    reported with evidence: a word shortly before it says it is one ("Tel.", "call me on",
    "mobile:"), or it is written in groups as a field of its own, alone on its line or between
    separators, as in the header of a CV or a signature ("642 99 43 08 | ana@example.es").
    That check is made here rather than by context enhancement, which skips stop words, and
    spaCy counts "call" among those. A text without such a word or field is not searched at all.
    """

    SCORE = 0.45
    """Above the phone type's minimum, below a US social security number's 0.5 for the same digits."""
    WINDOW = 60
    """How many characters before a number the word may be: room for "or" after an e-mail address."""
    _HINT = re.compile(
        r"\b(?:phone|tel|mob|cell|call|number|reach|contact|whatsapp|fax|landline)", re.IGNORECASE
    )

    @classmethod
    def beside(cls, original: PhoneRecognizer) -> NationalPhoneRecognizer:
        """The recognizer for the other regions, with `original`'s language, type and leniency."""
        return cls(
            supported_language=original.supported_language,
            supported_entity=original.supported_entities[0],
            supported_regions=NATIONAL_REGIONS,
            leniency=original.leniency,
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        # Ten regions over the whole text would cost more than the default eight; only the
        # stretches after a hint word, each with room for a number to end, and the fields of
        # digits are read.
        after_hints = _after(self._HINT.finditer(text), self.WINDOW, 40, len(text))
        fields = [m.span() for m in _NUMBER_FIELD.finditer(text)]
        found = []
        for start, end in sorted({*after_hints, *fields}):
            for result in super().analyze(text[start:end], entities):
                result.start += start
                result.end += start
                found.append(result)
        # Numbers with a country code are the default regions' to find.
        kept = [
            r
            for r in self.remove_duplicates(found)
            if not _PLUS.intersection(text[r.start : r.end])
            and (
                self._HINT.search(text, max(r.start - self.WINDOW, 0), r.start)
                or (_in_any(fields, r.start) and _GROUPED.search(text, r.start, r.end))
            )
        ]
        for result in kept:
            # Context was judged here: enhancement must not raise the score above better readings
            # of the same digits ("social security number is 536-22-8471").
            result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return kept


_NUMBER_FIELD = re.compile(
    r"(?m)(?:^|(?<=[|·•,;\t]))[ \t]*\(?\d[\d \t()./-]{6,20}\d(?=[ \t]*(?:$|[|·•,;\t]))"
)
"""Digits standing as a field of their own: alone on their line, or between the separators of a
line of contact details ("642 99 43 08 | ana@example.es", "Ana Ruiz, 642 99 43 08, Madrid")."""
_GROUPED = re.compile(r"\d[ ./-]\(?\d+\)?[ ./-]\d")
"""Digits written in groups, as people write a number to be read out ("642 99 43 08")."""


def _in_any(spans: Sequence[tuple[int, int]], position: int) -> bool:
    """True when `position` lies in one of the sorted, disjoint `spans`."""
    i = bisect.bisect_right(spans, (position, math.inf)) - 1
    return i >= 0 and spans[i][0] <= position < spans[i][1]


def _after(hints: Iterable[re.Match[str]], reach: int, room: int, length: int) -> Iterator[tuple[int, int]]:
    """Stretches of a text from each hint to `room` characters past `reach` after it, the
    overlapping ones joined, so a number starting within `reach` of a hint is read whole."""
    start = end = -1
    for hint in hints:
        if hint.start() > end:
            if end > start:
                yield start, end
            start = hint.start()
        end = min(hint.end() + reach + room, length)
    if end > start:
        yield start, end
