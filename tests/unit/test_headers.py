"""The X-MaskGate-* response headers, in every mode, on upstream answers and on maskgate's own."""

from __future__ import annotations

import pytest

from maskgate import headers

from .gate import (
    EMAIL,
    EMAIL_LOGGED,
    ENDPOINTS_BLOCKED,
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


def _ours(response) -> dict[str, str]:
    return {name: v for name, v in response.headers.items() if name.lower().startswith(headers.PREFIX)}


def test_masked_json_answer(tmp_path):
    with running_gate(tmp_path) as gate:
        flow = gate.request(chat(PROMPT))
        # The model echoes two of our placeholders and makes one up.
        gate.answer(flow, json_answer("Sent to [[PERSON_1]] at [[EMAIL_ADDRESS_1]]; see [[PERSON_7]]."))

    assert _ours(flow.response) == {
        "X-MaskGate-Mode": "masked",
        "X-MaskGate-PII-Detected": "2",
        "X-MaskGate-PII-Types": "EMAIL_ADDRESS,PERSON",
        "X-MaskGate-Secrets-Detected": "1",
        "X-MaskGate-Secrets-Types": "OPENAI_API_KEY",
        "X-MaskGate-Masked": "3",
        "X-MaskGate-Blocked": "none",
    }
    # The answer is restored as it passes, after its headers have left: the made-up id is
    # counted in the comment and the audit log instead.
    assert "1 unresolved" in flow.comment
    sent = str(flow.response.headers)
    assert NAME not in sent and EMAIL not in sent and KEY not in sent


def test_repeated_values_count_each_occurrence_but_one_placeholder(tmp_path):
    with running_gate(tmp_path) as gate:
        flow = gate.send(f"{NAME} and {NAME} again")
    assert flow.response.headers["X-MaskGate-PII-Detected"] == "2"
    assert flow.response.headers["X-MaskGate-Masked"] == "1"


def test_streamed_answer_has_them_before_the_first_event(tmp_path):
    with running_gate(tmp_path) as gate:
        flow = gate.answer_headers(gate.request(chat(PROMPT)), sse_answer())
        # mitmproxy sends the headers now, then the events through the stream callable.
        assert callable(flow.response.stream)
        assert flow.response.headers["X-MaskGate-Mode"] == "masked"
        assert flow.response.headers["X-MaskGate-Masked"] == "3"
        through_stream(flow.response, sse_event("Hi [[PERSON_9]]"))
        gate.finish(flow)


@pytest.mark.parametrize(
    ("changes", "content", "mode", "pii", "blocked"),
    [
        ((), "Nothing personal here.", "clean", "none", "none"),
        ((EMAIL_LOGGED,), f"Is {EMAIL} valid?", "logged", "EMAIL_ADDRESS", "none"),
        ((PERSON_BLOCKED,), PROMPT, "blocked", "EMAIL_ADDRESS,PERSON", "PERSON"),
        ((), b'{"messages": [', "refused", "none", "none"),
        ((FAIL_OPEN,), b'{"messages": [', "forwarded-unmasked", "none", "none"),
    ],
    ids=["clean", "logged", "blocked", "refused", "forwarded-unmasked"],
)
def test_mode_and_counts(tmp_path, changes, content, mode, pii, blocked):
    with running_gate(tmp_path, *changes) as gate:
        flow = gate.send(content)
    found = _ours(flow.response)
    assert found["X-MaskGate-Mode"] == mode
    assert found["X-MaskGate-PII-Types"] == pii
    assert found["X-MaskGate-Blocked"] == blocked
    assert found["X-MaskGate-Masked"] == "0"


def test_block_error_carries_them_next_to_its_error_code(tmp_path):
    with running_gate(tmp_path, PERSON_BLOCKED) as gate:
        flow = gate.send(PROMPT)
    response = flow.response
    assert response.status_code == 400 and response.headers["x-maskgate-error"] == "maskgate_blocked"
    assert response.headers["X-MaskGate-PII-Detected"] == "2"
    assert response.headers["X-MaskGate-Secrets-Types"] == "OPENAI_API_KEY"
    assert NAME not in str(response.headers) and KEY not in str(response.headers)


@pytest.mark.parametrize(
    ("changes", "status", "mode"),
    [((), 200, "not-inspected"), ((ENDPOINTS_BLOCKED,), 403, "refused")],
    ids=["passed", "blocked"],
)
def test_endpoints_not_inspected(tmp_path, changes, status, mode):
    with running_gate(tmp_path, *changes) as gate:
        flow = gate.send(b"", url="https://api.openai.com/v1/models?after=x", method="GET")
    assert flow.response.status_code == status
    assert flow.response.headers["X-MaskGate-Mode"] == mode
    assert flow.response.headers["X-MaskGate-PII-Detected"] == "0"


def test_other_hosts_get_none(tmp_path):
    with running_gate(tmp_path) as gate:
        flow = gate.send(PROMPT, url="https://example.com/v1/chat/completions")
    assert _ours(flow.response) == {}


def test_upstream_cannot_forge_them(tmp_path):
    forged = {"X-MaskGate-Mode": "clean", "X-MaskGate-Restore-Unresolved": "0", "X-MaskGate-Error": "x"}
    with running_gate(tmp_path) as gate:
        flow = gate.answer(gate.request(chat(PROMPT)), json_answer("upstream failed", 500, forged))
    assert flow.response.headers.get_all("X-MaskGate-Mode") == ["masked"]
    assert flow.response.headers["X-MaskGate-Masked"] == "3"
    # Headers by maskgate's prefix that maskgate never writes on upstream answers are gone too.
    assert "X-MaskGate-Restore-Unresolved" not in flow.response.headers
    assert "X-MaskGate-Error" not in flow.response.headers
