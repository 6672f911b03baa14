"""Ordinary English words from a rule lemmatizer's tables."""

from __future__ import annotations

import pytest
from spacy.lookups import Lookups

from maskgate.detect.common_words import CommonWords, common_words


def tables() -> Lookups:
    lookups = Lookups()
    lookups.add_table(
        "lemma_index", {"verb": ["concatenate", "host"], "adj": ["rich"], "adv": ["fast"], "noun": ["june"]}
    )
    lookups.add_table(
        "lemma_rules",
        {"verb": [["s", ""], ["es", "e"], ["ed", "e"]], "adj": [["er", ""]], "noun": [["s", ""]]},
    )
    lookups.add_table("lemma_exc", {"verb": {"rose": ["rise"]}})
    return lookups


@pytest.mark.parametrize("word", ["Host", "hosts", "Concatenates", "concatenated", "Rich", "richer", "FAST"])
def test_base_forms_and_regular_inflections_count_in_any_case(word):
    assert word in CommonWords(tables())


@pytest.mark.parametrize(
    "word",
    [
        "June",  # a noun only: the tables list first names as nouns
        "Junes",
        "Rose",  # an irregular form: as often a name
        "Kofi",
        "fasts",  # a verb's rule does not apply to an adverb
    ],
)
def test_nouns_irregular_forms_and_unknown_words_do_not(word):
    assert word not in CommonWords(tables())


def test_without_tables_no_word_counts():
    assert "host" not in CommonWords(Lookups())


@pytest.mark.parametrize(
    ("word", "common"), [("Invalid", True), ("Paste", True), ("Jane", False), ("Maria", False)]
)
def test_the_installed_pipeline_tables_are_found(word, common):
    assert (word in common_words()) is common
