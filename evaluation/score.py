"""Scoring rules: how predicted spans are held against gold spans.

Personal data (samples of `Kind.PII`), per type and over all types:

- **Recall**: a gold span is *found* when a prediction of the same type overlaps it by at least
  one character. Overlap, not exact boundaries: "Dr. Ann Lee" predicted for "Ann Lee" is a find.
- **Precision**: a prediction is *correct* when it overlaps a gold span of its own type. Every
  other prediction is a false alarm of its type, including one that lands on personal data of
  another type (a card number taken for a phone number). An address found as three LOCATION
  pieces counts three correct predictions and one found span.
- **Protection** (recall ignoring the type): a gold span is *protected* when predictions of any
  type together cover at least `PII_COVERAGE` of its letters and digits; spaces and punctuation
  do not count. This is what masking needs: an address whose city alone is masked is found but
  not protected.

Secrets (`Kind.SECRET`): a planted secret counts as found when predictions of any type cover all
of its letters and digits (`SECRET_COVERAGE`), since the unmasked rest of a key may be enough
to use or guess it; the typed figure (a prediction of the gold type overlapping it) is given
beside it. Figures are per provider, the sample's `source`.

Clean samples and hard negatives hold nothing to find: every prediction is a false alarm.
Clean kinds are scored by false alarms per KB of UTF-8 text and by the share of samples with
any detection; hard negatives by the share of samples with any detection.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from evaluation.samples import Kind, Sample, Span

PII_COVERAGE = 0.9
SECRET_COVERAGE = 1.0
ALL = "ALL"
"""The row that adds up every type (micro average)."""

Predictions = Mapping[str, Sequence[Span]]
"""Predicted spans by sample id."""


@dataclass
class TypeScore:
    """Counts for one entity type; the ratios are None where nothing was there to count."""

    gold: int = 0
    found: int = 0
    protected: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def precision(self) -> float | None:
        return _ratio(self.correct, self.predicted)

    @property
    def recall(self) -> float | None:
        return _ratio(self.found, self.gold)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def protection(self) -> float | None:
        return _ratio(self.protected, self.gold)

    def add(self, other: TypeScore) -> None:
        self.gold += other.gold
        self.found += other.found
        self.protected += other.protected
        self.predicted += other.predicted
        self.correct += other.correct

    def figures(self) -> dict[str, float | int | None]:
        return {
            "gold": self.gold,
            "predicted": self.predicted,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "protection": self.protection,
        }


@dataclass
class CleanScore:
    """False alarms on one kind of clean text."""

    samples: int = 0
    kb: float = 0.0
    detections: int = 0
    with_any: int = 0
    by_type: Counter[str] = field(default_factory=Counter)

    @property
    def per_kb(self) -> float | None:
        return self.detections / self.kb if self.kb else None

    @property
    def share_with_any(self) -> float | None:
        return _ratio(self.with_any, self.samples)

    def figures(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "kb": round(self.kb, 1),
            "detections": self.detections,
            "with_any": self.with_any,
            "per_kb": self.per_kb,
            "share_with_any": self.share_with_any,
            "by_type": dict(self.by_type.most_common()),
        }


@dataclass
class SecretScore:
    """Planted secrets of one provider."""

    secrets: int = 0
    found: int = 0
    typed: int = 0

    @property
    def recall(self) -> float | None:
        return _ratio(self.found, self.secrets)

    @property
    def typed_recall(self) -> float | None:
        return _ratio(self.typed, self.secrets)

    def add(self, other: SecretScore) -> None:
        self.secrets += other.secrets
        self.found += other.found
        self.typed += other.typed

    def figures(self) -> dict[str, float | int | None]:
        return {"secrets": self.secrets, "recall": self.recall, "typed_recall": self.typed_recall}


def score_pii(samples: Iterable[Sample], predictions: Predictions) -> dict[str, TypeScore]:
    """Per-type scores over the personal-data samples, gold types first, and the `ALL` row."""
    scores: dict[str, TypeScore] = defaultdict(TypeScore)
    for sample in samples:
        if sample.kind != Kind.PII:
            continue
        predicted = predictions.get(sample.id, ())
        for gold in sample.spans:
            score = scores[gold.entity_type]
            score.gold += 1
            score.found += any(_overlap(p, gold) and p.entity_type == gold.entity_type for p in predicted)
            score.protected += coverage(sample.text, gold, predicted) >= PII_COVERAGE
        for p in predicted:
            score = scores[p.entity_type]
            score.predicted += 1
            score.correct += any(_overlap(p, g) and p.entity_type == g.entity_type for g in sample.spans)
    total = TypeScore()
    for score in scores.values():
        total.add(score)
    ordered = sorted(scores.items(), key=lambda item: (item[1].gold == 0, item[0]))
    return {**dict(ordered), ALL: total}


def score_clean(samples: Iterable[Sample], predictions: Predictions) -> dict[str, CleanScore]:
    """False alarms per clean kind (and hard negatives, scored alike)."""
    scores: dict[str, CleanScore] = defaultdict(CleanScore)
    for sample in samples:
        if sample.kind in (Kind.PII, Kind.SECRET):
            continue
        predicted = predictions.get(sample.id, ())
        score = scores[sample.kind.value]
        score.samples += 1
        score.kb += len(sample.text.encode()) / 1024
        score.detections += len(predicted)
        score.with_any += bool(predicted)
        score.by_type.update(p.entity_type for p in predicted)
    return dict(scores)


def score_secrets(samples: Iterable[Sample], predictions: Predictions) -> dict[str, SecretScore]:
    """Recall per provider (`source`) over the secret samples, and the `ALL` row."""
    scores: dict[str, SecretScore] = defaultdict(SecretScore)
    for sample in samples:
        if sample.kind != Kind.SECRET:
            continue
        predicted = predictions.get(sample.id, ())
        score = scores[sample.source]
        for gold in sample.spans:
            score.secrets += 1
            score.found += coverage(sample.text, gold, predicted) >= SECRET_COVERAGE
            score.typed += any(_overlap(p, gold) and p.entity_type == gold.entity_type for p in predicted)
    total = SecretScore()
    for score in scores.values():
        total.add(score)
    return {**dict(sorted(scores.items())), ALL: total}


def hard_negatives_by_source(samples: Iterable[Sample], predictions: Predictions) -> dict[str, CleanScore]:
    """Hard negatives per look-alike (`source`): which ones draw false alarms."""
    return {
        source: score_clean(group, predictions)[Kind.HARD_NEGATIVE.value]
        for source, group in sorted(_by_source(samples, Kind.HARD_NEGATIVE).items())
    }


def coverage(text: str, gold: Span, predicted: Iterable[Span]) -> float:
    """The share of the gold span's letters and digits that some prediction covers."""
    counted = [i for i in range(gold.start, gold.end) if text[i].isalnum()]
    if not counted:
        return 1.0
    covered = set()
    for p in predicted:
        if _overlap(p, gold):
            covered.update(range(max(p.start, gold.start), min(p.end, gold.end)))
    return sum(i in covered for i in counted) / len(counted)


def misses(sample: Sample, predicted: Sequence[Span]) -> Iterator[tuple[Span, float]]:
    """Gold spans of a personal-data sample left unprotected, with the share that was covered."""
    for gold in sample.spans:
        share = coverage(sample.text, gold, predicted)
        if share < PII_COVERAGE:
            yield gold, share


def false_alarms(sample: Sample, predicted: Sequence[Span]) -> Iterator[Span]:
    """Predictions that overlap no gold span of their own type."""
    for p in predicted:
        if not any(_overlap(p, g) and p.entity_type == g.entity_type for g in sample.spans):
            yield p


def _by_source(samples: Iterable[Sample], kind: Kind) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        if sample.kind == kind:
            groups[sample.source].append(sample)
    return groups


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
