"""Context words for Presidio's pattern recognizers, without spaCy's part-of-speech tagger.

Presidio raises a pattern match's score when one of its recognizer's context words occurs in
the lemmas of the five words before it (`LemmaContextAwareEnhancer`). Its lemmas come from
spaCy's tok2vec, tagger, attribute ruler and rule lemmatizer, which together cost as much time
as the entity recognizer Presidio needs them next to. The tagger only serves to pick one of
the lemmas a word may have; here a word stands for all of them instead: its lower-case form,
its lemma as each part of speech the lemmatizer has rules for, and any lemma the attribute
ruler gives it. A context word found in any of them counts.

Presidio counts only "keywords" (lemmas that are not stop words or punctuation) towards the
five words. A word that is a keyword under some of its lemmas and not under others is looked
at without being counted, so the window reaches at least as far back as Presidio's. Every
context word Presidio finds is therefore found; rarely one more is, where only the lemma the
tagger did not choose holds it ("securities" also stands for "security").

Presidio's own search is also quadratic in the text (each match looks its token up from the
start of the text, and each word up in a list of all keywords); here both are lookups.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.attrs import IS_PUNCT, IS_STOP
from spacy.parts_of_speech import IDS
from spacy.pipeline import AttributeRuler, Lemmatizer
from spacy.tokens import Doc, Span, Token

_TEXT_KEYS = ("LOWER", "ORTH", "TEXT", "NORM")
_RULE_TABLES = ("lemma_index", "lemma_exc", "lemma_rules")


class WordForms(Protocol):
    """The lower-case strings that may be a token's lemma."""

    def forms(self, token: Token) -> tuple[str, ...]: ...

    def colon_parts(self, doc: Doc) -> frozenset[str]:
        """The colon-separated parts of every form in `doc` that holds a colon."""
        ...


class PipelineForms:
    """The lemma the pipeline itself assigned: exact, for pipelines kept whole.

    A pipeline without a lemmatizer leaves every lemma empty, and then, as in Presidio, no
    context word is ever found.
    """

    def forms(self, token: Token) -> tuple[str, ...]:
        return (token.lemma_.lower(),)

    def colon_parts(self, doc: Doc) -> frozenset[str]:
        return frozenset(
            part for token in doc if ":" in token.lemma_ for part in token.lemma_.lower().split(":")
        )


class RuleForms:
    """Every lemma spaCy's rule lemmatizer and attribute ruler could give a token.

    The lemmatizer's rules are applied here as `Lemmatizer.rule_lemmatize` applies them, for
    each part of speech it has tables for, but without its cache: that grows with every word
    ever seen and would keep words of past requests.
    """

    def __init__(self, lemmatizer: Lemmatizer, ruler: AttributeRuler | None) -> None:
        index, exceptions, rules = (lemmatizer.lookups.get_table(name, {}) for name in _RULE_TABLES)
        # Parts of speech without tables leave a word as it is: its lower-case form covers them.
        self._parts = [
            (set(index.get(pos, ())), exceptions.get(pos, {}), rules.get(pos, ()))
            for pos in (name.lower() for name in IDS if name)
            if index.get(pos) or exceptions.get(pos) or rules.get(pos)
        ]
        self._assigned = _AssignedLemmas(ruler)

    @staticmethod
    def supports(lemmatizer: object) -> bool:
        """True for spaCy's own rule lemmatizer, whose lemma depends on nothing but the word,
        its part of speech and whether its morphology marks a base form (then the lower-case
        form)."""
        return (
            isinstance(lemmatizer, Lemmatizer)
            and lemmatizer.mode == "rule"
            and type(lemmatizer).rule_lemmatize is Lemmatizer.rule_lemmatize
        )

    def forms(self, token: Token) -> tuple[str, ...]:
        text = token.text
        lemmas = [_rule_lemma(text, *part) for part in self._parts]
        assigned = [lemma.lower() for lemma in self._assigned.of(text)]
        return tuple(dict.fromkeys([text.lower(), *lemmas, *assigned]))

    def colon_parts(self, doc: Doc) -> frozenset[str]:
        # Rules only change a word's ending, so only the ruler adds a colon a word lacks.
        if ":" not in doc.text:
            return self._assigned.colon_parts
        forms = {form for token in doc if ":" in token.text for form in self.forms(token)}
        return self._assigned.colon_parts.union(part for form in forms for part in form.split(":"))


def _rule_lemma(
    text: str, index: set[str], exceptions: Mapping[str, list[str]], rules: Iterable[list[str]]
) -> str:
    """The lower-cased first lemma of `Lemmatizer.rule_lemmatize` (spaCy 3.8) for `text` as a
    part of speech with these tables, when its morphology marks no base form."""
    string = text.lower()
    forms: list[str] = []
    unknown: list[str] = []
    for old, new in rules:
        if string.endswith(old):
            form = string[: len(string) - len(old)] + new
            if not form:
                continue
            if form in index:
                forms.insert(0, form)
            elif not form.isalpha():
                forms.append(form)
            else:
                unknown.append(form)
    forms = list(dict.fromkeys(forms))
    for form in exceptions.get(string, ()):
        if form not in forms:
            forms.insert(0, form)
    return (forms or unknown or [text])[0].lower()


class _AssignedLemmas:
    """The lemmas an attribute ruler sets, by the word they may be set on.

    Patterns name their word as a string, a list or a regular expression; one that names none
    (it matches on tags alone) may set its lemma on any word.
    """

    def __init__(self, ruler: AttributeRuler | None) -> None:
        self._by_word: defaultdict[str, set[str]] = defaultdict(set)
        self._by_regex: list[tuple[bool, re.Pattern[str], str]] = []
        anywhere: set[str] = set()
        for entry in ruler.patterns if ruler is not None else ():
            lemma = entry["attrs"].get("LEMMA")
            for pattern in entry["patterns"] if lemma is not None else ():
                if not self._add(pattern[entry.get("index", 0)], lemma):
                    anywhere.add(lemma)
        self._anywhere = tuple(sorted(anywhere))
        lemmas = {
            *anywhere,
            *(x for xs in self._by_word.values() for x in xs),
            *(x for *_, x in self._by_regex),
        }
        self.colon_parts = frozenset(
            part for lemma in lemmas if ":" in lemma for part in lemma.lower().split(":")
        )

    def _add(self, spec: Mapping[str, Any], lemma: str) -> bool:
        """Index `lemma` under the word(s) `spec` names; False if it names none."""
        for key in _TEXT_KEYS:
            value = spec.get(key)
            if isinstance(value, str):
                self._by_word[value.lower()].add(lemma)
                return True
            if isinstance(value, Mapping) and set(value) == {"IN"}:
                for word in value["IN"]:
                    self._by_word[str(word).lower()].add(lemma)
                return True
            if isinstance(value, Mapping) and set(value) == {"REGEX"}:
                # spaCy's matcher searches the attribute: the lower-case form for LOWER.
                self._by_regex.append((key == "LOWER", re.compile(value["REGEX"]), lemma))
                return True
        return False

    def of(self, text: str) -> list[str]:
        lower = text.lower()
        found = [*self._by_word.get(lower, ()), *self._anywhere]
        found += [
            lemma for on_lower, regex, lemma in self._by_regex if regex.search(lower if on_lower else text)
        ]
        return found


class ContextArtifacts(NlpArtifacts):
    """Presidio's NLP artifacts for one text, searched for context words by position.

    Lemmas and keywords are not listed up front, as Presidio does for every token: only the
    words near a match are ever looked at.
    """

    def __init__(
        self,
        doc: Doc,
        entities: list[Span],
        scores: list[float],
        nlp_engine: NlpEngine,
        language: str,
        word_forms: WordForms,
    ) -> None:
        super().__init__(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[],
            nlp_engine=nlp_engine,
            language=language,
            scores=scores,
        )
        self._forms = word_forms
        getters = doc.vocab.lex_attr_getters
        self._is_stop, self._is_punct = getters[IS_STOP], getters[IS_PUNCT]
        self._ends = [token.idx + len(token) for token in doc]
        self._seen: dict[int, tuple[str, ...]] = {}

    def context_words(self, start: int, before: int, after: int) -> list[str]:
        """Forms of the `before` keywords before the token at `start` and of the `after`
        keywords from it on, the token itself counting on both sides, as in
        `LemmaContextAwareEnhancer._extract_surrounding_words`."""
        doc = self.tokens
        if not len(doc):
            return [""]
        # The token the match starts in: the first that ends after `start`. Presidio fails the
        # whole analysis where there is none (a match in trailing space); the last one serves.
        index = min(bisect.bisect_right(self._ends, start), len(doc) - 1)
        words = [
            *self._walk(range(index, -1, -1), before + 1),
            *self._walk(range(index, len(doc)), after + 1),
        ]
        return list(dict.fromkeys(words))

    def _walk(self, positions: Iterable[int], count: int) -> Iterator[str]:
        """Forms of the words at `positions` that may be keywords, until `count` words
        that surely are have been passed."""
        for i in positions:
            if count <= 0:
                return
            forms = self._seen.get(i)
            if forms is None:
                forms = self._seen[i] = self._forms.forms(self.tokens[i])
            if any(self._keyword(form, strict=False) or form in self._colon_parts for form in forms):
                yield from forms
            if all(self._keyword(form, strict=True) for form in forms):
                count -= 1

    def _keyword(self, form: str, strict: bool) -> bool:
        """Presidio's keyword test (`NlpArtifacts.set_keywords`) on a lower-case lemma.

        Presidio tests the lemma before lower-casing it: stop words and punctuation are the
        same in any case, but "-PRON-" is excluded only in capitals, hence `strict`. A lemma
        with a colon is listed in parts, never whole.
        """
        if ":" in form or form == "be" or (strict and form == "-pron-"):
            return False
        # The lexeme attributes Presidio reads, computed as the vocabulary computes them, but
        # without adding the form to it; the empty lemma is neither a stop word nor punctuation.
        return not form or not (self._is_stop(form) or self._is_punct(form))

    @functools.cached_property
    def _colon_parts(self) -> frozenset[str]:
        """Parts of colon-holding lemmas, which Presidio lists as keywords of their own: a
        word equal to one counts, stop word or not."""
        return self._forms.colon_parts(self.tokens)


class ContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer, reading context words from `ContextArtifacts`, and
    raising the scores of the results it is given rather than of deep copies of them.

    Presidio copies every result, with its explanation and metadata, so that the caller's list
    stays as it was; but `AnalyzerEngine.analyze` only reads the list returned, and on text full
    of personal data the copying took 1 of the step's 2.7 ms.
    """

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if not isinstance(nlp_artifacts, ContextArtifacts):
            return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        given = [word.lower() for word in context or ()]
        for result in raw_results:
            metadata = result.recognition_metadata or {}
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            # Results of recognizers without context words, or raised by their recognizer, stay.
            if recognizer is None or not recognizer.context:
                continue
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            # A score at the top (a validated e-mail address or card) cannot rise: no words to read.
            if result.score >= self.MAX_SCORE:
                continue
            words = nlp_artifacts.context_words(
                result.start, self.context_prefix_count, self.context_suffix_count
            )
            found = self._find_supportive_word_in_context(
                [*words, *given], recognizer.context, self.context_matching_mode
            )
            if found:
                raised = result.score + self.context_similarity_factor
                result.score = min(max(raised, self.min_score_with_context_similarity), self.MAX_SCORE)
                result.analysis_explanation.set_supportive_context_word(found)
                result.analysis_explanation.set_improved_score(result.score)
        return raw_results

    def _extract_surrounding_words(self, nlp_artifacts: NlpArtifacts, word: str, start: int) -> list[str]:
        if not isinstance(nlp_artifacts, ContextArtifacts):
            return super()._extract_surrounding_words(nlp_artifacts, word, start)
        return nlp_artifacts.context_words(start, self.context_prefix_count, self.context_suffix_count)
