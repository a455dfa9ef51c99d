"""Client middlewares: plain callables wrapped around the sending of each request.

A middleware is ``async def middleware(request, handler) -> ClientResponse``: it may change the
request, call ``await handler(request)`` (zero, one or several times: a retry calls it again)
and inspect or replace the response. The first middleware of the sequence is the outermost
one. Middlewares run for every request a session sends, redirects included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from ._request import ClientRequest
    from ._response import ClientResponse

__all__ = ("ClientHandlerType", "ClientMiddlewareType", "build_client_middlewares")

#: ``async def handler(request) -> ClientResponse``: sends a request, returns its response.
ClientHandlerType: TypeAlias = Callable[["ClientRequest"], Awaitable["ClientResponse"]]
#: ``async def middleware(request, handler) -> ClientResponse``.
ClientMiddlewareType: TypeAlias = Callable[
    ["ClientRequest", ClientHandlerType], Awaitable["ClientResponse"]
]


def _bind(middleware: ClientMiddlewareType, handler: ClientHandlerType) -> ClientHandlerType:
    async def call(request: ClientRequest) -> ClientResponse:
        return await middleware(request, handler)

    return call


def build_client_middlewares(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """Wrap ``handler`` in ``middlewares`` (the first one outermost)."""
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler
