"""Compressed event streams are decoded before the restorer reads them."""

import gzip
import zlib

import brotli
import pytest

from maskgate.restore.decode import SUPPORTED, DecodingStream, zstd

STREAM = b'data: {"choices": []}\n\n' * 50 + b"data: [DONE]\n\n"
COMPRESS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}


class Recorder:
    """A stream callable that records what it is given and echoes it."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        self.calls.append(data)
        return data or []


@pytest.mark.parametrize("encoding", sorted(SUPPORTED))
@pytest.mark.parametrize("read_size", [1, 7, 4096])
def test_every_encoding_decodes_across_any_read_size(encoding, read_size):
    compressed = COMPRESS[encoding](STREAM)
    inner = Recorder()
    stream = DecodingStream(encoding, inner)
    out = b""
    for i in range(0, len(compressed), read_size):
        result = stream(compressed[i : i + read_size])
        assert result != b"", "an empty bytes result would end an HTTP/1.1 response"
        out += result if isinstance(result, bytes) else b"".join(result)
    out += b"".join(stream(b""))
    assert out == STREAM
    assert inner.calls[-1] == b"" and b"" not in inner.calls[:-1]
