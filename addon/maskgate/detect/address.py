"""Postal addresses, found whole: street line, unit, postcode and city, country.

spaCy's entity recognizer finds the city of an address at best, and often types it PERSON;
the street line, the postcode and the flat number leak. This recognizer reads the shape
addresses are written in instead. A street line is a house number next to a street name
that ends in a street word ("221 Baker Street", "Reuterstr. 159", "Amirastraat 66") or
starts with one ("Via Roma, 12", "44, rue Lamy", "Calle de Alcalá 9"), possibly after a unit
("Flat 9", "H.No. 18") and a building ("Flat 3B, Sunshine Apartments, MG Road"); a post office
box ("PO Box 12", "Postbus 123") stands for one. Parts that follow it on the same line after a
comma, or on the next lines, are taken into the same span: units ("Apt. 4", "Puerta 3", "3º B"),
postcode and city in either order ("6390 DP Utrecht", "Atlanta, GA 32391"), up to two places
without a postcode (a district, a town, a county) where a postcode or country follows them
("Marylebone, London NW1 6XE"), and a country. A street name without a number counts only when
a postcode follows ("rue de Hubert, 75011 Paris").

One span for the whole address is what masking needs: one placeholder, and no piece of it left
in clear between two placeholders. An address with a postcode scores above spaCy's entities
(0.85), so a city or street name that spaCy took for a person gives way to the address.

Every expression is bounded (words of at most 40 characters, names of at most four words,
at most six parts), so the time taken grows linearly with the text.
"""

from __future__ import annotations

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from maskgate.detect.results import found_by

ENTITY = "LOCATION"
NAME = "address"

STREET_WORDS_AFTER = (
    # English-speaking countries: a name, then one of these ("Baker Street", "Elm Ct."), after
    # the suffixes of US postal addressing and the street types of the UK, Australia and Canada.
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Ln", "Drive", "Dr", "Boulevard", "Blvd",
    "Way", "Court", "Ct", "Place", "Pl", "Square", "Sq", "Terrace", "Ter", "Tce", "Close", "Crescent",
    "Cres", "Parkway", "Pkwy", "Highway", "Hwy", "Circle", "Cir", "Trail", "Trl", "Row", "Mews", "Garden",
    "Grove", "Hill", "Park", "Walk", "Alley", "Bend", "Bypass", "Byway", "Causeway", "Centre", "Center",
    "Common", "Corner", "Cove", "Creek", "Crossing", "Crossroad", "Dale", "Dam", "Estate", "Expressway",
    "Extension", "Fall", "Field", "Flat", "Ford", "Forest", "Forge", "Fork", "Freeway", "Gateway", "Gate",
    "Glen", "Green", "Harbor", "Harbour", "Haven", "Heights", "Hollow", "Inlet", "Island", "Isle",
    "Junction", "Knoll", "Lake", "Landing", "Lodge", "Loop", "Manor", "Meadow", "Mill", "Motorway", "Mount",
    "Mountain", "Orchard", "Oval", "Passage", "Pike", "Pine", "Plain", "Plaza", "Point", "Port", "Prairie",
    "Quay", "Ranch", "Rapid", "Retreat", "Ridge", "River", "Roadway", "Route", "Shoal", "Shore", "Spring",
    "Spur", "Stravenue", "Stream", "Summit", "Trace", "Trafficway", "Turnpike", "Tunnel", "Union",
    "Valley", "Viaduct", "View", "Villa", "Village", "Ville", "Vista", "Wharf", "Wood", "Yard", "Rise",
    "Ride", "Reserve", "Quad", "Parade", "Esplanade", "Promenade", "Circus", "Chase", "Drove", "Grange",
    "Vale", "Wynd", "Steps", "Track", "Well", "Burg", "Camp", "Canyon", "Cape", "Cliff", "Club", "Crest",
    "Divide", "Heath", "Key", "Neck", "Ramp", "Skyway", "Ferry", "Loaf", "Pocket", "Course", "Line", "Via",
    "Firetrail", "Cul-de-sac", "Bluff", "Brook", "Branch", "Bridge", "Beach", "Bayou", "Arcade", "Annex",
    "Overpass", "Underpass", "Pass", "Crossway", "Distributor", "Driveway", "Mission", "Circuit",
    "Follow", "Fort", "Piazza", "Rest", "Cross", "Rue", "Throughway", "Radial", "Curve", "Lock", "Light",
    "Run", "Station",
    # India: "Sani Marg", "Trivedi Nagar", "Mani Ganj".
    "Marg", "Nagar", "Ganj", "Chowk", "Path", "Zila", "Colony", "Enclave", "Layout", "Peth", "Bazaar",
    "Salai", "Gali",
)  # fmt: skip
"""Street words written after the name; each may also be plural ("Plains", "Roads")."""

STREET_WORDS_BEFORE = (
    # Italian, Spanish, Portuguese, French and Polish streets name the kind of street first.
    "Via", "Viale", "Piazza", "Piazzale", "Corso", "Largo", "Vicolo", "Strada", "Borgo", "Rotonda",
    "Contrada", "Stretto", "Incrocio", "Lungomare", "Lungarno", "Vico", "Calle", "Avenida",
    "Plaza", "Paseo", "Camino", "Carretera", "Ronda", "Rambla", "Glorieta",
    "Pasaje", "Pasadizo", "Vial", "Travesía", "Callejón", "Cuesta", "Cañada", "Urbanización", "Alameda",
    "Acceso", "Vía",
    "Praça", "Rua", "Travessa", "Rue", "Avenue", "Boulevard", "Chemin", "Allée", "Impasse",
    "Place", "Quai", "Route", "Cours", "Square", "Ulica", "Aleja", "Plac",
    "Carrer", "Passeig", "Plaça", "Avinguda", "Estrada", "Rodovia", "Calçada",
)  # fmt: skip
"""Street words written before the name, in any case when a house number precedes them
("16, rue Lamy"), capitalised otherwise ("Via Roma 12")."""

STREET_ABBREVIATIONS_BEFORE = ("C", "Av", "Avda", "Pza", "Ctra", "Bd", "Ul", "Al")
"""Abbreviated street words written before the name, with their dot or slash ("Av. Paulista",
"C/ Mayor", "ul. Kwiatowa"): without one they are other words ("Al Smith", "C code")."""

STREET_ENDINGS = (
    # German, Austrian, Swiss and Dutch street names are one word ending in the kind of street.
    "straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer", "chaussee",
    "pfad", "steig", "markt", "graben", "zeile", "straat", "laan", "plein", "gracht", "kade", "singel",
    "dreef", "hof", "baan", "steeg", "pad", "dijk", "plantsoen", "boulevard", "park", "erf", "haven",
    # Swedish, Danish, Norwegian and Finnish: "Kungsgatan 44", "Nørregade 5", "Mannerheimintie 12".
    "gatan", "gata", "vägen", "väg", "gränd", "torget", "gade", "vej", "gate", "veien", "vegen", "katu",
    "tie",
)  # fmt: skip
"""Endings of one-word street names, followed by the house number ("Sennweg 1"). Written as
words of their own they count too ("Lene-Krebs-Weg 11", "Berliner Straße 5")."""

UNIT_WORDS = (
    "Apt", "Apartment", "Suite", "Ste", "Unit", "Flat", "Floor", "Fl", "Level", "Room", "Studio", "Building",
    "Bldg", "Block", "House No", "H No", "H.No", "Door No", "Plot No", "Piso", "Puerta", "Escalera", "Esc",
    "Planta", "Bloque", "Piano", "Appartamento", "Interno", "Int", "Scala", "Étage", "Etage", "Bâtiment",
    "Bât", "Wohnung", "Whg", "App", "Bus", "Apto", "Andar", "Tower", "Wing", "m", "lok",
)  # fmt: skip
"""Words of a flat, floor or house number ("Apt. 016", "Puerta 3", "H.No. 318", "Block C", and
the Polish "m. 5")."""

NAME_LINKS = (
    "de", "del", "de la", "de las", "de los", "di", "da", "dei", "della", "delle", "degli", "do", "dos",
    "das", "van", "von", "der", "den", "van der", "van den", "la", "le", "les", "du", "des", "y", "e",
    "am", "an der", "auf", "im", "in", "of", "the", "on", "upon", "sur", "en", "sous",
)  # fmt: skip
"""Lower-case words inside street and city names ("Calle de la Paz", "Frankfurt am Main")."""

COUNTRIES = (
    "United States", "United States of America", "USA", "U.S.A.", "US", "United Kingdom", "UK", "England",
    "Scotland", "Wales", "Northern Ireland", "Ireland", "Germany", "Deutschland", "Austria", "Österreich",
    "Switzerland", "Schweiz", "Suisse", "France", "Belgium", "Belgique", "België", "Netherlands",
    "The Netherlands", "Nederland", "Luxembourg", "Spain", "España", "Portugal", "Italy", "Italia",
    "Poland", "Polska", "Czech Republic", "Czechia", "Denmark", "Danmark", "Sweden", "Sverige", "Norway",
    "Norge", "Finland", "Suomi", "Greece", "Turkey", "Türkiye", "India", "Canada", "Australia",
    "New Zealand", "Brazil", "Brasil", "Mexico", "México", "Argentina", "Japan", "China", "Singapore",
    "South Africa", "Nigeria", "Kenya",
)  # fmt: skip
"""Country names that may end an address."""

CONTEXT = (
    "address", "live", "ship", "deliver", "street", "move", "post", "mail", "residence", "reside",
    "home", "office", "located", "billing", "shipping", "visit",
)  # fmt: skip
"""Words before a street line that say it is an address (see `ContextEnhancer`)."""

POSTAL_SCORE = 0.95
"""A street line followed by a postcode: above spaCy's 0.85, so the address is kept whole."""
STREET_SCORE = 0.86
"""A street line alone: still above spaCy's 0.85."""
PLAIN_STREET_SCORE = 0.6
"""A street line alone whose street word is also an everyday word ("Park", "View", "Key"):
found, but yields to spaCy's entities and needs no context word to count."""

EVERYDAY_WORDS = frozenset(
    {"Way", "Park", "Point", "View", "Key", "Union", "Common", "Well", "Track", "Club", "Camp", "Field",
     "Garden", "Green", "Ride", "Reserve", "Spring", "Mount", "Port", "Route", "Steps", "Plain", "Line",
     "Course", "Center", "Centre", "Lock", "Light", "Run", "Station", "Branch", "Bridge", "Beach", "Via",
     "Loop", "Gate", "Pocket", "Pass", "Follow", "Rest", "Cross", "Mission", "Fall", "Estate", "Extension",
     "Divide", "Curve", "Ramp", "Forge", "Fork", "Gateway"}
)  # fmt: skip
"""Street words that also end ordinary titles in prose ("3 Key Points", "2 Data Fields")."""

NOT_STREETS = frozenset({"Bad Gateway"})
"""Names with a street word that are never streets: HTTP's "502 Bad Gateway" in every proxy log."""

MAX_PARTS = 6


def _words(words: tuple[str, ...]) -> str:
    """An alternation of `words`, longest first, taken literally (in verbose expressions too)."""
    return "|".join(regex.escape(w).replace(r"\ ", "[ ]") for w in sorted(set(words), key=len, reverse=True))


_UPPER_WORD = r"(?:\p{Lu}[\p{L}\p{M}'’]{0,39}+(?:-\p{L}[\p{L}\p{M}'’]{0,39}+){0,3}\.?)"
"""A capitalised word, hyphenated parts included, or an initial with its dot."""
_ORDINAL = r"(?:\d{1,3}(?:st|nd|rd|th|e|º|ª))"
_LINK = rf"(?:(?:{_words(NAME_LINKS)})[ ])"
_NAME_WORD = rf"(?:{_LINK}{{0,2}}(?:{_UPPER_WORD}|{_ORDINAL}))"
_NUMBER = r"(?:\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?)(?![\d,.]\d)"
"""A house number: 12, 12a, 6-8, 19/48 (not the start of 1,200 or 3.14)."""
_NUMBER_AFTER = r"(?:\d{1,4}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?)(?![\d,.]\d)"
"""A house number after the street name: at most four digits, so that a postcode after the
name of a street without a number ("rue Lamy, 75011 Paris") is not taken for one."""
_AFTER_NUMBER = r"(?:,?[ ]|,?[ ]?\n)"
_UNIT = (
    rf"(?:(?:{_words(UNIT_WORDS)})\.?[ ]?(?:No\.?[ ]?)?\#?"
    r"(?:[0-9][0-9A-Za-z/-]{0,5}\b|[A-Z](?![\p{L}\p{N}]))"
    r"|\#[0-9]{1,5}\b|\d{1,2}[º°ª](?:[ ]?[A-Z\d]{1,2}[º°ª]?)?(?![\p{L}\p{N}]))"
)
"""A flat, floor or house number ("Apt. 4", "Block C", "#12"), or a Spanish floor and door ("3º B")."""
_SUFFIX = rf"(?:{_words(STREET_WORDS_AFTER)})s?\b\.?"
_BEFORE = (
    rf"(?i:(?:{_words(STREET_WORDS_BEFORE)})\.?[ ]|(?:{_words(STREET_ABBREVIATIONS_BEFORE)})(?:\.[ ]?|/[ ]?))"
)
"""A street word written before the name, with the space after it."""
_BOX = (
    r"(?:P\.?[ ]?O\.?[ ]?Box|Post(?:bus|fach)|Apartado(?:[ ]de[ ]Correos)?|Casella[ ]Postale|Caixa[ ]Postal)"
)
"""A post office box, in the languages of the street words."""
_ENDINGS = "|".join(regex.escape(e) for e in STREET_ENDINGS)

_STREET = regex.compile(
    rf"""
    (?<![\p{{L}}\p{{N}}_.@/#-])
    (?:
        # units and a building before the street ("Flat 9, Paula Court", "H.No. 318 Bhargava
        # Marg", "Flat 3B, Sunshine Apartments, MG Road")
        (?P<unit>{_UNIT}(?:,[ ]?{_UNIT})?),?[ ]?\n?[ ]?(?:(?P<n0>{_NUMBER}){_AFTER_NUMBER})?
        (?:{_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,3}},[ ]?\n?[ ]?)?
        (?P<name0>{_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,3}}?)[ ](?P<word0>{_SUFFIX})
    |
        # number, name, street word ("221B Baker Street", "08/68, Mani Ganj")
        (?P<n1>{_NUMBER}){_AFTER_NUMBER}
        (?P<name1>{_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,3}}?)[ ](?P<word1>{_SUFFIX})
    |
        # number, street word, name ("44, boulevard Jeanne Riou")
        (?P<n2>{_NUMBER}),?[ ]{_BEFORE}
        {_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,3}}
    |
        # street word, name, number ("Via Roma, 12", "Calle de Alcalá 9", "rue de Hubert")
        (?P<before>{_BEFORE}){_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,3}}
        (?:,?[ ](?P<n3>{_NUMBER_AFTER})\b)?
    |
        # one word ending in the kind of street, number ("Amirastraat 66", "Reuterstr. 159")
        (?:{_NAME_WORD}[ ]){{0,2}}
        (?P<compound>\p{{Lu}}[\p{{L}}\p{{M}}.-]{{1,40}}+)(?<=(?i:{_ENDINGS}))
        ,?[ ](?P<n4>{_NUMBER_AFTER})\b
    |
        # a post office box ("PO Box 1234", "Postfach 10 20 30", "Apartado de Correos 52")
        (?P<box>{_BOX}[ ]?\d{{1,6}}(?:[ ]\d{{2,3}}){{0,2}})(?![\p{{L}}\p{{N}}])
    |
        # number and name without a street word ("69/51, Hari"): only with a postcode after it
        (?P<bare>{_NUMBER}),[ ]?\n?{_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,2}}
    )
    """,
    regex.VERBOSE,
)

_SEPARATOR = r"(?:[ \t]*,[ \t]*(?:\n[ \t]*)?|[ \t]*\n[ \t]*|[ \t]+(?:-[ \t]+)?)"
_POSTCODE_FIRST = (
    r"(?:\d{5}|\d{4}[ ]?[A-Z]{2}|\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ ]\d{2}|[A-Z]{1,2}-\d{4,5}|\d{4})"
)
"""Postcodes written before the city: DE/FR/IT/ES (5 digits), NL (1234 AB), PL, PT, SE,
AT/CH/BE."""
_POSTCODE_LAST = (
    r"(?:\d{5}(?:-\d{3,4})?|\d{6}|\d{3}[ ]\d{3}|\d{4}"
    r"|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|[A-Z]\d[A-Z][ ]?\d[A-Z]\d|[A-Z]\d{2}[ ]?[A-Z\d]{4})"
)
"""Postcodes written after the city: US ZIP, BR, IN PIN, AU, UK, Canadian and Irish postcodes."""
_POSTCODE_ALONE = r"(?:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|[A-Z]\d[A-Z][ ]?\d[A-Z]\d|\d{5}-\d{3})"
"""Postcodes on a line or in a part of their own: only UK, Canadian and Brazilian ones, which
nothing else resembles."""
_CITY = rf"(?:{_UPPER_WORD}(?:[ ]{_LINK}{{0,2}}{_UPPER_WORD}){{0,2}})"
_COUNTRY = rf"(?:{_words(COUNTRIES)})(?![\p{{L}}\p{{N}}])"
_END = r"(?![\p{L}\p{N}])"

_PART = regex.compile(
    rf"""
    {_SEPARATOR}
    (?:
        (?P<unit>{_UNIT})
    |   (?P<postal>{_POSTCODE_FIRST}[ ]{_CITY}{_END}
        |   {_CITY},?[ ](?:[A-Z]{{2,3}}[ ])?(?:-[ ])?{_POSTCODE_LAST}{_END}
        |   {_POSTCODE_ALONE}{_END})
    |   (?P<country>{_COUNTRY})
    |   (?P<city>{_CITY})
    )
    """,
    regex.VERBOSE,
)
"""One part after the street line. A city alone (a district, a town, a county) counts only
where a postcode or a country follows it (`_following_parts`)."""
MAX_PLACES = 2
"""Places without a postcode that may follow each other before one with it ("Marylebone,
London NW1 6XE", "Little Whinging, Surrey, GU1 3XX")."""


class AddressRecognizer(LocalRecognizer):
    """Postal addresses as one LOCATION span each (see the module docstring)."""

    def __init__(self, supported_language: str) -> None:
        super().__init__(
            supported_entities=[ENTITY],
            name=NAME,
            supported_language=supported_language,
            context=list(CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: the expressions are compiled once, on import."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        position = 0
        # Street lines are taken left to right, each with the parts that follow it.
        while (street := _STREET.search(text, position)) is not None:
            end, postal = _following_parts(text, street.end())
            score = _score(street, postal)
            if score:
                results.append(found_by(self, ENTITY, street.start(), end, score))
                position = end
            else:
                position = street.start() + 1
        return results


def _following_parts(text: str, end: int) -> tuple[int, bool]:
    """Where the address that a street line ending at `end` starts ends, and whether it has a
    postcode. A city alone is only taken with what follows it."""
    postal = False
    reached, places = end, 0
    for _ in range(MAX_PARTS):
        part = _PART.match(text, reached)
        if part is None:
            break
        reached = part.end()
        if part.lastgroup != "city":
            end, places = reached, 0
            postal = postal or part.lastgroup == "postal"
        elif (places := places + 1) > MAX_PLACES:
            break
    return end, postal


def _score(street: regex.Match[str], postal: bool) -> float:
    """How sure a street line is an address, 0 when it is not one on its own."""
    if postal:
        return POSTAL_SCORE
    # A street word before the name counts in lower case only after a house number ("16, rue
    # Lamy"), since "via" is also an English word.
    numbered = any(street.group(g) for g in ("unit", "n1", "n2", "n3", "n4", "box"))
    before = street.group("before")
    if not numbered or (before and before[0].islower()):
        return 0.0
    word = (street.group("word0") or street.group("word1") or "").rstrip(".")
    if f"{street.group('name1')} {word}" in NOT_STREETS:
        return 0.0
    if word in EVERYDAY_WORDS or word.removesuffix("s") in EVERYDAY_WORDS:
        return PLAIN_STREET_SCORE
    return STREET_SCORE
