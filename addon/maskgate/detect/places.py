"""Places named without an address: cities and countries, found by name and by the words around them.

spaCy's entity recognizer misses many a city that stands alone ("Earlier orders went to
Marseille", "'Rennes'" in an SQL row, "Tidewater Robotics, Toulouse (2021 – present)"), or
takes it for a person. This recognizer looks capitalised names up in a gazetteer of the world's
cities of 15,000 people or more and of its countries (GeoNames data, CC BY, as the `geotext`
package ships it), and counts a name only where the text around it says it is a place:

* strong evidence: a phrase that places a person or an organisation ("live in", "born in",
  "moved to", "based in", "relocation to"), a field label ("City:", ``"city": "..."``), or a
  country or state after a comma ("Mobile, AL", "Lyon, France");
* weaker evidence: a preposition ("in", "to", "from", "near"), parentheses after a name
  ("Mrs. Bhatt (Valencia)"), a CV line ("Acme Ltd, Toulouse (2021 – present)"), a field of a
  record (an SQL row, a CSV line) that also holds an e-mail address, or a list that follows a
  place ("offices in Berlin, Munich and Hamburg").

Weaker evidence counts only for cities of 100,000 people or more and countries whose names are
not also everyday English words or software names ("Nice", "Mobile", "Reading", "Phoenix"):
those need strong evidence. Where no gazetteer can know the place, a person's own words or a
label still name it ("I was born in Smallville", "City: Smallville").

A name counts only as a whole: "Victoria Smith" or "Jakarta EE" is not the city before it.
Every expression is bounded and the gazetteer is a set, so the time taken grows linearly
with the text; the gazetteer is read once per process (a few tens of milliseconds).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from maskgate.detect.address import COUNTRIES, ENTITY
from maskgate.detect.results import found_by

NAME = "places"

SCORE = 0.86
"""Above spaCy's entities (0.85), so a city spaCy took for a person is typed as a place; equal
to an address's street line, so an address that holds the city stays whole (longer wins)."""

MAJOR_POPULATION = 100_000
"""Cities this large count on weaker evidence."""
ALIAS_POPULATION = 500_000
"""Cities this large are also found under their other names in Latin letters ("München",
"Roma", "Bengaluru"), which is how many people write them."""

COMMON_WORDS = frozenset(
    # Large cities whose names are also English words, found by comparing the gazetteer with
    # an English word list, less those that capitalised mean the city almost always.
    {"Angers", "Angora", "Bender", "Billings", "Bimbo", "Buffalo", "Cairns", "Canton", "Centennial",
     "Central", "Centurion", "Chandler", "Chin", "City", "Concord", "Corona", "Damask", "Deli", "Delis",
     "Delta", "Enterprise", "Erode", "Flint", "Garland", "Genes", "Gent", "Gold", "Hang", "Hims", "Hue",
     "Hums", "Humus", "Independence", "Jingling", "Liege", "Lime", "Limo", "Lira", "Logos", "Male", "Man",
     "Mascara", "Meshed", "Mesa", "Mesquite", "Metro", "Midland", "Mobile", "Moron", "Natal", "Nice",
     "Oral", "Orange", "Paradise", "Pecs", "Perm", "Pert", "Pristine", "Providence", "Pueblo", "Reading",
     "Rest", "Riverside", "Ruse", "Saki", "Sale", "Sari", "Shaping", "Slough", "Solo", "Soul", "Split",
     "Springs", "Surprise", "Tamale", "Tango", "Tours", "Tunes", "Valence", "Van", "Warren",
     # Names of software, operating systems and services.
     "Aurora", "Cairo", "Darwin", "Jakarta", "Phoenix", "Tokio", "Ventura",
     # Countries that are also given names.
     "Chad", "Georgia", "Jordan"}
)  # fmt: skip
"""Names that need strong evidence even for a large city or a country."""

NOT_PLACES = frozenset(
    {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)  # fmt: skip
"""Small towns share these names, but "born in March" is a date."""

REGIONS = (
    # United States, Australia and Canada: states and provinces, by name and by postal code.
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
    "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
    "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
    "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
    "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
    "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont",
    "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
    "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC",
    "New South Wales", "Victoria", "Queensland", "South Australia", "Western Australia", "Tasmania",
    "Northern Territory", "NSW", "VIC", "QLD", "SA", "TAS", "ACT", "NT",
    "Ontario", "Quebec", "Québec", "British Columbia", "Alberta", "Manitoba", "Saskatchewan",
    "Nova Scotia", "New Brunswick", "Newfoundland", "ON", "QC", "BC", "AB", "MB", "SK", "NS", "NB",
)  # fmt: skip
"""States and provinces that follow a city after a comma ("Austin, TX"); countries do too."""

_OWN = (
    r"(?:I|we|he|she|they|who|I'm|I[ ]am)[ ](?:(?:still|now|currently|also)[ ])?"
    r"(?:live[sd]?|living|reside[sd]?|residing)[ ]in|born[ ]in|grew[ ]up[ ]in|raised[ ]in"
)
"""Phrases in which people say where they live or come from: any place name may follow."""
_OWN_LABEL = r"(?<!\p{L})(?i:city|town|village|hometown|birthplace|place[ _-]of[ _-]birth)"
"""Field names whose value is a place, whatever its name ("City: Smallville")."""
_STRONG = (
    r"(?:live[sd]?|living|born|grew[ ]up|raised|reside[sd]?|residing|settled|stationed|based|located"
    r"|headquartered|moved|moving|move|relocat(?:e[sd]?|ing|ion)|emigrat(?:e[sd]?|ing)|immigrat(?:e[sd]?|ing)"
    r"|commut(?:e[sd]?|ing))[ ](?:in|to|near|from|out[ ]of)"
    r"|(?:resident|native|citizen)[ ]of|(?:I'm|I[ ]am|we're|we[ ]are|originally|hails?)[ ]from"
)
"""Phrases that place a person or an organisation: any city of the gazetteer may follow."""
_WEAK = r"in|at|to|from|near|around|outside|into|across|towards?|via|visit(?:s|ed|ing)?|leaving"
"""Prepositions and verbs that may come before a place, and before much else."""
_LABEL = (
    r"(?<!\p{L})(?i:city|town|village|location|hometown|birthplace|place[ _-]of[ _-]birth|residence"
    r"|country|region|province|destination)"
)
"""Field names whose value is a place of the gazetteer ("Location: Leeds", ``<country>``)."""
LABEL_WORDS = frozenset({"city", "town", "village", "hometown", "birthplace"})
"""A label's value that is the label again is code (``city: City``), not a place."""

_WORD = (
    r"(?:\p{Lu}(?:[\p{Ll}\p{M}]++(?:['’-]\p{L}[\p{Ll}\p{M}]*+)*+|['’]\p{Lu}[\p{Ll}\p{M}]++)"
    r"|(?:St|Ste|Ft|Mt)\.)"
)
"""A capitalised word ("Köln", "Saint-Étienne", "Stoke-on-Trent", "O'Fallon") or an abbreviated
"Saint"."""
_PARTICLE = r"(?:de|del|de[ ]la|di|da|do|dos|das|du|des|la|le|les|el|al|am|an[ ]der|im|upon|sur|en)"
"""Lower-case words inside a place name ("Rio de Janeiro", "Frankfurt am Main")."""
_RUN = rf"{_WORD}(?:[ ](?:{_PARTICLE}[ ])?{_WORD}){{0,4}}+"
"""A capitalised name of up to five words: taken whole, as a name is written."""
_OPENING = r"(?!(?:In|At|To|From|Near|Visit|Visiting|Via)[ ])"
"""A capitalised preposition before a name is the evidence, not a part of the name."""
_BEFORE_NAME = r"(?<![\p{L}\p{M}\p{N}_@#$&/\\.-])"
_AFTER_NAME = r"(?![\p{L}\p{M}\p{N}_@(\[{<]|[.:/][\p{L}\p{N}_]|-[\p{L}\p{N}]|[ ]\p{Lu})"
"""Code syntax and longer names around a name: ``Paris.x``, ``Paris(``, "Jakarta EE", "@Paris"."""

_NAME = regex.compile(rf"(?=\p{{Lu}}){_BEFORE_NAME}{_OPENING}{_RUN}{_AFTER_NAME}")

_EVIDENCE = regex.compile(
    rf"""(?<=
        (?P<own>\b(?i:{_OWN})[ ](?:the[ ])?)
    |   (?P<own_label>{_OWN_LABEL}["']?[ \t]*[:=][ \t]*["']?)
    |   (?P<strong>\b(?i:{_STRONG})[ ](?:the[ ])?)
    |   (?P<label>{_LABEL}["']?[ \t]*(?:[:=][ \t]*["']?|>))
    |   (?P<weak>\b(?i:{_WEAK})[ ](?:the[ ])?)
    |   (?P<paren>(?:^|[ \t])\()
    |   (?P<listed>(?:,|[ ][|–—·•])[ ])
    |   (?P<field>(?:^|[,;\t|"'])[ \t]*)
    )""",
    regex.VERBOSE | regex.MULTILINE,
)
"""What comes right before a place, the first kind that fits: matched where the name starts."""

_CLOSING = regex.compile(r"\)")
_DATED = regex.compile(r"[ ]?\((?=[^()\n]{0,40}?(?:\d{4}|\d{1,2}/\d{2}|(?i:present|current|now|today)))")
"""A CV's dates after the place of a job: "Toulouse (2021 – present)", "Köln (4/25/20 –"."""
_FIELD_END = regex.compile(r"[\"']?[ \t]*(?:[,;\t|]|$)", regex.MULTILINE)
"""The end of a field of a record: a quote, a separator or the end of the line."""
_EMAIL = regex.compile(r"[\w.+-]@[\w-]+\.\w")
_REGION = regex.compile(rf",[ ]?({_RUN}|[A-Z]{{2,3}})(?![\p{{L}}\p{{N}}_@(\[])")
"""A state, province or country after a place: "Austin, TX", "Lyon, France"."""
_FOLLOWS_PLACE = regex.compile(r",[ ]?|[ ](?:and|or|&)[ ]|,[ ](?:and|or)[ ]")
"""How the next place of a list follows the last one."""
MAX_LINE = 300
"""How far along a line a record's e-mail address is looked for, each way."""
_LABEL_END = regex.compile(r"[\"']?[ \t]*(?:$|[,;}\]])", regex.MULTILINE)
"""The end of a labelled value: the line, or the field in a record."""


@dataclasses.dataclass(frozen=True)
class Gazetteer:
    """Place names, exactly as written (case and accents), by how much evidence they need."""

    places: frozenset[str]
    """Every city and country: with strong evidence."""
    major: frozenset[str]
    """Large cities and countries that are not everyday words: with any evidence."""
    regions: frozenset[str]
    """Countries, states and provinces, which may follow a city after a comma."""


class PlaceRecognizer(LocalRecognizer):
    """Cities and countries named without an address, as LOCATION (see the module docstring)."""

    def __init__(self, supported_language: str) -> None:
        super().__init__(supported_entities=[ENTITY], name=NAME, supported_language=supported_language)

    def load(self) -> None:
        self._gazetteer = gazetteer()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [found_by(self, ENTITY, start, end, SCORE) for start, end in self._places(text)]

    def _places(self, text: str) -> Iterator[tuple[int, int]]:
        """Spans of the names with enough evidence, each with the region that follows it."""
        places = self._gazetteer
        last_end, last_strong = -1, False
        for match in _NAME.finditer(text):
            start, end = match.span()
            name = match.group()
            if name.startswith("The ") and name not in places.places:
                # "The Hague" is a name; "The Paris office" starts a sentence.
                name, start = name[4:], start + 4
            if start < last_end or name in NOT_PLACES or name.lower() in LABEL_WORDS:
                continue
            if name in places.places:
                if last_end >= 0 and _FOLLOWS_PLACE.fullmatch(text, last_end, start):
                    strong = last_strong
                else:
                    strong = _strength(text, _evidence(text, start), end)
                # A region after the name is evidence too, and part of the place.
                region = self._region(text, end)
                if region is not None:
                    end, strong = region[0], region[1] or bool(strong)
                if strong is None or not (strong or name in places.major):
                    continue
            elif not _own_place(text, start, end):
                continue
            else:
                strong = True
            last_end, last_strong = end, strong
            yield start, end

    def _region(self, text: str, end: int) -> tuple[int, bool] | None:
        """Where the state, province or country that follows a place at `end` ends, and whether
        it is strong evidence: a state's postal code is also a word ("OK", "IN", "ME"), a
        country's or a state's name is not."""
        region = _REGION.match(text, end)
        if region is None or region.group(1) not in self._gazetteer.regions:
            return None
        name = region.group(1)
        return region.end(), not name.isupper() or name in COUNTRIES


def _evidence(text: str, start: int) -> str | None:
    """The kind of evidence (a group of `_EVIDENCE`) right before a name starting at `start`."""
    evidence = _EVIDENCE.match(text, start)
    return evidence.lastgroup if evidence else None


def _own_place(text: str, start: int, end: int) -> bool:
    """True when a name the gazetteer does not know is still a place: a person's own words
    ("born in") or a label ("City:") say so."""
    # Both end in a few characters that are cheaper to look for first.
    before = text[max(0, start - 8) : start]
    if not (before.endswith(("in ", " the ")) or before.rstrip(" \t").endswith((":", "=", '"', "'"))):
        return False
    kind = _evidence(text, start)
    return kind == "own" or (kind == "own_label" and _LABEL_END.match(text, end) is not None)


def _strength(text: str, kind: str | None, end: int) -> bool | None:
    """Whether evidence of `kind` before a gazetteer name ending at `end` is strong (True),
    weaker (False), or no evidence at all (None)."""
    if kind in ("own", "own_label", "strong", "label"):
        return True
    if kind == "weak":
        return False
    if kind == "paren":
        return False if _CLOSING.match(text, end) else None
    if kind == "listed" and _DATED.match(text, end):
        return False
    if kind not in ("listed", "field") or not _FIELD_END.match(text, end):
        return None
    # A field of a record (SQL values, CSV, JSON) that holds an e-mail address.
    line_start = max(text.rfind("\n", 0, end) + 1, end - MAX_LINE)
    line_end = text.find("\n", end)
    line_end = min(len(text) if line_end < 0 else line_end, end + MAX_LINE)
    return False if _EMAIL.search(text, line_start, line_end) else None


@functools.cache
def gazetteer() -> Gazetteer:
    """The place names of the GeoNames data that the `geotext` package ships, read once.

    Only two of its files are read, and without importing `geotext`, which would build its own
    index of every name on import.
    """
    spec = importlib.util.find_spec("geotext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the geotext package, whose place names maskgate reads, is not installed")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    countries = {*_countries(data / "countryInfo.txt"), *COUNTRIES}
    places: set[str] = set(countries)
    major: set[str] = set(countries)
    # One line per city: name, ASCII name, other names, ..., population in the 15th column.
    with (data / "cities15000.txt").open(encoding="utf-8") as table:
        for line in table:
            columns = line.split("\t", 15)
            population = int(columns[14] or 0)
            names = (columns[1], columns[2])
            if population >= ALIAS_POPULATION:
                names += tuple(filter(_ALIAS.fullmatch, columns[3].split(",")))
            places.update(names)
            if population >= MAJOR_POPULATION:
                major.update(names)
    return Gazetteer(
        places=frozenset(places),
        major=frozenset(major - COMMON_WORDS),
        regions=frozenset({*countries, *REGIONS}),
    )


_ALIAS = regex.compile(
    r"(?=[\p{Latin}\p{M}'’ -]++$)"
    r"\p{Lu}[\p{Ll}\p{M}'’-]{3,}+(?:[ ](?:\p{Ll}{1,3}[ ])?\p{Lu}[\p{Ll}\p{M}'’-]++){0,3}"
)
"""Another name worth keeping: Latin letters, capitalised, neither a code ("MUC") nor a
transliteration written in lower case ("mi wnik")."""


def _countries(path: Path) -> Iterator[str]:
    """Country names from a GeoNames ``countryInfo.txt`` table (the fifth column)."""
    with path.open(encoding="utf-8") as table:
        for line in table:
            if not line.startswith("#"):
                yield line.split("\t")[4]
