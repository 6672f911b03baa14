"""Answers maskgate gives in place of upstream, shaped like OpenAI's own errors.

SDKs turn `{"error": {...}}` bodies into readable exceptions, so a refused request
explains itself in the user's own program. Messages never contain request text.
"""

from __future__ import annotations

import json

from mitmproxy import http

_TYPES = {
    400: "invalid_request_error",
    403: "permission_error",
    413: "invalid_request_error",
    503: "server_error",
}
"""OpenAI's error type per status; SDKs pick their exception class by the status."""


class Refusal(Exception):
    """The request must not be forwarded; carries what the client is told instead."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(refusal: Refusal) -> http.Response:
    """An OpenAI-style error response for `refusal`."""
    body = {
        "error": {
            "message": f"maskgate: {refusal.message} The request was not sent to the API.",
            "type": _TYPES.get(refusal.status, "invalid_request_error"),
            "code": refusal.code,
            "param": None,
        }
    }
    return http.Response.make(
        refusal.status,
        json.dumps(body).encode(),
        {"content-type": "application/json", "x-maskgate-error": refusal.code},
    )
