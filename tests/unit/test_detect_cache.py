"""The detection cache: hits, bounds, one cache per policy, concurrent use, no text kept."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import spacy
import yaml

from maskgate.detect.cache import DetectionCache
from maskgate.detect.engine import Detector
from maskgate.detect.types import Detection
from maskgate.policy import DEFAULT_RULES, Policy, parse_policy


def detection(start: int) -> Detection:
    return Detection(start, start + 1, "PERSON", 0.85, "presidio")


class Counting:
    """An analysis that finds one detection per text and counts its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[Detection]:
        with self._lock:
            self.calls.append(text)
        return [detection(len(text))]


def test_a_hit_returns_the_same_detections_without_analysing_again():
    cache, analyse = DetectionCache(), Counting()
    first = cache.get("Jane Roe wrote", analyse)
    assert cache.get("Jane Roe wrote", analyse) == first == (detection(14),)
    assert analyse.calls == ["Jane Roe wrote"]
    cache.get("Jane Roe wrote!", analyse)
    assert analyse.calls == ["Jane Roe wrote", "Jane Roe wrote!"]


def test_least_recently_used_entries_go_first_when_entries_are_full():
    cache, analyse = DetectionCache(max_entries=2), Counting()
    cache.get("a", analyse)
    cache.get("bb", analyse)
    cache.get("a", analyse)  # "a" is now the most recently used
    cache.get("ccc", analyse)  # evicts "bb"
    assert len(cache) == 2
    cache.get("a", analyse)
    cache.get("bb", analyse)
    assert analyse.calls == ["a", "bb", "ccc", "bb"]


def test_total_text_length_is_bounded():
    cache, analyse = DetectionCache(max_chars=10), Counting()
    for text in ("aaaa", "bbbb", "cccc"):
        cache.get(text, analyse)
    assert (len(cache), cache.chars) == (2, 8)
    cache.get("x" * 11, analyse)  # longer than the whole cache: analysed, never stored
    assert (len(cache), cache.chars) == (2, 8)
    cache.get("x" * 11, analyse)
    assert analyse.calls.count("x" * 11) == 2


def test_the_cache_holds_keyed_digests_and_detections_never_text():
    text = "Margaret Thornton, margaret.thornton@example.org"
    cache, other = DetectionCache(), DetectionCache()
    cache.get(text, Counting())
    other.get(text, Counting())
    [(key, (detections, length))] = cache._entries.items()
    [(other_key, _)] = other._entries.items()
    assert isinstance(key, bytes) and len(key) == 16
    assert text.encode() not in key and b"Margaret" not in key
    # Keyed with a secret of each cache: the digest of a guessed text is worth nothing elsewhere.
    assert key != other_key
    assert all(type(d) is Detection for d in detections) and length == len(text)


def test_text_that_is_not_valid_unicode_is_cached_too():
    cache, analyse = DetectionCache(), Counting()
    cache.get("broken \ud800 surrogate", analyse)
    cache.get("broken \ud800 surrogate", analyse)
    assert len(analyse.calls) == 1


def test_concurrent_use_keeps_the_bounds_and_returns_each_texts_own_detections():
    cache, analyse = DetectionCache(max_entries=50, max_chars=2_000), Counting()
    texts = [f"text {i} " + "x" * (i % 40) for i in range(200)]
    calls = [random.Random(seed).choice(texts) for seed in range(5_000)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda text: (text, cache.get(text, analyse)), calls))
    assert all(found == (detection(len(text)),) for text, found in results)
    assert len(cache) <= 50
    assert cache.chars == sum(length for _, length in cache._entries.values()) <= 2_000


def _policy(allow: list[dict]) -> Policy:
    raw = yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))
    raw["allow"] = allow
    return parse_policy(raw, "test.yaml")


@pytest.fixture(scope="module")
def blank_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("blank-en")
    spacy.blank("en").to_disk(path)
    return str(path)


def test_each_policy_has_its_own_cache(blank_model):
    """Rules are replaced by building a new detector: results found under the old rules are
    never served under the new ones."""
    text = "Write to jane.roe@example.com today."
    strict = Detector(_policy([]), spacy_model=blank_model)
    allowing = Detector(_policy([{"value": "jane.roe@example.com"}]), spacy_model=blank_model)
    assert [d.entity_type for d in strict.detect(text)] == ["EMAIL_ADDRESS"]
    assert allowing.detect(text) == []
    assert [d.entity_type for d in strict.detect(text)] == ["EMAIL_ADDRESS"]


def test_detector_analyses_a_text_once_and_hands_out_copies(blank_model, monkeypatch):
    detector = Detector(_policy([]), spacy_model=blank_model)
    analyse = Counting()
    monkeypatch.setattr(detector, "_analyse", analyse)
    first = detector.detect("Mail jane.roe@example.com")
    first.clear()
    assert detector.detect("Mail jane.roe@example.com") == [detection(25)]
    assert analyse.calls == ["Mail jane.roe@example.com"]
