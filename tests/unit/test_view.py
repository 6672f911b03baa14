"""The maskgate content view, the markers and comments, and value fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from mitmproxy import contentviews, http
from mitmproxy.test import taddons, tflow

from maskgate import annotate
from maskgate.addon import MaskGate, blocked_message
from maskgate.fingerprint import fingerprint
from maskgate.mask import Finding
from maskgate.openai.chat import mask_chat_request, restore_chat_response
from maskgate.policy import Action
from maskgate.restore.text import RestoreTally
from maskgate.view import MaskGateContentview, describe_flow

from .fakes import fake_detect

URL = "https://api.openai.com/v1/chat/completions"
NAME, EMAIL, PASSWORD = "Jane Doe", "jane.doe@example.org", "Tr0ub4dor&3"
CARD = "4111 1111 1111 1111"
ORIGINALS = (NAME, EMAIL, PASSWORD, CARD, "Jane")
PROMPT = f"Write to {NAME} <{EMAIL}>, password: {PASSWORD}"


@pytest.fixture(autouse=True)
def view() -> Iterator[None]:
    """The view registered as the addon registers it, and the options views read."""
    contentviews.add(MaskGateContentview)
    with taddons.context():
        yield


def _actions(**by_type: Action) -> Any:
    return lambda d: by_type.get(d.entity_type, Action.MASK)


def _guarded(*contents: str, **actions: Action) -> tuple[http.HTTPFlow, list[Finding], Any]:
    """A flow as the addon leaves it after masking `contents` with the fake detector."""
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": c} for c in contents]}
    vault, findings = mask_chat_request(body, fake_detect, _actions(**actions))
    request = http.Request.make("POST", URL, json.dumps(body), {"content-type": "application/json"})
    flow = tflow.tflow(req=request)
    annotate.record_masked(flow, findings, 12.5)
    return flow, findings, vault


def _answer(flow: http.HTTPFlow, vault: Any, content: str) -> None:
    """Give `flow` a JSON answer with `content`, restored and recorded as the addon does."""
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    annotate.record_restore(flow, restore_chat_response(body, vault))
    flow.response = http.Response.make(200, json.dumps(body), {"content-type": "application/json"})


def _render(message: http.Message, flow: http.HTTPFlow) -> contentviews.ContentviewResult:
    return contentviews.prettify_message(message, flow, view_name="auto")


def _table(text: str) -> list[list[str]]:
    """The detection table's rows (header first), split at the column gaps."""
    lines = text.split("Detections\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [re.split(r"\s{2,}", line.strip()) for line in lines if not line.strip()[:1].isdigit()]


def _section(text: str, title: str) -> str:
    return text.split(f"\n\n{title}\n", 1)[1].split("\n\n", 1)[0].rstrip("\n")


def _assert_no_originals(flow: http.HTTPFlow) -> None:
    saved = json.dumps(flow.get_state()["metadata"], ensure_ascii=False) + flow.comment + describe_flow(flow)
    for value in ORIGINALS:
        assert value not in saved and json.dumps(value)[1:-1] not in saved


# --- choosing the view -----------------------------------------------------------------


def test_the_addon_registers_the_view_when_loaded(monkeypatch):
    added = []
    monkeypatch.setattr(contentviews, "add", added.append)

    class Loader:
        def add_option(self, *args: Any, **kwargs: Any) -> None:
            pass

    MaskGate().load(Loader())
    assert added == [MaskGateContentview]


def test_auto_picks_the_view_on_a_guarded_request():
    flow, _, _ = _guarded(PROMPT)
    result = _render(flow.request, flow)
    assert result.view_name == "maskgate" and result.syntax_highlight == "none"
    assert result.text == describe_flow(flow)
    assert "Detections" in result.text and "PLACEHOLDER" in result.text and "[[PERSON_1]]" in result.text


def test_auto_leaves_unguarded_flows_and_answers_to_the_other_views():
    flow, _, vault = _guarded(PROMPT)
    _answer(flow, vault, "Hello [[PERSON_1]]")
    assert _render(flow.response, flow).view_name == "JSON"
    plain = tflow.tflow(req=flow.request.copy())
    assert _render(plain.request, plain).view_name == "JSON"
    assert contentviews.prettify_message(plain.request, plain, "maskgate").text.startswith(
        "maskgate: not a guarded flow"
    )


# --- the detection table ---------------------------------------------------------------


def test_masked_request_table():
    flow, findings, _ = _guarded(PROMPT, f"Again: {NAME}", PASSWORD=Action.REDACT)
    text = describe_flow(flow)
    assert text.startswith("maskgate: masked 1 EMAIL_ADDRESS, 1 PERSON; redacted 1 PASSWORD\n\nDetections\n")
    header, *rows = _table(text)
    assert header == [
        "FIELD", "TYPE", "ACTION", "PLACEHOLDER", "SCORE", "ENGINE/RECOGNIZER", "LENGTH", "FINGERPRINT"
    ]  # fmt: skip
    by_fingerprint = {f.fingerprint for f in findings}
    assert [row[:5] + row[6:7] for row in rows] == [
        ["messages[0].content", "PERSON", "mask", "[[PERSON_1]]", "0.90", str(len(NAME))],
        ["messages[0].content", "EMAIL_ADDRESS", "mask", "[[EMAIL_ADDRESS_1]]", "0.90", str(len(EMAIL))],
        ["messages[0].content", "PASSWORD", "redact", "[[PASSWORD_1]]", "0.90", str(len(PASSWORD))],
        ["messages[1].content", "PERSON", "mask", "[[PERSON_1]]", "0.90", str(len(NAME))],
    ]
    assert [row[5] for row in rows] == ["presidio/fake", "presidio/fake", "pattern/fake", "presidio/fake"]
    assert {row[7] for row in rows} == by_fingerprint and all(
        re.fullmatch("[0-9a-f]{8}", f) for f in by_fingerprint
    )
    lines = text.splitlines()
    column = lines[3].index("PLACEHOLDER")
    assert all(line[column:].startswith("[[") for line in lines[4:8]), "columns are aligned"
    assert "4 occurrence(s), analysed in 12.5 ms" in text
    assert flow.marked == ":shield:"
    _assert_no_originals(flow)


def test_a_value_found_only_by_propagation_says_so():
    body = {"messages": [{"role": "user", "content": NAME}], "metadata": {"owner": NAME}}
    _, findings = mask_chat_request(body, fake_detect, _actions())
    flow = tflow.tflow(req=http.Request.make("POST", URL, json.dumps(body)))
    annotate.record_masked(flow, findings, 1.0)
    rows = _table(describe_flow(flow))[1:]
    assert [(row[0], row[5]) for row in rows] == [
        ("messages[0].content", "presidio/fake"),
        ("metadata.owner", "presidio/fake (propagated)"),
    ]


def test_logged_only_request():
    flow, _, _ = _guarded(PROMPT, PERSON=Action.LOG, EMAIL_ADDRESS=Action.LOG, PASSWORD=Action.LOG)
    text = describe_flow(flow)
    assert flow.marked == ":eyes:"
    assert flow.comment == (
        "maskgate: masked nothing; logged 1 EMAIL_ADDRESS, 1 PASSWORD, 1 PERSON occurrence(s), not masked"
    )
    assert [row[2:4] for row in _table(text)[1:]] == [["log", "-"]] * 3
    assert _section(text, "Answer") == "  passed on as it came: nothing was masked"
    _assert_no_originals(flow)


def test_nothing_found_leaves_the_flow_unmarked():
    flow, findings, _ = _guarded("What is the capital of France?")
    assert findings == [] and flow.marked == ""
    text = describe_flow(flow)
    assert flow.comment == "maskgate: masked nothing"
    assert _section(text, "Detections") == "  no detections"


def test_blocked_request():
    body = {"messages": [{"role": "user", "content": f"{NAME} pays with {CARD}"}]}
    _, findings = mask_chat_request(body, fake_detect, _actions(CREDIT_CARD=Action.BLOCK))
    flow = tflow.tflow(req=http.Request.make("POST", URL, json.dumps(body)))
    reason = blocked_message([f for f in findings if f.action == Action.BLOCK])
    annotate.record_blocked(flow, findings, 4.0, "maskgate_blocked", reason)
    text = describe_flow(flow)
    assert flow.marked == ":no_entry:"
    assert flow.comment.startswith("maskgate: refused (maskgate_blocked): the request contains data")
    assert [row[:4] for row in _table(text)[1:]] == [
        ["messages[0].content", "PERSON", "mask", "-"],
        ["messages[0].content", "CREDIT_CARD", "block", "-"],
    ]
    assert _section(text, "Refused") == "  maskgate_blocked: " + reason
    assert "CREDIT_CARD in messages[0].content" in reason
    assert _section(text, "Answer").startswith("  none from the API: maskgate answered")
    _assert_no_originals(flow)


def test_request_refused_before_analysis():
    flow = tflow.tflow(req=http.Request.make("POST", URL, b"{not json"))
    annotate.record_refused(flow, "maskgate_invalid_json", "the request body is not valid JSON.")
    text = describe_flow(flow)
    assert flow.marked == ":no_entry:"
    assert (
        _section(text, "Detections") == "  none recorded: the request was not analysed to the end (see below)"
    )
    assert _section(text, "Refused") == "  maskgate_invalid_json: the request body is not valid JSON."


def test_request_forwarded_unmasked_under_fail_open():
    flow = tflow.tflow(req=http.Request.make("POST", URL, json.dumps({"messages": PROMPT})))
    annotate.record_failed_open(flow, "detection failed (RuntimeError).")
    text = describe_flow(flow)
    assert flow.marked == ":warning:"
    assert _section(text, "Forwarded unmasked") == "  on_failure: open: detection failed (RuntimeError)."
    _assert_no_originals(flow)


def test_endpoint_not_inspected():
    flow = tflow.tflow(req=http.Request.make("GET", "https://api.openai.com/v1/models"))
    annotate.record_not_inspected(flow, "GET /v1/models")
    text = describe_flow(flow)
    assert flow.marked == ":grey_question:"
    assert text.startswith("maskgate: not inspected (GET /v1/models)\n")
    assert _section(text, "Not inspected") == "  GET /v1/models is not an endpoint maskgate reads"
    assert _render(flow.request, flow).view_name == "maskgate"


def test_rules_warning_stays_on_a_masked_flow():
    flow = tflow.tflow(req=http.Request.make("POST", URL, b"{}"))
    annotate.record_rules_error(flow, "rules.yaml: pii.entities.PERSN: unknown\ntype")
    body = {"messages": [{"role": "user", "content": PROMPT}]}
    _, findings = mask_chat_request(body, fake_detect, _actions())
    annotate.record_masked(flow, findings, 3.0)
    text = describe_flow(flow)
    assert flow.marked == ":warning:" and "\n" not in flow.comment
    assert flow.comment.endswith("keeping the last good rules: rules.yaml: pii.entities.PERSN: unknown type")
    assert _section(text, "Rules warning").endswith(
        "last good rules kept: rules.yaml: pii.entities.PERSN: unknown\n  type"
    )


# --- the answer ------------------------------------------------------------------------


def test_answer_restored_redacted_not_returned_and_invented():
    flow, _, vault = _guarded(PROMPT, PASSWORD=Action.REDACT)
    _answer(flow, vault, "Hi [[PERSON_1]] and [[PERSON_1]], use [[PASSWORD_1]]; [[PERSON_7]] agrees.")
    restore = flow.metadata["maskgate"]["restore"]
    assert restore == {
        "note": "",
        "restored": {"count": 1, "ids": ["[[PERSON_1]]"]},
        "redacted": {"count": 1, "ids": ["[[PASSWORD_1]]"]},
        "not_returned": {"count": 1, "ids": ["[[EMAIL_ADDRESS_1]]"]},
        "unresolved": {"count": 1, "ids": ["[[PERSON_7]]"]},
    }
    assert flow.marked == ":warning:"
    assert flow.comment.endswith(
        "answer: 1 restored, 1 kept redacted, 1 not returned, 1 unresolved (never issued)"
    )
    answer = _section(describe_flow(flow), "Answer").splitlines()
    assert [line.split() for line in answer] == [
        ["restored", "1", "[[PERSON_1]]"],
        ["kept", "redacted", "1", "[[PASSWORD_1]]"],
        ["not", "returned", "1", "[[EMAIL_ADDRESS_1]]"],
        ["unresolved", "1", "[[PERSON_7]]", "(never", "issued,", "written", "by", "the", "model)"],
    ]
    _assert_no_originals(flow)


def test_answer_with_every_placeholder_back_keeps_the_shield():
    flow, _, vault = _guarded(f"Write to {NAME} <{EMAIL}>")
    _answer(flow, vault, "Dear [[PERSON_1]] ([[EMAIL_ADDRESS_1]])")
    assert flow.marked == ":shield:"
    assert flow.comment == "maskgate: masked 1 EMAIL_ADDRESS, 1 PERSON; answer: 2 restored"
    assert "[[EMAIL_ADDRESS_1]], [[PERSON_1]]" in _section(describe_flow(flow), "Answer")


def test_answer_states_before_and_without_a_restore():
    flow, _, _ = _guarded(PROMPT)
    assert _section(describe_flow(flow), "Answer") == "  no answer yet"
    flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    flow.response.stream = lambda data: data
    assert _section(describe_flow(flow), "Answer").startswith("  streaming")
    annotate.record_restore(flow, RestoreTally(restored={"[[PERSON_1]]": 3}))
    answer = _section(describe_flow(flow), "Answer")
    assert answer.startswith("  streamed: the answer's body is not stored") and "[[PERSON_1]]" in answer
    flow.response = http.Response.make(429, b"{}")
    annotate.record_restore(flow, None, "upstream error 429 passed through")
    assert _section(describe_flow(flow), "Answer") == "  upstream error 429 passed through"
    assert flow.comment.endswith("answer: upstream error 429 passed through")


def test_a_model_spamming_placeholders_cannot_bloat_the_flow():
    flow, _, _ = _guarded(PROMPT)
    invented = {f"[[PERSON_{n}]]": 1 for n in range(2, 502)}
    invented["[[A" + "X" * 5000 + "_1]]"] = 1
    annotate.record_restore(flow, RestoreTally(unresolved=invented))
    unresolved = flow.metadata["maskgate"]["restore"]["unresolved"]
    assert unresolved["count"] == 501 and len(unresolved["ids"]) == annotate.MAX_IDS
    assert unresolved["ids"][1:4] == ["[[PERSON_2]]", "[[PERSON_3]]", "[[PERSON_4]]"]
    assert max(map(len, unresolved["ids"])) <= annotate.MAX_ID_CHARS
    assert len(json.dumps(flow.metadata)) < 4000
    assert "and 481 more" in _section(describe_flow(flow), "Answer")


# --- fingerprints ----------------------------------------------------------------------


def test_fingerprints_match_equal_values_only():
    flow, findings, _ = _guarded(f"{NAME} and Ann", f"again {NAME}")
    prints = {(f.path, f.placeholder): f.fingerprint for f in findings}
    assert prints[("messages[0].content", "[[PERSON_1]]")] == prints[("messages[1].content", "[[PERSON_1]]")]
    assert prints[("messages[0].content", "[[PERSON_1]]")] != prints[("messages[0].content", "[[PERSON_2]]")]
    assert fingerprint(NAME) == prints[("messages[0].content", "[[PERSON_1]]")]
    assert [d["fingerprint"] for d in flow.metadata["maskgate"]["detections"]] == [
        f.fingerprint for f in findings
    ]


def test_fingerprints_are_keyed():
    """Without the process's key, hashing guesses does not find a fingerprint's value."""
    assert fingerprint(NAME) not in {
        hashlib.new(name, NAME.encode()).hexdigest()[:8] for name in ("md5", "sha1", "sha256", "sha512")
    }
    assert fingerprint("\ud800 lone surrogate") != fingerprint("\ud801 lone surrogate")


def test_a_value_in_json_text_has_the_fingerprint_and_length_of_its_value():
    key = 'k3y-with-"quote\\'
    arguments = json.dumps({"api_key": key})
    body = {
        "messages": [
            {"role": "user", "content": "set it"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
                ],
            },
        ]
    }
    _, findings = mask_chat_request(body, fake_detect, _actions(API_KEY=Action.BLOCK))
    assert len(findings) == 2
    assert {f.fingerprint for f in findings} == {fingerprint(key)}
    assert {f.length for f in findings} == {len(key)}
