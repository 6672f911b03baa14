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
- `X-MaskGate-Restore-Unresolved`: distinct placeholder ids in the answer that maskgate
  never issued (the model made them up). Only on a restored answer that was not streamed:
  a streamed answer's headers leave before its first event.

Headers of these names that upstream sent are replaced, so a script can trust them.
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
RESTORE_UNRESOLVED = "X-MaskGate-Restore-Unresolved"
NAMES = (MODE, PII_DETECTED, PII_TYPES, SECRETS_DETECTED, SECRETS_TYPES, MASKED, BLOCKED, RESTORE_UNRESOLVED)

NONE = "none"
"""The value of a types header when there are none: never a type name, which is upper case."""


class MaskGateHeaders:
    """Puts the headers on guarded flows' responses.

    Runs after the `MaskGate` addon, whose sub-addon it is: the request's outcome is known
    by `responseheaders`, the answer's restore counts by `response`.
    """

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # Here, not in `response`: a streamed answer's headers are sent right after this hook.
        if flow.response is None or (meta := flow.metadata.get(METADATA_KEY)) is None:
            return
        for name in NAMES:
            flow.response.headers.pop(name, None)
        flow.response.headers.update(headers_for(outcome(meta)))

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or flow.response.stream or (meta := flow.metadata.get(METADATA_KEY)) is None:
            return
        if (restore := outcome(meta).restore) is not None:
            flow.response.headers[RESTORE_UNRESOLVED] = str(restore.unresolved)


def headers_for(result: Outcome) -> dict[str, str]:
    """The headers known before the answer: all but `X-MaskGate-Restore-Unresolved`."""
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
