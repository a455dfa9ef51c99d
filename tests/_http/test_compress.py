"""Streaming encoders: each coding decodes back with the reference library."""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import brotli
import pytest
import zstandard

from aiohyper._http import _compress
from aiohyper._http._compress import (
    BrotliCompressor,
    ZLibCompressor,
    ZstdCompressor,
    available_encodings,
    get_compressor,
)
from aiohyper._http._zlib import set_zlib_backend, zlib_backend

PAYLOAD = b"".join(b"line %d of a fairly compressible body\n" % i for i in range(2000))


def decode(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return zlib.decompress(data, wbits=16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompress(data)  # zlib container, not raw deflate
    if encoding == "br":
        return brotli.decompress(data)  # type: ignore[no-any-return]
    if encoding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)  # type: ignore[no-any-return,unused-ignore]
    raise AssertionError(encoding)


ENCODINGS = ["gzip", "deflate", "br", "zstd"]


def test_available_encodings() -> None:
    assert available_encodings() == frozenset(ENCODINGS)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_roundtrip_in_pieces(encoding: str) -> None:
    comp = get_compressor(encoding)
    assert comp.encoding == encoding
    out = [comp.compress(PAYLOAD[i : i + 1000]) for i in range(0, len(PAYLOAD), 1000)]
    out.append(comp.flush())
    coded = b"".join(out)
    assert len(coded) < len(PAYLOAD) // 4
    assert decode(encoding, coded) == PAYLOAD


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_empty_stream_is_valid(encoding: str) -> None:
    comp = get_compressor(encoding)
    assert decode(encoding, comp.flush()) == b""


def test_gzip_and_deflate_containers() -> None:
    assert get_compressor("GZIP").encoding == "gzip"
    assert get_compressor("x-gzip").encoding == "gzip"
    comp = get_compressor("gzip")
    coded = comp.compress(b"abc") + comp.flush()
    assert coded[:2] == b"\x1f\x8b"
    comp = get_compressor("deflate")
    coded = comp.compress(b"abc") + comp.flush()
    assert coded[0] & 0x0F == 8  # zlib header: CM = deflate


def test_raw_deflate_and_sync_flush() -> None:
    comp = ZLibCompressor(wbits=-zlib.MAX_WBITS)
    data = comp.compress(b"hello") + comp.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(data) == b"hello"


def test_level_and_strategy_are_used() -> None:
    fast = ZLibCompressor("gzip", level=1)
    best = ZLibCompressor("gzip", level=9)
    huff = ZLibCompressor("gzip", strategy=zlib.Z_HUFFMAN_ONLY)
    sizes = {}
    for name, comp in (("fast", fast), ("best", best), ("huff", huff)):
        coded = comp.compress(PAYLOAD) + comp.flush()
        assert decode("gzip", coded) == PAYLOAD
        sizes[name] = len(coded)
    # Huffman-only cannot use repeats, so it does far worse on repetitive text.
    assert sizes["huff"] > 2 * sizes["best"]
    assert sizes["fast"] >= sizes["best"]


def test_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="Unknown content coding 'compress'"):
        get_compressor("compress")
    with pytest.raises(ValueError):
        get_compressor("identity")
    with pytest.raises(ValueError):
        ZLibCompressor("br")


def test_unavailable_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_compress, "_brotli", None)
    monkeypatch.setattr(_compress, "_zstd", None)
    with pytest.raises(NotImplementedError, match="brotli"):
        get_compressor("br")
    with pytest.raises(NotImplementedError, match="zstd"):
        get_compressor("zstd")


def test_brotli_default_quality_is_fast() -> None:
    comp = BrotliCompressor()
    coded = comp.compress(PAYLOAD) + comp.flush()
    assert decode("br", coded) == PAYLOAD
    comp = BrotliCompressor(level=11)
    assert decode("br", comp.compress(PAYLOAD) + comp.flush()) == PAYLOAD


def test_zstd_level() -> None:
    comp = ZstdCompressor(level=1)
    assert decode("zstd", comp.compress(PAYLOAD) + comp.flush()) == PAYLOAD


class _RecordingZlib:
    """A zlib-compatible module that records compressobj() arguments."""

    MAX_WBITS = zlib.MAX_WBITS
    Z_FINISH = zlib.Z_FINISH
    compress = staticmethod(zlib.compress)
    decompress = staticmethod(zlib.decompress)
    decompressobj = staticmethod(zlib.decompressobj)

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def compressobj(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return zlib.compressobj(**kwargs)


@pytest.fixture
def recording_zlib() -> Iterator[_RecordingZlib]:
    saved = zlib_backend.module
    fake = _RecordingZlib()
    set_zlib_backend(fake)  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        zlib_backend.module = saved


def test_backend_is_read_at_construction(recording_zlib: _RecordingZlib) -> None:
    comp = get_compressor("gzip", strategy=zlib.Z_FILTERED)
    assert recording_zlib.calls == [{"wbits": 16 + zlib.MAX_WBITS, "strategy": zlib.Z_FILTERED}]
    assert decode("gzip", comp.compress(b"data") + comp.flush()) == b"data"
    get_compressor("deflate", level=3)
    # strategy is left out when not asked for: some backends do not accept it.
    assert recording_zlib.calls[1] == {"wbits": zlib.MAX_WBITS, "level": 3}


class _CountingExecutor(Executor):
    def __init__(self) -> None:
        self.inner = ThreadPoolExecutor(max_workers=1)
        self.sizes: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sizes.append(len(args[0]))
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait, cancel_futures=cancel_futures)


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_compress_async_offloads_large_pieces(encoding: str) -> None:
    executor = _CountingExecutor()
    try:
        comp = get_compressor(encoding, max_sync_chunk_size=1000, executor=executor)
        small = await comp.compress_async(PAYLOAD[:1000])
        assert executor.sizes == []
        big = await comp.compress_async(PAYLOAD[1000:])
        assert executor.sizes == [len(PAYLOAD) - 1000]
        assert decode(encoding, small + big + comp.flush()) == PAYLOAD
    finally:
        executor.shutdown()


async def test_compress_async_keeps_order_when_concurrent() -> None:
    executor = _CountingExecutor()
    try:
        comp = get_compressor("gzip", max_sync_chunk_size=100, executor=executor)
        pieces = [os.urandom(50_000), b"small-1", os.urandom(30_000), b"small-2", b"x" * 10]
        results = await asyncio.gather(*(comp.compress_async(p) for p in pieces))
        assert len(executor.sizes) == 2
        assert decode("gzip", b"".join(results) + comp.flush()) == b"".join(pieces)
    finally:
        executor.shutdown()


async def test_compress_async_never_offloads_with_none_limit() -> None:
    comp = get_compressor("deflate", max_sync_chunk_size=None)
    data = os.urandom(200_000)
    coded = await comp.compress_async(data)
    assert decode("deflate", coded + comp.flush()) == data
