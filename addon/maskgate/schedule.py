"""Small analyses first: large ones step aside for them at safe points.

Analysis is mostly Python, and threads take turns on one interpreter lock, which knows no
priorities: a 1 KB request analysed beside two 50 KB ones gets a third of the interpreter and
takes three times as long. So the large analyses yield by themselves. Their threads (the
deferrable lane) call `checkpoint` between stages of their work, and there wait, without
holding the lock, while any small analysis (the urgent lane) is queued or running. A small
request then shares the interpreter only until each large analysis reaches its next
checkpoint, and after that runs alone.

Checkpoints cost nothing on threads that are not in a deferrable lane (tests, the command
line), so detection code can place them freely. Urgent work has one thread: were small
requests to keep it busy without a pause, large analyses would wait until the policy's
analysis time limit refuses them, as they would behind any full queue.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_lane = threading.local()
"""On a deferrable lane's threads, `urgency` is the `_Urgency` they defer to."""


class _Urgency:
    """How many urgent tasks are queued or running; deferrable threads wait until none are."""

    def __init__(self) -> None:
        self.pending = 0
        self._none_pending = threading.Condition()

    def begin(self) -> None:
        with self._none_pending:
            self.pending += 1

    def end(self) -> None:
        with self._none_pending:
            self.pending -= 1
            if not self.pending:
                self._none_pending.notify_all()

    def wait(self) -> None:
        with self._none_pending:
            self._none_pending.wait_for(lambda: not self.pending)


def deferrable() -> bool:
    """True on a deferrable lane's threads, whose work leaves the other core to urgent work."""
    return getattr(_lane, "urgency", None) is not None


def checkpoint() -> None:
    """A point where the calling thread's work may pause: on a deferrable lane's thread, wait
    while urgent work is queued or running; on any other thread, return at once."""
    urgency: _Urgency | None = getattr(_lane, "urgency", None)
    # Read without the lock first: it is taken only when there is something to wait for.
    if urgency is not None and urgency.pending:
        urgency.wait()


def beside[R](fn: Callable[..., R], /, *args: Any) -> Callable[[], R]:
    """Start `fn(*args)` on a second thread, and return what waits for its result: work that
    releases the interpreter lock on one thread then leaves it to the other, and a small
    analysis has both cores. On a deferrable lane's threads, whose work leaves the other core
    to urgent work, `fn` runs only when its result is asked for, on the asking thread."""
    if deferrable():
        return functools.partial(fn, *args)
    return _second_thread().submit(fn, *args).result


@functools.cache
def _second_thread() -> ThreadPoolExecutor:
    """One thread for `beside`, shared by every caller: work given to it runs in turn."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="maskgate-beside")


class _UrgentExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks count as urgent from submission until they are done."""

    def __init__(self, urgency: _Urgency, thread_name_prefix: str) -> None:
        super().__init__(max_workers=1, thread_name_prefix=thread_name_prefix)
        self._urgency = urgency

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        # Counted before it is queued, so deferrable work steps aside while it waits for a thread.
        self._urgency.begin()
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._urgency.end()
            raise
        # Also called for a task cancelled unrun (at shutdown), so the count always comes down.
        future.add_done_callback(lambda _: self._urgency.end())
        return future


def _defer_to(urgency: _Urgency) -> None:
    _lane.urgency = urgency


class Lanes:
    """Two thread pools: `urgent` for small analyses, `deferrable` for large ones, whose
    threads pause at each `checkpoint` while urgent work is queued or running."""

    def __init__(self, name: str, deferrable_workers: int) -> None:
        urgency = _Urgency()
        self.urgent: ThreadPoolExecutor = _UrgentExecutor(urgency, f"{name}-small")
        self.deferrable = ThreadPoolExecutor(
            max_workers=deferrable_workers,
            thread_name_prefix=name,
            initializer=_defer_to,
            initargs=(urgency,),
        )

    def shutdown(self) -> None:
        """Stop both pools without waiting; tasks not yet started are cancelled."""
        self.urgent.shutdown(wait=False, cancel_futures=True)
        self.deferrable.shutdown(wait=False, cancel_futures=True)
