"""Where detection time goes, and what a chat turn costs, in this process.

Prints medians (never asserts: timings depend on the machine and its load) for:
- `Detector.detect` on fresh 2 KB and 100 KB texts, prose with personal data and code
  (each repetition uses a text never seen before, so a cache cannot answer);
- a breakdown of one analysis into its stages: each spaCy component, each Presidio
  recognizer, context enhancement, detect-secrets plugins and the secret patterns;
- a conversation through `mask_chat_request`: 100 KB of history, then one new 1 KB
  message per turn, the whole history resent each time as clients do; then again with the
  model's 0.5 KB answer added before each new message, as new text too.

Run from the repository root: ``.venv/bin/python bench/profile_detect.py [--cprofile]``. To
measure other code, put its ``addon`` directory first: ``PYTHONPATH=/elsewhere/addon``.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from presidio_analyzer import RecognizerResult  # noqa: E402
from tests.unit.detect_texts import code, prose  # noqa: E402

from maskgate.detect.context import ContextEnhancer  # noqa: E402
from maskgate.detect.engine import Detector  # noqa: E402
from maskgate.openai.chat import mask_chat_request  # noqa: E402
from maskgate.policy import load_policy  # noqa: E402

KB = 1024
Timings = list[float]


def median_ms(timings: Timings) -> float:
    return statistics.median(timings) * 1000


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown CPU"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{platform.python_version()} on {cpu}, {os.cpu_count()} cores, load average {load}"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def cold_latency(detector: Detector, repeat: int) -> None:
    """`detect` on texts it has never seen: the cost of a first analysis."""
    print("\ncold detect (a new text each time), median ms")
    for size, count in ((2 * KB, repeat), (100 * KB, max(3, repeat // 5))):
        for kind, make in (("prose", prose), ("code", code)):
            texts = [make(size, f"cold-{kind}-{size}-{i}") for i in range(count)]
            timings = [timed(lambda t=t: detector.detect(t)) for t in texts]
            print(f"  {kind:5} {size // KB:4} KB  {median_ms(timings):8.1f}  (n={count})")


def stages(detector: Detector, text: str, repeat: int) -> dict[str, float]:
    """Median time of each stage of one analysis of `text`, run stage by stage."""
    engine = detector._pii._engine
    nlp = engine.nlp["en"]
    found: dict[str, Timings] = {}

    def add(name: str, seconds: float) -> None:
        found.setdefault(name, []).append(seconds)

    entities = detector._pii._entities
    recognizers = detector._pii.recognizers
    enhancer = ContextEnhancer()
    plugins = detector._secrets._plugin_detections
    for _ in range(repeat):
        start = time.perf_counter()
        doc = nlp.make_doc(text)
        add("spacy: tokenizer", time.perf_counter() - start)
        for name, pipe in nlp.pipeline:
            start = time.perf_counter()
            doc = pipe(doc)
            add(f"spacy: {name}", time.perf_counter() - start)
        start = time.perf_counter()
        artifacts = engine.artifacts(doc)
        add("presidio: nlp artifacts", time.perf_counter() - start)
        raw = []
        for recognizer in recognizers:
            start = time.perf_counter()
            results = recognizer.analyze(text=text, entities=entities, nlp_artifacts=artifacts)
            add(f"recognizer: {recognizer.name}", time.perf_counter() - start)
            for r in results or ():
                r.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id)
            raw += results or []
        start = time.perf_counter()
        enhancer.enhance_using_context(text, raw, artifacts, recognizers)
        add("presidio: context enhancement", time.perf_counter() - start)
        add("secrets: detect-secrets plugins", timed(lambda: list(plugins(text))))
        add("secrets: all", timed(lambda: detector._secrets.detect(text)))
        add("whole: Detector.detect (uncached)", timed(lambda: _uncached(detector, text)))
    return {name: median_ms(t) for name, t in found.items()}


def _uncached(detector: Detector, text: str) -> object:
    """One full analysis, bypassing any result cache the detector keeps."""
    analyse = getattr(detector, "_analyse", None)
    return analyse(text) if analyse else detector.detect(text)


def breakdown(detector: Detector, repeat: int) -> None:
    for label, text in (
        ("prose 2 KB", prose(2 * KB, "stages")),
        ("code 2 KB", code(2 * KB, "stages")),
        ("prose 100 KB", prose(100 * KB, "stages")),
    ):
        count = repeat if len(text) < 10 * KB else max(3, repeat // 5)
        print(f"\nstages of one analysis, {label}, median ms (n={count})")
        for name, ms in stages(detector, text, count).items():
            print(f"  {name:45} {ms:8.2f}")


def conversation(turns: int, answers: bool) -> None:
    """Turn after turn, the whole history plus one new 1 KB message goes through masking (and,
    with `answers`, the model's 0.5 KB answer to the previous turn, which is new text too)."""
    label = "+1 KB message and a 0.5 KB answer" if answers else "+1 KB message"
    print(f"\nconversation: 100 KB history, {label} per turn, {turns} turns, fresh detector")
    detector = Detector(load_policy())
    detector.warm_up()
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful assistant."}]
    i = 0
    while sum(len(m["content"]) for m in messages) < 100 * KB:
        role = "user" if i % 2 == 0 else "assistant"
        make = prose if i % 3 else code
        messages.append({"role": role, "content": make(KB, f"history-{i}")})
        i += 1
    timings = []
    for turn in range(turns):
        if answers and turn:
            messages.append({"role": "assistant", "content": prose(KB // 2, f"answer-{turn}")})
        messages.append({"role": "user", "content": prose(KB, f"turn-{turn}")})
        body = {"model": "gpt-4o-mini", "messages": copy.deepcopy(messages)}
        timings.append(timed(lambda b=body: mask_chat_request(b, detector.detect, detector.action_for)))
    print(f"  first turn (history unseen)      {timings[0] * 1000:8.1f} ms")
    print(f"  later turns, median              {median_ms(timings[1:]):8.1f} ms")
    print(f"  later turns, max                 {max(timings[1:]) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="repetitions of small measurements")
    parser.add_argument("--turns", type=int, default=12, help="conversation turns")
    parser.add_argument("--cprofile", action="store_true", help="also print the top functions of 2 KB runs")
    args = parser.parse_args()
    print(machine())
    start = time.perf_counter()
    detector = Detector(load_policy())
    detector.warm_up()
    build = time.perf_counter() - start
    print(f"Detector build + warm-up: {build:.2f} s")
    cold_latency(detector, args.repeat)
    breakdown(detector, args.repeat)
    conversation(args.turns, answers=False)
    conversation(args.turns, answers=True)
    if args.cprofile:
        for label, make in (("prose", prose), ("code", code)):
            profile = cProfile.Profile()
            texts = [make(2 * KB, f"profile-{label}-{i}") for i in range(args.repeat)]
            profile.runcall(lambda texts=texts: [detector.detect(t) for t in texts])
            print(f"\ncProfile, {args.repeat} x 2 KB {label}, by own time")
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
