"""mitmdump with and without maskgate in front of the e2e tests' fake api.openai.com, and clients.

Both proxies load the test-only redirect script, which sends api.openai.com traffic to the fake
server. Plain mitmdump also loads `passthrough_stream_addon.py`: mitmproxy buffers event streams
unless told otherwise, and maskgate streams them, so the baseline must stream too. Each proxy's
CA exists before it starts, as on a user's machine, so start-up times leave out key generation.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from mitmproxy.certs import CertStore
from tests.e2e.net import accepts_connections, free_port

from bench.report import REPO_ROOT

MASKGATE_SCRIPTS = ("addon/maskgate_addon.py", "tests/e2e/redirect_addon.py")
PLAIN_SCRIPTS = ("bench/passthrough_stream_addon.py", "tests/e2e/redirect_addon.py")
READY_MARKER = "maskgate ready"
STARTUP_TIMEOUT_S = 120.0
POLL_S = 0.02
STOP_TIMEOUT_S = 10.0
CA_KEY_SIZE = 2048
"""mitmproxy's default `key_size`."""
CHAT_PATH = "/v1/chat/completions"
CHAT_URL = "https://api.openai.com" + CHAT_PATH
MODELS_URL = "http://api.openai.com/v1/models"
CLIENT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Proxy:
    """A running mitmdump: where to connect, which CA to trust, its log, and when it was launched."""

    url: str
    port: int
    ca_path: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    launched: float
    """`time.perf_counter()` just before the process was created."""


@dataclass(frozen=True)
class Startup:
    """Seconds from launch until the ready line was logged, until the port took connections, and
    until a first request through the proxy was answered.

    The listening socket takes connections well before mitmproxy serves them: the first answer
    says when the proxy is really usable.
    """

    ready_s: float | None
    """None when no ready line was waited for (plain mitmdump)."""
    port_s: float
    answer_s: float


def ensure_ca(confdir: Path) -> Path:
    """Create mitmproxy's CA in `confdir` unless it is there; returns the certificate to trust."""
    CertStore.from_store(confdir, "mitmproxy", CA_KEY_SIZE)
    return confdir / "mitmproxy-ca-cert.pem"


@contextmanager
def mitmdump(scripts: tuple[str, ...], upstream: str, confdir: Path, log_path: Path) -> Iterator[Proxy]:
    """A mitmdump on a free port with `scripts`, sending api.openai.com to `upstream`; stopped on exit."""
    ca_path = ensure_ca(confdir)
    port = free_port()
    command = [str(Path(sys.executable).with_name("mitmdump")), "--listen-host", "127.0.0.1", "-p", str(port)]
    command += ["--set", f"confdir={confdir}", "--set", "connection_strategy=lazy", "--set", "flow_detail=0"]
    for script in scripts:
        command += ["-s", script]
    command += ["--set", f"maskgate_test_upstream={upstream}"]
    with log_path.open("wb") as log:
        launched = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            # Unbuffered, so the ready line reaches the log when it is written.
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Proxy(f"http://127.0.0.1:{port}", port, ca_path, log_path, process, launched)
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(proxy: Proxy, marker: str | None) -> Startup:
    """Wait until the port takes connections, a first request is answered and, if given,
    `marker` is in the log."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        answered = pool.submit(_first_answer, proxy)
        ready_s, port_s = _log_and_port(proxy, marker)
        answer_s = answered.result()
    if (ready_s is None and marker is not None) or port_s is None or answer_s is None:
        log = proxy.log_path.read_text(errors="replace")
        raise RuntimeError(f"mitmdump did not become ready; its log:\n{log}")
    return Startup(ready_s, port_s, answer_s)


def _log_and_port(proxy: Proxy, marker: str | None) -> tuple[float | None, float | None]:
    """Seconds until `marker` was logged and until the port took connections (None: never)."""
    ready_s = port_s = None
    while time.perf_counter() < proxy.launched + STARTUP_TIMEOUT_S and proxy.process.poll() is None:
        if ready_s is None and marker is not None and marker in proxy.log_path.read_text(errors="replace"):
            ready_s = time.perf_counter() - proxy.launched
        if port_s is None and accepts_connections(proxy.port):
            port_s = time.perf_counter() - proxy.launched
        if port_s is not None and (marker is None or ready_s is not None):
            break
        time.sleep(POLL_S)
    return ready_s, port_s


def _first_answer(proxy: Proxy) -> float | None:
    """Seconds until a plain-HTTP request through the proxy got any answer (None: never).

    The request goes to an endpoint maskgate does not inspect, so it costs no analysis.
    """
    while time.perf_counter() < proxy.launched + STARTUP_TIMEOUT_S and proxy.process.poll() is None:
        try:
            httpx2.get(MODELS_URL, proxy=proxy.url, trust_env=False, timeout=STARTUP_TIMEOUT_S)
        except httpx2.TransportError:
            time.sleep(POLL_S)
            continue
        return time.perf_counter() - proxy.launched
    return None


def client(proxy: Proxy | None = None) -> httpx2.Client:
    """A keep-alive client, through `proxy` if given; asks for identity so every path sends the
    same uncompressed bytes."""
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(proxy.ca_path)) if proxy else True
    headers = {"Authorization": "Bearer sk-bench-not-a-secret", "Accept-Encoding": "identity"}
    return httpx2.Client(
        proxy=proxy.url if proxy else None,
        verify=verify,
        trust_env=False,
        timeout=CLIENT_TIMEOUT_S,
        headers=headers,
    )


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


@dataclass(frozen=True)
class Streamed:
    """One streamed answer's timings from the request's start, and whether its text came back exact."""

    headers_s: float
    first_content_s: float
    total_s: float
    exact: bool


def stream(http: httpx2.Client, url: str, prompt: str) -> Streamed:
    """One streamed request whose last user message is `prompt`, which the fake echoes."""
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    reader = ContentReader()
    first = None
    started = time.perf_counter()
    with http.stream("POST", url, json=body) as response:
        headers = time.perf_counter()
        for data in response.iter_bytes():
            if reader.feed(data) and first is None:
                first = time.perf_counter()
    ended = time.perf_counter()
    return Streamed(headers - started, (first or ended) - started, ended - started, reader.text == prompt)


@dataclass(frozen=True)
class Answered:
    """One non-streamed request: its duration, status, and the echoed text when there is one."""

    seconds: float
    status: int
    text: str | None


def post(http: httpx2.Client, url: str, body: dict[str, Any] | bytes) -> Answered:
    """One non-streamed request with `body` (already encoded, or to encode as JSON)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    response = http.post(url, content=content, headers=headers)
    seconds = time.perf_counter() - started
    text = None
    if response.status_code == 200:
        choices = response.json().get("choices") or [{}]
        text = choices[0].get("message", {}).get("content")
    return Answered(seconds, response.status_code, text)


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory (VmRSS) of the process and of it with all its descendants, in MB."""
    own = _vm_rss_kb(pid)
    tree = own + sum(_vm_rss_kb(child) for child in _descendants(pid))
    return {"process_mb": round(own / 1024, 1), "with_children_mb": round(tree / 1024, 1)}


def _vm_rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0  # gone since it was listed
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from the parent ids in /proc/*/stat."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone since it was listed
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found
