"""Matrix products for spaCy's models on numpy's OpenBLAS, in the calling thread only.

thinc, which runs spaCy's models, multiplies matrices with the BLIS it bundles. Most of the
entity recognizer's time goes into a handful of such products per text, and numpy's OpenBLAS
does them three to five times faster on the machines measured (the whole recognizer: 10 ms
instead of 21 ms on 2 KB, 435 ms instead of 775 ms on 100 KB), with the same entities found.

OpenBLAS splits a large product over one thread per core, though, and in a proxy that analyses
several requests at once, on cores shared with everything else on the machine, those threads
mostly wait for each other: measured, the same 2 KB took 70 ms. So OpenBLAS is only used once
it has been told to use one thread. Only the OpenBLAS numpy already loaded is told, and only
where the process's loaded libraries can be listed (Linux); anywhere else thinc keeps BLIS.

The arrays of a long text are large, and the memory they took is handed back to the system
once they are freed (`release_large_blocks`), or the proxy would keep its largest analysis's
worth for good.
"""

from __future__ import annotations

import ctypes
import functools
from contextlib import AbstractContextManager
from pathlib import Path

import numpy  # noqa: F401  (loads numpy's BLAS, so that it is among the mapped libraries)
from thinc.api import use_ops

_SET_THREADS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
"""The thread-count setter under the names OpenBLAS builds export: numpy's wheels carry a
renamed 64-bit-integer build (`scipy_openblas64_`), other builds the plain name."""

_GET_THREADS = tuple(name.replace("set_num", "get_num") for name in _SET_THREADS)


M_MMAP_THRESHOLD = -3
"""glibc's `mallopt` parameter: blocks of at least this many bytes are mapped, and unmapped
again when freed."""

LARGE_BLOCK_BYTES = 1 << 20


@functools.cache
def release_large_blocks() -> bool:
    """Have glibc give every freed block of 1 MB or more back to the system; True if it agreed.

    By default glibc raises that threshold to the size of the largest block freed so far (up
    to 32 MB), and smaller blocks come from the heap, which keeps its high-water mark. The
    entity recognizer's arrays for a 50 KB text peak at 166 MB: with numpy's products the proxy
    then kept 180 MB more for good. A fixed threshold keeps it to a few; at 1 MB the arrays of
    ordinary texts stay on the heap, as fast as before.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) == 1


def model_ops() -> AbstractContextManager[object]:
    """A context in which spaCy pipelines are loaded to run their products on numpy's OpenBLAS
    when it could be made single-threaded, and on thinc's BLIS otherwise."""
    return use_ops("numpy", use_blis=not single_threaded_openblas())


@functools.cache
def single_threaded_openblas() -> bool:
    """Tell every loaded OpenBLAS to use one thread; True if there was one and each obeyed.

    Called once per process: the setting is process-wide and never changes back.
    """
    libraries = _loaded_openblas()
    return bool(libraries) and all(_one_thread(path) for path in libraries)


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process, from `/proc/self/maps`."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    # Fields: address, permissions, offset, device, inode and, for a mapped file, its path.
    paths = {fields[5] for line in maps.splitlines() if len(fields := line.split(maxsplit=5)) == 6}
    return sorted(path for path in paths if "openblas" in Path(path).name.lower())


def _one_thread(path: str) -> bool:
    try:
        library = ctypes.CDLL(path)  # the mapped library again, not a second copy
    except OSError:
        return False
    setter = next((getattr(library, name) for name in _SET_THREADS if hasattr(library, name)), None)
    getter = next((getattr(library, name) for name in _GET_THREADS if hasattr(library, name)), None)
    if setter is None or getter is None:
        return False
    setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
    setter(1)
    return getter() == 1
