"""Legacy text completions (`POST …/completions`), and the request shape embeddings share.

Requests: the `prompt` (a text or a list of texts) and the `suffix` are analysed, like
the end-user fields `user` and `safety_identifier`; every other string only gets values
detected there masked. A prompt given as token ids cannot be read, and upstream would
decode it back into the very text maskgate never saw, so such a request is refused.

Answers: `choices[].text`, whole in JSON answers, chunk by chunk when streamed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from maskgate.errors import Refusal
from maskgate.mask import ActionFn, DetectFn, Finding, mask_everything
from maskgate.openai.slots import SlotCollector, setter
from maskgate.restore.sse import COMPLETION_CHUNKS, SseRestorer
from maskgate.restore.text import RestoreTally, restore_text
from maskgate.vault import Vault

TOKEN_INPUT = "maskgate_token_input"
_ANALYSED = frozenset({"suffix", "user", "safety_identifier"})


def mask_completion_request(
    body: dict[str, Any], detect: DetectFn, action_of: ActionFn = mask_everything
) -> tuple[Vault, list[Finding]]:
    """Mask a parsed legacy completion request in place; see `mask_text_inputs`."""
    return mask_text_inputs(body, "prompt", _ANALYSED, detect, action_of)


def mask_text_inputs(
    body: dict[str, Any],
    inputs: str,
    analysed: Collection[str],
    detect: DetectFn,
    action_of: ActionFn,
    *,
    token_hint: str = "",
) -> tuple[Vault, list[Finding]]:
    """Mask in place a body whose `inputs` field is a text or a list of texts.

    `inputs` and the `analysed` fields are analysed, everything else but the model name
    only gets values found there masked. Token ids in `inputs` are refused (HTTP 400),
    with `token_hint` added to the message. Left unchanged when a finding is to be
    blocked (see `mask_slots`).
    """
    collector = SlotCollector()
    for key, value in body.items():
        if key == inputs:
            if _holds_token_ids(value):
                raise Refusal(
                    400,
                    TOKEN_INPUT,
                    f"`{key}` is given as token ids, which maskgate cannot inspect: send it as text"
                    f" (a string or a list of strings).{token_hint}",
                )
            collector.walk(value, key, setter(body, key), scan=True)
        elif key != "model":
            collector.walk(value, key, setter(body, key), scan=key in analysed)
    return collector.mask(detect, action_of)


def restore_completion_response(body: dict[str, Any], vault: Vault) -> RestoreTally:
    """Put originals back into the `text` of every choice of a parsed completion, in place."""
    tally = RestoreTally()
    choices = body.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if isinstance(choice, dict) and isinstance(choice.get("text"), str):
            choice["text"] = restore_text(choice["text"], vault, tally)
    return tally


def restore_completion_stream(vault: Vault, tally: RestoreTally) -> SseRestorer:
    """The stream callable for a streamed completion: `text_completion` chunks."""
    return SseRestorer(vault, tally, COMPLETION_CHUNKS)


def _holds_token_ids(value: Any) -> bool:
    """Token ids: a list of integers, or a list of such lists (one per input)."""
    return isinstance(value, list) and any(
        isinstance(item, list) or (isinstance(item, int) and not isinstance(item, bool)) for item in value
    )
