"""One detector over a text: personal data and secrets, merged into clean spans.

The result is what masking needs: sorted, non-overlapping spans without surrounding
whitespace, none of them touching a placeholder-shaped token. Overlaps are resolved
so that no part of a secret is ever left out: overlapping secret spans are joined into
one, and personal data that overlaps a secret gives way to it. Values on the policy's
allow list are dropped first.

Results are remembered per text (`DetectionCache`): a detector is built for one policy, so
its cache never serves results found under other rules.

Each analysis has two halves run side by side: spaCy's entity recognizer here, and the secret
engines with every other recognizer in a worker process (`maskgate.detect.worker`) when the
detector has one and it is free, else on a second thread.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import gc
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from maskgate.detect.cache import DetectionCache
from maskgate.detect.code_context import refine
from maskgate.detect.common_words import common_words
from maskgate.detect.names import repeat_names
from maskgate.detect.pii import PiiDetector, resolve_spacy_model
from maskgate.detect.placeholder import PLACEHOLDER_SHAPE
from maskgate.detect.secrets import SecretDetector
from maskgate.detect.types import Detection
from maskgate.detect.worker import WARM_UP_TEXT, WORKER_PLATFORM, WordsFound, WordsWorker, find_words
from maskgate.policy import ACTION_STRENGTH, Action, Policy
from maskgate.schedule import beside, checkpoint, deferrable

__all__ = ["PLACEHOLDER_SHAPE", "Detector", "resolve"]

Span = tuple[int, int]
StrengthFn = Callable[[Detection], int]
"""How strictly a detection's type is handled (see `ACTION_STRENGTH`); stricter wins overlaps."""


RankKey = Callable[[Detection], tuple[int, float, int, int]]


def _same_strength(_: Detection) -> int:
    return 0


class Detector:
    """Detects the policy's personal data and secrets in a text.

    Construction loads the spaCy pipeline and is slow (seconds); `detect` may be called
    from several threads at once. Its state is the cache of earlier results, and the worker
    process when it has one (`close` stops it; so does the detector's end).
    """

    def __init__(self, policy: Policy, spacy_model: str | None = None, *, worker: bool = False) -> None:
        """`spacy_model` (a package name or model directory) overrides ``pii.spacy_model``.
        With `worker`, the words-only half of analyses runs in a second process
        (`maskgate.detect.worker`), which loads while this one does and is used once ready."""
        self._policy = policy
        model = resolve_spacy_model(spacy_model or policy.pii.spacy_model)
        # kingfisher compiles its catalogue (seconds, on a first start) without holding the
        # interpreter lock: the secret engines, then the worker, start on another thread while
        # spaCy loads.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="maskgate-load") as pool:
            loading = pool.submit(_secrets_then_worker, policy, model, worker and WORKER_PLATFORM)
            try:
                self._pii = PiiDetector(policy, model)
            except BaseException:
                loading.add_done_callback(_close_worker)
                raise
            self._secrets, self._worker = loading.result()
        self._cache = DetectionCache()
        # Not a method of this detector: the worker must not keep it alive (`exempt_from_collection`).
        self._words_here = functools.partial(find_words, self._pii, self._secrets)
        if self._worker is not None:
            weakref.finalize(self, self._worker.close)

    def detect(self, text: str) -> list[Detection]:
        """Sorted, non-overlapping detections in `text` (see the module docstring)."""
        if not text.strip():
            return []
        return list(self._cache.get(text, self._analyse))

    def _analyse(self, text: str) -> list[Detection]:
        # Each text is a safe point for a large request's analysis to let a small one go first.
        checkpoint()
        with self._pii.forgetting_words():
            words = self._words_beside(text)
            try:
                entities = self._pii.entities(text)
            finally:
                # Always read, even after an error: a worker serves no one else until it is.
                found_by_words = words()
        personal = self._pii.merged(entities, found_by_words.personal)
        # Names and places the entity recognizer reads into code are identifiers, not people;
        # a full name found once is masked wherever its parts appear again in the text.
        found = repeat_names(text, refine(text, [*found_by_words.secrets, *personal]))
        # Allowed values go before overlaps are resolved, so they never hide another finding.
        kept = [d for d in found if self.action_for(d) != Action.OFF and not self._allowed(text, d)]
        return resolve(text, kept, self._strength)

    def _words_beside(self, text: str) -> Callable[[], WordsFound]:
        """Start the words-only half of the analysis of `text` beside the entity recognizer: in
        the worker process when there is one free, else on a second thread. Not on a large-body
        lane, whose work leaves the other core to small requests (`maskgate.schedule.beside`)."""
        if self._worker is not None and not deferrable():
            pending = self._worker.submit(text)
            if pending is not None:
                return functools.partial(self._from_worker, pending, text)
        return beside(self._words_here, text)

    def _from_worker(self, pending: Callable[[], WordsFound | None], text: str) -> WordsFound:
        """The worker's answer, or, when it could not give one, the same work done here."""
        found = pending()
        return found if found is not None else self._words_here(text)

    def close(self) -> None:
        """Stop the worker process, if any: analyses go on, all in this process."""
        if self._worker is not None:
            self._worker.close()

    def worker_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the worker process to be ready; False when there is
        none or it is not ready by then."""
        return self._worker is not None and self._worker.ready(timeout)

    def _allowed(self, text: str, d: Detection) -> bool:
        """True when the allow list exempts `d`'s whole value, trimmed as `resolve` trims it
        (a recognizer's span may include the space next to a name)."""
        return self._policy.allows(text[d.start : d.end].strip(), d.entity_type)

    def action_for(self, d: Detection) -> Action:
        """The policy's action for `d`'s type."""
        return self._policy.action_for(d.entity_type, d.secret)

    def _strength(self, d: Detection) -> int:
        return ACTION_STRENGTH[self.action_for(d)]

    def warm_up(self) -> None:
        """Run one small analysis so that lazy loading does not delay the first request, read
        the word list code text needs, and keep what was loaded out of the garbage collector's
        way (`exempt_from_collection`)."""
        self.detect(WARM_UP_TEXT)
        common_words()
        exempt_from_collection(self)


_Loaded = tuple[SecretDetector, WordsWorker | None]


def _secrets_then_worker(policy: Policy, model: str, worker: bool) -> _Loaded:
    secrets = SecretDetector(policy)
    # Started once kingfisher's catalogue is compiled and cached, the worker loads it from there
    # rather than compile it again beside this process.
    return secrets, WordsWorker(policy, model) if worker else None


def _close_worker(loading: Future[_Loaded]) -> None:
    """Stop the worker of a detector that failed to build."""
    if loading.exception() is None and (worker := loading.result()[1]) is not None:
        worker.close()


def exempt_from_collection(owner: object) -> None:
    """Leave everything alive now, the spaCy pipeline above all, out of the collector's passes.

    The pipeline is some 140,000 objects the collector would walk on each full pass: 60-70 ms
    during which no thread of the proxy runs, every few requests under load. Frozen, they are
    skipped. Frozen objects are never freed, though, so when `owner` (the detector) goes, as
    its rules are replaced, everything is thawed, one full pass frees the old pipeline, and
    what is left, the new detector with it, is frozen again: 60-70 ms once per rules change.
    Whatever else is alive at a freeze (the proxy's own set-up, at a rules change the flows in
    memory) and later becomes garbage that refers to itself waits for the next change too.
    """
    gc.collect()
    gc.freeze()
    weakref.finalize(owner, _refreeze)


def _refreeze() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def resolve(
    text: str, detections: Iterable[Detection], strength: StrengthFn = _same_strength
) -> list[Detection]:
    """Clean raw detections of `text` into sorted, non-overlapping spans.

    Parts inside placeholder-shaped tokens are cut away and spans are trimmed of
    whitespace; what keeps no letter or digit is dropped. Overlapping secrets are
    joined, typed by the best of them (stricter action, higher score, then longer).
    Spans are then taken best first where they overlap nothing taken: stricter action
    first, a secret before personal data at the same action, then score and length.
    Ranking the action first means a span that is only logged never hides an
    overlapping one that must be masked or blocked, whether it is a secret or not.
    """
    placeholders = [m.span() for m in PLACEHOLDER_SHAPE.finditer(text)]
    pieces = [piece for d in detections for piece in _outside(text, d, placeholders)]
    best_first = _ranked(strength)
    secrets = _join_overlapping([d for d in pieces if d.secret], best_first)
    personal = [d for d in pieces if not d.secret]
    taken = _Intervals(())
    # Stricter action first; at the same action a secret beats personal data.
    for d in sorted([*secrets, *personal], key=lambda d: (-strength(d), not d.secret, best_first(d))):
        taken.add_if_free(d)
    return taken.sorted()


def _outside(text: str, d: Detection, placeholders: Sequence[Span]) -> Iterator[Detection]:
    """The parts of `d` outside placeholder tokens, trimmed, that still hold a word."""
    start = d.start
    first = bisect.bisect_right(placeholders, (d.start, d.start)) - 1
    for p_start, p_end in placeholders[max(first, 0) :]:
        if p_start >= d.end:
            break
        if p_end > start:
            yield from _trimmed(text, d, start, min(p_start, d.end))
            start = max(start, p_end)
    yield from _trimmed(text, d, start, d.end)


def _trimmed(text: str, d: Detection, start: int, end: int) -> Iterator[Detection]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if any(c.isalnum() for c in text[start:end]):
        yield d if (start, end) == (d.start, d.end) else dataclasses.replace(d, start=start, end=end)


def _ranked(strength: StrengthFn) -> RankKey:
    """Sort key, best first: stricter action, higher score, then longer, then earlier."""

    def key(d: Detection) -> tuple[int, float, int, int]:
        return (-strength(d), -d.score, -(d.end - d.start), d.start)

    return key


def _join_overlapping(secrets: list[Detection], best_first: RankKey) -> list[Detection]:
    """Join overlapping secret spans into one span each, so no part of a secret leaks."""
    joined: list[Detection] = []
    group: list[Detection] = []
    group_end = 0
    for d in sorted(secrets, key=lambda d: (d.start, d.end)):
        if group and d.start >= group_end:
            joined.append(_union(group, best_first))
            group = []
        group.append(d)
        group_end = max(group_end, d.end)
    if group:
        joined.append(_union(group, best_first))
    return joined


def _union(group: list[Detection], best_first: RankKey) -> Detection:
    best = min(group, key=best_first)
    return dataclasses.replace(best, start=min(d.start for d in group), end=max(d.end for d in group))


class _Intervals:
    """Non-overlapping detections kept sorted by start, for fast overlap checks."""

    def __init__(self, disjoint: Iterable[Detection]) -> None:
        self._items = sorted(disjoint, key=lambda d: d.start)
        self._starts = [d.start for d in self._items]

    def add_if_free(self, d: Detection) -> None:
        i = bisect.bisect_left(self._starts, d.end)
        if i > 0 and self._items[i - 1].end > d.start:
            return
        self._items.insert(i, d)
        self._starts.insert(i, d.start)

    def sorted(self) -> list[Detection]:
        return list(self._items)
