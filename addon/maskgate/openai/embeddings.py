"""Embeddings (`POST …/embeddings`): the `input` texts and `user` are analysed.

The answer holds vectors only, so there is nothing to restore. A vector of masked text
is a vector of different text: the rules can send embeddings on untouched (`pass`) or
refuse them (`block`) instead.
"""

from __future__ import annotations

from typing import Any

from maskgate.mask import ActionFn, DetectFn, Finding, mask_everything
from maskgate.openai.completions import mask_text_inputs
from maskgate.vault import Vault

_ANALYSED = frozenset({"user"})
_LANGCHAIN_HINT = (
    " LangChain's OpenAIEmbeddings sends token ids unless created with check_embedding_ctx_length=False."
)
"""The commonest sender of token ids, and its documented switch to plain text."""


def mask_embedding_request(
    body: dict[str, Any], detect: DetectFn, action_of: ActionFn = mask_everything
) -> tuple[Vault, list[Finding]]:
    """Mask a parsed embeddings request in place; token ids are refused."""
    return mask_text_inputs(body, "input", _ANALYSED, detect, action_of, token_hint=_LANGCHAIN_HINT)
