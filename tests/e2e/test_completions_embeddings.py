"""Legacy completions, embeddings and an OpenAI-compatible host, end to end: a real mitmdump,
the openai SDK, and the fake API recording every byte it receives.

The same invariants as for chat completions: nothing detected reaches upstream, the client
gets exactly its text back however the stream is cut, and what cannot be inspected (token
ids) is refused, not forwarded. Embeddings carry nothing back to restore, but their vectors
must reach the client untouched; the rules can pass or block them instead of masking.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from .conftest import (
    _LOG_START,
    TEST_API_KEY,
    Proxy,
    _ca_context,
    _sdk,
    running_mitmdump,
    write_rules,
)
from .corpus import DANA, DANA_EMAIL, PHONE, THOMAS, THOMAS_EMAIL
from .fake_openai import FakeOpenAI
from .redirect_addon import AZURE_TEST_HOST
from .test_chat_masking import assert_nothing_leaked, leaks
from .test_rules_runtime import _wait_for_log

COMPLETIONS_PATH = "/v1/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
INSTRUCT_MODEL = "gpt-3.5-turbo-instruct"
EMBEDDING_MODEL = "text-embedding-3-small"
PLACEHOLDER = re.compile(r"\[\[[A-Z][A-Z0-9_]*_\d+\]\]")

PROMPTS = [
    f"Hello there, please forward the notes to {DANA} at {DANA_EMAIL} and call {PHONE} tomorrow.",
    f"Dear team, {THOMAS} ({THOMAS_EMAIL}) joins us on Monday; {DANA} will show him around.",
]
ORIGINALS = (DANA, DANA_EMAIL, PHONE, THOMAS, THOMAS_EMAIL)

AZURE_DEPLOYMENT = "support-bot"
AZURE_API_VERSION = "2024-10-21"
AZURE_CHAT_PATH = f"/openai/deployments/{AZURE_DEPLOYMENT}/chat/completions"

AZURE_HOST_ADDED = ("hosts:\n  - api.openai.com\n", f"hosts:\n  - api.openai.com\n  - {AZURE_TEST_HOST}\n")
EMBEDDINGS = "  embeddings: inspect"


def _texts(choices: dict[int, str]) -> list[str]:
    return [choices[i] for i in sorted(choices)]


def _vectors(recorded_answer: bytes) -> list[list[float]]:
    """The float32 vectors the fake sent, base64-encoded as the SDK asks by default."""
    data = json.loads(recorded_answer)["data"]
    return [
        list(struct.unpack(f"<{len(raw) // 4}f", raw))
        for raw in (base64.b64decode(d["embedding"]) for d in data)
    ]


# --- legacy completions, shipped rules ---


@pytest.mark.parametrize("prompt", [PROMPTS[0], PROMPTS], ids=["string", "list"])
def test_completion_masked_upstream_and_exact_answer(
    prompt: str | list[str], client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    suffix = f" Kind regards, {THOMAS}"
    answer = client.completions.create(model=INSTRUCT_MODEL, prompt=prompt, suffix=suffix)

    assert_nothing_leaked(ORIGINALS, fake_openai)
    [recorded] = fake_openai.requests_to(COMPLETIONS_PATH)
    sent = recorded.json()
    assert PLACEHOLDER.search(json.dumps(sent["prompt"])) and PLACEHOLDER.search(sent["suffix"])
    prompts = prompt if isinstance(prompt, list) else [prompt]
    assert _texts({c.index: c.text for c in answer.choices}) == prompts


@pytest.mark.parametrize("seed", range(4))
def test_streamed_completion_round_trips_however_it_is_cut(
    seed: int, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    """Deltas of 1-6 characters split every placeholder; each seed cuts events differently."""
    fake_openai.seed = seed
    stream = client.completions.create(model=INSTRUCT_MODEL, prompt=PROMPTS, n=2, stream=True)
    received: dict[int, str] = {}
    for chunk in stream:
        for choice in chunk.choices:
            received[choice.index] = received.get(choice.index, "") + choice.text

    assert _texts(received) == [text for text in PROMPTS for _ in range(2)]
    assert_nothing_leaked(ORIGINALS, fake_openai)
    # The fake echoed what it received: the originals the client read were put back by the proxy.
    [recorded] = fake_openai.requests_to(COMPLETIONS_PATH)
    assert not leaks(ORIGINALS, recorded.response_body) and b"[[" in recorded.response_body


@pytest.mark.parametrize("prompt", [[1734, 374, 264], [[1734, 374], [264]]], ids=["ids", "lists of ids"])
def test_completion_prompt_of_token_ids_is_refused(
    prompt: list, client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.completions.create(model=INSTRUCT_MODEL, prompt=prompt)
    assert raised.value.code == "maskgate_token_input"
    assert "`prompt` is given as token ids" in raised.value.message
    assert fake_openai.requests == []


# --- embeddings, shipped rules ---


@pytest.mark.parametrize("value", [PROMPTS[1], PROMPTS], ids=["string", "list"])
def test_embedding_inputs_are_masked_and_the_vectors_come_back(
    value: str | list[str], client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    raw = client.embeddings.with_raw_response.create(model=EMBEDDING_MODEL, input=value, user=DANA_EMAIL)
    result = raw.parse()

    assert_nothing_leaked(ORIGINALS, fake_openai)
    [recorded] = fake_openai.requests_to(EMBEDDINGS_PATH)
    sent = recorded.json()
    inputs = sent["input"] if isinstance(value, list) else [sent["input"]]
    assert len(inputs) == len(value if isinstance(value, list) else [value])
    assert all(PLACEHOLDER.search(text) for text in inputs) and PLACEHOLDER.fullmatch(sent["user"])
    assert [item.embedding for item in result.data] == _vectors(recorded.response_body)
    assert raw.headers["x-maskgate-mode"] == "masked"


def test_embedding_input_of_token_ids_is_refused_naming_the_langchain_switch(
    client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model=EMBEDDING_MODEL, input=[[15339, 1917], [0]])
    assert raised.value.code == "maskgate_token_input"
    assert "`input` is given as token ids" in raised.value.message
    assert "check_embedding_ctx_length=False" in raised.value.message
    assert fake_openai.requests == []


# --- rules of our own: an Azure OpenAI host added, embeddings blocked ---


@pytest.fixture(scope="module")
def compat_run(
    fake_openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Proxy, Path]]:
    """A mitmdump whose rules guard the tests' Azure host too and block embeddings; and its rules file."""
    workdir = tmp_path_factory.mktemp("mitmdump-compat")
    rules = write_rules(workdir / "rules.yaml", [AZURE_HOST_ADDED, (EMBEDDINGS, "  embeddings: block")])
    with running_mitmdump(fake_openai_server, workdir, ["--set", f"maskgate_rules={rules}"]) as proxy:
        yield proxy, rules


@pytest.fixture
def compat_proxy(compat_run: tuple[Proxy, Path], request: pytest.FixtureRequest) -> Proxy:
    proxy, _ = compat_run
    request.node.stash[_LOG_START] = (proxy, proxy.log_size())
    return proxy


def _azure(proxy: Proxy) -> openai.AzureOpenAI:
    """The SDK's Azure client for the tests' Azure host, through `proxy`."""
    http_client = openai.DefaultHttpxClient(proxy=proxy.url, verify=_ca_context(proxy), trust_env=False)
    return openai.AzureOpenAI(
        azure_endpoint=f"https://{AZURE_TEST_HOST}",
        api_version=AZURE_API_VERSION,
        api_key=TEST_API_KEY,
        max_retries=0,
        timeout=60,
        http_client=http_client,
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_azure_deployment_on_a_host_added_to_the_rules_is_masked_end_to_end(
    stream: bool, compat_proxy: Proxy, fake_openai: FakeOpenAI
) -> None:
    messages = [{"role": "user", "content": PROMPTS[0]}]
    with _azure(compat_proxy) as azure:
        if stream:
            chunks = azure.chat.completions.create(model=AZURE_DEPLOYMENT, messages=messages, stream=True)
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            answer = azure.chat.completions.create(model=AZURE_DEPLOYMENT, messages=messages)
            text = answer.choices[0].message.content

    assert text == PROMPTS[0]
    assert_nothing_leaked(ORIGINALS, fake_openai)
    [recorded] = fake_openai.requests_to(AZURE_CHAT_PATH)
    assert recorded.path == f"{AZURE_CHAT_PATH}?api-version={AZURE_API_VERSION}"
    assert recorded.header("host") == AZURE_TEST_HOST
    assert PLACEHOLDER.search(recorded.json()["messages"][0]["content"])


def test_an_azure_host_missing_from_the_rules_is_not_guarded(proxy: Proxy, fake_openai: FakeOpenAI) -> None:
    """The contrast: with the shipped rules the same host is somebody else's, passed as it came."""
    with _azure(proxy) as azure:
        raw = azure.chat.completions.with_raw_response.create(
            model=AZURE_DEPLOYMENT, messages=[{"role": "user", "content": PROMPTS[0]}]
        )
    [recorded] = fake_openai.requests_to(AZURE_CHAT_PATH)
    assert recorded.json()["messages"][0]["content"] == PROMPTS[0]
    assert "x-maskgate-mode" not in raw.headers


def test_rules_block_embeddings_or_pass_them_untouched(
    compat_run: tuple[Proxy, Path], compat_proxy: Proxy, fake_openai: FakeOpenAI
) -> None:
    _, rules = compat_run
    with _sdk(compat_proxy) as client:
        with pytest.raises(openai.PermissionDeniedError) as raised:
            client.embeddings.create(model=EMBEDDING_MODEL, input=PROMPTS[0])
        assert raised.value.code == "maskgate_endpoint_blocked"
        assert "endpoints.embeddings: block" in raised.value.message
        assert fake_openai.requests == []

        try:
            start = compat_proxy.log_size()
            write_rules(rules, [AZURE_HOST_ADDED, (EMBEDDINGS, "  embeddings: pass")])
            _wait_for_log(compat_proxy, start, f"maskgate: rules reloaded from {rules}")
            raw = client.embeddings.with_raw_response.create(model=EMBEDDING_MODEL, input=PROMPTS[0])
            [recorded] = fake_openai.requests_to(EMBEDDINGS_PATH)
            assert recorded.json()["input"] == PROMPTS[0]
            assert raw.headers["x-maskgate-mode"] == "not-inspected"
            assert [item.embedding for item in raw.parse().data] == _vectors(recorded.response_body)
            log = compat_proxy.log_text(start)
            assert "POST /v1/embeddings forwarded without inspection (endpoints.embeddings: pass)" in log
        finally:
            start = compat_proxy.log_size()
            write_rules(rules, [AZURE_HOST_ADDED, (EMBEDDINGS, "  embeddings: block")])
            _wait_for_log(compat_proxy, start, f"maskgate: rules reloaded from {rules}")
