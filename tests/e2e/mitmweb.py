"""Helpers for tests of the `maskgate` commands that start a proxy: `maskgate run` and
`maskgate web` as subprocesses, and Debian's Chromium driven headless through Selenium, with
nothing downloaded.

Both commands register the addon themselves, so only the test redirect script is passed to
them (after ``--``). maskgate runs where a script would, before it, so it sees each request
with its real host before the redirect rewrites the destination, as with `mitmdump -s`.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.selenium_manager import SeleniumManager

from .conftest import REDIRECT_ADDON, STARTUP_TIMEOUT_S, Proxy, _stop
from .fake_openai import FakeOpenAI
from .net import accepts_connections, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_PACKAGES = "chromium chromium-driver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WINDOW_SIZE = (1600, 1200)
WEB_URL_LINE = re.compile(r"^maskgate: web interface on (http://\S+)$", re.MULTILINE)
PROXY_LINE = re.compile(r"^maskgate: proxy on (http://\S+), masking requests to ", re.MULTILINE)
BANNER_LINES = {"run": PROXY_LINE, "web": WEB_URL_LINE}
"""The banner line each command prints once it serves, with the URL to use."""


@dataclass(frozen=True)
class MitmWeb:
    """A running `maskgate web`: its proxy, and the interface URL it printed (token included)."""

    proxy: Proxy
    web_url: str


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when Debian's Chromium or its driver is missing.

    CI must not pass a build whose browser test never ran; a developer without the packages
    still gets every other test.
    """
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not missing:
        return
    message = (
        f"{' and '.join(missing)} not found: the mitmweb browser test drives Debian's Chromium; "
        f"install it with `sudo apt-get install {BROWSER_PACKAGES}` (`make test` does this when "
        "it runs as root or with passwordless sudo)"
    )
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def running_maskgate_web(fake_openai_server: FakeOpenAI, workdir: Path) -> Iterator[MitmWeb]:
    """`maskgate web` on free ports, sending api.openai.com traffic to the fake server, until exit."""
    with running_maskgate("web", fake_openai_server, workdir) as (proxy, web_url):
        yield MitmWeb(proxy, web_url)


@contextlib.contextmanager
def running_maskgate(
    command: str,
    fake_openai_server: FakeOpenAI,
    workdir: Path,
    options: Sequence[str] = (),
    mitmproxy_args: Sequence[str] = (),
) -> Iterator[tuple[Proxy, str]]:
    """`maskgate run` or `maskgate web` on free ports, sending api.openai.com traffic to the fake
    server, until exit; `options` go to maskgate, `mitmproxy_args` after ``--`` to mitmproxy.

    Yields the proxy and the URL its banner printed: the proxy's own for `run`, the web
    interface's, token included, for `web`.
    """
    maskgate = Path(sys.executable).with_name("maskgate")
    if not maskgate.exists():
        pytest.fail(f"maskgate not found next to {sys.executable}; run the tests with the project venv")
    proxy = Proxy.on_free_port(workdir, f"maskgate-{command}.log")
    ports = ["--port", str(proxy.port)] + (["--web-port", str(free_port())] if command == "web" else [])
    argv = [
        str(maskgate), command, *ports, "--confdir", str(proxy.confdir), *options, "--",
        "--set", "connection_strategy=lazy",
        "-s", REDIRECT_ADDON,
        "--set", f"maskgate_test_upstream={fake_openai_server.url}",
        *mitmproxy_args,
    ]  # fmt: skip
    process = proxy.start(argv)
    try:
        yield proxy, _wait_for_banner(command, process, proxy)
    finally:
        _stop(process)


def _wait_for_banner(command: str, process: subprocess.Popen[bytes], proxy: Proxy) -> str:
    """The URL from the banner, printed once the proxy (and interface) run; the CA must exist too."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"maskgate {command} exited with code {process.returncode} during start-up; "
                f"log {proxy.log_path}:\n{proxy.log_tail()}",
                pytrace=False,
            )
        found = BANNER_LINES[command].search(proxy.log_text())
        if found and proxy.ca_path.exists() and accepts_connections(proxy.port):
            return found[1]
        time.sleep(0.1)
    pytest.fail(
        f"maskgate {command} not ready after {STARTUP_TIMEOUT_S:.0f} s (waiting for its banner, the "
        f"CA and the proxy port); log {proxy.log_path}:\n{proxy.log_tail()}",
        pytrace=False,
    )


def _no_selenium_manager(*_args: object, **_kwargs: object) -> dict[str, str]:
    raise AssertionError("Selenium Manager was called: it would try to download a browser or driver")


@contextlib.contextmanager
def headless_chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """Debian's Chromium, headless, through its own chromedriver.

    Both paths are given, so Selenium has no reason to run Selenium Manager; it is made to
    fail here in case a Selenium version ever does, and told to stay offline besides.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")
        mp.setattr(SeleniumManager, "binary_paths", _no_selenium_manager)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_window_size(*WINDOW_SIZE)
        yield driver
    finally:
        driver.quit()
