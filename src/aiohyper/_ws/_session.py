"""The WebSocket message loop shared by the server's and the client's WebSocket objects.

`WebSocketSession` implements everything ``web.WebSocketResponse`` and
``ClientWebSocketResponse`` have in common: receiving (with automatic ping/pong and closing
handshake), sending, closing, heartbeats and timeouts. It does no I/O of its own; the class
that inherits it supplies the connection:

* `WebSocketSession._ws_start` (call once the handshake is done) hands it the message queue
  fed by a `WebSocketReader`, the `WebSocketWriter`, the loop and, optionally, the reader
  itself (then "the peer is alive" is known per received chunk rather than per message read);
* `WebSocketSession._close_transport` (override) closes the underlying connection; it may be
  called more than once;
* `WebSocketSession._heartbeat_timeout_error` (override) is the exception reported when a
  heartbeat ping gets no answer (``ServerTimeoutError`` on the client).

Every attribute is prefixed ``_ws_`` so that it cannot collide with the attributes of the
response classes it is mixed into.

Closing, as seen by `close_code` and `exception`:

* we close: a Close frame is sent, then the peer's Close is awaited (``close timeout``);
  `close_code` is the peer's code, or 1006 if it never came;
* the peer closes: its Close is returned by `receive` and (``autoclose``) answered with the
  same code; `close_code` is the peer's code (1005 when its Close had no code);
* the peer breaks the protocol: a Close with the `WebSocketError`'s code is sent, the
  connection closed, `receive` returns an ERROR message and `close_code` is that code;
* the connection ends without a Close, or a heartbeat goes unanswered: `close_code` is 1006.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Final

from ..helpers import ceil_timeout, set_result
from ..streams import DataQueue, EofStream
from ..typedefs import JSONDecoder, JSONEncoder
from ._models import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from ._parser import is_valid_close_code
from ._reader import WebSocketDataQueue, WebSocketReader
from ._writer import WebSocketWriter

__all__ = ("THRESHOLD_CONNLOST_ACCESS", "WebSocketSession")

#: ``receive()`` calls allowed on a closed connection before it raises instead of returning
#: CLOSED again (protects against loops that never check the message type).
THRESHOLD_CONNLOST_ACCESS: Final = 5

_CLOSE: Final = WSMsgType.CLOSE
_CLOSING: Final = WSMsgType.CLOSING
_CLOSED: Final = WSMsgType.CLOSED
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_ABNORMAL: Final = int(WSCloseCode.ABNORMAL_CLOSURE)
_MAX_REASON: Final = 123  # a Close payload is at most 125 bytes, 2 of them the code


def _wrong_type(msg: WSMessage, expected: WSMsgType) -> Exception:
    # Imported on this error path only: aiohyper.client's package may import this module.
    from ..client._exceptions import WSMessageTypeError

    return WSMessageTypeError(
        f"Received message {msg.type}:{msg.data!r} is not WSMsgType.{expected.name}"
    )


class WebSocketSession:
    """The receive/send/close logic of one WebSocket connection (see the module docstring).

    ``close_timeout``: seconds to wait for the peer's Close after sending ours (``None``: no
    limit). ``receive_timeout``: default limit for `receive` (``None``: none). ``autoclose``:
    answer the peer's Close at once. ``autoping``: answer pings and swallow pongs instead of
    returning them. ``heartbeat``: when idle this many seconds, send a ping; no data within
    ``heartbeat / 2`` seconds after it closes the connection with code 1006.
    """

    __slots__ = (
        "_ws_autoclose",
        "_ws_autoping",
        "_ws_close_code",
        "_ws_close_timeout",
        "_ws_close_wait",
        "_ws_closed",
        "_ws_closing",
        "_ws_conn_lost",
        "_ws_exception",
        "_ws_hb_handle",
        "_ws_heartbeat",
        "_ws_last_data",
        "_ws_loop",
        "_ws_ping_sent_at",
        "_ws_read_nowait",
        "_ws_reader",
        "_ws_receive_timeout",
        "_ws_track_reads",
        "_ws_waiting",
        "_ws_writer",
    )

    def __init__(
        self,
        *,
        close_timeout: float | None = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
    ) -> None:
        self._ws_close_timeout = close_timeout
        self._ws_receive_timeout = receive_timeout
        self._ws_autoclose = autoclose
        self._ws_autoping = autoping
        self._ws_heartbeat = heartbeat or None
        self._ws_reader: DataQueue[WSMessage] | None = None
        self._ws_writer: WebSocketWriter | None = None
        self._ws_loop: asyncio.AbstractEventLoop | None = None
        self._ws_closed = False  # close() was called (or the connection was aborted)
        self._ws_closing = False  # the peer's Close was received
        self._ws_close_code: int | None = None
        self._ws_exception: BaseException | None = None
        self._ws_waiting = False  # a task is inside receive()
        self._ws_close_wait: asyncio.Future[None] | None = None
        self._ws_conn_lost = 0
        self._ws_hb_handle: asyncio.TimerHandle | None = None
        self._ws_last_data = 0.0
        self._ws_ping_sent_at: float | None = None
        # Heartbeat without a frame reader: the peer is alive when receive() gets a message.
        self._ws_track_reads = False
        # The queue's synchronous read, when it has one (WebSocketDataQueue).
        self._ws_read_nowait: Callable[[], WSMessage | None] | None = None

    # -- seams for the classes built on this one ---------------------------------------------

    def _ws_start(
        self,
        reader: DataQueue[WSMessage],
        writer: WebSocketWriter,
        *,
        loop: asyncio.AbstractEventLoop,
        frame_reader: WebSocketReader | None = None,
    ) -> None:
        """Attach the connection: ``reader`` is the queue the `WebSocketReader` feeds,
        ``writer`` writes to the same connection. Starts the heartbeat, if any."""
        self._ws_reader = reader
        self._ws_writer = writer
        self._ws_loop = loop
        if isinstance(reader, WebSocketDataQueue):
            self._ws_read_nowait = reader.read_nowait
        heartbeat = self._ws_heartbeat
        if heartbeat is not None:
            self._ws_last_data = loop.time()
            if frame_reader is not None:
                frame_reader.on_data = self._ws_on_data
            else:
                self._ws_track_reads = True
            self._ws_hb_handle = loop.call_at(self._ws_last_data + heartbeat, self._ws_tick)

    def _close_transport(self) -> None:
        """Close the underlying connection (override). May be called more than once."""
        writer = self._ws_writer
        if writer is not None:
            writer.transport.close()

    def _heartbeat_timeout_error(self) -> BaseException:
        """The error `exception` reports when a heartbeat ping got no answer (override)."""
        return TimeoutError(f"No PONG received after {(self._ws_heartbeat or 0) / 2} seconds")

    # -- state -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once `close` was called or the connection was lost or aborted."""
        return self._ws_closed

    @property
    def close_code(self) -> int | None:
        """The close code of the connection (see the module docstring); ``None`` while open."""
        return self._ws_close_code

    def exception(self) -> BaseException | None:
        """The last error met by the connection, if any."""
        return self._ws_exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``transport.get_extra_info(name, default)`` of the connection's transport."""
        writer = self._ws_writer
        if writer is None:
            return default
        return writer.transport.get_extra_info(name, default)

    # -- heartbeat -------------------------------------------------------------------------

    def _ws_on_data(self) -> None:
        loop = self._ws_loop
        assert loop is not None
        self._ws_last_data = loop.time()

    def _ws_tick(self) -> None:
        """Heartbeat timer: ping when idle for ``heartbeat`` seconds, then check for data."""
        self._ws_hb_handle = None
        heartbeat = self._ws_heartbeat
        loop = self._ws_loop
        writer = self._ws_writer
        if self._ws_closed or heartbeat is None or loop is None or writer is None:
            return
        now = loop.time()
        sent_at = self._ws_ping_sent_at
        if sent_at is None:
            due = self._ws_last_data + heartbeat
            if due > now:
                self._ws_hb_handle = loop.call_at(due, self._ws_tick)
                return
            try:
                writer.write_control_nowait(b"", _PING)
            except Exception:
                return  # the connection is going away; receive() will report it
            self._ws_ping_sent_at = now
            self._ws_hb_handle = loop.call_at(now + heartbeat / 2, self._ws_tick)
        elif self._ws_last_data >= sent_at:
            # The peer answered (any data proves it is alive).
            self._ws_ping_sent_at = None
            self._ws_hb_handle = loop.call_at(self._ws_last_data + heartbeat, self._ws_tick)
        else:
            self._ws_heartbeat_failed()

    def _ws_heartbeat_failed(self) -> None:
        exc = self._heartbeat_timeout_error()
        self._ws_abort(exc)
        reader = self._ws_reader
        if self._ws_waiting and reader is not None:
            # Wake the task blocked in receive(): it returns this ERROR message.
            reader.feed_data(WSMessage(WSMsgType.ERROR, exc, None))

    def _ws_cancel_heartbeat(self) -> None:
        handle = self._ws_hb_handle
        if handle is not None:
            handle.cancel()
            self._ws_hb_handle = None

    def _ws_abort(self, exc: BaseException | None, code: int = _ABNORMAL) -> None:
        """End the connection without (more of) a closing handshake."""
        self._ws_closed = True
        self._ws_close_code = code
        if exc is not None:
            self._ws_exception = exc
        self._ws_cancel_heartbeat()
        self._close_transport()

    # -- sending ---------------------------------------------------------------------------

    def _ws_ready_writer(self) -> WebSocketWriter:
        writer = self._ws_writer
        if writer is None:
            raise RuntimeError("Call .prepare() first")
        return writer

    async def ping(self, message: bytes | str = b"") -> None:
        """Send a Ping (``message``: at most 125 bytes; ``str`` is sent as UTF-8)."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        await self._ws_ready_writer().send_frame(message, _PING)

    async def pong(self, message: bytes | str = b"") -> None:
        """Send a Pong (``message``: at most 125 bytes; ``str`` is sent as UTF-8)."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        await self._ws_ready_writer().send_frame(message, _PONG)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType | int, compress: int | None = None
    ) -> None:
        """Send ``message`` as is in one frame of type ``opcode`` (low level)."""
        await self._ws_ready_writer().send_frame(message, opcode, compress)

    async def send_str(self, data: str, compress: int | None = None) -> None:
        """Send a TEXT message. ``compress``: see `WebSocketWriter.send_frame`."""
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        writer = self._ws_writer
        if writer is None:
            raise RuntimeError("Call .prepare() first")
        await writer.send_frame(data.encode("utf-8"), _TEXT, compress)

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        """Send a BINARY message. ``compress``: see `WebSocketWriter.send_frame`."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        writer = self._ws_writer
        if writer is None:
            raise RuntimeError("Call .prepare() first")
        await writer.send_frame(data, _BINARY, compress)

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: JSONEncoder = json.dumps
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    # -- closing ---------------------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Start (or answer) the closing handshake; return ``False`` if already closed.

        Sends a Close with ``code`` and ``message`` (its reason: at most 123 bytes once
        encoded), then waits up to the close timeout for the peer's Close, unless it was
        already received. Safe to call from another task than the one receiving.
        """
        writer = self._ws_ready_writer()
        if isinstance(message, str):
            message = message.encode("utf-8")
        if len(message) > _MAX_REASON:
            raise ValueError("A close reason is at most 123 bytes long")
        if self._ws_closed:
            return False
        self._ws_closed = True
        self._ws_cancel_heartbeat()
        try:
            await writer.close(code, message)
            if drain:
                await writer.drain()
        except asyncio.CancelledError:
            self._ws_abort(None)
            raise
        except Exception as exc:
            self._ws_abort(exc)
            return True

        reader = self._ws_reader
        assert reader is not None
        if self._ws_waiting:
            # Another task is blocked in receive(): wake it (it returns CLOSING) and wait
            # until it has left, so that the queue has one reader at a time.
            loop = self._ws_loop
            assert loop is not None
            close_wait = self._ws_close_wait = loop.create_future()
            reader.feed_data(WS_CLOSING_MESSAGE)
            try:
                await close_wait
            finally:
                self._ws_close_wait = None

        if self._ws_closing:
            # The peer's Close came first: the handshake is complete.
            self._close_transport()
            return True
        try:
            async with ceil_timeout(self._ws_close_timeout):
                while True:
                    msg = await reader.read()
                    if msg[0] == _CLOSE:
                        self._ws_closing = True
                        self._ws_close_code = msg[1]
                        self._close_transport()
                        return True
        except asyncio.CancelledError:
            self._ws_abort(None)
            raise
        except EofStream:
            self._ws_abort(None)
        except Exception as exc:  # TimeoutError, or the peer broke the protocol
            self._ws_abort(exc)
        return True

    async def _ws_fail(self, exc: WebSocketError) -> None:
        """The peer broke the protocol: send our Close with the error's code and hang up."""
        self._ws_closed = True
        self._ws_exception = exc
        self._ws_close_code = exc.code
        self._ws_cancel_heartbeat()
        writer = self._ws_writer
        try:
            if writer is not None:
                await writer.close(exc.code)
        except asyncio.CancelledError:
            self._close_transport()
            raise
        except Exception:
            pass  # the connection is being dropped anyway
        self._close_transport()

    # -- receiving -------------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message from the peer.

        Pings are answered and pongs swallowed (``autoping``); the peer's Close is returned
        after being answered (``autoclose``). Once the connection is closed, returns a CLOSED
        message (CLOSING after the peer's Close without ``autoclose``); raises
        ``RuntimeError`` when called again and again on a closed connection, or while another
        task is receiving. ``timeout`` (default: the receive timeout) raises ``TimeoutError``.
        """
        reader = self._ws_reader
        if reader is None:
            raise RuntimeError("Call .prepare() first")
        read_nowait = self._ws_read_nowait
        if timeout is None:
            timeout = self._ws_receive_timeout
        while True:
            if self._ws_waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._ws_closed:
                self._ws_conn_lost += 1
                if self._ws_conn_lost >= THRESHOLD_CONNLOST_ACCESS:
                    raise RuntimeError("WebSocket connection is closed.")
                return WS_CLOSED_MESSAGE
            if self._ws_closing:
                return WS_CLOSING_MESSAGE
            # A message already queued is taken without suspending (nothing to wait for).
            msg = read_nowait() if read_nowait is not None else None
            if msg is None:
                try:
                    self._ws_waiting = True
                    try:
                        if timeout:
                            async with ceil_timeout(timeout):
                                msg = await reader.read()
                        else:
                            msg = await reader.read()
                    finally:
                        self._ws_waiting = False
                        close_wait = self._ws_close_wait
                        if close_wait is not None:
                            set_result(close_wait, None)
                except EofStream:
                    # The connection ended without a Close frame.
                    self._ws_abort(None)
                    return WS_CLOSED_MESSAGE
                except WebSocketError as exc:
                    await self._ws_fail(exc)
                    return WSMessage(WSMsgType.ERROR, exc, None)
                except (asyncio.CancelledError, TimeoutError):
                    raise
                except Exception as exc:
                    self._ws_abort(exc)
                    return WSMessage(WSMsgType.ERROR, exc, None)

            if self._ws_track_reads:
                loop = self._ws_loop
                assert loop is not None
                self._ws_last_data = loop.time()
            msg_type = msg[0]
            if msg_type is _BINARY or msg_type is _TEXT:
                return msg
            if msg_type == _CLOSE:
                self._ws_closing = True
                self._ws_close_code = msg[1]
                if not self._ws_closed and self._ws_autoclose:
                    # Echo the peer's code when it may be sent; the peer is about to hang
                    # up, so do not wait for pending writes.
                    code = msg[1] if is_valid_close_code(msg[1]) else WSCloseCode.OK
                    await self.close(code=code, drain=False)
            elif self._ws_autoping and (msg_type in (_PING, _PONG)):
                if msg_type == _PING:
                    try:
                        await self.pong(msg[1])
                    except ConnectionError:
                        pass  # closing: the next read reports how
                continue
            return msg

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """`receive` a TEXT message; ``WSMessageTypeError`` for any other type."""
        msg = await self.receive(timeout)
        if msg[0] != _TEXT:
            raise _wrong_type(msg, _TEXT)
        data: str = msg[1]
        return data

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """`receive` a BINARY message; ``WSMessageTypeError`` for any other type."""
        msg = await self.receive(timeout)
        if msg[0] != _BINARY:
            raise _wrong_type(msg, _BINARY)
        data: bytes = msg[1]
        return data

    async def receive_json(
        self, *, loads: JSONDecoder = json.loads, timeout: float | None = None
    ) -> Any:
        """`receive_str` and decode it with ``loads``."""
        data = await self.receive_str(timeout=timeout)
        return loads(data)

    def __aiter__(self) -> WebSocketSession:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        msg_type = msg[0]
        if msg_type in (_CLOSE, _CLOSING, _CLOSED):
            raise StopAsyncIteration
        return msg
