"""The words-only half of analyses in a second process: same findings, and nothing lost when the
worker is busy, fails, dies or is gone."""

from __future__ import annotations

import gc
import logging
import os
import signal

import pytest

from maskgate.detect import worker as worker_module
from maskgate.detect.engine import Detector
from maskgate.detect.pii import MAX_CHUNK, WordsModel, chunks
from maskgate.detect.worker import WordsFound, WordsWorker
from maskgate.policy import load_policy

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


@pytest.fixture
def worker(detector, here_counted, monkeypatch):
    """A worker for the shared detector, serving it; in-process calls of the words half are
    counted in the list it comes with."""
    counted, calls = here_counted
    words = detector._pii.words_model()
    assert words is not None, "the shipped model's words can be read without its components"
    started = WordsWorker(detector._policy, words, counted)
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


def test_a_text_the_worker_fails_on_is_analysed_here(detector):
    done_here = WordsFound([], [])
    started = WordsWorker(load_policy(), detector._pii.words_model(), lambda text: done_here)
    try:
        assert started.ready(READY_S)
        # Bytes are no text: the worker's analysis fails, and this process is asked instead.
        pending = started.submit(b"not text")  # type: ignore[arg-type]
        assert pending is not None and pending() is done_here
        found = started.submit("Write to anna.k@example.org")
        assert found is not None and found() is not done_here
    finally:
        started.close()


def test_a_worker_dying_mid_analysis_costs_nothing_and_is_started_again(detector, worker, caplog):
    started, here = worker
    first = started._process.pid
    pending = started.submit(TEXTS[0])
    assert pending is not None
    os.kill(first, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger="maskgate"):
        assert pending() == detector._words_here(TEXTS[0])
    assert here[0] == TEXTS[0]
    assert "the words worker exited (code -9); starting it again" in caplog.text
    assert started.ready(READY_S) and started._process.pid != first
    here.clear()
    assert detector._analyse(TEXTS[1]) == _in_process(detector, TEXTS[1])
    assert here == [TEXTS[1]]


def test_a_worker_that_keeps_dying_is_given_up(detector, worker, monkeypatch, caplog):
    started, here = worker
    monkeypatch.setattr(worker_module, "MAX_STARTS", 2)
    pending = started.submit(TEXTS[0])
    started._process.kill()
    assert pending is not None and pending() is not None
    assert started.ready(READY_S)
    pending = started.submit(TEXTS[0])
    started._process.kill()
    with caplog.at_level(logging.WARNING, logger="maskgate"):
        assert pending is not None and pending() is not None
    assert "analysing in this process" in caplog.text
    assert started.submit(TEXTS[1]) is None and not started.ready(0)
    here.clear()
    assert detector._analyse(TEXTS[1]) == _in_process(detector, TEXTS[1])
    assert here == [TEXTS[1], TEXTS[1]]


def test_a_worker_that_cannot_start_says_why_and_is_not_started_again(tmp_path, caplog):
    broken = WordsModel(str(tmp_path / "no-model"), (), b"")
    started = WordsWorker(load_policy(), broken, lambda text: WordsFound([], []))
    try:
        process = started._process
        assert process is not None
        process.wait(READY_S)
        with caplog.at_level(logging.WARNING, logger="maskgate"):
            assert not started.ready(READY_S)
        assert "the words worker did not start (OSError" in caplog.text
        assert started._process is None and started.submit("Anna") is None
    finally:
        started.close()


def test_the_worker_stops_by_itself_when_the_proxys_end_closes(detector):
    started = WordsWorker(load_policy(), detector._pii.words_model(), lambda text: WordsFound([], []))
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


def test_a_detector_asked_for_no_worker_has_none(detector):
    assert not detector.worker_ready(0)
