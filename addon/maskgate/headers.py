"""`X-MaskGate-*` response headers: what maskgate did to a request, for the client's scripts.

Every response to a guarded flow carries them, maskgate's own refusals included; other
flows get none. Values are a mode, counts and type names, never a detected value:

- `X-MaskGate-Mode`: one of `outcome.Mode` (masked, logged, clean, blocked, refused,
  forwarded-unmasked, not-inspected).
- `X-MaskGate-PII-Detected`, `X-MaskGate-Secrets-Detected`: occurrences found, whatever
  their action (a value repeated in the request counts each time).
- `X-MaskGate-PII-Types`, `X-MaskGate-Secrets-Types`, `X-MaskGate-Blocked`: the types,
  sorted, joined by `,`; `none` when there are none.
- `X-MaskGate-Masked`: distinct placeholders sent upstream in place of values.

There is no header for the answer's restore result: every masked answer, JSON or stream, is
restored on its way through, after its headers have left (restoring it before would mean
storing the originals on the flow). The comment, the view and the audit log have it.

Every `X-MaskGate-*` header upstream sent is removed from guarded responses, so a script
can trust the ones it sees.
"""

from __future__ import annotations

from mitmproxy import http

from maskgate.annotate import METADATA_KEY
from maskgate.outcome import Outcome, outcome

MODE = "X-MaskGate-Mode"
PII_DETECTED = "X-MaskGate-PII-Detected"
PII_TYPES = "X-MaskGate-PII-Types"
SECRETS_DETECTED = "X-MaskGate-Secrets-Detected"
SECRETS_TYPES = "X-MaskGate-Secrets-Types"
MASKED = "X-MaskGate-Masked"
BLOCKED = "X-MaskGate-Blocked"
PREFIX = "x-maskgate-"

NONE = "none"
"""The value of a types header when there are none: never a type name, which is upper case."""


class MaskGateHeaders:
    """Puts the headers on guarded flows' responses.

    Runs after the `MaskGate` addon, whose sub-addon it is: the request's outcome is known
    by `responseheaders`.
    """

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # Here, not in `response`: an answer's headers are sent right after this hook.
        if flow.response is None or (meta := flow.metadata.get(METADATA_KEY)) is None:
            return
        headers = flow.response.headers
        if "refused" not in meta:
            # Upstream's answer: any header by maskgate's prefix was not written by maskgate.
            for name in {n for n in headers if n.lower().startswith(PREFIX)}:
                del headers[name]
        headers.update(headers_for(outcome(meta)))


def headers_for(result: Outcome) -> dict[str, str]:
    """The headers for a flow's outcome, all known before the answer arrives."""
    return {
        MODE: str(result.mode),
        PII_DETECTED: str(sum(result.pii.values())),
        PII_TYPES: _types(result.pii),
        SECRETS_DETECTED: str(sum(result.secrets.values())),
        SECRETS_TYPES: _types(result.secrets),
        MASKED: str(result.placeholders),
        BLOCKED: _types(result.blocked),
    }


def _types(types: dict[str, int] | tuple[str, ...]) -> str:
    return ",".join(sorted(types)) or NONE
