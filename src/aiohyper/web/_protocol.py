"""`RequestHandler`: the `asyncio.Protocol` serving one HTTP/1.x server connection.

Bytes in, responses out::

    data_received ─► RequestParser.feed_data ─► queue of (message, payload)
                                                     │ in order, one at a time
                                                     ▼
    _serve coroutine: request_factory ─► request_handler ─► response sent (one write)
                                                     │
                   access log ◄──────────────────────┘ then: next queued request,
                                                        keep-alive idle, or close

Design points, and why:

* **Handlers run eagerly, inside the connection's task.** Each connection gets one long-lived
  `asyncio.Task` (created with its first request) whose coroutine is a small driver, not a
  native coroutine. ``data_received`` runs the request's coroutine at once, with that task
  entered as the current task: a handler that does not wait answers before the callback
  returns, with no task, future or loop iteration created for it, and
  ``asyncio.current_task()``, ``request.task`` and ``asyncio.timeout()`` work as usual. Only
  when a handler waits does its coroutine move into the connection task (the driver forwards
  ``send``/``throw``, so cancellation reaches the handler as it would in a task of its own).
  An idle connection's task waits on one future, untouched by later requests that do not wait.
  Each request runs in a fresh copy of the connection's base context, so context variables set
  by one handler never leak into the next request on the same keep-alive connection.
* **Pipelining** is answered in order: parsed requests wait in a deque; the next one starts when
  the previous response is finished. A peer that pipelines more than ``_MAX_QUEUED`` requests
  is paused (reading stops) until the backlog is served.
* **Keep-alive** uses a single ``loop.call_at`` handle per connection. Finishing a request only
  moves a deadline forward; the handle, when it fires early, re-arms itself at the deadline. So
  a busy connection allocates no timer per request. The same deadline bounds how long a new
  connection may stay silent (or dribble a request head).
* **Responses** of the plain `Response` kind (whole body known, no compression, no
  ``on_response_prepare`` listener) are sent synchronously: head and body serialised and
  handed to the transport in one ``write``. Everything else goes through ``prepare()`` and
  ``write_eof()``.
* **Errors**: a malformed request is answered with its status (400, 413, 414, 431, ... from the
  codec error's ``code``) and ``Connection: close``, written in order after the responses of
  earlier pipelined requests, then the connection closes. A handler exception becomes a 500
  (504 for ``TimeoutError``), with the traceback in the body only in debug mode. An
  ``HTTPException`` raised by the handler is sent as its response.
* **Unread request bodies** are drained (at most ``_DRAIN_LIMIT`` bytes, at most
  ``lingering_time`` seconds) so the connection can be reused; otherwise it is closed.
* **Peer disconnection**: with ``handler_cancellation`` the running handler is cancelled;
  without it (the default) the handler continues and its body reads and writes raise
  ``ConnectionResetError``.
* **Upgrades** (WebSocket, CONNECT): once the parser reports an upgrade, further bytes are kept
  aside until the response calls `RequestHandler.set_parser` with the new protocol's reader,
  which then receives them (see `UpgradedReader`). An upgraded connection is closed when its
  handler returns. `RequestHandler.set_upgrade_closer` registers how the new protocol says
  goodbye on a graceful shutdown (a WebSocket sends Close 1001).
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import logging
import math
import socket
import sys
import traceback
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Protocol, cast, final

from .. import hdrs
from .._http._message import HttpVersion11, RawRequestMessage
from .._http._parser import RequestParser
from .._http._writer import StreamWriter, serialize_headers
from ..abc import AbstractAccessLogger
from ..base_protocol import BaseProtocol
from ..http_exceptions import HttpProcessingError
from ..log import access_logger, server_logger
from ..streams import EMPTY_PAYLOAD, StreamReader
from ._exceptions import HTTPException
from ._log import AccessLogger
from ._response import Response, StreamResponse

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._server import Server

__all__ = ("PayloadAccessError", "RequestHandler", "RequestPayloadError", "UpgradedReader")

# Unread request body a finished request may leave behind and still have its connection reused.
_DRAIN_LIMIT: Final = 256 * 1024
# Parsed requests waiting behind the running one before reading from the peer pauses.
_MAX_QUEUED: Final = 32

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"

# Make a task current outside of its own step (what Python 3.12's eager tasks do inside).
_enter_task: Final = asyncio.tasks._enter_task
_leave_task: Final = asyncio.tasks._leave_task
# The mapping behind them (loop -> current task) where it is a plain dict (Python 3.11-3.13),
# for the hot path to skip two calls; None elsewhere (3.14 keeps it per thread).
_current_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = getattr(
    asyncio.tasks, "_current_tasks", None
)
if sys.version_info >= (3, 14) or type(_current_tasks) is not dict:
    _current_tasks = None


class _Marker:
    """A named sentinel of the request driver."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


# What `RequestHandler._process` returns when no request is left waiting to be resumed.
_IDLE: Final = _Marker("<idle>")
# What `RequestHandler._step` returns when the request's coroutine finished.
_DONE: Final = _Marker("<done>")
# `RequestHandler._handoff` when there is nothing to hand over.
_NOTHING: Final = _Marker("<nothing>")


class RequestPayloadError(Exception):
    """The request body could not be read: it is malformed or the connection broke."""


class PayloadAccessError(Exception):
    """The request body was read after the response to it had been sent."""


class UpgradedReader(Protocol):
    """What `RequestHandler.set_parser` accepts: the reader of the protocol a connection was
    upgraded to (for instance the WebSocket frame reader).

    ``feed_data(data)`` returns ``(eof, tail)``; a true ``eof`` means the reader wants no more
    data and the connection is closed gracefully (``tail`` is ignored). ``feed_eof()`` is
    called once when the peer closes the connection.
    """

    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> Any: ...


@final
class _BadRequest:
    """Stands in the request queue for a request the parser rejected."""

    __slots__ = ("exc",)

    def __init__(self, exc: HttpProcessingError) -> None:
        self.exc = exc


_QueueItem = tuple[RawRequestMessage | _BadRequest, StreamReader]


class _ConnectionDriver(Coroutine[Any, None, None]):
    """The coroutine of a connection's task (see the module docstring).

    `asyncio.Task` steps it like a native coroutine: ``send(None)`` resumes the request
    handler that is waiting (or starts the next queued request), ``throw(exc)`` delivers a
    cancellation to it. What the handler's coroutine yields (the future it waits for) is
    returned to the task. With no request left it returns the connection's idle future; once
    the connection is gone it ends (``StopIteration``).
    """

    __slots__ = ("_handler",)

    def __init__(self, handler: RequestHandler) -> None:
        self._handler = handler

    def send(self, value: None) -> Any:
        handler = self._handler
        coro = handler._coro
        if coro is None or handler._handoff is not _NOTHING:
            return handler._task_step(None)
        # A waiting handler resumes: the steady state of a long-lived handler (a WebSocket
        # loop...), so `_task_step` is inlined for it.
        try:
            return handler._coro_context.run(coro.send, None)  # type: ignore[union-attr]
        except StopIteration:
            handler._request_done()
            return handler._task_step(None)  # the next request, or idle
        except BaseException:
            handler._request_done()
            handler._task_ended()
            raise

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if not isinstance(typ, BaseException):
            typ = typ() if val is None else val
        return self._handler._task_step(typ)

    def close(self) -> None:
        self._handler._task_closed()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("a connection driver is run by its task, not awaited")

    def __repr__(self) -> str:
        return f"<connection driver of {self._handler!r}>"


class RequestHandler(BaseProtocol):
    """Serves one client connection for a `Server` (``manager``).

    Keyword arguments are the server's connection settings (also accepted by `AppRunner`,
    `Server` and ``Application(handler_args=...)``):

    ``keepalive_timeout`` seconds an idle connection is kept open (also the limit for a new
    connection to send a request); ``tcp_keepalive`` sets ``SO_KEEPALIVE``; ``logger`` gets
    handler errors; ``access_log`` (``None`` disables it), ``access_log_class`` and
    ``access_log_format`` configure access logging; ``debug`` puts tracebacks into 500
    responses (also on when the loop is in debug mode); ``max_line_size``,
    ``max_field_size`` and ``max_headers`` limit request heads; ``read_bufsize`` is the body
    buffer's flow-control limit; ``auto_decompress`` decodes compressed request bodies;
    ``lingering_time`` bounds the seconds spent draining an unread body (``0``: never drain,
    close instead); ``timeout_ceil_threshold``: timeouts of at least this many seconds are
    rounded up to whole seconds.
    """

    __slots__ = (
        "_access_logger",
        "_auto_continue",
        "_busy",
        "_close",
        "_conn_task",
        "_context",
        "_coro",
        "_coro_context",
        "_debug",
        "_finished",
        "_force_close",
        "_handoff",
        "_idle_waiter",
        "_keepalive",
        "_keepalive_deadline",
        "_keepalive_handle",
        "_keepalive_timeout",
        "_last_payload",
        "_lingering_time",
        "_manager",
        "_message_tail",
        "_messages",
        "_parser",
        "_parser_failed",
        "_payload_parser",
        "_request_count",
        "_request_factory",
        "_request_handler",
        "_task",
        "_tcp_keepalive",
        "_timeout_ceil_threshold",
        "_upgrade_closer",
        "_upgraded",
        "logger",
    )

    def __init__(
        self,
        manager: Server,
        *,
        loop: asyncio.AbstractEventLoop,
        keepalive_timeout: float = 3630.0,
        tcp_keepalive: bool = True,
        logger: logging.Logger = server_logger,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        access_log: logging.Logger | None = access_logger,
        access_log_format: str = AccessLogger.LOG_FORMAT,
        debug: bool = False,
        max_line_size: int = 8190,
        max_headers: int = 128,
        max_field_size: int = 8190,
        lingering_time: float = 10.0,
        read_bufsize: int = 2**16,
        auto_decompress: bool = True,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        super().__init__(loop)
        self._manager = manager
        self._request_handler = manager.request_handler
        self._request_factory = manager.request_factory
        self._auto_continue = manager._auto_continue
        self._keepalive_timeout = keepalive_timeout
        self._tcp_keepalive = tcp_keepalive
        self._lingering_time = float(lingering_time)
        self._timeout_ceil_threshold = float(timeout_ceil_threshold)
        self._debug = debug
        self.logger = logger

        self._parser = RequestParser(
            self,
            loop,
            read_bufsize,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            payload_exception=RequestPayloadError,
            auto_decompress=auto_decompress,
            timer=None,
        )
        self._messages: deque[_QueueItem] = deque()
        self._last_payload: StreamReader | None = None
        self._context = contextvars.Context()
        self._request_count = 0

        # The request being served (see the module docstring): ``_busy`` from its start to
        # its end; ``_coro`` its coroutine and ``_coro_context`` the context it runs in;
        # ``_handoff`` what it yielded while running eagerly, not yet taken by the connection
        # task; ``_task`` the connection task while the request waits inside it;
        # ``_finished`` a future a shutdown waits on for the request to end.
        self._busy = False
        self._coro: Coroutine[Any, None, None] | None = None
        self._coro_context: contextvars.Context | None = None
        self._handoff: Any = _NOTHING
        self._task: asyncio.Task[None] | None = None
        self._finished: asyncio.Future[None] | None = None
        # The connection's task (created with the first request) and the future it waits on
        # while no request needs it.
        self._conn_task: asyncio.Task[None] | None = None
        self._idle_waiter: asyncio.Future[None] | None = None

        self._keepalive = True
        self._close = False
        self._force_close = False
        self._keepalive_handle: asyncio.TimerHandle | None = None
        self._keepalive_deadline = 0.0

        self._parser_failed = False
        self._upgraded = False
        self._message_tail = b""
        self._payload_parser: UpgradedReader | None = None
        self._upgrade_closer: Callable[[], Awaitable[object]] | None = None

        # None: no access logging, and no per-request work for it.
        self._access_logger: AbstractAccessLogger | None = None
        if access_log is not None:
            self._access_logger = access_log_class(access_log, access_log_format)

    def __repr__(self) -> str:
        state = "connected" if self.transport is not None else "disconnected"
        return f"<{type(self).__name__} {state}>"

    # -- public state ----------------------------------------------------------------------

    @property
    def keepalive_timeout(self) -> float:
        """Seconds an idle keep-alive connection is kept open."""
        return self._keepalive_timeout

    @property
    def peername(self) -> Any:
        """The peer's address (``transport.get_extra_info("peername")``), ``None`` once lost."""
        transport = self.transport
        return transport.get_extra_info("peername") if transport is not None else None

    @property
    def ssl_context(self) -> Any:
        """The ``ssl.SSLContext`` of a TLS connection, else ``None``."""
        transport = self.transport
        return transport.get_extra_info("sslcontext") if transport is not None else None

    @property
    def request_count(self) -> int:
        """Requests started on this connection so far."""
        return self._request_count

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._tcp_keepalive:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                except OSError:  # pragma: no cover - platform specific
                    pass
        # Requests run in copies of this context (see the module docstring).
        self._context = contextvars.copy_context()
        self._manager.connection_made(self, transport)
        # A connection that never sends a request is closed like an idle keep-alive one.
        if self._keepalive_timeout > 0:
            self._arm_keepalive()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._manager.connection_lost(self, exc)
        super().connection_lost(exc)
        self._force_close = True
        self._cancel_keepalive()
        self._messages.clear()

        if self._payload_parser is not None:
            try:
                self._payload_parser.feed_eof()
            except Exception as e:  # the new protocol's reader may complain about truncation
                self.logger.debug("Error ending the upgraded connection's reader", exc_info=e)
        # A request body never ends with the connection: one still being received is cut.
        payload = self._last_payload
        self._last_payload = None
        if payload is not None and not payload.is_eof() and payload.exception() is None:
            error = ConnectionResetError("Connection lost")
            if exc is not None:
                error.__cause__ = exc
            payload.set_exception(error)

        task = self._task
        if task is not None and self._manager.handler_cancellation:
            task.cancel("peer disconnected")
        self._wake_task()  # an idle connection task ends

    def data_received(self, data: bytes) -> None:
        if self._force_close or self._parser_failed:
            return
        if self._upgraded:
            reader = self._payload_parser
            if reader is None:
                # The handler has not taken the connection over yet; keep the bytes for it.
                self._message_tail += data
            else:
                eof, _ = reader.feed_data(data)
                if eof:
                    self.close()
            return
        try:
            messages, upgraded, tail = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            # The parser is dead: answer this after the requests already queued (those that
            # completed in this very read included), then close.
            self._parser_failed = True
            queue = self._messages
            if not self._close:
                before = self._parser.messages_before_error
                if before:
                    queue.extend(before)
                    self._last_payload = before[-1][1]
            queue.append((_BadRequest(exc), EMPTY_PAYLOAD))
            if not self._busy:
                self._run_eagerly()
            return
        if upgraded:
            self._upgraded = True
            self._message_tail = tail
        if messages:
            if self._close:
                # Closing gracefully: bodies of the running request still flow, new requests
                # are not started.
                return
            queue = self._messages
            queue.extend(messages)
            self._last_payload = messages[-1][1]
            if not self._busy:
                # _run_eagerly(), inlined for the common case (this runs for every request).
                task = self._conn_task
                loop = self._loop
                if task is not None and _current_tasks is not None and loop not in _current_tasks:
                    _current_tasks[loop] = task  # _enter_task()
                    try:
                        result = self._process(eager=True)
                    finally:
                        del _current_tasks[loop]  # _leave_task()
                    if result is not _IDLE:
                        self._handoff = result
                        self._wake_task()
                else:
                    self._run_eagerly()
            if len(queue) >= _MAX_QUEUED:
                self.pause_reading()

    def resume_reading(self) -> None:
        # Body streams resume reading as they drain; a long pipelining backlog keeps it paused.
        if len(self._messages) < _MAX_QUEUED:
            super().resume_reading()

    # -- control ---------------------------------------------------------------------------

    def keep_alive(self, val: bool) -> None:
        """Allow (``True``) or forbid (``False``) reusing the connection after this response."""
        self._keepalive = val

    def close(self) -> None:
        """Close gracefully: finish the running request (if any), start no new one."""
        self._close = True
        self._messages.clear()
        self._cancel_keepalive()
        if not self._busy:
            self._close_transport()

    def force_close(self) -> None:
        """Close the connection now; a running handler sees its writes fail."""
        self._force_close = True
        self._messages.clear()
        self._cancel_keepalive()
        self._close_transport()
        if not self._busy:
            self._wake_task()  # an idle connection task ends

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        """Finish the running request within ``timeout`` seconds, then close.

        An upgraded connection is first asked to end its protocol (see `set_upgrade_closer`).
        A handler still running after ``timeout`` is cancelled and given ``timeout`` more
        seconds to unwind; then the connection is closed regardless.
        """
        self.close()
        closer, self._upgrade_closer = self._upgrade_closer, None
        if closer is not None:
            try:
                async with asyncio.timeout(timeout):
                    await closer()
            except Exception as exc:  # a timeout, or the peer is already gone
                self.logger.debug("Error closing the upgraded connection", exc_info=exc)
        if self._busy:
            finished = self._finished
            if finished is None:
                finished = self._finished = self._loop.create_future()
            await asyncio.wait((finished,), timeout=timeout)
            task = self._task
            if self._busy and task is not None:
                task.cancel("server shutdown")
                await asyncio.wait((finished,), timeout=timeout)
        self.force_close()

    def set_upgrade_closer(self, closer: Callable[[], Awaitable[object]]) -> None:
        """Register ``closer()``, awaited by `shutdown` before it waits for the handler: it
        ends the protocol the connection was upgraded to politely (e.g. a WebSocket sends
        Close 1001, Going Away), so that the handler can return."""
        self._upgrade_closer = closer

    def set_parser(self, parser: UpgradedReader) -> None:
        """Hand every further byte from the peer to ``parser`` (after an upgrade response).

        Bytes that arrived after the upgrade request, before this call, are fed at once.
        """
        if self._payload_parser is not None:
            raise RuntimeError("The connection was already handed over to another reader")
        self._payload_parser = parser
        self._upgraded = True
        tail, self._message_tail = self._message_tail, b""
        if tail:
            eof, _ = parser.feed_data(tail)
            if eof:
                self.close()

    # -- driving request coroutines (see the module docstring) -----------------------------

    def _run_eagerly(self) -> None:
        """Serve the queued requests now, as the connection task, until one waits."""
        task = self._conn_task
        if task is None:
            task = self._conn_task = self._loop.create_task(
                _ConnectionDriver(self), context=self._context
            )
        loop = self._loop
        outer = asyncio.current_task(loop)
        if outer is None:
            _enter_task(loop, task)
            try:
                result = self._process(eager=True)
            finally:
                _leave_task(loop, task)
        else:
            # Called from inside another task (a test feeding bytes, a transport calling back
            # synchronously): step out of it for the duration, as an eager task start does.
            # (Asked first: a refused _enter_task formats both tasks' reprs into its error.)
            _leave_task(loop, outer)
            _enter_task(loop, task)
            try:
                result = self._process(eager=True)
            finally:
                _leave_task(loop, task)
                _enter_task(loop, outer)
        if result is not _IDLE:
            # The handler waits: its coroutine moves into the connection task.
            self._handoff = result
            self._wake_task()

    def _process(self, *, eager: bool) -> Any:
        """Start queued requests in order until one waits: return what it yielded (for the
        connection task to wait on), or `_IDLE` when the queue is empty."""
        queue = self._messages
        task = self._conn_task
        assert task is not None
        while queue:
            message, payload = queue.popleft()
            if len(queue) == _MAX_QUEUED - 1 and self._reading_paused:
                super().resume_reading()  # the backlog that paused reading is going down
            if type(message) is _BadRequest:
                # Nothing to run: answer and close right here.
                self._send_bad_request(message.exc)
                return _IDLE
            self._busy = True
            coro = self._coro = self._serve(message, payload, task)
            context = self._coro_context = self._context.copy()
            # The first step of the request, as `_step` would do it (inlined: once per request).
            # next() with a default: a coroutine returning None ends without a StopIteration.
            try:
                result = context.run(next, coro.__await__(), _DONE)
            except asyncio.CancelledError:
                self._request_done()
                if not eager:
                    raise
                # The handler raised CancelledError itself; _serve closed the connection.
                return _IDLE
            except BaseException:
                self._request_done()
                raise
            if result is _DONE:
                self._coro = None
                self._coro_context = None
                self._busy = False
                if self._finished is not None:
                    self._request_done()
                continue
            self._task = task  # the request now waits inside the connection task
            return result
        return _IDLE

    def _step(self, method: Callable[[Any], Any], arg: Any) -> Any:
        """Advance the current request's coroutine by one step, in its context; `_DONE` when
        it has finished."""
        context = self._coro_context
        assert context is not None
        try:
            return context.run(method, arg)
        except StopIteration:
            self._request_done()
            return _DONE
        except BaseException:
            self._request_done()
            raise

    def _request_done(self) -> None:
        self._coro = None
        self._coro_context = None
        self._busy = False
        self._task = None
        finished = self._finished
        if finished is not None:
            self._finished = None
            if not finished.done():
                finished.set_result(None)

    def _task_step(self, exc: BaseException | None) -> Any:
        """One step of the connection task (`_ConnectionDriver`): resume the waiting request,
        serve what is queued, then wait for more work (or end with the connection)."""
        try:
            yielded = self._handoff
            if yielded is not _NOTHING:
                self._handoff = _NOTHING
                if exc is None:
                    return yielded  # the future the eager run stopped at
                if isinstance(exc, asyncio.CancelledError) and isinstance(yielded, asyncio.Future):
                    # As Task.cancel() would: the awaited future is cancelled too.
                    yielded.cancel()
            coro = self._coro
            if coro is not None:
                if exc is None:
                    result = self._step(coro.send, None)
                else:
                    result = self._step(coro.throw, exc)
                if result is not _DONE:
                    return result
            elif exc is not None:
                # The idle connection task is cancelled (e.g. by asyncio.run() ending): the
                # connection ends with it.
                self._close_transport()
                raise exc
            result = self._process(eager=False)
            if result is not _IDLE:
                return result
            if self._force_close or self.transport is None:
                self._conn_task = None
                raise StopIteration
            waiter = self._idle_waiter = self._loop.create_future()
            waiter._asyncio_future_blocking = True
            return waiter
        except BaseException:
            self._task_ended()
            raise

    def _task_ended(self) -> None:
        # The connection task ends (with the connection, or cancelled): a later request
        # starts a new one.
        self._conn_task = None
        self._idle_waiter = None

    def _task_closed(self) -> None:
        """The connection driver is closed: close the waiting request's coroutine too."""
        coro = self._coro
        if coro is not None:
            self._coro = None
            coro.close()
            self._request_done()

    def _wake_task(self) -> None:
        """Let the connection task run its next step (it waits on its idle future)."""
        waiter = self._idle_waiter
        if waiter is not None:
            self._idle_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- request processing ----------------------------------------------------------------

    async def _serve(
        self, message: RawRequestMessage, payload: StreamReader, task: asyncio.Task[None]
    ) -> None:
        """Serve one request (``task`` is the connection task it runs as): run the handler,
        send its response, then settle the connection (keep-alive or close)."""
        loop = self._loop
        self._request_count += 1
        self._manager.requests_count += 1
        writer = StreamWriter(self, loop)
        try:
            request = self._request_factory(message, payload, self, writer, task)
        except Exception as exc:
            self.logger.exception("Error creating the request object", exc_info=exc)
            self._send_error_and_close(500, "Server got itself in trouble")
            return
        access_logger = self._access_logger
        start = loop.time() if access_logger is not None else 0.0
        resp: StreamResponse | None = None
        try:
            if self._auto_continue and message.version >= HttpVersion11:
                expect = message.headers.get(hdrs.EXPECT)
                if expect is not None and expect.lower() == "100-continue":
                    self._send_continue(payload)
            try:
                resp = await self._request_handler(request)
            except BaseException as exc:
                resp = self._handler_failed(request, writer, exc)
            else:
                if type(resp) is not Response:
                    resp = self._check_response(request, writer, resp)
            if resp is None:
                keep = False
            else:
                if (self._close or not self._keepalive or self._keepalive_timeout <= 0) and not (
                    self._upgraded or resp.prepared
                ):
                    # The connection closes after this response: say so in its head.
                    resp.force_close()
                try:
                    if type(resp) is Response and resp._send_now(request):
                        keep_alive = resp._keep_alive
                        if self._paused:
                            await writer.drain()
                    else:
                        await resp.prepare(request)
                        await resp.write_eof()
                        keep_alive = resp.keep_alive
                except Exception as exc:
                    keep = await self._send_failed(request, writer, exc)
                else:
                    keep = (
                        bool(keep_alive)
                        and self._keepalive
                        and not (self._upgraded or self._force_close or self._close)
                    )
                if access_logger is not None and access_logger.enabled:
                    # An AbstractAsyncAccessLogger's log() returns a coroutine to await.
                    logged = cast(Any, access_logger.log)(request, resp, loop.time() - start)
                    if logged is not None:
                        await logged
            if keep and payload is not EMPTY_PAYLOAD and not payload.is_eof():
                keep = await self._drain_body(message, payload)
        except asyncio.CancelledError:
            self._close_transport()
            raise
        except Exception as exc:
            # Only bugs get here (the handler's own errors are answered above).
            self.logger.exception("Unhandled exception while serving a request", exc_info=exc)
            keep = False
        if not keep:
            self._messages.clear()  # pipelined requests behind this one are not answered
            if payload is not EMPTY_PAYLOAD and not payload.is_eof():
                payload.set_exception(PayloadAccessError())
            try:
                # What the handler wrote before failing still goes out, ahead of the close.
                writer.flush()
            except ConnectionError:
                pass
            self._close_transport()
        elif not self._messages:
            # Idle now: the keep-alive deadline moves (as _arm_keepalive, inlined).
            timeout = self._keepalive_timeout
            if timeout > 0 and self._keepalive_handle is not None:
                self._keepalive_deadline = loop.time() + timeout
            else:
                self._arm_keepalive()

    def _send_continue(self, payload: StreamReader) -> None:
        # The low-level Server has no expect handler: agree to receive the body at once.
        transport = self.transport
        if transport is not None and not payload.is_eof():
            transport.write(_CONTINUE)

    def _handler_failed(
        self, request: BaseRequest, writer: StreamWriter, exc: BaseException
    ) -> StreamResponse | None:
        """The response for a handler that raised ``exc`` (``None``: no response can be
        sent). Cancellation and other non-``Exception`` errors propagate."""
        if isinstance(exc, HTTPException):
            return _response_from_exception(exc)
        if not isinstance(exc, Exception):
            raise exc
        if isinstance(exc, TimeoutError):
            self.logger.debug("Request handler timed out", exc_info=exc)
            return self._error_response(request, writer, 504, exc)
        if isinstance(exc, ConnectionError):
            if self.transport is None:
                self.logger.debug("Ignored premature client disconnection", exc_info=exc)
                return None
            return self._error_response(request, writer, 500, exc)
        if isinstance(exc, RequestPayloadError):
            # A malformed body (bad chunk, oversized trailer...) is the client's error: answer
            # with the codec's status, as if the bytes had been rejected with the head.
            cause = exc.__cause__
            if isinstance(cause, HttpProcessingError) and 400 <= cause.code < 500:
                self.logger.debug("Malformed request body", exc_info=exc)
                return self._error_response(request, writer, cause.code, exc)
        return self._error_response(request, writer, 500, exc)

    def _check_response(
        self, request: BaseRequest, writer: StreamWriter, resp: Any
    ) -> StreamResponse | None:
        """``resp`` if a handler may return it, else the 500 response for it."""
        if isinstance(resp, HTTPException):
            warnings.warn(
                "returning HTTPException object is deprecated (#2415) and will be removed, "
                "please raise the exception instead",
                DeprecationWarning,
                stacklevel=1,
            )
        elif not isinstance(resp, StreamResponse):
            if resp is None:
                error = RuntimeError("Missing return statement on request handler")
            else:
                error = RuntimeError(
                    f"Web-handler should return a response instance, got {resp!r}"
                )
            return self._error_response(request, writer, 500, error)
        return cast(StreamResponse, resp)

    async def _send_failed(
        self, request: BaseRequest, writer: StreamWriter, exc: Exception
    ) -> bool:
        """Sending the response failed with ``exc``: answer 500 if nothing went out yet.
        Returns ``False`` (the connection is not reused)."""
        if isinstance(exc, ConnectionError):
            self.logger.debug("Ignored premature client disconnection", exc_info=exc)
            return False
        if writer.output_size:
            self.logger.exception("Error sending the response", exc_info=exc)
            return False
        # Nothing went out yet (e.g. an on_response_prepare hook failed): answer 500.
        error_resp = self._error_response(request, writer, 500, exc)
        if error_resp is None:
            return False
        try:
            await error_resp.prepare(request)
            await error_resp.write_eof()
        except Exception as exc2:
            self.logger.debug("Could not send the error response", exc_info=exc2)
        return False

    def _error_response(
        self, request: BaseRequest, writer: StreamWriter, status: int, exc: BaseException
    ) -> StreamResponse | None:
        """The response for a handler that failed with ``exc`` (``None``: too late for one)."""
        if status >= 500:
            self.logger.exception("Error handling request", exc_info=exc)
        if writer.output_size:
            # The handler's own response already started; the only signal left is closing.
            return None
        phrase = HTTPStatus(status).phrase
        title = f"{status} {phrase}"
        message = "Server got itself in trouble" if status == 500 else phrase
        tb = None
        if self._debug or self._loop.get_debug():
            tb = "".join(traceback.format_exception(exc))
        if "text/html" in request.headers.get(hdrs.ACCEPT, ""):
            body = f"<h1>{title}</h1>{html.escape(message)}"
            if tb is not None:
                body += f"<h2>Traceback:</h2>\n<pre>{html.escape(tb)}</pre>"
            text = f"<html><head><title>{title}</title></head><body>{body}</body></html>\n"
            content_type = "text/html"
        else:
            text = f"{title}\n\n{message}\n"
            if tb is not None:
                text += f"\n{tb}"
            content_type = "text/plain"
        resp = Response(status=status, text=text, content_type=content_type)
        resp.force_close()
        return resp

    async def _drain_body(self, message: RawRequestMessage, payload: StreamReader) -> bool:
        """Read and drop what is left of an unread body; ``False``: close the connection."""
        lingering = self._lingering_time
        if lingering <= 0:
            return False
        length = message.headers.get(hdrs.CONTENT_LENGTH)
        if (
            length is not None
            and length.isdigit()
            and int(length) - payload.total_bytes > _DRAIN_LIMIT
        ):
            return False  # too much to wait for
        budget = _DRAIN_LIMIT
        try:
            async with asyncio.timeout(lingering):
                while True:
                    chunk = await payload.readany()
                    if not chunk:
                        return True
                    budget -= len(chunk)
                    if budget < 0:
                        return False
        except Exception:  # timeout, broken or failed body: not worth keeping the connection
            return False

    def _send_bad_request(self, exc: HttpProcessingError) -> None:
        """Answer a request the parser rejected, then close the connection."""
        self.logger.debug("Bad request from %s: %s", self.peername, exc)
        status = exc.code if 400 <= exc.code < 600 else 400
        self._send_error_and_close(status, exc.message, exc.headers)

    def _send_error_and_close(
        self, status: int, message: str, extra_headers: Mapping[str, str] | None = None
    ) -> None:
        """Write a small plain text error response straight to the transport and close.

        For failures before any request object exists, so no response object can be used.
        """
        transport = self.transport
        self._force_close = True
        self._cancel_keepalive()
        self._messages.clear()
        if transport is None:
            return
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        body = f"{status} {phrase}\n\n{message}\n".encode("utf-8", "backslashreplace")
        headers: dict[str, str] = dict(extra_headers) if extra_headers else {}
        headers["Content-Type"] = "text/plain; charset=utf-8"
        headers["Content-Length"] = str(len(body))
        headers["Connection"] = "close"
        status_line = f"HTTP/1.1 {status} {phrase}"
        try:
            head = serialize_headers(status_line, headers)
        except ValueError:  # a codec error carried an unusable header
            head = serialize_headers(
                status_line, {k: v for k, v in headers.items() if k in _SAFE_ERROR_HEADERS}
            )
        transport.write(head + body)
        transport.close()

    # -- keep-alive ------------------------------------------------------------------------

    def _arm_keepalive(self) -> None:
        """The connection became idle: close it after ``keepalive_timeout`` seconds."""
        timeout = self._keepalive_timeout
        if timeout <= 0:
            self._close_transport()
            return
        loop = self._loop
        when = self._keepalive_deadline = loop.time() + timeout
        if self._keepalive_handle is None:
            self._keepalive_handle = loop.call_at(self._timer_when(when), self._on_keepalive)

    def _timer_when(self, when: float) -> float:
        # The deadline is exact; the timer is rounded up to a whole second for long timeouts
        # (as calculate_timeout_when() does), so that many connections' timers coincide.
        return math.ceil(when) if self._keepalive_timeout >= self._timeout_ceil_threshold else when

    def _on_keepalive(self) -> None:
        self._keepalive_handle = None
        if self._busy or self._messages or self.transport is None:
            return  # busy: the next idle transition re-arms the timer
        when = self._keepalive_deadline
        if when - self._loop.time() > 0.001:
            self._keepalive_handle = self._loop.call_at(self._timer_when(when), self._on_keepalive)
            return
        self.logger.debug("Closing idle keep-alive connection")
        self._close_transport()

    def _cancel_keepalive(self) -> None:
        handle = self._keepalive_handle
        if handle is not None:
            handle.cancel()
            self._keepalive_handle = None

    def _close_transport(self) -> None:
        self._cancel_keepalive()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.close()


_SAFE_ERROR_HEADERS: Final = frozenset({"Content-Type", "Content-Length", "Connection"})


def _response_from_exception(exc: HTTPException) -> StreamResponse:
    """A fresh response for a raised ``HTTPException``.

    Fresh because applications commonly raise shared exception instances, and a response can
    only be sent once.
    """
    resp = Response(status=exc.status, reason=exc.reason, text=exc.text, headers=exc.headers)
    cookies = getattr(exc, "cookies", None)
    if cookies:
        resp.cookies.update(cookies)
    return resp
