"""The addon's hooks, driven with mitmproxy's own test helpers and the real detector."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from pathlib import Path

import pytest
from mitmproxy import flow as flow_module
from mitmproxy import http
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.test import taddons, tflow

from maskgate import addon as addon_module
from maskgate.addon import MaskGate
from maskgate.mask import Finding
from maskgate.policy import DEFAULT_RULES
from maskgate.vault import Vault

from .gate import through_stream

URL = "https://api.openai.com/v1/chat/completions"
EMAIL = "dana.whitfield@example.org"
NAME = "Dana Whitfield"
PROMPT = f"Please write a short note to {NAME} at {EMAIL} about Friday."


@pytest.fixture(scope="module")
def gate():
    """One addon with a loaded detector, shared by the tests of this module."""
    gate = MaskGate()
    # The proxy server declares `store_streamed_bodies`, which the addon reads.
    with taddons.context(gate, Proxyserver()) as tctx:
        tctx.configure(gate, maskgate_rules=str(DEFAULT_RULES))
        assert gate._rules is not None, "the first configure builds the detector before returning"
        yield gate, tctx


def _chat(content, url=URL, method="POST", headers=None) -> http.HTTPFlow:
    """A flow whose request carries `content` exactly as given (bytes) or as a chat body (text)."""
    if isinstance(content, str):
        content = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]})
        content = content.encode()
    request = http.Request.make(method, url, b"", {"content-type": "application/json", **(headers or {})})
    request.raw_content = content
    return tflow.tflow(req=request)


def _answer(flow: http.HTTPFlow, content: str, headers=None, status=200) -> None:
    body = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }
    flow.response = http.Response.make(
        status, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})}
    )


def _sent_text(flow: http.HTTPFlow) -> str:
    return flow.request.get_text()


def _deliver(addon: MaskGate, flow: http.HTTPFlow, *, store: bool = False, read_size: int = 7) -> bytes:
    """Do what mitmproxy does with the answer on `flow` (its body as it came on the wire) once
    its headers are in: run `responseheaders`; pass the body through the stream callable set
    there, if any, in reads of `read_size`, storing what it returns only when `store`
    (`store_streamed_bodies`); then run `response`, after which a streamed body has been sent.

    Returns the body the client received.
    """
    addon.responseheaders(flow)
    response = flow.response
    wire = response.raw_content or b""
    if not callable(response.stream):
        addon.response(flow)
        return response.raw_content or b""
    response.raw_content = None  # a streamed answer's body is not buffered
    sent = []
    for i in range(0, len(wire), read_size):
        out = response.stream(wire[i : i + read_size])
        assert out != b"", "an empty bytes chunk ends an HTTP/1.1 body"
        sent.extend([out] if isinstance(out, bytes) else out)
    out = response.stream(b"")
    sent.extend([out] if isinstance(out, bytes) else out)
    if store:
        response.raw_content = b"".join(sent)
    addon.response(flow)
    return b"".join(sent)


def _no_originals(flow: http.HTTPFlow, *originals: str) -> None:
    """Nothing mitmweb shows or `-w` saves of `flow` holds one of `originals`."""
    saved = json.dumps(flow.get_state(), default=repr) + repr(flow.response.raw_content)
    assert not [o for o in originals if o in saved or json.dumps(o)[1:-1] in saved]


def test_guarded_request_is_masked_and_annotated(gate):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    sent = _sent_text(flow)
    assert NAME not in sent and EMAIL not in sent
    assert "[[PERSON_1]]" in sent and "[[EMAIL_ADDRESS_1]]" in sent
    assert flow.request.headers["accept-encoding"] == "identity"
    assert flow.response is None
    assert flow.marked == ":shield:"
    assert "PERSON" in flow.comment and "EMAIL_ADDRESS" in flow.comment
    saved = json.dumps(flow.get_state(), default=repr)
    assert NAME not in saved and EMAIL not in saved and "Dana" not in flow.comment


@pytest.mark.parametrize("read_size", [1, 7, 100_000])
def test_json_answer_reaches_the_client_restored_and_the_flow_keeps_it_masked(gate, read_size):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    _answer(flow, "Dear [[PERSON_1]], I wrote to [[EMAIL_ADDRESS_1]].", {"content-length": "999"})
    upstream = flow.response.raw_content

    sent = _deliver(addon, flow, read_size=read_size)

    body = json.loads(sent)
    assert body["choices"][0]["message"]["content"] == f"Dear {NAME}, I wrote to {EMAIL}."
    assert body["id"] == "chatcmpl-9" and body["usage"]["total_tokens"] == 18
    # The body's length changed: the client reads it to the end of the connection instead.
    assert "content-length" not in flow.response.headers
    # What mitmweb shows and `-w` saves is what upstream sent.
    assert flow.response.raw_content == upstream
    _no_originals(flow, NAME, EMAIL)
    assert "2 restored" in flow.comment
    assert flow.id not in addon._masked


@pytest.mark.parametrize(
    ("body", "note"),
    [(b"<html>busy</html>", "answer is not JSON"), (b'["[[PERSON_1]]"]', "answer is not a JSON object")],
)
def test_answer_that_is_no_json_object_goes_on_as_it_came(gate, body, note):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    flow.response = http.Response.make(200, body, {"content-type": "application/json"})
    assert _deliver(addon, flow) == body and flow.response.raw_content == body
    assert flow.metadata["maskgate"]["restore"]["note"].startswith(note)


def test_compressed_bodies_both_ways(gate):
    addon, _ = gate
    raw = json.dumps({"model": "m", "messages": [{"role": "user", "content": PROMPT}]}).encode()
    flow = _chat(gzip.compress(raw), headers={"content-encoding": "gzip"})
    asyncio.run(addon.request(flow))
    assert flow.request.headers["content-encoding"] == "gzip"
    assert EMAIL.encode() not in gzip.decompress(flow.request.raw_content)
    _answer(flow, "to [[EMAIL_ADDRESS_1]]")
    upstream = flow.response.raw_content
    flow.response.encode("gzip")
    sent = _deliver(addon, flow)
    # Decoded on the way: the client gets plain JSON, and the flow says so.
    assert json.loads(sent)["choices"][0]["message"]["content"] == f"to {EMAIL}"
    assert "content-encoding" not in flow.response.headers
    assert flow.response.raw_content == upstream


def test_answer_in_an_unknown_encoding_is_left_as_it_came(gate):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    _answer(flow, "to [[EMAIL_ADDRESS_1]]")
    flow.response.headers["content-encoding"] = "compress"
    upstream = flow.response.raw_content
    assert _deliver(addon, flow) == upstream and not flow.response.stream
    assert flow.metadata["maskgate"]["restore"] == {"note": "compress-encoded answer left as it came"}


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/v1/chat/completions",
        "https://api.openai.com.evil.example/v1/chat/completions",
        "http://example.com/v1/embeddings",
    ],
)
def test_other_hosts_are_untouched(gate, url):
    addon, _ = gate
    flow = _chat(PROMPT, url=url)
    before = flow.request.get_state()
    asyncio.run(addon.request(flow))
    assert flow.request.get_state() == before
    assert flow.response is None and not flow.marked and not flow.comment and not flow.metadata


@pytest.mark.parametrize(
    ("url", "method", "where"),
    [
        ("https://api.openai.com/v1/moderations", "POST", "POST /v1/moderations"),
        (URL, "GET", "GET /v1/chat/completions"),
        (
            "https://API.openai.com/v1/responses/resp_1/cancel?user=x",
            "POST",
            "POST /v1/responses/resp_1/cancel",
        ),
    ],
)
def test_other_endpoints_of_a_guarded_host_pass_unchanged_by_default(gate, url, method, where):
    addon, _ = gate
    flow = _chat(PROMPT, url=url, method=method)
    before = flow.request.get_state()
    asyncio.run(addon.request(flow))
    assert flow.request.get_state() == before and flow.response is None
    assert flow.metadata["maskgate"] == {"inspected": False, "endpoint": where}
    assert flow.comment == f"maskgate: not inspected ({where})" and flow.marked == ":grey_question:"


@pytest.mark.parametrize(
    "path",
    ["/v1/chat/completions/", "//v1/chat/completions", "/v1/chat%2Fcompletions", "/v1/./chat/completions?a"],
)
def test_path_spellings_of_the_endpoint_are_guarded(gate, path):
    addon, _ = gate
    flow = _chat(PROMPT, url="https://api.openai.com" + path)
    asyncio.run(addon.request(flow))
    assert EMAIL not in _sent_text(flow) and "[[EMAIL_ADDRESS_1]]" in _sent_text(flow)


def test_request_with_nothing_detected_is_forwarded_byte_for_byte(gate):
    addon, _ = gate
    raw = b'{"model": "gpt-4o-mini",  "messages": [{"role": "user", "content": "What is 2 + 2?"}],'
    raw += b' "temperature": 0.70}'
    flow = _chat(raw)
    asyncio.run(addon.request(flow))
    assert flow.request.raw_content == raw
    assert "accept-encoding" not in flow.request.headers
    assert flow.response is None and not flow.marked


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"messages": [', {}, 400, "maskgate_invalid_json"),
        (b"\xff\xfe{}", {}, 400, "maskgate_invalid_utf8"),
        (b"[1, 2]", {}, 400, "maskgate_invalid_json"),
        (
            b'{"messages": [], "messages": [{"role": "user", "content": "x"}]}',
            {},
            400,
            "maskgate_invalid_json",
        ),
        (b"not gzip at all", {"content-encoding": "gzip"}, 400, "maskgate_bad_encoding"),
    ],
)
def test_unreadable_bodies_are_refused_not_forwarded(gate, body, headers, status, code):
    addon, _ = gate
    flow = _chat(body, headers=headers)
    asyncio.run(addon.request(flow))
    assert flow.response is not None and flow.response.status_code == status
    error = json.loads(flow.response.content)["error"]
    assert error["code"] == code and error["message"].startswith("maskgate: ")
    assert set(error) == {"message", "type", "code", "param"}
    assert flow.marked == ":no_entry:" and code in flow.comment


@contextlib.contextmanager
def _rules_with(gate, tmp_path: Path, *changes: tuple[str, str]):
    """Run the addon on a copy of the shipped rules with (old, new) lines changed, then restore them."""
    addon, tctx = gate
    text = DEFAULT_RULES.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    rules = tmp_path / "changed.yaml"
    rules.write_text(text)
    shipped, watched = addon._rules, addon._watched
    tctx.configure(addon, maskgate_rules=str(rules))
    try:
        addon._reloading.result(timeout=120)
        assert addon._rules.policy.source == str(rules) and addon._rules_error is None
        yield addon
    finally:
        # Put the shipped pair back as it was: configuring the shipped file again is then no
        # change, and nothing is rebuilt.
        addon._rules, addon._watched = shipped, watched
        tctx.configure(addon, maskgate_rules=str(DEFAULT_RULES))


def _refusal_code(flow: http.HTTPFlow, status: int) -> str:
    assert flow.response is not None and flow.response.status_code == status
    return json.loads(flow.response.content)["error"]["code"]


def test_detector_failure_and_timeout_fail_closed(gate, monkeypatch, caplog, tmp_path: Path):
    addon, _ = gate

    def broken(request, target, limit, detector):
        raise RuntimeError(f"boom with {EMAIL}")

    monkeypatch.setattr(addon_module, "_mask_and_encode", broken)
    flow = _chat(PROMPT)
    with caplog.at_level(logging.DEBUG):
        asyncio.run(addon.request(flow))
    assert _refusal_code(flow, 503) == "maskgate_detection_failed"
    assert EMAIL not in flow.response.get_text() and EMAIL not in flow.comment
    assert "RuntimeError" in caplog.text and EMAIL not in caplog.text

    with _rules_with(gate, tmp_path, ("analysis_timeout_ms: 20000", "analysis_timeout_ms: 50")) as addon:
        monkeypatch.setattr(addon_module, "_mask_and_encode", lambda r, target, limit, d: time.sleep(0.5))
        flow = _chat(PROMPT)
        asyncio.run(addon.request(flow))
        assert _refusal_code(flow, 503) == "maskgate_analysis_timeout"


def test_body_over_the_limit_is_refused(gate, tmp_path: Path):
    with _rules_with(gate, tmp_path, ("max_body_kb: 8192", "max_body_kb: 1")) as addon:
        flow = _chat("x" * 2000)
        asyncio.run(addon.request(flow))
        assert _refusal_code(flow, 413) == "maskgate_body_too_large"


def test_invalid_rules_are_rejected_with_file_and_key(gate, tmp_path: Path):
    addon, tctx = gate
    rules = tmp_path / "bad.yaml"
    rules.write_text(DEFAULT_RULES.read_text().replace("max_body_kb: 8192", "max_body_kb: -1"))
    with pytest.raises(Exception, match=r"bad\.yaml: limits\.max_body_kb: must be a positive integer"):
        tctx.configure(addon, maskgate_rules=str(rules))


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx3Hk9Qp2\n-----END RSA PRIVATE KEY-----"
PHONE = "+1 415-555-0132"
ACTION_RULES = (
    ("    default: mask", "    PRIVATE_KEY: block\n    default: mask"),
    ("PHONE_NUMBER: {action: mask", "PHONE_NUMBER: {action: log"),
)


@pytest.fixture
def acting_gate(gate, tmp_path: Path):
    """The addon with private keys blocked and phone numbers only logged."""
    with _rules_with(gate, tmp_path, *ACTION_RULES) as addon:
        yield addon


def test_blocked_type_is_refused_naming_types_and_paths_never_values(acting_gate):
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You review code."},
            {"role": "user", "content": f"Is this key fine?\n{PEM}"},
            {"role": "user", "content": f"Ask {NAME} on {PHONE}."},
        ],
    }
    flow = _chat(json.dumps(body).encode())
    asyncio.run(acting_gate.request(flow))
    assert _refusal_code(flow, 400) == "maskgate_blocked"
    error = json.loads(flow.response.content)["error"]
    assert error["type"] == "invalid_request_error" and error["param"] is None
    assert "PRIVATE_KEY in messages[1].content" in error["message"]
    assert "MIIEow" not in flow.response.get_text() and NAME not in flow.response.get_text()
    assert flow.marked == ":no_entry:" and "blocks: PRIVATE_KEY" in flow.comment
    assert flow.request.content == b""  # never forwarded, and not kept on the flow either
    assert flow.id not in acting_gate._masked
    saved = json.dumps(flow.get_state()["metadata"], default=repr) + flow.comment
    assert "MIIEow" not in saved and PHONE not in saved


def test_logged_type_goes_upstream_byte_for_byte_and_is_annotated(acting_gate):
    raw = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Call {PHONE} now."}]}
    )
    raw = raw.replace(", ", ",   ").encode()
    flow = _chat(raw)
    asyncio.run(acting_gate.request(flow))
    assert flow.response is None and flow.request.raw_content == raw
    assert flow.id not in acting_gate._masked
    [detection] = flow.metadata["maskgate"]["detections"]
    assert detection["action"] == "log" and detection["type"] == "PHONE_NUMBER"
    assert detection["placeholder"] is None and detection["path"] == "messages[0].content"
    assert "logged 1 PHONE_NUMBER" in flow.comment and flow.marked == ":eyes:"
    assert PHONE not in json.dumps(flow.metadata, default=repr) + flow.comment


def test_logged_and_masked_types_in_one_request(acting_gate):
    flow = _chat(f"Ask {NAME} on {PHONE}.")
    asyncio.run(acting_gate.request(flow))
    sent = _sent_text(flow)
    assert NAME not in sent and PHONE in sent and "[[PERSON_1]]" in sent
    actions = {d["type"]: d["action"] for d in flow.metadata["maskgate"]["detections"]}
    assert actions == {"PERSON": "mask", "PHONE_NUMBER": "log"}
    assert (
        flow.marked == ":shield:"
        and "masked 1 PERSON" in flow.comment
        and "logged 1 PHONE_NUMBER" in flow.comment
    )


def test_masked_detections_carry_their_action(gate):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    assert {d["action"] for d in flow.metadata["maskgate"]["detections"]} == {"mask"}


def test_upstream_errors_pass_through_and_disconnects_free_state(gate):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    flow.response = http.Response.make(429, b'{"error": {"message": "slow down [[PERSON_1]]"}}')
    addon.response(flow)
    assert flow.response.content == b'{"error": {"message": "slow down [[PERSON_1]]"}}'
    assert "upstream error 429" in flow.comment

    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    assert flow.id in addon._masked
    addon.error(flow)
    assert flow.id not in addon._masked


def _sse(*deltas: str) -> bytes:
    events = [
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": d}}]}
        for d in deltas
    ]
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_event_stream_answers_get_a_restoring_stream(gate, encoding):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    wire = _sse("Dear [[PER", "SON_1]], done")
    flow.response = http.Response.make(
        200, b"", {"content-type": "text/event-stream", "content-length": "99"}
    )
    if encoding == "gzip":
        flow.response.headers["content-encoding"] = "gzip"
        wire = gzip.compress(wire)
    addon.responseheaders(flow)
    assert callable(flow.response.stream)
    assert "content-length" not in flow.response.headers and "content-encoding" not in flow.response.headers
    out = b""
    for i in range(len(wire)):
        result = flow.response.stream(wire[i : i + 1])
        out += result if isinstance(result, bytes) else b"".join(result)
    out += b"".join(flow.response.stream(b""))
    contents = [
        json.loads(line[6:])["choices"][0]["delta"]["content"]
        for line in out.decode().splitlines()
        if line.startswith("data: {")
    ]
    assert "".join(contents) == f"Dear {NAME}, done"
    addon.response(flow)
    assert "1 restored" in flow.comment and flow.id not in addon._masked
    assert flow.response.raw_content is None


@pytest.fixture
def storing_gate(gate):
    """The addon while mitmproxy stores streamed bodies (`store_streamed_bodies`)."""
    addon, tctx = gate
    tctx.options.store_streamed_bodies = True
    try:
        yield addon
    finally:
        tctx.options.store_streamed_bodies = False


@pytest.mark.parametrize("ending", ["response", "error"])
def test_stored_event_stream_is_the_one_upstream_sent(storing_gate, ending):
    addon = storing_gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    wire = _sse("Dear [[PER", "SON_1]] at [[EMAIL_ADDRESS_1]]")
    flow.response = http.Response.make(200, wire, {"content-type": "text/event-stream"})
    if ending == "response":
        sent = _deliver(addon, flow, store=True)
    else:
        # The client hangs up after `[DONE]`: mitmproxy stores nothing and calls `error`.
        addon.responseheaders(flow)
        flow.response.raw_content = None
        sent = through_stream(flow.response, wire)
        flow.error = flow_module.Error("peer closed connection")
        addon.error(flow)
    assert NAME.encode() in sent and EMAIL.encode() in sent
    assert flow.response.raw_content == wire
    _no_originals(flow, NAME, EMAIL)
    assert "2 restored" in flow.comment


def _analysed_ahead(addon: MaskGate, text: str) -> bool:
    """Whether `text` is in the detector's cache once the large-body lane has done its work."""
    addon._executor.submit(lambda: None).result(timeout=30)  # one thread: everything before is done
    fresh = []
    addon._rules.detector._cache.get(text, lambda t: fresh.append(t) or [])
    return not fresh


@pytest.mark.parametrize("kind", ["json", "stream"])
def test_the_restored_answer_is_analysed_before_the_client_sends_it_back(gate, kind):
    """The next turn resends the answer as history: analysed now, it costs that turn nothing."""
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    answer = f"Sure: I will write to [[PERSON_1]] today ({kind})."
    if kind == "json":
        _answer(flow, answer)
    else:
        flow.response = http.Response.make(
            200, _sse(answer[:30], answer[30:]), {"content-type": "text/event-stream"}
        )
    _deliver(addon, flow)
    restored = answer.replace("[[PERSON_1]]", NAME)
    assert _analysed_ahead(addon, restored)
    assert not _analysed_ahead(addon, restored + " (never sent)")


@pytest.mark.parametrize("hang_up_after", ["[DONE]", "the first event"])
def test_a_client_hanging_up_is_noted_only_before_the_streams_end(gate, hang_up_after):
    """The openai SDK closes the connection once it has read `[DONE]`: that answer is whole."""
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    wire = _sse("Dear [[PERSON_1]]", ", bye")
    flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    addon.responseheaders(flow)
    read = wire if hang_up_after == "[DONE]" else wire[: wire.index(b"\n\n") + 2]
    flow.response.stream(read)
    flow.error = flow_module.Error("peer closed connection")
    addon.error(flow)
    assert "1 restored" in flow.comment
    assert ("connection closed before the stream's end" in flow.comment) == (hang_up_after != "[DONE]")


def test_without_store_streamed_bodies_the_flow_keeps_no_stream(gate):
    addon, _ = gate
    flow = _chat(PROMPT)
    asyncio.run(addon.request(flow))
    flow.response = http.Response.make(200, _sse("Dear [[PERSON_1]]"), {"content-type": "text/event-stream"})
    # Even if mitmproxy stored the restored stream (the option turned on mid-stream).
    assert NAME.encode() in _deliver(addon, flow, store=True)
    assert flow.response.raw_content is None


def test_state_does_not_grow_over_thousands_of_flows(gate, monkeypatch):
    """Every guarded flow's state is freed by its answer or its error."""
    addon, _ = gate
    vault = Vault()
    vault.placeholder_for(EMAIL, "EMAIL_ADDRESS")
    finding = Finding(
        "messages[0].content", "EMAIL_ADDRESS", "[[EMAIL_ADDRESS_1]]", 1.0, "t", "t", False, 3, False, "0f0f"
    )
    analysis = addon_module._Analysis(vault, [finding], b"{}", "gpt-4o-mini")
    monkeypatch.setattr(addon_module, "_mask_and_encode", lambda r, target, limit, d: analysis)

    async def run_flows() -> None:
        for i in range(2000):
            flow = _chat(PROMPT)
            await addon.request(flow)
            if i % 2:
                addon.error(flow)
            else:
                _answer(flow, "ok")
                addon.responseheaders(flow)
                addon.response(flow)

    before = dict(addon._masked)  # flows of earlier tests that never got an answer
    asyncio.run(run_flows())
    assert addon._masked == before
