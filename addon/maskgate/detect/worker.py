"""The words-only half of an analysis, in a second process while spaCy runs in this one.

Half of a small text's analysis is the entity recognizer, whose matrix products release the
interpreter lock; the other half is the secret engines and the recognizers that need only the
words, which are Python and hold it. On a second thread of the same process the two halves
mostly take turns. In a process of its own the second half truly runs beside the first, and a
2 KB text takes the longer half's time instead of the sum of both.

The worker holds its own secret engines and words-only recognizers, with only the spaCy parts
they read (`PiiDetector` built `words_only`), not the entity recognizer's model. It loads while
the detector's process loads, and serves one analysis at a time. Whatever it cannot do is done
in the detector's process instead, with the same recognizers and so the same findings: an
analysis asked for while it is busy or still starting, and one it failed or died during. A
worker that died is started again, a few times at most.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

from presidio_analyzer import RecognizerResult

from maskgate.detect.pii import PiiDetector
from maskgate.detect.secrets import SecretDetector
from maskgate.detect.types import Detection
from maskgate.policy import Policy
from maskgate.schedule import checkpoint

logger = logging.getLogger("maskgate")

WORKER_PLATFORM = os.name == "posix"
"""The worker is given its end of the pipe as an inherited file descriptor, which Windows lacks."""

MAX_STARTS = 4
"""How often a worker is started for one detector: once, and again after each of three deaths.
A worker that keeps dying costs a start each time; after that, all work stays in this process."""

ANSWER_TIMEOUT_S = 10.0
"""How long an analysis waits for the worker's answer. Its texts are small (large bodies never
use it) and take it well under a second; a worker silent for this long is taken for hung: it is
killed, which counts as a death, and the text is analysed in this process."""

_READY = "ready"

WARM_UP_TEXT = "Write to the office at info@example.com or call +1 212 555 0100 from 192.0.2.1."
"""Touches every lazily loaded part once (spaCy, the phone and e-mail recognizers, the
public suffix list), so the first real request is not the slow one: in the detector's process
(`Detector.warm_up`) and in the worker's, before it says it is ready."""


class WordsFound(NamedTuple):
    """What the words-only half found in a text."""

    secrets: list[Detection]
    personal: list[RecognizerResult]
    """Presidio's results of the words-only recognizers, before duplicates across both halves
    are removed and minimum scores applied (`PiiDetector.merged`)."""


def find_words(pii: PiiDetector, secrets: SecretDetector, text: str) -> WordsFound:
    """The words-only half of the analysis of `text`, in the calling thread."""
    found = secrets.detect(text)
    # On a large-body lane's thread, a small analysis may go first here (`maskgate.schedule`).
    checkpoint()
    return WordsFound(found, pii.words_only(text))


_Compact = tuple[str, int, int, float, str]
"""A words-only result as it crosses the pipe: type, start, end, score and recognizer name,
all that `PiiDetector.merged` reads."""


class _Failed(NamedTuple):
    """The worker's answer when it could not build its detectors or analyse a text."""

    reason: str


class WordsWorker:
    """A second process that runs the words-only half of analyses (see the module docstring).

    `submit` may be called from several threads at once; `close` stops the process.
    """

    def __init__(self, policy: Policy, spacy_model: str) -> None:
        """Start the worker for `policy` with `spacy_model` (as `resolve_spacy_model` gives it)."""
        self._policy = policy
        self._model = spacy_model
        self._busy = threading.Lock()
        """Held from a text's submission until its answer is read: one analysis at a time."""
        self._starts = 0
        self._closed = False
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: Connection | None = None
        self._ready = False
        self._start()

    def submit(self, text: str) -> Callable[[], WordsFound | None] | None:
        """Send `text` to the worker, and return what waits for its answer; None when the worker
        is busy, not started yet, or gone. Either gives None when the worker could not finish:
        the caller then does the work itself.

        What is returned must be called: until it is, the worker serves no one else.
        """
        if not self._busy.acquire(blocking=False):
            return None
        pipe = self._pipe
        if pipe is None or not self._is_ready(pipe):
            self._busy.release()
            return None
        try:
            pipe.send(text)
        except (OSError, ValueError):
            self._lost(pipe)
            self._busy.release()
            return None
        return lambda: self._answer(pipe)

    def ready(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the worker to be ready; True once it is."""
        with self._busy:
            pipe = self._pipe
            return pipe is not None and (self._ready or (pipe.poll(timeout) and self._is_ready(pipe)))

    def close(self) -> None:
        """Stop the worker; analyses in flight finish in this process."""
        self._closed = True
        process, pipe = self._process, self._pipe
        self._process = self._pipe = None
        if pipe is not None:
            pipe.close()
        if process is not None:
            process.terminate()
            _exit_code(process)

    def _answer(self, pipe: Connection) -> WordsFound | None:
        try:
            if not pipe.poll(ANSWER_TIMEOUT_S):
                self._hung(pipe)
                return None
            answer = pipe.recv()
        except (EOFError, OSError):
            self._lost(pipe)
            return None
        finally:
            self._busy.release()
        if isinstance(answer, _Failed):
            logger.debug("maskgate: the words worker could not analyse a text: %s", answer.reason)
            return None
        secrets, personal = answer
        return WordsFound(secrets, [_result(*compact) for compact in personal])

    def _is_ready(self, pipe: Connection) -> bool:
        """True once the worker said it is ready; called with `_busy` held."""
        if self._ready:
            return True
        try:
            if not pipe.poll():
                return False
            message = pipe.recv()
        except (EOFError, OSError):
            self._lost(pipe)
            return False
        if isinstance(message, _Failed):
            # Built from the same rules and model as this process's detectors: it would fail
            # the same way again, so it is not restarted.
            logger.warning("maskgate: the words worker did not start (%s); analysing here", message.reason)
            self._starts = MAX_STARTS
            self._lost(pipe)
            return False
        self._ready = True
        return True

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                env={**os.environ, "PYTHONPATH": os.pathsep.join(_import_path())},
            )
        # Only the worker holds its end now, so its exit is seen here as the end of the pipe.
        pipe = Connection(ours.detach())
        # A worker that dies before reading this is found out when it does not say it is ready.
        with contextlib.suppress(OSError):
            pipe.send((self._policy, self._model))
        self._process, self._pipe, self._ready = process, pipe, False
        self._starts += 1

    def _hung(self, pipe: Connection) -> None:
        """The worker behind `pipe` did not answer in time: kill it, then go on as after a death."""
        process = self._process
        if pipe is not self._pipe or process is None:
            return
        logger.warning("maskgate: the words worker gave no answer in %g s; stopping it", ANSWER_TIMEOUT_S)
        process.kill()
        self._lost(pipe)

    def _lost(self, pipe: Connection) -> None:
        """The worker behind `pipe` is gone: start another while starts are left."""
        if pipe is not self._pipe or self._closed:
            return
        process = self._process
        code = _exit_code(process) if process is not None else None
        pipe.close()
        self._process = self._pipe = None
        if self._starts < MAX_STARTS:
            logger.warning("maskgate: the words worker exited (code %s); starting it again", code)
            self._start()
        else:
            logger.warning("maskgate: the words worker exited (code %s); analysing in this process", code)


_ENTRY = "import sys; from maskgate.detect.worker import serve; serve(int(sys.argv[1]))"
"""The worker process's program. Not `multiprocessing`: its way of starting a process runs the
main script of the proxy's process again, which only works for scripts written for it."""


def _import_path() -> list[str]:
    """Where this process found maskgate (maybe a mitmproxy script's directory) and everything
    else: the worker imports from the same places, whatever put them on the path."""
    here = str(Path(__file__).resolve().parents[2])
    return list(dict.fromkeys([here, *filter(None, sys.path)]))


def _exit_code(process: subprocess.Popen[bytes]) -> int | None:
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def serve(fd: int) -> None:
    """The worker process: build the words-only detectors from the rules and model the proxy
    sends first, then analyse texts until the pipe closes (the proxy stopped or closed it)."""
    # Ctrl-C in a terminal reaches the whole process group; stopping is the proxy's to decide.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pipe = Connection(fd)
    try:
        policy, model = pipe.recv()
        pii = PiiDetector(policy, model, words_only=True)
        secrets = SecretDetector(policy)
        find_words(pii, secrets, WARM_UP_TEXT)
    except EOFError:
        return  # the proxy is gone
    except Exception as e:
        with contextlib.suppress(OSError):
            pipe.send(_Failed(f"{type(e).__name__}: {e}"))
        return
    # What was built lives as long as the process: the collector need not walk it again.
    gc.collect()
    gc.freeze()
    pipe.send(_READY)
    while True:
        try:
            text = pipe.recv()
        except (EOFError, OSError):
            return
        try:
            # Once this process knows enough words, those a text adds go after it.
            with pii.forgetting_words():
                found = find_words(pii, secrets, text)
        except Exception as e:
            # Only the type: the message may quote the text, and this process analyses it again.
            pipe.send(_Failed(type(e).__name__))
            continue
        pipe.send((found.secrets, [_compact(r) for r in found.personal]))


def _compact(result: RecognizerResult) -> _Compact:
    name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
    return (result.entity_type, result.start, result.end, result.score, str(name))


def _result(entity_type: str, start: int, end: int, score: float, recognizer: str) -> RecognizerResult:
    metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: recognizer}
    return RecognizerResult(entity_type, start, end, score, recognition_metadata=metadata)
