"""The Responses stream restorer: whatever the deltas and the network reads, the client reads
exactly the original texts — in the deltas, in every event that repeats them whole — with
held text out before the `.done` it belongs to, and every text counted once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskgate.restore.responses_sse import ResponsesSseRestorer
from maskgate.restore.text import RestoreTally, restore_text
from maskgate.vault import Vault

from .test_sse import PIECES, cut_bytes, make_vault, mask, mask_json, split

_LINES = re.compile(r"\r\n|\r|\n")

TEXT = 'Hi Jane Doe [1, 2] [[PERSON_9]], mail jane.doe@example.org, pw p"w\\d€ [[NOTOURS_1]] [[PERSON_1]]'
SUMMARY = "Zoë Müller asked about Jane Doe ["
ARGUMENTS = {"to": "jane.doe@example.org", "note": 'Hi "Jane Doe" [', "list": [[1, 2], [3]]}
TOOL_INPUT = "SELECT * WHERE name = 'Zoë Müller' AND pw = 'p\"w\\d€'"


@dataclass
class Output:
    """One output item of a streamed answer, with its masked texts cut into deltas."""

    kind: str
    texts: list[str]
    """The masked texts: one per content part or summary part, or the one arguments/input."""
    cuts: list[list[int]] = field(default_factory=list)

    def deltas(self, i: int) -> list[str]:
        return split(self.texts[i], self.cuts[i] if i < len(self.cuts) else [4, 9])


def item(output: Output, index: int, done: bool) -> dict[str, Any]:
    """The output item as `output_item.added` (empty) or `.done` and `response.completed` carry it."""
    base = {"id": f"it_{index}", "status": "completed" if done else "in_progress"}
    texts = output.texts if done else []
    if output.kind == "message":
        parts = [{"type": "output_text", "text": t, "annotations": []} for t in texts]
        return {**base, "type": "message", "role": "assistant", "content": parts}
    if output.kind == "reasoning":
        return {**base, "type": "reasoning", "summary": [{"type": "summary_text", "text": t} for t in texts]}
    if output.kind == "function_call":
        return {
            **base,
            "type": "function_call",
            "call_id": "call_1",
            "name": "send",
            "arguments": "".join(texts),
        }
    return {**base, "type": "custom_tool_call", "call_id": "call_2", "name": "sql", "input": "".join(texts)}


_DELTAS = {
    "message": ("response.output_text", "content_index", "text"),
    "reasoning": ("response.reasoning_summary_text", "summary_index", "text"),
    "function_call": ("response.function_call_arguments", None, "arguments"),
    "custom_tool_call": ("response.custom_tool_call_input", None, "input"),
}
_PARTS = {"message": "response.content_part", "reasoning": "response.reasoning_summary_part"}


def events(outputs: list[Output]) -> list[dict[str, Any]]:
    """The events the API streams for these outputs, in its order, numbered."""
    response = {"id": "resp_1", "object": "response", "model": "gpt-4.1", "instructions": "Be brief"}
    out: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
        {"type": "response.in_progress", "response": {**response, "status": "in_progress", "output": []}},
    ]
    for index, output in enumerate(outputs):
        where = {"item_id": f"it_{index}", "output_index": index}
        out.append(
            {"type": "response.output_item.added", "output_index": index, "item": item(output, index, False)}
        )
        prefix, index_key, whole = _DELTAS[output.kind]
        for i, text in enumerate(output.texts):
            at = {**where, index_key: i} if index_key else where
            part = _PARTS.get(output.kind)
            kind = "output_text" if output.kind == "message" else "summary_text"
            if part:
                out.append({"type": f"{part}.added", **at, "part": {"type": kind, "text": ""}})
            extra = {"logprobs": []} if output.kind == "message" else {}
            out += [{"type": f"{prefix}.delta", **at, "delta": d, **extra} for d in output.deltas(i)]
            out.append({"type": f"{prefix}.done", **at, whole: text, **extra})
            if part:
                out.append({"type": f"{part}.done", **at, "part": {"type": kind, "text": text}})
        out.append(
            {"type": "response.output_item.done", "output_index": index, "item": item(output, index, True)}
        )
    final = [item(output, index, True) for index, output in enumerate(outputs)]
    out.append(
        {"type": "response.completed", "response": {**response, "status": "completed", "output": final}}
    )
    return [{"type": e["type"], "sequence_number": n, **e} for n, e in enumerate(out)]


def sse(payloads: list[dict[str, Any] | str], newline: str = "\n") -> bytes:
    """The body the API sends: an `event:` line and a `data:` line per event."""
    out = []
    for payload in payloads:
        if isinstance(payload, str):
            out.append(f"data: {payload}{newline}{newline}")
            continue
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        out.append(f"event: {payload['type']}{newline}data: {data}{newline}{newline}")
    return "".join(out).encode()


def run(reads: list[bytes], vault: Vault, tally: RestoreTally | None = None) -> bytes:
    """Feed the reads and the final b"" as mitmproxy does; everything sent on."""
    restorer = ResponsesSseRestorer(vault, tally if tally is not None else RestoreTally())
    out = []
    for data in [*reads, b""]:
        sent = restorer(data)
        assert sent != b"", "b'' mid-stream ends an HTTP/1.1 response"
        out.append(sent if isinstance(sent, bytes) else b"".join(sent))
    return b"".join(out)


def parse(stream: bytes) -> list[dict[str, Any]]:
    """The events a client reads, each checked to have an `event:` line matching its type."""
    lines = _LINES.split(stream.decode())
    assert lines[-1] == "", "the stream ends inside an event"
    parsed, kind, data = [], None, []
    for line in lines[:-1]:
        if not line:
            if data:
                payload = json.loads("\n".join(data))
                assert kind in (None, payload["type"]), (kind, payload["type"])
                parsed.append(payload)
            kind, data = None, []
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
    return parsed


@dataclass
class ClientView:
    """What a client assembles from the deltas, and every text it was given whole."""

    deltas: dict[tuple[int, str, int | None], str] = field(default_factory=dict)
    wholes: list[tuple[tuple[int, str, int | None], str]] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    """The text of each `content_part.done` and `reasoning_summary_part.done`."""
    items: list[dict[str, Any]] = field(default_factory=list)
    """The items of `output_item.done` events."""
    final: list[dict[str, Any]] = field(default_factory=list)


def client_view(stream: bytes) -> ClientView:
    """Also checks that each `.done` comes after all of its text arrived in deltas."""
    view = ClientView()
    for e in parse(stream):
        kind = e["type"]
        index = e.get("content_index", e.get("summary_index"))
        key = (e.get("output_index"), kind.rsplit(".", 1)[0], index)
        if kind.endswith(".delta"):
            view.deltas[key] = view.deltas.get(key, "") + e["delta"]
        elif kind.endswith(".done") and kind.rsplit(".", 1)[0] in {p for p, _, _ in _DELTAS.values()}:
            whole = e.get("text", e.get("arguments", e.get("input")))
            assert view.deltas.get(key, "") == whole, f"{kind} before its text arrived in deltas"
            view.wholes.append((key, whole))
        elif kind.endswith("part.done"):
            view.parts.append(e["part"]["text"])
        elif kind == "response.output_item.done":
            view.items.append(e["item"])
        elif kind == "response.completed":
            view.final = e["response"]["output"]
    return view


def originals(outputs: list[Output], vault: Vault) -> list[str]:
    return [restore_text(t, vault, RestoreTally()) for o in outputs for t in o.texts]


def assert_round_trip(view: ClientView, outputs: list[Output], expected: list[str]) -> None:
    """Deltas, `.done` texts and the final response all carry exactly the originals."""
    delta_texts = [text for _, text in sorted(view.deltas.items())]
    assert delta_texts == expected
    assert [text for _, text in view.wholes] == expected
    final = [item(o, i, True) for i, o in enumerate(outputs)]
    restored = iter(expected)
    for entry, output in zip(final, outputs, strict=True):
        field_name = {"message": "content", "reasoning": "summary"}.get(output.kind)
        if field_name:
            for part in entry[field_name]:
                part["text"] = next(restored)
        else:
            entry["arguments" if output.kind == "function_call" else "input"] = next(restored)
    assert view.items == view.final == final
    parts = [part["text"] for entry in final for part in entry.get("content", entry.get("summary", []))]
    assert view.parts == parts


def realistic(vault: Vault) -> list[Output]:
    return [
        Output("reasoning", [mask(SUMMARY, vault)], [[3, 17, 18]]),
        Output(
            "message", [mask(TEXT, vault), mask("Zoë Müller [[", vault)], [[2, 5, 12, 13, 30, 31], [1, 2]]
        ),
        Output("function_call", [json.dumps(mask_json(ARGUMENTS, vault), ensure_ascii=False)], [[8, 9, 20]]),
        Output("custom_tool_call", [mask(TOOL_INPUT, vault)], [[25, 27, 29]]),
    ]


def expected_tally(outputs: list[Output], vault: Vault) -> RestoreTally:
    """The count of the same answer as JSON: each text once."""
    tally = RestoreTally()
    for output in outputs:
        for text in output.texts:
            restore_text(text, vault, tally)
    return tally


def expected_texts(outputs: list[Output], vault: Vault) -> list[str]:
    texts = []
    for output in outputs:
        for text in output.texts:
            if output.kind == "function_call":
                texts.append(json.dumps(ARGUMENTS, ensure_ascii=False))
            else:
                texts.append(restore_text(text, vault, RestoreTally()))
    return texts


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_every_split_of_a_stream_into_two_reads(newline):
    """A message of two parts, then a function call: each text held back at some point."""
    vault = make_vault()
    outputs = realistic(vault)[1:3]
    stream = sse(events(outputs), newline)
    expected = expected_texts(outputs, vault)
    assert expected[0] == TEXT and json.loads(expected[2]) == ARGUMENTS
    for cut in range(len(stream) + 1):
        tally = RestoreTally()
        view = client_view(run([stream[:cut], stream[cut:]], vault, tally))
        assert_round_trip(view, outputs, expected)
        assert tally == expected_tally(outputs, vault), cut


texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, min_size=3, max_size=3), st.data())
def test_round_trip_whatever_the_deltas_and_the_reads(contents, data):
    vault = make_vault()
    masked = [mask(text, vault) for text in contents]
    arguments = json.dumps({"note": masked[2]}, ensure_ascii=False)
    outputs = [Output("message", masked[:2]), Output("function_call", [arguments])]
    for output in outputs:
        output.cuts = [
            data.draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=12)) for text in output.texts
        ]
    stream = sse(events(outputs))
    reads = cut_bytes(stream, data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=40)))
    tally = RestoreTally()
    view = client_view(run(reads, vault, tally))
    expected = [*contents[:2], json.dumps({"note": contents[2]}, ensure_ascii=False)]
    assert_round_trip(view, outputs, expected)
    assert tally == expected_tally(outputs, vault)


def test_a_placeholder_split_across_deltas_goes_out_whole_in_the_later_delta():
    vault = make_vault()
    at = {"item_id": "it_0", "output_index": 0, "content_index": 0}
    restorer = ResponsesSseRestorer(vault, RestoreTally())
    sent = []
    for delta in ["Hi [", "[PER", "SON_2", "]", "] bye"]:
        out = restorer(sse([{"type": "response.output_text.delta", **at, "delta": delta}]))
        sent += [e["delta"] for e in parse(out if isinstance(out, bytes) else b"".join(out))]
    assert sent == ["Hi ", "", "", "", "Jane Doe bye"]


def test_held_text_goes_out_in_a_copy_of_the_last_delta_before_the_done_event():
    vault = make_vault()
    at = {"item_id": "it_0", "output_index": 0, "content_index": 0}
    stream = sse(
        [
            {
                "type": "response.output_text.delta",
                "sequence_number": 4,
                **at,
                "delta": "Dear [[",
                "logprobs": [1],
            },
            {"type": "response.output_text.annotation.added", "sequence_number": 5, **at, "annotation": {}},
            {
                "type": "response.output_text.done",
                "sequence_number": 6,
                **at,
                "text": "Dear [[",
                "logprobs": [],
            },
        ]
    )
    out = parse(run([stream], vault))
    assert [(e["type"], e.get("delta")) for e in out] == [
        ("response.output_text.delta", "Dear "),
        ("response.output_text.annotation.added", None),
        ("response.output_text.delta", "[["),
        ("response.output_text.done", None),
    ]
    assert out[2] == {**out[0], "delta": "[[", "logprobs": []}  # same event, same sequence number


def test_held_text_of_an_item_goes_out_before_its_item_done_and_all_before_the_final_event():
    vault = make_vault()
    first = {"item_id": "it_0", "output_index": 0, "content_index": 0}
    second = {"item_id": "it_1", "output_index": 1}
    stream = sse(
        [
            {"type": "response.output_text.delta", **first, "delta": "a [[PERS"},
            {"type": "response.function_call_arguments.delta", **second, "delta": '{"x": "[['},
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {"type": "message", "content": []},
            },
            {"type": "response.failed", "response": {"status": "failed", "output": []}},
        ]
    )
    out = [(e["type"], e.get("delta")) for e in parse(run([stream], vault))]
    assert out == [
        ("response.output_text.delta", "a "),
        ("response.function_call_arguments.delta", '{"x": "'),
        ("response.output_text.delta", "[[PERS"),
        ("response.output_item.done", None),
        ("response.function_call_arguments.delta", "[["),
        ("response.failed", None),
    ]


def test_end_of_stream_flushes_held_text_into_an_unterminated_last_delta():
    vault = make_vault()
    at = {"output_index": 0, "content_index": 0}
    head = sse([{"type": "response.output_text.delta", **at, "delta": "a [["}])
    tail = json.dumps({"type": "response.output_text.delta", **at, "delta": "PERSON_2]] b [["}).encode()
    out = run([head, b"data: " + tail], vault)
    assert out.endswith(b'"delta":"Jane Doe b [["}')
    assert "".join(e["delta"] for e in parse(out + b"\n\n")) == "a Jane Doe b [["


def test_end_of_stream_and_a_done_marker_flush_held_text_before_them():
    vault = make_vault()
    delta = {"type": "response.refusal.delta", "output_index": 0, "content_index": 0, "delta": "no [[EMAIL"}
    out = run([sse([delta])], vault)
    assert [e["delta"] for e in parse(out)] == ["no ", "[[EMAIL"]
    out = run([sse([delta, "[DONE]"])], vault)
    assert out.endswith(b'"delta":"[[EMAIL"}\n\ndata: [DONE]\n\n')


def test_unknown_and_unchanged_events_pass_byte_for_byte():
    vault = make_vault()
    odd = (
        b": keep-alive\n\n"
        b"event: response.shell_call_command.delta\n"
        b'data: {"type": "response.shell_call_command.delta", "output_index": 0, "delta": "[[PERSON_2]]"}\n\n'
        b"data: not json [[PERSON_2]]\n\n"
        b'data: {"no_type": "[[PERSON_2]]"}\n\n'
        b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "output_index": 1,'
        b' "content_index": 0, "delta": "caf\\u00e9 [1]", "obfuscation": "x1"}\n\n'
    )
    changed = sse(
        [
            {
                "type": "response.output_text.delta",
                "output_index": 1,
                "content_index": 0,
                "delta": " [[PERSON_2]]",
            }
        ]
    )
    out = run(cut_bytes(odd + changed, range(0, len(odd) + len(changed), 5)), vault)
    assert out.startswith(odd)
    assert parse(out[len(odd) :])[0]["delta"] == " Jane Doe"


def test_each_text_is_counted_once_though_several_events_repeat_it():
    """The text streamed in deltas, and one given only whole (no deltas), in all their repeats."""
    vault = make_vault()
    at = {"item_id": "it_0", "output_index": 0, "content_index": 0}
    whole_only = {
        "type": "message",
        "id": "it_1",
        "content": [{"type": "output_text", "text": "[[PERSON_3]]"}],
    }
    streamed = {
        "type": "message",
        "id": "it_0",
        "content": [{"type": "output_text", "text": "[[PERSON_2]] [[PERSON_9]]"}],
    }
    stream = sse(
        [
            {"type": "response.output_text.delta", **at, "delta": "[[PERSON_2]] [[PERS"},
            {"type": "response.output_text.delta", **at, "delta": "ON_9]]"},
            {"type": "response.output_text.done", **at, "text": "[[PERSON_2]] [[PERSON_9]]"},
            {"type": "response.content_part.done", **at, "part": streamed["content"][0]},
            {"type": "response.output_item.done", "output_index": 0, "item": streamed},
            {"type": "response.output_item.done", "output_index": 1, "item": whole_only},
            {"type": "response.completed", "response": {"output": [streamed, whole_only]}},
        ]
    )
    tally = RestoreTally()
    out = parse(run([stream], vault, tally))
    assert out[-1]["response"]["output"][1]["content"][0]["text"] == "Zoë Müller"
    assert out[-1]["response"]["output"][0]["content"][0]["text"] == "Jane Doe [[PERSON_9]]"
    assert tally == RestoreTally(
        restored={"[[PERSON_2]]": 1, "[[PERSON_3]]": 1}, unresolved={"[[PERSON_9]]": 1}
    )


def test_arguments_are_restored_json_escaped_in_deltas_and_in_whole():
    vault = make_vault()
    arguments = json.dumps({"pw": "[[PASSWORD_1]]"})
    at = {"item_id": "fc_0", "output_index": 0}
    stream = sse(
        [
            *(
                {"type": "response.function_call_arguments.delta", **at, "delta": d}
                for d in split(arguments, [10, 14])
            ),
            {"type": "response.function_call_arguments.done", **at, "arguments": arguments},
        ]
    )
    out = parse(run([stream], vault))
    assert json.loads("".join(e["delta"] for e in out[:-1])) == {"pw": 'p"w\\d€'}
    assert json.loads(out[-1]["arguments"]) == {"pw": 'p"w\\d€'}


def test_nothing_to_send_is_an_empty_list_never_empty_bytes():
    vault = make_vault()
    assert ResponsesSseRestorer(vault, RestoreTally())(b"") == []
    restorer = ResponsesSseRestorer(vault, RestoreTally())
    assert restorer(b"event: response.output_text.delta\ndata: {") == []
    assert restorer(b'"type": "response.output_text.delta", "output_index": 0, "delta": "[["}\n') == []
    held = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","output_index":0,'
    assert restorer(b"\n") == held + b'"delta":""}\n\n'
    assert restorer(b"") == held + b'"delta":"[["}\n\n'


def test_every_kind_of_output_read_byte_by_byte():
    """Reasoning summary, message, function call and custom tool input in one answer."""
    vault = make_vault()
    outputs = realistic(vault)
    stream = sse(events(outputs))
    tally = RestoreTally()
    out = run([bytes([b]) for b in stream], vault, tally)
    assert out == run([stream], vault)
    assert_round_trip(client_view(out), outputs, expected_texts(outputs, vault))
    assert tally == expected_tally(outputs, vault)


def test_finished_only_once_the_final_event_has_passed():
    """The addon tells a client that hung up after `response.completed` from one that left early."""
    vault = make_vault()
    wire = sse(events(realistic(vault)))
    final = wire.rindex(b"event: response.completed")
    restorer = ResponsesSseRestorer(vault, RestoreTally())
    restorer(wire[:final])
    assert not restorer.finished
    restorer(wire[final:])
    assert restorer.finished
