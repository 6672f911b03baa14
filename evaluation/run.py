"""`make eval`: how well maskgate's own engine finds personal data and secrets, and how rarely it
fires on clean text, with each figure next to its aim.

The samples are generated from fixed seeds (evaluation/pii_data.py, clean_data.py and
secret_data.py) and run through `maskgate.detect`, the detector built from rules/default.yaml
that the proxy uses. Scoring rules are in evaluation/score.py. The same code on the same
installed packages gives the same figures on every run.

Usage: ``python -m evaluation.run [--split dev|heldout] [--quick] [--name NAME] [--errors N]``
from the repository root; the report goes to ``evaluation/results/NAME.json``. Tune on the dev
split only: `--errors` lists its misses and false alarms, and refuses to list held-out ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from bench.report import REPO_ROOT, machine, table

import maskgate
from evaluation import score
from evaluation.clean_data import clean_samples
from evaluation.pii_data import pii_samples
from evaluation.samples import Kind, Sample, Span, Split

RESULTS = REPO_ROOT / "evaluation" / "results"


@dataclass(frozen=True)
class Profile:
    """How many samples of each kind to build."""

    per_template: int
    code_per_package: int
    logs_per_format: int
    prose: int


FULL = Profile(per_template=32, code_per_package=50, logs_per_format=40, prose=200)
QUICK = Profile(per_template=3, code_per_package=6, logs_per_format=6, prose=24)


@dataclass(frozen=True)
class Aim:
    """A bound a figure (a share, 0..1) should reach."""

    limit: float
    at_least: bool

    def check(self, value: float | None) -> dict[str, Any]:
        met = value is not None and (value >= self.limit if self.at_least else value <= self.limit)
        return {"value": value, "aim": f"{'>=' if self.at_least else '<='} {self.limit:.0%}", "met": met}


PROTECTION_AIMS = {
    "EMAIL_ADDRESS": Aim(0.98, True),
    "PHONE_NUMBER": Aim(0.98, True),
    "CREDIT_CARD": Aim(0.98, True),
    "IBAN_CODE": Aim(0.98, True),
    "IP_ADDRESS": Aim(0.98, True),
    "US_SSN": Aim(0.98, True),
    "PERSON": Aim(0.92, True),
    "LOCATION": Aim(0.85, True),
}
PRECISION_AIM = Aim(0.85, True)
SECRETS_RECALL_AIM = Aim(0.95, True)
HARD_NEGATIVES_AIM = Aim(0.03, False)
CLEAN_CODE_AIM = Aim(0.02, False)

Detect = Callable[[str], Sequence[Any]]
"""A detector: offsets and `entity_type` of what it found in a text (`maskgate.detect`)."""


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    split = Split(args.split)
    profile = QUICK if args.quick else FULL
    name = args.name or f"{split.value}{'-quick' if args.quick else ''}"
    started = time.monotonic()
    samples, secrets_note = build_samples(split, profile)
    _progress(f"{len(samples)} samples of the {split.value} split; loading maskgate's detector")
    predictions = predict(samples, maskgate.detect)
    report = evaluate(samples, predictions)
    print(tables(report, secrets_note))
    if args.errors:
        print(error_listing(samples, predictions, args.errors))
    report |= {
        "name": name,
        "split": split.value,
        "profile": asdict(profile),
        "secrets_note": secrets_note,
        "machine": machine() | {"faker": metadata.version("faker")},
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {path} in {report['elapsed_s']:.0f} s")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evaluation.run", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--split", choices=[s.value for s in Split], default=Split.DEV.value)
    parser.add_argument("--quick", action="store_true", help="a few samples of each source: under a minute")
    parser.add_argument("--name", help="report name: evaluation/results/NAME.json (the split's name)")
    parser.add_argument(
        "--errors", type=int, default=0, metavar="N", help="list N misses and false alarms per type"
    )
    args = parser.parse_args(argv)
    if args.errors and args.split != Split.DEV.value:
        parser.error("--errors lists the dev split only: the held-out split is never tuned on")
    return args


def build_samples(split: Split, profile: Profile) -> tuple[list[Sample], str | None]:
    """Every sample of `split`, and a note when the secret samples are not there to score."""
    samples = [
        *pii_samples(split, profile.per_template),
        *clean_samples(split, profile.code_per_package, profile.logs_per_format, profile.prose),
    ]
    try:
        from evaluation.secret_data import secret_samples
    except ModuleNotFoundError as missing:
        if missing.name != "evaluation.secret_data":
            raise
        return samples, "evaluation/secret_data.py is missing: secrets and hard negatives not scored"
    return samples + [s for s in secret_samples() if s.split == split], None


def predict(samples: Sequence[Sample], detect: Detect) -> dict[str, list[Span]]:
    """What `detect` finds in each sample, as spans by sample id."""
    predictions = {}
    for n, sample in enumerate(samples, 1):
        predictions[sample.id] = [Span(d.start, d.end, d.entity_type) for d in detect(sample.text)]
        if n % 250 == 0:
            _progress(f"{n}/{len(samples)} analysed")
    return predictions


def evaluate(samples: Sequence[Sample], predictions: score.Predictions) -> dict[str, Any]:
    """Every figure of the report, with the aims checked."""
    pii = score.score_pii(samples, predictions)
    clean = score.score_clean(samples, predictions)
    secrets = score.score_secrets(samples, predictions)
    negatives = clean.pop(Kind.HARD_NEGATIVE.value, None)
    aims = {
        f"protection {kind}": aim.check(pii[kind].protection if kind in pii else None)
        for kind, aim in PROTECTION_AIMS.items()
    }
    aims["precision overall"] = PRECISION_AIM.check(pii[score.ALL].precision)
    code = clean.get(Kind.CLEAN_CODE.value)
    aims["clean code with any detection"] = CLEAN_CODE_AIM.check(code.share_with_any if code else None)
    if secrets[score.ALL].secrets:
        aims["secrets recall"] = SECRETS_RECALL_AIM.check(secrets[score.ALL].recall)
    if negatives:
        aims["hard negatives with any detection"] = HARD_NEGATIVES_AIM.check(negatives.share_with_any)
    return {
        "samples": dict(Counter(s.kind.value for s in samples)),
        "pii": {kind: s.figures() for kind, s in pii.items()},
        "clean": {kind: s.figures() for kind, s in clean.items()},
        "secrets": {source: s.figures() for source, s in secrets.items()}
        if secrets[score.ALL].secrets
        else None,
        "hard_negatives": (
            {
                "all": negatives.figures(),
                "by_source": {
                    source: s.figures()
                    for source, s in score.hard_negatives_by_source(samples, predictions).items()
                },
            }
            if negatives
            else None
        ),
        "aims": aims,
    }


def tables(report: dict[str, Any], secrets_note: str | None) -> str:
    """The report for people: one table per kind of figure, then the aims."""
    aims = report["aims"]
    rows = []
    for kind, f in report["pii"].items():
        aim = aims.get(f"protection {kind}") or (aims["precision overall"] if kind == score.ALL else None)
        rows.append(
            [
                kind, f["gold"], f["predicted"], _pct(f["precision"]), _pct(f["recall"]), _pct(f["f1"]),
                _pct(f["protection"]), aim["aim"] if aim else "", _met(aim) if aim else "",
            ]
        )  # fmt: skip
    out = table(
        "Personal data, per type",
        ["type", "gold", "predicted", "precision", "recall", "F1", "protection", "aim", "met"],
        rows,
        [
            "recall/precision: same type, overlapping; protection: any type covering"
            f" >= {score.PII_COVERAGE:.0%} of the letters and digits.",
            "aims: protection per type; on the ALL row, precision.",
        ],
    )
    clean_rows = []
    for kind, f in report["clean"].items():
        aim = aims["clean code with any detection"] if kind == Kind.CLEAN_CODE.value else None
        types = ", ".join(f"{t} {n}" for t, n in list(f["by_type"].items())[:3])
        clean_rows.append(
            [
                kind, f["samples"], f["kb"], f["detections"], _rate(f["per_kb"]), _pct(f["share_with_any"]),
                types, aim["aim"] if aim else "", _met(aim) if aim else "",
            ]
        )  # fmt: skip
    out += table(
        "\nClean text: every detection is a false alarm",
        ["kind", "samples", "KB", "detections", "per KB", "with any", "types", "aim", "met"],
        clean_rows,
        ["aim: share of code snippets with any detection."],
    )
    out += _secret_tables(report, secrets_note)
    out += table(
        "\nAims",
        ["figure", "value", "aim", "met"],
        [[figure, _pct(check["value"]), check["aim"], _met(check)] for figure, check in aims.items()],
    )
    return out


def _secret_tables(report: dict[str, Any], note: str | None) -> str:
    if report["secrets"] is None:
        return f"\nSecrets: {note or 'no secret samples in this split'}\n"
    aims = report["aims"]
    rows = [
        [source, f["secrets"], _pct(f["recall"]), _pct(f["typed_recall"]), "", ""]
        for source, f in report["secrets"].items()
    ]
    recall = aims["secrets recall"]
    rows[-1][-2:] = [recall["aim"], _met(recall)]
    out = table(
        "\nSecrets, per provider",
        ["provider", "secrets", "recall", "typed recall", "aim", "met"],
        rows,
        ["recall: all letters and digits covered by any detection; typed: the gold type, overlapping."],
    )
    negatives = report["hard_negatives"]
    if negatives:
        flagged = aims["hard negatives with any detection"]
        rows = [
            [source, f["samples"], f["with_any"], _pct(f["share_with_any"]), ", ".join(f["by_type"]), "", ""]
            for source, f in negatives["by_source"].items()
        ]
        total = negatives["all"]
        rows.append(
            [score.ALL, total["samples"], total["with_any"], _pct(total["share_with_any"]), "",
             flagged["aim"], _met(flagged)]
        )  # fmt: skip
        out += table(
            "\nHard negatives: secret look-alikes",
            ["look-alike", "samples", "flagged", "share", "types", "aim", "met"],
            rows,
        )
    return out


def error_listing(samples: Sequence[Sample], predictions: score.Predictions, per_type: int) -> str:
    """Where detection goes wrong on the dev split: counts by type and source, and up to `per_type`
    examples of each type, one per source so that they show different shapes. The values shown
    are synthetic; the held-out split is never listed, because it is never tuned on."""
    miss_counts: Counter[tuple[str, str]] = Counter()
    alarm_counts: Counter[tuple[str, str]] = Counter()
    missed: dict[str, dict[str, str]] = defaultdict(dict)
    alarms: dict[str, dict[str, str]] = defaultdict(dict)
    for sample in samples:
        if sample.split != Split.DEV or sample.kind == Kind.SECRET:
            continue
        predicted = predictions.get(sample.id, ())
        source = f"{sample.kind.value}: {sample.source}"
        for gold, share in score.misses(sample, predicted):
            miss_counts[gold.entity_type, source] += 1
            if source not in missed[gold.entity_type]:
                missed[gold.entity_type][source] = (
                    f"{share:4.0%} covered  {_context(sample.text, gold, predicted)}"
                )
        for p in score.false_alarms(sample, predicted):
            alarm_counts[p.entity_type, source] += 1
            if source not in alarms[p.entity_type]:
                alarms[p.entity_type][source] = f"{sample.kind.value:<13} {_context(sample.text, p, ())}"
    return _listing("Misses", miss_counts, missed, per_type) + _listing(
        "False alarms", alarm_counts, alarms, per_type
    )


def _listing(
    title: str, counts: Counter[tuple[str, str]], examples: dict[str, dict[str, str]], per_type: int
) -> str:
    lines = [f"{title} on the dev split, most frequent first:"]
    lines += [f"  {n:4}  {kind}  in {source}" for (kind, source), n in counts.most_common(20)]
    for kind, by_source in sorted(examples.items()):
        lines += [f"  {kind}:", *(f"    {e}" for e in list(by_source.values())[:per_type])]
    return "\n".join(lines) + "\n"


def _context(text: str, span: Span, predicted: Iterable[Span]) -> str:
    """The span in ⟦⟧ with some text around it, and what was predicted on it."""
    before = text[max(0, span.start - 40) : span.start]
    after = text[span.end : span.end + 40]
    shown = f"…{before}⟦{text[span.start : span.end]}⟧{after}…".replace("\n", "⏎")
    hits = [
        f"{p.entity_type} {text[p.start : p.end]!r}"
        for p in predicted
        if p.start < span.end and span.start < p.end
    ]
    return shown + (f"  [predicted: {'; '.join(hits)}]" if hits else "")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _met(check: dict[str, Any]) -> str:
    return "yes" if check["met"] else "NO"


def _progress(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
