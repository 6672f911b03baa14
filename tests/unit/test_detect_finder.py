"""Finding detected values again: every guarded occurrence of every known value, each text's
remembered between requests and searched again only for values it was not searched for; masking
picks from them as a plain longest-first alternation of the values would; and no value is kept
in clear, in the cache or in `re`'s."""

from __future__ import annotations

import gc
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskgate.detect import occurrences as occurrences_module
from maskgate.detect.occurrences import FIND_VALUES, OccurrenceCache, occurrences
from maskgate.detect.secrets import occurrences as secret_occurrences
from maskgate.detect.types import Detection
from maskgate.mask import _non_overlapping, _Span
from maskgate.openai.chat import mask_chat_request
from maskgate.policy import Action

ALPHABET = "ab1_ -.@+é\n[]"
NOISE = st.one_of(st.text(ALPHABET, max_size=4), st.sampled_from(["x", "ab", "a-b", "1 1"]))
VALUES = st.sets(st.text(ALPHABET, min_size=1, max_size=6), min_size=1, max_size=12)
ANY = Detection(0, 1, "PERSON", 0.9, "presidio")


def built(values: set[str], pieces: list[str]) -> str:
    """A text of the values themselves and noise, so that values touch, overlap and nest."""
    ordered = sorted(values)
    return "".join(piece + (ordered[i % len(ordered)] if i % 2 else "") for i, piece in enumerate(pieces))


def guarded_everywhere(text: str, values: set[str]) -> set[tuple[int, int]]:
    """Every place a value occurs where it does not continue a word: tried at every offset."""
    word = re.compile(r"\w")
    return {
        (i, i + len(v))
        for v in values
        for i in range(len(text))
        if text.startswith(v, i)
        and not (word.match(v[0]) and i and word.match(text[i - 1]))
        and not (word.match(v[-1]) and i + len(v) < len(text) and word.match(text[i + len(v)]))
    }


def alternation(values: set[str]) -> re.Pattern[str]:
    """One alternative per value, longest first, guarded where it starts or ends in a word
    character: what masking's choice among occurrences amounts to."""
    alternatives = []
    for value in sorted(values, key=len, reverse=True):
        left = r"(?<!\w)" if re.match(r"\w", value[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", value[-1]) else ""
        alternatives.append(f"{left}{re.escape(value)}{right}")
    return re.compile("|".join(alternatives))


@pytest.mark.parametrize("many", [False, True], ids=["find each value", "look words up"])
@settings(max_examples=300, deadline=None)
@given(values=VALUES, pieces=st.lists(NOISE, max_size=30))
def test_every_guarded_occurrence_is_found(many, values, pieces):
    text = built(values, pieces)
    # Padded past FIND_VALUES with values that never occur, to take the other way of searching.
    searched = [*values, *(f"\x00{i}" for i in range(FIND_VALUES + 1 if many else 0))]
    assert set(occurrences(text, searched)) == guarded_everywhere(text, values)


@settings(max_examples=300, deadline=None)
@given(values=VALUES, pieces=st.lists(NOISE, max_size=30))
def test_masking_chooses_as_a_longest_first_alternation_would(values, pieces):
    text = built(values, pieces)
    spans = [_Span(start, end, ANY, Action.MASK, True) for start, end in occurrences(text, list(values))]
    chosen = [(s.start, s.end) for s in _non_overlapping(spans)]
    assert chosen == [m.span() for m in alternation(values).finditer(text)]


def test_a_value_inside_a_longer_word_is_not_found():
    text = "Ann, Annual, +1 415 555, mail@x.org, x.organ"
    found = sorted(occurrences(text, ["Ann", "+1 415", "x.org"]))
    assert [text[s:e] for s, e in found] == ["Ann", "+1 415", "x.org"]


def test_a_shorter_value_is_masked_where_a_longer_one_at_the_same_place_cannot_be():
    """ "Smith Street" is redacted, which is stricter than masking: "John Smith" cannot be
    masked over it, but "John" still is, rather than left in clear."""
    texts = {"John Smith": "PERSON", "John": "PERSON", "Smith Street": "PASSWORD"}

    def detect(text: str) -> list[Detection]:
        kind = texts.get(text)
        return [Detection(0, len(text), kind, 0.9, "presidio")] if kind else []

    body = {"messages": [{"role": "user", "content": c} for c in [*texts, "John Smith Street"]]}
    mask_chat_request(body, detect, lambda d: Action.REDACT if d.entity_type == "PASSWORD" else Action.MASK)
    assert body["messages"][-1]["content"] == "[[PERSON_2]] [[PASSWORD_1]]"


# --- from one request to the next -------------------------------------------------------

HISTORY = [
    "Jane Doe wrote to us about the invoice.",
    "We forwarded it to jane@example.com and Ann.",
    "Ann answered for Jane Doe.",
]


def _people(names: list[str]):
    def detect(text: str) -> list[Detection]:
        return [
            Detection(m.start(), m.end(), "PERSON", 0.9, "presidio")
            for name in names
            for m in re.finditer(re.escape(name), text)
            if text.startswith(("Jane", "new:"))
        ]

    return detect


def _turn(history: list[str], detect) -> list[str]:
    body = {"messages": [{"role": "user", "content": text} for text in history]}
    mask_chat_request(body, detect, lambda d: Action.MASK)
    return [m["content"] for m in body["messages"]]


def test_a_value_first_detected_in_a_new_message_is_masked_in_the_resent_history():
    detect = _people(["Jane Doe"])
    assert "Ann" in _turn(HISTORY, detect)[1]
    # The next turn: the history is resent, and the new message names Ann.
    masked = _turn([*HISTORY, "new: say hi to Ann"], _people(["Jane Doe", "Ann"]))
    assert not any("Ann" in text for text in masked)
    assert masked[1] == "We forwarded it to jane@example.com and [[PERSON_2]]."


def test_a_value_no_longer_detected_is_no_longer_masked_in_the_resent_history():
    _turn([*HISTORY, "new: say hi to Ann"], _people(["Jane Doe", "Ann"]))
    masked = _turn(HISTORY, _people(["Jane Doe"]))
    assert masked[1] == HISTORY[1]
    assert masked[2] == "Ann answered for [[PERSON_1]]."


def test_a_text_met_again_is_only_searched_for_values_it_was_not_searched_for(monkeypatch):
    cache = OccurrenceCache()
    text = "Ann met Bob and Cy."
    first = cache.find([text], cache.values(["Ann", "Bob"]), lambda t: [])
    searched: list[list[str]] = []
    real = occurrences_module.occurrences
    monkeypatch.setattr(
        occurrences_module,
        "occurrences",
        lambda t, values: searched.append(list(values.values)) or real(t, values),
    )
    again = cache.find([text, "Cy too"], cache.values(["Ann", "Bob", "Cy"]), lambda t: [])
    assert searched == [["Cy"], ["Ann", "Bob", "Cy"]]
    assert sorted(first[0].spans) == [(0, 3), (8, 11)]
    assert sorted(again[0].spans) == [(0, 3), (8, 11), (16, 18)] and again[1].spans == [(0, 2)]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(
                st.sampled_from(["Ann met Bo", "Bo, Cyd and Ann", "no one [person_1]", "Cyd"]), max_size=4
            ),
            st.sets(st.sampled_from(["Ann", "Bo", "Cyd", "met", "and"]), max_size=5),
        ),
        max_size=6,
    )
)
def test_remembered_occurrences_are_those_a_fresh_search_finds(requests):
    cache = OccurrenceCache(max_texts=3)
    placeholders = re.compile(r"\[\w+\]").findall
    for texts, values in requests:
        found = cache.find(texts, cache.values(sorted(values)), placeholders)
        assert [sorted(f.spans) for f in found] == [sorted(occurrences(t, sorted(values))) for t in texts]
        assert [f.placeholders for f in found] == [frozenset(placeholders(t)) for t in texts]


def test_the_cache_is_bounded_by_texts_and_by_items():
    cache = OccurrenceCache(max_texts=2, max_items=1000)
    for text in ("Ann", "Bo", "Cyd"):
        cache.find([text], cache.values([text]), lambda t: [])
    assert len(cache) == 2
    small = OccurrenceCache(max_texts=100, max_items=50)
    small.find(["Ann " * 40, "Ann " * 10], small.values(["Ann"]), lambda t: [])
    # 40 and 10 offsets and one digest, which both texts share: the first text had to go.
    assert len(small) == 1 and small.items == 11


def test_nothing_remembered_holds_a_value_or_a_text():
    cache = OccurrenceCache()
    value, text = "Zq7uniquevalue4242", "write to Zq7uniquevalue4242 today [person_1]"
    cache.find([text], cache.values([value]), lambda t: ["[[PERSON_1]]"])
    seen, strings, todo = set(), [], [cache]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            strings.append(obj)
        todo.extend(gc.get_referents(obj))
    assert "[[PERSON_1]]" in strings
    assert not any("uniquevalue" in s for s in strings)


def test_values_never_enter_the_regex_module_cache():
    """`re` keeps compiled patterns, keyed by their source, long after a request: neither the
    search for known values nor that for a secret's other occurrences may go there."""
    secret = "Zq7uniquesecret4242"

    def detect(text: str) -> list[Detection]:
        start = text.find(secret)
        return (
            [Detection(start, start + len(secret), "SECRET", 0.9, "pattern", secret=True)]
            if start >= 0
            else []
        )

    body = {"messages": [{"role": "user", "content": t} for t in (f"x {secret} y", f"again {secret}")]}
    mask_chat_request(body, detect, lambda d: Action.MASK)
    assert body["messages"][1]["content"] == "again [[SECRET_1]]"
    assert list(secret_occurrences(f"{secret} and {secret}", secret)) == [(0, 19), (24, 43)]
    cached = [str(key) for cache in (re._cache, re._cache2) for key in cache]
    assert not any("uniquesecret4242" in key for key in cached)


@given(st.text("ab1+_ -", min_size=1, max_size=4), st.text("ab1+_ -", max_size=40))
def test_secret_occurrences_are_those_of_a_guarded_literal_pattern(value, text):
    head = r"(?<![A-Za-z0-9])" if re.match("[A-Za-z0-9]", value[0]) else ""
    tail = r"(?![A-Za-z0-9])" if re.match("[A-Za-z0-9]", value[-1]) else ""
    expected = [m.span() for m in re.finditer(head + re.escape(value) + tail, text)]
    assert list(secret_occurrences(text, value)) == expected
