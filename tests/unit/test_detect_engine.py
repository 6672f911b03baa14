"""The engine: overlap resolution, placeholders, the allow list, thread safety and the public API."""

from __future__ import annotations

import importlib
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import spacy
import yaml
from hypothesis import given
from hypothesis import strategies as st

import maskgate
from maskgate.detect import PLACEHOLDER_SHAPE as EXPORTED_SHAPE
from maskgate.detect import Detection, Detector
from maskgate.detect.engine import PLACEHOLDER_SHAPE, resolve
from maskgate.policy import DEFAULT_RULES, PolicyError, load_policy, parse_policy


def pii(start: int, end: int, score: float = 0.85, entity_type: str = "PERSON") -> Detection:
    return Detection(start, end, entity_type, score, "presidio")


def secret(start: int, end: int, score: float = 0.9, entity_type: str = "PASSWORD") -> Detection:
    return Detection(start, end, entity_type, score, "pattern", secret=True)


TEXT = "abcdefghijklmnopqrstuvwxyz0123456789"


def spans(detections: list[Detection]) -> list[tuple[int, int, str]]:
    return [(d.start, d.end, d.entity_type) for d in detections]


def test_secret_wins_over_overlapping_personal_data_whatever_the_score():
    result = resolve(TEXT, [pii(0, 10, score=1.0), secret(5, 15, score=0.1)])
    assert spans(result) == [(5, 15, "PASSWORD")]


def test_higher_score_then_longer_span_wins_among_personal_data():
    assert spans(resolve(TEXT, [pii(0, 5, 0.6, "LOCATION"), pii(3, 12, 0.9)])) == [(3, 12, "PERSON")]
    assert spans(resolve(TEXT, [pii(0, 5, 0.85, "LOCATION"), pii(3, 12, 0.85)])) == [(3, 12, "PERSON")]


def test_overlapping_secrets_are_joined_and_typed_by_the_best():
    result = resolve(TEXT, [secret(0, 8, 0.9, "JWT"), secret(4, 20, 0.95, "BEARER_TOKEN"), secret(25, 30)])
    assert spans(result) == [(0, 20, "BEARER_TOKEN"), (25, 30, "PASSWORD")]


def test_result_is_sorted_and_disjoint_personal_data_is_kept():
    result = resolve(TEXT, [pii(20, 25), secret(0, 3), pii(10, 15, entity_type="LOCATION")])
    assert spans(result) == [(0, 3, "PASSWORD"), (10, 15, "LOCATION"), (20, 25, "PERSON")]


def test_spans_are_trimmed_of_whitespace_and_empty_ones_dropped():
    text = "  Jane Roe \n ... "
    assert spans(resolve(text, [pii(0, 11), pii(11, 17)])) == [(2, 10, "PERSON")]


def test_placeholder_parts_are_cut_away():
    text = "Dear [[PERSON_1]] Smith, see [[EMAIL_ADDRESS_2]]."
    whole_placeholder = pii(5, 17)
    placeholder_and_name = pii(7, 23)
    assert spans(resolve(text, [whole_placeholder, placeholder_and_name])) == [(18, 23, "PERSON")]
    assert resolve(text, [secret(29, 48)]) == []


@given(
    st.lists(
        st.tuples(st.integers(0, 35), st.integers(1, 12), st.booleans(), st.sampled_from([0.4, 0.85, 0.9])),
        max_size=12,
    )
)
def test_resolution_is_sorted_disjoint_and_keeps_every_secret_character(raw):
    detections = [
        (secret if is_secret else pii)(start, min(start + length, len(TEXT)), score)
        for start, length, is_secret, score in raw
    ]
    result = resolve(TEXT, detections)
    assert all(a.end <= b.start for a, b in itertools.pairwise(result))
    covered = {i for d in result for i in range(d.start, d.end)}
    assert {i for d in detections if d.secret for i in range(d.start, d.end)} <= covered
    inputs = {i for d in detections for i in range(d.start, d.end)}
    assert covered <= inputs


def test_placeholder_shape_is_shared():
    assert EXPORTED_SHAPE is PLACEHOLDER_SHAPE
    assert PLACEHOLDER_SHAPE.fullmatch("[[EMAIL_ADDRESS_12]]")
    assert not PLACEHOLDER_SHAPE.fullmatch("[[person_1]]")
    assert not PLACEHOLDER_SHAPE.fullmatch("[[PERSON]]")


def test_placeholders_are_never_detected_but_real_values_next_to_them_are(detector):
    text = (
        "[[PERSON_1]] asked Jane Roe to forward [[EMAIL_ADDRESS_2]] and jane.roe@example.com "
        'to [[PERSON_3]]; password = "[[PASSWORD_1]]" and token [[OPENAI_API_KEY_1]].'
    )
    placeholders = [m.span() for m in PLACEHOLDER_SHAPE.finditer(text)]
    detections = detector.detect(text)
    assert [(d.entity_type, text[d.start : d.end]) for d in detections] == [
        ("PERSON", "Jane Roe"),
        ("EMAIL_ADDRESS", "jane.roe@example.com"),
    ]
    assert not any(d.start < end and start < d.end for d in detections for start, end in placeholders)


def test_secrets_and_personal_data_in_one_text(detector):
    text = "Hi, I'm Margaret Thornton. Our staging DB is postgres://svc:Q7m-Xr2p-Lt9w@10.0.4.12:5432/app."
    assert [(d.entity_type, d.secret, text[d.start : d.end]) for d in detector.detect(text)] == [
        ("PERSON", False, "Margaret Thornton"),
        ("PASSWORD", True, "Q7m-Xr2p-Lt9w"),
        ("IP_ADDRESS", False, "10.0.4.12"),
    ]


def test_empty_and_blank_texts_have_no_detections(detector):
    assert detector.detect("") == []
    assert detector.detect(" \n\t ") == []


def test_concurrent_calls_give_the_same_results_as_sequential_ones(detector):
    texts = [
        f"Message {i}: Jane Roe ({i}) lives in Boston, mail jane{i}@example.com, "
        f"key sk_live_51FAKE{i:03d}q2w3e4r5t6y7u8i9o0p and phone +1 212 555 01{i:02d}."
        for i in range(12)
    ]
    # Texts no call has seen yet, so the threads analyse at the same time, not only look up.
    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(detector.detect, texts * 3))
    sequential = [detector._analyse(t) for t in texts]
    assert concurrent == sequential * 3


def test_public_detect_uses_the_shared_detector(detector):
    text = "Mail Jane Roe at jane.roe@example.com"
    assert maskgate.default_detector() is detector
    assert maskgate.detect(text) == detector.detect(text)
    assert maskgate.Detection is Detection
    assert [(d.entity_type, text[d.start : d.end]) for d in maskgate.detect(text)] == [
        ("PERSON", "Jane Roe"),
        ("EMAIL_ADDRESS", "jane.roe@example.com"),
    ]


def test_detect_stays_the_function_after_the_subpackage_is_imported():
    importlib.import_module("maskgate.detect.engine")
    importlib.import_module("maskgate.detect.secrets")
    assert callable(maskgate.detect)
    assert maskgate.detect.__module__ == "maskgate"


def test_spacy_model_argument_overrides_the_policy(tmp_path):
    blank = tmp_path / "blank"
    spacy.blank("en").to_disk(blank)
    without_ner = Detector(load_policy(), spacy_model=str(blank))
    without_ner.warm_up()
    # An address that spells the name would vouch for it without spaCy (`names.py`).
    text = "Jane Roe, billing@example.com, password = 'Xy7-Secret'"
    assert [d.entity_type for d in without_ner.detect(text)] == ["EMAIL_ADDRESS", "PASSWORD"]


ALLOW = [
    {"value": "Acme"},
    {"value": "T-1234"},
    {"regex": r"[a-z.]+@example\.org", "types": ["EMAIL_ADDRESS"]},
    {"value": "ada@example.net", "types": ["PERSON"]},
    {"value": "Tr0ub4dor&3-horse"},
]


@pytest.fixture(scope="module")
def allowing_detector(tmp_path_factory: pytest.TempPathFactory) -> Detector:
    """The shipped rules plus an allow list, two deny lists and a recognizer whose matches
    end in a space; a blank spaCy pipeline is enough, as no entry needs a name or place."""
    raw = yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))
    raw["allow"] = ALLOW
    raw["pii"]["deny"] = [
        {"type": "CUSTOMER", "terms": ["Acme", "Acme Corp"]},
        {"type": "PROJECT_NAME", "terms": ["Bluebird"]},
    ]
    raw["pii"]["recognizers"] = [{"id": "ticket", "type": "TICKET", "regex": r"T-\d{4}\s", "score": 0.9}]
    blank = tmp_path_factory.mktemp("blank-en")
    spacy.blank("en").to_disk(blank)
    return Detector(parse_policy(raw, "test.yaml"), spacy_model=str(blank))


def values(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]


def test_allowed_value_is_exempt_but_a_longer_value_containing_it_is_not(allowing_detector):
    text = "Acme signed; Acme Corp did not."
    assert values(allowing_detector, text) == [("CUSTOMER", "Acme Corp")]


def test_allowed_value_is_compared_trimmed_of_whitespace(allowing_detector):
    text = "Tickets T-1234 and T-5678 are open."
    assert values(allowing_detector, text) == [("TICKET", "T-5678")]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("ada.lovelace@example.org", True),
        ("Ada.Lovelace@example.org", False),  # the expression has no upper case
        ("ada@example.org.uk", False),  # a full match, never a prefix
        ("ada@mail.example.org", False),
    ],
)
def test_allow_expression_must_match_the_whole_value(allowing_detector, address, allowed):
    text = f"Write to {address} today."
    expected = [] if allowed else [("EMAIL_ADDRESS", address)]
    assert values(allowing_detector, text) == expected


def test_allow_entry_applies_only_to_its_types(allowing_detector):
    text = "Write to ada@example.net today."
    assert values(allowing_detector, text) == [("EMAIL_ADDRESS", "ada@example.net")]


def test_allowed_secret_is_not_detected(allowing_detector):
    text = 'password = "Tr0ub4dor&3-horse" and db_password = "c0rrect-h0rse"'
    assert values(allowing_detector, text) == [("PASSWORD", "c0rrect-h0rse")]


def test_allowed_span_does_not_hide_an_overlapping_detection(allowing_detector):
    """The e-mail address is allowed; the deny-listed name inside it still counts, although
    the longer address would win the overlap if it were not dropped first."""
    text = "Mail bluebird@example.org now."
    assert values(allowing_detector, text) == [("PROJECT_NAME", "bluebird")]


def test_code_identifiers_are_not_taken_for_people_or_places(detector):
    code = (
        "def _load_template(self, name: str, globals: t.Optional[t.MutableMapping[str, t.Any]]):\n"
        "    if isinstance(other, Layer):\n"
        "        raise TemplateSyntaxError(name)\n"
        "    expr = make_attrgetter(environment, attribute)\n"
        '    author = "Jane Doe"\n'
    )
    assert values(detector, code) == [("PERSON", "Jane Doe")]


def test_a_name_does_not_swallow_the_number_after_it(detector):
    text = "exported record for Ibrahim, Philip ssn=734-40-9259 by admin"
    found = values(detector, text)
    assert ("US_SSN", "734-40-9259") in found
    assert all("=" not in value for _, value in found)


@pytest.mark.parametrize(
    ("text", "name"),
    [("Hi Ojas, please find the invoice attached.", "Ojas"), ("See you soon.\n\nThanks,\nJan", "Jan")],
)
def test_a_first_name_alone_after_a_greeting_or_before_a_sign_off_is_found(detector, text, name):
    assert ("PERSON", name) in values(detector, text)


def test_names_of_widely_used_software_are_allowed(detector):
    text = "What is the difference between Django and Kafka when Jenkins runs the tests?"
    assert values(detector, text) == []


def test_secret_engines_are_built_beside_spacy_and_their_errors_reach_the_caller(monkeypatch):
    engine = importlib.import_module("maskgate.detect.engine")
    built_on = []

    def failing(policy):
        built_on.append(threading.current_thread().name)
        raise PolicyError("test.yaml: secrets.detect_secrets[0].name: unknown")

    monkeypatch.setattr(engine, "SecretDetector", failing)
    with pytest.raises(PolicyError, match=r"test\.yaml: secrets\.detect_secrets"):
        Detector(load_policy())
    assert len(built_on) == 1 and built_on[0] != threading.current_thread().name
