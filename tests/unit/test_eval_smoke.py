"""The detection-quality evaluation's own code: its scoring rules on samples whose figures are known
by hand, its generators (deterministic, valid values, dev and held-out kept apart) and the
harness end to end on a few samples."""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

import phonenumbers
import pytest
from evaluation import clean_data, pii_data, run, score
from evaluation.samples import Kind, Sample, Span, Split

import maskgate
from maskgate.detect.engine import Detector


def _pii(text: str, *gold: tuple[str, str]) -> Sample:
    """A personal-data sample with a gold span on the first occurrence of each value."""
    spans = tuple(Span(text.index(value), text.index(value) + len(value), kind) for value, kind in gold)
    return Sample("s", text, spans, Kind.PII, Split.DEV, "hand")


def _at(text: str, value: str, kind: str, cut: int = 0) -> Span:
    """A predicted span on `value`, `cut` characters short at its end."""
    start = text.index(value)
    return Span(start, start + len(value) - cut, kind)


def test_pii_scores_match_by_overlap_and_protect_by_coverage() -> None:
    text = "Call Ann Lee at ann@example.org from 10.0.0.1 today"
    sample = _pii(
        text, ("Ann Lee", "PERSON"), ("ann@example.org", "EMAIL_ADDRESS"), ("10.0.0.1", "IP_ADDRESS")
    )
    predicted = [
        _at(text, "Ann", "PERSON"),  # overlaps the name: found, but half of it stays visible
        _at(text, "ann@example.org", "EMAIL_ADDRESS"),
        _at(text, "10.0.0.1", "PHONE_NUMBER"),  # wrong type: not found, yet protected
        _at(text, "today", "PERSON"),  # a false alarm
    ]
    scores = score.score_pii([sample], {"s": predicted})

    person = scores["PERSON"]
    assert (person.gold, person.found, person.protected, person.predicted, person.correct) == (1, 1, 0, 2, 1)
    assert (person.precision, person.recall, person.protection) == (0.5, 1.0, 0.0)
    assert person.f1 == pytest.approx(2 / 3)
    ip = scores["IP_ADDRESS"]
    assert (ip.recall, ip.protection, ip.precision) == (0.0, 1.0, None)
    assert scores["PHONE_NUMBER"].precision == 0.0 and scores["PHONE_NUMBER"].recall is None
    everything = scores[score.ALL]
    assert (everything.gold, everything.found, everything.protected) == (3, 2, 2)
    assert (everything.predicted, everything.correct) == (4, 2)
    # Gold types come first, the ALL row last.
    assert list(scores) == ["EMAIL_ADDRESS", "IP_ADDRESS", "PERSON", "PHONE_NUMBER", score.ALL]


def test_a_prediction_that_only_touches_a_gold_span_does_not_overlap_it() -> None:
    sample = _pii("Call Ann Lee.", ("Ann Lee", "PERSON"))
    touching = [Span(0, 5, "PERSON"), Span(12, 13, "PERSON")]  # "Call " and "." on either side
    person = score.score_pii([sample], {"s": touching})["PERSON"]
    assert (person.found, person.correct, person.protected) == (0, 0, 0)


def test_protection_counts_letters_and_digits_of_the_whole_span() -> None:
    text = "Ship to 1 Main St\nSpringfield 12345 now"
    address = "1 Main St\nSpringfield 12345"
    gold = _pii(text, (address, "LOCATION")).spans[0]
    pieces = [_at(text, "1 Main St", "LOCATION"), _at(text, "Springfield 12345", "LOCATION")]
    assert score.coverage(text, gold, pieces) == 1.0  # the line break between the pieces does not count
    assert score.coverage(text, gold, pieces[1:]) == pytest.approx(16 / 23)

    ten = "code ABCDEFGHIJ end"
    sample = _pii(ten, ("ABCDEFGHIJ", "PERSON"))
    nine, eight = _at(ten, "ABCDEFGHIJ", "PERSON", cut=1), _at(ten, "ABCDEFGHIJ", "PERSON", cut=2)
    assert score.score_pii([sample], {"s": [nine]})["PERSON"].protection == 1.0
    assert score.score_pii([sample], {"s": [eight]})["PERSON"].protection == 0.0
    assert [share for _, share in score.misses(sample, [eight])] == [0.8]


def test_a_secret_counts_only_when_all_of_it_is_covered() -> None:
    key = "ghp_" + "a1B2c3D4e5" * 4
    text = f"token = {key}\n"
    start = text.index(key)
    gold = Span(start, start + len(key), "GITHUB_TOKEN")
    samples = [
        Sample("whole", text, (gold,), Kind.SECRET, Split.DEV, "github"),
        Sample("short", text, (gold,), Kind.SECRET, Split.DEV, "github"),
        Sample("generic", text, (gold,), Kind.SECRET, Split.DEV, "other"),
    ]
    predictions = {
        "whole": [gold],
        "short": [Span(gold.start, gold.end - 1, "GITHUB_TOKEN")],
        "generic": [Span(0, gold.end, "SECRET")],
    }
    scores = score.score_secrets(samples, predictions)
    assert (scores["github"].secrets, scores["github"].found, scores["github"].typed) == (2, 1, 2)
    assert (scores["other"].recall, scores["other"].typed_recall) == (1.0, 0.0)
    assert scores[score.ALL].recall == pytest.approx(2 / 3)


def test_clean_text_is_scored_per_kb_and_per_sample() -> None:
    kilobyte = "x" * 1024
    samples = [
        Sample("a", kilobyte, (), Kind.CLEAN_CODE, Split.DEV, "pkg"),
        Sample("b", kilobyte, (), Kind.CLEAN_CODE, Split.DEV, "pkg"),
        Sample("c", kilobyte, (), Kind.CLEAN_LOG, Split.DEV, "fmt"),
    ]
    predictions = {"a": [Span(0, 3, "PERSON"), Span(5, 9, "LOCATION")]}
    clean = score.score_clean(samples, predictions)
    code = clean[Kind.CLEAN_CODE.value]
    assert (code.samples, code.kb, code.detections, code.per_kb, code.share_with_any) == (2, 2.0, 2, 1.0, 0.5)
    assert code.by_type == {"PERSON": 1, "LOCATION": 1}
    assert clean[Kind.CLEAN_LOG.value].per_kb == 0.0


def test_evaluate_holds_each_figure_against_its_aim() -> None:
    email = _pii("mail a@b.example now", ("a@b.example", "EMAIL_ADDRESS"))
    negatives = [
        Sample(f"n{i}", f"commit {i:040x}", (), Kind.HARD_NEGATIVE, Split.DEV, "git-sha") for i in range(2)
    ]
    code = Sample("c", "def f():\n    return 1\n", (), Kind.CLEAN_CODE, Split.DEV, "pkg")
    predictions = {"s": [_at(email.text, "a@b.example", "EMAIL_ADDRESS")], "n0": [Span(7, 47, "SECRET")]}
    report = run.evaluate([email, *negatives, code], predictions)
    aims = report["aims"]
    assert aims["protection EMAIL_ADDRESS"] == {"value": 1.0, "aim": ">= 98%", "met": True}
    assert aims["protection PERSON"]["value"] is None and not aims["protection PERSON"]["met"]
    assert aims["hard negatives with any detection"]["value"] == 0.5
    assert not aims["hard negatives with any detection"]["met"]
    assert aims["clean code with any detection"]["met"]
    assert report["secrets"] is None and "secrets recall" not in aims
    assert report["hard_negatives"]["by_source"]["git-sha"]["with_any"] == 1


def test_generation_is_deterministic_and_varies_between_samples() -> None:
    for split in Split:
        assert pii_data.pii_samples(split, 2) == pii_data.pii_samples(split, 2)
        assert clean_data.clean_samples(split, 2, 2, 3) == clean_data.clean_samples(split, 2, 2, 3)
    first, second = (pii_data.render(pii_data.DEV_TEMPLATES[0], i) for i in range(2))
    assert first.text != second.text


def test_dev_and_heldout_never_share_a_template_or_a_source() -> None:
    dev, heldout = pii_data.DEV_TEMPLATES, pii_data.HELDOUT_TEMPLATES
    assert {t.split for t in dev} == {Split.DEV} and {t.split for t in heldout} == {Split.HELDOUT}
    assert not {t.name for t in dev} & {t.name for t in heldout}
    assert not {t.text for t in dev} & {t.text for t in heldout}
    # Every family is measured on phrasings never tuned on.
    assert {t.family for t in dev} == {t.family for t in heldout}
    samples = {
        split: pii_data.pii_samples(split, 1) + clean_data.clean_samples(split, 1, 1, 4) for split in Split
    }
    for split, chosen in samples.items():
        assert {s.split for s in chosen} == {split}
    sources = {
        split: {(s.kind, s.source) for s in chosen if s.kind != Kind.CLEAN_PROSE}
        for split, chosen in samples.items()
    }
    assert not sources[Split.DEV] & sources[Split.HELDOUT]
    assert not set(clean_data.PROSE_FRAMES[Split.DEV]) & set(clean_data.PROSE_FRAMES[Split.HELDOUT])


def test_gold_spans_hold_valid_values_of_their_type() -> None:
    seen = set()
    for template in pii_data.TEMPLATES:
        for i in range(3):
            sample = pii_data.render(template, i)
            ends = [(span.start, span.end) for span in sample.spans]
            assert ends == sorted(ends) and all(a[1] <= b[0] for a, b in itertools.pairwise(ends))
            for span in sample.spans:
                value = sample.text[span.start : span.end]
                assert value == value.strip() and value, (sample.id, span)
                _check_value(span.entity_type, value)
                seen.add(span.entity_type)
    assert seen == set(run.PROTECTION_AIMS)


def _check_value(kind: str, value: str) -> None:
    digits = re.sub(r"[\s-]", "", value)
    if kind == "CREDIT_CARD":
        total = sum(
            int(d) if i % 2 == 0 else sum(divmod(2 * int(d), 10)) for i, d in enumerate(reversed(digits))
        )
        assert total % 10 == 0, value
    elif kind == "IBAN_CODE":
        rearranged = digits[4:] + digits[:4]
        assert int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1, value
    elif kind == "PHONE_NUMBER" and value.startswith("+"):
        assert phonenumbers.is_valid_number(phonenumbers.parse(value)), value
    elif kind == "EMAIL_ADDRESS":
        assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", value), value
    elif kind == "US_SSN":
        assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", value), value


def test_clean_code_leaves_out_credits_addresses_and_ip_literals() -> None:
    for text in ("# Copyright 2009 someone", "mail = 'someone@example.org'", "HOST = '127.0.0.1'"):
        assert clean_data.LEFT_OUT.search(text)
    assert not clean_data.LEFT_OUT.search("@property\ndef version(self) -> str:\n    return '1.2.3'")
    snippets = clean_data.code_samples(Split.DEV, 5)
    assert snippets and not any(clean_data.LEFT_OUT.search(s.text) for s in snippets)
    low, high = clean_data.SNIPPET_CHARS
    assert all(low <= len(s.text) <= high for s in snippets)


def test_the_harness_runs_maskgate_on_a_few_samples(detector: Detector) -> None:
    samples = [pii_data.render(t, 0) for t in pii_data.DEV_TEMPLATES[:3]]
    predictions = run.predict(samples, detector.detect)
    report = run.evaluate(samples, predictions)
    assert report["pii"]["EMAIL_ADDRESS"]["recall"] == 1.0
    assert report["samples"] == {"pii": 3}


def test_main_writes_a_report_that_repeats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    """With a stand-in detector (e-mail addresses only) and without the secret samples."""
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    monkeypatch.setattr(
        run, "QUICK", run.Profile(per_template=1, code_per_package=1, logs_per_format=1, prose=2)
    )
    monkeypatch.setitem(sys.modules, "evaluation.secret_data", None)
    emails = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
    monkeypatch.setattr(
        maskgate,
        "detect",
        lambda text: [
            maskgate.Detection(*m.span(), "EMAIL_ADDRESS", 1.0, "stub") for m in emails.finditer(text)
        ],
    )
    reports = []
    for name in ("one", "two"):
        run.main(["--quick", "--split", "heldout", "--name", name])
        reports.append(json.loads((tmp_path / f"{name}.json").read_text()))
    printed = capsys.readouterr().out
    assert "secret_data.py is missing" in printed and "protection EMAIL_ADDRESS" in printed
    one, two = reports
    assert one["split"] == "heldout" and one["secrets"] is None
    assert one["pii"]["EMAIL_ADDRESS"]["protection"] == 1.0 and one["pii"]["PERSON"]["recall"] == 0.0
    assert {k: one[k] for k in ("pii", "clean", "aims")} == {k: two[k] for k in ("pii", "clean", "aims")}


def test_errors_are_listed_for_the_dev_split_only() -> None:
    with pytest.raises(SystemExit):
        run.main(["--split", "heldout", "--errors", "3"])
    sample = _pii("write to Ann Lee today", ("Ann Lee", "PERSON"))
    listing = run.error_listing([sample], {"s": [_at(sample.text, "today", "LOCATION")]}, 2)
    assert "PERSON  in pii: hand" in listing and "⟦Ann Lee⟧" in listing and "⟦today⟧" in listing
