"""`make bench`: every benchmark section, one table each, and a JSON report with the machine.

1. masking in process by body size, against plain Presidio on the same texts;
2. a conversation resent turn after turn: 100 KB of history plus a new 1 KB message;
3. end to end through mitmdump: time added to non-streamed answers and to the first streamed
   content, against plain mitmdump;
4. small requests while eight 50 KB ones are in flight;
5. start-up time and resident memory after start and after many requests.

Figures are medians (with the 90th percentile and maximum where they matter), each next to its
aim; nothing fails on a number. Usage: ``python -m bench.run [--quick] [--sections 1,3]
[--name NAME]`` from the repository root; the report goes to ``bench/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import e2e, footprint, inprocess, load
from bench.report import AIMS, REPO_ROOT, load_average, machine, met, table

RESULTS = REPO_ROOT / "bench" / "results"


@dataclass(frozen=True)
class Profile:
    """How much of everything to measure."""

    runs_by_size_kb: dict[int, int]
    turns: int
    rounds: int
    small_requests: int
    load_budget_s: float
    requests: int
    starts: int


FULL = Profile(
    runs_by_size_kb={1: 20, 2: 20, 10: 8, 100: 5},
    turns=20,
    rounds=50,
    small_requests=30,
    load_budget_s=90,
    requests=1000,
    starts=3,
)
QUICK = Profile(
    runs_by_size_kb={1: 5, 2: 5, 10: 2, 100: 1},
    turns=5,
    rounds=10,
    small_requests=10,
    load_budget_s=30,
    requests=100,
    starts=1,
)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    profile = QUICK if args.quick else FULL
    name = args.name or ("quick" if args.quick else "full")
    started = time.monotonic()
    info = machine()
    print(_machine_line(info), flush=True)
    report: dict[str, Any] = {"name": name, "profile": asdict(profile), "machine": info}
    report["load_average_start"] = load_average()
    with tempfile.TemporaryDirectory(prefix="maskgate-bench-") as tmp:
        report["sections"] = run_sections(profile, args.sections, Path(tmp))
    report["load_average_end"] = load_average()
    report["aims"] = collect_aims(report["sections"])
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    print(aims_table(report["aims"]))
    start, end = report["load_average_start"], report["load_average_end"]
    print(f"load average (1, 5, 15 min): {start} at start, {end} at end")
    path = RESULTS / f"{name}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {path} in {report['elapsed_s']:.0f} s")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and requests: about 2 minutes")
    parser.add_argument(
        "--sections", type=_sections, default=frozenset(range(1, 6)), help="comma-separated, e.g. 1,3 (all)"
    )
    parser.add_argument("--name", help="report name: bench/results/NAME.json (full or quick)")
    return parser.parse_args(argv)


def _sections(value: str) -> frozenset[int]:
    chosen = frozenset(int(part) for part in value.split(","))
    if not chosen <= set(range(1, 6)):
        raise argparse.ArgumentTypeError("sections are 1 to 5")
    return chosen


def run_sections(profile: Profile, chosen: frozenset[int], workdir: Path) -> dict[str, Any]:
    """Run the chosen sections in order, printing each one's table as soon as it is done."""
    sections: dict[str, Any] = {}
    engines = None
    if chosen & {1, 2}:
        _progress("loading maskgate's detector and plain Presidio")
        engines = inprocess.load_engines()
        sections["engines"] = {"build_s": engines.build_s}
    steps: list[tuple[int, str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], str]]] = [
        (1, "by_size", lambda: inprocess.by_size(engines, profile.runs_by_size_kb), by_size_table),
        (2, "conversation", lambda: inprocess.conversation(engines, profile.turns), conversation_table),
        (3, "end_to_end", lambda: e2e.end_to_end(profile.rounds, workdir), end_to_end_table),
        (
            4,
            "concurrency",
            lambda: load.concurrency(profile.small_requests, profile.load_budget_s, workdir),
            concurrency_table,
        ),
        (
            5,
            "footprint",
            lambda: footprint.footprint(profile.requests, profile.starts, workdir),
            footprint_table,
        ),
    ]
    for number, key, measure, show in steps:
        if number not in chosen:
            continue
        _progress(f"section {number}: {key.replace('_', ' ')}")
        started = time.monotonic()
        sections[key] = {**measure(), "elapsed_s": round(time.monotonic() - started, 1)}
        print(show(sections[key]), flush=True)
    return sections


def collect_aims(sections: dict[str, Any]) -> dict[str, Any]:
    """Every figure that has an aim, from every section run."""
    return {name: check for section in sections.values() for name, check in section.get("aims", {}).items()}


def by_size_table(section: dict[str, Any]) -> str:
    aims = {2: AIMS["turn_2kb"], 100: AIMS["cold_100kb"]}
    rows = []
    for row in section["rows"]:
        ours, theirs, aim = row["maskgate"], row["presidio"], aims.get(row["size_kb"])
        check = aim.check(ours["median_ms"]) if aim else None
        rows.append(
            [
                row["kind"], f"{row['size_kb']} KB", row["messages"], ours["n"],
                ours["median_ms"], ours["p90_ms"], theirs["median_ms"], theirs["p90_ms"],
                f"{row['speedup']:.1f}x", check["aim"] if check else "", met(check) if check else "",
            ]
        )  # fmt: skip
    header = [
        "text",
        "body",
        "msgs",
        "runs",
        "maskgate ms",
        "p90",
        "presidio ms",
        "p90",
        "speed-up",
        "aim",
        "met",
    ]
    notes = [
        "maskgate: parse + mask_chat_request + encode; presidio: default AnalyzerEngine on each message.",
        "Every run is a new text (nothing cached); medians over the runs.",
    ]
    return table("1. Masking in process by body size", header, rows, notes)


def conversation_table(section: dict[str, Any]) -> str:
    turns, cold, warm = section["turns"], section["cold"], section["warm"]
    aims = section["aims"]
    cold_aim = aims["cold_100kb_conversation"]
    rows = [
        [
            "turn 1 (cold)", cold["body_bytes"] // 1024, cold["ms"], "", "",
            section["presidio"]["first_turn_ms"], f"{section['speedup']['first_turn']:.1f}x",
            cold_aim["aim"], met(cold_aim),
        ]
    ]  # fmt: skip
    if warm:
        aim = aims["turn_on_history"]
        known = section["warm_answer_known"]
        judged = ["", ""] if known else [aim["aim"], met(aim)]
        sizes = f"{turns[1]['body_bytes'] // 1024}-{turns[-1]['body_bytes'] // 1024}"
        rows.append(
            [
                f"turns 2-{len(turns)}", sizes,
                warm["median_ms"], warm["p90_ms"], warm["max_ms"], section["presidio"]["last_turn_ms"],
                f"{section['speedup']['last_turn']:.1f}x", *judged,
            ]
        )  # fmt: skip
        if known:
            figures = [known["median_ms"], known["p90_ms"], known["max_ms"]]
            rows.append(["same, answer met before", sizes, *figures, "", "", aim["aim"], met(aim)])
    header = ["turn", "body KB", "maskgate ms", "p90", "max", "presidio ms", "speed-up", "aim", "met"]
    notes = [
        "Each turn resends the history plus the previous answer and a new 1 KB message: 2 KB of new text.",
        "'answer met before': each answer analysed before the turn that resends it, as the proxy does",
        "once it has restored the answer; only the message is new. The aim is judged on that row.",
        "presidio: the whole first (and last) turn's body; speed-up against maskgate's same turn.",
    ]
    return table("2. Conversation: 100 KB history + 1 KB per turn", header, rows, notes)


def end_to_end_table(section: dict[str, Any]) -> str:
    rows = [
        [
            row["path"], row["prompt"], row["json_total"]["median_ms"], row["json_total"]["p90_ms"],
            row["stream_first_content"]["median_ms"], row["stream_first_content"]["p90_ms"],
            row["stream_first_content_after_headers"]["median_ms"], row["stream_total"]["median_ms"],
            f"{row['json_exact'] + row['stream_exact']}/{2 * row['json_total']['n']}",
        ]
        for row in section["rows"]
    ]  # fmt: skip
    header = [
        "path",
        "prompt",
        "json ms",
        "p90",
        "1st content ms",
        "p90",
        "after headers",
        "stream total",
        "exact",
    ]
    first = table(f"3. End to end, {section['rounds']} requests per row (medians)", header, rows)
    added_rows = [
        [
            kind, added["json_total_ms"], added["first_content_ms"], added["first_content_after_headers_ms"],
            added["aim"]["aim"], met(added["aim"]),
        ]
        for kind, added in section["added"].items()
    ]  # fmt: skip
    restorer = section["restorer"]
    notes = [
        "Medians minus plain mitmdump's. '1st content' includes the analysis of the request;",
        "'after headers' counts from the answer's headers: the stream path alone, held to the aim.",
        f"Stream restorer in process: {restorer['mb_per_s']} MB/s on {restorer['input_bytes'] / 1e6:.2f} MB"
        f" in {restorer['read_bytes']}-byte reads, exact: {restorer['exact']}.",
    ]
    header = ["prompt", "json ms", "1st content ms", "after headers ms", "aim", "met"]
    return first + table("   added by maskgate", header, added_rows, notes)


def concurrency_table(section: dict[str, Any]) -> str:
    def row(label: str, figures: dict[str, Any] | None) -> list[Any]:
        if figures is None:
            return [label, 0, "", "", "", ""]
        failed = ", ".join(f"{n}x{status}" for status, n in figures["failed"].items()) or "none"
        return [label, figures["n"], figures["median_ms"], figures["p90_ms"], figures["max_ms"], failed]

    aim = section["aims"]["small_request_worst_delay"]
    rows = [
        row(f"{section['small_kb']} KB, idle proxy", section["idle"]),
        row(
            f"{section['small_kb']} KB, {section['in_flight']} x {section['load_kb']} KB in flight",
            section["loaded"],
        ),
        row(f"the {section['load_kb']} KB requests", section["large"]),
    ]
    notes = [
        f"Worst delay (loaded max - idle median): {section['worst_delay_ms']:.1f} ms,"
        f" aim {aim['aim']}: {met(aim)}.",
        "Through a real mitmdump with maskgate; every request is new text.",
    ]
    header = ["requests", "n", "median ms", "p90", "max", "failed"]
    return table("4. Concurrency: small requests under load", header, rows, notes)


def footprint_table(section: dict[str, Any]) -> str:
    plain, ours, aims = section["plain"], section["maskgate"], section["aims"]
    memory = ours["memory"]
    rows = [
        [
            "plain mitmdump", "", plain["port_s"], plain["answer_s"],
            plain["rss_after_start"]["with_children_mb"], "", "", "",
        ],
        [
            "maskgate", ours["ready_s"], ours["port_s"], ours["answer_s"], memory[0]["with_children_mb"],
            memory[-1]["with_children_mb"], f"{aims['startup']['aim']}, {aims['rss_after_requests']['aim']}",
            f"{met(aims['startup'])}, {met(aims['rss_after_requests'])}",
        ],
    ]  # fmt: skip
    after = f"after {memory[-1]['requests']} req MB"
    header = ["proxy", "ready s", "port s", "answers s", "RSS start MB", after, "aims", "met"]
    notes = [
        f"Start-up: median of {section['starts']} start(s), CA already present; the aim is on 'answers':",
        "the first request through the proxy answered (the port takes connections before it serves).",
        "RSS: VmRSS of mitmdump with its child processes.",
        f"Requests: new {footprint.REQUEST_KB} KB texts; failed: {ours['failed']}. "
        + "RSS by requests: "
        + ", ".join(f"{m['requests']}: {m['with_children_mb']:.0f}" for m in memory),
    ]
    return table("5. Start-up and memory", header, rows, notes)


def aims_table(aims: dict[str, Any]) -> str:
    rows = [[name, check["value"], check["aim"], met(check)] for name, check in aims.items()]
    return table("Aims (medians unless said otherwise)", ["figure", "value", "aim", "met"], rows)


def _machine_line(info: dict[str, Any]) -> str:
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    return (
        f"machine: {info['cpu']}, {info['cores_usable']} of {info['cores']} cores, {info['ram_gb']} GB RAM,"
        f" Python {info['python']}\n{packages}; source {info['source']}\n"
    )


def _progress(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
