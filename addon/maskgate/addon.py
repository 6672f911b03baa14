"""The mitmproxy addon: masks guarded requests, restores their answers, annotates flows.

Detection runs in worker threads so one large request never stalls the proxy; the
event loop only parses, decides and writes bodies. When in doubt on a guarded
endpoint the request is refused with an OpenAI-shaped error, never forwarded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import re
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from mitmproxy import ctx, exceptions, http

from maskgate import annotate
from maskgate.detect.engine import Detector
from maskgate.detect.pii import SpacyModelNotFound, resolve_spacy_model
from maskgate.errors import Refusal, error_response
from maskgate.mask import Finding, masked_any
from maskgate.openai import chat
from maskgate.policy import DEFAULT_RULES, Action, Policy, PolicyError, load_policy
from maskgate.restore.decode import SUPPORTED, DecodingStream, StreamCallable
from maskgate.restore.sse import SseRestorer
from maskgate.restore.text import RestoreTally
from maskgate.vault import Vault

logger = logging.getLogger("maskgate")


@dataclass(slots=True)
class _Masked:
    """What a forwarded request left for its answer: the vault to restore from."""

    vault: Vault
    stream_tally: RestoreTally | None = None
    """Set when the answer is streamed: filled in by the stream restorer as events pass."""


class MaskGate:
    """Masks personal data and secrets in chat-completion requests to guarded hosts."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="maskgate-detect")
        self._policy: Policy | None = None
        self._detector: Future[Detector] | None = None
        self._masked: dict[str, _Masked] = {}

    def load(self, loader: Any) -> None:
        loader.add_option(
            "maskgate_rules",
            str,
            str(DEFAULT_RULES),
            "maskgate rules file (YAML): guarded hosts, entity types, secret formats, limits.",
        )
        loader.add_option(
            "maskgate_spacy_model",
            str,
            "",
            "spaCy model for names and places: an installed package name or a model directory. "
            "Empty: the rules file's pii.spacy_model.",
        )

    def configure(self, updated: set[str]) -> None:
        if not {"maskgate_rules", "maskgate_spacy_model"} & updated:
            return
        try:
            policy = load_policy(ctx.options.maskgate_rules)
            model = resolve_spacy_model(ctx.options.maskgate_spacy_model or policy.pii.spacy_model)
        except (PolicyError, SpacyModelNotFound) as e:
            raise exceptions.OptionsError(str(e)) from None
        self._policy = policy
        self._detector = self._executor.submit(self._build_detector, policy, model)

    @staticmethod
    def _build_detector(policy: Policy, model: str) -> Detector:
        started = time.perf_counter()
        try:
            detector = Detector(policy, spacy_model=model)
            detector.warm_up()
        except Exception:
            logger.exception("maskgate: detection engine failed to start; guarded requests are refused")
            raise
        logger.info(
            "maskgate ready: rules %s, model %s, guarding %s (%.1f s)",
            policy.source, model, ", ".join(policy.hosts), time.perf_counter() - started,
        )  # fmt: skip
        return detector

    def done(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _guarded(self, flow: http.HTTPFlow) -> bool:
        return (
            self._policy is not None
            and flow.request.method == "POST"
            and flow.request.pretty_host.lower().rstrip(".") in self._policy.hosts
            and endpoint(flow.request.path) == chat.PATH
        )

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or not self._guarded(flow):
            return
        started = time.perf_counter()
        try:
            vault, findings, masked = await self._mask(flow.request)
        except Refusal as refusal:
            logger.warning("maskgate: refused %s: %s", flow.request.path, refusal.message)
            flow.response = error_response(refusal)
            annotate.record_refused(flow, refusal.code, refusal.message)
            return
        analysis_ms = (time.perf_counter() - started) * 1000
        if masked_any(findings):
            flow.request.content = masked
            flow.request.anticomp()
            self._masked[flow.id] = _Masked(vault)
        annotate.record_masked(flow, findings, analysis_ms)
        logged = sum(f.action == Action.LOG for f in findings)
        logger.info(
            "maskgate: %s masked %d occurrence(s) of %d value(s), logged %d, in %.0f ms",
            flow.request.path, len(findings) - logged, len(vault), logged, analysis_ms,
        )  # fmt: skip

    async def _mask(self, request: http.Request) -> tuple[Vault, list[Finding], bytes]:
        """Parse, analyse and rewrite the body in a worker thread, within the time limit."""
        if self._detector is None:
            raise Refusal(503, "maskgate_not_configured", "maskgate has no rules loaded.")
        timeout = self._policy.analysis_timeout_ms / 1000
        try:
            detector = await asyncio.wait_for(asyncio.wrap_future(self._detector), timeout)
            work = self._executor.submit(_mask_and_encode, request, self._policy.max_body_bytes, detector)
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
        if response is None or not response.headers.get("content-type", "").startswith("text/event-stream"):
            return
        state = self._masked.get(flow.id)
        if state is None or response.status_code >= 400:
            if annotate.METADATA_KEY in flow.metadata and not response.stream:
                # Guarded, nothing to restore: pass events on as they come, never buffered.
                response.stream = True
            return
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in SUPPORTED | {"identity"}:
            logger.warning("maskgate: %s event stream for %s left unrestored", encoding, flow.request.path)
            return
        # Set here, not in `response`, or mitmproxy buffers the whole stream first.
        state.stream_tally = RestoreTally()
        restorer: StreamCallable = SseRestorer(state.vault, state.stream_tally)
        if encoding != "identity":
            # anticomp() asked for none, but upstream compressed anyway: decode as it flows.
            restorer = DecodingStream(encoding, restorer)
            del response.headers["content-encoding"]
        response.headers.pop("content-length", None)
        response.stream = restorer

    def response(self, flow: http.HTTPFlow) -> None:
        state = self._masked.pop(flow.id, None)
        if state is None or flow.response is None:
            return
        if state.stream_tally is not None:
            annotate.record_restore(flow, state.stream_tally)
            return
        if flow.response.status_code >= 400:
            annotate.record_restore(flow, None, f"upstream error {flow.response.status_code} passed through")
            return
        if flow.response.stream:
            annotate.record_restore(flow, None, "streamed answer not restored")
            return
        annotate.record_restore(flow, *_restore_json_answer(flow.response, state.vault))

    def error(self, flow: http.HTTPFlow) -> None:
        self._masked.pop(flow.id, None)


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


def endpoint(path: str) -> str:
    """The path a server would route: no query, no percent-escapes, no `//`, `.` or trailing `/`.

    Compared in this form, `/v1//chat/completions/` or `/v1/chat%2Fcompletions` cannot slip
    past the check while upstream still serves them as chat completions.
    """
    normal = posixpath.normpath(re.sub("/+", "/", "/" + unquote(path.split("?", 1)[0])))
    return normal.rstrip("/").lower() or "/"


def _mask_and_encode(
    request: http.Request, limit: int, detector: Detector
) -> tuple[Vault, list[Finding], bytes]:
    body = _parse_body(request, limit)
    vault, findings = chat.mask_chat_request(body, detector.detect, detector.action_for)
    if blocked := [f for f in findings if f.action == Action.BLOCK]:
        raise Refusal(400, "maskgate_blocked", blocked_message(blocked))
    return vault, findings, encode_json(body) if masked_any(findings) else b""


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


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; falls back to ASCII escapes for text that is not valid Unicode."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def _restore_json_answer(response: http.Response, vault: Vault) -> tuple[RestoreTally | None, str]:
    """Restore a buffered JSON answer in place; the note says why not when it could not be."""
    try:
        body = json.loads(response.get_text(strict=True) or "")
    except ValueError:
        return None, "answer is not JSON; left as it came"
    if not isinstance(body, dict):
        return None, "answer is not a JSON object; left as it came"
    tally = chat.restore_chat_response(body, vault)
    if tally.restored:
        response.content = encode_json(body)
    return tally, ""
