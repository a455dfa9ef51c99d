"""The receiving half of a WebSocket connection: bytes from the protocol into a message queue.

After the upgrade, the connection's protocol hands every received chunk to a `WebSocketReader`
(it is the connection's "parser": ``feed_data(data) -> (eof, tail)``, ``feed_eof()``). The
reader decodes them with `WebSocketParser` and feeds the messages to a `DataQueue`, where the
message loop (`WebSocketSession.receive`) reads them. A protocol error ends the queue with the
`WebSocketError`, after the messages decoded before it.

`WebSocketDataQueue` is the queue to use with a real connection: it pauses reading from the
socket while more than ``limit`` bytes of messages wait to be read, so a peer cannot make us
buffer without bound when the application reads slowly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from ..base_protocol import BaseProtocol
from ..streams import DataQueue, EofStream
from ._models import WebSocketError, WSMessage
from ._parser import WebSocketParser

__all__ = ("WebSocketDataQueue", "WebSocketReader")

_NOT_EOF: Final = (False, b"")
_EOF: Final = (True, b"")


class WebSocketDataQueue(DataQueue[WSMessage]):
    """A `DataQueue` of messages that applies read back-pressure on the connection.

    Above ``limit`` bytes of buffered message payloads it calls ``protocol.pause_reading()``;
    once reads bring the buffer back under ``limit`` it calls ``protocol.resume_reading()``.
    """

    __slots__ = ("_limit", "_paused", "_protocol", "_size")

    def __init__(
        self, protocol: BaseProtocol, limit: int, *, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(loop)
        self._protocol = protocol
        self._limit = limit
        self._size = 0
        self._paused = False  # we paused the protocol's reading

    def feed_data(self, data: WSMessage) -> None:
        """Append one message and wake the reader; pause reading if too much is buffered."""
        payload = data[1]
        kind = type(payload)
        if kind is bytes or kind is str:
            self._size += len(payload)
            if self._size > self._limit:
                self._paused = True
                self._protocol.pause_reading()
        self._buffer.append(data)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def read_nowait(self) -> WSMessage | None:
        """The next message if one is buffered (as `read` would return it), else ``None``."""
        buffer = self._buffer
        if not buffer:
            return None
        message = buffer.popleft()
        payload = message[1]
        kind = type(payload)
        if kind is bytes or kind is str:
            self._size -= len(payload)
            if self._paused and self._size < self._limit:
                self._paused = False
                self._protocol.resume_reading()
        return message

    async def read(self) -> WSMessage:
        """Return the next message (as `DataQueue.read`), resuming reading when drained."""
        if not self._buffer and not self._eof:
            if self._waiter is not None:
                raise RuntimeError("read() called while another coroutine is already waiting")
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        message = self.read_nowait()
        if message is not None:
            return message
        if self._exception is not None:
            raise self._exception
        raise EofStream


class WebSocketReader:
    """Decodes a connection's bytes into `WSMessage` objects fed to ``queue``.

    ``max_msg_size``: largest message in bytes after decompression (0: unlimited).
    ``compress``: permessage-deflate was negotiated (a true value: ``True`` or window bits).
    ``masked``: ``True`` on a server (clients must mask), ``False`` on a client, ``None`` to
    accept both. ``on_data``, when set, is called for every chunk received (the message loop
    uses it to know the peer is alive).
    """

    __slots__ = ("_decode", "_failed", "_on_frame", "_parser", "on_data", "queue")

    def __init__(
        self,
        queue: DataQueue[WSMessage],
        max_msg_size: int,
        compress: bool | int = True,
        *,
        masked: bool | None = None,
    ) -> None:
        self.queue = queue
        parser = self._parser = WebSocketParser(
            max_msg_size=max_msg_size, masked=masked, compress=bool(compress)
        )
        # Messages go to the queue as they are decoded, so those before an error are read
        # before it; the frame decoder is driven directly (one call per chunk, not three).
        parser.deliver = queue.feed_data
        self._decode = parser.frames.decode
        self._on_frame = parser.on_frame
        self._failed = False
        self.on_data: Callable[[], None] | None = None

    def feed_eof(self) -> None:
        """The peer closed the connection: end the queue."""
        self.queue.feed_eof()

    def feed_data(self, data: bytes | bytearray | memoryview) -> tuple[bool, bytes]:
        """Decode ``data`` and queue the messages. Returns ``(eof, tail)``: ``eof`` is true
        once the peer broke the protocol (the queue then holds the error; no more input is
        wanted). Never raises. ``data`` may be a view of a receive buffer that the caller
        reuses: it is copied, never kept."""
        if self._failed:
            return _EOF
        on_data = self.on_data
        if on_data is not None:
            on_data()
        try:
            self._decode(data, self._on_frame)
        except WebSocketError as exc:
            self._failed = True
            self.queue.set_exception(exc)
            return _EOF
        return _NOT_EOF
