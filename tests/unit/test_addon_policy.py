"""The addon's runtime policy: reloading the rules file, `on_failure` and `other_endpoints`.

The detector is replaced by a small regex one (`FakeDetector` in gate.py) that follows the
rules' actions, so that every reload here costs milliseconds instead of a spaCy load;
what the real engine rejects is covered once, at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import exceptions, http
from mitmproxy.test import taddons

from maskgate import addon as addon_module
from maskgate.addon import MaskGate
from maskgate.detect.engine import Detector

from .gate import ENDPOINTS_BLOCKED, FAIL_OPEN, PERSON_BLOCKED, URL, FakeDetector, write_rules
from .gate import chat as _chat

NAME = "Jane Doe"
PROMPT = f"Please write to {NAME} about Friday."
TINY_BODIES = ("max_body_kb: 8192", "max_body_kb: 1")
INVALID_LIMIT = ("max_body_kb: 8192", "max_body_kb: -1")
ENGINE_REJECTS = (
    "    LOCATION: {action: mask",
    "    NO_SUCH_TYPE: {action: mask, min_score: 0.5}\n    LOCATION: {action: mask",
)


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch) -> None:
    monkeypatch.setattr(addon_module, "Detector", FakeDetector)
    monkeypatch.setattr(FakeDetector, "built", 0)
    monkeypatch.setattr(FakeDetector, "gate", None)


@contextlib.contextmanager
def started(rules: Path) -> Iterator[tuple[MaskGate, taddons.context]]:
    addon = MaskGate()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, maskgate_rules=str(rules))
        yield addon, tctx


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return write_rules(tmp_path / "rules.yaml")


def _send(addon: MaskGate, content: str | bytes, url: str = URL, method: str = "POST") -> http.HTTPFlow:
    flow = _chat(content, url, method)
    asyncio.run(addon.request(flow))
    return flow


def _error(flow: http.HTTPFlow) -> dict:
    assert flow.response is not None, "the request was forwarded"
    return json.loads(flow.response.content)["error"]


# --- start ---------------------------------------------------------------------------


def test_start_builds_before_configure_returns(rules):
    with started(rules) as (addon, _):
        assert FakeDetector.built == 1
        flow = _send(addon, PROMPT)
        assert NAME not in flow.request.get_text() and "[[PERSON_1]]" in flow.request.get_text()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (INVALID_LIMIT, r"rules\.yaml: limits\.max_body_kb: must be a positive integer"),
        (ENGINE_REJECTS, r"rules\.yaml: pii\.entities\.NO_SUCH_TYPE: no recognizer finds this type"),
    ],
)
def test_invalid_rules_at_start_refuse_to_start(tmp_path, change, error):
    rejected = write_rules(tmp_path / "rules.yaml", change)
    addon = MaskGate()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match=error):
            tctx.configure(addon, maskgate_rules=str(rejected))
        _assert_not_in_service(addon, rejected)


def _assert_not_in_service(addon: MaskGate, rejected: Path) -> None:
    # mitmproxy puts the previous value (the default) back after a rejection, configures
    # the addon with it and exits: nothing may be built or put in service for it, or the
    # log would say "ready" with rules the user never chose just before the exit.
    assert addon._rules is None
    assert FakeDetector.built == 0


def test_engine_failure_at_start_names_the_rules_file(rules, monkeypatch):
    def broken(policy, spacy_model=None, worker=False):
        if policy.source == str(rules):
            raise RuntimeError("cannot load pipeline")
        return FakeDetector(policy, spacy_model)

    monkeypatch.setattr(addon_module, "Detector", broken)
    addon = MaskGate()
    with taddons.context(addon) as tctx:
        with pytest.raises(
            exceptions.OptionsError,
            match=r"rules\.yaml: the detection engine failed to start: RuntimeError: cannot load pipeline",
        ):
            tctx.configure(addon, maskgate_rules=str(rules))
        _assert_not_in_service(addon, rules)


def test_a_type_the_real_engine_does_not_know_stops_the_start(tmp_path, monkeypatch):
    """Only the engine knows which types Presidio finds: its verdict must stop the start too."""
    rejected = write_rules(tmp_path / "rules.yaml", ENGINE_REJECTS)

    def real_for_the_rejected_file(policy, spacy_model=None, worker=False):
        engine = Detector if policy.source == str(rejected) else FakeDetector
        return engine(policy, spacy_model, worker=worker)

    monkeypatch.setattr(addon_module, "Detector", real_for_the_rejected_file)
    addon = MaskGate()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match=r"rules\.yaml: pii\.entities\.NO_SUCH_TYPE: "):
            tctx.configure(addon, maskgate_rules=str(rejected))
        _assert_not_in_service(addon, rejected)


# --- reloading the rules file ----------------------------------------------------------


def test_valid_edit_swaps_only_after_the_build_then_applies_the_new_rules(rules, caplog):
    with started(rules) as (addon, _):
        write_rules(rules, PERSON_BLOCKED)
        building, release = FakeDetector.gate = (threading.Event(), threading.Event())

        async def scenario() -> None:
            reload = asyncio.ensure_future(addon.reload_if_changed())
            assert await asyncio.to_thread(building.wait, 10)
            during = _chat(PROMPT)
            await addon.request(during)
            assert during.response is None and "[[PERSON_1]]" in during.request.get_text()
            release.set()
            await reload

        with caplog.at_level(logging.INFO, "maskgate"):
            asyncio.run(scenario())
        assert f"maskgate: rules reloaded from {rules}" in caplog.text
        flow = _send(addon, PROMPT)
        assert _error(flow)["code"] == "maskgate_blocked"
        assert "rules_error" not in flow.metadata["maskgate"]


def test_unchanged_file_is_not_reloaded(rules):
    with started(rules) as (addon, _):
        asyncio.run(addon.reload_if_changed())
        mtime = rules.stat().st_mtime_ns + 5_000_000_000
        os.utime(rules, ns=(mtime, mtime))  # touched, same content
        asyncio.run(addon.reload_if_changed())
        assert FakeDetector.built == 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (INVALID_LIMIT, "limits.max_body_kb: must be a positive integer"),
        (ENGINE_REJECTS, "pii.entities.NO_SUCH_TYPE: no recognizer finds this type"),
    ],
)
def test_invalid_edit_keeps_the_last_good_rules_until_a_valid_one(rules, caplog, change, problem):
    with started(rules) as (addon, _):
        served = addon._rules
        write_rules(rules, change)
        with caplog.at_level(logging.INFO, "maskgate"):
            asyncio.run(addon.reload_if_changed())
        assert addon._rules is served
        [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert str(rules) in error.message and problem in error.message
        assert "keeping the last good rules" in error.message

        for _ in range(2):  # every following flow says so, not only the first
            flow = _send(addon, PROMPT)
            assert "[[PERSON_1]]" in flow.request.get_text()
            assert problem in flow.metadata["maskgate"]["rules_error"]
            assert flow.marked == ":warning:"
            assert flow.comment.startswith("maskgate: masked 1 PERSON; WARNING: rules file not applied")
            assert problem in flow.comment
        refused = _send(addon, b"{not json")
        assert refused.marked == ":warning:" and "WARNING" in refused.comment

        caplog.clear()
        write_rules(rules, PERSON_BLOCKED)
        with caplog.at_level(logging.INFO, "maskgate"):
            asyncio.run(addon.reload_if_changed())
        assert "rules reloaded" in caplog.text
        flow = _send(addon, PROMPT)
        assert _error(flow)["code"] == "maskgate_blocked"
        assert "rules_error" not in flow.metadata["maskgate"]
        assert flow.marked == ":no_entry:" and "WARNING" not in flow.comment


def test_deleted_rules_file_keeps_the_last_good_rules(rules, caplog):
    with started(rules) as (addon, _):
        rules.unlink()
        with caplog.at_level(logging.ERROR, "maskgate"):
            asyncio.run(addon.reload_if_changed())
            asyncio.run(addon.reload_if_changed())
        assert caplog.text.count("cannot read") == 1, "reported once, not on every poll"
        assert "cannot read" in _send(addon, PROMPT).metadata["maskgate"]["rules_error"]


def test_running_polls_the_file_and_done_stops_it(rules, monkeypatch):
    monkeypatch.setattr(addon_module, "POLL_INTERVAL_S", 0.01)
    with started(rules) as (addon, _):

        async def scenario() -> None:
            addon.running()
            write_rules(rules, PERSON_BLOCKED)
            for _ in range(500):
                if FakeDetector.built == 2:
                    break
                await asyncio.sleep(0.01)
            assert not addon._rules.detector.closed
            addon.done()
            await asyncio.sleep(0)
            assert addon._poller.cancelled()

        asyncio.run(scenario())
        assert FakeDetector.built == 2
        # The detector in service stops its worker process with the proxy.
        assert addon._rules.detector.closed


def test_runtime_option_change(rules, tmp_path):
    with started(rules) as (addon, tctx):
        served = addon._rules
        invalid = write_rules(tmp_path / "invalid.yaml", INVALID_LIMIT)
        with pytest.raises(exceptions.OptionsError, match=r"invalid\.yaml: limits\.max_body_kb"):
            tctx.configure(addon, maskgate_rules=str(invalid))
        assert tctx.options.maskgate_rules == str(rules), "mitmproxy keeps the old value"
        assert addon._rules is served and FakeDetector.built == 1, "putting the old value back rebuilt"

        blocking = write_rules(tmp_path / "blocking.yaml", PERSON_BLOCKED)
        tctx.configure(addon, maskgate_rules=str(blocking))
        addon._reloading.result(timeout=10)
        assert addon._rules.policy.source == str(blocking)
        assert _error(_send(addon, PROMPT))["code"] == "maskgate_blocked"

        write_rules(blocking)  # the newly configured file is the one watched
        asyncio.run(addon.reload_if_changed())
        assert _send(addon, PROMPT).response is None


def test_runtime_model_that_is_not_installed_is_rejected(rules):
    with (
        started(rules) as (addon, tctx),
        pytest.raises(exceptions.OptionsError, match="option maskgate_spacy_model: spaCy model"),
    ):
        tctx.configure(addon, maskgate_spacy_model="/no/such/model")


# --- on_failure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "body", "cause"),
    [
        ((), b'{"messages": [', "not valid JSON"),
        (
            (TINY_BODIES,),
            json.dumps({"messages": [{"role": "user", "content": "x" * 2000}]}).encode(),
            "larger",
        ),
    ],
)
def test_fail_open_forwards_what_cannot_be_inspected_as_it_came(tmp_path, caplog, changes, body, cause):
    with started(write_rules(tmp_path / "rules.yaml", FAIL_OPEN, *changes)) as (addon, _):
        with caplog.at_level(logging.WARNING, "maskgate"):
            flow = _send(addon, body)
        assert flow.response is None and flow.request.raw_content == body
        assert "accept-encoding" not in flow.request.headers
        assert cause in flow.metadata["maskgate"]["failed_open"]
        assert flow.comment.startswith("maskgate: forwarded UNMASKED (on_failure: open): ")
        assert cause in flow.comment and flow.marked == ":warning:"
        assert "UNMASKED" in caplog.text and cause in caplog.text
        assert addon._masked == {}


def test_fail_open_forwards_when_detection_fails(tmp_path, monkeypatch):
    def broken(request, target, limit, detector):
        raise RuntimeError("detector crashed")

    monkeypatch.setattr(addon_module, "_mask_and_encode", broken)
    with started(write_rules(tmp_path / "rules.yaml", FAIL_OPEN)) as (addon, _):
        flow = _send(addon, PROMPT)
        assert flow.response is None and NAME in flow.request.get_text()
        assert "detection failed (RuntimeError)" in flow.metadata["maskgate"]["failed_open"]


def test_fail_closed_still_refuses(rules):
    with started(rules) as (addon, _):
        flow = _send(addon, b'{"messages": [')
        assert _error(flow)["code"] == "maskgate_invalid_json"
        assert "failed_open" not in flow.metadata["maskgate"]


def test_blocked_types_stay_refused_when_failing_open(tmp_path):
    with started(write_rules(tmp_path / "rules.yaml", FAIL_OPEN, PERSON_BLOCKED)) as (addon, _):
        flow = _send(addon, PROMPT)
        assert _error(flow)["code"] == "maskgate_blocked"
        assert "failed_open" not in flow.metadata["maskgate"] and flow.marked == ":no_entry:"


# --- other_endpoints -------------------------------------------------------------------


def test_other_endpoints_blocked_with_a_permission_error(tmp_path):
    with started(write_rules(tmp_path / "rules.yaml", ENDPOINTS_BLOCKED, FAIL_OPEN)) as (addon, _):
        flow = _send(addon, b"", url="https://api.openai.com/v1/models?after=x", method="GET")
        assert flow.response.status_code == 403
        assert flow.response.headers["x-maskgate-error"] == "maskgate_endpoint_blocked"
        error = _error(flow)
        assert error["code"] == "maskgate_endpoint_blocked" and error["type"] == "permission_error"
        assert "GET /v1/models" in error["message"] and "after=x" not in error["message"]
        assert flow.marked == ":no_entry:" and flow.comment.startswith(
            "maskgate: refused (maskgate_endpoint_blocked)"
        )

        # The inspected endpoint and other hosts are not affected.
        assert "[[PERSON_1]]" in _send(addon, PROMPT).request.get_text()
        assert _send(addon, b"", url="https://example.com/v1/models", method="GET").response is None


@pytest.mark.parametrize(
    "path",
    ["/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", "/api/v1/chat/completions"],
)
def test_compatible_paths_of_an_inspected_endpoint_are_masked(rules, path):
    with started(rules) as (addon, _):
        flow = _send(addon, PROMPT, url=f"https://api.openai.com{path}")
        assert "[[PERSON_1]]" in flow.request.get_text() and NAME not in flow.request.get_text()


def test_an_endpoint_set_to_block_is_refused_and_one_set_to_pass_is_forwarded(tmp_path):
    rules = write_rules(tmp_path / "rules.yaml", ("chat_completions: inspect", "chat_completions: block"))
    with started(rules) as (addon, _):
        flow = _send(addon, PROMPT)
        error = _error(flow)
        assert (
            error["code"] == "maskgate_endpoint_blocked"
            and "endpoints.chat_completions: block" in error["message"]
        )
        assert flow.request.content == b""
    rules = write_rules(tmp_path / "rules.yaml", ("chat_completions: inspect", "chat_completions: pass"))
    with started(rules) as (addon, _):
        flow = _send(addon, PROMPT)
        assert flow.response is None and NAME in flow.request.get_text()
        assert flow.marked == ":grey_question:" and "not inspected" in flow.comment


# --- small requests beside large ones ---------------------------------------------------


def test_small_requests_do_not_queue_behind_large_analyses(rules):
    """With both analysis threads busy on large bodies, a small request is still masked at once,
    and a large one waits its turn."""
    release = threading.Event()
    with started(rules) as (addon, _):
        busy = [addon._executor.submit(release.wait, 10) for _ in range(2)]
        large_flow = _chat(PROMPT + " " + "padding " * 3000)
        assert len(large_flow.request.raw_content) > addon_module.SMALL_BODY_BYTES

        async def both() -> None:
            large = asyncio.ensure_future(addon.request(large_flow))
            small = _chat(PROMPT)
            await asyncio.wait_for(addon.request(small), 5)
            assert "[[PERSON_1]]" in small.request.get_text()
            assert not large.done()
            release.set()
            await asyncio.wait_for(large, 5)

        try:
            asyncio.run(both())
        finally:
            release.set()
        assert all(f.done() for f in busy)
        assert NAME not in large_flow.request.get_text()
