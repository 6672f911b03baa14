"""How the detector runs: spaCy's products on a single-threaded OpenBLAS where it can be had,
BLIS elsewhere; the loaded pipeline out of the garbage collector's passes, and freed with it."""

from __future__ import annotations

import ctypes
import gc
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from thinc.api import get_current_ops

from maskgate.detect import blas
from maskgate.detect.engine import Detector, exempt_from_collection

openblas = pytest.mark.skipif(not blas.single_threaded_openblas(), reason="numpy has no OpenBLAS here")


@openblas
def test_every_loaded_openblas_uses_one_thread():
    for path in blas._loaded_openblas():
        library = ctypes.CDLL(path)
        getter = next(getattr(library, name) for name in blas._GET_THREADS if hasattr(library, name))
        assert getter() == 1


@openblas
def test_the_entity_recognizer_multiplies_on_numpy_not_blis(detector: Detector):
    ner = detector._pii._nlp.get_pipe("ner")
    # Its embedding layers do nearly all its matrix products.
    assert {node.ops.use_blis for node in ner.model.get_ref("tok2vec").walk()} == {False}
    with blas.model_ops():
        assert get_current_ops().use_blis is False
    # Building the detector asked glibc to hand large freed blocks back.
    assert blas.release_large_blocks.cache_info().currsize == 1


def test_thinc_keeps_blis_where_openblas_cannot_be_made_single_threaded(monkeypatch):
    monkeypatch.setattr(blas, "single_threaded_openblas", lambda: False)
    with blas.model_ops():
        assert get_current_ops().use_blis is True


def test_no_openblas_is_reported_without_a_map_of_the_loaded_libraries(monkeypatch, tmp_path):
    monkeypatch.setattr(blas, "Path", lambda _: tmp_path / "no-maps")
    assert blas._loaded_openblas() == []


RETAINED = """
import sys
import numpy
from maskgate.detect import blas
if sys.argv[1] == "fixed":
    assert blas.release_large_blocks()
def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
big = numpy.ones(20 << 20, dtype=numpy.uint8)  # freed, it lifts glibc's threshold to 20 MB
del big
before = rss_mb()
blocks = [numpy.ones(4 << 20, dtype=numpy.uint8) for _ in range(20)]
pin = numpy.ones(64 << 10, dtype=numpy.uint8)  # holds the heap's top
del blocks
print(rss_mb() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_large_freed_blocks_go_back_to_the_system():
    def kept_mb(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", RETAINED, mode], capture_output=True, text=True, check=True
        )
        return int(run.stdout)

    assert kept_mb("default") >= 60
    assert kept_mb("fixed") <= 10


class _Owner:
    """Stands in for a detector: it holds objects that refer to each other, as spaCy's do."""

    def __init__(self) -> None:
        self.part = _Owner.__new__(_Owner)
        self.part.itself = self.part


def test_what_a_detector_holds_is_frozen_and_freed_when_the_detector_goes():
    owner = _Owner()
    part = weakref.ref(owner.part)
    exempt_from_collection(owner)
    assert gc.get_freeze_count() > 0
    owner.part = None  # a cycle of garbage now, but frozen: no pass frees it
    gc.collect()
    assert part() is not None
    del owner
    assert part() is None and gc.get_freeze_count() > 0
