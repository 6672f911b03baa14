"""Full names found from the evidence around them, and the same names found again elsewhere."""

from __future__ import annotations

import pytest

from maskgate.detect import names
from maskgate.detect.engine import Detector
from maskgate.detect.types import Detection


def spans(find, text: str) -> list[str]:
    return [text[start:end] for start, end in find(text)]


def persons(detector: Detector, text: str) -> list[str]:
    return [text[d.start : d.end] for d in detector.detect(text) if d.entity_type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("From: Hannelore Kästner <h.kaestner@example.de>", "Hannelore Kästner"),
        (
            '{"name": "Wojciech Łukasiewicz", "email": "wojciech.lukasiewicz@example.pl"}',
            "Wojciech Łukasiewicz",
        ),
        ("id,name,email\n17,Rasmus Nørgaard,rasmusn@example.dk", "Rasmus Nørgaard"),
        ("maintainer:\n  name: Oluwaseun Adeyemi\n  email: adeyemi.o@example.ng", "Oluwaseun Adeyemi"),
        ("Ingrid Solberg\nStorgata 5, 0155 Oslo\n22 33 44 55 | ingridsolberg84@example.no", "Ingrid Solberg"),
        ("Reviewer: Thomas Whitfield Jr. <twhitfield@example.com>", "Thomas Whitfield Jr."),
        ("Signed: Ana María Ortega Ruiz (ana.ortega@example.es)", "Ana María Ortega Ruiz"),
    ],
)
def test_a_name_spelled_by_the_local_part_of_an_address_nearby_is_found(text, name):
    assert spans(names.names_by_email, text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "Support Team <support@example.com>",
        "Billing Office <billing.office@example.com>",
        "Mailer Daemon <mailer-daemon@example.com>",
        "Greta Lindqvist reviewed it; mail olaf.berg@example.com for the figures",
        "Jenkins Build <jenkins@ci.example.com>",
        "Acme Labs <acme.labs@example.com>",
        "Serde Json from pkg:cargo/serde-json@1.0.2",
    ],
)
def test_role_addresses_other_peoples_names_and_single_words_vouch_for_nobody(text):
    assert spans(names.names_by_email, text) == []


def test_only_a_few_lines_around_the_address_count():
    far = "Hannelore Kästner\n" + "\n".join(f"line {n}" for n in range(6)) + "\nhannelore.kaestner@example.de"
    assert spans(names.names_by_email, far) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"full_name": "Dagny Holm", "plan": "pro"}', "Dagny Holm"),
        ("lastName: Okonjo\n", "Okonjo"),
        ("cardholder = Mireille Fontaine\n", "Mireille Fontaine"),
        ("Emergency contact: Tomasz Wrona, +48 601 234 567", "Tomasz Wrona"),
        ("The account holder is Beatriz Figueroa.", "Beatriz Figueroa"),
    ],
)
def test_values_of_keys_that_only_hold_people_are_names(text, name):
    assert spans(names.names_by_key, text) == [name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("assignee: Priya Raghunathan\nstatus: open", "Priya Raghunathan"),
        ('setup(author="Hamid Karimi", version="1.0")', "Hamid Karimi"),
        ("Ship to:\nGiulia Ferraresi\nVia Po 4", "Giulia Ferraresi"),
    ],
)
def test_values_of_keys_that_hold_people_or_teams_are_names_of_two_words(text, name):
    assert spans(names.names_by_key, text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "owner: Platform Team",
        'author = "Acme Corp"',
        '"name": "Payments API"',
        "name: my-service",
        "maintainer: Data Engineering",
        "owner: Giulia",
        "full_name = Word(alphas)",
        "The owner is Karl Marx Allee.",
        '"display_name": "Autobuilder"',
        "beneficiary: Amazon",
    ],
)
def test_teams_companies_products_and_code_are_no_names(text):
    assert spans(names.names_by_key, text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Dear Prof. Okwuosa,\n\nthank you", "Okwuosa"),
        ("Chair: Prof. Dr. Hans Weber", "Hans Weber"),
        ("Mx. Robin Achterberg will join later", "Robin Achterberg"),
        ("Bitte an Frau Wieczorek weiterleiten", "Wieczorek"),
        ("Attendees: Ms. R. Castellanos", "R. Castellanos"),
    ],
)
def test_a_name_after_a_courtesy_title_is_found_without_the_title(text, name):
    assert spans(names.names_after_titles, text) == [name]


@pytest.mark.parametrize(
    "text",
    ["Turn left at 12 Oak Dr. Greenfield", "Sr Software Engineer", "Sr. Backend Developer", "Ask Dr. Who"],
)
def test_streets_jobs_and_everyday_words_after_a_title_are_no_names(text):
    assert spans(names.names_after_titles, text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Panel: A.K. Ramanathan (Chennai) and J. Okafor (Lagos)", ["A.K. Ramanathan", "J. Okafor"]),
        ("REFERENCES\nT. Brennan, Head of Finance", ["T. Brennan"]),
        ("Authors: W. H. van Rooij; B. Szabo", ["W. H. van Rooij", "B. Szabo"]),
    ],
)
def test_initials_and_a_surname_where_a_list_or_line_starts_are_names(text, found):
    assert spans(names.initials_and_surnames, text) == found


@pytest.mark.parametrize(
    "text", ["A. Introduction\nB. Scope", "stationed with the U.S. Army", "P.S. Thanks again", "A. The plan"]
)
def test_headings_and_abbreviations_are_no_initials(text):
    assert spans(names.initials_and_surnames, text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("12:00:01 AUDIT export of record for Lindqvist, Maja ssn=219-09-9999 by admin", "Lindqvist, Maja"),
        ("updated by Haddad, Samir (id 77)", "Haddad, Samir"),
        ("user: Oyelaran, Folake | role=viewer", "Oyelaran, Folake"),
    ],
)
def test_surname_comma_firstname_in_a_record_is_a_name(text, name):
    assert spans(names.surnames_first, text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "cached result for Lyon, France (3 hotels)",
        "flights for Porto, Lisbon are cheap",
        "Dear Maja, thanks",
        "for Hello, World (demo)",
    ],
)
def test_places_prose_and_everyday_words_are_no_surname_first_names(text):
    assert spans(names.surnames_first, text) == []


def person(text: str, value: str, start: int = 0, score: float = 0.85) -> Detection:
    at = text.index(value, start)
    return Detection(at, at + len(value), "PERSON", score, "presidio", "SpacyRecognizer")


def repeated(text: str, found: list[Detection]) -> list[str]:
    return [text[d.start : d.end] for d in names.repeat_names(text, found) if d.recognizer == names.REPEATED]


def test_a_part_of_a_name_is_the_same_person_elsewhere_in_the_text():
    text = "Attendees: Justin Obi, Maren Solvik\nActions:\n- Justin sends the draft\n- Solvik's budget review"
    found = [person(text, "Justin Obi"), person(text, "Maren Solvik")]
    assert repeated(text, found) == ["Justin", "Solvik"]


def test_the_whole_name_repeated_is_found_whole():
    text = 'u = User(name="Ignacy Balik")\nassert u.display_name() == "Ignacy Balik"'
    added = [
        d for d in names.repeat_names(text, [person(text, "Ignacy Balik")]) if d.recognizer == names.REPEATED
    ]
    assert [(text[d.start : d.end], d.start) for d in added] == [
        ("Ignacy Balik", text.rindex("Ignacy Balik"))
    ]


def test_parts_of_two_names_side_by_side_make_one_name():
    text = "Ingrid Costa and Priya Raman signed.\nSend it to Ingrid Raman."
    found = [person(text, "Ingrid Costa"), person(text, "Priya Raman")]
    assert repeated(text, found) == ["Ingrid Raman"]


def test_everyday_words_single_names_and_organisations_are_not_repeated():
    text = "From Hope Ibrahim: Hope this helps. Jasper asked Jasper. Quartzline Media, see Quartzline."
    found = [person(text, "Hope Ibrahim"), person(text, "Jasper"), person(text, "Quartzline Media")]
    assert repeated(text, found) == []


def test_a_word_the_text_also_writes_in_small_letters_is_a_word_not_a_name():
    text = (
        "Lead: Dana Fisk\nWe run fisk nightly. Fisk and Dana agreed.\n"
        "# Seq Scan: a seq scan\nScan, Seq, Seq Scan"
    )
    found = [person(text, "Dana Fisk"), person(text, "Seq Scan")]
    assert repeated(text, found) == ["Dana"]


def test_parts_of_programs_are_not_repeated():
    text = "owner: Ledger Worker\n[Ledger Worker] Ledger flushed; Worker paused"
    assert repeated(text, [person(text, "Ledger Worker")]) == []


def test_names_not_written_as_names_are_not_repeated():
    text = "x: TypeAlias = Union[str, int]\nTypeAlias here, Type there, Alias"
    assert repeated(text, [person(text, "TypeAlias")]) == []


def test_parts_glued_to_code_or_already_detected_are_left_alone():
    text = "owner Justin Obi\njustin = Justin_id + Obi.find(x) + self.Justin\nJustin@example.com"
    found = [
        person(text, "Justin Obi"),
        Detection(text.rindex("Justin@"), len(text), "EMAIL_ADDRESS", 1.0, "presidio"),
    ]
    assert repeated(text, found) == []


def test_a_part_inside_any_of_overlapping_detections_is_left_alone():
    text = "Justin Obi, Flat 2 Justin House, Leeds"
    address = text.index("Flat")
    found = [
        person(text, "Justin Obi"),
        Detection(address, len(text), "LOCATION", 1.0, "presidio", "address"),
        Detection(address + 5, address + 6, "LOCATION", 0.85, "presidio", "SpacyRecognizer"),
    ]
    assert repeated(text, found) == []


def test_the_detector_finds_names_from_every_kind_of_evidence(detector):
    text = (
        "[contact]\nowner = Oyelaran Folasade\nowner_email = folasade.oyelaran@example.ng\n\n"
        "Note from Mx. Taavi Kallas: Taavi approved the change.\n"
    )
    assert persons(detector, text) == ["Oyelaran Folasade", "Taavi Kallas", "Taavi"]


def test_the_detector_finds_no_names_in_configuration_without_people(detector):
    text = (
        '[project]\nname = "payments-api"\nauthor = "Acme Corp"\nowner: Platform Team\n'
        'contact: Support Desk <support@example.com>\n"name": "Payments API"\n'
    )
    assert persons(detector, text) == []
