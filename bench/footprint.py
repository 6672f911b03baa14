"""Section 5: start-up time, and resident memory after start and after many requests.

Start-up is timed from launching mitmdump until maskgate logs "maskgate ready", until the port
takes connections, and until a first request through the proxy is answered (the socket takes
connections long before mitmproxy serves them). Each proxy starts several times with its CA
already in place, as on a user's machine; plain mitmdump gives the floor. The aim is held
against the first answer. Memory is the VmRSS of the mitmdump process, alone and with any child
processes it started, read from /proc once it stops growing after start (maskgate's worker loads
after the proxy answers) and every so many requests. The requests are
new 2 KB texts, prose and code in turns: a detection cache only fills up, so its bound and
eviction show here.
"""

from __future__ import annotations

import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.e2e.fake_openai import FakeOpenAI

from bench import proxy, texts
from bench.report import AIMS

REQUEST_KB = 2
SAMPLE_EVERY = 100
SETTLE_S = 0.5
SETTLE_LIMIT_S = 15.0


def footprint(requests: int, starts: int, workdir: Path) -> dict[str, Any]:
    """`starts` timed start-ups of each proxy; `requests` requests through the first maskgate one."""
    with FakeOpenAI() as fake:
        plain = [_start(proxy.PLAIN_SCRIPTS, None, fake.url, workdir, f"plain-{n}") for n in range(starts)]
        maskgate = [
            _start(proxy.MASKGATE_SCRIPTS, proxy.READY_MARKER, fake.url, workdir, "maskgate-0", requests)
        ]
        maskgate += [
            _start(proxy.MASKGATE_SCRIPTS, proxy.READY_MARKER, fake.url, workdir, f"maskgate-{n}")
            for n in range(1, starts)
        ]
    memory = maskgate[0]["memory"]
    startup_s = _median(maskgate, "answer_s")
    return {
        "starts": starts,
        "requests": requests,
        "plain": {**_startups(plain), "rss_after_start": plain[0]["memory"][0]},
        "maskgate": {**_startups(maskgate), "memory": memory, "failed": maskgate[0]["failed"]},
        "aims": {
            "startup": AIMS["startup"].check(startup_s),
            "rss_after_requests": AIMS["rss"].check(memory[-1]["with_children_mb"]),
        },
    }


def _startups(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each start-up's timings and their medians."""
    return {
        "startups": [{k: v for k, v in run.items() if k != "memory"} for run in runs],
        **{key: _median(runs, key) for key in ("ready_s", "port_s", "answer_s")},
    }


def _start(
    scripts: tuple[str, ...], marker: str | None, upstream: str, workdir: Path, name: str, requests: int = 0
) -> dict[str, Any]:
    """One start-up, timed; memory after it and, with `requests`, every `SAMPLE_EVERY` requests."""
    confdir = workdir / ("maskgate" if marker else "plain")
    with ExitStack() as stack:
        running = stack.enter_context(proxy.mitmdump(scripts, upstream, confdir, workdir / f"{name}.log"))
        startup = proxy.wait_ready(running, marker)
        pid = running.process.pid
        memory = [{"requests": 0, **_settled_rss_mb(pid)}]
        failed = 0
        if requests:
            http = stack.enter_context(proxy.client(running))
            for n in range(1, requests + 1):
                kind = "prose" if n % 2 else "code"
                body = texts.sized_body(kind, REQUEST_KB * texts.KB, f"footprint:{n}")
                failed += proxy.post(http, proxy.CHAT_URL, texts.encode(body)).status != 200
                if n % SAMPLE_EVERY == 0 or n == requests:
                    memory.append({"requests": n, **proxy.rss_mb(pid)})
    ready_s = round(startup.ready_s, 2) if startup.ready_s is not None else None
    return {
        "name": name,
        "ready_s": ready_s,
        "port_s": round(startup.port_s, 2),
        "answer_s": round(startup.answer_s, 2),
        "memory": memory,
        "failed": failed,
    }


def _settled_rss_mb(pid: int) -> dict[str, float]:
    """`proxy.rss_mb` once the proxy and its child processes (maskgate's worker, which loads
    after the proxy answers) stop growing: two readings `SETTLE_S` apart within 1 MB, or at most
    `SETTLE_LIMIT_S` after the start."""
    deadline = time.monotonic() + SETTLE_LIMIT_S
    before = proxy.rss_mb(pid)
    while time.monotonic() < deadline:
        time.sleep(SETTLE_S)
        now = proxy.rss_mb(pid)
        if abs(now["with_children_mb"] - before["with_children_mb"]) < 1:
            return now
        before = now
    return before


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run[key] is not None]
    return round(statistics.median(values), 2) if values else None
