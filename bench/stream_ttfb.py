"""How much a streamed answer is delayed by mitmproxy, and by maskgate on top of it.

Prints figures and writes them to bench/results/stream_ttfb.json; it never asserts, because
timings depend on the machine. Three paths are compared over the same fake upstream (the e2e
tests' fake api.openai.com): direct, through a plain mitmdump, and through a mitmdump with
maskgate. For each, time to the first content event and total time are measured over N
streamed requests, with a prompt holding personal data and one holding none. Each prompt
carries its request number, so maskgate analyses every request rather than reusing a result.
The in-process throughput of the stream restorer is measured on a synthetic ~1 MB stream.

Run with `make bench` (it needs the project venv).
"""

from __future__ import annotations

import json
import os
import platform
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import mitmproxy.version

from maskgate.restore.sse import SseRestorer
from maskgate.restore.text import RestoreTally
from maskgate.vault import Vault

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from tests.e2e.fake_openai import FakeOpenAI, chat_completion_events  # noqa: E402
from tests.e2e.net import accepts_connections, free_port  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results" / "stream_ttfb.json"
MASKGATE_ADDON = "addon/maskgate_addon.py"
REDIRECT_ADDON = "tests/e2e/redirect_addon.py"
PASSTHROUGH_ADDON = "bench/passthrough_stream_addon.py"
READY_MARKER = "maskgate ready"
STARTUP_TIMEOUT_S = 90.0
CHAT_URL = "https://api.openai.com/v1/chat/completions"
REQUESTS = 50
WARM_UP = 3
RESTORER_BYTES = 1_000_000
RESTORER_READ = 4096
RESTORER_RUNS = 5
BUFFERED_SHARE = 0.9
"""A first content this close to the end means the path held the stream back."""

PII_PROMPT = (
    "Hello, please write a short reply to Dana Whitfield (dana.whitfield@example.org, phone"
    " +1 415-555-0132) about ticket {n}: her refund for card 4111 1111 1111 1111 was approved."
)
PLAIN_PROMPT = (
    "Hello, please write a short reply to the customer about ticket {n}: the refund for the"
    " annual plan was approved and will arrive within five working days."
)
PROMPTS = {"pii": PII_PROMPT, "plain": PLAIN_PROMPT}


@dataclass(frozen=True)
class Sample:
    first_content_s: float
    total_s: float
    exact: bool


@dataclass(frozen=True)
class Route:
    """One way to reach the fake API: a client configured for it."""

    name: str
    client: httpx2.Client
    url: str


class ContentReader:
    """Reassembles the first choice's text from SSE bytes as they arrive."""

    def __init__(self) -> None:
        self._buf = b""
        self.text = ""

    def feed(self, data: bytes) -> bool:
        """Take a read; True once some content has arrived."""
        self._buf += data
        *events, self._buf = self._buf.replace(b"\r\n", b"\n").split(b"\n\n")
        for event in events:
            for line in event.split(b"\n"):
                payload = line.removeprefix(b"data:").strip()
                if line.startswith(b"data:") and payload != b"[DONE]":
                    choices = json.loads(payload)["choices"]
                    if choices:
                        self.text += choices[0]["delta"].get("content") or ""
        return bool(self.text)


@contextmanager
def mitmdump(name: str, scripts: list[str], upstream: str, workdir: Path) -> Iterator[tuple[str, Path, Path]]:
    """A mitmdump on a free port with its own confdir; yields (proxy URL, CA path, log path)."""
    port = free_port()
    confdir = workdir / name
    log_path = workdir / f"{name}.log"
    command = [str(Path(sys.executable).with_name("mitmdump")), "--listen-host", "127.0.0.1", "-p", str(port)]
    command += ["--set", f"confdir={confdir}", "--set", "connection_strategy=lazy", "--set", "flow_detail=0"]
    for script in scripts:
        command += ["-s", script]
    command += ["--set", f"maskgate_test_upstream={upstream}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield f"http://127.0.0.1:{port}", confdir / "mitmproxy-ca-cert.pem", log_path
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(port_url: str, ca_path: Path, log_path: Path, marker: str | None) -> None:
    """Wait for the port, the CA and (for maskgate) the ready line; exit with the log otherwise."""
    port = int(port_url.rsplit(":", 1)[1])
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        logged = marker is None or marker in log_path.read_text(errors="replace")
        if logged and ca_path.exists() and accepts_connections(port):
            return
        time.sleep(0.1)
    sys.exit(f"{log_path.stem} not ready after {STARTUP_TIMEOUT_S:.0f} s; log:\n{log_path.read_text()}")


def _client(proxy: str | None = None, ca_path: Path | None = None) -> httpx2.Client:
    """A keep-alive client; asks for identity so all paths stream the same uncompressed bytes."""
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_path)) if ca_path else True
    headers = {"Authorization": "Bearer sk-bench-not-a-secret", "Accept-Encoding": "identity"}
    return httpx2.Client(proxy=proxy, verify=verify, trust_env=False, timeout=60, headers=headers)


def measure(route: Route, prompt: str) -> Sample:
    """One streamed request: time to the first content event, time to the end, exact text."""
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    reader = ContentReader()
    first = None
    started = time.perf_counter()
    with route.client.stream("POST", route.url, json=body) as response:
        for data in response.iter_bytes():
            if reader.feed(data) and first is None:
                first = time.perf_counter()
    ended = time.perf_counter()
    return Sample((first or ended) - started, ended - started, reader.text == prompt)


def summary(values: list[float]) -> dict[str, float]:
    """Median and 90th percentile, in milliseconds."""
    return {
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p90_ms": round(statistics.quantiles(values, n=10)[8] * 1000, 2),
    }


def run_requests(routes: list[Route]) -> list[dict[str, Any]]:
    """N requests per route and prompt, interleaved so that drift in the machine hits all alike."""
    samples: dict[tuple[str, str], list[Sample]] = {(r.name, p): [] for r in routes for p in PROMPTS}
    for n in range(-WARM_UP, REQUESTS):
        for route in routes:
            for kind, template in PROMPTS.items():
                sample = measure(route, template.format(n=n))
                if n >= 0:
                    samples[route.name, kind].append(sample)
    return [
        {
            "path": name,
            "prompt": kind,
            "requests": len(found),
            "exact": sum(s.exact for s in found),
            "first_content": summary([s.first_content_s for s in found]),
            "total": summary([s.total_s for s in found]),
        }
        for (name, kind), found in samples.items()
    ]


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
    """Best of a few runs of the restorer over the synthetic stream, fed in fixed-size reads."""
    vault, stream, original = synthetic_stream()
    reads = [stream[i : i + RESTORER_READ] for i in range(0, len(stream), RESTORER_READ)]
    best = float("inf")
    exact = False
    for _ in range(RESTORER_RUNS):
        restorer = SseRestorer(vault, RestoreTally())
        out: list[bytes] = []
        started = time.perf_counter()
        for read in [*reads, b""]:
            result = restorer(read)
            out += [result] if isinstance(result, bytes) else result
        best = min(best, time.perf_counter() - started)
        reader = ContentReader()
        reader.feed(b"".join(out))
        exact = reader.text == original
    return {
        "input_bytes": len(stream),
        "read_bytes": RESTORER_READ,
        "best_s": round(best, 4),
        "mb_per_s": round(len(stream) / best / 1e6, 1),
        "exact": exact,
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "mitmproxy": mitmproxy.version.VERSION,
        "platform": platform.platform(),
    }


def print_report(info: dict[str, Any], rows: list[dict[str, Any]], restorer: dict[str, Any]) -> None:
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['platform']}")
    print(f"Python {info['python']}, mitmproxy {info['mitmproxy']}")
    print(f"{REQUESTS} streamed requests per row; the fake pauses {info['write_delay_ms']:g} ms per write\n")
    header = f"{'path':<9} {'prompt':<6} {'first content ms':>20} {'total ms':>18} {'exact':>6}"
    print(header + "\n" + " " * 17 + f"{'median':>10}{'p90':>10} {'median':>9}{'p90':>9}")
    buffered = False
    for row in rows:
        first, total = row["first_content"], row["total"]
        late = first["median_ms"] >= BUFFERED_SHARE * total["median_ms"]
        buffered |= late
        print(
            f"{row['path']:<9} {row['prompt']:<6} {first['median_ms']:>10.1f}{first['p90_ms']:>10.1f}"
            f" {total['median_ms']:>9.1f}{total['p90_ms']:>9.1f} {row['exact']:>3}/{row['requests']}"
            + (" *" if late else "")
        )
    if buffered:
        print("* first content came with the end: the stream was buffered on this path")
    print(
        f"\nrestorer in process: {restorer['mb_per_s']} MB/s on {restorer['input_bytes'] / 1e6:.2f} MB"
        f" in {restorer['read_bytes']}-byte reads (best of {RESTORER_RUNS}), exact: {restorer['exact']}"
    )


def main() -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        fake = stack.enter_context(FakeOpenAI())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maskgate-bench-")))
        proxies: dict[str, tuple[str, Path, Path]] = {
            # Plain mitmdump buffers event streams unless told to stream: compare like with like.
            "mitmproxy": stack.enter_context(
                mitmdump("plain", [PASSTHROUGH_ADDON, REDIRECT_ADDON], fake.url, workdir)
            ),
            "maskgate": stack.enter_context(
                mitmdump("maskgate", [MASKGATE_ADDON, REDIRECT_ADDON], fake.url, workdir)
            ),
        }
        for name, (url, ca_path, log_path) in proxies.items():
            wait_ready(url, ca_path, log_path, READY_MARKER if name == "maskgate" else None)
        routes = [Route("direct", stack.enter_context(_client()), f"{fake.url}/v1/chat/completions")]
        routes += [
            Route(name, stack.enter_context(_client(url, ca_path)), CHAT_URL)
            for name, (url, ca_path, _) in proxies.items()
        ]
        rows = run_requests(routes)
        info = {**machine(), "write_delay_ms": fake.write_delay * 1000}
    restorer = restorer_throughput()
    print_report(info, rows, restorer)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": info,
        "requests": REQUESTS,
        "streams": rows,
        "restorer": restorer,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(REPO_ROOT)} in {report['elapsed_s']} s")


if __name__ == "__main__":
    main()
