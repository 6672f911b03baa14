"""Context words and entities without spaCy's tagger: never less than Presidio found with it."""

from __future__ import annotations

import pytest
import spacy
from presidio_analyzer import AnalysisExplanation, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.parts_of_speech import IDS
from spacy.tokens import Doc

from maskgate.detect import pii
from maskgate.detect.context import ContextArtifacts, ContextEnhancer, PipelineForms, RuleForms
from maskgate.detect.engine import Detector
from maskgate.policy import load_policy
from tests.unit.detect_texts import code, context_sentences, prose

TEXTS = [
    *context_sentences(300, "context-test"),
    prose(4096, "context-test"),
    code(4096, "context-test"),
    "Call me on my cell: 212-555-0147; securities account (ssn 536-22-8471), "
    "std::string ip = a::b::c; I'm phoning from +44 7911 123456.",
]


@pytest.fixture(scope="module")
def presidio_engine() -> SpacyNlpEngine:
    """Presidio's spaCy engine over the whole shipped pipeline, tagger and lemmatizer included."""
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": pii.resolve_spacy_model("en_core_web_md")}]
    )
    engine.load()
    return engine


def ours(detector: Detector, text: str) -> ContextArtifacts:
    artifacts = detector._pii._engine.process_text(text, "en")
    assert isinstance(artifacts, ContextArtifacts)
    return artifacts


def test_the_shipped_pipeline_keeps_only_the_entity_recognizer(detector):
    nlp = detector._pii._nlp
    assert nlp.pipe_names == ["ner"]


def test_entities_are_those_of_the_whole_pipeline(detector, presidio_engine):
    whole, trimmed = presidio_engine.nlp["en"], detector._pii._nlp
    for text in TEXTS:
        assert [(e.start_char, e.end_char, e.label_) for e in trimmed(text).ents] == [
            (e.start_char, e.end_char, e.label_) for e in whole(text).ents
        ]


def test_every_word_presidio_looks_at_for_context_is_looked_at(detector, presidio_engine):
    """At every token of every text: Presidio's context lemmas (from the tagger) are among the
    word forms seen here, so no context word Presidio finds can be missed."""
    enhancer = LemmaContextAwareEnhancer()
    checked = 0
    for text in TEXTS:
        whole: NlpArtifacts = presidio_engine.process_text(text, "en")
        trimmed = ours(detector, text)
        for token in whole.tokens:
            theirs = enhancer._extract_surrounding_words(whole, token.text, token.idx)
            mine = trimmed.context_words(
                token.idx, enhancer.context_prefix_count, enhancer.context_suffix_count
            )
            assert set(theirs) <= set(mine), (text, token.idx)
            checked += 1
    assert enhancer.context_suffix_count == 0
    assert checked > 5_000


@pytest.mark.parametrize(
    ("word", "lemma"),
    [("securities", "security"), ("telephoning", "telephone"), ("numbers", "number"), ("called", "call")],
)
def test_a_word_stands_for_every_lemma_it_may_have(detector, word, lemma):
    artifacts = ours(detector, f"the {word} 212-555-0147")
    assert lemma in artifacts.context_words(artifacts.tokens[1].idx, 0, 0)


def test_a_pipeline_with_other_components_is_kept_whole(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "model")
    detector = Detector(load_policy(), spacy_model=str(tmp_path / "model"))
    engine = detector._pii._engine
    assert engine.nlp["en"].pipe_names == ["sentencizer"]
    assert isinstance(engine._forms, PipelineForms)


def test_the_shipped_lemmatizer_is_read_by_rules(detector):
    assert isinstance(detector._pii._engine._forms, RuleForms)


def test_rule_lemmas_are_those_of_spacys_lemmatizer(presidio_engine):
    """For every word of the texts and some irregular ones, as every part of speech the
    lemmatizer has tables for: the lemmas spaCy's `rule_lemmatize` gives."""
    nlp = presidio_engine.nlp["en"]
    lemmatizer = nlp.get_pipe("lemmatizer")
    tables = [lemmatizer.lookups.get_table(name) for name in ("lemma_index", "lemma_exc", "lemma_rules")]
    parts = [pos for pos in IDS if pos and any(table.get(pos.lower()) for table in tables)]
    assert {"NOUN", "VERB", "ADJ"} <= set(parts)
    words = {token.text for text in TEXTS for token in nlp.make_doc(text)}
    words |= {"Wolves", "men", "buses", "better", "was", "ties", "“", "ca", "lying", "A::B::Cs"}
    forms = RuleForms(lemmatizer, None)
    for word in sorted(words):
        doc = Doc(nlp.vocab, words=[word] * len(parts), pos=parts)
        expected = {word.lower(), *(lemmatizer.rule_lemmatize(token)[0].lower() for token in doc)}
        assert set(forms.forms(doc[0])) == expected, word


class _PresidioLoop(LemmaContextAwareEnhancer):
    """Presidio's own enhancement loop, over the same context words as `ContextEnhancer`."""

    def _extract_surrounding_words(self, nlp_artifacts, word, start):
        return nlp_artifacts.context_words(start, self.context_prefix_count, self.context_suffix_count)


def test_scores_are_raised_as_presidios_enhancer_raises_them(detector):
    text = "My cell: 212-555-0147, or else 212-555-0148 at home. Meet Tuesday afternoon, 212-555-0149."
    artifacts = ours(detector, text)
    recognizers = detector._pii.recognizers
    phone = next(r for r in recognizers if "PHONE_NUMBER" in r.supported_entities and r.context)
    no_context = next(r for r in recognizers if not r.context)

    def results() -> list[RecognizerResult]:
        made = []
        for start, end, score, recognizer, boosted in [
            (9, 21, 0.4, phone, False),
            (31, 43, 0.01, phone, False),  # raised to Presidio's minimum with context
            (31, 43, 0.4, phone, True),  # already raised by its recognizer
            (9, 21, 0.5, no_context, False),
            (77, 89, 0.4, phone, False),  # no context word near it, unless one is given
        ]:
            metadata = {
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: boosted,
            }
            explanation = AnalysisExplanation(recognizer.name, score)
            made.append(RecognizerResult("PHONE_NUMBER", start, end, score, explanation, metadata))
        return made

    recognizers = [phone, no_context]
    assert text[77:89] == "212-555-0149"
    for context in (None, ["Mobile"]):
        expected = _PresidioLoop().enhance_using_context(text, results(), artifacts, recognizers, context)
        got = ContextEnhancer().enhance_using_context(text, results(), artifacts, recognizers, context)
        assert [(r.score, r.analysis_explanation.supportive_context_word) for r in got] == [
            (r.score, r.analysis_explanation.supportive_context_word) for r in expected
        ]
        assert [r.score for r in got] != [r.score for r in results()]
