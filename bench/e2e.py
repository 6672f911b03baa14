"""Section 3: the time maskgate adds end to end, against plain mitmdump, over the fake upstream.

Three paths reach the e2e tests' fake api.openai.com: directly, through plain mitmdump, and
through mitmdump with maskgate. On each, a short prompt with personal data and one without are
sent streamed and not streamed, interleaved round by round so that drift in the machine's load
hits every path alike. Every prompt carries its round and mode, so maskgate analyses each one
afresh: nothing is cached. The fake echoes the prompt, which checks the round trip too.

Time added to the first streamed content is given twice: from the request's start (it includes
maskgate's analysis of the request) and from the answer's headers (only the stream restorer and
the proxy's passing on). The in-process throughput of the stream restorer is measured on a
synthetic ~1 MB stream.
"""

from __future__ import annotations

import random
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
from tests.e2e.fake_openai import FakeOpenAI, chat_completion_events

from bench import proxy
from bench.report import AIMS, ms
from maskgate.restore.sse import SseRestorer
from maskgate.restore.text import RestoreTally
from maskgate.vault import Vault

WARM_UP = 3
PROMPTS = {
    "pii": (
        "Hello, please write a short reply to Dana Whitfield (dana.whitfield@example.org, phone"
        " +1 415-555-0132) about ticket {n}: her refund for card 4111 1111 1111 1111 was approved."
    ),
    "plain": (
        "Hello, please write a short reply to the customer about ticket {n}: the refund for the"
        " annual plan was approved and will arrive within five working days."
    ),
}
RESTORER_BYTES = 1_000_000
RESTORER_READ = 4096
RESTORER_RUNS = 5


def end_to_end(rounds: int, workdir: Path) -> dict[str, Any]:
    """`rounds` requests per path, prompt and mode (after a few not counted), and what they add."""
    with ExitStack() as stack:
        fake = stack.enter_context(FakeOpenAI())
        proxies = {
            "mitmproxy": stack.enter_context(
                proxy.mitmdump(proxy.PLAIN_SCRIPTS, fake.url, workdir / "plain", workdir / "e2e-plain.log")
            ),
            "maskgate": stack.enter_context(
                proxy.mitmdump(
                    proxy.MASKGATE_SCRIPTS, fake.url, workdir / "maskgate", workdir / "e2e-maskgate.log"
                )
            ),
        }
        proxy.wait_ready(proxies["mitmproxy"], None)
        proxy.wait_ready(proxies["maskgate"], proxy.READY_MARKER)
        routes = {"direct": (stack.enter_context(proxy.client()), fake.url + proxy.CHAT_PATH)}
        for name, running in proxies.items():
            routes[name] = (stack.enter_context(proxy.client(running)), proxy.CHAT_URL)
        rows = _measure(routes, rounds)
        write_delay_ms = fake.write_delay * 1000
    added = _added(rows)
    return {
        "rounds": rounds,
        "fake_write_delay_ms": write_delay_ms,
        "rows": rows,
        "added": added,
        "restorer": restorer_throughput(),
        "aims": {f"first_byte_added_{kind}": figures["aim"] for kind, figures in added.items()},
    }


def _measure(routes: dict[str, tuple[httpx2.Client, str]], rounds: int) -> list[dict[str, Any]]:
    streamed: dict[tuple[str, str], list[proxy.Streamed]] = {(r, p): [] for r in routes for p in PROMPTS}
    answered: dict[tuple[str, str], list[tuple[float, bool]]] = {(r, p): [] for r in routes for p in PROMPTS}
    for n in range(-WARM_UP, rounds):
        for route, (http, url) in routes.items():
            for kind, template in PROMPTS.items():
                sample = proxy.stream(http, url, template.format(n=f"{n}-s"))
                prompt = template.format(n=f"{n}-j")
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
                answer = proxy.post(http, url, body)
                if n >= 0:
                    streamed[route, kind].append(sample)
                    answered[route, kind].append((answer.seconds, answer.text == prompt))
    rows = []
    for (route, kind), samples in streamed.items():
        answers = answered[route, kind]
        rows.append(
            {
                "path": route,
                "prompt": kind,
                "json_total": ms([seconds for seconds, _ in answers]),
                "json_exact": sum(exact for _, exact in answers),
                "stream_headers": ms([s.headers_s for s in samples]),
                "stream_first_content": ms([s.first_content_s for s in samples]),
                "stream_first_content_after_headers": ms([s.first_content_s - s.headers_s for s in samples]),
                "stream_total": ms([s.total_s for s in samples]),
                "stream_exact": sum(s.exact for s in samples),
            }
        )
    return rows


def _added(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """maskgate's medians minus plain mitmdump's, per prompt; the answer side against its aim."""
    by = {(r["path"], r["prompt"]): r for r in rows}
    added: dict[str, Any] = {}
    for kind in PROMPTS:
        ours, theirs = by["maskgate", kind], by["mitmproxy", kind]
        answer_side = _median_difference(ours, theirs, "stream_first_content_after_headers")
        added[kind] = {
            "json_total_ms": _median_difference(ours, theirs, "json_total"),
            "first_content_ms": _median_difference(ours, theirs, "stream_first_content"),
            "first_content_after_headers_ms": answer_side,
            "aim": AIMS["first_byte_added"].check(answer_side),
        }
    return added


def _median_difference(ours: dict[str, Any], theirs: dict[str, Any], key: str) -> float:
    return round(ours[key]["median_ms"] - theirs[key]["median_ms"], 2)


def synthetic_stream() -> tuple[Vault, bytes, str]:
    """A ~1 MB masked SSE stream in 1-6 character deltas, its vault, and the original text."""
    vault = Vault()
    values = [("Dana Whitfield", "PERSON"), ("dana.whitfield@example.org", "EMAIL_ADDRESS")]
    values += [("+1 415-555-0132", "PHONE_NUMBER"), ("4111 1111 1111 1111", "CREDIT_CARD")]
    masked_sentence = original_sentence = (
        "Dear {PERSON}, we sent the receipt to {EMAIL_ADDRESS} and will call {PHONE_NUMBER} about"
        " the card {CREDIT_CARD} tomorrow; nothing else is needed from you. "
    )
    for value, kind in values:
        masked_sentence = masked_sentence.replace("{" + kind + "}", vault.placeholder_for(value, kind))
        original_sentence = original_sentence.replace("{" + kind + "}", value)
    # About 80 bytes of event per character of text, at 3.5 characters per delta.
    repeats = RESTORER_BYTES // (80 * len(masked_sentence)) + 1
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": masked_sentence * repeats}]}
    stream = b"".join(chat_completion_events(request, random.Random(0)))
    return vault, stream, original_sentence * repeats


def restorer_throughput() -> dict[str, Any]:
    """Median of a few runs of the restorer over the synthetic stream, fed in fixed-size reads."""
    vault, stream, original = synthetic_stream()
    reads = [stream[i : i + RESTORER_READ] for i in range(0, len(stream), RESTORER_READ)]
    durations = []
    exact = True
    for _ in range(RESTORER_RUNS):
        restorer = SseRestorer(vault, RestoreTally())
        out: list[bytes] = []
        started = time.perf_counter()
        for read in [*reads, b""]:
            result = restorer(read)
            out += [result] if isinstance(result, bytes) else result
        durations.append(time.perf_counter() - started)
        reader = proxy.ContentReader()
        reader.feed(b"".join(out))
        exact &= reader.text == original
    median = statistics.median(durations)
    return {
        "input_bytes": len(stream),
        "read_bytes": RESTORER_READ,
        "median_s": round(median, 4),
        "mb_per_s": round(len(stream) / median / 1e6, 1),
        "exact": exact,
    }
