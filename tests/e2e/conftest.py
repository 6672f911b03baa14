"""End-to-end fixtures: a real mitmdump with the maskgate addon, a fake api.openai.com, and clients.

The proxy starts once per session (loading the detection models takes seconds) and sends
api.openai.com traffic to the fake server through the test-only redirect script. Clients trust
only the CA that this mitmdump generated, exactly as a user's machine would after set-up.
When a test fails, the part of the mitmdump log written during that test is added to its report.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import openai
import pytest

from maskgate.policy import DEFAULT_RULES

from .fake_openai import FakeOpenAI
from .net import accepts_connections, free_port

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
ADDON_ENV = "MASKGATE_E2E_ADDON"
DEFAULT_ADDON = "addon/maskgate_addon.py"
REDIRECT_ADDON = "tests/e2e/redirect_addon.py"
READY_MARKER = "maskgate ready"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 200

OPENAI_BASE_URL = "https://api.openai.com"
TEST_API_KEY = "sk-test-not-a-secret"


@dataclass(frozen=True)
class Proxy:
    """A running mitmdump: where to connect, which CA to trust, where its log is."""

    url: str
    port: int
    confdir: Path
    ca_path: Path
    log_path: Path

    @classmethod
    def on_free_port(cls, workdir: Path, log_name: str) -> Proxy:
        """A proxy to start on a free loopback port, with its confdir and log in `workdir`."""
        port = free_port()
        confdir = workdir / "confdir"
        return cls(
            url=f"http://127.0.0.1:{port}",
            port=port,
            confdir=confdir,
            ca_path=confdir / "mitmproxy-ca-cert.pem",
            log_path=workdir / log_name,
        )

    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Run `argv` from the repository root, its output going to this proxy's log."""
        with self.log_path.open("wb") as log:
            return subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, start: int = 0) -> str:
        """The log from byte offset ``start`` on (use ``log_size()`` to mark a point)."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", errors="replace")

    def log_tail(self, start: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.log_text(start).splitlines()[-lines:])


_LOG_START = pytest.StashKey[tuple[Proxy, int]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every e2e test starts real processes: mark them all slow."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the mitmdump log lines written during a failed test to its report."""
    report = yield
    started = item.stash.get(_LOG_START, None)
    if started is not None and report.failed:
        proxy, offset = started
        report.sections.append((f"mitmdump log during this test ({proxy.log_path})", proxy.log_tail(offset)))
    return report


def _addon_script() -> str:
    """The addon under test: the real one unless the environment names another (for debugging)."""
    return os.environ.get(ADDON_ENV) or DEFAULT_ADDON


def _mitmdump_command(port: int, confdir: Path, upstream: str, extra: list[str]) -> list[str]:
    mitmdump = Path(sys.executable).with_name("mitmdump")
    if not mitmdump.exists():
        pytest.fail(f"mitmdump not found next to {sys.executable}; run the tests with the project venv")
    return [
        str(mitmdump),
        "--listen-host",
        "127.0.0.1",
        "-p",
        str(port),
        "--set",
        f"confdir={confdir}",
        "--set",
        "connection_strategy=lazy",
        "-s",
        _addon_script(),
        "-s",
        REDIRECT_ADDON,
        "--set",
        f"maskgate_test_upstream={upstream}",
        *extra,
    ]


def _wait_until_ready(process: subprocess.Popen[bytes], proxy: Proxy) -> None:
    """Wait for the port, the CA file and the addon's ready line; fail with the log otherwise."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"mitmdump exited with code {process.returncode} during start-up; log {proxy.log_path}:\n"
                f"{proxy.log_tail()}",
                pytrace=False,
            )
        if READY_MARKER in proxy.log_text() and proxy.ca_path.exists() and accepts_connections(proxy.port):
            return
        time.sleep(0.1)
    pytest.fail(
        f"mitmdump not ready after {STARTUP_TIMEOUT_S:.0f} s (waiting for: port open, CA written,"
        f" {READY_MARKER!r} logged); log {proxy.log_path}:\n{proxy.log_tail()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ca_context(proxy: Proxy) -> ssl.SSLContext:
    """A TLS context that trusts the mitmproxy CA and nothing else."""
    return ssl.create_default_context(cafile=str(proxy.ca_path))


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    """The fake api.openai.com for the whole session; tests use ``fake_openai`` instead."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The fake server with no recorded requests or scripted answers from earlier tests.

    A test may change ``seed`` or ``write_delay``; both are put back afterwards.
    """
    seed, write_delay = fake_openai_server.seed, fake_openai_server.write_delay
    fake_openai_server.clear()
    yield fake_openai_server
    fake_openai_server.seed, fake_openai_server.write_delay = seed, write_delay
    fake_openai_server.clear()


@contextlib.contextmanager
def running_mitmdump(fake_openai_server: FakeOpenAI, workdir: Path, extra: list[str]) -> Iterator[Proxy]:
    """A mitmdump with the addon under test and the redirect to the fake server, until exit."""
    proxy = Proxy.on_free_port(workdir, "mitmdump.log")
    process = proxy.start(_mitmdump_command(proxy.port, proxy.confdir, fake_openai_server.url, extra))
    try:
        _wait_until_ready(process, proxy)
        yield proxy
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def mitmdump_proxy(
    fake_openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    """One mitmdump for the session with the shipped rules."""
    with running_mitmdump(fake_openai_server, tmp_path_factory.mktemp("mitmdump"), []) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def actions_mitmdump_proxy(
    fake_openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    """A second mitmdump whose rules use the options the shipped ones leave unused
    (see `ACTION_RULE_CHANGES`).

    Started only by the tests that use it, since loading the models takes seconds.
    """
    workdir = tmp_path_factory.mktemp("mitmdump-actions")
    rules = write_rules(workdir / "actions.yaml", ACTION_RULE_CHANGES)
    with running_mitmdump(fake_openai_server, workdir, ["--set", f"maskgate_rules={rules}"]) as proxy:
        yield proxy


def write_rules(path: Path, changes: Iterable[tuple[str, str]]) -> Path:
    """Write the shipped rules to `path` with each (old, new) text replacement made."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for old, new in changes:
        if old not in text:
            pytest.fail(f"the shipped rules no longer contain {old!r}; update the test's rule changes")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


ACTION_RULE_CHANGES = (
    ("    default: mask", "    PRIVATE_KEY: block\n    AWS_SECRET_ACCESS_KEY: redact\n    default: mask"),
    ("PHONE_NUMBER: {action: mask", "PHONE_NUMBER: {action: log"),
    (
        "    LOCATION: {action: mask, min_score: 0.5}\n",
        "    LOCATION: {action: mask, min_score: 0.5}\n    EMPLOYEE_ID: {action: mask, min_score: 0.5}\n",
    ),
    ("other_endpoints: pass", "other_endpoints: block"),
    ("on_failure: closed", "on_failure: open"),
    (
        "\nallow:\n",
        "\nallow:\n  - value: Ada Lovelace\n"
        "  - regex: 'ada\\.[a-z]+@example\\.org'\n    types: [EMAIL_ADDRESS]\n",
    ),
    (
        "\n  recognizers:\n",
        "\n  recognizers:\n    - id: employee-id\n      type: EMPLOYEE_ID\n"
        "      regex: '\\bE-\\d{6}\\b'\n      score: 0.3\n      context: [employee, staff]\n",
    ),
    ("  deny: []", "  deny:\n    - type: PROJECT_NAME\n      terms: [Bluebird, Project Falcon]"),
)
"""How the rules of `actions_mitmdump_proxy` differ from the shipped ones: private keys
blocked, AWS secrets redacted, phone numbers only logged, an allow list, a deny list, a
recognizer of employee ids that needs a context word, other endpoints blocked, and
failures let through (fail open)."""


@pytest.fixture
def proxy(mitmdump_proxy: Proxy, request: pytest.FixtureRequest) -> Proxy:
    """The session's mitmdump; marks where this test's log starts, for the failure report."""
    request.node.stash[_LOG_START] = (mitmdump_proxy, mitmdump_proxy.log_size())
    return mitmdump_proxy


@pytest.fixture
def actions_proxy(actions_mitmdump_proxy: Proxy, request: pytest.FixtureRequest) -> Proxy:
    """The mitmdump with per-entity actions; marks where this test's log starts."""
    request.node.stash[_LOG_START] = (actions_mitmdump_proxy, actions_mitmdump_proxy.log_size())
    return actions_mitmdump_proxy


def _sdk(proxy: Proxy) -> openai.OpenAI:
    """The openai SDK going through `proxy`, trusting only the mitmproxy CA, without retries."""
    http_client = openai.DefaultHttpxClient(proxy=proxy.url, verify=_ca_context(proxy), trust_env=False)
    return openai.OpenAI(api_key=TEST_API_KEY, max_retries=0, timeout=60, http_client=http_client)


@pytest.fixture
def client(proxy: Proxy, fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    """The openai SDK going through the proxy, trusting only the mitmproxy CA, without retries."""
    with _sdk(proxy) as sdk:
        yield sdk


@pytest.fixture
def actions_client(actions_proxy: Proxy, fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    """The openai SDK going through the mitmdump with per-entity actions."""
    with _sdk(actions_proxy) as sdk:
        yield sdk


@pytest.fixture
def raw_client(proxy: Proxy, fake_openai: FakeOpenAI) -> Iterator[httpx2.Client]:
    """A plain HTTP client (the SDK's own library) for arbitrary bytes, paths and raw answers.

    Relative URLs go to https://api.openai.com through the proxy with the test API key, e.g.
    ``raw_client.post("/v1/chat/completions", content=b"{not json")``.
    """
    with raw_http(proxy) as http:
        yield http


def raw_http(proxy: Proxy) -> httpx2.Client:
    """A plain HTTP client to https://api.openai.com through `proxy`, trusting only its CA."""
    return httpx2.Client(
        base_url=OPENAI_BASE_URL,
        proxy=proxy.url,
        verify=_ca_context(proxy),
        trust_env=False,
        timeout=60,
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
