"""The faster phone recognizer finds exactly what Presidio's finds, where it finds it."""

from __future__ import annotations

import pytest
from bench import texts
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import Leniency
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from maskgate.detect.engine import Detector
from maskgate.detect.phone import (
    MIN_DIGITS,
    ChatPhoneRecognizer,
    FastPhoneRecognizer,
    NationalPhoneRecognizer,
    dialable,
    digit_stretches,
    shortest_international_number,
    shortest_national_number,
)
from tests.unit.detect_texts import code, prose

STOCK = PhoneRecognizer()
FAST = FastPhoneRecognizer.replacing(STOCK)

WRITTEN = [
    "call 0049 30 1234567, +49 30 1234567 or 030 1234567",
    "US: 415 555 0100, (415) 555-0100, 4155550100, +1-415-555-0100, 1 415 555 0100",
    "FR 01 23 45 67 89, IN 98765 43210, BR (11) 91234-5678, IL 03-123-4567, GB 020 7946 0958",
    "1-800-FLOWERS, 0800 123 456, (0)20 7946 0958, ＋44 20 7946 0958, ext. 4321 at 212-555-0199 x12",
    "German shorts: 0228 1234, 06221 54321, 12345; an order 2024-05-07, pages 12/13, 10:30",
    "٠٢٠ ٧٩٤٦ ٠٩٥٨ and ０３０ １２３４５６７",
]


def found(recognizer: PhoneRecognizer, text: str) -> list[tuple[int, int, float]]:
    return sorted((r.start, r.end, r.score) for r in recognizer.analyze(text, ["PHONE_NUMBER"]))


@pytest.mark.parametrize("text", WRITTEN)
def test_the_same_numbers_are_found_in_every_way_of_writing_them(text):
    assert found(FAST, text) == found(STOCK, text)
    assert found(FAST, text)


def test_the_same_numbers_are_found_in_prose_code_and_benchmark_texts():
    corpus = [prose(3000, f"phone-{i}") for i in range(8)] + [code(3000, f"phone-{i}") for i in range(8)]
    corpus += [
        t for kind in ("prose", "code", "mixed") for t in texts.contents(texts.sized_body(kind, 6000, kind))
    ]
    differing = [i for i, text in enumerate(corpus) if found(FAST, text) != found(STOCK, text)]
    assert differing == []
    assert sum(len(found(FAST, text)) for text in corpus) > 20


GROUP = st.text("0123456789", min_size=1, max_size=5)
SEPARATOR = st.sampled_from(["", " ", "-", ".", "/", ") ", " (", " x", ":"])
LEADS = ["", "+", "00", "0", "(", "tel ", "＋"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["", "+", "00", "0", "(", "tel ", "＋"]),
    st.lists(st.tuples(GROUP, SEPARATOR), max_size=5),
)
def test_the_same_numbers_are_found_in_any_run_of_digit_groups(lead, groups):
    text = "call " + lead + "".join(digits + separator for digits, separator in groups) + " now"
    assert found(FAST, text) == found(STOCK, text)


@pytest.mark.parametrize("text", ["call +49 30 1234 now", "call 0049 30 12345 now", "call +49 89 1234 now"])
def test_a_number_of_another_country_is_found_though_shorter_than_the_regions_own(text):
    """French numbers have nine digits; a German one dialled from France may have fewer."""
    french = PhoneRecognizer(supported_regions=("FR",))
    assert found(FastPhoneRecognizer.replacing(french), text) == found(french, text) != []


@pytest.mark.parametrize(
    ("region", "text"),
    [
        ("GG", "call 712345 or 01481 712345 or 722 345"),  # read nationally, 1481 comes first
        ("SM", "call 0549 123456 or 123456 or 66 12 34 56"),
        ("RU", "call 8 10 43 1112 or 8 (495) 123-45-67"),  # 8 10 dials abroad: Vienna's 1112
        ("AR", "call 011 15-2345-6789 or 15 2345 6789"),
        ("NF", "call 51234 or 3 51234 or 12345"),
    ],
)
def test_regions_whose_rules_add_digits_or_dial_abroad_otherwise_find_the_same(region, text):
    stock = PhoneRecognizer(supported_regions=(region,))
    assert found(FastPhoneRecognizer.replacing(stock), text) == found(stock, text) != []


def test_the_bounds_come_from_the_metadata():
    # Two-digit country codes with four-digit numbers: +43 and +49.
    assert shortest_international_number() == 6
    # The United States share +1 with Canada, whose numbers may be dialled with seven digits;
    # Guernsey puts 1481 in front of six-digit local numbers.
    bounds = {region: shortest_national_number(region) for region in ("US", "FR", "DE", "GG")}
    assert bounds == {"US": 7, "FR": 9, "DE": 4, "GG": 3}


def test_a_recognizer_that_accepts_possible_numbers_is_kept_as_it_is():
    lenient = PhoneRecognizer(leniency=Leniency.POSSIBLE)
    assert FastPhoneRecognizer.replacing(lenient) is lenient
    assert FAST.name == STOCK.name == "PhoneRecognizer" and FAST.supported_regions == STOCK.supported_regions


def test_the_detector_finds_phone_numbers_with_the_faster_matcher(detector: Detector):
    recognizers = detector._pii.recognizers
    phones = [r for r in recognizers if isinstance(r, PhoneRecognizer)]
    assert phones and all(isinstance(r, FastPhoneRecognizer) for r in phones)
    found = detector.detect("Call me on (415) 555-0100 tonight.")
    assert ("PHONE_NUMBER", "PhoneRecognizer") in [(d.entity_type, d.recognizer) for d in found]


CHAT = ChatPhoneRecognizer.replacing(STOCK)
NATIONAL = NationalPhoneRecognizer.beside(STOCK)


@pytest.mark.parametrize(
    "text",
    [
        "loaded 1693 rows from table order_items in 1646 ms",
        "two charges of 1683.35 EUR on my card",
        'GET /static/js/app.08258127.js HTTP/1.1" 200',
        "GET /api/v2/orders/4155550100/items",
        "pick 4155550100 Merge pull request #482 from feature/export",
        "Reverted in commit 4155550100 yesterday.",
        "[Thu Mar 14 09:12:03.000000 2024] [core:error] AH00124",
        "I0314 09:12:03.123456    1 main.go:42] started",
        "[67968.887570] usb 1-1: new high-speed USB device",
        "build 20240310.1.0 passed",
    ],
)
def test_counts_amounts_hashes_and_parts_of_identifiers_are_not_phone_numbers(text):
    assert found(FAST, text) != []
    assert found(CHAT, text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Call me on (415) 555-0100 tonight.",
        "M: +393102117064\nE: x",
        "Tel.+49 30 1234567",
        "Please commit 415-555-0100 to memory.",
        "Appelez le 01.23.45.67.89 ou le 212.555.0100.",
    ],
)
def test_numbers_people_dial_are_still_found(text):
    assert found(CHAT, text) == found(FAST, text) != []


def test_skipping_short_runs_unparsed_finds_what_the_dialable_filter_keeps():
    corpus = [
        *WRITTEN,
        *(prose(3000, f"chat-{i}") for i in range(8)),
        *(code(3000, f"chat-{i}") for i in range(8)),
    ]
    for text in corpus:
        kept = [(s, e, score) for s, e, score in found(FAST, text) if dialable(text, s, e)]
        assert found(CHAT, text) == kept, text
    assert sum(len(found(CHAT, text)) for text in corpus) > 10


def test_only_stretches_around_runs_with_enough_digits_are_read():
    assert (
        list(digit_stretches("Version 2024 shipped in spring; it has run on port 8080 since.", MIN_DIGITS))
        == []
    )
    text = "Call (415) 555-0100 today." + " " * 60 + "or 020 7946 0958 x12 after 6, or 0228 1234."
    first, second = digit_stretches(text, MIN_DIGITS)
    assert text[first[0] : first[1]].strip() == "Call (415) 555-0100 today."
    assert "020 7946 0958 x12 after 6, or 0228 1234" in text[second[0] : second[1]]
    assert first[1] < second[0]
    # Runs close enough share one stretch.
    assert list(digit_stretches("415 555 0100 / 415 555 0199", MIN_DIGITS)) == [(0, 27)]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("It arrived broken. Call me on 679 69 58 51.", "679 69 58 51"),
        ("Reach me at jaylinn.degroot@yahoo.com or 876 39 29 98.", "876 39 29 98"),
        ("Her number is 393 984 6584.", "393 984 6584"),
    ],
)
def test_national_numbers_of_more_countries_are_found_after_a_word_that_says_so(text, number):
    assert [text[r.start : r.end] for r in NATIONAL.analyze(text, ["PHONE_NUMBER"])] == [number]
    assert found(CHAT, text) == []


def test_national_numbers_without_such_a_word_are_left_alone():
    assert NATIONAL.analyze("Order 679 69 58 51 shipped; batch 393 984 6584 done.", ["PHONE_NUMBER"]) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Ana Ruiz\nCalle Mayor 7, 28013 Madrid\n642 99 43 08 | ana.ruiz@example.es\n", "642 99 43 08"),
        ("Kind regards,\nLuca Bianchi\nSenior Engineer, Example Srl\n347 123 4567\n", "347 123 4567"),
        ("Ship to: Ana Ruiz, 642 99 43 08, Calle Mayor 7, Madrid", "642 99 43 08"),
    ],
)
def test_national_numbers_written_in_groups_as_a_field_of_contact_details_are_found(text, number):
    assert [text[r.start : r.end] for r in NATIONAL.analyze(text, ["PHONE_NUMBER"])] == [number]


@pytest.mark.parametrize(
    "text",
    [
        "Batch\n642994308\n",
        "Order 642 99 43 08 shipped to ana.ruiz@example.es today.",
        "total: 642 99 43 08 | eur",
    ],
)
def test_a_contact_line_needs_the_number_in_groups_and_alone_or_beside_an_address(text):
    assert NATIONAL.analyze(text, ["PHONE_NUMBER"]) == []


def test_the_detector_reports_national_numbers_after_a_context_word(detector: Detector):
    text = "Confirmed by phone from 602 14 96 24. Invoice 602 14 96 24 was sent."
    found = [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]
    # Found once after "phone", and so masked everywhere in the request by propagation.
    assert ("PHONE_NUMBER", "602 14 96 24") in found
