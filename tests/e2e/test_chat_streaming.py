"""Streamed answers through a real mitmdump: nothing original upstream, the exact text back.

The fake model echoes the last user message in 1–6 character deltas and cuts its network
writes at random points, so placeholders arrive split inside their brackets and SSE events
arrive split across reads.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from .corpus import CORPUS, CorpusEntry
from .fake_openai import FakeOpenAI, last_user_text
from .test_chat_masking import MODES, assert_nothing_leaked

SEEDS = (1, 2, 3)


def _streamed_outputs(client: openai.OpenAI, body: dict[str, Any], mode: str) -> list[Any]:
    """What each choice said once the stream is read to the end: its text or decoded arguments."""
    texts: dict[int, str] = {}
    arguments: dict[int, str] = {}
    for chunk in client.chat.completions.create(**body, stream=True):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            for call in choice.delta.tool_calls or []:
                piece = call.function.arguments if call.function else None
                arguments[choice.index] = arguments.get(choice.index, "") + (piece or "")
    if mode == "tool-call":
        return [json.loads(arguments[i]) for i in sorted(arguments)]
    return [texts[i] for i in sorted(texts)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", [e for e in CORPUS if e.sdk], ids=lambda entry: entry.id)
def test_streamed_answer_is_restored_exactly(
    entry: CorpusEntry, mode: str, seed: int, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    fake_openai.seed = seed
    body = entry.request(**MODES[mode])
    outputs = _streamed_outputs(client, body, mode)

    assert_nothing_leaked(entry.originals, fake_openai)
    echoed = last_user_text(body["messages"])
    expected = {"echo": echoed} if mode == "tool-call" else echoed
    assert outputs == [expected] * body.get("n", 1)
