"""The API endpoints maskgate reads and rewrites, and what handles each one's bodies.

A request is matched by method and by the end of its normalised path, so the same
endpoint is recognised under any prefix a compatible host uses: `/v1/chat/completions`,
Azure OpenAI's `/openai/deployments/NAME/chat/completions`, OpenRouter's
`/api/v1/chat/completions`. Only hosts the rules guard are ever matched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from maskgate.mask import ActionFn, DetectFn, Finding
from maskgate.openai import chat, completions, embeddings, responses
from maskgate.paths import endpoint
from maskgate.restore.json_answer import RestoreFn
from maskgate.restore.responses_sse import ResponsesSseRestorer
from maskgate.restore.sse import SseRestorer
from maskgate.restore.text import RestoreTally
from maskgate.vault import Vault

MaskFn = Callable[[dict[str, Any], DetectFn, ActionFn], tuple[Vault, list[Finding]]]
"""Masks a parsed request body in place; leaves it unchanged when a finding is blocked."""


class StreamRestorer(Protocol):
    """A `flow.response.stream` callable that restores one streamed (SSE) answer."""

    finished: bool
    """True once the stream's last event has passed. Clients often hang up right after it,
    before the connection's end: the answer they got is still whole."""

    def __call__(self, data: bytes) -> bytes | Iterable[bytes]: ...

    def answer_texts(self) -> list[str]:
        """The restored texts the client got whole, as it will send them back as history."""
        ...


StreamRestorerFn = Callable[[Vault, RestoreTally], StreamRestorer]
"""Makes the restorer of one streamed answer, which fills in the tally as events pass."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    """The key in the rules' `endpoints` section."""
    suffixes: tuple[str, ...]
    """Normalised path endings that route here, e.g. `/chat/completions`."""
    mask: MaskFn
    restore: RestoreFn | None
    """Restores a JSON answer; None when answers carry no text back (embeddings)."""
    restore_stream: StreamRestorerFn | None
    """Restores a streamed answer; None when the endpoint does not stream."""

    @property
    def display(self) -> str:
        return f"POST …{self.suffixes[0]}"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "chat_completions",
        ("/chat/completions",),
        chat.mask_chat_request,
        chat.restore_chat_response,
        SseRestorer,
    ),
    Endpoint(
        "completions",
        ("/completions",),
        completions.mask_completion_request,
        completions.restore_completion_response,
        completions.restore_completion_stream,
    ),
    Endpoint("embeddings", ("/embeddings",), embeddings.mask_embedding_request, None, None),
    Endpoint(
        "responses",
        ("/responses", "/responses/input_tokens", "/responses/compact"),
        responses.mask_responses_request,
        responses.restore_responses_answer,
        ResponsesSseRestorer,
    ),
)
"""Matched in this order: a more specific ending comes before one it ends with."""


def endpoint_for(method: str, path: str) -> Endpoint | None:
    """The inspectable endpoint a request is for, or None."""
    if method != "POST":
        return None
    normal = endpoint(path)
    for candidate in ENDPOINTS:
        if any(normal.endswith(suffix) for suffix in candidate.suffixes):
            return candidate
    return None
