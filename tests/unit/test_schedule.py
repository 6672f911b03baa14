"""Small analyses first: large ones wait at their checkpoints while a small one is queued or runs."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from maskgate.schedule import Lanes, beside, checkpoint

WAIT_S = 5.0


@pytest.fixture
def lanes():
    lanes = Lanes("test-lanes", deferrable_workers=1)
    yield lanes
    lanes.shutdown()


def _large(reached: threading.Event, steps: list[str]) -> None:
    """A deferrable task: one step of work, a checkpoint, another step."""
    steps.append("large: first step")
    reached.set()
    checkpoint()
    steps.append("large: second step")


def test_a_checkpoint_outside_a_deferrable_lane_returns_at_once(lanes):
    release = threading.Event()
    lanes.urgent.submit(release.wait, WAIT_S)
    other = threading.Thread(target=checkpoint)
    started = time.perf_counter()
    checkpoint()
    other.start()
    other.join(WAIT_S)
    release.set()
    assert not other.is_alive() and time.perf_counter() - started < 1


def test_a_large_task_waits_at_its_checkpoint_until_the_urgent_work_is_done(lanes):
    release, reached = threading.Event(), threading.Event()
    steps: list[str] = []

    def small() -> None:
        steps.append("small: started")
        release.wait(WAIT_S)
        steps.append("small: done")

    urgent = lanes.urgent.submit(small)
    large = lanes.deferrable.submit(_large, reached, steps)
    assert reached.wait(WAIT_S)
    time.sleep(0.1)
    assert steps == ["small: started", "large: first step"]
    release.set()
    urgent.result(WAIT_S)
    large.result(WAIT_S)
    assert steps[-2:] == ["small: done", "large: second step"]


def test_urgent_work_counts_from_submission_so_queued_work_holds_large_tasks_too(lanes):
    release, reached = threading.Event(), threading.Event()
    steps: list[str] = []
    busy = lanes.urgent.submit(release.wait, WAIT_S)
    queued = lanes.urgent.submit(steps.append, "small: queued one ran")
    large = lanes.deferrable.submit(_large, reached, steps)
    assert reached.wait(WAIT_S)
    time.sleep(0.1)
    assert steps == ["large: first step"]
    release.set()
    for future in (busy, queued, large):
        future.result(WAIT_S)
    assert steps == ["large: first step", "small: queued one ran", "large: second step"]


def test_without_urgent_work_large_tasks_pass_their_checkpoints(lanes):
    steps: list[str] = []
    lanes.deferrable.submit(_large, threading.Event(), steps).result(WAIT_S)
    assert steps == ["large: first step", "large: second step"]


def test_urgent_tasks_cancelled_at_shutdown_release_waiting_large_tasks():
    lanes = Lanes("test-lanes", deferrable_workers=1)
    release, reached = threading.Event(), threading.Event()
    steps: list[str] = []
    busy = lanes.urgent.submit(release.wait, WAIT_S)
    queued = lanes.urgent.submit(steps.append, "never")
    large = lanes.deferrable.submit(_large, reached, steps)
    assert reached.wait(WAIT_S)
    lanes.shutdown()
    assert queued.cancelled()
    release.set()
    busy.result(WAIT_S)
    large.result(WAIT_S)
    assert steps == ["large: first step", "large: second step"]


def test_a_refused_submission_is_not_counted_as_urgent_work():
    lanes = Lanes("test-lanes", deferrable_workers=1)
    lanes.urgent.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        lanes.urgent.submit(print)
    steps: list[str] = []
    done: Future[None] = lanes.deferrable.submit(_large, threading.Event(), steps)
    done.result(WAIT_S)
    assert steps == ["large: first step", "large: second step"]
    lanes.shutdown()


def _where(calls: list[str], value: int) -> int:
    calls.append(threading.current_thread().name)
    return value * 2


def test_work_beside_runs_on_a_second_thread_at_once(lanes):
    calls: list[str] = []
    result = beside(_where, calls, 21)
    deadline = time.perf_counter() + WAIT_S
    while not calls and time.perf_counter() < deadline:
        time.sleep(0.01)
    # Started without waiting for anyone to ask for the result.
    assert calls and calls[0].startswith("maskgate-beside")
    assert result() == 42 and len(calls) == 1


def test_work_beside_on_a_deferrable_lane_runs_when_asked_on_that_thread(lanes):
    calls: list[str] = []

    def deferrable() -> tuple[list[str], int, str]:
        result = beside(_where, calls, 21)
        before = list(calls)
        return before, result(), threading.current_thread().name

    before, value, lane_thread = lanes.deferrable.submit(deferrable).result(WAIT_S)
    assert before == [] and value == 42 and calls == [lane_thread]
