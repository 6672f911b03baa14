"""The audit log: one JSON line per finished guarded flow, never a detected value."""

from __future__ import annotations

import json
import re
import threading

import pytest
from mitmproxy import exceptions

from maskgate import audit

from .gate import (
    EMAIL,
    FAIL_OPEN,
    KEY,
    NAME,
    PERSON_BLOCKED,
    PROMPT,
    chat,
    json_answer,
    running_gate,
    sse_answer,
    sse_event,
    through_stream,
)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _assert_no_originals(path) -> None:
    text = path.read_text(encoding="utf-8")
    for value in (NAME, EMAIL, KEY, "Jane", "example.org", KEY[8:]):
        assert value not in text


def test_masked_flow(tmp_path):
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        flow = gate.request(chat(PROMPT, url="https://api.openai.com/v1/chat/completions?user=Jane"))
        gate.answer(flow, json_answer("Done, [[PERSON_1]]. Also [[PERSON_7]]."))
        gate.done()

    [line] = _lines(log)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.pop("time"))
    assert isinstance(line.pop("analysis_ms"), float)
    assert line == {
        "host": "api.openai.com",
        "method": "POST",
        "path": "/v1/chat/completions",
        "model": "gpt-4o-mini",
        "mode": "masked",
        "status": 200,
        "refused": None,
        "types": {"EMAIL_ADDRESS": 1, "OPENAI_API_KEY": 1, "PERSON": 1},
        "actions": {"mask": 3},
        "placeholders": 3,
        "blocked": [],
        "restore": {"restored": 1, "redacted": 0, "not_returned": 2, "unresolved": 1},
        "error": False,
        "rules_warning": False,
    }
    _assert_no_originals(log)


def test_blocked_flow_is_written_once(tmp_path):
    """Refused in the request hook, the flow still passes both response hooks: one line."""
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, PERSON_BLOCKED, maskgate_audit=str(log)) as gate:
        gate.send(PROMPT)
        gate.done()

    [line] = _lines(log)
    assert line["mode"] == "blocked" and line["refused"] == "maskgate_blocked" and line["status"] == 400
    assert line["blocked"] == ["PERSON"] and line["types"]["PERSON"] == 1
    assert line["actions"] == {"block": 1, "mask": 2} and line["placeholders"] == 0
    assert line["model"] == "gpt-4o-mini" and line["restore"] is None
    _assert_no_originals(log)


@pytest.mark.parametrize(
    ("changes", "mode", "refused"),
    [((), "refused", "maskgate_invalid_json"), ((FAIL_OPEN,), "forwarded-unmasked", None)],
    ids=["fail-closed", "fail-open"],
)
def test_failed_flow(tmp_path, changes, mode, refused):
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, *changes, maskgate_audit=str(log)) as gate:
        gate.send(f'{{"messages": "{NAME} {EMAIL}'.encode())
        gate.done()

    [line] = _lines(log)
    assert line["mode"] == mode and line["refused"] == refused
    assert line["model"] is None and line["types"] == {} and line["placeholders"] == 0
    _assert_no_originals(log)


def test_stream_closed_early_is_written_by_the_error_hook_with_its_restore_so_far(tmp_path):
    """The openai SDK hangs up right after `[DONE]`: mitmproxy then calls `error`, not `response`."""
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        flow = gate.answer_headers(gate.request(chat(PROMPT)), sse_answer())
        assert NAME.encode() in through_stream(flow.response, sse_event("Hi [[PERSON_1]]!"))
        gate.error(flow, "Client disconnected.")
        gate.done()

    [line] = _lines(log)
    assert line["error"] is True and line["mode"] == "masked"
    assert line["restore"] == {"restored": 1, "redacted": 0, "not_returned": 2, "unresolved": 0}


@pytest.mark.parametrize(
    ("model", "recorded"),
    [
        ("ft:gpt-4o-mini-2024-07-18:acme::9zXy", "ft:gpt-4o-mini-2024-07-18:acme::9zXy"),
        (f"ask {NAME}", None),
        (42, None),
    ],
    ids=["model-id", "free-text", "not-a-string"],
)
def test_model_is_recorded_only_when_it_looks_like_a_model_id(tmp_path, model, recorded):
    """The model field is never masked: free text written there stays out of the log."""
    log = tmp_path / "audit.jsonl"
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hi."}]})
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        gate.send(body.encode())
        gate.done()

    [line] = _lines(log)
    assert line["model"] == recorded
    assert NAME not in log.read_text(encoding="utf-8")


def test_only_guarded_flows_and_nothing_when_off(tmp_path):
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        gate.send(PROMPT, url="https://example.com/v1/chat/completions")
        gate.send(b"", url="https://api.openai.com/v1/models", method="GET")
        gate.tctx.options.update(maskgate_audit="")
        gate.send(PROMPT)
        gate.done()

    assert [line["mode"] for line in _lines(log)] == ["not-inspected"]


def test_lines_are_appended_in_order_to_an_existing_file(tmp_path):
    log = tmp_path / "audit.jsonl"
    log.write_text('{"kept": true}\n', encoding="utf-8")
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        for content in ("Nothing here.", PROMPT, "Nothing here either."):
            gate.send(content)
        gate.done()

    assert [line.get("mode", "kept") for line in _lines(log)] == ["kept", "clean", "masked", "clean"]


def test_switching_files_keeps_each_line_in_its_own(tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(first)) as gate:
        gate.send(PROMPT)
        gate.tctx.options.update(maskgate_audit=str(second))
        gate.send("Nothing here.")
        gate.done()

    assert [line["mode"] for line in _lines(first)] == ["masked"]
    assert [line["mode"] for line in _lines(second)] == ["clean"]


@pytest.mark.parametrize("where", ["missing/audit.jsonl", "."], ids=["no-directory", "a-directory"])
def test_unwritable_path_is_rejected_and_the_old_file_kept(tmp_path, where):
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        with pytest.raises(exceptions.OptionsError, match="maskgate_audit: cannot append to"):
            gate.tctx.configure(gate.addon, maskgate_audit=str(tmp_path / where))
        assert gate.tctx.options.maskgate_audit == str(log)
        gate.send(PROMPT)
        gate.done()

    assert [line["mode"] for line in _lines(log)] == ["masked"]


def test_lines_are_written_off_the_event_loop(tmp_path, monkeypatch):
    writers: list[str] = []
    append = audit._append

    def recording(file, line):
        writers.append(threading.current_thread().name)
        append(file, line)

    monkeypatch.setattr(audit, "_append", recording)
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        gate.send(PROMPT)
        gate.done()

    assert len(writers) == 1 and writers[0].startswith("maskgate-audit")
    assert len(_lines(log)) == 1


@pytest.mark.parametrize(
    ("changes", "content", "code"),
    [
        ((PERSON_BLOCKED,), PROMPT, "maskgate_blocked"),
        ((), f'{{"messages": "{NAME} {EMAIL}'.encode(), "maskgate_invalid_json"),
    ],
    ids=["blocked", "not-inspectable"],
)
def test_a_refused_body_is_kept_nowhere(tmp_path, changes, content, code):
    """Neither the audit line nor the flow, which mitmweb shows and `-w` saves, keeps it."""
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, *changes, maskgate_audit=str(log)) as gate:
        flow = gate.send(content)
        gate.done()

    assert flow.response.headers["x-maskgate-error"] == code
    assert flow.request.content == b"" and flow.request.headers["content-length"] == "0"
    saved = json.dumps(flow.get_state(), default=repr)
    assert NAME not in saved and EMAIL not in saved
    _assert_no_originals(log)


def test_a_flow_finishing_after_shutdown_is_not_written(tmp_path):
    log = tmp_path / "audit.jsonl"
    with running_gate(tmp_path, maskgate_audit=str(log)) as gate:
        flow = gate.request(chat(PROMPT))
        gate.done()
        gate.answer(flow)

    assert log.read_text(encoding="utf-8") == ""
