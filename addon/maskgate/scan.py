"""What the proxy would do to one text or one chat-completion request, without a proxy.

`maskgate scan` lets users try their rules on their own data: the result is what
would go upstream (or the error the client would get instead), and every finding is
described by field, type, action, placeholder, score and length. The detected values
themselves are only collected when the caller asks for them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maskgate.addon import blocked_message
from maskgate.detect.types import Detection
from maskgate.errors import Refusal, error_response
from maskgate.mask import DetectFn, Finding, TextSlot, mask_slots
from maskgate.openai.chat import mask_chat_request
from maskgate.policy import Action

if TYPE_CHECKING:
    from maskgate.detect.engine import Detector

TEXT_PATH = "text"
"""The field path reported for findings in plain-text input."""

_ACTED = frozenset({Action.MASK, Action.REDACT, Action.BLOCK})
_TAG = "\x00"


class ScanInputError(ValueError):
    """The input cannot be scanned; the message says why without quoting the input."""


@dataclass(frozen=True, slots=True)
class ScanResult:
    output: str
    """The masked text or request as it would go upstream; for blocked input, the
    error body the client would get instead."""
    findings: list[Finding]
    values: list[str]
    """The original behind each finding, in the same order; empty unless asked for."""
    blocked: bool

    @property
    def acted(self) -> bool:
        """True when the proxy would change or refuse the request, not only log it."""
        return any(f.action in _ACTED for f in self.findings)


def scan(source: str, detector: Detector, *, with_values: bool = False) -> ScanResult:
    """Mask `source` as the proxy would: as a chat request when it is one, else as one text."""
    tags = _ValueTags(detector.detect) if with_values else None
    detect = tags.detect if tags else detector.detect
    request = chat_request(source)
    if request is not None:
        vault, findings = mask_chat_request(request, detect, detector.action_for)
        output = json.dumps(request, ensure_ascii=False, indent=2) + "\n"
    else:
        output = source

        def write(masked: str) -> None:
            nonlocal output
            output = masked

        vault, findings = mask_slots([TextSlot(TEXT_PATH, source, True, write)], detect, detector.action_for)
    if tags:
        findings, values = tags.resolve(findings)
        # A masked value is best read from the vault: it holds the decoded form of
        # values found inside JSON text, where the tag holds the escaped one.
        values = [
            entry.value if (entry := vault.lookup(f.placeholder)) else value
            for f, value in zip(findings, values, strict=True)
        ]
    else:
        values = []
    blocked = [f for f in findings if f.action == Action.BLOCK]
    if blocked:
        output = refusal_body(blocked)
    return ScanResult(output, findings, values, bool(blocked))


def chat_request(source: str) -> dict[str, Any] | None:
    """The chat-completion request `source` holds, or None when it is to be read as text.

    Input that starts like a JSON object and names "messages" but does not parse is an
    error: read as plain text it would not show what the proxy does with the request.
    """
    if not source.lstrip().startswith("{"):
        return None
    try:
        body = json.loads(source)
    except json.JSONDecodeError as e:
        if '"messages"' not in source:
            return None
        raise ScanInputError(
            f"the input looks like a chat-completion request but is not valid JSON: "
            f"{e.msg} (line {e.lineno}, column {e.colno})"
        ) from None
    if not isinstance(body, dict) or "messages" not in body:
        return None
    if not isinstance(body["messages"], list):
        raise ScanInputError('the input is a JSON object whose "messages" is not a list')
    return body


def refusal_body(blocked: Sequence[Finding]) -> str:
    """The error body the proxy answers a blocked request with, indented for reading."""
    response = error_response(Refusal(400, "maskgate_blocked", blocked_message(list(blocked))))
    return json.dumps(json.loads(response.get_text() or ""), indent=2) + "\n"


def findings_table(result: ScanResult) -> str:
    """The findings as aligned columns, with a value column when values were collected."""
    header = ["PATH", "TYPE", "ACTION", "PLACEHOLDER", "SCORE", "ENGINE", "RECOGNIZER", "LENGTH"]
    rows = [
        [f.path, f.entity_type, str(f.action), f.placeholder or "-", f"{f.score:.2f}", f.engine,
         f.recognizer or "-", str(f.length)]
        for f in result.findings
    ]  # fmt: skip
    if result.values:
        header.append("VALUE")
        # JSON quoting keeps a multi-line value (a private key) on its row.
        for row, value in zip(rows, result.values, strict=True):
            row.append(json.dumps(value, ensure_ascii=False))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in [header, *rows]
    )


def summary(result: ScanResult) -> str:
    """One line: how many findings, by action."""
    if not result.findings:
        return "nothing found"
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[str(f.action)] = counts.get(str(f.action), 0) + 1
    by_action = ", ".join(f"{action} {n}" for action, n in counts.items())
    noun = "finding" if len(result.findings) == 1 else "findings"
    return f"{len(result.findings)} {noun} ({by_action})"


class _ValueTags:
    """Lets findings be traced back to the values they stand for.

    A `Finding` carries neither its value nor its offsets. Each detection's recognizer
    gets a numbered tag on the way into masking, which the finding copies; the number
    leads back to the detected text. Actions depend only on type, so the tag changes
    nothing about what is masked.
    """

    def __init__(self, detect: DetectFn) -> None:
        self._detect = detect
        self._values: list[str] = []

    def detect(self, text: str) -> list[Detection]:
        tagged = []
        for d in self._detect(text):
            tagged.append(dataclasses.replace(d, recognizer=f"{d.recognizer}{_TAG}{len(self._values)}"))
            self._values.append(text[d.start : d.end])
        return tagged

    def resolve(self, findings: list[Finding]) -> tuple[list[Finding], list[str]]:
        """The findings with their recognizers untagged, and the value of each."""
        clean, values = [], []
        for f in findings:
            recognizer, _, index = f.recognizer.rpartition(_TAG)
            clean.append(dataclasses.replace(f, recognizer=recognizer))
            values.append(self._values[int(index)])
        return clean, values
