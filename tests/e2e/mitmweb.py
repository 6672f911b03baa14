"""Helpers for the mitmweb browser test: `maskgate web` as a subprocess, and Debian's Chromium
driven headless through Selenium, with nothing downloaded.

`maskgate web` registers the addon itself, so only the test redirect script is passed to it
(after ``--``). Scripts run before the master's own addons, so the redirect rewrites the
destination first; maskgate still guards the request because the ``Host`` header keeps
naming api.openai.com.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.selenium_manager import SeleniumManager

from .conftest import REDIRECT_ADDON, REPO_ROOT, STARTUP_TIMEOUT_S, Proxy, _stop
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
    maskgate = Path(sys.executable).with_name("maskgate")
    if not maskgate.exists():
        pytest.fail(f"maskgate not found next to {sys.executable}; run the tests with the project venv")
    port, web_port = free_port(), free_port()
    confdir = workdir / "confdir"
    proxy = Proxy(
        url=f"http://127.0.0.1:{port}",
        port=port,
        confdir=confdir,
        ca_path=confdir / "mitmproxy-ca-cert.pem",
        log_path=workdir / "maskgate-web.log",
    )
    command = [
        str(maskgate), "web", "--port", str(port), "--web-port", str(web_port), "--",
        "--set", f"confdir={confdir}",
        "--set", "connection_strategy=lazy",
        "-s", REDIRECT_ADDON,
        "--set", f"maskgate_test_upstream={fake_openai_server.url}",
    ]  # fmt: skip
    with proxy.log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        yield MitmWeb(proxy, _wait_for_web_url(process, proxy))
    finally:
        _stop(process)


def _wait_for_web_url(process: subprocess.Popen[bytes], proxy: Proxy) -> str:
    """The URL from the banner, printed once proxy and interface run; the CA must exist too."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"maskgate web exited with code {process.returncode} during start-up; "
                f"log {proxy.log_path}:\n{proxy.log_tail()}",
                pytrace=False,
            )
        found = WEB_URL_LINE.search(proxy.log_text())
        if found and proxy.ca_path.exists() and accepts_connections(proxy.port):
            return found[1]
        time.sleep(0.1)
    pytest.fail(
        f"maskgate web not ready after {STARTUP_TIMEOUT_S:.0f} s (waiting for its banner, the CA "
        f"and the proxy port); log {proxy.log_path}:\n{proxy.log_tail()}",
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
