"""The benchmark suite's own code: its texts, its conversation, its report, on tiny sizes.

Timings are never asserted; these tests prove that `make bench` measures what it says it
measures (new texts where nothing may be cached, a conversation resent as clients do) and that
its report holds the figures, the aims and the machine.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest
from bench import inprocess, proxy, report, run, texts

from maskgate.detect.engine import Detector


@pytest.fixture
def engines(detector: Detector) -> inprocess.Engines:
    """The shared detector, and a baseline that analyses nothing: loading a second spaCy
    pipeline would only cost time here."""
    return inprocess.Engines(detector, lambda text: [], {})


@pytest.mark.parametrize("kind", ["prose", "code", "mixed"])
@pytest.mark.parametrize("size", [1024, 2048, 10 * 1024])
def test_bodies_have_the_size_asked_for(kind: str, size: int) -> None:
    body = texts.sized_body(kind, size, "t")
    assert size - 16 <= len(texts.encode(body)) <= size
    assert body["messages"][-1]["role"] == "user"
    roles = [m["role"] for m in body["messages"]]
    assert all(a != b for a, b in itertools.pairwise(roles))


@pytest.mark.parametrize("kind", ["prose", "code", "mixed"])
def test_bodies_of_any_size_fit_it_with_text_in_every_message(kind: str) -> None:
    for size in range(150, 5000, 37):
        body = texts.sized_body(kind, size, size)
        assert size - 16 <= len(texts.encode(body)) <= size
        assert all(m["content"].strip() for m in body["messages"])


def test_texts_repeat_for_a_seed_and_differ_between_seeds() -> None:
    assert texts.sized_body("prose", 2048, 1) == texts.sized_body("prose", 2048, 1)
    bodies = [texts.sized_body("code", 2048, seed) for seed in range(5)]
    lines = [line for body in bodies for text in texts.contents(body) for line in text.splitlines()]
    # Not only whole texts but almost every line is new, so no cache of lines can hide the cost:
    # what repeats is short (code fences, a closing brace).
    assert len({json.dumps(b) for b in bodies}) == 5
    long_lines = [line for line in lines if len(line) > 20]
    assert len(long_lines) > 0.6 * len(lines)
    assert len(set(long_lines)) > 0.95 * len(long_lines)


def test_prose_carries_personal_data_that_maskgate_finds(detector: Detector) -> None:
    found = {d.entity_type for d in detector.detect(texts.text("prose", 2048, "pii"))}
    assert {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"} <= found


def test_each_turn_resends_the_last_one_with_its_answer_and_a_new_message() -> None:
    bodies = list(inprocess.turn_bodies(turns=3, history_kb=4))
    for before, after in itertools.pairwise(bodies):
        previous = before["messages"]
        assert after["messages"][: len(previous)] == previous
        answer, message = after["messages"][len(previous) :]
        assert answer["role"] == "assistant" and message["role"] == "user"
        assert 900 <= len(message["content"]) <= 1024
        assert message["content"] not in json.dumps(previous)
    assert bodies[0]["messages"][-2]["role"] == "assistant"


def test_by_size_times_maskgate_and_the_baseline_on_the_same_bodies(engines: inprocess.Engines) -> None:
    analysed: list[str] = []
    recording = inprocess.Engines(engines.detector, analysed.append, {})
    section = inprocess.by_size(recording, {1: 2, 2: 1})
    rows = {(r["kind"], r["size_kb"]): r for r in section["rows"]}
    assert set(rows) == {(k, s) for k in inprocess.KINDS for s in (1, 2)}
    assert rows["prose", 1]["maskgate"]["n"] == 2 and rows["prose", 2]["presidio"]["n"] == 1
    assert (
        len(analysed) == len(set(analysed)) == sum(r["messages"] * r["maskgate"]["n"] for r in rows.values())
    )
    aim = section["aims"]["turn_2kb_code"]
    assert aim["value"] == rows["code", 2]["maskgate"]["median_ms"] and aim["aim"] == "<= 15 ms"


def test_conversation_reports_the_cold_turn_apart(engines: inprocess.Engines) -> None:
    section = inprocess.conversation(engines, turns=3, history_kb=2)
    assert [t["turn"] for t in section["turns"]] == [1, 2, 3]
    assert section["cold"]["ms"] == round(section["turns"][0]["seconds"] * 1000, 1)
    assert section["warm"]["n"] == section["warm_answer_known"]["n"] == 2
    assert set(section["aims"]) == {"cold_100kb_conversation", "turn_on_history"}


def test_a_turn_with_its_answer_met_before_analyses_only_the_new_message(
    engines: inprocess.Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[str] = set()
    new_per_turn: list[int] = []
    detector = engines.detector

    class Counting:
        action_for = detector.action_for

        def detect(self, text: str) -> list:
            seen.add(text)
            return detector.detect(text)

    timed = inprocess.mask_seconds

    def counted(detector: Detector, raw: bytes) -> float:
        before = len(seen)
        seconds = timed(detector, raw)
        new_per_turn.append(len(seen) - before)
        return seconds

    monkeypatch.setattr(inprocess, "mask_seconds", counted)
    inprocess.conversation(inprocess.Engines(Counting(), engines.baseline, {}), turns=3, history_kb=2)
    # Turns 2 and 3 meet the previous answer and the new message; then, only the message.
    assert new_per_turn[1:] == [2, 2, 1, 1, 1]


def test_figures_and_aims() -> None:
    figures = report.ms([0.003, 0.001, 0.002])
    assert figures == {"n": 3, "median_ms": 2.0, "p90_ms": 2.8, "max_ms": 3.0}
    assert report.Aim(15, "ms").check(15.0) == {"value": 15.0, "aim": "<= 15 ms", "met": True}
    assert not report.Aim(15, "ms").check(15.1)["met"]
    text = report.table("T", ["a", "b"], [["x", 1.25], ["long name", 12345.0]], ["note"])
    assert text.splitlines() == ["T", "  a" + " " * 15 + "b", "  ---------  ------", "  x" + " " * 13 + "1.2",
                                 "  long name  12,345", "  note"]  # fmt: skip


def test_memory_counts_child_processes() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        memory = proxy.rss_mb(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert 0 < memory["process_mb"] < memory["with_children_mb"]


def test_run_prints_every_table_and_writes_the_report(
    engines: inprocess.Engines,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tiny = run.Profile({2: 1}, turns=2, rounds=1, small_requests=1, load_budget_s=1, requests=1, starts=1)
    monkeypatch.setattr(run, "QUICK", tiny)
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    monkeypatch.setattr(inprocess, "load_engines", lambda: engines)
    run.main(["--quick", "--sections", "1", "--name", "smoke"])
    out = capsys.readouterr().out
    assert "1. Masking in process by body size" in out and "turn_2kb_prose" in out
    saved = json.loads((tmp_path / "smoke.json").read_text())
    assert saved["machine"]["cores"] == os.cpu_count() and saved["machine"]["packages"]["spacy"]
    assert set(saved["aims"]) == {"turn_2kb_prose", "turn_2kb_code"}
    assert saved["sections"]["by_size"]["rows"][0]["maskgate"]["n"] == 1
