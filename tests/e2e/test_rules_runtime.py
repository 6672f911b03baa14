"""Runtime policy end to end: the rules file reloaded while mitmdump runs, `on_failure: open`
and `other_endpoints`, through real mitmdump processes and the openai SDK."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import openai
import pytest

from .conftest import (
    Proxy,
    _sdk,
    raw_http,
    running_mitmdump,
    write_rules,
)
from .corpus import DANA, MODEL
from .fake_openai import MODEL_IDS, FakeOpenAI

CHAT_PATH = "/v1/chat/completions"
RELOAD_TIMEOUT_S = 60.0
INVALID_LIMIT = ("max_body_kb: 8192", "max_body_kb: -1")
PERSON_BLOCKED = ("PERSON: {action: mask", "PERSON: {action: block")


def _wait_for_log(proxy: Proxy, start: int, text: str) -> None:
    """Wait until the mitmdump log written since `start` contains `text` (the poller runs every second)."""
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    while text not in proxy.log_text(start):
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} not logged within {RELOAD_TIMEOUT_S:.0f} s:\n{proxy.log_tail(start)}")
        time.sleep(0.1)


def _ask(client: openai.OpenAI, content: str) -> str | None:
    answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}])
    return answer.choices[0].message.content


def test_rules_file_edits_apply_while_running_and_invalid_ones_keep_the_last_good_rules(
    fake_openai_server: FakeOpenAI, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    rules = write_rules(tmp_path / "rules.yaml", [])
    content = f"Please greet {DANA} from me."
    with (
        running_mitmdump(fake_openai_server, tmp_path, ["--set", f"maskgate_rules={rules}"]) as proxy,
        _sdk(proxy) as client,
    ):
        start = proxy.log_size()
        write_rules(rules, [INVALID_LIMIT])
        _wait_for_log(proxy, start, "keeping the last good rules")
        log = proxy.log_text(start)
        assert f"{rules}: limits.max_body_kb: must be a positive integer" in log

        assert _ask(client, content) == content
        [recorded] = fake_openai.requests_to(CHAT_PATH)
        assert DANA not in recorded.body.decode() and "[[PERSON_1]]" in recorded.body.decode()

        start = proxy.log_size()
        write_rules(rules, [PERSON_BLOCKED])
        _wait_for_log(proxy, start, f"maskgate: rules reloaded from {rules}")
        fake_openai.clear()
        with pytest.raises(openai.BadRequestError) as raised:
            _ask(client, content)
        assert raised.value.code == "maskgate_blocked"
        assert fake_openai.requests == []
        assert DANA not in proxy.log_text()


@pytest.fixture
def actions_raw_client(actions_proxy: Proxy, fake_openai: FakeOpenAI) -> Iterator[httpx2.Client]:
    """A plain HTTP client through the mitmdump whose rules fail open and block other endpoints."""
    with raw_http(actions_proxy) as http:
        yield http


def test_blocked_endpoint_raises_permission_denied_and_sends_nothing(
    actions_client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    with pytest.raises(openai.PermissionDeniedError) as raised:
        actions_client.models.list()
    assert raised.value.status_code == 403 and raised.value.code == "maskgate_endpoint_blocked"
    assert "GET /v1/models" in str(raised.value)
    assert fake_openai.requests == []


def test_failing_open_forwards_invalid_json_unchanged(
    actions_raw_client: httpx2.Client, actions_proxy: Proxy, fake_openai: FakeOpenAI
) -> None:
    start = actions_proxy.log_size()
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "' + DANA.encode()
    response = actions_raw_client.post(CHAT_PATH, content=body, headers={"content-type": "application/json"})

    [recorded] = fake_openai.requests_to(CHAT_PATH)
    assert recorded.body == body
    # The answer is upstream's own complaint about the JSON, not a refusal by maskgate.
    assert response.status_code == 400 and "x-maskgate-error" not in response.headers
    assert "could not parse the JSON body" in response.json()["error"]["message"]
    log = actions_proxy.log_text(start)
    assert "UNMASKED (on_failure: open)" in log and DANA not in log


def test_other_endpoints_pass_with_the_shipped_rules(client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == list(MODEL_IDS)
    assert len(fake_openai.requests_to("/v1/models", method="GET")) == 1


def _words_workers(port: int) -> set[int]:
    """Process ids of the words workers (`maskgate.detect.worker`) of the mitmdump on `port`."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
            parent_command = Path(f"/proc/{parent}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if b"maskgate.detect.worker" in b" ".join(command) and f"{port}".encode() in parent_command:
            found.add(int(stat.parent.name))
    return found


def _wait_for_workers(port: int, wanted: Callable[[set[int]], bool]) -> set[int]:
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    while not wanted(workers := _words_workers(port)):
        if time.monotonic() > deadline:
            pytest.fail(f"words workers of the proxy on port {port}: {workers}")
        time.sleep(0.1)
    return workers


def test_the_words_worker_is_replaced_with_the_rules_and_stops_with_the_proxy(
    fake_openai_server: FakeOpenAI, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    rules = write_rules(tmp_path / "rules.yaml", [])
    with (
        running_mitmdump(fake_openai_server, tmp_path, ["--set", f"maskgate_rules={rules}"]) as proxy,
        _sdk(proxy) as client,
    ):
        [first] = _wait_for_workers(proxy.port, lambda workers: len(workers) == 1)
        content = f"Please greet {DANA} from me."
        assert _ask(client, content) == content

        start = proxy.log_size()
        write_rules(rules, [PERSON_BLOCKED])
        _wait_for_log(proxy, start, f"maskgate: rules reloaded from {rules}")
        # The replaced detector's worker stops; the new detector has its own.
        [second] = _wait_for_workers(proxy.port, lambda workers: len(workers) == 1 and first not in workers)
        assert second != first
        port = proxy.port
    _wait_for_workers(port, lambda workers: not workers)
