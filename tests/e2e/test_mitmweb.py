"""mitmweb as a person sees it: `maskgate web`, a chat request with a name and an e-mail
address, and the interface in a real (headless) Chromium.

The flow list must show maskgate's marker and comment, the Request tab must open on the
detections table by itself, and no original value may appear anywhere on the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mitmproxy.utils.emoji import emoji
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from maskgate.annotate import MARK_MASKED

from .conftest import _LOG_START, _sdk
from .corpus import DANA, DANA_EMAIL, MODEL
from .fake_openai import FakeOpenAI
from .mitmweb import MitmWeb, headless_chromium, require_browser, running_maskgate_web

CHAT_PATH = "/v1/chat/completions"
UI_TIMEOUT_S = 30
ORIGINALS = (DANA, DANA_EMAIL, "Whitfield", "dana.whitfield")


@pytest.fixture
def web(fake_openai: FakeOpenAI, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MitmWeb]:
    require_browser()
    with running_maskgate_web(fake_openai, tmp_path) as web:
        request.node.stash[_LOG_START] = (web.proxy, 0)
        yield web


def _flows(web: MitmWeb) -> list[dict[str, Any]]:
    """mitmweb's own JSON of the flows, read with the token the banner printed."""
    response = httpx2.get(web.web_url.replace("/?", "/flows?"), timeout=10, trust_env=False)
    response.raise_for_status()
    return response.json()


def _screenshot(browser: WebDriver, path: Path) -> None:
    browser.save_screenshot(str(path))
    print(f"mitmweb screenshot: {path}")


def test_mitmweb_shows_marker_comment_and_detections_but_no_originals(
    web: MitmWeb, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    with _sdk(web.proxy) as sdk:
        answer = sdk.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"Write one line to {DANA} <{DANA_EMAIL}>."}]
        )
    assert DANA in (answer.choices[0].message.content or "")
    [sent] = fake_openai.requests_to(CHAT_PATH)
    assert not any(original.encode() in sent.body for original in ORIGINALS)
    [flow] = _flows(web)
    assert flow["comment"].startswith("maskgate: ") and "PERSON" in flow["comment"], flow["comment"]

    with headless_chromium(tmp_path / "chromium-profile") as browser:
        try:
            _check_page(browser, web, flow["comment"])
        finally:
            _screenshot(browser, tmp_path / "mitmweb.png")


def _check_page(browser: WebDriver, web: MitmWeb, comment: str) -> None:
    wait = WebDriverWait(browser, UI_TIMEOUT_S)
    browser.get(web.web_url)

    # The flow list: maskgate's marker in the path column, its summary in the comment column.
    row = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "tr.has-request")))
    assert row.find_element(By.CSS_SELECTOR, "td.col-path .marker").text == emoji[MARK_MASKED]
    assert row.find_element(By.CSS_SELECTOR, "td.col-comment").text == comment

    # The flow's Request tab opens on maskgate's view without anyone choosing it.
    row.find_element(By.CSS_SELECTOR, "td.col-path").click()
    wait.until(ec.element_to_be_clickable((By.XPATH, "//nav//a[normalize-space()='Request']"))).click()
    table = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".contentview pre")))
    wait.until(lambda _: "[[PERSON_1]]" in table.text)
    controls = browser.find_element(By.CSS_SELECTOR, ".contentview .controls")
    assert controls.find_element(By.TAG_NAME, "h5").text == "maskgate"
    assert "View: auto" in controls.text
    _assert_detections_shown(table)
    browser.execute_script("arguments[0].scrollIntoView()", table)

    page = browser.find_element(By.TAG_NAME, "body").text
    assert comment in page
    for original in ORIGINALS:
        assert original not in page
        assert original not in browser.page_source


def _assert_detections_shown(table: WebElement) -> None:
    text = table.text
    assert "Detections" in text and "PLACEHOLDER" in text, text
    person = next((line for line in text.splitlines() if "[[PERSON_1]]" in line), "")
    assert "messages[0].content" in person and "PERSON" in person, text
    assert str(len(DANA)) in person.split(), person
    assert "[[EMAIL_ADDRESS_1]]" in text, text
