"""Body streams: the buffer between a connection's parser and the code reading a message body.

`StreamReader` is what ``request.content`` and ``response.content`` are. The HTTP codec pushes
bytes in with `StreamReader.feed_data` / `StreamReader.feed_eof` /
`StreamReader.set_exception`; user code pulls them out with the ``read*`` coroutines and the
async iterators. The reader applies back-pressure to the connection: when more than the high-water
mark (``2 * limit``) bytes are buffered it pauses reading on the protocol, and resumes it once the
buffer drains below the low-water mark (``limit``).

`DataQueue` is the message-level counterpart used by WebSocket readers: a queue of objects that
ends with `EofStream`.

The buffer is a deque of the received ``bytes`` objects plus an offset into the first one, so a
read copies only the bytes it returns and feeding never copies at all.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import warnings
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any, Final, Generic, TypeVar

from .base_protocol import BaseProtocol

__all__ = (
    "EMPTY_PAYLOAD",
    "AsyncStreamIterator",
    "ChunkTupleAsyncStreamIterator",
    "DataQueue",
    "EmptyStreamReader",
    "EofStream",
    "StreamReader",
)

internal_logger: Final = logging.getLogger("aiohyper.internal")

_T = TypeVar("_T")

# Default for ``exc_cause``: "leave ``__cause__`` alone" (None would mean "clear it").
_EXC_SENTINEL: Final = BaseException()

_DEFAULT_LIMIT: Final = 2**16


class EofStream(Exception):
    """Raised by `DataQueue.read` once the queue is at EOF."""


def _fail_waiter(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _run_eof_callback(callback: Callable[[], None]) -> None:
    # An EOF callback belongs to another layer (e.g. the client releasing its connection);
    # its failure must not break the parser that happens to be feeding EOF.
    try:
        callback()
    except Exception:
        internal_logger.exception("Exception in eof callback")


class AsyncStreamIterator:
    """Async iterator calling ``read_func`` until it returns ``b""``."""

    __slots__ = ("read_func",)

    def __init__(self, read_func: Callable[[], Awaitable[bytes]]) -> None:
        self.read_func = read_func

    def __aiter__(self) -> AsyncStreamIterator:
        return self

    async def __anext__(self) -> bytes:
        try:
            rv = await self.read_func()
        except EofStream:
            raise StopAsyncIteration
        if rv == b"":
            raise StopAsyncIteration
        return rv


class ChunkTupleAsyncStreamIterator:
    """Async iterator over `StreamReader.readchunk` results; stops at ``(b"", False)`` (EOF)."""

    __slots__ = ("_stream",)

    def __init__(self, stream: StreamReader) -> None:
        self._stream = stream

    def __aiter__(self) -> ChunkTupleAsyncStreamIterator:
        return self

    async def __anext__(self) -> tuple[bytes, bool]:
        rv = await self._stream.readchunk()
        if rv == (b"", False):
            raise StopAsyncIteration
        return rv


class StreamReader:
    """The incoming body of one HTTP message (or any byte stream fed by a protocol).

    ``limit`` is the low-water mark of the buffer; the high-water mark is ``2 * limit``. Besides
    flow control, the high-water mark bounds `readuntil` / `readline`: a line longer than it
    raises ``ValueError("Chunk too big")``.

    ``timer`` is an optional context manager entered around every wait for data (the client's
    ``sock_read`` timeout).

    Only one coroutine may wait for data at a time; a second concurrent reader gets
    `RuntimeError`, like `asyncio.StreamReader`.

    Whoever owns the connection must end every stream with `feed_eof` or `set_exception`
    (including when the connection is lost), otherwise a waiting reader waits forever.
    """

    __slots__ = (
        "_buffer",
        "_cursor",
        "_eof",
        "_eof_callbacks",
        "_eof_waiter",
        "_exception",
        "_high_water",
        "_http_chunk_splits",
        "_last_chunk_end",
        "_loop",
        "_low_water",
        "_offset",
        "_protocol",
        "_size",
        "_timer",
        "_total_bytes",
        "_waiter",
    )

    def __init__(
        self,
        protocol: BaseProtocol,
        limit: int = _DEFAULT_LIMIT,
        *,
        timer: AbstractContextManager[object] | None = None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._protocol = protocol
        self._low_water = limit
        self._high_water = limit * 2
        self._loop = loop
        self._timer = timer
        # Received pieces, oldest first; ``_offset`` bytes of the first one are already consumed.
        self._buffer: collections.deque[bytes] = collections.deque()
        self._offset = 0
        self._size = 0  # unread bytes in the buffer
        self._cursor = 0  # bytes consumed by readers since the start of the stream
        self._total_bytes = 0  # bytes fed since the start of the stream
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._eof_waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._eof_callbacks: list[Callable[[], None]] = []
        # Stream positions (in ``_cursor`` units) where an HTTP chunk ended; None if not chunked.
        self._http_chunk_splits: collections.deque[int] | None = None
        self._last_chunk_end = 0

    def __repr__(self) -> str:
        info = [type(self).__name__]
        if self._size:
            info.append(f"{self._size} bytes")
        if self._eof:
            info.append("eof")
        if self._low_water != _DEFAULT_LIMIT:
            info.append(f"low={self._low_water} high={self._high_water}")
        if self._waiter is not None:
            info.append(f"w={self._waiter!r}")
        if self._exception is not None:
            info.append(f"e={self._exception!r}")
        return f"<{' '.join(info)}>"

    # -- state -----------------------------------------------------------------------------

    def get_read_buffer_limits(self) -> tuple[int, int]:
        """Return ``(low_water, high_water)`` in bytes."""
        return (self._low_water, self._high_water)

    def exception(self) -> BaseException | None:
        """The error set by `set_exception`, if any."""
        return self._exception

    def is_eof(self) -> bool:
        """True once EOF was fed; unread data may still be buffered."""
        return self._eof

    def at_eof(self) -> bool:
        """True once EOF was fed and the buffer is empty."""
        return self._eof and not self._buffer

    @property
    def total_bytes(self) -> int:
        """Number of bytes fed into the stream so far."""
        return self._total_bytes

    # -- producer side (called by the codec / protocol) ------------------------------------

    def feed_data(self, data: bytes) -> None:
        """Append received body bytes and wake the waiting reader."""
        if not data:
            return
        n = len(data)
        self._size += n
        self._total_bytes += n
        self._buffer.append(data)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if self._size > self._high_water and not self._protocol._reading_paused:
            self._protocol.pause_reading()

    def feed_eof(self) -> None:
        """Mark the end of the stream: wake readers and run the `on_eof` callbacks."""
        self._eof = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        waiter = self._eof_waiter
        if waiter is not None:
            self._eof_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        callbacks = self._eof_callbacks
        if callbacks:
            self._eof_callbacks = []
            for cb in callbacks:
                _run_eof_callback(cb)

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException | None = _EXC_SENTINEL
    ) -> None:
        """Fail the stream: every later read raises ``exc``; waiting readers are woken with it.

        ``exc_cause``, when given, becomes ``exc.__cause__``. Pending `on_eof` callbacks are
        dropped, since EOF will not come.
        """
        if exc_cause is not _EXC_SENTINEL:
            exc.__cause__ = exc_cause
        self._exception = exc
        self._eof_callbacks.clear()
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            _fail_waiter(waiter, exc)
        waiter = self._eof_waiter
        if waiter is not None:
            self._eof_waiter = None
            _fail_waiter(waiter, exc)

    def on_eof(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` at EOF (immediately if EOF was already fed).

        Exceptions raised by the callback are logged to ``aiohyper.internal``, not propagated.
        """
        if self._eof:
            _run_eof_callback(callback)
        else:
            self._eof_callbacks.append(callback)

    def begin_http_chunk_receiving(self) -> None:
        """Called by the parser when a chunked body starts a chunk."""
        if self._http_chunk_splits is None:
            self._http_chunk_splits = collections.deque()

    def end_http_chunk_receiving(self) -> None:
        """Called by the parser when a chunk ends; records the boundary for `readchunk`."""
        splits = self._http_chunk_splits
        if splits is None:
            raise RuntimeError(
                "end_http_chunk_receiving() called without begin_http_chunk_receiving()"
            )
        pos = self._total_bytes
        # An empty chunk (the terminating one) marks no new boundary.
        if pos == self._last_chunk_end:
            return
        self._last_chunk_end = pos
        splits.append(pos)
        # A reader blocked in readchunk() may have already consumed this chunk's data and is now
        # waiting to learn that the chunk ended.
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- consumer side ---------------------------------------------------------------------

    async def _wait(self, func_name: str) -> None:
        if self._waiter is not None:
            raise RuntimeError(
                f"{func_name}() called while another coroutine is already waiting "
                "for incoming data"
            )
        waiter = self._waiter = self._loop.create_future()
        try:
            if self._timer is not None:
                with self._timer:
                    await waiter
            else:
                await waiter
        finally:
            # Cleared here too so that a cancelled read leaves the stream usable.
            self._waiter = None

    async def wait_eof(self) -> None:
        """Wait until EOF is fed; buffered data stays available to later reads.

        Raises the stream's exception if it fails before EOF.
        """
        if self._exception is not None:
            raise self._exception
        if self._eof:
            return
        if self._eof_waiter is not None:
            raise RuntimeError("wait_eof() called while another coroutine is already waiting")
        waiter = self._eof_waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            self._eof_waiter = None

    def unread_data(self, data: bytes) -> None:
        """Push ``data`` back to the head of the buffer (deprecated; wakes no waiter)."""
        warnings.warn(
            "StreamReader.unread_data() is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )
        if not data:
            return
        if self._offset:
            self._buffer[0] = self._buffer[0][self._offset :]
            self._offset = 0
        self._buffer.appendleft(data)
        self._size += len(data)
        self._cursor -= len(data)

    async def readline(self) -> bytes:
        """Read one line ending with ``b"\\n"`` (see `readuntil`)."""
        return await self.readuntil(b"\n")

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Read up to and including ``separator``.

        At EOF without a separator, return what is left (``b""`` if nothing). A line (separator
        included) longer than the high-water mark raises ``ValueError("Chunk too big")`` and
        consumes nothing.
        """
        seplen = len(separator)
        if seplen == 0:
            raise ValueError("Separator should be at least one-byte string")
        if self._exception is not None:
            raise self._exception
        # Incremental search state, kept across waits so each byte is scanned about once:
        # buffer pieces before ``idx`` hold no separator, ``base`` bytes in total, and ``tail``
        # is their last ``seplen - 1`` bytes (a separator may straddle two pieces).
        idx = 0
        base = 0
        tail = b""
        keep = seplen - 1
        while True:
            buf = self._buffer
            while idx < len(buf):
                piece = buf[idx]
                start = self._offset if idx == 0 else 0
                end = -1
                if tail:
                    pos = (tail + piece[start : start + keep]).find(separator)
                    if pos != -1:
                        end = base - len(tail) + pos + seplen
                if end == -1:
                    pos = piece.find(separator, start)
                    if pos != -1:
                        end = base + pos - start + seplen
                if end != -1:
                    if end > self._high_water:
                        raise ValueError("Chunk too big")
                    return self._read_nowait(end)
                base += len(piece) - start
                if keep:
                    if len(piece) - start >= keep:
                        tail = piece[len(piece) - keep :]
                    else:
                        tail = (tail + piece[start:])[-keep:]
                idx += 1
            if self._size > self._high_water:
                raise ValueError("Chunk too big")
            if self._eof:
                return self._read_nowait(-1)
            await self._wait("readuntil")

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes as soon as any are available; ``n=-1`` reads to EOF.

        Returns ``b""`` at EOF.
        """
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if n < 0:
            # readany() until EOF, without a coroutine call per block.
            blocks = []
            while True:
                if self._buffer:
                    blocks.append(self._read_nowait(-1))
                elif self._eof:
                    break
                else:
                    await self._wait("readany")
                if self._exception is not None:
                    raise self._exception
            return blocks[0] if len(blocks) == 1 else b"".join(blocks)
        while not self._buffer and not self._eof:
            await self._wait("read")
        return self._read_nowait(n)

    async def readany(self) -> bytes:
        """Return everything buffered, waiting for data if the buffer is empty.

        Returns ``b""`` at EOF.
        """
        if self._exception is not None:
            raise self._exception
        while not self._buffer and not self._eof:
            await self._wait("readany")
        return self._read_nowait(-1)

    async def readchunk(self) -> tuple[bytes, bool]:
        """Return ``(data, end_of_http_chunk)``.

        For a chunked body, data up to the next recorded chunk boundary is returned with
        ``True``. If the chunk's data was already consumed (by other reads, or by earlier
        ``readchunk`` calls before its end arrived), ``(b"", True)`` reports the boundary. Data
        whose chunk has not ended yet, and all data of a non-chunked body, is returned as
        received with ``False``. At EOF the result is ``(b"", False)``.
        """
        while True:
            if self._exception is not None:
                raise self._exception
            splits = self._http_chunk_splits
            while splits:
                pos = splits.popleft()
                if pos == self._cursor:
                    return (b"", True)
                if pos > self._cursor:
                    return (self._read_nowait(pos - self._cursor), True)
                # Other reads consumed past this boundary; it cannot be reported any more.
            if self._buffer:
                return (self._read_nowait_chunk(-1), False)
            if self._eof:
                return (b"", False)
            await self._wait("readchunk")

    async def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes.

        Raises `asyncio.IncompleteReadError` (with the bytes read in ``.partial``, which are
        consumed) if EOF comes first.
        """
        if self._exception is not None:
            raise self._exception
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        if self._size >= n:
            return self._read_nowait(n)
        # Collect pieces as they come: waiting for all ``n`` bytes to be buffered could
        # deadlock against flow control when ``n`` exceeds the high-water mark.
        blocks: list[bytes] = []
        remaining = n
        while remaining:
            while not self._buffer and not self._eof:
                await self._wait("readexactly")
            if not self._buffer:
                partial = b"".join(blocks)
                raise asyncio.IncompleteReadError(partial, n)
            block = self._read_nowait(remaining)
            blocks.append(block)
            remaining -= len(block)
        return b"".join(blocks)

    def read_nowait(self, n: int = -1) -> bytes:
        """Return up to ``n`` buffered bytes (all if ``n=-1``), ``b""`` if none; never waits.

        Raises `RuntimeError` if another coroutine is waiting for data.
        """
        if self._exception is not None:
            raise self._exception
        if self._waiter is not None and not self._waiter.done():
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        return self._read_nowait(n)

    def _read_nowait_chunk(self, n: int) -> bytes:
        """Take up to ``n`` bytes (``-1``: all) from the first buffered piece only."""
        first = self._buffer[0]
        offset = self._offset
        avail = len(first) - offset
        if n < 0 or n >= avail:
            self._buffer.popleft()
            self._offset = 0
            data = first[offset:] if offset else first
            n = avail
        else:
            self._offset = offset + n
            data = first[offset : offset + n]
        self._size -= n
        self._cursor += n
        if self._size < self._low_water and self._protocol._reading_paused:
            self._protocol.resume_reading()
        splits = self._http_chunk_splits
        if splits:
            # Boundaries already passed by non-readchunk reads would otherwise pile up.
            cursor = self._cursor
            while splits and splits[0] < cursor:
                splits.popleft()
        return data

    def _read_nowait(self, n: int) -> bytes:
        """Take up to ``n`` bytes (``-1``: all) from the buffer, joining pieces as needed."""
        buffer = self._buffer
        if not buffer:
            return b""
        if len(buffer) == 1 or 0 <= n <= len(buffer[0]) - self._offset:
            return self._read_nowait_chunk(n)
        blocks = []
        while buffer and n:
            block = self._read_nowait_chunk(n)
            blocks.append(block)
            if n > 0:
                n -= len(block)
        return b"".join(blocks)

    # -- iteration -------------------------------------------------------------------------

    def __aiter__(self) -> AsyncStreamIterator:
        """Iterate over lines."""
        return AsyncStreamIterator(self.readline)

    def iter_chunked(self, n: int) -> AsyncStreamIterator:
        """Iterate over pieces of at most ``n`` bytes."""
        return AsyncStreamIterator(lambda: self.read(n))

    def iter_any(self) -> AsyncStreamIterator:
        """Iterate over data as it arrives (see `readany`)."""
        return AsyncStreamIterator(self.readany)

    def iter_chunks(self) -> ChunkTupleAsyncStreamIterator:
        """Iterate over ``(data, end_of_http_chunk)`` tuples (see `readchunk`)."""
        return ChunkTupleAsyncStreamIterator(self)


class EmptyStreamReader(StreamReader):
    """The body of a message that has none: always at EOF, every read returns ``b""``.

    One shared instance, `EMPTY_PAYLOAD`, is used for all such messages, so it holds no
    per-message state and needs no loop or protocol.
    """

    __slots__ = ()

    def __init__(self) -> None:
        # Deliberately skips StreamReader.__init__: every method that would use its state is
        # overridden below.
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def get_read_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def exception(self) -> BaseException | None:
        return None

    def is_eof(self) -> bool:
        return True

    def at_eof(self) -> bool:
        return True

    @property
    def total_bytes(self) -> int:
        return 0

    def feed_data(self, data: bytes) -> None:
        pass

    def feed_eof(self) -> None:
        pass

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException | None = _EXC_SENTINEL
    ) -> None:
        pass

    def on_eof(self, callback: Callable[[], None]) -> None:
        _run_eof_callback(callback)

    def begin_http_chunk_receiving(self) -> None:
        pass

    def end_http_chunk_receiving(self) -> None:
        pass

    async def wait_eof(self) -> None:
        return

    def unread_data(self, data: bytes) -> None:
        warnings.warn(
            "StreamReader.unread_data() is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )

    async def readline(self) -> bytes:
        return b""

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        return b""

    async def read(self, n: int = -1) -> bytes:
        return b""

    async def readany(self) -> bytes:
        return b""

    async def readchunk(self) -> tuple[bytes, bool]:
        # (b"", False) is the EOF marker of StreamReader.readchunk; it ends iter_chunks().
        return (b"", False)

    async def readexactly(self, n: int) -> bytes:
        if n <= 0:
            return b""
        raise asyncio.IncompleteReadError(b"", n)

    def read_nowait(self, n: int = -1) -> bytes:
        return b""


EMPTY_PAYLOAD: Final = EmptyStreamReader()


class DataQueue(Generic[_T]):
    """A FIFO of parsed messages between a protocol and one reader, ending with `EofStream`.

    Items fed before EOF or an error are still delivered; after them `read` raises the error
    (if any) or `EofStream`.
    """

    __slots__ = ("_buffer", "_eof", "_exception", "_loop", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._buffer: collections.deque[_T] = collections.deque()

    def __len__(self) -> int:
        return len(self._buffer)

    def is_eof(self) -> bool:
        """True once EOF (or an error) was fed."""
        return self._eof

    def at_eof(self) -> bool:
        """True once EOF was fed and every item was read."""
        return self._eof and not self._buffer

    def exception(self) -> BaseException | None:
        """The error set by `set_exception`, if any."""
        return self._exception

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException | None = _EXC_SENTINEL
    ) -> None:
        """End the queue with ``exc``: reads raise it once the buffered items are consumed."""
        if exc_cause is not _EXC_SENTINEL:
            exc.__cause__ = exc_cause
        self._eof = True
        self._exception = exc
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            _fail_waiter(waiter, exc)

    def feed_data(self, data: _T) -> None:
        """Append one item and wake the reader."""
        self._buffer.append(data)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def feed_eof(self) -> None:
        """Mark the end of the queue and wake the reader."""
        self._eof = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def read(self) -> _T:
        """Return the next item, waiting if needed; raise the error or `EofStream` at the end."""
        if not self._buffer and not self._eof:
            if self._waiter is not None:
                raise RuntimeError("read() called while another coroutine is already waiting")
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        if self._buffer:
            return self._buffer.popleft()
        if self._exception is not None:
            raise self._exception
        raise EofStream

    def __aiter__(self) -> DataQueue[_T]:
        return self

    async def __anext__(self) -> _T:
        try:
            return await self.read()
        except EofStream:
            raise StopAsyncIteration
