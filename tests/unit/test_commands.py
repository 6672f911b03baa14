"""The `maskgate.stats` and `maskgate.report` commands, called as mitmproxy calls them."""

from __future__ import annotations

from mitmproxy.addons.view import View
from mitmproxy.test import tflow

from maskgate import view

from .gate import EMAIL, KEY, NAME, PERSON_BLOCKED, PROMPT, chat, json_answer, running_gate, sse_answer


def test_stats_count_finished_flows(tmp_path):
    with running_gate(tmp_path) as gate:
        gate.answer(gate.request(chat(PROMPT)), json_answer("Hi [[PERSON_1]], and [[PERSON_9]]."))
        gate.send(f"Only {NAME} this time.")
        gate.send("Nothing here.")
        gate.send(b"not json")
        gate.send(b"", url="https://api.openai.com/v1/models", method="GET")
        gate.send(PROMPT, url="https://example.com/v1/chat/completions")
        gate.request(chat(PROMPT))  # still waiting for its answer: not counted yet
        streamed = gate.request(chat(PROMPT))
        streamed.response = sse_answer()
        gate.error(streamed)
        text = gate.tctx.master.commands.execute("maskgate.stats")

    lines = text.splitlines()
    assert lines[0].startswith("maskgate since ") and lines[0].endswith(": 6 guarded flows")
    assert lines[1:] == [
        "  requests: 3 masked, 0 logged, 1 clean, 0 blocked, 1 refused, 0 forwarded unmasked,"
        " 1 not inspected",
        "  placeholders issued: 7",
        "  answers: 2 placeholders restored, 0 kept redacted, 2 not returned, 1 unresolved (never issued)",
        "  found, by type: EMAIL_ADDRESS 2, OPENAI_API_KEY 2, PERSON 3",
    ]


def test_stats_count_blocked_flows_once(tmp_path):
    with running_gate(tmp_path, PERSON_BLOCKED) as gate:
        gate.send(PROMPT)
        text = gate.tctx.master.commands.execute("maskgate.stats")
    assert ": 1 guarded flows" in text and "1 blocked" in text and "placeholders issued: 0" in text


def _report(gate, flows, spec: str) -> str:
    views = View()
    gate.tctx.master.addons.add(views)
    views.add(flows)
    return gate.tctx.master.commands.call_strings("maskgate.report", [spec])


def test_report_describes_each_guarded_flow(tmp_path):
    with running_gate(tmp_path, PERSON_BLOCKED) as gate:
        blocked = gate.send(PROMPT)
        clean = gate.send("Nothing here.")
        other = gate.send(PROMPT, url="https://example.com/v1/chat/completions")
        report = _report(gate, [blocked, clean, other], "@all")

    assert report == view.describe_flow(blocked) + "\n\n" + view.describe_flow(clean)
    assert "maskgate_blocked" in report and "PERSON" in report
    for value in (NAME, EMAIL, KEY):
        assert value not in report


def test_report_on_flows_maskgate_never_saw(tmp_path):
    with running_gate(tmp_path) as gate:
        report = _report(gate, [tflow.tflow(resp=True)], "@all")
    assert report == "maskgate: none of these 1 flow(s) went through maskgate."
