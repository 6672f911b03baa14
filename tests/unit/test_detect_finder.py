"""Finding detected values again: the propagation pattern matches as a plain alternation of the
values (longest first, with word guards) would, only faster; a secret's other occurrences are
found as a guarded literal pattern would find them; neither leaves values in `re`'s cache."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from maskgate.detect.secrets import occurrences
from maskgate.mask import _value_finder

ALPHABET = "ab1_ -.@+é\n[]"
NOISE = st.one_of(st.text(ALPHABET, max_size=4), st.sampled_from(["x", "ab", "a-b", "1 1"]))


def reference(values: set[str]) -> re.Pattern[str]:
    """One alternative per value, longest first, guarded where it starts or ends in a word
    character: the semantics `_value_finder` keeps."""
    alternatives = []
    for value in sorted(values, key=len, reverse=True):
        left = r"(?<!\w)" if re.match(r"\w", value[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", value[-1]) else ""
        alternatives.append(f"{left}{re.escape(value)}{right}")
    return re.compile("|".join(alternatives))


@settings(max_examples=400, deadline=None)
@given(
    st.sets(st.text(ALPHABET, min_size=1, max_size=6), min_size=1, max_size=12),
    st.lists(NOISE, max_size=30),
)
def test_matches_are_those_of_a_guarded_longest_first_alternation(values, pieces):
    # Texts built from the values themselves and noise, so that values touch, overlap and nest.
    text = "".join(
        piece + (sorted(values)[i % len(values)] if i % 2 else "") for i, piece in enumerate(pieces)
    )
    finder = _value_finder(values)
    assert finder is not None
    assert [m.span() for m in finder.finditer(text)] == [m.span() for m in reference(values).finditer(text)]


def test_a_value_inside_a_longer_word_is_not_found():
    finder = _value_finder({"Ann", "+1 415", "x.org"})
    assert finder is not None
    text = "Ann, Annual, +1 415 555, mail@x.org, x.organ"
    assert [m.group() for m in finder.finditer(text)] == ["Ann", "+1 415", "x.org"]


def test_no_values_no_pattern():
    assert _value_finder([]) is None


def test_values_never_enter_the_regex_module_cache():
    """`re` keeps compiled patterns, keyed by their source, long after a request: neither the
    propagation pattern nor the search for a secret's other occurrences may go there."""
    secret = "Zq7uniquesecret4242"
    finder = _value_finder({secret, "Jane Roe"})
    assert finder is not None and finder.search(f"x {secret} y")
    assert list(occurrences(f"{secret} and {secret}", secret)) == [(0, 19), (24, 43)]
    cached = [str(key) for cache in (re._cache, re._cache2) for key in cache]
    assert not any("uniquesecret4242" in key for key in cached)


@given(st.text("ab1+_ -", min_size=1, max_size=4), st.text("ab1+_ -", max_size=40))
def test_occurrences_are_those_of_a_guarded_literal_pattern(value, text):
    head = r"(?<![A-Za-z0-9])" if re.match("[A-Za-z0-9]", value[0]) else ""
    tail = r"(?![A-Za-z0-9])" if re.match("[A-Za-z0-9]", value[-1]) else ""
    expected = [m.span() for m in re.finditer(head + re.escape(value) + tail, text)]
    assert list(occurrences(text, value)) == expected
