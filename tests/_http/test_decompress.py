"""Streaming body decoders: every coding, any split, corrupt and truncated data, bombs."""

from __future__ import annotations

import bz2
import gzip
import itertools
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import brotli
import pytest
import zstandard
from hypothesis import given, settings, strategies as st

from aiohyper._http import _decompress
from aiohyper._http._decompress import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    SUPPORTED_ENCODINGS,
    DecompressingSink,
    accept_encoding_header,
    make_decoder,
)
from aiohyper._http._zlib import zlib_backend
from aiohyper.http_exceptions import ContentEncodingError, DecompressSizeError

MiB = 1 << 20


class Collector:
    """Stands in for the StreamReader: keeps (or just counts) what the sink feeds it."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.data = bytearray()
        self.size = 0
        self.biggest = 0
        self.eof = False
        self.events: list[str] = []
        self.exc: BaseException | None = None

    def feed_data(self, data: bytes) -> None:
        self.size += len(data)
        self.biggest = max(self.biggest, len(data))
        if self.keep:
            self.data += data

    def feed_eof(self) -> None:
        self.eof = True

    def set_exception(self, exc: BaseException) -> None:
        self.exc = exc

    def begin_http_chunk_receiving(self) -> None:
        self.events.append("begin")

    def end_http_chunk_receiving(self) -> None:
        self.events.append("end")


def sink_for(encoding: str, **kwargs: Any) -> tuple[DecompressingSink, Collector]:
    out = Collector(keep=kwargs.pop("keep", True))
    return DecompressingSink(out, encoding, **kwargs), out  # type: ignore[arg-type]


PAYLOAD = b"".join(b"line %d of a compressible body\n" % i for i in range(3000)) + bytes(
    range(256)
)

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda d: gzip.compress(d),
    "deflate": lambda d: zlib.compress(d),
    "deflate-raw": lambda d: (lambda c: c.compress(d) + c.flush())(zlib.compressobj(wbits=-15)),
    "br": lambda d: brotli.compress(d),
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
}


def coding(name: str) -> str:
    return name.removesuffix("-raw")


def test_supported_encodings_and_accept_header() -> None:
    assert SUPPORTED_ENCODINGS == ("gzip", "deflate", "br", "zstd")
    assert accept_encoding_header() == "gzip, deflate, br, zstd"
    assert 32 * MiB == DEFAULT_MAX_DECOMPRESSED_SIZE


@pytest.mark.parametrize("name", list(ENCODERS))
@pytest.mark.parametrize("piece", [None, 1, 7, 1000])
def test_round_trip(name: str, piece: int | None) -> None:
    data = ENCODERS[name](PAYLOAD)
    sink, out = sink_for(coding(name))
    if piece is None:
        sink.feed_data(data)
    else:
        for i in range(0, len(data), piece):
            sink.feed_data(data[i : i + piece])
    sink.feed_eof()
    assert bytes(out.data) == PAYLOAD
    assert out.eof
    if coding(name) in ("gzip", "deflate"):
        assert out.biggest <= 2**16  # zlib honours max_length exactly


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(list(ENCODERS)),
    body=st.binary(max_size=3000),
    cuts=st.lists(st.integers(0, 5000), max_size=8),
)
def test_any_split_decodes_the_same(name: str, body: bytes, cuts: list[int]) -> None:
    data = ENCODERS[name](body)
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    sink, out = sink_for(coding(name))
    for a, b in itertools.pairwise(bounds):
        sink.feed_data(data[a:b])
    sink.feed_eof()
    assert bytes(out.data) == body


def test_gzip_multiple_members_and_zero_padding() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second") + b"\0" * 16
    sink, out = sink_for("gzip")
    for i in range(len(data)):
        sink.feed_data(data[i : i + 1])
    sink.feed_eof()
    assert bytes(out.data) == b"first second"


def test_zstd_multiple_frames() -> None:
    cctx = zstandard.ZstdCompressor()
    data = cctx.compress(b"one ") + cctx.compress(b"two")
    sink, out = sink_for("zstd")
    sink.feed_data(data)
    sink.feed_eof()
    assert bytes(out.data) == b"one two"


def test_deflate_detects_zlib_header_split_across_feeds() -> None:
    data = zlib.compress(b"hello")
    sink, out = sink_for("deflate")
    sink.feed_data(data[:1])
    sink.feed_data(data[1:])
    sink.feed_eof()
    assert bytes(out.data) == b"hello"


def test_deflate_data_after_end_is_an_error() -> None:
    sink, _ = sink_for("deflate")
    with pytest.raises(ContentEncodingError):
        sink.feed_data(zlib.compress(b"x") + b"garbage")


@pytest.mark.parametrize("name", list(ENCODERS))
def test_corrupt_data(name: str) -> None:
    sink, _ = sink_for(coding(name))
    with pytest.raises(ContentEncodingError):
        sink.feed_data(b"\x1f\x8b\x08\x00 this is not compressed at all " * 4)
        sink.feed_eof()


@pytest.mark.parametrize("name", list(ENCODERS))
def test_truncated_stream(name: str) -> None:
    data = ENCODERS[name](PAYLOAD)
    sink, out = sink_for(coding(name))
    sink.feed_data(data[: len(data) // 2])
    with pytest.raises(ContentEncodingError):
        sink.feed_eof()
    assert not out.eof


@pytest.mark.parametrize("name", ["gzip", "deflate", "br", "zstd"])
def test_empty_body_is_fine(name: str) -> None:
    sink, out = sink_for(name)
    sink.feed_data(b"")
    sink.feed_eof()
    assert out.eof and out.size == 0


def test_chunk_events_and_exceptions_forwarded() -> None:
    sink, out = sink_for("gzip")
    sink.begin_http_chunk_receiving()
    sink.end_http_chunk_receiving()
    exc = ValueError("boom")
    sink.set_exception(exc)
    assert out.events == ["begin", "end"]
    assert out.exc is exc


def test_unknown_or_unavailable_coding(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ContentEncodingError) as info:
        make_decoder("compress")
    assert info.value.code == 415
    monkeypatch.setattr(_decompress, "_brotli", None)
    with pytest.raises(ContentEncodingError) as info:
        make_decoder("br")
    assert info.value.code == 415
    assert "brotli" in info.value.message


def test_zlib_backend_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def decompressobj(wbits: int) -> Any:
        calls.append(wbits)
        return zlib.decompressobj(wbits=wbits)

    monkeypatch.setattr(
        zlib_backend, "module", SimpleNamespace(decompressobj=decompressobj, MAX_WBITS=15)
    )
    sink, out = sink_for("gzip")
    sink.feed_data(gzip.compress(b"via backend"))
    sink.feed_eof()
    assert bytes(out.data) == b"via backend"
    assert calls == [31]


def test_stdlib_style_zstd_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compression.zstd / backports.zstd code path, driven by bz2 (the same streaming API:
    ``decompress(data, max_length)``, ``eof``, ``needs_input``, ``unused_data``)."""
    monkeypatch.setattr(
        _decompress, "_zstd", SimpleNamespace(ZstdDecompressor=bz2.BZ2Decompressor)
    )
    monkeypatch.setattr(_decompress, "_zstd_has_max_length", True)
    big = bytes(3 * MiB)
    data = bz2.compress(big) + bz2.compress(b"second frame")
    sink, out = sink_for("zstd", keep=False)
    for i in range(0, len(data), 100):
        sink.feed_data(data[i : i + 100])
    sink.feed_eof()
    assert out.size == len(big) + len(b"second frame")
    assert out.biggest <= 2**16
    sink, out = sink_for("zstd", keep=False, max_size=MiB)
    with pytest.raises(DecompressSizeError):
        sink.feed_data(data)
    assert out.size <= MiB


def test_old_brotli_without_output_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """brotli < 1.2 (and brotlicffi) cannot limit output per call: still decodes, and the cap is
    enforced after each call."""

    class OldDecompressor:
        def __init__(self) -> None:
            self._d = brotli.Decompressor()

        def process(self, data: bytes) -> bytes:
            result: bytes = self._d.process(data)
            return result

        def is_finished(self) -> bool:
            return bool(self._d.is_finished())

    monkeypatch.setattr(_decompress, "_brotli", SimpleNamespace(Decompressor=OldDecompressor))
    sink, out = sink_for("br")
    sink.feed_data(brotli.compress(PAYLOAD))
    sink.feed_eof()
    assert bytes(out.data) == PAYLOAD
    sink, out = sink_for("br", max_size=1000)
    with pytest.raises(DecompressSizeError):
        sink.feed_data(brotli.compress(PAYLOAD))
    assert out.size == 0


def test_no_cap() -> None:
    data = gzip.compress(bytes(40 * MiB), compresslevel=1)
    sink, out = sink_for("gzip", keep=False, max_size=None)
    sink.feed_data(data)
    sink.feed_eof()
    assert out.size == 40 * MiB


def test_exact_cap_is_allowed() -> None:
    sink, out = sink_for("gzip", max_size=1000)
    sink.feed_data(gzip.compress(bytes(1000)))
    sink.feed_eof()
    assert out.size == 1000
    sink, out = sink_for("gzip", max_size=999)
    with pytest.raises(DecompressSizeError):
        sink.feed_data(gzip.compress(bytes(1000)))
    assert out.size <= 999


# -- decompression bombs -----------------------------------------------------------------------


def gzip_zeros(total: int, block: int = MiB) -> Iterator[bytes]:
    """``total`` zero bytes gzipped, produced block by block: after a full flush every block of
    zeros compresses to the same bytes, so 1 GiB costs one block of work and ~1 MB of output."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(block)
    yield c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    repeated = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    for _ in range(total // block - 1):
        yield repeated


def zstd_zeros(total: int) -> Iterator[bytes]:
    c = zstandard.ZstdCompressor(level=1).compressobj()
    zeros = bytes(MiB)
    for _ in range(total // MiB):
        yield c.compress(zeros)
    yield c.flush()


def br_zeros(total: int) -> Iterator[bytes]:
    c = brotli.Compressor(quality=1)
    zeros = bytes(MiB)
    for _ in range(total // MiB):
        yield c.process(zeros)
    yield c.finish()


@pytest.mark.parametrize(
    ("encoding", "stream", "cap"),
    [
        ("gzip", lambda: gzip_zeros(1 << 30), DEFAULT_MAX_DECOMPRESSED_SIZE),
        ("zstd", lambda: zstd_zeros(64 * MiB), 8 * MiB),
        ("br", lambda: br_zeros(64 * MiB), 8 * MiB),
    ],
    ids=["gzip-1GiB", "zstd-64MiB", "br-64MiB"],
)
def test_bomb_stops_at_cap_with_bounded_memory(
    encoding: str, stream: Callable[[], Iterator[bytes]], cap: int
) -> None:
    sink, out = sink_for(encoding, keep=False, max_size=cap)
    fed = 0
    tracemalloc.start()
    try:
        with pytest.raises(DecompressSizeError):
            for piece in stream():
                fed += len(piece)
                sink.feed_data(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cap // 2 < out.size <= cap
    assert peak < 4 * MiB, peak  # never the expansion, only bounded pieces
    assert fed < cap // 10  # stopped early in the compressed stream too
