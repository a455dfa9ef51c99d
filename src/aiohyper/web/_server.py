"""The low-level web server: a protocol factory turning connections into `RequestHandler`\\ s.

``Server(handler)`` is what ``loop.create_server`` (or a runner's site) is given. Every accepted
connection gets a `RequestHandler` configured with the server's keyword arguments; each request
on it is built by ``request_factory`` (a plain `BaseRequest` by default) and answered by
``await handler(request)``.

With the default request factory (the low-level API, no `Application`) a request carrying
``Expect: 100-continue`` is answered ``100 Continue`` before the handler runs, since there is no
per-route expect handler to decide.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from .._http._message import RawRequestMessage
from ..abc import AbstractAccessLogger, AbstractStreamWriter
from ..streams import StreamReader
from ._protocol import RequestHandler
from ._request import BaseRequest

if TYPE_CHECKING:
    from ._response import StreamResponse

__all__ = ("Server",)

_RequestFactory = Callable[
    [RawRequestMessage, StreamReader, RequestHandler, AbstractStreamWriter, "asyncio.Task[None]"],
    BaseRequest,
]
_Handler = Callable[[Any], Awaitable["StreamResponse"]]


class Server:
    """Protocol factory for ``loop.create_server``; tracks the connections it created.

    ``handler`` is ``async def handler(request) -> StreamResponse``. ``handler_cancellation``
    cancels a running handler when its client disconnects. Other keyword arguments configure
    each connection (see `RequestHandler`).
    """

    def __init__(
        self,
        handler: _Handler,
        *,
        request_factory: _RequestFactory | None = None,
        handler_cancellation: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        unknown = sorted(set(kwargs) - _HANDLER_KWARGS)
        if unknown:
            raise TypeError(f"Unknown server parameters: {', '.join(unknown)}")
        access_log_class = kwargs.get("access_log_class")
        if access_log_class is not None and not (
            isinstance(access_log_class, type)
            and issubclass(access_log_class, AbstractAccessLogger)
        ):
            raise TypeError(
                "access_log_class must be a subclass of aiohyper.abc.AbstractAccessLogger, "
                f"got {access_log_class!r}"
            )
        self._connections: dict[RequestHandler, asyncio.Transport] = {}
        self._kwargs = kwargs
        self.requests_count = 0
        self.request_handler = handler
        self.request_factory: _RequestFactory = (
            request_factory if request_factory is not None else self._make_request
        )
        self._auto_continue = request_factory is None
        self.handler_cancellation = handler_cancellation

    @property
    def connections(self) -> list[RequestHandler]:
        """The currently open connections."""
        return list(self._connections)

    def connection_made(self, handler: RequestHandler, transport: asyncio.BaseTransport) -> None:
        self._connections[handler] = transport  # type: ignore[assignment]

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        self._connections.pop(handler, None)

    def _make_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> BaseRequest:
        return BaseRequest(message, payload, protocol, writer, task, self._loop)

    def pre_shutdown(self) -> None:
        """First step of a graceful shutdown: close idle connections now, and the busy ones
        as soon as their current response is sent."""
        for conn in list(self._connections):
            conn.close()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Close every connection, giving running handlers ``timeout`` seconds to finish
        (then the same again once cancelled; see `RequestHandler.shutdown`)."""
        conns = list(self._connections)
        if conns:
            await asyncio.gather(*(conn.shutdown(timeout) for conn in conns))
        self._connections.clear()

    def __call__(self) -> RequestHandler:
        return RequestHandler(self, loop=self._loop, **self._kwargs)


# The connection settings `RequestHandler` accepts.
_HANDLER_KWARGS: Final = frozenset(
    {
        "keepalive_timeout",
        "tcp_keepalive",
        "logger",
        "access_log_class",
        "access_log",
        "access_log_format",
        "debug",
        "max_line_size",
        "max_headers",
        "max_field_size",
        "lingering_time",
        "read_bufsize",
        "auto_decompress",
        "timeout_ceil_threshold",
    }
)
