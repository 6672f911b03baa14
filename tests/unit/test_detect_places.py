"""Cities and countries named without an address are found where the words around them say
they are places, and nowhere else: not in code, not as everyday words, not inside a name."""

from __future__ import annotations

import time

import pytest

from maskgate.detect.engine import Detector
from maskgate.detect.places import PlaceRecognizer, gazetteer
from tests.unit.detect_texts import PLACES, code, prose

RECOGNIZER = PlaceRecognizer("en")


def spans(text: str) -> list[str]:
    return [text[r.start : r.end] for r in RECOGNIZER.analyze(text, ["LOCATION"])]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # a preposition or a verb of place before a city of the gazetteer
        ("Earlier orders went to Marseille, the rest stayed here.", "Marseille"),
        ("Our customer in Leeds reported the issue twice.", "Leeds"),
        ("He commutes from Oakland every day.", "Oakland"),
        ("Open to relocation to Zaragoza.", "Zaragoza"),
        ("The shop is based in Tübingen.", "Tübingen"),
        ("We met in The Hague last year.", "The Hague"),
        ("Flights to Rio de Janeiro on Monday are full.", "Rio de Janeiro"),
        ("In Paris, the office opens at nine.", "Paris"),
        # their other names in Latin letters, for the largest cities
        ("Greetings from München!", "München"),
        # a field label
        ("Shipping destination: Rotterdam", "Rotterdam"),
        ('{"name": "Lena Vogel", "town": "Tübingen"}', "Tübingen"),
        # parentheses after a name, a CV line with its dates
        ("Speakers: Mrs. Odika Bhatt (Valencia) and Dr. Ryan Diaz.", "Valencia"),
        ("HR Business Partner, Tidewater Robotics, Toulouse (25 October 2021 – present)", "Toulouse"),
        ("Accountant, Bluepeak Logistics, Groningen (1/13/21 – present)", "Groningen"),
        # a field of a record that holds an e-mail address
        ("INSERT INTO customers VALUES ('Krystian Nałęcz', 'k.nalecz@web.de', 'Rennes', '2222');", "Rennes"),
        ("name,email,city\nAnna Berg,anna.berg@gmail.com,Uppsala\n", "Uppsala"),
        # a state or a country after a comma is part of the place
        ("The conference takes place in Vienna, Austria, on 12 May.", "Vienna, Austria"),
        ("Austin, TX is hot in August.", "Austin, TX"),
        ("Jan Novak | Brno, Czech Republic | jan.novak@seznam.cz", "Brno, Czech Republic"),
    ],
)
def test_a_place_is_found_with_the_evidence_around_it(text, place):
    assert spans(text) == [place]


def test_the_places_of_a_list_share_the_evidence_before_the_first():
    assert spans("We have offices in Berlin, Munich and Hamburg.") == ["Berlin", "Munich", "Hamburg"]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("I was born in Smallville and never left.", "Smallville"),
        ("We now live in Little Snoring.", "Little Snoring"),
        ("City: Smallville", "Smallville"),
        ('{"hometown": "Smallville"}', "Smallville"),
    ],
)
def test_a_place_no_gazetteer_knows_is_found_in_a_persons_own_words(text, place):
    assert spans(text) == [place]


@pytest.mark.parametrize(
    ("weak", "strong", "place"),
    [
        ("Switch to Mobile for the small screens.", "I moved to Mobile in May.", "Mobile"),
        ("Nice, OK, thanks!", "The parcel went back to Nice, France.", "Nice, France"),
        ("We deploy to Phoenix on Fridays.", "She is based in Phoenix.", "Phoenix"),
        ("In Reading mode the page is grey.", "She lives in Reading, UK.", "Reading, UK"),
    ],
)
def test_a_city_named_like_an_everyday_word_needs_strong_evidence(weak, strong, place):
    assert spans(weak) == []
    assert spans(strong) == [place]


@pytest.mark.parametrize(
    "text",
    [
        # a longer name that starts with a city's name
        "Can you write a polite reply to Victoria Smith?",
        "We moved to Jakarta EE last year.",
        "Please book a table at Paris Baguette.",
        # a city without evidence, or with a date after "born in"
        "Paris is lovely in spring.",
        "She was born in March 1990.",
        # identifiers and paths in code
        "timezone = 'Europe/Berlin'",
        "route = path from Paris.origin to Berlin(dest)",
        "deploy from @Berlin to #Paris and to Rome_eu",
        "location = Location(city)",
        "city: City",
        "user@Paris.example.com",
        # a quoted city without a record around it
        'cities = ["London", "Paris"]',
    ],
)
def test_nothing_is_found_without_evidence_or_in_code(text):
    assert spans(text) == []


def test_nothing_but_the_places_people_name_is_found_in_generated_code_and_prose():
    assert [s for i in range(6) for s in spans(code(4000, f"places-{i}"))] == []
    found = {s for i in range(6) for s in spans(prose(4000, f"places-{i}"))}
    assert found and found <= set(PLACES)


def test_the_gazetteer_is_read_once_and_stays_small():
    assert gazetteer() is gazetteer()
    places = gazetteer()
    assert {"Hobart", "Zaragoza", "Rennes", "Spain", "The Hague"} <= places.places
    assert "Mobile" in places.places and "Mobile" not in places.major
    assert len(places.places) < 60_000


@pytest.mark.parametrize(
    "fragment", ["Aa ", "in Aa, ", "Paris, ", "Paris and ", "in Paris, FR", "(Paris) ", "'Paris',a@b.co "]
)
def test_adversarial_input_takes_linear_time(fragment):
    text = (fragment * (200_000 // len(fragment) + 1))[:200_000]
    started = time.perf_counter()
    RECOGNIZER.analyze(text, [])
    assert time.perf_counter() - started < 2.0


def test_a_city_spacy_takes_for_a_person_is_masked_as_a_place(detector: Detector):
    text = "Earlier orders went to Rotterdam. Thanks, Jan"
    found = [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]
    assert ("LOCATION", "Rotterdam") in found


def test_a_city_inside_an_address_stays_part_of_the_address(detector: Detector):
    text = "Please ship it to 14 Kings Road, Brighton, BN1 1AA, not to Brighton station."
    found = [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]
    assert ("LOCATION", "14 Kings Road, Brighton, BN1 1AA") in found
