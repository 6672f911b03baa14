"""The words-only half of analyses in a second process: same findings, and nothing lost when the
worker is busy, fails, dies or is gone."""

from __future__ import annotations

import gc
import logging
import os
import signal

import pytest
import yaml

from maskgate.detect import engine as engine_module
from maskgate.detect import worker as worker_module
from maskgate.detect.engine import Detector
from maskgate.detect.pii import MAX_CHUNK, chunks, resolve_spacy_model
from maskgate.detect.worker import WordsFound, WordsWorker
from maskgate.policy import DEFAULT_RULES, PolicyError, load_policy, parse_policy

from .detect_texts import code, prose

READY_S = 60

TEXTS = [
    *(prose(size, f"worker-prose-{size}") for size in (300, 2_000, 20_000)),
    *(code(size, f"worker-code-{size}") for size in (300, 2_000, 20_000)),
    "Anna Kowalski (anna.k@example.org, +48 512 345 678) lives at 12 Baker Street, London NW1 6XE.",
    "export OPENAI_API_KEY=sk-proj-Q7xV9pL2mN4bR8tY1wE6aZ3c and ask Jane Doe in Lyon",
]


@pytest.fixture(scope="module")
def here_counted(detector):
    """The shared detector's in-process words half, counting its calls."""
    calls: list[str] = []
    here = detector._words_here

    def counted(text: str) -> WordsFound:
        calls.append(text)
        return here(text)

    return counted, calls


def _started(detector) -> WordsWorker:
    """A worker for the shared detector's rules and model."""
    return WordsWorker(detector._policy, resolve_spacy_model(detector._policy.pii.spacy_model))


@pytest.fixture
def worker(detector, here_counted, monkeypatch):
    """A worker serving the shared detector; in-process calls of the words half are counted in
    the list it comes with."""
    counted, calls = here_counted
    started = _started(detector)
    assert started.ready(READY_S)
    monkeypatch.setattr(detector, "_worker", started)
    monkeypatch.setattr(detector, "_words_here", counted)
    calls.clear()
    yield started, calls
    started.close()


def _in_process(detector, text):
    worker, detector._worker = detector._worker, None
    try:
        return detector._analyse(text)
    finally:
        detector._worker = worker


def test_the_worker_finds_what_this_process_finds(detector, worker):
    _, here = worker
    for text in TEXTS:
        assert detector._analyse(text) == _in_process(detector, text)
    # Half of the calls are the in-process runs compared with.
    assert len(here) == len(TEXTS)
    assert any(detector._analyse(text) for text in TEXTS)


def test_a_text_longer_than_a_piece_is_found_alike(detector, worker):
    text = prose(MAX_CHUNK + 20_000, "worker-pieces")
    assert len(list(chunks(text, MAX_CHUNK))) == 2
    _, here = worker
    assert detector._analyse(text) == _in_process(detector, text)
    assert len(here) == 1


def test_a_busy_worker_leaves_the_work_to_this_process(detector, worker):
    started, here = worker
    pending = started.submit(TEXTS[0])
    assert pending is not None and started.submit(TEXTS[1]) is None
    assert detector._analyse(TEXTS[1]) == _in_process(detector, TEXTS[1])
    assert here == [TEXTS[1], TEXTS[1]]
    assert pending() == detector._words_here(TEXTS[0])
    # Once its answer was read, the worker serves again.
    assert started.submit(TEXTS[1]) is not None


def test_a_text_the_worker_fails_on_gets_no_answer(detector):
    started = _started(detector)
    try:
        assert started.ready(READY_S)
        # Bytes are no text: the worker's analysis fails, and the caller does the work itself.
        pending = started.submit(b"not text")  # type: ignore[arg-type]
        assert pending is not None and pending() is None
        found = started.submit("Write to anna.k@example.org")
        assert found is not None and found() is not None
    finally:
        started.close()


def test_a_worker_dying_mid_analysis_costs_nothing_and_is_started_again(detector, worker, caplog):
    started, here = worker
    first = started._process.pid
    pending = started.submit(TEXTS[0])
    assert pending is not None
    os.kill(first, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger="maskgate"):
        assert pending() is None
    assert "the words worker exited (code -9); starting it again" in caplog.text
    assert started.ready(READY_S) and started._process.pid != first
    assert detector._analyse(TEXTS[1]) == _in_process(detector, TEXTS[1])
    assert here == [TEXTS[1]]


def test_an_analysis_the_worker_died_during_is_done_here(detector, worker):
    started, here = worker
    pending = detector._words_beside(TEXTS[0])
    started._process.kill()
    assert pending() == detector._words_here(TEXTS[0])
    assert here == [TEXTS[0], TEXTS[0]]


def test_a_silent_worker_is_stopped_and_the_text_done_here(detector, worker, monkeypatch, caplog):
    started, here = worker
    monkeypatch.setattr(worker_module, "ANSWER_TIMEOUT_S", 0.5)
    hung = started._process.pid
    # Stopped, not dead: the pipe stays open, and no answer comes.
    os.kill(hung, signal.SIGSTOP)
    with caplog.at_level(logging.WARNING, logger="maskgate"):
        assert detector._analyse(TEXTS[1]) == _in_process(detector, TEXTS[1])
    assert "the words worker gave no answer in 0.5 s; stopping it" in caplog.text
    assert "the words worker exited (code -9); starting it again" in caplog.text
    assert here == [TEXTS[1], TEXTS[1]]
    assert started.ready(READY_S) and started._process.pid != hung


def test_a_worker_that_keeps_dying_is_given_up(detector, worker, monkeypatch, caplog):
    started, here = worker
    monkeypatch.setattr(worker_module, "MAX_STARTS", 2)
    pending = started.submit(TEXTS[0])
    started._process.kill()
    assert pending is not None and pending() is None
    assert started.ready(READY_S)
    pending = started.submit(TEXTS[0])
    started._process.kill()
    with caplog.at_level(logging.WARNING, logger="maskgate"):
        assert pending is not None and pending() is None
    assert "analysing in this process" in caplog.text
    assert started.submit(TEXTS[1]) is None and not started.ready(0)
    assert detector._analyse(TEXTS[1]) == _in_process(detector, TEXTS[1])
    assert here == [TEXTS[1], TEXTS[1]]


def test_a_worker_that_cannot_start_says_why_and_is_not_started_again(detector, tmp_path, caplog):
    started = WordsWorker(detector._policy, str(tmp_path / "no-model"))
    try:
        process = started._process
        assert process is not None
        process.wait(READY_S)
        with caplog.at_level(logging.WARNING, logger="maskgate"):
            assert not started.ready(READY_S)
        assert "the words worker did not start (SpacyModelNotFound: " in caplog.text
        assert started._process is None and started.submit("Anna") is None
    finally:
        started.close()


def test_the_worker_stops_by_itself_when_the_proxys_end_closes(detector):
    started = _started(detector)
    process = started._process
    assert process is not None and started.ready(READY_S)
    # As when the proxy is killed: its end of the pipe closes, and nothing else is said.
    started._pipe.close()
    assert process.wait(READY_S) == 0
    started.close()


def test_closing_stops_the_worker_and_analysis_goes_on_here(detector, worker):
    started, here = worker
    process = started._process
    started.close()
    assert process.poll() is not None
    assert started.submit(TEXTS[0]) is None
    assert detector._analyse(TEXTS[0]) == _in_process(detector, TEXTS[0])
    assert here == [TEXTS[0], TEXTS[0]]


@pytest.mark.slow
def test_a_detector_that_goes_stops_its_worker():
    built = Detector(load_policy(), worker=True)
    assert built.worker_ready(READY_S)
    process = built._worker._process
    del built
    gc.collect()
    # Its end of the pipe closed, then it was told to stop: either ends it.
    assert process.wait(READY_S) in (0, -signal.SIGTERM)


@pytest.mark.slow
def test_a_detector_that_fails_to_build_stops_its_worker(monkeypatch):
    started = []

    class Recorded(WordsWorker):
        def __init__(self, *args):
            super().__init__(*args)
            started.append(self)

    monkeypatch.setattr(engine_module, "WordsWorker", Recorded)
    raw = yaml.safe_load(DEFAULT_RULES.read_text())
    raw["pii"]["language"] = "de"
    german = parse_policy(raw, "german.yaml")
    with pytest.raises(PolicyError, match=r"pii\.language"):
        Detector(german, worker=True)
    [worker] = started
    assert worker._process is None and worker._closed


def test_a_detector_asked_for_no_worker_has_none(detector):
    assert not detector.worker_ready(0)
