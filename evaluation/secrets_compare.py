"""Compare secret engines on the secret samples: recall per provider, false alarms on hard negatives.

Run by hand: ``.venv/bin/python -m evaluation.secrets_compare``. Three engines are scored on both
splits: maskgate's own secret engine without kingfisher (detect-secrets plugins and the patterns
of rules/default.yaml), kingfisher alone (its built-in rule catalogue, in process), and the two
together, which is maskgate's secret engine as shipped. A planted secret counts as found only
when the engine's spans cover all of it, whatever type they name: a partly masked key still
leaks the rest. A hard negative is a false alarm when anything at all is detected in it.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from unittest import mock

from evaluation.samples import Kind, Sample, Split
from evaluation.secret_data import secret_samples
from maskgate.detect import secrets
from maskgate.detect.secrets import SecretDetector
from maskgate.policy import load_policy

OTHER = "other/"
"""Source prefix of the providers the issue does not list, reported as one group."""

Spans = list[tuple[int, int]]
Engine = Callable[[str], Spans]


def maskgate_engine(with_kingfisher: bool) -> Engine:
    """maskgate's secret engine on the shipped rules, as shipped or with kingfisher left out."""
    if with_kingfisher:
        detector = SecretDetector(load_policy())
    else:
        with mock.patch.object(secrets, "_kingfisher", lambda: None):
            detector = SecretDetector(load_policy())
    return lambda text: [(d.start, d.end) for d in detector.detect(text)]


def kingfisher_engine() -> Engine:
    """kingfisher on its own: its built-in catalogue as the library ships it, visible findings."""
    from kingfisher_sdk import Rules, Scanner

    scanner = Scanner(Rules(cache=False))
    # The samples are ASCII, so kingfisher's byte offsets are character offsets.
    return lambda text: [
        (f.location["start_offset"], f.location["end_offset"]) for f in scanner.scan(text) if f.visible
    ]


def covered(spans: Spans, start: int, end: int) -> bool:
    """True when `spans` together cover every character of [start, end)."""
    reach = start
    for s, e in sorted(spans):
        if s > reach:
            break
        reach = max(reach, e)
        if reach >= end:
            return True
    return False


def score(
    engine: Engine, samples: Iterable[Sample]
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """(found, planted) per provider, and (alarms, samples) per hard-negative category."""
    recall: dict[str, Counter[str]] = defaultdict(Counter)
    alarms: dict[str, Counter[str]] = defaultdict(Counter)
    for sample in samples:
        spans = engine(sample.text)
        if sample.kind == Kind.HARD_NEGATIVE:
            alarms[sample.source]["n"] += 1
            alarms[sample.source]["hit"] += bool(spans)
        else:
            for gold in sample.spans:
                recall[sample.source]["n"] += 1
                recall[sample.source]["hit"] += covered(spans, gold.start, gold.end)
    return (
        {k: (c["hit"], c["n"]) for k, c in recall.items()},
        {k: (c["hit"], c["n"]) for k, c in alarms.items()},
    )


def _pct(hit: int, n: int) -> str:
    return f"{100 * hit / n:5.1f}" if n else "    -"


def _total(rows: dict[str, tuple[int, int]]) -> tuple[int, int]:
    return sum(h for h, _ in rows.values()), sum(n for _, n in rows.values())


def main() -> None:
    samples = secret_samples()
    started = time.perf_counter()
    engines = {
        "maskgate": maskgate_engine(with_kingfisher=False),
        "kingfisher": kingfisher_engine(),
        "both": maskgate_engine(with_kingfisher=True),
    }
    print(f"engines built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    results = {}
    for split in Split:
        chosen = [s for s in samples if s.split == split]
        for name, engine in engines.items():
            started = time.perf_counter()
            results[split, name] = score(engine, chosen)
            elapsed = time.perf_counter() - started
            print(f"{split} {name}: {len(chosen)} samples in {elapsed:.2f} s", file=sys.stderr)

    columns = [(split, name) for split in Split for name in engines]
    header = "".join(f" {f'{split}/{name}':>18}" for split, name in columns)
    print(f"{'recall % (found/planted)':<26}{header}")
    providers = sorted({p for key in columns for p in results[key][0] if not p.startswith(OTHER)})
    groups = [(p, [p]) for p in providers] + [("ALL LISTED", providers)]
    others = sorted({p for key in columns for p in results[key][0] if p.startswith(OTHER)})
    groups.append((f"{len(others)} other providers", others))
    _print_rows(groups, [results[key][0] for key in columns])
    print(f"\n{'false alarms % (samples)':<26}{header}")
    categories = sorted({c for key in columns for c in results[key][1]})
    _print_rows([*((c, [c]) for c in categories), ("ALL", categories)], [results[key][1] for key in columns])


def _print_rows(groups: list[tuple[str, list[str]]], columns: list[dict[str, tuple[int, int]]]) -> None:
    """One line per group: percentage and counts, summed over the group's keys, in each column."""
    for label, keys in groups:
        cells = []
        for rows in columns:
            hit, n = _total({k: rows[k] for k in keys if k in rows})
            cells.append(f" {_pct(hit, n)} ({hit:>3}/{n:<3})")
        print(f"{label:<26}" + "".join(f"{c:>19}" for c in cells))


if __name__ == "__main__":
    main()
