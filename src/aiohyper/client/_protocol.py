"""`ResponseHandler`: the ``asyncio.Protocol`` of one pooled client connection.

It feeds received bytes to a `ResponseParser` and queues each parsed ``(message, payload)``
for `ResponseHandler.read`. Between requests it decides whether the connection can go back to
the pool (`ResponseHandler.should_close`). It owns the ``sock_read`` timeout: the time allowed
between two pieces of data while a response is expected.

When the connection switches protocols (101, or a CONNECT tunnel) the bytes after the head stay
in `ResponseHandler.tail` until the new protocol's reader is installed with `set_parser`.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from contextlib import AbstractContextManager
from typing import Any, Final, Protocol

from .._http._message import RawResponseMessage
from .._http._parser import ResponseParser
from ..base_protocol import BaseProtocol
from ..helpers import calculate_timeout_when
from ..streams import EMPTY_PAYLOAD, StreamReader
from ._exceptions import (
    ClientConnectionError,
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
    SocketTimeoutError,
)

__all__ = ("ResponseHandler",)

_EMPTY: Final = b""
# Bytes kept for a protocol that does not read yet, before reading pauses (or, outside an
# upgrade, the connection is dropped).
_MAX_TAIL: Final = 2**16

# The transport reads into this buffer (see ResponseHandler.get_buffer); as large as the
# reads of asyncio's own transports, since a download costs per read.
_READ_BUFFER_SIZE: Final = 2**18


class _ReadBuffer(threading.local):
    """One receive buffer per thread, shared by the connections of its event loop: a read is
    copied out of it before the next one can start, and idle connections hold no buffer."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(_READ_BUFFER_SIZE))


_READ_BUFFER: Final = _ReadBuffer()


class _UpgradedReader(Protocol):
    """What `ResponseHandler.set_parser` accepts: a reader of the protocol after an upgrade
    (e.g. a WebSocket frame reader). ``feed_data`` returns ``(eof, tail)``."""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> Any: ...


class _FailableStream(Protocol):
    def set_exception(self, exc: BaseException) -> None: ...

    def feed_eof(self) -> None: ...


class _CurrentTimer:
    """The timer of the request a connection currently serves, for the body streams of its
    parser: entering it enters that request's timer (e.g. its ``total`` timeout)."""

    __slots__ = ("current", "entered")

    def __init__(self) -> None:
        self.current: AbstractContextManager[object] | None = None
        # The timers entered and not yet left, innermost last (exited in the same order even
        # if the connection moved on to another request meanwhile).
        self.entered: list[AbstractContextManager[object] | None] = []

    def __enter__(self) -> object:
        timer = self.current
        self.entered.append(timer)
        return None if timer is None else timer.__enter__()

    def __exit__(self, *exc_info: Any) -> bool | None:
        timer = self.entered.pop()
        return None if timer is None else timer.__exit__(*exc_info)


class ResponseHandler(BaseProtocol, asyncio.BufferedProtocol):
    """Reads the responses of one client connection.

    The user of a connection calls `set_response_params` before each request, then awaits
    `read` for the response head (1xx heads come first, one `read` each). The body arrives in
    the returned payload stream. Errors surface from `read` and from the payload:
    ``ServerDisconnectedError`` when the server closes before a response is complete,
    ``ClientPayloadError`` for a body cut short or malformed, ``SocketTimeoutError`` when the
    ``read_timeout`` passes without data.
    """

    __slots__ = (
        "_closed",
        "_exception",
        "_last_data",
        "_messages",
        "_parser",
        "_parser_params",
        "_payload",
        "_read_timeout",
        "_read_timer",
        "_should_close",
        "_skip_payload",
        "_tail",
        "_timeout_ceil_threshold",
        "_timer",
        "_upgraded",
        "_upgraded_payload",
        "_upgraded_reader",
        "_waiter",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._closed: asyncio.Future[None] = loop.create_future()
        self._messages: collections.deque[tuple[RawResponseMessage, StreamReader]] = (
            collections.deque()
        )
        self._waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._should_close = False
        self._parser: ResponseParser | None = None
        # The body being received (None once it is complete or before the first response).
        self._payload: StreamReader | None = None
        self._skip_payload = False
        self._upgraded = False
        self._upgraded_reader: _UpgradedReader | None = None
        self._upgraded_payload: _FailableStream | None = None
        # Bytes received before set_response_params, or after an upgrade until set_parser.
        self._tail = _EMPTY
        self._read_timeout: float | None = None
        self._timeout_ceil_threshold = 5.0
        self._read_timer: asyncio.TimerHandle | None = None
        self._last_data = 0.0
        # What the parser was made with, and the timer of the current request as its bodies
        # see it (one parser serves the responses of many requests).
        self._parser_params: tuple[object, ...] = ()
        self._timer = _CurrentTimer()

    # -- state -----------------------------------------------------------------------------

    @property
    def closed(self) -> asyncio.Future[None]:
        """Resolved (with ``None``) once the connection is lost."""
        return self._closed

    @property
    def upgraded(self) -> bool:
        """True once the server switched protocols; the connection is no longer HTTP."""
        return self._upgraded

    @property
    def tail(self) -> bytes:
        """Bytes received after the head that switched protocols, not yet handed to a reader."""
        return self._tail

    @property
    def should_close(self) -> bool:
        """Whether the connection cannot serve another request and must not be pooled."""
        payload = self._payload
        return bool(
            self._should_close
            or self._upgraded
            or self._exception is not None
            or (payload is not None and not payload.is_eof())
            or self._messages
            or self._tail
            or self.transport is None
            or _holds_partial_message(self._parser)
        )

    def exception(self) -> BaseException | None:
        """The error that ended the connection's response stream, if any."""
        return self._exception

    @property
    def read_timeout(self) -> float | None:
        """Seconds allowed between two pieces of data while a response is expected."""
        return self._read_timeout

    @read_timeout.setter
    def read_timeout(self, value: float | None) -> None:
        self._read_timeout = value

    def force_close(self) -> None:
        """Do not pool this connection when it is released."""
        self._should_close = True

    def close(self) -> None:
        """Close the transport (the server sees the connection end)."""
        self._drop_timeout()
        transport = self.transport
        if transport is not None:
            transport.close()
            self.transport = None
        self._should_close = True

    def abort(self) -> None:
        """Close the transport at once, dropping unsent data (no TLS shutdown)."""
        self._drop_timeout()
        transport = self.transport
        if transport is not None:
            transport.abort()
            self.transport = None
        self._should_close = True

    # -- per request -----------------------------------------------------------------------

    def set_response_params(
        self,
        *,
        timer: AbstractContextManager[object] | None = None,
        skip_payload: bool = False,
        read_until_eof: bool = False,
        auto_decompress: bool = True,
        read_timeout: float | None = None,
        read_bufsize: int = 2**16,
        timeout_ceil_threshold: float = 5,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
    ) -> None:
        """Prepare for the response of the request about to be sent.

        ``skip_payload``: the response has no body whatever its headers say (HEAD, CONNECT).
        ``read_until_eof``: a response without a length has a body that ends with the
        connection. ``read_timeout`` (seconds, ``None`` for none) starts now. ``timer`` is
        entered around every wait for body data (the request's ``total`` timeout).
        """
        self._skip_payload = skip_payload
        self._read_timeout = read_timeout
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._timer.current = timer
        params = (
            skip_payload,
            read_until_eof,
            auto_decompress,
            read_bufsize,
            max_line_size,
            max_field_size,
            max_headers,
        )
        if self._parser is None or params != self._parser_params:
            # A parser reads any number of responses in a row: a new one is only needed when
            # the way to read them changes (the timer is switched through self._timer).
            self._parser_params = params
            self._parser = ResponseParser(
                self,
                self._loop,
                read_bufsize,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
                max_headers=max_headers,
                payload_exception=ClientPayloadError,
                response_with_body=not skip_payload,
                read_until_eof=read_until_eof,
                auto_decompress=auto_decompress,
                timer=self._timer,
            )
        if self._read_timeout:
            self.start_timeout()
        if self._tail:
            data, self._tail = self._tail, _EMPTY
            self.data_received(data)

    def start_timeout(self) -> None:
        """(Re)start the read timeout from now (no-op without ``read_timeout``)."""
        self._last_data = self._loop.time()
        if self._read_timeout and self._read_timer is None:
            self._arm_timeout(self._last_data)

    async def read(self) -> tuple[RawResponseMessage, StreamReader]:
        """The next response head and its body stream.

        Raises the connection's error: ``ServerDisconnectedError`` if it closed first,
        ``SocketTimeoutError``, a parser error (``HttpProcessingError``) for a malformed head.
        """
        while True:
            if self._messages:
                return self._messages.popleft()
            if self._exception is not None:
                raise self._exception
            if self._waiter is not None:
                raise RuntimeError("read() called while another coroutine is already waiting")
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def set_exception(self, exc: BaseException, exc_cause: BaseException | None = None) -> None:
        """End the response stream with ``exc``: a waiting and every later `read` raise it.

        The connection will not be reused. The first error wins.
        """
        self._should_close = True
        if exc_cause is not None and exc_cause is not exc:
            exc.__cause__ = exc_cause
        if self._exception is None:
            self._exception = exc
        self._drop_timeout()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(self._exception)

    def set_parser(self, parser: _UpgradedReader, payload: _FailableStream) -> None:
        """Hand the upgraded connection to ``parser`` (a reader of the new protocol, whose
        output goes to ``payload``). The buffered `tail` is fed to it at once."""
        self._upgraded_reader = parser
        self._upgraded_payload = payload
        self._drop_timeout()
        if self._tail:
            data, self._tail = self._tail, _EMPTY
            self.data_received(data)
        self.resume_reading()

    # -- asyncio.Protocol ------------------------------------------------------------------

    # Transports read into a buffer we lend (asyncio.BufferedProtocol) rather than into a
    # fresh 256 KiB bytes per read: allocating that much is an mmap + mremap + munmap (and
    # page faults) for every response, however small.

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ_BUFFER.view

    def buffer_updated(self, nbytes: int) -> None:
        parser = self._parser
        if parser is not None and parser.in_long_body:
            # Body bytes first: the parser copies the body's part out of the buffer itself.
            self._feed_parser(parser, _READ_BUFFER.view[:nbytes])
        else:
            self.data_received(_READ_BUFFER.view[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        if not data:
            return
        reader = self._upgraded_reader
        if reader is not None:
            self._feed_upgraded(reader, data)
            return
        parser = self._parser
        if parser is None or self._upgraded:
            # No response expected yet, or the connection left HTTP: keep the bytes.
            self._tail += data
            if len(self._tail) > _MAX_TAIL:
                if self._upgraded:
                    self.pause_reading()  # until set_parser hands them to the new protocol
                elif self.transport is not None:
                    self.transport.close()  # nobody asked for this much
                    self._should_close = True
            return
        self._feed_parser(parser, data)

    def _feed_parser(self, parser: ResponseParser, data: bytes | memoryview) -> None:
        if self._read_timer is not None:
            self._last_data = self._loop.time()
        try:
            if type(data) is memoryview:
                messages, upgraded, tail = parser.feed_body_view(data)
            else:
                messages, upgraded, tail = parser.feed_data(data)
        except Exception as exc:
            # An HttpProcessingError (or a decoder's error): the parser already failed the
            # body being received with ClientPayloadError. A head completed in this same read
            # is still the answer: it is queued, and its body raises that error when read
            # (the reference: ClientPayloadError "can only be raised while reading the
            # response payload"). Without such a head, read() raises the parser's error.
            self._payload = None
            completed = parser.messages_before_error
            if completed and self._exception is None:  # a dead parser re-raises: queue once
                self._queue(list(completed))
                self._payload = None
            if self.transport is not None:
                self.transport.close()
            self.set_exception(exc)
            return
        if messages:
            self._queue(messages)
        if upgraded:
            self._upgraded = True
            self._drop_timeout()
            if tail:
                self._tail += tail

    def _queue(self, messages: list[tuple[RawResponseMessage, StreamReader]]) -> None:
        for message, payload in messages:
            if message.should_close:
                self._should_close = True
            if payload is EMPTY_PAYLOAD:
                self._payload = None
                if message.code >= 200:
                    self._drop_timeout()
            else:
                self._payload = payload
                payload.on_eof(self._on_payload_eof)
            self._messages.append((message, payload))
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_payload_eof(self) -> None:
        self._payload = None
        self._drop_timeout()

    def _feed_upgraded(self, reader: _UpgradedReader, data: bytes) -> None:
        try:
            eof, tail = reader.feed_data(data)
        except Exception as exc:
            payload = self._upgraded_payload
            if payload is not None:
                payload.set_exception(exc)
            if self.transport is not None:
                self.transport.close()
            self.set_exception(exc)
            return
        if eof:
            self._upgraded_reader = None
            self._upgraded_payload = None
            self._should_close = True
            if tail:
                self._tail += tail

    def eof_received(self) -> bool | None:
        # Let the transport close; connection_lost then ends whatever is in progress.
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        self._should_close = True
        self._drop_timeout()
        clean = exc is None
        parser, self._parser = self._parser, None
        payload, self._payload = self._payload, None
        uncompleted: Any = None
        if parser is not None:
            try:
                uncompleted = parser.feed_eof()
            except Exception as eof_error:
                # A body cut short; the parser set ClientPayloadError on it already, this
                # only adds the reason the connection went away.
                if payload is not None and payload.exception() is None:
                    message = f"Response payload is not completed: {eof_error!r}"
                    if not clean:
                        message = f"{message}. {exc!r}"
                    payload.set_exception(ClientPayloadError(message), eof_error)
        elif payload is not None and not payload.is_eof():
            payload.set_exception(ClientPayloadError("Response payload is not completed"))
        upgraded_payload, self._upgraded_payload = self._upgraded_payload, None
        if upgraded_payload is not None:
            self._upgraded_reader = None
            if clean:
                upgraded_payload.feed_eof()
            else:
                upgraded_payload.set_exception(_as_client_error(exc))
        if clean:
            self.set_exception(ServerDisconnectedError(uncompleted))
        else:
            self.set_exception(_as_client_error(exc), exc)
        if not self._closed.done():
            self._closed.set_result(None)
        super().connection_lost(exc)

    # -- read timeout ----------------------------------------------------------------------
    # One timer per response, not one per chunk: data only records when it came, and the timer
    # re-arms itself for the time left when it fires early.

    def _arm_timeout(self, since: float) -> None:
        timeout = self._read_timeout
        assert timeout
        when = calculate_timeout_when(since, timeout, self._timeout_ceil_threshold)
        self._read_timer = self._loop.call_at(when, self._on_read_timeout)

    def _drop_timeout(self) -> None:
        timer = self._read_timer
        if timer is not None:
            timer.cancel()
            self._read_timer = None

    def _on_read_timeout(self) -> None:
        self._read_timer = None
        timeout = self._read_timeout
        if not timeout:
            return
        if self._loop.time() < self._last_data + timeout:
            self._arm_timeout(self._last_data)
            return
        exc = SocketTimeoutError("Timeout on reading data from socket")
        payload = self._payload
        if payload is not None:
            payload.set_exception(exc)
            self._payload = None
        self.set_exception(exc)


def _holds_partial_message(parser: ResponseParser | None) -> bool:
    """Whether ``parser`` keeps the start of a message it has not completed (e.g. a head that
    came after a whole response): on a client connection with no response outstanding, such
    bytes were never asked for, and the next response would be parsed after them."""
    return parser is not None and parser.holds_partial_message


def _as_client_error(exc: BaseException | None) -> BaseException:
    """The error a reader sees when the connection broke with ``exc``."""
    if isinstance(exc, OSError) and not isinstance(exc, ClientConnectionError):
        return ClientOSError(*exc.args)
    if exc is None:
        return ServerDisconnectedError()
    return exc
