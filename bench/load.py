"""Section 4: small requests while eight large ones are being analysed, through the real proxy.

The load runs through a real mitmdump with maskgate, so the figures include whatever the addon
does to keep one request's analysis from holding up another (threads, processes, queues).
Eight client threads each keep one 50 KB request in flight, sending the next as soon as the last
is answered; meanwhile 1 KB requests are sent one at a time and timed. The same kind of small
requests are timed first on the idle proxy. Every request, large or small, is new text: no
analysis can be reused. All requests are non-streamed; the fake echoes the last user message.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.e2e.fake_openai import FakeOpenAI

from bench import proxy, texts
from bench.report import AIMS, ms

IN_FLIGHT = 8
LOAD_KB = 50
SMALL_KB = 1
WARM_UP = 3
PAUSE_S = 0.05
"""Between two small requests, so they sample the load rather than form one of their own."""
SETTLE_S = 1.0
"""After the load starts, before timing: every large request has reached the proxy by then."""


def concurrency(small: int, budget_s: float, workdir: Path) -> dict[str, Any]:
    """`small` timed small requests idle, then as many under load as `budget_s` allows."""
    with ExitStack() as stack:
        fake = stack.enter_context(FakeOpenAI())
        running = stack.enter_context(
            proxy.mitmdump(
                proxy.MASKGATE_SCRIPTS, fake.url, workdir / "maskgate", workdir / "load-maskgate.log"
            )
        )
        proxy.wait_ready(running, proxy.READY_MARKER)
        http = stack.enter_context(proxy.client(running))
        _small_requests(http, "warm-up", WARM_UP, float("inf"))
        idle = _small_requests(http, "idle", small, float("inf"))
        load = _Load(running)
        load.start()
        time.sleep(SETTLE_S)
        loaded = _small_requests(http, "loaded", small, budget_s)
        load.stop()
    return _report(idle, loaded, load.answers)


def _small_requests(http: Any, phase: str, count: int, budget_s: float) -> list[proxy.Answered]:
    """Up to `count` new 1 KB requests, one at a time, until `budget_s` has passed."""
    deadline = time.perf_counter() + budget_s
    answers = []
    for n in range(count):
        if time.perf_counter() > deadline:
            break
        body = texts.sized_body("prose", SMALL_KB * texts.KB, f"small:{phase}:{n}")
        answers.append(proxy.post(http, proxy.CHAT_URL, texts.encode(body)))
        time.sleep(PAUSE_S)
    return answers


class _Load:
    """`IN_FLIGHT` threads, each keeping one new large request in flight until stopped."""

    def __init__(self, running: proxy.Proxy) -> None:
        self._proxy = running
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answers: list[proxy.Answered] = []
        self._threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(IN_FLIGHT)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop sending; wait for the requests in flight to be answered."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, worker: int) -> None:
        with proxy.client(self._proxy) as http:
            n = 0
            while not self._stop.is_set():
                body = texts.sized_body("mixed", LOAD_KB * texts.KB, f"load:{worker}:{n}")
                answer = proxy.post(http, proxy.CHAT_URL, texts.encode(body))
                with self._lock:
                    self.answers.append(answer)
                n += 1


def _report(
    idle: list[proxy.Answered], loaded: list[proxy.Answered], load: list[proxy.Answered]
) -> dict[str, Any]:
    idle_ms, loaded_ms = ms([a.seconds for a in idle]), ms([a.seconds for a in loaded])
    delay = round(loaded_ms["max_ms"] - idle_ms["median_ms"], 1)
    return {
        "in_flight": IN_FLIGHT,
        "load_kb": LOAD_KB,
        "small_kb": SMALL_KB,
        "idle": {**idle_ms, "failed": _failed(idle)},
        "loaded": {**loaded_ms, "failed": _failed(loaded)},
        "large": {**ms([a.seconds for a in load]), "failed": _failed(load)} if load else None,
        "worst_delay_ms": delay,
        "aims": {"small_request_worst_delay": AIMS["small_request_delay"].check(delay)},
    }


def _failed(answers: list[proxy.Answered]) -> dict[str, int]:
    """How many answers had which non-200 status (maskgate refuses what it could not analyse)."""
    counts: dict[str, int] = {}
    for answer in answers:
        if answer.status != 200:
            counts[str(answer.status)] = counts.get(str(answer.status), 0) + 1
    return counts
