"""The "maskgate" content view: what maskgate did to a flow, as readable text.

mitmweb never shows `flow.metadata`, so this view renders it: the comment line, a table
of detections, the answer's restore summary, and why a flow was refused or needs
attention. It is the automatic choice on the request of every flow maskgate handled,
because a streamed answer has no stored body to hang a view on; the masked request body
is still one click away in the JSON view.

Like the metadata it reads, it shows types, placeholders, lengths and keyed fingerprints,
never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mitmproxy import contentviews, flow, http

from maskgate.annotate import METADATA_KEY, comment_for

PRIORITY = 2
"""Above the JSON view (1 for `application/json`), so "auto" picks this view."""

COLUMNS = ("FIELD", "TYPE", "ACTION", "PLACEHOLDER", "SCORE", "ENGINE/RECOGNIZER", "LENGTH", "FINGERPRINT")


class MaskGateContentview(contentviews.Contentview):
    """Renders a flow's maskgate record; the message body itself is not read."""

    name = "maskgate"
    syntax_highlight = "none"

    def prettify(self, data: bytes, metadata: contentviews.Metadata) -> str:
        if not isinstance(metadata.flow, http.HTTPFlow):
            raise ValueError("not an HTTP flow")
        return describe_flow(metadata.flow)

    def render_priority(self, data: bytes, metadata: contentviews.Metadata) -> float:
        f = metadata.flow
        if isinstance(f, http.HTTPFlow) and METADATA_KEY in f.metadata and metadata.http_message is f.request:
            return PRIORITY
        return -1


def describe_flow(f: flow.Flow) -> str:
    """Everything maskgate recorded on `f`, as aligned plain text."""
    meta = f.metadata.get(METADATA_KEY)
    if meta is None:
        return "maskgate: not a guarded flow (nothing recorded)"
    sections = [
        [comment_for(meta)],
        ["Detections", *_detections(meta)],
        ["Answer", *_answer(f, meta)],
    ]
    if refused := meta.get("refused"):
        sections.append(["Refused", _indented(f"{refused['code']}: {refused['reason']}")])
    if cause := meta.get("failed_open"):
        sections.append(["Forwarded unmasked", _indented(f"on_failure: open: {cause}")])
    if meta.get("inspected") is False:
        sections.append(["Not inspected", _indented(f"{meta['endpoint']} is not an endpoint maskgate reads")])
    if problem := meta.get("rules_error"):
        sections.append(["Rules warning", _indented(f"last good rules kept: {problem}")])
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def _detections(meta: Mapping[str, Any]) -> list[str]:
    if "analysis_ms" not in meta:
        return ["  none recorded: the request was not analysed to the end (see below)"]
    detections = meta.get("detections", [])
    if not detections:
        return ["  no detections"]
    rows = [COLUMNS, *(_row(d) for d in detections)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.append(f"  {len(detections)} occurrence(s), analysed in {meta['analysis_ms']:g} ms")
    return lines


def _row(d: Mapping[str, Any]) -> tuple[str, ...]:
    engine = f"{d['engine']}/{d['recognizer']}" + (" (propagated)" if d["propagated"] else "")
    return (
        d["path"],
        d["type"],
        d["action"],
        d["placeholder"] or "-",
        f"{d['score']:.2f}",
        engine,
        str(d["length"]),
        d.get("fingerprint") or "-",
    )


def _answer(f: flow.Flow, meta: Mapping[str, Any]) -> list[str]:
    response = f.response if isinstance(f, http.HTTPFlow) else None
    streamed = response is not None and bool(response.stream)
    restore = meta.get("restore")
    if restore is None:
        if "refused" in meta:
            return ["  none from the API: maskgate answered with an error (see Refused)"]
        if not any(d["placeholder"] for d in meta.get("detections", [])):
            return ["  passed on as it came: nothing was masked"]
        if f.error is not None:
            return ["  no answer: the connection failed"]
        if streamed:
            return ["  streaming: the summary follows when the answer ends"]
        return ["  no answer yet"]
    lines = ["  streamed: the answer's body is not stored, this is its summary"] if streamed else []
    if "restored" in restore:
        lines += [
            _id_line("restored", restore["restored"]),
            _id_line("kept redacted", restore["redacted"]),
            _id_line("not returned", restore["not_returned"]),
            _id_line("unresolved", restore["unresolved"], "never issued, written by the model"),
        ]
    if restore["note"]:
        lines.append(f"  {restore['note']}")
    return lines


def _id_line(label: str, ids: Mapping[str, Any], meaning: str = "") -> str:
    """`label`, the count of distinct placeholders, and the ids kept of them."""
    shown: Sequence[str] = ids["ids"]
    line = f"  {label:<14}{ids['count']:>4}"
    if shown:
        more = ids["count"] - len(shown)
        line += "  " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    if meaning and ids["count"]:
        line += f"  ({meaning})"
    return line


def _indented(text: str) -> str:
    """`text` under its section title; a reason may span lines (a YAML error does)."""
    return "\n".join(f"  {line}" for line in text.splitlines())
