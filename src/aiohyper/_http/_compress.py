"""Streaming content-coding encoders (gzip, deflate, br, zstd) behind one interface.

Every encoder turns a body into its coded form piece by piece: ``compress(data)`` returns what
is ready so far (often ``b""``), ``flush()`` ends the stream and returns the rest. Large pieces
can go through ``await compress_async(data)``, which runs them in an executor so that the event
loop is not blocked while, say, a megabyte of random bytes is squeezed.

``deflate`` means the zlib format (RFC 9110 section 8.4.1.2), not raw deflate.
"""

from __future__ import annotations

import asyncio
import importlib
from concurrent.futures import Executor
from typing import Any, Final

from ._zlib import zlib_backend

__all__ = (
    "DEFAULT_MAX_SYNC_CHUNK_SIZE",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "BrotliCompressor",
    "Compressor",
    "ZLibCompressor",
    "ZstdCompressor",
    "available_encodings",
    "get_compressor",
)

# Pieces up to this size are compressed inline. 64 KiB of incompressible data costs about 1 ms
# of zlib time at the default level, about what a hop to a worker thread and back costs in
# latency under load; above it the thread wins.
DEFAULT_MAX_SYNC_CHUNK_SIZE: Final = 0x10000


def _import_first(*names: str) -> Any:
    """The first of the modules ``names`` that imports, or ``None``."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_brotli: Any = _import_first("brotli", "brotlicffi")
# compression.zstd (Python 3.14+) and its backport share one API; zstandard has its own.
_zstd: Any = _import_first("compression.zstd", "backports.zstd", "zstandard")
_zstd_stdlib = _zstd is not None and _zstd.__name__ != "zstandard"

HAS_BROTLI: Final = _brotli is not None
HAS_ZSTD: Final = _zstd is not None

# Quality 11 (brotli's own default) runs at about 1 MB/s: fine for static assets compressed
# once, far too slow for compressing responses on the fly. 4 is the usual choice for that.
_BROTLI_DEFAULT_QUALITY: Final = 4
_ZSTD_DEFAULT_LEVEL: Final = 3


class Compressor:
    """Base of the encoders: the executor offload shared by all of them.

    ``compress_async`` keeps pieces in order: while one piece is in the executor, later calls
    wait for it. Callers must not call ``compress`` or ``flush`` while a ``compress_async`` is
    still running.
    """

    __slots__ = ("_executor", "_lock", "_queued", "encoding", "max_sync_chunk_size")

    def __init__(
        self,
        encoding: str,
        max_sync_chunk_size: int | None = DEFAULT_MAX_SYNC_CHUNK_SIZE,
        executor: Executor | None = None,
    ) -> None:
        self.encoding = encoding
        #: Pieces larger than this go to the executor; ``None`` means never.
        self.max_sync_chunk_size = max_sync_chunk_size
        self._executor = executor
        self._lock: asyncio.Lock | None = None
        self._queued = 0

    def compress(self, data: bytes) -> bytes:
        """Feed ``data``; return the coded bytes that are ready (may be empty)."""
        raise NotImplementedError

    def flush(self) -> bytes:
        """End the stream and return the remaining coded bytes."""
        raise NotImplementedError

    async def compress_async(self, data: bytes) -> bytes:
        """Like ``compress``, but a piece above ``max_sync_chunk_size`` runs in the executor."""
        limit = self.max_sync_chunk_size
        if self._queued == 0 and (limit is None or len(data) <= limit):
            return self.compress(data)
        # Slow path: serialise with earlier pieces still in the executor.
        self._queued += 1
        try:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if limit is None or len(data) <= limit:
                    return self.compress(data)
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._executor, self.compress, data)
        finally:
            self._queued -= 1


class ZLibCompressor(Compressor):
    """gzip or deflate (zlib format) through the backend chosen by ``set_zlib_backend``.

    ``wbits`` overrides the container: negative for raw deflate (as WebSocket
    permessage-deflate needs), 16 + n for gzip, n for zlib.
    """

    __slots__ = ("_compressobj", "_finish_mode")

    def __init__(
        self,
        encoding: str = "deflate",
        level: int | None = None,
        wbits: int | None = None,
        strategy: int | None = None,
        max_sync_chunk_size: int | None = DEFAULT_MAX_SYNC_CHUNK_SIZE,
        executor: Executor | None = None,
    ) -> None:
        super().__init__(encoding, max_sync_chunk_size, executor)
        zlib = zlib_backend.module
        if wbits is None:
            if encoding == "gzip":
                wbits = 16 + zlib.MAX_WBITS
            elif encoding == "deflate":
                wbits = zlib.MAX_WBITS
            else:
                raise ValueError(f"ZLibCompressor encodes 'gzip' or 'deflate', not {encoding!r}")
        kwargs: dict[str, int] = {"wbits": wbits}
        if level is not None:
            kwargs["level"] = level
        # Only pass strategy when asked: some backends (isal) do not take it.
        if strategy is not None:
            kwargs["strategy"] = strategy
        self._compressobj = zlib.compressobj(**kwargs)
        self._finish_mode: int = zlib.Z_FINISH

    def compress(self, data: bytes) -> bytes:
        return self._compressobj.compress(data)  # type: ignore[no-any-return]

    def flush(self, mode: int | None = None) -> bytes:
        """End the stream, or with ``mode=zlib.Z_SYNC_FLUSH`` just push out what is pending."""
        return self._compressobj.flush(  # type: ignore[no-any-return]
            self._finish_mode if mode is None else mode
        )


class BrotliCompressor(Compressor):
    """br (RFC 7932) through ``brotli`` or ``brotlicffi``. ``level`` is the quality, 0 to 11."""

    __slots__ = ("_compressor", "_process")

    def __init__(
        self,
        level: int | None = None,
        max_sync_chunk_size: int | None = DEFAULT_MAX_SYNC_CHUNK_SIZE,
        executor: Executor | None = None,
    ) -> None:
        if _brotli is None:
            raise NotImplementedError(
                "br compression needs the 'brotli' or 'brotlicffi' package installed"
            )
        super().__init__("br", max_sync_chunk_size, executor)
        quality = _BROTLI_DEFAULT_QUALITY if level is None else level
        self._compressor = _brotli.Compressor(quality=quality)
        # brotli names it process(), brotlicffi compress().
        self._process = getattr(self._compressor, "process", None) or self._compressor.compress

    def compress(self, data: bytes) -> bytes:
        return self._process(data)  # type: ignore[no-any-return]

    def flush(self) -> bytes:
        return self._compressor.finish()  # type: ignore[no-any-return]


class ZstdCompressor(Compressor):
    """zstd (RFC 8878) through ``compression.zstd`` (3.14+), its backport or ``zstandard``."""

    __slots__ = ("_compressor", "_finish_mode")

    def __init__(
        self,
        level: int | None = None,
        max_sync_chunk_size: int | None = DEFAULT_MAX_SYNC_CHUNK_SIZE,
        executor: Executor | None = None,
    ) -> None:
        if _zstd is None:
            raise NotImplementedError(
                "zstd compression needs Python 3.14+, 'backports.zstd' or 'zstandard' installed"
            )
        super().__init__("zstd", max_sync_chunk_size, executor)
        level = _ZSTD_DEFAULT_LEVEL if level is None else level
        if _zstd_stdlib:
            self._compressor = _zstd.ZstdCompressor(level=level)
            self._finish_mode = _zstd.ZstdCompressor.FLUSH_FRAME
        else:
            self._compressor = _zstd.ZstdCompressor(level=level).compressobj()
            self._finish_mode = _zstd.COMPRESSOBJ_FLUSH_FINISH

    def compress(self, data: bytes) -> bytes:
        return self._compressor.compress(data)  # type: ignore[no-any-return]

    def flush(self) -> bytes:
        return self._compressor.flush(self._finish_mode)  # type: ignore[no-any-return]


def available_encodings() -> frozenset[str]:
    """The content codings ``get_compressor`` can produce in this environment."""
    names = {"gzip", "deflate"}
    if HAS_BROTLI:
        names.add("br")
    if HAS_ZSTD:
        names.add("zstd")
    return frozenset(names)


def get_compressor(
    encoding: str,
    *,
    level: int | None = None,
    strategy: int | None = None,
    max_sync_chunk_size: int | None = DEFAULT_MAX_SYNC_CHUNK_SIZE,
    executor: Executor | None = None,
) -> Compressor:
    """A fresh encoder for the content coding ``encoding`` (case-insensitive).

    ``strategy`` only applies to gzip/deflate. Raises ``ValueError`` for a coding we do not know
    (including ``identity``, which needs no encoder) and ``NotImplementedError`` for br/zstd when
    their library is not installed.
    """
    name = encoding.lower()
    if name in ("gzip", "x-gzip", "deflate"):
        return ZLibCompressor(
            "deflate" if name == "deflate" else "gzip",
            level,
            None,
            strategy,
            max_sync_chunk_size=max_sync_chunk_size,
            executor=executor,
        )
    if name == "br":
        return BrotliCompressor(level, max_sync_chunk_size=max_sync_chunk_size, executor=executor)
    if name == "zstd":
        return ZstdCompressor(level, max_sync_chunk_size=max_sync_chunk_size, executor=executor)
    raise ValueError(f"Unknown content coding {encoding!r}: use gzip, deflate, br or zstd")
