"""Decompress a streamed answer on the fly, for the restorer to read plain SSE.

maskgate asks upstream for an uncompressed answer, but a server may compress anyway;
then the stream callable sees compressed bytes and could not find a single event.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Iterable

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

StreamCallable = Callable[[bytes], bytes | Iterable[bytes]]


def _zlib(wbits: int) -> Callable[[], tuple[Callable[[bytes], bytes], Callable[[], bytes]]]:
    def make() -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
        d = zlib.decompressobj(wbits=wbits)
        return d.decompress, d.flush

    return make


def _brotli() -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    d = brotli.Decompressor()
    return d.process, lambda: b""


def _zstd() -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    d = zstd.ZstdDecompressor()
    return d.decompress, lambda: b""


_DECODERS = {
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "deflate": _zlib(32 + zlib.MAX_WBITS),  # zlib-wrapped or gzip, detected from the header
    "br": _brotli,
    "zstd": _zstd,
}
SUPPORTED = frozenset(_DECODERS)


class DecodingStream:
    """Wraps a stream callable: decompresses each read, then hands plain bytes on.

    Keeps the stream-callable contract: an empty read is passed on only once, at the end.
    """

    def __init__(self, encoding: str, inner: StreamCallable) -> None:
        self._decompress, self._flush = _DECODERS[encoding]()
        self._inner = inner

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        if data:
            plain = self._decompress(data)
            return self._inner(plain) if plain else []
        out = []
        if tail := self._flush():
            out.append(self._inner(tail))
        out.append(self._inner(b""))
        return [chunk for part in out for chunk in ([part] if isinstance(part, bytes) else part) if chunk]
