"""Ordinary English words: verbs, adjectives and adverbs, as written or regularly inflected.

The entity recognizer takes capitalised words in code comments, docstrings and messages for
names and places: a sentence's first word ("Concatenates the list", "Invalid percent-escape")
or the name of a library or a header ("when Rich requires a Console", "a Host header").
A word the language uses as a verb, an adjective or an adverb is rarely someone's name in
code, so `maskgate.detect.code_context` drops it there. Nouns are left out on purpose: the
tables list "john", "maria" and "june" as nouns.

The words come from the tables of the rule lemmatizer that spaCy's English pipelines ship
(the base forms of each part of speech and the suffix rules that lead to them), so nothing
new is installed. All of spaCy's English pipelines carry the same tables.
"""

from __future__ import annotations

import functools
from pathlib import Path

import spacy
from spacy.lookups import Lookups

from maskgate.detect.pii import SpacyModelNotFound, resolve_spacy_model

PARTS_OF_SPEECH = ("verb", "adj", "adv")

ENGLISH_PIPELINES = ("en_core_web_md", "en_core_web_sm")
"""Where the tables are looked for, first found first; the model maskgate's rules name first."""


class CommonWords:
    """Verbs, adjectives and adverbs of a rule lemmatizer's tables, in any case.

    A word counts when it is a base form or a suffix rule of the same part of speech turns it
    into one ("concatenates" into "concatenate"). Irregular forms are left out: "rose" and
    "drew" are names as often as they are verbs.
    """

    def __init__(self, lookups: Lookups) -> None:
        index = lookups.get_table("lemma_index", {})
        rules = lookups.get_table("lemma_rules", {})
        self._parts = [
            (frozenset(index.get(pos, ())), tuple((old, new) for old, new in rules.get(pos, ())))
            for pos in PARTS_OF_SPEECH
        ]

    def __contains__(self, word: str) -> bool:
        lower = word.lower()
        return any(
            lower in base
            or any(lower.endswith(old) and lower[: len(lower) - len(old)] + new in base for old, new in rules)
            for base, rules in self._parts
        )


@functools.cache
def common_words() -> CommonWords:
    """The words of the first English pipeline installed (read once, some 2 MB), or none at all
    when none is: then no word is taken for an ordinary one, and more is masked, not less."""
    for name in ENGLISH_PIPELINES:
        try:
            model = Path(resolve_spacy_model(name))
        except SpacyModelNotFound:
            continue
        root = model if model.is_dir() else spacy.util.get_package_path(str(model))
        for tables in root.glob("**/lemmatizer/lookups"):
            return CommonWords(Lookups().from_disk(tables))
    return CommonWords(Lookups())
