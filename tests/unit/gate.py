"""A MaskGate addon with a fast regex detector (`FakeDetector`), driven hook by hook as
mitmproxy drives it, and the rules-file helper the addon tests share.

Hooks go through mitmproxy's addon manager, so MaskGate's sub-addons (headers, audit log,
stats) run after it exactly as in the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import flow, hooks, http
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.proxy.layers.http import (
    HttpErrorHook,
    HttpRequestHook,
    HttpResponseHeadersHook,
    HttpResponseHook,
)
from mitmproxy.test import taddons, tflow

from maskgate import addon as addon_module
from maskgate.addon import MaskGate
from maskgate.detect.types import Detection
from maskgate.policy import DEFAULT_RULES, Action, Policy, PolicyError

from .fakes import fake_detect

URL = "https://api.openai.com/v1/chat/completions"
NAME = "Jane Doe"
EMAIL = "jane.doe@example.org"
KEY = "sk-proj-" + "Q7xV9pL2mN4bR8tY1wE6"
PROMPT = f"Write to {NAME} <{EMAIL}> and rotate {KEY} today."

PERSON_BLOCKED = ("PERSON: {action: mask", "PERSON: {action: block")
EMAIL_LOGGED = ("EMAIL_ADDRESS: {action: mask", "EMAIL_ADDRESS: {action: log")
FAIL_OPEN = ("on_failure: closed", "on_failure: open")
ENDPOINTS_BLOCKED = ("other_endpoints: pass", "other_endpoints: block")


class FakeDetector:
    """Stands in for the engine: regex detections, the policy's actions.

    Like the real engine it rejects an entity type no recognizer finds. `gate`, when
    set, holds a build until the test releases it.
    """

    built = 0
    gate: tuple[threading.Event, threading.Event] | None = None
    """(building, release): set by the builder, set by the test."""

    def __init__(self, policy: Policy, spacy_model: str | None = None, worker: bool = False) -> None:
        if "NO_SUCH_TYPE" in policy.pii.entities:
            raise PolicyError(f"{policy.source}: pii.entities.NO_SUCH_TYPE: no recognizer finds this type")
        self._policy = policy
        self.closed = False
        if FakeDetector.gate is not None:
            building, release = FakeDetector.gate
            building.set()
            assert release.wait(10), "the test never released the build"
        FakeDetector.built += 1

    def detect(self, text: str) -> list[Detection]:
        return fake_detect(text)

    def action_for(self, d: Detection) -> Action:
        return self._policy.action_for(d.entity_type, d.secret)

    def warm_up(self) -> None:
        """Nothing to load."""

    def close(self) -> None:
        """No worker process to stop: only remembered."""
        self.closed = True


def write_rules(path: Path, *changes: tuple[str, str]) -> Path:
    """The shipped rules with each (old, new) replacement made, written to `path`.

    The modification time moves on by a second each time, so that two writes within
    the file system's time resolution still count as an edit.
    """
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    previous = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    mtime = max(path.stat().st_mtime_ns, previous + 1_000_000_000)
    os.utime(path, ns=(mtime, mtime))
    return path


class Gate:
    """The addon under test in its taddons context."""

    def __init__(self, addon: MaskGate, tctx: taddons.context) -> None:
        self.addon, self.tctx = addon, tctx

    def _run(self, hook: hooks.Hook) -> None:
        asyncio.run(self.tctx.master.addons.invoke_addon(self.addon, hook))

    def request(self, f: http.HTTPFlow) -> http.HTTPFlow:
        self._run(HttpRequestHook(f))
        return f

    def answer_headers(self, f: http.HTTPFlow, response: http.Response | None = None) -> http.HTTPFlow:
        """The `responseheaders` hook, with `response` from upstream unless maskgate answered
        already (by default an echo of the masked request)."""
        if f.response is None:
            f.response = response or json_answer(f.request.get_text())
        self._run(HttpResponseHeadersHook(f))
        return f

    def finish(self, f: http.HTTPFlow) -> http.HTTPFlow:
        """The `response` hook: the answer's body has arrived, or its stream has ended."""
        self._run(HttpResponseHook(f))
        return f

    def answer(self, f: http.HTTPFlow, response: http.Response | None = None) -> http.HTTPFlow:
        """Both response hooks, as for an answer that arrived whole; a body that `responseheaders`
        chose to stream goes through the stream callable in between, as mitmproxy sends it."""
        self.answer_headers(f, response)
        if f.response is not None and callable(f.response.stream):
            body, f.response.raw_content = f.response.raw_content or b"", None
            through_stream(f.response, body)
            through_stream(f.response, b"")
        return self.finish(f)

    def send(self, content: str | bytes, url: str = URL, method: str = "POST") -> http.HTTPFlow:
        """A request and its answer (an echo of the masked request, unless refused)."""
        return self.answer(self.request(chat(content, url, method)))

    def error(self, f: http.HTTPFlow, message: str = "peer closed connection") -> http.HTTPFlow:
        f.error = flow.Error(message)
        self._run(HttpErrorHook(f))
        return f

    def done(self) -> None:
        """The proxy stops: sub-addons finish their work (the audit log its lines)."""
        self.tctx.master.addons.invoke_addon_sync(self.addon, hooks.DoneHook())


@contextlib.contextmanager
def running_gate(tmp_path: Path, *changes: tuple[str, str], **options: Any) -> Iterator[Gate]:
    """MaskGate with the shipped rules changed by `changes`, and other options set."""
    rules = write_rules(tmp_path / "rules.yaml", *changes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(addon_module, "Detector", FakeDetector)
        addon = MaskGate()
        # The proxy server declares `store_streamed_bodies`, which the addon reads.
        with taddons.context(addon, Proxyserver()) as tctx:
            tctx.configure(addon, maskgate_rules=str(rules), **options)
            yield Gate(addon, tctx)


def chat(content: str | bytes, url: str = URL, method: str = "POST") -> http.HTTPFlow:
    """A flow whose request body is `content` as given (bytes) or a one-message chat (text)."""
    if isinstance(content, str):
        content = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]})
        content = content.encode()
    request = http.Request.make(method, url, b"", {"content-type": "application/json"})
    request.raw_content = content
    return tflow.tflow(req=request)


def json_answer(text: str, status: int = 200, headers: dict[str, str] | None = None) -> http.Response:
    """A chat-completion answer whose message is `text`."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    return http.Response.make(
        status, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})}
    )


def sse_answer() -> http.Response:
    """The headers of a streamed answer; its events go through `response.stream`."""
    return http.Response.make(200, b"", {"content-type": "text/event-stream"})


def sse_event(text: str) -> bytes:
    """One chat-completion chunk whose delta is `text`."""
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


def through_stream(response: http.Response, data: bytes) -> bytes:
    """What the stream callable set on `response` sends on for `data`."""
    out = response.stream(data)
    return out if isinstance(out, bytes) else b"".join(out)
