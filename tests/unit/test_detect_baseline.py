"""Work on speed never changes what is detected: the detector finds exactly what it found when
the baseline was recorded.

`detect_baseline.json` holds the detections (offsets, type, score to three places, engine,
recognizer, secret or not) of the default `Detector` for a fixed corpus: the texts of the
detection tests, every string of the end-to-end corpus, and generated prose, code and
context-word sentences. It was first recorded with Presidio's full spaCy pipeline and its own
context enhancement, and recorded again when names, places and national phone numbers were
added (each difference then was a span found anew or credited to a better recognizer, none
lost) and when false alarms in logs and code were cut (one-word "names" in small letters and a
shell command dropped, names cut at a spaced dash or a small-letter word before them). The
texts are rebuilt here rather than stored, so the repository holds no secret in a form a
scanner would report; their digests are stored, so a changed source text is reported as such
and not as a changed detection.

`RAISED_SCORES` lists the differences of today's detector, each explained. Record again only
when a change of detections is intended and explained:
``.venv/bin/python -m tests.unit.test_detect_baseline``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from maskgate.detect.engine import Detector
from maskgate.detect.types import Detection
from tests.e2e.corpus import CORPUS
from tests.unit import test_detect_engine, test_detect_pii, test_detect_secrets
from tests.unit.detect_texts import code, context_sentences, prose

BASELINE = Path(__file__).with_name("detect_baseline.json")

Row = list[Any]


def corpus() -> Iterator[tuple[str, str]]:
    """(id, text) pairs of the fixed corpus, in a stable order."""
    for i, (_, sentence, value) in enumerate(test_detect_pii.SENTENCES):
        yield f"pii-sentence-{i}", sentence.format(value)
    for i, text in enumerate(test_detect_pii.ORDINARY_TEXT):
        yield f"ordinary-{i}", text
    for module in (test_detect_engine, test_detect_pii, test_detect_secrets):
        yield from _parametrized_texts(module)
    secrets = test_detect_secrets
    yield "pem", f"Here is my deploy key:\n{secrets.PEM}\nWhy does ssh reject it?"
    yield "pem-escaped", json.dumps({"private_key": secrets.PEM})
    yield "pem-two", f"{secrets.PEM}\n\n{secrets.PEM.replace('OPENSSH', 'RSA')}\n"
    yield "pem-cut", secrets.PEM.rsplit("\n", 2)[0] + "\nand then the paste was cut"
    yield "repeated", f"first {secrets.SENDGRID} then {secrets.SENDGRID}\nagain {secrets.OPENAI_PROJECT}"
    for i, fragment in enumerate(test_detect_secrets.ADVERSARIAL_FRAGMENTS):
        yield f"fragment-{i}", (fragment * (2000 // len(fragment) + 1))[:2000]
    for entry in CORPUS:
        for path, text in _strings(entry.body, ""):
            yield f"e2e-{entry.id}{path}", text
    for i, sentence in enumerate(context_sentences(240, "baseline")):
        yield f"context-{i}", sentence
    yield "context-block", "\n".join(context_sentences(120, "block"))
    for i in range(12):
        yield f"prose-2k-{i}", prose(2048, f"baseline-{i}")
        yield f"code-2k-{i}", code(2048, f"baseline-{i}")
    yield "prose-60k", prose(60 * 1024, "baseline-long")
    yield "code-30k", code(30 * 1024, "baseline-long")


def _parametrized_texts(module: ModuleType) -> Iterator[tuple[str, str]]:
    """The `text` argument of every parametrized test of `module`."""
    for name, function in sorted(vars(module).items()):
        for mark in getattr(function, "pytestmark", ()):
            if mark.name != "parametrize":
                continue
            argnames = mark.args[0]
            names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
            if "text" not in names:
                continue
            position = names.index("text")
            for i, values in enumerate(mark.args[1]):
                text = values if len(names) == 1 else values[position]
                yield f"{module.__name__.rsplit('.', 1)[-1]}.{name}-{i}", text


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def rows(detections: list[Detection]) -> list[Row]:
    return [
        [d.start, d.end, d.entity_type, round(d.score, 3), d.engine, d.recognizer, d.secret]
        for d in detections
    ]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def record(detector: Detector) -> dict[str, Any]:
    return {
        text_id: {"digest": digest(text), "detections": rows(detector.detect(text))}
        for text_id, text in corpus()
    }


RAISED_SCORES: dict[tuple[str, int, int], tuple[float, float]] = {}
"""None: the recording is today's detector's. (Against the first recording, phone numbers after
"called" or "telephoning" rose from 0.4 to 0.75: without spaCy's tagger the words themselves,
not the stop word "call", count as context.)"""


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    return json.loads(BASELINE.read_text(encoding="utf-8"))["texts"]


@pytest.fixture(scope="module")
def differences(detector, baseline) -> dict[tuple[str, int, int], tuple[Row | None, Row | None]]:
    """(text id, start, end) -> (recorded row, row found now) wherever the two differ."""
    found = {}
    for text_id, text in corpus():
        expected = {(text_id, row[0], row[1]): row for row in baseline[text_id]["detections"]}
        actual = {(text_id, row[0], row[1]): row for row in rows(detector.detect(text))}
        for span in expected.keys() | actual.keys():
            if expected.get(span) != actual.get(span):
                found[span] = (expected.get(span), actual.get(span))
    return found


def test_corpus_is_the_recorded_one(baseline):
    texts = dict(corpus())
    assert sorted(texts) == sorted(baseline)
    changed = [text_id for text_id, text in texts.items() if digest(text) != baseline[text_id]["digest"]]
    assert changed == []


def test_no_detection_is_lost_or_changes_type(differences):
    changed = {
        span: (old, new)
        for span, (old, new) in differences.items()
        if old is None or new is None or old[2:3] + old[4:] != new[2:3] + new[4:] or new[3] < old[3]
    }
    assert changed == {}


def test_only_the_known_scores_rise(differences):
    raised = {span: (old[3], new[3]) for span, (old, new) in differences.items() if old and new}
    assert raised == RAISED_SCORES


if __name__ == "__main__":
    import maskgate

    shared = maskgate.default_detector()
    shared.warm_up()
    # One text per line, so a re-recording shows as a readable diff.
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in record(shared).items()]
    BASELINE.write_text('{"texts": {\n' + ",\n".join(lines) + "\n}}\n", encoding="utf-8")
    sys.exit(0)
