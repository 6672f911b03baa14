"""The README's quick start, run as written: `make run` in the checkout, then each client
block the README marks with ``<!-- quickstart: client -->``, as a new terminal would run them.

The commands get no environment but ``PATH`` and three additions: ``HOME`` is an empty
directory, so the proxy makes its configuration directory and CA anew, as on a first run;
``OPENAI_API_KEY``, which the README asks the reader to set, holds a test key; and
``MITMDUMP_ARGS``, which `make run` hands to mitmdump, loads the test-only redirect to the fake
API with ``connection_strategy=lazy``, so that nothing ever dials the real api.openai.com.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import _LOG_START, REDIRECT_ADDON, REPO_ROOT, STOP_TIMEOUT_S, TEST_API_KEY, Proxy
from .fake_openai import FakeOpenAI
from .mitmweb import _wait_for_banner, in_ci
from .net import accepts_connections

README = REPO_ROOT / "README.md"
PROXY_URL = "http://127.0.0.1:8080"
"""Where `make run` listens by default, and where the README's client commands go."""
PORT = 8080
VENV_STAMP = ".venv/.installed"
"""The Makefile's mark of a finished set-up."""
NAME = "Dana Whitfield"
EMAIL = "dana.whitfield@example.org"
CLIENT_TIMEOUT_S = 120.0

MARKED_BLOCK = re.compile(r"^<!-- quickstart: (\w+) -->\n```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _marked_blocks(text: str) -> dict[str, list[str]]:
    """The commands of each marked block, by role (``proxy`` or ``client``), in README order."""
    blocks: dict[str, list[str]] = {"proxy": [], "client": []}
    for role, language, commands in MARKED_BLOCK.findall(text):
        assert role in blocks, f"README.md: unknown quick-start role {role!r}"
        assert language == "sh", f"README.md: a quick-start block must be a sh block, not {language!r}"
        blocks[role].append(commands)
    return blocks


BLOCKS = _marked_blocks(README.read_text(encoding="utf-8"))


def _program(commands: str) -> str:
    """What a client block runs once its environment is set: `.venv/bin/python`, `curl`."""
    return next(line for line in commands.splitlines() if not line.startswith("export ")).split()[0]


def _cannot_run(message: str) -> None:
    """Fail under CI, which must not pass without the quick start having run; skip elsewhere."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class QuickStart:
    """The proxy that the README's `make run` started, and the environment its clients get."""

    proxy: Proxy
    env: dict[str, str]


def _venv_is_current() -> bool:
    """Whether `make run` would use `.venv` as it is: if not, it would rebuild it mid-test."""
    return subprocess.run(["make", "-q", VENV_STAMP], cwd=REPO_ROOT, capture_output=True).returncode == 0


def _stop_session(process: subprocess.Popen[bytes]) -> None:
    """Stop make and the proxy it started: both are in the session begun for them."""
    group = process.pid
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(group, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def quickstart(
    fake_openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QuickStart]:
    [commands] = BLOCKS["proxy"]
    if accepts_connections(PORT):
        _cannot_run(f"port {PORT} is taken: the README's quick start uses it as written")
    if not _venv_is_current():
        pytest.fail("`make run` would rebuild .venv, which is older than its sources: run `make setup`")
    workdir = tmp_path_factory.mktemp("quickstart")
    home = workdir / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "OPENAI_API_KEY": TEST_API_KEY}
    redirect = f"-s {REDIRECT_ADDON} --set maskgate_test_upstream={fake_openai_server.url}"
    proxy_env = {**env, "MITMDUMP_ARGS": f"{redirect} --set connection_strategy=lazy"}
    confdir = home / ".maskgate"
    proxy = Proxy(PROXY_URL, PORT, confdir, confdir / "mitmproxy-ca-cert.pem", workdir / "make-run.log")
    with proxy.log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", commands],
            cwd=REPO_ROOT,
            env=proxy_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert _wait_for_banner("run", process, proxy) == PROXY_URL
        yield QuickStart(proxy, env)
    finally:
        _stop_session(process)


@pytest.fixture
def started(quickstart: QuickStart, request: pytest.FixtureRequest) -> QuickStart:
    """The quick start's proxy; marks where this test's log starts, for the failure report."""
    request.node.stash[_LOG_START] = (quickstart.proxy, quickstart.proxy.log_size())
    return quickstart


def test_the_readme_marks_one_proxy_block_and_client_blocks_with_the_example_values() -> None:
    assert BLOCKS["proxy"] == ["make run\n"]
    assert len(BLOCKS["client"]) >= 2
    for commands in BLOCKS["client"]:
        assert PROXY_URL in commands and NAME in commands and EMAIL in commands, commands


@pytest.mark.parametrize("commands", BLOCKS["client"], ids=lambda commands: Path(_program(commands)).name)
def test_client_gets_the_originals_back_while_the_api_gets_placeholders(
    commands: str, started: QuickStart, fake_openai: FakeOpenAI
) -> None:
    program = _program(commands)
    if "/" not in program and shutil.which(program, path=started.env["PATH"]) is None:
        _cannot_run(f"{program} is not installed: the README's quick start uses it")
    log_start = started.proxy.log_size()
    done = subprocess.run(
        ["bash", "-e", "-c", commands],
        cwd=REPO_ROOT,
        env=started.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    assert NAME in done.stdout and EMAIL in done.stdout, done.stdout
    assert "[[" not in done.stdout, done.stdout
    [sent] = fake_openai.requests_to("/v1/chat/completions")
    body = sent.body.decode("utf-8")
    assert "[[PERSON_1]]" in body and "[[EMAIL_ADDRESS_1]]" in body, body
    assert NAME not in body and EMAIL not in body, body
    assert "maskgate: /v1/chat/completions masked 2 occurrence(s) of 2 value(s)" in started.proxy.log_text(
        log_start
    )


def test_the_first_start_made_a_ca_that_only_its_owner_can_read(started: QuickStart) -> None:
    confdir = started.proxy.confdir
    assert confdir.stat().st_mode & 0o777 == 0o700
    # The files holding the CA's private key; the certificate beside them is public.
    for key_file in ("mitmproxy-ca.pem", "mitmproxy-ca.p12"):
        assert (confdir / key_file).stat().st_mode & 0o077 == 0, key_file
    assert f"SSL_CERT_FILE={started.proxy.ca_path}" in started.proxy.log_text()
