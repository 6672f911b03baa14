"""Sections 1 and 2: masking in process, against plain Presidio on the same texts in the same run.

maskgate's path is what the addon does with a guarded body: parse the JSON, `mask_chat_request`
with the shipped rules' detector, encode the masked body. The baseline is Presidio's
`AnalyzerEngine` as its documentation sets it up (default recognizers, default spaCy pipeline of
en_core_web_md, every entity type) analysing each message text of the same body. Both run in this
process, one after the other, alternating which goes first so that drift in the machine's load
hits both alike.

What is cached: section 1 builds every body from a new seed, so neither maskgate nor Presidio has
met any of its texts before. Section 2 resends a growing history turn after turn, exactly as a
client does; only its new message and the previous answer are new on each turn. Whatever the
detector keeps between calls shows there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import presidio_analyzer
import yaml
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

from bench import texts
from bench.report import AIMS, ms
from maskgate.detect.engine import Detector
from maskgate.detect.pii import resolve_spacy_model, use_bundled_suffix_list
from maskgate.mask import masked_any
from maskgate.openai import chat
from maskgate.openai.jsonbody import encode_json
from maskgate.policy import DEFAULT_RULES, load_policy

KB = texts.KB
BASELINE_MODEL = "en_core_web_md"
KINDS = ("prose", "code")
HISTORY_KB = 100
WARM_UP_BODY_KB = 2
WORKER_START_S = 60

Analyze = Callable[[str], object]


@dataclass(frozen=True)
class Engines:
    """maskgate's detector and the baseline analyzer, both loaded and warmed up."""

    detector: Detector
    baseline: Analyze
    build_s: dict[str, float]


def load_engines() -> Engines:
    """Build both engines, timing each, and run each once so no lazy loading is timed later."""
    started = time.perf_counter()
    # As the proxy runs it: the words-only half in a second process, used once it is ready.
    detector = Detector(load_policy(DEFAULT_RULES), worker=True)
    detector.warm_up()
    detector_s = time.perf_counter() - started
    if not detector.worker_ready(WORKER_START_S):
        raise RuntimeError(f"maskgate's words worker was not ready after {WORKER_START_S} s")
    worker_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline = presidio_default()
    baseline_s = time.perf_counter() - started
    warm_up = texts.sized_body("prose", WARM_UP_BODY_KB * KB, "warm-up")
    mask_seconds(detector, texts.encode(warm_up))
    baseline_seconds(baseline, warm_up)
    build_s = {
        "maskgate": round(detector_s, 2),
        "maskgate_worker_ready": round(worker_s, 2),
        "presidio": round(baseline_s, 2),
    }
    return Engines(detector, baseline, build_s)


def presidio_default() -> Analyze:
    """Presidio's analyzer in its documented default set-up, with en_core_web_md for spaCy.

    The model is the pinned re-upload maskgate installs (Presidio would try to download a model
    it cannot find by name), and the public suffix list is tldextract's bundled one, as in
    maskgate: neither engine may wait on the network.
    """
    use_bundled_suffix_list()
    defaults = presidio_analyzer.__path__[0] + "/conf/default.yaml"
    with open(defaults) as f:
        configuration = yaml.safe_load(f)
    for model in configuration["models"]:
        model["model_name"] = resolve_spacy_model(BASELINE_MODEL)
    # Presidio warns about every recognizer of another language it skips: expected noise.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    analyzer = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=configuration).create_engine())
    return lambda text: analyzer.analyze(text=text, language="en")


def mask_seconds(detector: Detector, raw: bytes) -> float:
    """The addon's work on one guarded body: parse, detect and mask, encode."""
    started = time.perf_counter()
    body = json.loads(raw)
    _, findings = chat.mask_chat_request(body, detector.detect, detector.action_for)
    if masked_any(findings):
        encode_json(body)
    return time.perf_counter() - started


def baseline_seconds(analyze: Analyze, body: dict[str, Any]) -> float:
    """Plain Presidio over each message text of `body`."""
    started = time.perf_counter()
    for content in texts.contents(body):
        analyze(content)
    return time.perf_counter() - started


def by_size(engines: Engines, runs: dict[int, int]) -> dict[str, Any]:
    """Section 1: `runs[size_kb]` new bodies of each kind and size, each timed with both engines."""
    rows = []
    for kind in KINDS:
        for size_kb, count in runs.items():
            maskgate, presidio = [], []
            body: dict[str, Any] = {}
            for run in range(count):
                body = texts.sized_body(kind, size_kb * KB, f"by-size:{size_kb}:{run}")
                raw = texts.encode(body)
                if run % 2:
                    presidio.append(baseline_seconds(engines.baseline, body))
                    maskgate.append(mask_seconds(engines.detector, raw))
                else:
                    maskgate.append(mask_seconds(engines.detector, raw))
                    presidio.append(baseline_seconds(engines.baseline, body))
            rows.append(_size_row(kind, size_kb, body, maskgate, presidio))
    return {"rows": rows, "aims": _size_aims(rows)}


def _size_row(
    kind: str, size_kb: int, body: dict[str, Any], maskgate: list[float], presidio: list[float]
) -> dict[str, Any]:
    ours, theirs = ms(maskgate), ms(presidio)
    return {
        "kind": kind,
        "size_kb": size_kb,
        "body_bytes": len(texts.encode(body)),
        "messages": len(body["messages"]),
        "maskgate": ours,
        "presidio": theirs,
        "speedup": round(theirs["median_ms"] / ours["median_ms"], 2),
    }


def _size_aims(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The 2 KB and 100 KB medians against their aims, for each kind of text."""
    aims = {}
    for row in rows:
        name = {2: "turn_2kb", 100: "cold_100kb"}.get(row["size_kb"])
        if name:
            aims[f"{name}_{row['kind']}"] = AIMS[name].check(row["maskgate"]["median_ms"])
    return aims


def conversation(engines: Engines, turns: int, history_kb: int = HISTORY_KB) -> dict[str, Any]:
    """Section 2: every turn of `turn_bodies` through maskgate; Presidio analyses the first and
    the last turn's bodies whole, as an addon without memory of earlier turns would.

    Then the conversation goes on as often again with other messages, each previous answer
    analysed before the turn that resends it is timed, as it could be while the user reads it:
    what a turn costs when only the user's message is new."""
    samples, baseline = [], {}
    for turn, body in enumerate(turn_bodies(turns, history_kb), start=1):
        raw = texts.encode(body)
        samples.append({"turn": turn, "body_bytes": len(raw), "seconds": mask_seconds(engines.detector, raw)})
        if turn in (1, turns):
            baseline[turn] = baseline_seconds(engines.baseline, body)
    answer_known = []
    for turn, body in enumerate(turn_bodies(turns, history_kb, "conversation:later"), start=1):
        engines.detector.detect(body["messages"][-2]["content"])
        seconds = mask_seconds(engines.detector, texts.encode(body))
        if turn > 1:  # the first one meets the other conversation's last turns
            answer_known.append(seconds)
    return _conversation_report(samples, baseline, answer_known)


def turn_bodies(turns: int, history_kb: int, seed: str = "conversation") -> Iterator[dict[str, Any]]:
    """A conversation's requests: a `history_kb` history, then a new 1 KB user message per turn.

    Each turn's body is the previous turn's messages plus the previous answer and a new user
    message, as a client resends it; the answer is new text, as the client received it (with
    the originals back in place). The history is the same for every `seed`; messages and
    answers differ.
    """
    history = texts.sized_body("mixed", history_kb * KB, "conversation", last_role="assistant")["messages"]
    for turn in range(1, turns + 1):
        message = {"role": "user", "content": texts.text("prose", KB, f"{seed}:user:{turn}")}
        yield {"model": texts.MODEL, "stream": False, "messages": [*history, message]}
        answer = texts.text("prose", KB, f"{seed}:answer:{turn}")
        history += [message, {"role": "assistant", "content": answer}]


def _conversation_report(
    samples: list[dict[str, Any]], baseline: dict[int, float], answer_known: list[float]
) -> dict[str, Any]:
    first, last = samples[0], samples[-1]
    warm = [s["seconds"] for s in samples[1:]]
    cold_ms = round(first["seconds"] * 1000, 1)
    report: dict[str, Any] = {
        "turns": [{**s, "seconds": round(s["seconds"], 4)} for s in samples],
        "cold": {"body_bytes": first["body_bytes"], "ms": cold_ms},
        "warm": ms(warm) if warm else None,
        "warm_answer_known": ms(answer_known) if answer_known else None,
        "presidio": {
            "first_turn_ms": round(baseline[first["turn"]] * 1000, 1),
            "last_turn_ms": round(baseline[last["turn"]] * 1000, 1),
        },
        "speedup": {
            "first_turn": round(baseline[first["turn"]] / first["seconds"], 2),
            "last_turn": round(baseline[last["turn"]] / last["seconds"], 2),
        },
        "aims": {"cold_100kb_conversation": AIMS["cold_100kb"].check(cold_ms)},
    }
    if warm:
        # The proxy analyses each answer once restored, before the turn that resends it.
        turn = report["warm_answer_known"] or report["warm"]
        report["aims"]["turn_on_history"] = AIMS["turn_on_history"].check(turn["median_ms"])
    return report
