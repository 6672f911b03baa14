"""The streaming restorer: whatever the deltas and the network reads, the client reads
exactly the original text, in well-formed events, with nothing held back too long.

Chat completions stream `delta.content`; legacy text completions stream `choices[].text`
through the same restorer: the whole-stream tests run on both shapes."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskgate.restore.sse import CHAT_CHUNKS, COMPLETION_CHUNKS, ChunkShape, SseRestorer
from maskgate.restore.text import IncrementalRestorer, PlaceholderTails, RestoreTally, restore_text
from maskgate.vault import Vault

USER_WRITTEN = "[[PERSON_1]]"
"""Placeholder-shaped text from the user's own request: reserved, so ours start at PERSON_2."""

VALUES = [
    ("Jane Doe", "PERSON"),
    ("Zoë Müller", "PERSON"),
    ("jane.doe@example.org", "EMAIL_ADDRESS"),
    ('p"w\\d€', "PASSWORD"),
]

PIECES = [
    *(value for value, _ in VALUES),
    " ",
    "\n",
    "x",
    "é✓",
    "[",
    "[[",
    "]",
    "]]",
    "[1, 2]",
    "[[1, 2], [3]]",
    "[[PERS",
    "[[PERSON_9]]",  # made up by the model: stays, counted unresolved
    "[[NOTOURS_1]]",  # not our type either
    USER_WRITTEN,  # quoted from the request: stays, not counted
]

ENVELOPE = {
    "id": "chatcmpl-9x",
    "object": "chat.completion.chunk",
    "created": 1733000000,
    "model": "gpt-4o-mini",
}
_LINES = re.compile(r"\r\n|\r|\n")


def make_vault() -> Vault:
    vault = Vault(reserved={USER_WRITTEN})
    for value, entity_type in VALUES:
        vault.placeholder_for(value, entity_type, secret=entity_type == "PASSWORD")
    return vault


def mask(text: str, vault: Vault) -> str:
    """What the model says when it repeats `text`: our placeholders instead of the values."""
    for entry in vault:
        text = text.replace(entry.value, entry.placeholder)
    return text


def mask_json(value: object, vault: Vault) -> object:
    """Tool arguments as the model writes them back: placeholders inside the JSON values."""
    if isinstance(value, str):
        return mask(value, vault)
    if isinstance(value, dict):
        return {key: mask_json(item, vault) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_json(item, vault) for item in value]
    return value


def expected_tally(texts: list[str], vault: Vault) -> RestoreTally:
    """The tally the buffered JSON path gives for the same masked texts."""
    tally = RestoreTally()
    for text in texts:
        restore_text(text, vault, tally)
    return tally


def chunk(index: int, delta: dict, finish: str | None = None) -> dict:
    return {
        **ENVELOPE,
        "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def text_chunk(index: int, text: str, finish: str | None = None) -> dict:
    """A legacy `text_completion` chunk: the text sits on the choice itself."""
    choice = {"text": text, "index": index, "logprobs": None, "finish_reason": finish}
    return {**ENVELOPE, "object": "text_completion", "choices": [choice]}


USAGE = {
    **ENVELOPE,
    "choices": [],
    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
}


def sse(events: list[dict | str], newline: str = "\n") -> bytes:
    """The body an OpenAI-style server sends for these chunks ("[DONE]" as is)."""
    out = []
    for event in events:
        data = (
            event if isinstance(event, str) else json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        )
        out.append(f"data: {data}{newline}{newline}")
    return "".join(out).encode()


def split(text: str, cuts: set[int] | list[int]) -> list[str]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def completion(contents: dict[int, list[str]], order: list[int]) -> list[dict | str]:
    """A chat.completion.chunk stream: role chunks, content deltas of the choices in `order`,
    one finish chunk per choice, a usage chunk, [DONE]."""
    events: list[dict | str] = [chunk(i, {"role": "assistant", "content": ""}) for i in contents]
    queues = {i: list(deltas) for i, deltas in contents.items()}
    for i in order:
        events.append(chunk(i, {"content": queues[i].pop(0)}))
    events += [chunk(i, {}, "stop") for i in contents]
    return [*events, USAGE, "[DONE]"]


def text_completion(contents: dict[int, list[str]], order: list[int]) -> list[dict | str]:
    """A legacy completion stream: text pieces of the choices in `order`, one finish chunk per
    choice (empty text), a usage chunk, [DONE]."""
    queues = {i: list(pieces) for i, pieces in contents.items()}
    events: list[dict | str] = [text_chunk(i, queues[i].pop(0)) for i in order]
    events += [text_chunk(i, "", "stop") for i in contents]
    return [*events, USAGE, "[DONE]"]


SHAPES = {"chat": (CHAT_CHUNKS, completion), "legacy": (COMPLETION_CHUNKS, text_completion)}
"""Each endpoint's chunk shape and a builder of its streams from per-choice pieces."""


def run(
    reads: list[bytes], vault: Vault, tally: RestoreTally | None = None, shape: ChunkShape = CHAT_CHUNKS
) -> list[bytes]:
    """Feed the reads and the final b"" as mitmproxy does; the output of each call."""
    restorer = SseRestorer(vault, tally if tally is not None else RestoreTally(), shape)
    outputs = []
    for data in [*reads, b""]:
        out = restorer(data)
        assert out != b"", "b'' mid-stream ends an HTTP/1.1 response"
        outputs.append(out if isinstance(out, bytes) else b"".join(out))
    return outputs


def cut_bytes(stream: bytes, cuts: set[int] | list[int]) -> list[bytes]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(stream)), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def payloads(stream: bytes) -> list[str]:
    """The data of each event, read the way an SSE client reads them; no unterminated rest."""
    lines = _LINES.split(stream.decode())
    events, data = [], []
    for line in lines[:-1]:
        if not line:
            if data:
                events.append("\n".join(data))
            data = []
        elif line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
    assert lines[-1] == "" and not data, "the stream ends inside an event"
    return events


def text_of(choice: dict) -> str:
    """The text a client reads from one choice: `delta.content` (chat) or `text` (legacy)."""
    return (choice.get("delta") or {}).get("content") or choice.get("text") or ""


def content_of(stream: bytes, index: int = 0) -> str:
    """The text of choice `index` so far, from complete events only."""
    text = ""
    for data in payloads(stream):
        for choice in json.loads(data)["choices"] if data != "[DONE]" else ():
            if choice["index"] == index:
                text += text_of(choice)
    return text


@dataclass
class ClientView:
    """What a client assembles from the events, checked for a valid sequence on the way."""

    content: dict[int, str] = field(default_factory=dict)
    arguments: dict[tuple[int, int], str] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)


def client_view(stream: bytes) -> ClientView:
    events = payloads(stream)
    assert events.count("[DONE]") == 1 and events[-1] == "[DONE]", "[DONE] must be the last event"
    assert stream.rstrip(b"\r\n").endswith(b"data: [DONE]"), "nothing may follow [DONE]"
    view = ClientView()
    for data in events[:-1]:
        body = json.loads(data)
        for choice in body["choices"]:
            i, delta = choice["index"], choice.get("delta") or {}
            text = content = text_of(choice)
            for call in delta.get("tool_calls") or []:
                args = call.get("function", {}).get("arguments") or ""
                view.arguments[(i, call["index"])] = view.arguments.get((i, call["index"]), "") + args
                text += args
            assert not (text and i in view.finished), "text after the finish_reason of its choice"
            view.content[i] = view.content.get(i, "") + content
            if choice.get("finish_reason"):
                view.finished.add(i)
    return view


texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


# --- the incremental text restorer on its own ---


@given(texts, st.data(), st.booleans())
def test_pieces_joined_equal_whole_text_restore_with_same_tally(text, data, nothing_issued):
    """Also with an empty vault, where nothing is held and split unknown ids must still count."""
    vault = Vault() if nothing_issued else make_vault()
    masked = mask(text, vault)
    pieces = split(masked, data.draw(st.sets(st.integers(1, max(1, len(masked) - 1)))))
    tally = RestoreTally()
    restorer = IncrementalRestorer(vault, tally, PlaceholderTails(vault))
    out = "".join(restorer.feed(piece) for piece in pieces) + restorer.flush()
    assert out == text
    assert tally == expected_tally([masked], vault)


@pytest.mark.parametrize("vault", [Vault(), make_vault()], ids=["nothing issued", "issued"])
def test_unknown_ids_split_anywhere_are_counted_once(vault):
    text = "a [[[PERSON_9]] [[[[NOTOURS_1]]] [[PERSON_1]] [[PERSON_2]]"
    expected = expected_tally([text], vault)
    for one in range(len(text) + 1):
        for two in range(one, len(text) + 1):
            tally = RestoreTally()
            restorer = IncrementalRestorer(vault, tally, PlaceholderTails(vault))
            pieces = [text[:one], text[one:two], text[two:]]
            out = "".join(restorer.feed(piece) for piece in pieces) + restorer.flush()
            assert out == restore_text(text, vault, RestoreTally())
            assert tally == expected, (one, two)


def test_hold_back_is_only_what_can_still_become_ours():
    vault = make_vault()
    tails = PlaceholderTails(vault)
    assert tails.longest == len("[[EMAIL_ADDRESS_1]]")
    for text, held in [
        ("a [", "["),
        ("a [[", "[["),
        ("a [[[", "[["),
        ("a [[PERS", "[[PERS"),
        ("a [[PERSON_2", "[[PERSON_2"),
        ("a [[PERSON_2]", "[[PERSON_2]"),
        ("a [[PERSON_2]]", ""),
        ("a [[PERSON_9", ""),
        ("a [[NOTOURS_", ""),
        ("a [1", ""),
        ("[[1, 2], [", "["),
        ("a [[EMAIL_ADDRESS_1]", "[[EMAIL_ADDRESS_1]"),
    ]:
        assert text[tails.hold_from(text) :] == held, text
    assert PlaceholderTails(Vault()).hold_from("a [[") == 4  # nothing issued: nothing held


# --- whole streams ---


@pytest.mark.parametrize("shape", SHAPES)
@settings(max_examples=60, deadline=None)
@given(
    st.lists(texts, min_size=2, max_size=2),
    st.data(),
    st.sampled_from(["\n", "\r\n"]),
)
def test_two_choices_round_trip_whatever_the_deltas_and_the_reads(shape, originals, data, newline):
    chunk_shape, build = SHAPES[shape]
    vault = make_vault()
    masked = [mask(text, vault) for text in originals]
    contents = {}
    for i, text in enumerate(masked):
        one_char = data.draw(st.booleans(), label=f"one-char deltas {i}")
        cuts = range(len(text)) if one_char else data.draw(st.sets(st.integers(1, max(1, len(text) - 1))))
        contents[i] = split(text, cuts)
    order = data.draw(st.permutations([i for i, deltas in contents.items() for _ in deltas]), label="order")
    stream = sse(build(contents, order), newline)
    reads = cut_bytes(stream, data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=40)))
    tally = RestoreTally()
    view = client_view(b"".join(run(reads, vault, tally, chunk_shape)))
    assert [view.content.get(i, "") for i in (0, 1)] == originals
    assert view.finished == {0, 1}
    assert tally == expected_tally(masked, vault)


RECORDED_TEXT = (
    'Hi Jane Doe [1, 2] [[PERSON_9]], mail jane.doe@example.org, pw p"w\\d€ [[NOTOURS_1]] ' + USER_WRITTEN
)
RECORDED_DELTAS = [
    "Hi",
    " [",
    "[PERSON",
    "_2]",
    "] [",
    "1, 2] [[PERSON_",
    "9]], mail [[",
    "EMAIL_ADDRESS_1]],",
]


def recorded_stream(newline: str, shape: str = "chat") -> tuple[bytes, list[str]]:
    """A fixed stream whose placeholders are split inside their brackets, two choices."""
    vault = make_vault()
    rest = mask(RECORDED_TEXT, vault)[len("".join(RECORDED_DELTAS)) :]
    first = [*RECORDED_DELTAS, *split(rest, [4, 5, 9, 13])]
    second = split(mask("Zoë Müller [[", vault), [1, 2, 3])
    order = [0] * 3 + [1] * 2 + [0] * (len(first) - 3) + [1] * (len(second) - 2)
    stream = sse(SHAPES[shape][1]({0: first, 1: second}, order), newline)
    return stream, [RECORDED_TEXT, "Zoë Müller [["]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_split_of_a_recorded_stream_into_two_reads(newline, shape):
    vault = make_vault()
    stream, originals = recorded_stream(newline, shape)
    assert mask(RECORDED_TEXT, vault).startswith("".join(RECORDED_DELTAS))
    for cut in range(len(stream) + 1):
        view = client_view(b"".join(run([stream[:cut], stream[cut:]], vault, shape=SHAPES[shape][0])))
        assert [view.content[0], view.content[1]] == originals, cut


TOOL_ARGS = [
    {"to": "jane.doe@example.org", "subject": "Hi Jane Doe", "password": 'p"w\\d€', "list": [[1, 2], [3]]},
    {"to": "Zoë Müller", "note": "[[PERSON_9]] wrote [", "n": 3},
]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_parallel_tool_calls_round_trip_as_json(data):
    vault = make_vault()
    masked = [json.dumps(mask_json(args, vault), ensure_ascii=False) for args in TOOL_ARGS]
    events: list[dict | str] = [chunk(0, {"role": "assistant", "content": None})]
    deltas = {}
    for k, text in enumerate(masked):
        header = {
            "index": k,
            "id": f"call_{k}",
            "type": "function",
            "function": {"name": "send", "arguments": ""},
        }
        events.append(chunk(0, {"tool_calls": [header]}))
        deltas[k] = split(text, data.draw(st.sets(st.integers(1, len(text) - 1)), label=f"cuts {k}"))
    for k in data.draw(st.permutations([k for k, parts in deltas.items() for _ in parts]), label="order"):
        args = {"index": k, "function": {"arguments": deltas[k].pop(0)}}
        events.append(chunk(0, {"tool_calls": [args]}))
    events += [chunk(0, {}, "tool_calls"), USAGE, "[DONE]"]
    stream = sse(events)
    reads = cut_bytes(stream, data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=30)))
    tally = RestoreTally()
    view = client_view(b"".join(run(reads, vault, tally)))
    assert [json.loads(view.arguments[(0, k)]) for k in (0, 1)] == TOOL_ARGS
    assert tally.unresolved == {"[[PERSON_9]]": 1}


def test_hold_back_with_one_char_deltas_never_exceeds_the_longest_placeholder():
    vault = make_vault()
    longest = PlaceholderTails(vault).longest
    original = "".join(PIECES)
    masked = mask(original, vault)
    events = completion({0: list(masked)}, [0] * len(masked))
    restorer = SseRestorer(vault, RestoreTally())
    sent, received = "", b""
    for event in events:
        received += restorer(sse([event]))
        if isinstance(event, dict) and event["choices"] and "content" in event["choices"][0]["delta"]:
            sent += event["choices"][0]["delta"]["content"]
        so_far = content_of(received)
        assert any(
            restore_text(sent[: len(sent) - k], vault, RestoreTally()) == so_far for k in range(longest)
        )
    assert client_view(received).content[0] == original


@pytest.mark.parametrize(
    ("deltas", "proof", "released"),
    [
        (["x = [", "1, 2]"], 1, "x = [1, 2]"),
        (["m = [", "[", "1, 2], [3]]"], 2, "m = [[1, 2], [3]]"),
        (["see [[", "NOTOURS_1]]"], 1, "see [[NOTOURS_1]]"),
        (["see [[PERSON_", "9]]"], 1, "see [[PERSON_9]]"),
    ],
)
def test_brackets_that_cannot_become_ours_are_released_at_once(deltas, proof, released):
    vault = make_vault()
    restorer = SseRestorer(vault, RestoreTally())
    out = b""
    for i, delta in enumerate(deltas):
        out += restorer(sse([chunk(0, {"content": delta})]))
        text = content_of(out)
        if i >= proof:
            assert text == released
        else:
            assert released.startswith(text) and len(text) < len(released)


def test_unchanged_events_pass_byte_for_byte():
    vault = make_vault()
    odd = (
        b": keep-alive\n\n"
        b"event: message\nid: 7\nretry: 3000\n"
        b'data: {"id": "c", "choices": [{"index": 0, "delta": {"content": "caf\\u00e9 [1]"}}], "x": 1.0}\n\n'
        b"data: not json [[PERSON_2]]\n\n"
    )
    changed = sse([chunk(0, {"content": "Hi [[PERSON_2]]"})])
    plain = sse([chunk(0, {"content": "bye"}, "stop"), USAGE, "[DONE]"])
    stream = odd + changed + plain
    out = b"".join(run(cut_bytes(stream, range(0, len(stream), 5)), vault))
    assert out.startswith(odd) and out.endswith(plain)
    assert json.loads(payloads(out)[-4])["choices"][0]["delta"]["content"] == "Hi Jane Doe"
    assert out.count(b"\n") == stream.count(b"\n")


def test_nothing_to_send_is_an_empty_list_never_empty_bytes():
    vault = make_vault()
    assert SseRestorer(vault, RestoreTally())(b"") == []
    restorer = SseRestorer(vault, RestoreTally())
    assert restorer(b"data: {") == []
    assert restorer(b'"choices": []}\n') == []
    assert restorer(b"\n") == b'data: {"choices": []}\n\n'


def test_held_text_goes_into_the_finish_event_adding_fields_it_lacks():
    vault = make_vault()
    call = {
        "index": 0,
        "id": "call_0",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": "['},
    }
    stream = sse(
        [chunk(0, {"content": "Dear [["}), chunk(0, {"tool_calls": [call]}), chunk(0, {}, "stop"), "[DONE]"]
    )
    events = payloads(b"".join(run([stream], vault)))
    finish = json.loads(events[-2])["choices"][0]
    assert finish["finish_reason"] == "stop"
    assert finish["delta"] == {"content": "[[", "tool_calls": [{"index": 0, "function": {"arguments": "["}}]}


def test_held_text_goes_out_before_done_in_a_chunk_like_the_last_one():
    vault = make_vault()
    stream = sse([chunk(1, {"content": "Dear [[PERS"}), "[DONE]"], "\r\n")
    out = b"".join(run([stream], vault))
    events = payloads(out)
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == "Dear "
    extra = json.loads(events[1])
    assert {k: extra[k] for k in ENVELOPE} == ENVELOPE
    assert extra["choices"] == [{"index": 1, "delta": {"content": "[[PERS"}, "finish_reason": None}]
    assert out.endswith(b"\r\n\r\ndata: [DONE]\r\n\r\n")


def test_legacy_held_text_goes_into_the_text_of_the_finish_chunk():
    vault = make_vault()
    stream = sse([text_chunk(0, "Dear [["), text_chunk(0, "", "stop"), "[DONE]"])
    events = payloads(b"".join(run([stream], vault, shape=COMPLETION_CHUNKS)))
    choices = [json.loads(event)["choices"][0] for event in events[:-1]]
    assert [(c["text"], c["finish_reason"]) for c in choices] == [("Dear ", None), ("[[", "stop")]


def test_legacy_held_text_goes_out_before_done_in_a_chunk_like_the_last_one():
    vault = make_vault()
    stream = sse([text_chunk(1, "Dear [[PERS"), "[DONE]"])
    events = payloads(b"".join(run([stream], vault, shape=COMPLETION_CHUNKS)))
    extra = json.loads(events[1])
    assert {k: extra[k] for k in ENVELOPE} == {**ENVELOPE, "object": "text_completion"}
    assert extra["choices"] == [{"index": 1, "text": "[[PERS", "finish_reason": None}]
    assert events[2] == "[DONE]"


def test_legacy_chunks_change_only_their_text():
    """Token lists, unknown fields and a chat-style delta are not text of a legacy choice."""
    vault = make_vault()
    event = text_chunk(0, "Hi [[PERSON_2]]")
    event["choices"][0] |= {
        "logprobs": {"tokens": ["Hi", " [[", "PERSON", "_2]]"]},
        "note": "[[PERSON_2]]",
        "delta": {"content": "[[PERSON_2]]"},
    }
    [out] = payloads(b"".join(run([sse([event])], vault, shape=COMPLETION_CHUNKS)))
    event["choices"][0]["text"] = "Hi Jane Doe"
    assert json.loads(out) == event


def test_end_of_stream_without_done_flushes_held_text():
    vault = make_vault()
    stream = sse([chunk(0, {"content": "Hi [[PERSON_2]] and [[PERS"})])
    out = b"".join(run([stream], vault))
    assert content_of(out) == "Hi Jane Doe and [[PERS"


def test_end_of_stream_flushes_into_an_unterminated_last_event():
    vault = make_vault()
    head = sse([chunk(0, {"content": "a [["})])
    tail = json.dumps(chunk(0, {"content": "PERSON_2]] b [["})).encode()
    out = b"".join(run([head, b"data: " + tail], vault))
    assert out.endswith(b'b [["},"logprobs":null,"finish_reason":null}]}')
    assert content_of(out + b"\n\n") == "a Jane Doe b [["


def test_end_of_stream_passes_a_truncated_event_after_the_held_text():
    vault = make_vault()
    stream = sse([chunk(0, {"content": "a [[EMAIL"})]) + b'data: {"id": "chatcmpl-9x", "choi'
    out = b"".join(run([stream], vault))
    assert out.endswith(b'\n\ndata: {"id": "chatcmpl-9x", "choi')
    events = payloads(out[: out.rindex(b"data: ")])
    assert [json.loads(p)["choices"][0]["delta"]["content"] for p in events] == ["a ", "[[EMAIL"]


def test_multi_line_data_comments_and_event_lines_at_every_split():
    vault = make_vault()
    stream = (
        b": comment\r\nevent: chunk\r\n"
        b'data: {"choices": [{"index": 0,\r\n'
        b'data: "delta": {"refusal": "no, [[PERSON_3]]", "reasoning_content": "[[PERSON_2]]"}}]}\r\n\r\n'
    )
    for cut in range(len(stream) + 1):
        tally = RestoreTally()
        out = b"".join(run([stream[:cut], stream[cut:]], vault, tally))
        lines = out.split(b"\r\n")
        assert lines[:2] == [b": comment", b"event: chunk"] and lines[3:] == [b"", b""], cut
        delta = json.loads(lines[2].removeprefix(b"data: "))["choices"][0]["delta"]
        assert delta == {"refusal": "no, Zoë Müller", "reasoning_content": "Jane Doe"}
        assert tally.restored == {"[[PERSON_3]]": 1, "[[PERSON_2]]": 1}


def test_a_lone_surrogate_escape_survives_rewriting():
    vault = make_vault()
    stream = b'data: {"choices": [{"index": 0, "delta": {"content": "\\ud83d [[PERSON_2]]"}}]}\n\n'
    out = b"".join(run([stream], vault))
    assert content_of(out) == "\ud83d Jane Doe"


def test_unknown_and_user_written_placeholders_stay():
    vault = make_vault()
    deltas = ["[[PERSON_", "9]] [[N", "OTOURS_1]] [", "[PERSON_1]]"]
    tally = RestoreTally()
    stream = sse(completion({0: deltas}, [0] * len(deltas)))
    view = client_view(b"".join(run([stream], vault, tally)))
    assert view.content[0] == "".join(deltas)
    assert tally.unresolved == {"[[PERSON_9]]": 1, "[[NOTOURS_1]]": 1}
    assert tally.restored == {}


ALTERED = (
    "Hi [[ person_2 ]], \\[\\[PERSON_3\\]\\] mailed [Email_Address_1](mailto:x) "
    "\\[\\[ EMAIL_ADDRESS_1  \\]\\] [[\tPASSWORD_1\t]] about [PERSON_9] and arr[i] "
    "\\[[PERSON_2]] [person_1]\\"
)
ALTERED_RESTORED = (
    "Hi Jane Doe, Zoë Müller mailed [jane.doe@example.org](mailto:x) "
    'jane.doe@example.org p"w\\d€ about [PERSON_9] and arr[i] \\Jane Doe [person_1]\\'
)


@pytest.mark.parametrize("one_char", [False, True], ids=["two deltas", "one-char deltas"])
def test_altered_placeholders_split_at_every_position(one_char):
    """Content and tool arguments carry forms the model altered; each is cut everywhere."""
    vault = make_vault()
    args = json.dumps({"note": ALTERED}, ensure_ascii=False)
    header = {"index": 0, "id": "call_0", "type": "function", "function": {"name": "f", "arguments": ""}}
    every = range(len(args) + 1)
    for cut in [every] if one_char else [[cut] for cut in every]:
        content, arguments = split(ALTERED, cut), split(args, cut)
        events: list[dict | str] = [chunk(0, {"role": "assistant", "content": ""})]
        events += [chunk(0, {"content": delta}) for delta in content]
        events.append(chunk(0, {"tool_calls": [header]}))
        events += [chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}) for a in arguments]
        events += [chunk(0, {}, "tool_calls"), "[DONE]"]
        tally = RestoreTally()
        view = client_view(b"".join(run([sse(events)], vault, tally)))
        assert view.content[0] == ALTERED_RESTORED, cut
        assert json.loads(view.arguments[(0, 0)]) == {"note": ALTERED_RESTORED}, cut
        assert tally.unresolved == {}
        assert tally.restored == {
            "[[PERSON_2]]": 4,
            "[[PERSON_3]]": 2,
            "[[EMAIL_ADDRESS_1]]": 4,
            "[[PASSWORD_1]]": 2,
        }


def redacting_vault() -> Vault:
    """`make_vault` plus a redacted value, whose placeholder the answer keeps."""
    vault = make_vault()
    vault.placeholder_for("tok-3xY9", "TOKEN", secret=True, restore=False)
    return vault


KEPT = "Key [[TOKEN_1]] for [[PERSON_2]], \\[\\[ token_1 \\]\\] [TOKEN_1](x)"
KEPT_RESTORED = "Key [[TOKEN_1]] for Jane Doe, \\[\\[ token_1 \\]\\] [TOKEN_1](x)"


def test_a_redacted_placeholder_split_at_every_position_stays_as_written():
    """Content and tool arguments are cut at every offset; the redacted forms go out unchanged."""
    vault = redacting_vault()
    args = json.dumps({"note": KEPT}, ensure_ascii=False)
    header = {"index": 0, "id": "call_0", "type": "function", "function": {"name": "f", "arguments": ""}}
    for cut in range(len(args) + 1):
        events: list[dict | str] = [chunk(0, {"role": "assistant", "content": ""})]
        events += [chunk(0, {"content": delta}) for delta in split(KEPT, [cut])]
        events.append(chunk(0, {"tool_calls": [header]}))
        events += [
            chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}) for a in split(args, [cut])
        ]
        events += [chunk(0, {}, "tool_calls"), "[DONE]"]
        tally = RestoreTally()
        view = client_view(b"".join(run([sse(events)], vault, tally)))
        assert view.content[0] == KEPT_RESTORED, cut
        assert json.loads(view.arguments[(0, 0)]) == {"note": KEPT_RESTORED}, cut
        assert tally == RestoreTally(restored={"[[PERSON_2]]": 2}, redacted={"[[TOKEN_1]]": 6}), cut


def test_a_redacted_placeholder_across_every_split_of_the_network_reads():
    vault = redacting_vault()
    stream = sse(completion({0: ["Key [[TO", "KEN_", "1]] for [[PERSON_2]]"]}, [0, 0, 0]))
    for cut in range(len(stream) + 1):
        tally = RestoreTally()
        view = client_view(b"".join(run([stream[:cut], stream[cut:]], vault, tally)))
        assert view.content[0] == "Key [[TOKEN_1]] for Jane Doe", cut
        assert tally == RestoreTally(restored={"[[PERSON_2]]": 1}, redacted={"[[TOKEN_1]]": 1}), cut


def test_a_redacted_placeholder_is_held_only_until_it_is_complete():
    vault = redacting_vault()
    restorer = SseRestorer(vault, RestoreTally())
    out = b""
    for delta in ["Key [[TOK", "EN_1]", "] done"]:
        out += restorer(sse([chunk(0, {"content": delta})]))
    assert content_of(out) == "Key [[TOKEN_1]] done"
    restorer = SseRestorer(vault, RestoreTally())
    assert content_of(restorer(sse([chunk(0, {"content": "Key [[TOK"})]))) == "Key "


def test_finished_only_once_done_has_passed():
    """The addon tells a client that hung up after `[DONE]` from one that left early."""
    vault = make_vault()
    wire = sse(completion({0: split(mask("Dear Zoë Müller", vault), [3, 9])}, [0, 0, 0]))
    restorer = SseRestorer(vault, RestoreTally())
    restorer(wire[: wire.index(b"data: [DONE]")])
    assert not restorer.finished
    restorer(wire[wire.index(b"data: [DONE]") :])
    assert restorer.finished
