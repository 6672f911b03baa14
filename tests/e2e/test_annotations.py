"""What maskgate tells about each flow, through a real mitmdump: the X-MaskGate-* headers the
openai SDK sees, the audit log, and proof that nothing it stores or shows holds an original."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx2
import openai
import pytest
from mitmproxy import io

from maskgate.view import describe_flow

from .conftest import ACTION_RULE_CHANGES, OPENAI_BASE_URL, TEST_API_KEY, Proxy, running_mitmdump, write_rules
from .corpus import DANA, DANA_EMAIL, MODEL, OPENAI_KEY, PEM_KEY, PEM_LINES, THOMAS, THOMAS_EMAIL
from .fake_openai import FakeOpenAI
from .test_chat_masking import leaks

ORIGINALS = (DANA, DANA_EMAIL, OPENAI_KEY, THOMAS, THOMAS_EMAIL, PEM_LINES[1])
MASKED_PROMPT = f"Write to {DANA} <{DANA_EMAIL}>; the key is {OPENAI_KEY}."
STREAMED_PROMPT = f"Say hello to {THOMAS} at {THOMAS_EMAIL}."
BLOCKED_PROMPT = f"Is this key well-formed?\n{PEM_KEY}\nAsk {DANA}."


def _ask(client: openai.OpenAI, content: str, **kwargs):
    return client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": content}], **kwargs
    )


def _no_originals(text: str | bytes, where: str) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    found = leaks(ORIGINALS, data)
    assert not found, f"{where} holds originals: {found}"


def test_masked_answer_headers(client: openai.OpenAI) -> None:
    raw = _ask(client, MASKED_PROMPT)

    assert raw.parse().choices[0].message.content == MASKED_PROMPT
    headers = raw.headers
    assert headers["x-maskgate-mode"] == "masked"
    assert headers["x-maskgate-pii-detected"] == "2"
    assert headers["x-maskgate-pii-types"] == "EMAIL_ADDRESS,PERSON"
    assert headers["x-maskgate-secrets-detected"] == "1"
    assert headers["x-maskgate-secrets-types"] == "OPENAI_API_KEY"
    assert headers["x-maskgate-masked"] == "3"
    assert headers["x-maskgate-blocked"] == "none"
    # Restored as it passes, after the headers have left: the count is in the comment and audit log.
    assert "x-maskgate-restore-unresolved" not in headers
    _no_originals(str(headers), "the headers")


def test_streamed_answer_headers_come_before_the_events(client: openai.OpenAI) -> None:
    raw = _ask(client, STREAMED_PROMPT, stream=True)

    headers = raw.headers
    assert headers["x-maskgate-mode"] == "masked"
    assert headers["x-maskgate-pii-types"] == "EMAIL_ADDRESS,PERSON"
    assert headers["x-maskgate-masked"] == "2"
    assert "x-maskgate-restore-unresolved" not in headers
    text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
    assert text == STREAMED_PROMPT


def test_blocked_request_headers(actions_client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        _ask(actions_client, BLOCKED_PROMPT)

    assert fake_openai.requests == []
    headers = raised.value.response.headers
    assert headers["x-maskgate-error"] == "maskgate_blocked"
    assert headers["x-maskgate-mode"] == "blocked"
    assert headers["x-maskgate-blocked"] == "PRIVATE_KEY"
    assert "PRIVATE_KEY" in headers["x-maskgate-secrets-types"].split(",")
    assert headers["x-maskgate-pii-types"] == "PERSON"
    assert headers["x-maskgate-masked"] == "0"


def test_other_endpoints_say_not_inspected(raw_client: httpx2.Client) -> None:
    answer = raw_client.get("/v1/models")
    assert answer.status_code == 200 and answer.headers["x-maskgate-mode"] == "not-inspected"


def test_nothing_stored_or_shown_holds_an_original(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    """After a masked, a streamed, a blocked and a failed request through a mitmdump that blocks
    private keys, fails open, writes an audit log and saves its flows (`-w`): no original in the
    headers, the audit log, the proxy's log, or the saved flows, whose answers are the ones
    upstream sent, nor in their comments, metadata and view."""
    rules = write_rules(tmp_path / "rules.yaml", ACTION_RULE_CHANGES)
    audit, saved = tmp_path / "audit.jsonl", tmp_path / "flows.mitm"
    extra = ["--set", f"maskgate_rules={rules}", "--set", f"maskgate_audit={audit}", "-w", str(saved)]
    with running_mitmdump(fake_openai, tmp_path, extra) as proxy:
        responses = _send_all_kinds(proxy)
        log = proxy.log_text()
    # Stopped: the audit log and the saved flows are complete.

    for response in responses:
        _no_originals(str(response.headers), "the headers")
    _no_originals(log, "the mitmdump log")
    _no_originals(audit.read_bytes(), "the audit log")
    lines = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert [line["mode"] for line in lines] == ["masked", "masked", "blocked", "forwarded-unmasked"]
    assert lines[0]["types"] == {"EMAIL_ADDRESS": 1, "OPENAI_API_KEY": 1, "PERSON": 1}
    assert lines[0]["restore"]["restored"] == 3 and lines[1]["restore"]["restored"] == 2
    assert lines[2]["refused"] == "maskgate_blocked" and lines[2]["blocked"] == ["PRIVATE_KEY"]

    with saved.open("rb") as f:
        flows = list(io.FlowReader(f).stream())
    assert len(flows) == 4
    for flow in flows:
        _no_originals(flow.comment, "a comment")
        _no_originals(describe_flow(flow), "the view")
        _no_originals(json.dumps(flow.metadata), "the metadata")
        _no_originals(repr(flow.get_state()), "a saved flow")


def _send_all_kinds(proxy: Proxy) -> list[httpx2.Response]:
    """A masked, a streamed, a blocked and a failed request (forwarded: the rules fail open)."""
    context = ssl.create_default_context(cafile=str(proxy.ca_path))
    http_client = openai.DefaultHttpxClient(proxy=proxy.url, verify=context, trust_env=False)
    with openai.OpenAI(api_key=TEST_API_KEY, max_retries=0, timeout=60, http_client=http_client) as client:
        masked = _ask(client, MASKED_PROMPT)
        streamed = _ask(client, STREAMED_PROMPT, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in streamed.parse() if c.choices)
        with pytest.raises(openai.BadRequestError) as blocked:
            _ask(client, BLOCKED_PROMPT)
    with httpx2.Client(proxy=proxy.url, verify=context, trust_env=False) as raw:
        failed = raw.post(f"{OPENAI_BASE_URL}/v1/chat/completions", content=b'{"messages": [')
    assert failed.headers["x-maskgate-mode"] == "forwarded-unmasked"
    return [masked.http_response, streamed.http_response, blocked.value.response, failed]
