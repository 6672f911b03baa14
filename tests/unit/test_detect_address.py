"""Postal addresses are found whole, in the forms of several countries, and nowhere else."""

from __future__ import annotations

import time

import pytest

from maskgate.detect.address import AddressRecognizer
from maskgate.detect.engine import Detector
from tests.unit.detect_texts import code, prose

RECOGNIZER = AddressRecognizer("en")


def spans(text: str) -> list[str]:
    return [text[r.start : r.end] for r in RECOGNIZER.analyze(text, ["LOCATION"])]


ADDRESSES = [
    "1480 Moore Oval Suite 393\nPortland, OR 88382\nUnited States",
    "221B Baker Street, London NW1 6XE",
    "Studio 63V\nFraser Common\nYork\nBL9V 9JY",
    "Flat 94Q, Marsden Circles, Cardiff, TW49 4SL",
    "Reuterstr. 159, 69789 Berlin",
    "Lene-Krebs-Weg 11/90\n81973 Stuttgart\nGermany",
    "Amirastraat 66\n6390 DP Utrecht",
    "44, boulevard Jeanne Riou, 22622 Nantes, France",
    "rue de Hubert, 75011 Paris",
    "Rotonda Livia, 14, 00137 Bologna",
    "Rambla de Artemio Ojeda 604 Puerta 3\n12213 Bilbao\nSpain",
    "Calle de Pascuala Casals 19, 28001 Madrid",
    "H.No. 10, Trivedi Nagar, Hyderabad 678107",
    "69/51, Hari, Bengaluru 474319",
    "3 Combs Steps, Hobart TAS 2991",
    "ul. Kwiatowa 12, 00-950 Warszawa",
    "ul. Marszałkowska 10/12 m. 5, 00-590 Warszawa",
    "Kungsgatan 44, 111 35 Stockholm, Sweden",
    "Carrer de Mallorca 401, 08013 Barcelona",
    "C/ Mayor 5, 3º B\n28013 Madrid",
    "Rua Augusta 100, 1100-053 Lisboa, Portugal",
    "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200, Brazil",
    "PO Box 1234, Springfield, IL 62701",
    "Postbus 123\n3500 AC Utrecht",
    "Flat 3B, Sunshine Apartments, MG Road, Bengaluru, Karnataka 560001",
    "4 Privet Drive\nLittle Whinging\nSurrey\nGU1 3XX",
    "221B Baker St, Marylebone, London NW1 6XE, UK",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_an_address_is_one_span_from_street_to_country(address):
    text = f"Please send it to:\n{address}\n\nThanks a lot!"
    assert spans(text) == [address]


@pytest.mark.parametrize(
    "street", ["92 Lydia Union", "Via Cándida Expósito 91", "Sennweg 1", "19/48, Chauhan Street", "6 Elm Ct."]
)
def test_a_street_line_alone_is_found(street):
    assert spans(f"Post sent to the old one at {street} will be forwarded.") == [street]


def test_a_street_that_is_also_an_everyday_title_scores_below_spacy_entities():
    """'3 Key Points' has the shape of an address; it is still found, but yields to any
    entity spaCy finds in it, and an address with a postcode outranks spaCy's entities."""
    scores = {
        t: RECOGNIZER.analyze(t, [])[0].score
        for t in ("at 3 Key Point", "at 3 Elm Street", "at 3 Elm Street, Boston, MA 02118")
    }
    assert (
        scores["at 3 Key Point"]
        < 0.85
        < scores["at 3 Elm Street"]
        < scores["at 3 Elm Street, Boston, MA 02118"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "via Slack 3 times a day",
        "rue Lamy is a nice street",
        "Version 2 Release Notes",
        "see section 4.2, Table 3 and page 12",
        "Retry 3 times, then Fail",
        "Order 12345, shipped 2024-05-07 to the customer",
        'upstream said "HTTP/1.1 502 Bad Gateway" twice',
        "Copyright 2014, Al Sweigart",
        "see C Example 77 in the manual",
        "take bus 12, then walk to Tower B",
    ],
)
def test_text_without_an_address_has_none(text):
    assert spans(text) == []


def test_places_after_a_street_count_only_when_a_postcode_or_country_ends_them():
    """A district or a town may stand between the street and the postcode; without a postcode
    or a country after them, the capitalised words after a street are left alone."""
    assert spans("Send it to 12 Main Street, Springfield. Thanks, Bob") == ["12 Main Street"]
    assert spans("at 4 Privet Drive, Little Whinging, Surrey, GU1 3XX.") == [
        "4 Privet Drive, Little Whinging, Surrey, GU1 3XX"
    ]


def test_nothing_is_found_in_generated_code_and_prose():
    texts = [code(4000, f"address-{i}") for i in range(6)] + [prose(4000, f"address-{i}") for i in range(6)]
    assert [s for text in texts for s in spans(text)] == []


@pytest.mark.parametrize(
    "fragment",
    [
        "1 A-",
        "12 Aa Bb Cc Dd ",
        "Via A ",
        "Aaaa" * 20 + "straat ",
        "Flat 1, ",
        "1, A, ",
        "12345 ",
        "Flat 1, Block A, Aa Bb, ",
        "1 Elm Street, Aa, ",
        "C/ A 1, 3º B ",
    ],
)
def test_adversarial_input_takes_linear_time(fragment):
    text = (fragment * (200_000 // len(fragment) + 1))[:200_000]
    started = time.perf_counter()
    RECOGNIZER.analyze(text, [])
    assert time.perf_counter() - started < 2.0


def test_a_city_inside_an_address_does_not_split_it(detector: Detector):
    """spaCy types the Dutch city a person here; the address keeps its one span."""
    text = "SHIP TO:\nIsabela Alves\nNoudhof 09\n7868DN Eindhoven\n\nFROM:\nKestrel Software GmbH"
    found = [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]
    assert ("LOCATION", "Noudhof 09\n7868DN Eindhoven") in found
    assert not [
        value for _, value in found if "Eindhoven" in value and value != "Noudhof 09\n7868DN Eindhoven"
    ]
