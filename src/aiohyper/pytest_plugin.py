"""pytest fixtures for testing aiohyper applications (the ``pytest-aiohttp`` plugin).

Load it with ``pytest_plugins = ["aiohyper.pytest_plugin"]`` in the root ``conftest.py`` or
with ``pytest -p aiohyper.pytest_plugin``. It is built on pytest-asyncio: the fixtures are
async fixtures on the test's event loop, so async tests need ``asyncio_mode = auto`` (or the
``@pytest.mark.asyncio`` marker).

Fixtures: `aiohttp_client` (a started `TestClient` for an application or a test server),
`aiohttp_server` (a started `TestServer`), `aiohttp_raw_server` (a started `RawTestServer`),
`aiohttp_unused_port` (a function returning a free port), `aiohttp_client_cls` (the client
class `aiohttp_client` builds; override it to use a subclass) and `loop` (the running loop,
for old tests). Whatever a fixture creates is closed when the test ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, overload

import pytest
import pytest_asyncio

from .test_utils import BaseTestServer, RawTestServer, TestClient, TestServer, unused_port
from .web._app import Application
from .web._request import BaseRequest, Request
from .web._response import StreamResponse

__all__ = (
    "AiohttpClient",
    "AiohttpRawServer",
    "AiohttpServer",
    "aiohttp_client",
    "aiohttp_client_cls",
    "aiohttp_raw_server",
    "aiohttp_server",
    "aiohttp_unused_port",
    "loop",
)


class AiohttpClient(Protocol):
    """The type of the `aiohttp_client` fixture, for annotating tests."""

    @overload
    async def __call__(
        self,
        __param: Application,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient[Request, Application]: ...

    @overload
    async def __call__(
        self,
        __param: BaseTestServer,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient[BaseRequest, None]: ...


class AiohttpServer(Protocol):
    """The type of the `aiohttp_server` fixture, for annotating tests."""

    def __call__(
        self, app: Application, *, host: str = ..., port: int | None = ..., **kwargs: Any
    ) -> Awaitable[TestServer]: ...


class AiohttpRawServer(Protocol):
    """The type of the `aiohttp_raw_server` fixture, for annotating tests."""

    def __call__(
        self,
        handler: Callable[[BaseRequest], Awaitable[StreamResponse]],
        *,
        host: str = ...,
        port: int | None = ...,
        **kwargs: Any,
    ) -> Awaitable[RawTestServer]: ...


@pytest_asyncio.fixture
async def loop() -> asyncio.AbstractEventLoop:
    """The event loop running the test (tests written for old plugins ask for ``loop``)."""
    return asyncio.get_running_loop()


@pytest.fixture
def aiohttp_unused_port() -> Callable[[], int]:
    """A function returning a TCP port on 127.0.0.1 that was free when it was called."""
    return unused_port


@pytest_asyncio.fixture
async def aiohttp_server() -> AsyncIterator[AiohttpServer]:
    """``await aiohttp_server(app, *, host="127.0.0.1", port=None, **kwargs)``: a started
    `TestServer` for ``app`` (``kwargs`` go to the `AppRunner`), stopped after the test."""
    servers: list[TestServer] = []

    async def make_server(
        app: Application, *, host: str = "127.0.0.1", port: int | None = None, **kwargs: Any
    ) -> TestServer:
        server = TestServer(app, host=host, port=port)
        # Registered before starting so that a half-started server is still cleaned up.
        servers.append(server)
        await server.start_server(**kwargs)
        return server

    yield make_server
    while servers:
        await servers.pop().close()


@pytest_asyncio.fixture
async def aiohttp_raw_server() -> AsyncIterator[AiohttpRawServer]:
    """``await aiohttp_raw_server(handler, *, host="127.0.0.1", port=None, **kwargs)``: a
    started `RawTestServer` for the low-level ``handler``, stopped after the test."""
    servers: list[RawTestServer] = []

    async def make_server(
        handler: Callable[[BaseRequest], Awaitable[StreamResponse]],
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> RawTestServer:
        server = RawTestServer(handler, host=host, port=port)
        servers.append(server)
        await server.start_server(**kwargs)
        return server

    yield make_server
    while servers:
        await servers.pop().close()


@pytest.fixture
def aiohttp_client_cls() -> type[TestClient[Any, Any]]:
    """The class `aiohttp_client` instantiates; override this fixture to use a subclass."""
    return TestClient


@pytest_asyncio.fixture
async def aiohttp_client(
    aiohttp_client_cls: type[TestClient[Any, Any]],
) -> AsyncIterator[AiohttpClient]:
    """``await aiohttp_client(app_or_server, *, server_kwargs=None, **kwargs)``: a started
    test client, closed (with its server) after the test.

    ``app_or_server`` is an `Application` (served by a `TestServer` built with
    ``server_kwargs``), a `TestServer` or a `RawTestServer`. ``kwargs`` go to the client class.
    """
    clients: list[TestClient[Any, Any]] = []

    async def make_client(
        __param: Application | BaseTestServer,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient[Any, Any]:
        if isinstance(__param, Application):
            server: BaseTestServer = TestServer(__param, **(server_kwargs or {}))
        elif isinstance(__param, BaseTestServer):
            server = __param
        else:
            raise TypeError(
                "aiohttp_client needs an Application, a TestServer or a RawTestServer, "
                f"got {type(__param).__name__}"
            )
        client = aiohttp_client_cls(server, **kwargs)
        clients.append(client)
        await client.start_server()
        return client

    yield make_client
    while clients:
        await clients.pop().close()
