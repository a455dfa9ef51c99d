"""Helpers for testing aiohyper servers and clients (``aiohttp.test_utils``).

Servers: `TestServer` (an `Application` on a free local port), `RawTestServer` (a low-level
handler), their base `BaseTestServer`. Clients: `TestClient` (a `ClientSession` aimed at a test
server) and `AioHTTPTestCase` (the same for ``unittest``). Mocks: `make_mocked_request` (a
`Request` wired to mocks, for unit tests of handlers), `make_mocked_coro`. Also `unused_port`
and the event loop helpers `loop_context` / `setup_test_loop` / `teardown_test_loop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import ipaddress
import socket
import unittest
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Self, TypeVar, cast, overload
from unittest import mock

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import hdrs
from ._http._message import HttpVersion, HttpVersion11, RawRequestMessage
from .abc import AbstractCookieJar
from .client._cookiejar import CookieJar
from .client._response import ClientResponse
from .client._session import ClientSession, _BaseRequestContextManager, _RequestContextManager
from .streams import EMPTY_PAYLOAD, StreamReader
from .web._runner import AppRunner, BaseRunner, ServerRunner, SockSite
from .web._server import Server

if TYPE_CHECKING:
    import ssl

    from .typedefs import LooseHeaders, StrOrURL
    from .web._app import Application
    from .web._request import BaseRequest, Request

__all__ = (
    "AioHTTPTestCase",
    "BaseTestServer",
    "RawTestServer",
    "TestClient",
    "TestServer",
    "get_port_socket",
    "get_unused_port_socket",
    "loop_context",
    "make_mocked_coro",
    "make_mocked_request",
    "setup_test_loop",
    "teardown_test_loop",
    "unused_port",
)

REUSE_ADDRESS: Final = hasattr(socket, "SO_REUSEADDR")


class _Sentinel:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<sentinel>"


sentinel: Final[Any] = _Sentinel()


# -- sockets -------------------------------------------------------------------------------


def get_unused_port_socket(
    host: str, family: socket.AddressFamily = socket.AF_INET
) -> socket.socket:
    """A socket bound to ``host`` on a port chosen by the OS."""
    return get_port_socket(host, 0, family)


def get_port_socket(
    host: str, port: int, family: socket.AddressFamily = socket.AF_INET
) -> socket.socket:
    """A socket bound to ``host:port`` (the default ``socket_factory`` of test servers)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    if REUSE_ADDRESS:
        # Lets tests restart servers on the same port while old connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- test servers --------------------------------------------------------------------------


class BaseTestServer(ABC):
    """A server on a local port for tests; ``start_server()`` starts it, ``close()`` stops it.

    Also an async context manager. ``socket_factory(host, port, family)`` creates the bound
    listening socket. Other keyword arguments of the constructor (and of ``start_server``) go
    to the runner, i.e. they configure the connections.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        skip_url_asserts: bool = False,
        socket_factory: Callable[[str, int, socket.AddressFamily], socket.socket] = (
            get_port_socket
        ),
        **kwargs: Any,
    ) -> None:
        self.runner: BaseRunner | None = None
        self._root: URL | None = None
        self.host = host
        self.port = port or 0
        self._closed = False
        self.scheme = scheme
        self.skip_url_asserts = skip_url_asserts
        self.socket_factory = socket_factory
        self._kwargs = kwargs
        self._site: SockSite | None = None

    async def start_server(
        self, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any
    ) -> None:
        """Start serving (a second call does nothing). ``ssl`` (an ``SSLContext``) serves
        HTTPS; other keywords configure the connections."""
        if self.runner is not None:
            return
        ssl_context: ssl.SSLContext | None = kwargs.pop("ssl", None)
        self.runner = await self._make_runner(**{**self._kwargs, **kwargs})
        await self.runner.setup()

        try:
            version = ipaddress.ip_address(self.host).version
        except ValueError:
            version = 4
        family = socket.AF_INET6 if version == 6 else socket.AF_INET
        sock = self.socket_factory(self.host, self.port, family)
        self.host, self.port = sock.getsockname()[:2]
        site = SockSite(self.runner, sock, ssl_context=ssl_context)
        await site.start()
        self._site = site
        sockets = getattr(site._server, "sockets", None)
        assert sockets
        self.port = sockets[0].getsockname()[1]
        if not self.scheme:
            self.scheme = "https" if ssl_context else "http"
        host = f"[{self.host}]" if version == 6 else self.host
        self._root = URL(f"{self.scheme}://{host}:{self.port}")

    @abstractmethod
    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        """Build the runner serving what this test server is for."""

    def make_url(self, path: str | URL) -> URL:
        """The absolute URL of ``path`` (which must be relative) on this server."""
        assert self._root is not None, "start_server() first"
        url = URL(path)
        if not self.skip_url_asserts:
            assert not url.absolute, f"expected a relative path, got {path!r}"
            return self._root.join(url)
        return URL(str(self._root) + str(path))

    @property
    def started(self) -> bool:
        return self.runner is not None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handler(self) -> Server:
        """The low-level `Server` answering requests."""
        runner = self.runner
        assert runner is not None and runner.server is not None, "start_server() first"
        return runner.server

    @property
    def server(self) -> asyncio.AbstractServer | None:
        """The ``asyncio`` server accepting connections."""
        return self._site._server if self._site is not None else None

    async def close(self) -> None:
        """Stop the server and shut its application down (a second call does nothing)."""
        if self.started and not self.closed:
            assert self.runner is not None
            await self.runner.cleanup()
            self._root = None
            self.port = 0
            self._closed = True

    async def __aenter__(self) -> BaseTestServer:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class TestServer(BaseTestServer):
    """Serves the `Application` ``app`` for a test."""

    def __init__(
        self,
        app: Application,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return AppRunner(self.app, **kwargs)


class RawTestServer(BaseTestServer):
    """Serves a low-level handler (``async def handler(request) -> StreamResponse``)."""

    def __init__(
        self,
        handler: Callable[[Any], Any],
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, debug: bool = True, **kwargs: Any) -> BaseRunner:
        shutdown_timeout = kwargs.pop("shutdown_timeout", 60.0)
        handle_signals = kwargs.pop("handle_signals", False)
        server = Server(self._handler, debug=debug, **kwargs)
        return ServerRunner(
            server, handle_signals=handle_signals, shutdown_timeout=shutdown_timeout
        )


# -- test client ---------------------------------------------------------------------------

_Request = TypeVar("_Request", bound="BaseRequest")
_ApplicationNone = TypeVar("_ApplicationNone", "Application", None)


class _WSConnectContextManager(_BaseRequestContextManager[Any]):
    """What `TestClient.ws_connect` returns: await it for the WebSocket, or ``async with`` it
    to close the WebSocket at the end of the block."""

    __slots__ = ()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._resp.close()


class TestClient(Generic[_Request, _ApplicationNone]):
    """A `ClientSession` aimed at a test server: request methods take paths on that server.

    ``app_or_server`` is a `TestServer` or a `RawTestServer` (wrap an `Application` in
    ``TestServer(app)`` first). ``await client.start_server()`` (or ``async with client``)
    starts the server; ``await client.close()`` releases every response and WebSocket it
    handed out, closes the session and stops the server. ``scheme`` and ``host`` override the
    server's before it starts. ``cookie_jar`` defaults to an unsafe `CookieJar`, because the
    server lives at an IP address (127.0.0.1) whose cookies a safe jar would drop. Other
    keyword arguments go to the `ClientSession`.
    """

    __test__ = False  # not a pytest test class, despite the name

    @overload
    def __init__(
        self: TestClient[Request, Application],
        app_or_server: TestServer,
        *,
        scheme: str | None = None,
        host: str | None = None,
        cookie_jar: AbstractCookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None: ...

    @overload
    def __init__(
        self: TestClient[BaseRequest, None],
        app_or_server: BaseTestServer,
        *,
        scheme: str | None = None,
        host: str | None = None,
        cookie_jar: AbstractCookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None: ...

    def __init__(
        self,
        app_or_server: BaseTestServer,
        *,
        scheme: str | None = None,
        host: str | None = None,
        cookie_jar: AbstractCookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(app_or_server, BaseTestServer):
            raise TypeError(
                "TestClient needs a TestServer or RawTestServer, got "
                f"{type(app_or_server).__name__}; wrap an Application in TestServer(app)"
            )
        server = app_or_server
        for name, value in (("scheme", scheme), ("host", host)):
            if value is None or value == getattr(server, name):
                continue
            if server.started:
                raise ValueError(f"the test server is already started, its {name} is fixed")
            setattr(server, name, value)
        self._server = server
        if cookie_jar is None:
            cookie_jar = CookieJar(unsafe=True, loop=loop)
        self._session = ClientSession(loop=loop, cookie_jar=cookie_jar, **kwargs)
        self._loop = loop
        self._responses: list[ClientResponse] = []
        self._websockets: list[Any] = []
        self._closed = False

    async def start_server(self, **kwargs: Any) -> None:
        """Start the test server (``kwargs`` go to its ``start_server``)."""
        await self._server.start_server(loop=self._loop, **kwargs)

    @property
    def scheme(self) -> str:
        """``"http"``, or ``"https"`` for a server with TLS."""
        return self._server.scheme

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        """The port of the server (known once it is started)."""
        return self._server.port

    @property
    def server(self) -> BaseTestServer:
        return self._server

    @property
    def app(self) -> _ApplicationNone:
        """The application of a `TestServer`; ``None`` for a `RawTestServer`."""
        return cast(_ApplicationNone, getattr(self._server, "app", None))

    @property
    def session(self) -> ClientSession:
        """The underlying session; it needs absolute URLs (see `make_url`)."""
        return self._session

    def make_url(self, path: StrOrURL) -> URL:
        """The absolute URL of ``path`` on the test server."""
        return self._server.make_url(path)

    async def _request(self, method: str, path: StrOrURL, **kwargs: Any) -> ClientResponse:
        resp = await self._session.request(method, self.make_url(path), **kwargs)
        # Kept so that close() can release what a test forgot to read.
        self._responses.append(resp)
        return resp

    def request(self, method: str, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """Send ``method path`` to the test server; ``kwargs`` as for
        `ClientSession.request`. Await the result, or ``async with`` it."""
        return _RequestContextManager(self._request(method, path, **kwargs))

    def get(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A GET request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_GET, path, **kwargs))

    def post(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A POST request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_POST, path, **kwargs))

    def options(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """An OPTIONS request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_OPTIONS, path, **kwargs))

    def head(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A HEAD request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_HEAD, path, **kwargs))

    def put(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A PUT request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_PUT, path, **kwargs))

    def patch(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A PATCH request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_PATCH, path, **kwargs))

    def delete(self, path: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A DELETE request to ``path`` on the test server."""
        return _RequestContextManager(self._request(hdrs.METH_DELETE, path, **kwargs))

    def ws_connect(self, path: StrOrURL, **kwargs: Any) -> _WSConnectContextManager:
        """Open a WebSocket to ``path`` on the test server; ``kwargs`` as for
        `ClientSession.ws_connect`. Await the result, or ``async with`` it."""
        return _WSConnectContextManager(self._ws_connect(path, **kwargs))

    async def _ws_connect(self, path: StrOrURL, **kwargs: Any) -> Any:
        # Typed loosely so this module does not depend on the WebSocket client's layout.
        session: Any = self._session
        ws = await session.ws_connect(self.make_url(path), **kwargs)
        self._websockets.append(ws)
        return ws

    async def close(self) -> None:
        """Release every response and WebSocket, close the session and stop the server (a
        second call does nothing)."""
        if self._closed:
            return
        while self._responses:
            self._responses.pop().close()
        while self._websockets:
            await self._websockets.pop().close()
        await self._session.close()
        await self._server.close()
        self._closed = True

    async def __aenter__(self) -> Self:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class AioHTTPTestCase(unittest.IsolatedAsyncioTestCase):
    """A ``unittest`` case whose tests run against a fresh server and client each.

    Override `get_application` (and, if needed, `get_server` / `get_client`). Each test method
    (``async def test_...``) finds ``self.app``, ``self.server``, ``self.client`` and
    ``self.loop`` ready. Overrides of `asyncSetUp` / `asyncTearDown` must call ``super()``.
    """

    app: Application
    server: TestServer
    client: TestClient[Request, Application]
    loop: asyncio.AbstractEventLoop

    async def get_application(self) -> Application:
        """The application to test; subclasses must override this."""
        raise NotImplementedError(f"{type(self).__name__} must override get_application()")

    async def get_server(self, app: Application) -> TestServer:
        """The test server serving ``app``."""
        return TestServer(app)

    async def get_client(self, server: TestServer) -> TestClient[Request, Application]:
        """The test client talking to ``server``."""
        return TestClient(server)

    async def asyncSetUp(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.app = await self.get_application()
        self.server = await self.get_server(self.app)
        self.client = await self.get_client(self.server)
        try:
            await self.client.start_server()
        except BaseException:
            # unittest skips asyncTearDown when set-up fails: don't leak the session.
            await self.client.close()
            raise

    async def asyncTearDown(self) -> None:
        await self.client.close()


# -- mocks ---------------------------------------------------------------------------------


def make_mocked_coro(return_value: Any = sentinel, raise_exception: Any = sentinel) -> Any:
    """A ``Mock`` that, called, returns a coroutine producing ``return_value`` (awaited
    first if it is awaitable) or raising ``raise_exception``."""

    async def mock_coro(*args: Any, **kwargs: Any) -> Any:
        if raise_exception is not sentinel:
            raise raise_exception
        if inspect.isawaitable(return_value):
            return await return_value
        return None if return_value is sentinel else return_value

    return mock.Mock(wraps=mock_coro)


def _create_app_mock() -> Any:
    from aiosignal import Signal

    from .web._app import Application

    store: dict[Any, Any] = {}
    app = mock.MagicMock(spec=Application)
    app.__getitem__.side_effect = store.__getitem__
    app.__setitem__.side_effect = store.__setitem__
    app.__contains__.side_effect = store.__contains__
    app.get.side_effect = store.get
    app._debug = False
    app.on_response_prepare = Signal(app)
    app.on_response_prepare.freeze()
    return app


def _create_transport(sslcontext: Any = None) -> Any:
    transport = mock.Mock()

    def get_extra_info(key: str, default: Any = None) -> Any:
        if key == "sslcontext":
            return sslcontext
        return default

    transport.get_extra_info.side_effect = get_extra_info
    transport.is_closing.return_value = False
    return transport


def make_mocked_request(
    method: str,
    path: str,
    headers: LooseHeaders | None = None,
    *,
    match_info: Any = sentinel,
    version: HttpVersion = HttpVersion11,
    closing: bool = False,
    app: Application | None = None,
    reader: Any = sentinel,
    writer: Any = sentinel,
    protocol: Any = sentinel,
    transport: Any = sentinel,
    payload: StreamReader = EMPTY_PAYLOAD,
    sslcontext: ssl.SSLContext | None = None,
    client_max_size: int = 1024**2,
    loop: Any = ...,
) -> Request:
    """A `Request` for ``method path`` backed by mocks, for unit tests of handlers.

    ``headers``: anything ``CIMultiDict`` accepts. ``match_info``: the path variables.
    ``app``: the application (a mock by default). ``writer`` / ``protocol`` / ``transport`` /
    ``payload``: replace the mocked connection parts (``reader`` is accepted and ignored, for
    compatibility). ``closing`` or an HTTP/1.0 ``version`` make the request non keep-alive.
    ``loop``: the running loop if any, else a mock.
    """
    from .web._request import Request
    from .web._urldispatcher import UrlMappingMatchInfo

    del reader  # historical parameter: the payload is the reader
    task = mock.Mock()
    if loop is ...:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = mock.Mock()
            loop.create_future.return_value = ()

    if version < HttpVersion11:
        closing = True

    hdrs_multi: CIMultiDict[str] = CIMultiDict(headers or ())
    raw_headers = tuple(
        (name.encode("utf-8"), value.encode("utf-8")) for name, value in hdrs_multi.items()
    )
    chunked = "chunked" in hdrs_multi.get(hdrs.TRANSFER_ENCODING, "").lower()
    message = RawRequestMessage(
        method,
        path,
        version,
        CIMultiDictProxy(hdrs_multi),
        raw_headers,
        closing,
        None,
        False,
        chunked,
        URL(path),
    )
    if app is None:
        app = _create_app_mock()
    if transport is sentinel:
        transport = _create_transport(sslcontext)
    if protocol is sentinel:
        protocol = mock.Mock()
        protocol.transport = transport
        type(protocol).peername = mock.PropertyMock(
            return_value=transport.get_extra_info("peername")
        )
        type(protocol).ssl_context = mock.PropertyMock(return_value=sslcontext)
    if writer is sentinel:
        writer = mock.Mock()
        writer.write_headers = make_mocked_coro(None)
        writer.write = make_mocked_coro(None)
        writer.write_eof = make_mocked_coro(None)
        writer.drain = make_mocked_coro(None)
        writer.transport = transport
        writer.output_size = 0
        writer.buffer_size = 0
    protocol.transport = transport
    protocol.writer = writer

    req = Request(message, payload, protocol, writer, task, loop, client_max_size=client_max_size)
    info = UrlMappingMatchInfo({} if match_info is sentinel else dict(match_info), mock.Mock())
    info.add_app(app)
    req._match_info = info
    return req


# -- event loops ---------------------------------------------------------------------------


def setup_test_loop(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
) -> asyncio.AbstractEventLoop:
    """Create a loop with ``loop_factory`` and install it as the current loop."""
    loop = loop_factory()
    asyncio.set_event_loop(loop)
    return loop


def teardown_test_loop(loop: asyncio.AbstractEventLoop, fast: bool = False) -> None:
    """Run the loop's pending callbacks, close it and uninstall it (``gc.collect()`` unless
    ``fast``, so that leaked resources warn inside the test that leaked them)."""
    if not loop.is_closed():
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.close()
    if not fast:
        gc.collect()
    asyncio.set_event_loop(None)


@contextlib.contextmanager
def loop_context(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    fast: bool = False,
) -> Iterator[asyncio.AbstractEventLoop]:
    """``with loop_context() as loop:`` a fresh event loop, torn down on exit."""
    loop = setup_test_loop(loop_factory)
    yield loop
    teardown_test_loop(loop, fast=fast)
