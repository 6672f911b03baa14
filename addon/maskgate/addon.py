"""The mitmproxy addon: masks guarded requests, restores their answers, annotates flows.

Detection runs in worker threads so one large request never stalls the proxy; the
event loop only parses, decides and writes bodies. When in doubt on a guarded
endpoint the request is refused with an OpenAI-shaped error, never forwarded, unless
the rules say `on_failure: open`.

The rules file is read again when it changes. The rules in use and the detector built
from them are one pair, replaced together once the new detector is ready; an edit that
fails to load or build leaves the last good pair in service and is reported on every
guarded flow until the file is fixed.

Three sub-addons report on each guarded flow from what this addon recorded on it, their
hooks running right after its own: the `X-MaskGate-*` response headers (`headers`), the
audit log (`audit`) and the counts behind `maskgate.stats` (`stats`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mitmproxy import command, contentviews, ctx, exceptions, http
from mitmproxy.flow import Flow
from mitmproxy.utils import asyncio_utils

from maskgate import annotate, view
from maskgate.audit import MaskGateAudit
from maskgate.decrypt import allow_hosts_for, tunnelled
from maskgate.detect.engine import Detector
from maskgate.detect.pii import SpacyModelNotFound, resolve_spacy_model
from maskgate.errors import Refusal, error_response
from maskgate.headers import MaskGateHeaders
from maskgate.mask import Finding, masked_any
from maskgate.openai.endpoints import ENDPOINTS, Endpoint, StreamRestorer, endpoint_for
from maskgate.openai.jsonbody import encode_json
from maskgate.paths import endpoint
from maskgate.policy import (
    DEFAULT_RULES,
    Action,
    EndpointMode,
    OnFailure,
    OtherEndpoints,
    Policy,
    PolicyError,
    load_policy,
)
from maskgate.restore.decode import SUPPORTED, DecodingStream, StreamCallable
from maskgate.restore.json_answer import JsonAnswerRestorer
from maskgate.restore.text import RestoreTally
from maskgate.schedule import Lanes
from maskgate.stats import MaskGateStats
from maskgate.vault import Vault

logger = logging.getLogger("maskgate")

POLL_INTERVAL_S = 1.0
"""How often the rules file is checked for edits while the proxy runs."""

SMALL_BODY_BYTES = 16 * 1024
"""Bodies up to this size (a typical turn) are analysed apart from larger ones: analysing
them takes tens of milliseconds, and waiting behind a queue of 50 KB analyses would take
seconds. Threads share the interpreter, so under load a small request is slowed, not queued."""

BLOCKED = "maskgate_blocked"
"""The refusal a `block` action causes: the policy's decision, so never failed open."""

_DECRYPTION_OPTIONS = frozenset(
    {"maskgate_rules", "maskgate_decrypt_only_guarded", "allow_hosts", "ignore_hosts"}
)
"""Options after whose change the guarded hosts are checked against what mitmproxy decrypts."""

MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}")
"""What a model name looks like (`gpt-4o-mini`, `ft:gpt-4o-mini:org::id`). The field is
never masked, so only text of this shape is recorded: free text written there is not."""


@dataclass(frozen=True, slots=True)
class _Rules:
    """A policy and the detector built from it: only ever replaced together."""

    policy: Policy
    model: str
    detector: Detector
    build_s: float


@dataclass(frozen=True, slots=True)
class _FileVersion:
    """What the poller compares to notice an edit: metadata first, then the content,
    so that a touch or a save without changes does not rebuild anything."""

    path: Path
    mtime_ns: int
    size: int
    content: bytes | None
    """None when the file could not be read."""

    @classmethod
    def read(cls, path: Path) -> _FileVersion:
        mtime_ns, size = _stat(path)
        try:
            content = path.read_bytes()
        except OSError:
            content = None
        return cls(path, mtime_ns, size, content)


def _stat(path: Path) -> tuple[int, int]:
    """Modification time and size, or (-1, -1) for a file that is gone or unreadable."""
    try:
        st = path.stat()
    except OSError:
        return -1, -1
    return st.st_mtime_ns, st.st_size


@dataclass(frozen=True, slots=True)
class _Analysis:
    """What the worker thread made of a request body."""

    vault: Vault
    findings: list[Finding]
    body: bytes
    """The masked body; empty when nothing was masked."""
    model: str | None
    """The model asked for, when the body names one that looks like a model id."""


class _KeepUpstream:
    """A stream callable in front of another, keeping a copy of every byte it is given.

    mitmproxy's `store_streamed_bodies` stores what the restorer returns, originals
    included; the copy is what upstream sent, stored on the flow in its place.
    """

    def __init__(self, inner: StreamCallable) -> None:
        self._inner = inner
        self.kept = bytearray()

    def __call__(self, data: bytes) -> bytes | Iterable[bytes]:
        self.kept += data
        return self._inner(data)


@dataclass(slots=True)
class _Masked:
    """What a forwarded request left for its answer: the vault to restore from, and once the
    answer's headers are in, what restores it as it passes."""

    vault: Vault
    target: Endpoint
    stream_tally: RestoreTally | None = None
    """Set when the answer is an event stream: filled in by the stream restorer as events pass."""
    stream_restorer: StreamRestorer | None = None
    stream_copy: _KeepUpstream | None = None
    """The event stream as upstream sent it, kept only while mitmproxy stores streamed bodies."""
    json_answer: JsonAnswerRestorer | None = None
    """Set when the answer is JSON: restores it once it is whole."""
    unrestored: str = ""
    """Why the answer is passed on as it comes, when its headers already tell."""


class MaskGate:
    """Masks personal data and secrets in API requests to guarded hosts and restores their answers."""

    def __init__(self) -> None:
        # Small bodies get a thread of their own, so they never queue behind large analyses,
        # and large analyses pause at safe points while a small one waits or runs. One thread
        # for large bodies: a second added 15% throughput, and doubled small requests' wait.
        self._lanes = Lanes("maskgate-detect", deferrable_workers=1)
        self._executor, self._small_executor = self._lanes.deferrable, self._lanes.urgent
        # One thread builds rules: builds finish in the order they were asked for, so the
        # last edit always ends up in service, and detection never waits behind a build.
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="maskgate-rules")
        self._rules: _Rules | None = None
        self._start_refused = False
        """True once the first rules failed to load: the proxy is not going to start."""
        self._rules_error: str | None = None
        """Why the rules file's current content is not in service; None when it is."""
        self._watched: _FileVersion | None = None
        self._model_option = ""
        self._reloading: Future[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._masked: dict[str, _Masked] = {}
        # Run after this addon's hooks, on what they recorded on the flow.
        self.addons = [MaskGateHeaders(), MaskGateAudit(), MaskGateStats()]

    def load(self, loader: Any) -> None:
        contentviews.add(view.MaskGateContentview)
        loader.add_option(
            "maskgate_rules",
            str,
            str(DEFAULT_RULES),
            "maskgate rules file (YAML): guarded hosts, entity types, secret formats, limits. "
            "Read again when it changes; an invalid edit keeps the last good rules.",
        )
        loader.add_option(
            "maskgate_spacy_model",
            str,
            "",
            "spaCy model for names and places: an installed package name or a model directory. "
            "Empty: the rules file's pii.spacy_model.",
        )
        loader.add_option(
            "maskgate_decrypt_only_guarded",
            bool,
            False,
            "Keep allow_hosts equal to the guarded hosts of the rules in service, also when the rules "
            "change, so that every other TLS connection is tunnelled untouched. maskgate run and web "
            "turn this on.",
        )

    def configure(self, updated: set[str]) -> None:
        if {"maskgate_rules", "maskgate_spacy_model"} & updated:
            self._configure_rules()
        if self._rules is not None and _DECRYPTION_OPTIONS & updated:
            self._scope_decryption()

    def _configure_rules(self) -> None:
        path, model_option = Path(ctx.options.maskgate_rules), ctx.options.maskgate_spacy_model
        watched = self._watched
        if watched is not None and (watched.path, self._model_option) == (path, model_option):
            # Unchanged, e.g. mitmproxy putting the old value back after rejecting a new one.
            # Edits of the file itself are the poller's to notice.
            return
        if self._rules is None and self._start_refused:
            # mitmproxy puts the previous (default) options back after refusing ours at start,
            # and then exits: building those would only log a misleading "ready".
            return
        version = _FileVersion.read(path)  # before loading, so an edit made meanwhile is seen as one
        try:
            policy, model = _load_rules(path, model_option)
            if self._rules is None:
                # Nothing serves yet: build now, so invalid rules stop the proxy from starting
                # rather than leaving it running without protection.
                self._start(_build_rules(policy, model))
            else:
                # The current pair keeps serving until the new one is built.
                self._reloading = self._builder.submit(self._reload, lambda: (policy, model))
                self._reloading.add_done_callback(self._scope_decryption_soon)
        except PolicyError as e:
            self._start_refused = self._rules is None
            raise exceptions.OptionsError(str(e)) from None
        self._watched, self._model_option = version, model_option

    def _start(self, rules: _Rules) -> None:
        self._rules = rules
        logger.info(
            "maskgate ready: rules %s, model %s, guarding %s (%.1f s)",
            rules.policy.source, rules.model, ", ".join(rules.policy.hosts), rules.build_s,
        )  # fmt: skip

    def _reload(self, load: Callable[[], tuple[Policy, str]]) -> None:
        """Load and build new rules (in the rules thread), then put them in service; on any
        problem keep the current pair and remember why, for the flows that follow."""
        try:
            rules = _build_rules(*load())
        except PolicyError as e:
            self._rules_error = str(e)
            logger.error("maskgate: rules not applied: %s; keeping the last good rules", e)
            return
        self._rules, self._rules_error = rules, None
        logger.info(
            "maskgate: rules reloaded from %s (model %s, guarding %s, %.1f s)",
            rules.policy.source, rules.model, ", ".join(rules.policy.hosts), rules.build_s,
        )  # fmt: skip

    def _scope_decryption(self) -> None:
        """Keep `allow_hosts` on the guarded hosts when asked to, and report any guarded host
        that mitmproxy would tunnel: its requests would pass unmasked."""
        hosts = self._rules.policy.hosts if self._rules else ()
        if ctx.options.maskgate_decrypt_only_guarded:
            scope = [allow_hosts_for(hosts)]
            if list(ctx.options.allow_hosts) != scope:
                ctx.options.update(allow_hosts=scope)
        if missed := tunnelled(hosts, ctx.options.allow_hosts, ctx.options.ignore_hosts):
            logger.warning(
                "maskgate: %s guarded but not decrypted (allow_hosts / ignore_hosts): requests there "
                "pass UNMASKED",
                ", ".join(missed),
            )

    def _scope_decryption_soon(self, _: Future[None]) -> None:
        """Called in the rules thread once a build ends: options change on the event loop."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._scope_decryption)

    def running(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._poller = asyncio_utils.create_task(self._poll_rules(), name="maskgate rules", keep_ref=False)

    async def _poll_rules(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            await self.reload_if_changed()

    async def reload_if_changed(self) -> None:
        """Reload the rules file if its content changed since it was last read.

        The poller calls this about once a second; it returns when the new rules are in
        service or have been rejected.
        """
        seen = self._watched
        if seen is None or _stat(seen.path) == (seen.mtime_ns, seen.size):
            return
        self._watched = current = _FileVersion.read(seen.path)
        if current.content == seen.content:
            return
        model_option = self._model_option
        self._reloading = self._builder.submit(self._reload, lambda: _load_rules(current.path, model_option))
        await asyncio.wrap_future(self._reloading)
        self._scope_decryption()

    def done(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        self._builder.shutdown(wait=False, cancel_futures=True)
        self._lanes.shutdown()
        if self._rules is not None:
            self._rules.detector.close()

    async def request(self, flow: http.HTTPFlow) -> None:
        rules = self._rules
        if flow.response is not None or rules is None or not _on_guarded_host(flow.request, rules.policy):
            return
        if self._rules_error is not None:
            annotate.record_rules_error(flow, self._rules_error)
        target = endpoint_for(flow.request.method, flow.request.path)
        if target is None or rules.policy.endpoints[target.name] != EndpointMode.INSPECT:
            _not_inspected(flow, rules.policy, target)
            return
        started = time.perf_counter()
        try:
            analysis = await self._mask(flow.request, rules, target)
        except Refusal as refusal:
            if rules.policy.on_failure == OnFailure.OPEN:
                logger.warning(
                    "maskgate: forwarding %s UNMASKED (on_failure: open): %s (%s)",
                    endpoint(flow.request.path), refusal.message, refusal.code,
                )  # fmt: skip
                annotate.record_failed_open(flow, refusal.message)
                return
            _refuse(flow, refusal)
            annotate.record_refused(flow, refusal.code, refusal.message)
            return
        analysis_ms = (time.perf_counter() - started) * 1000
        vault, findings = analysis.vault, analysis.findings
        annotate.record_model(flow, analysis.model)
        if blocked := [f for f in findings if f.action == Action.BLOCK]:
            refusal = Refusal(400, BLOCKED, blocked_message(blocked))
            _refuse(flow, refusal)
            annotate.record_blocked(flow, findings, analysis_ms, refusal.code, refusal.message)
            return
        if masked_any(findings):
            flow.request.content = analysis.body
            flow.request.anticomp()
            self._masked[flow.id] = _Masked(vault, target)
        annotate.record_masked(flow, findings, analysis_ms)
        logged = sum(f.action == Action.LOG for f in findings)
        logger.info(
            "maskgate: %s masked %d occurrence(s) of %d value(s), logged %d, in %.0f ms",
            endpoint(flow.request.path), len(findings) - logged, len(vault), logged, analysis_ms,
        )  # fmt: skip

    async def _mask(self, request: http.Request, rules: _Rules, target: Endpoint) -> _Analysis:
        """Parse, analyse and rewrite the body in a worker thread, within the time limit."""
        timeout = rules.policy.analysis_timeout_ms / 1000
        size = len(request.raw_content or b"")
        executor = self._small_executor if size <= SMALL_BODY_BYTES else self._executor
        work = executor.submit(_mask_and_encode, request, target, rules.policy.max_body_bytes, rules.detector)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(work), timeout)
        except TimeoutError:
            raise Refusal(
                503, "maskgate_analysis_timeout", f"analysis took longer than {timeout:g} s."
            ) from None
        except Refusal:
            raise
        except Exception as e:
            # The exception's message may quote the text being analysed: log where, not what.
            frame = traceback.extract_tb(e.__traceback__)[-1]
            logger.error(
                "maskgate: detection failed: %s at %s:%d", type(e).__name__, frame.filename, frame.lineno
            )
            raise Refusal(
                503, "maskgate_detection_failed", f"detection failed ({type(e).__name__})."
            ) from None

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None:
            return
        event_stream = response.headers.get("content-type", "").startswith("text/event-stream")
        state = self._masked.get(flow.id)
        if state is None or response.status_code >= 400:
            if event_stream and annotate.METADATA_KEY in flow.metadata and not response.stream:
                # Guarded, nothing to restore: pass events on as they come, never buffered.
                response.stream = True
            return
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in SUPPORTED | {"identity"}:
            state.unrestored = f"{encoding}-encoded answer left as it came"
            logger.warning("maskgate: %s answer to %s left unrestored", encoding, endpoint(flow.request.path))
            return
        # Both kinds of answer are restored by a stream callable, set here: mitmproxy then sends
        # what it returns without keeping a copy, so the flow never holds the originals. An
        # event stream is also passed on event by event instead of being buffered whole.
        restorer: StreamCallable
        if event_stream and (restore_stream := state.target.restore_stream) is not None:
            state.stream_tally = RestoreTally()
            restorer = state.stream_restorer = restore_stream(state.vault, state.stream_tally)
            if ctx.options.store_streamed_bodies:
                restorer = state.stream_copy = _KeepUpstream(restorer)
        elif not event_stream and (restore := state.target.restore) is not None:
            restorer = state.json_answer = JsonAnswerRestorer(state.vault, restore)
        else:
            # Nothing in this kind of answer comes from the request (embeddings' vectors).
            state.unrestored = "answer carries no text to restore"
            if event_stream:
                response.stream = True
            return
        if encoding != "identity":
            # anticomp() asked for none, but upstream compressed anyway: decode as it flows.
            restorer = DecodingStream(encoding, restorer)
            del response.headers["content-encoding"]
        response.headers.pop("content-length", None)
        response.stream = restorer

    def response(self, flow: http.HTTPFlow) -> None:
        # Runs before mitmproxy's Save addon (see cli.py), which writes the flow in its own
        # `response` hook: by then the flow holds what upstream sent, never the restored answer.
        state = self._masked.pop(flow.id, None)
        if state is None or (response := flow.response) is None:
            return
        if state.stream_tally is not None:
            _store_upstream_stream(response, state)
            annotate.record_restore(flow, state.stream_tally)
            if state.stream_restorer is not None:
                self._analyse_ahead(state.stream_restorer.answer_texts())
        elif (answer := state.json_answer) is not None and answer.upstream is not None:
            # The client has the restored answer already: nothing is sent after this hook.
            response.raw_content = answer.upstream
            annotate.record_restore(flow, answer.tally, answer.note)
            self._analyse_ahead(answer.answer_texts)
        elif response.status_code >= 400:
            annotate.record_restore(flow, None, f"upstream error {response.status_code} passed through")
        else:
            annotate.record_restore(flow, None, state.unrestored or "answer never reached the restorer")

    def error(self, flow: http.HTTPFlow) -> None:
        state = self._masked.pop(flow.id, None)
        if state is not None and state.stream_tally is not None:
            if flow.response is not None:
                _store_upstream_stream(flow.response, state)
            # The openai SDK hangs up as soon as it reads `[DONE]`, so a stream read to its
            # end often finishes here rather than in `response`.
            whole = state.stream_restorer is not None and state.stream_restorer.finished
            note = "" if whole else "connection closed before the stream's end; counted up to there"
            annotate.record_restore(flow, state.stream_tally, note)
            if whole:
                self._analyse_ahead(state.stream_restorer.answer_texts())

    def _analyse_ahead(self, texts: list[str]) -> None:
        """Analyse an answer's texts in the large-body lane while the user reads them.

        Clients send every answer back as history in their next request, and the detector
        caches what it analysed: that request then only analyses its new message. Small
        requests still go first, as in every analysis of that lane.
        """
        if not texts or (rules := self._rules) is None:
            return
        with contextlib.suppress(RuntimeError):  # raised once the proxy is shutting down
            self._executor.submit(_analyse_quietly, rules.detector, texts)

    @command.command("maskgate.report")
    def report(self, flows: Sequence[Flow]) -> str:
        """What maskgate did to each of these flows: detections, answer, refusal or warning."""
        guarded = [f for f in flows if annotate.METADATA_KEY in f.metadata]
        if not guarded:
            return f"maskgate: none of these {len(flows)} flow(s) went through maskgate."
        return "\n\n".join(view.describe_flow(f) for f in guarded)


def _load_rules(path: Path, model_option: str) -> tuple[Policy, str]:
    """The validated rules and the spaCy model to load for them; errors name file and key."""
    policy = load_policy(path)
    try:
        model = resolve_spacy_model(model_option or policy.pii.spacy_model)
    except SpacyModelNotFound as e:
        where = "option maskgate_spacy_model" if model_option else f"{policy.source}: pii.spacy_model"
        raise PolicyError(f"{where}: {e}") from None
    return policy, model


def _build_rules(policy: Policy, model: str) -> _Rules:
    """Build and warm up the detector for `policy`: slow, it loads the spaCy model.

    The engine checks what the rules file alone cannot (e.g. that some recognizer finds
    each listed type), so any failure here is reported as a problem of the rules.
    """
    started = time.perf_counter()
    try:
        detector = Detector(policy, spacy_model=model, worker=True)
        detector.warm_up()
    except PolicyError:
        raise
    except Exception as e:
        # Built from the rules and a fixed warm-up text only: the message quotes no request.
        raise PolicyError(
            f"{policy.source}: the detection engine failed to start: {type(e).__name__}: {e}"
        ) from None
    return _Rules(policy, model, detector, time.perf_counter() - started)


def _analyse_quietly(detector: Detector, texts: list[str]) -> None:
    """Analyse texts only to fill the detector's cache; a failure there costs nothing but the
    head start, and its message may quote the text, so only its type is logged."""
    try:
        for text in texts:
            detector.detect(text)
    except Exception as e:
        logger.debug("maskgate: analysing an answer ahead failed: %s", type(e).__name__)


def _store_upstream_stream(response: http.Response, state: _Masked) -> None:
    """Leave on the flow the event stream as upstream sent it, when mitmproxy stores streamed
    bodies, and nothing otherwise: what it stored itself is the restored stream."""
    response.raw_content = bytes(state.stream_copy.kept) if state.stream_copy is not None else None


def _on_guarded_host(request: http.Request, policy: Policy) -> bool:
    return request.pretty_host.lower().rstrip(".") in policy.hosts


def _refuse(flow: http.HTTPFlow, refusal: Refusal) -> None:
    """Answer the request with maskgate's error instead of forwarding it.

    The refused body is dropped from the flow: it holds what the policy blocks, or text that
    could not be inspected, and flows are shown, kept in memory and saved (`-w`).
    """
    logger.warning("maskgate: refused %s: %s", endpoint(flow.request.path), refusal.message)
    flow.request.content = b""
    flow.response = error_response(refusal)


def _not_inspected(flow: http.HTTPFlow, policy: Policy, target: Endpoint | None) -> None:
    """Pass or refuse a request to a guarded host that is not inspected: an endpoint maskgate
    cannot read, or one the rules set to `pass` or `block`.

    Only the normalised path is logged and recorded: a query string may carry data.
    """
    where = f"{flow.request.method} {endpoint(flow.request.path)}"
    if target is None:
        rule, block = "other_endpoints", policy.other_endpoints == OtherEndpoints.BLOCK
        why = f"it is not one of the endpoints maskgate inspects ({', '.join(e.display for e in ENDPOINTS)})"
    else:
        rule, block = f"endpoints.{target.name}", policy.endpoints[target.name] == EndpointMode.BLOCK
        why = "the rules say so"
    if block:
        refusal = Refusal(
            403, "maskgate_endpoint_blocked", f"the rules block {where}: {why} ({rule}: block)."
        )
        _refuse(flow, refusal)
        annotate.record_refused(flow, refusal.code, refusal.message)
        return
    logger.info("maskgate: %s forwarded without inspection (%s: pass)", where, rule)
    annotate.record_not_inspected(flow, where)


def _parse_body(request: http.Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, or a `Refusal` saying why it cannot be inspected."""
    if request.raw_content is None:
        raise Refusal(
            413, "maskgate_body_not_buffered", "the request body was streamed and cannot be inspected."
        )
    if len(request.raw_content) > limit:
        raise Refusal(413, "maskgate_body_too_large", f"the request body is larger than {limit // 1024} KB.")
    try:
        raw = request.get_content(strict=True)
    except ValueError:
        encoding = request.headers.get("content-encoding", "")
        raise Refusal(400, "maskgate_bad_encoding", f"the body is not valid {encoding} data.") from None
    if raw is None or len(raw) > limit:
        raise Refusal(413, "maskgate_body_too_large", f"the decoded body is larger than {limit // 1024} KB.")
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except UnicodeDecodeError:
        raise Refusal(400, "maskgate_invalid_utf8", "the request body is not valid UTF-8.") from None
    except ValueError as e:
        raise Refusal(
            400, "maskgate_invalid_json", f"the request body is not valid JSON ({_json_problem(e)})."
        ) from None
    if not isinstance(body, dict):
        raise Refusal(400, "maskgate_invalid_json", "the request body is not a JSON object.")
    return body


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key could hide a second value from inspection while upstream reads it.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("an object repeats a key")
        result[key] = value
    return result


def _json_problem(error: ValueError) -> str:
    """Where JSON parsing failed, without quoting the document."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    return str(error)


def _mask_and_encode(request: http.Request, target: Endpoint, limit: int, detector: Detector) -> _Analysis:
    body = _parse_body(request, limit)
    model = body.get("model")
    model = model if isinstance(model, str) and MODEL_ID.fullmatch(model) else None
    vault, findings = target.mask(body, detector.detect, detector.action_for)
    # A body with a blocked finding is not rewritten, nor forwarded: the hook refuses it.
    return _Analysis(vault, findings, encode_json(body) if masked_any(findings) else b"", model)


def blocked_message(blocked: list[Finding]) -> str:
    """Which blocked types were found where, in order of appearance; never the values.

    Types and field paths let the user find and remove what the policy forbids.
    """
    paths: dict[str, list[str]] = {}
    for f in blocked:
        where = paths.setdefault(f.entity_type, [])
        if f.path not in where:
            where.append(f.path)
    found = "; ".join(f"{entity_type} in {', '.join(where)}" for entity_type, where in paths.items())
    return f"the request contains data the policy blocks: {found}."
