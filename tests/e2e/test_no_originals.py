"""No original at rest: `maskgate run` saving its flows (`-w`), writing an audit log and its most
verbose output, after a masked, a streamed and a blocked request from the openai SDK, and a
streamed one read to its very end by a plain HTTP client.

Every original value is searched for, whole, JSON-escaped and in part, in the saved flows'
bytes, in each loaded flow (comment, metadata, request and response bodies, maskgate's view),
in the proxy's log, in the audit log and in the response headers. The clients must still have
received their originals, and the saved flows must hold the placeholders upstream saw and sent
back: a proxy that restored nothing, or kept no bodies, would not pass.

Everything runs twice: once as configured by default, once with mitmproxy storing streamed
bodies (`store_streamed_bodies`), where mitmproxy itself would keep the restored stream. The
openai SDK hangs up as soon as it reads `[DONE]`, so its stream usually ends in the `error`
hook; the plain client's ends in `response`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx2
import openai
import pytest
from mitmproxy import http, io

from maskgate.view import describe_flow

from .conftest import _LOG_START, OPENAI_BASE_URL, TEST_API_KEY, Proxy, _ca_context, _sdk, write_rules
from .corpus import DANA, DANA_EMAIL, MODEL, OPENAI_KEY, PEM_KEY, PEM_LINES, PHONE, THOMAS, THOMAS_EMAIL
from .fake_openai import FakeOpenAI
from .mitmweb import running_maskgate
from .test_chat_masking import CHAT_PATH, leaks

MASKED_PROMPT = f"Write to {DANA} <{DANA_EMAIL}>, or call {PHONE}; the key is {OPENAI_KEY}."
STREAMED_PROMPT = f"Say hello to {THOMAS} at {THOMAS_EMAIL}."
READ_TO_END_PROMPT = f"Tell {DANA} that {THOMAS} calls {PHONE}."
BLOCKED_PROMPT = f"Is this key well-formed?\n{PEM_KEY}\nAsk {DANA}."
ORIGINALS = (DANA, DANA_EMAIL, PHONE, OPENAI_KEY, THOMAS, THOMAS_EMAIL, *PEM_LINES)
BLOCK_PRIVATE_KEYS = (("    default: mask", "    PRIVATE_KEY: block\n    default: mask"),)

KINDS = ("masked", "streamed", "read-to-end", "blocked")
"""The requests, in the order they are sent, finish, and are saved."""
PLACEHOLDERS = {
    "masked": ("[[PERSON_1]]", "[[EMAIL_ADDRESS_1]]", "[[PHONE_NUMBER_1]]", "[[OPENAI_API_KEY_1]]"),
    "streamed": ("[[PERSON_1]]", "[[EMAIL_ADDRESS_1]]"),
    "read-to-end": ("[[PERSON_1]]", "[[PERSON_2]]", "[[PHONE_NUMBER_1]]"),
}


@dataclass(frozen=True)
class Run:
    """What one proxy run left behind, read once it has stopped."""

    proxy: Proxy
    stored_streams: bool
    """Whether mitmproxy stored streamed bodies (`store_streamed_bodies`)."""
    headers: dict[str, httpx2.Headers]
    answers: dict[str, str]
    """The text each answered request's client received."""
    flows: dict[str, http.HTTPFlow]
    saved: bytes
    log: str
    audit: bytes


@pytest.fixture(scope="module", params=[False, True], ids=["default", "store_streamed_bodies"])
def finished_run(
    request: pytest.FixtureRequest, fake_openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    """The four requests through `maskgate run`, with mitmproxy storing streamed bodies or not."""
    tmp_path = tmp_path_factory.mktemp("no-originals")
    rules = write_rules(tmp_path / "rules.yaml", BLOCK_PRIVATE_KEYS)
    audit, saved = tmp_path / "audit.jsonl", tmp_path / "flows.mitm"
    mitmproxy_args = [
        "-w", str(saved),
        "--set", f"maskgate_audit={audit}",
        "--set", f"store_streamed_bodies={str(request.param).lower()}",
        # The most verbose output: every flow with its headers and bodies, in the log.
        "--set", "flow_detail=4",
    ]  # fmt: skip
    fake_openai_server.clear()
    options = ["--rules", str(rules)]
    with running_maskgate("run", fake_openai_server, tmp_path, options, mitmproxy_args) as (proxy, _):
        headers, answers = _send_all_kinds(proxy)
    # Stopped: the saved flows and the audit log are complete.
    with saved.open("rb") as f:
        flows = [flow for flow in io.FlowReader(f).stream() if isinstance(flow, http.HTTPFlow)]
    assert len(flows) == len(KINDS)
    return Run(
        proxy=proxy,
        stored_streams=request.param,
        headers=headers,
        answers=answers,
        flows=dict(zip(KINDS, flows, strict=True)),
        saved=saved.read_bytes(),
        log=proxy.log_text(),
        audit=audit.read_bytes(),
    )


@pytest.fixture
def run(finished_run: Run, request: pytest.FixtureRequest) -> Run:
    """The module's run; a failing test's report gets the proxy's log."""
    request.node.stash[_LOG_START] = (finished_run.proxy, 0)
    return finished_run


def _send_all_kinds(proxy: Proxy) -> tuple[dict[str, httpx2.Headers], dict[str, str]]:
    """The requests of `KINDS`, one after the other: each one's response headers, and the
    text of each answer."""
    headers, answers = {}, {}
    with _sdk(proxy) as client:
        masked = client.chat.completions.with_raw_response.create(model=MODEL, messages=_ask(MASKED_PROMPT))
        headers["masked"] = masked.headers
        answers["masked"] = masked.parse().choices[0].message.content or ""
        streamed = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=_ask(STREAMED_PROMPT), stream=True
        )
        headers["streamed"] = streamed.headers
        answers["streamed"] = "".join(c.choices[0].delta.content or "" for c in streamed.parse() if c.choices)
        with httpx2.Client(proxy=proxy.url, verify=_ca_context(proxy), trust_env=False, timeout=60) as plain:
            read_to_end = plain.post(
                OPENAI_BASE_URL + CHAT_PATH,
                json={"model": MODEL, "messages": _ask(READ_TO_END_PROMPT), "stream": True},
                headers={"Authorization": f"Bearer {TEST_API_KEY}"},
            )
        headers["read-to-end"] = read_to_end.headers
        answers["read-to-end"] = _streamed_text(read_to_end.content)
        with pytest.raises(openai.BadRequestError) as blocked:
            client.chat.completions.create(model=MODEL, messages=_ask(BLOCKED_PROMPT))
        headers["blocked"] = blocked.value.response.headers
    return headers, answers


def _ask(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def _no_originals(data: str | bytes | None, where: str) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data or b""
    found = leaks(ORIGINALS, raw)
    assert not found, f"{where} holds originals: {found}"


def test_clients_get_their_originals_back(run: Run) -> None:
    assert run.answers == {
        "masked": MASKED_PROMPT,
        "streamed": STREAMED_PROMPT,
        "read-to-end": READ_TO_END_PROMPT,
    }


def test_no_original_in_headers_log_or_audit(run: Run) -> None:
    for kind, headers in run.headers.items():
        _no_originals(str(headers), f"the headers of the {kind} answer")
    modes = ["masked", "masked", "masked", "blocked"]
    assert [run.headers[kind]["x-maskgate-mode"] for kind in KINDS] == modes
    _no_originals(run.log, "the proxy log")
    _no_originals(run.audit, "the audit log")
    lines = [json.loads(line) for line in run.audit.decode("utf-8").splitlines()]
    assert [line["mode"] for line in lines] == modes
    assert [line["restore"] and line["restore"]["restored"] for line in lines] == [4, 2, 3, None]


def test_no_original_in_the_saved_flows(run: Run) -> None:
    _no_originals(run.saved, "the saved flows file")
    for kind, flow in run.flows.items():
        where = f"the saved {kind} flow"
        _no_originals(flow.comment, f"{where}: comment")
        _no_originals(json.dumps(flow.metadata), f"{where}: metadata")
        _no_originals(flow.request.get_content(), f"{where}: request body")
        _no_originals(describe_flow(flow), f"{where}: maskgate view")
        body = flow.response.get_content() if flow.response else None
        _no_originals(body, f"{where}: response body")
        if body and flow.response.headers.get("content-type", "").startswith("text/event-stream"):
            # A model's deltas are a few characters each: a value shows whole only put together.
            _no_originals(_streamed_text(body), f"{where}: text of the stored stream")


def test_saved_flows_hold_what_upstream_saw_and_sent(run: Run) -> None:
    for kind, placeholders in PLACEHOLDERS.items():
        sent = run.flows[kind].request.get_text() or ""
        assert all(p in sent for p in placeholders), f"{kind}: {sent}"

    masked = run.flows["masked"]
    answer = json.loads(masked.response.get_text() or "")
    assert answer["choices"][0]["message"]["content"] == _echoed(masked)
    # Both ways a stream can end: the SDK's may still finish first, the plain client's must.
    assert run.flows["read-to-end"].error is None
    for kind in ("streamed", "read-to-end"):
        flow = run.flows[kind]
        stored = flow.response.get_content()
        if run.stored_streams:
            # The stream as upstream sent it, not the restored one mitmproxy stored itself.
            assert stored and _streamed_text(stored) == _echoed(flow), f"{kind}: {stored!r}"
        else:
            assert stored is None, f"{kind}: {stored!r}"
    # Refused, never forwarded: no request body kept.
    blocked = run.flows["blocked"]
    assert blocked.request.get_content() == b"" and blocked.response.status_code == 400


def _streamed_text(stream: bytes) -> str:
    """The first choice's text, put together from the chunk events of a stream."""
    payloads = [line[6:] for line in stream.decode("utf-8").splitlines() if line.startswith("data: {")]
    chunks = [json.loads(payload) for payload in payloads]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def _echoed(flow: http.HTTPFlow) -> str:
    """The last user message of the request as it went upstream: what the fake model echoes."""
    return json.loads(flow.request.get_text() or "")["messages"][-1]["content"]
