# The tests keep the docs' nested ``async with session: / async with session.get():`` form.
# ruff: noqa: SIM117
"""Documentation conformance: timeouts (quickstart "Timeouts", ``ClientTimeout``), connectors
and the connection-level exceptions, seen through a `ClientSession`."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from yarl import URL

import aiohyper
from aiohyper import web
from aiohyper.abc import AbstractResolver, ResolveResult
from aiohyper.helpers import calculate_timeout_when
from aiohyper.test_utils import TestServer


async def slow_head(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("delay", "0.5")))
    return web.Response(text="late")


async def slow_body(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.content_length = 6
    await resp.prepare(request)
    await resp.write(b"abc")
    await asyncio.sleep(float(request.query.get("delay", "0.5")))
    await resp.write(b"def")
    return resp


async def fast(request: web.Request) -> web.Response:
    return web.Response(text="fast")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/slow-head", slow_head)
    app.router.add_get("/slow-body", slow_body)
    app.router.add_get("/fast", fast)
    srv = TestServer(app)
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
def blackhole() -> Iterator[tuple[str, int]]:
    """An address whose connects hang: a listener with a full accept queue."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    port = listener.getsockname()[1]
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield ("127.0.0.1", port)
    for filler in fillers:
        filler.close()
    listener.close()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HangingResolver(AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        await asyncio.sleep(10)
        return []

    async def close(self) -> None:
        pass


class FailingResolver(AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise OSError(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


# --- ClientTimeout -------------------------------------------------------------------------


class TestClientTimeout:
    def test_fields_default_to_none(self) -> None:
        timeout = aiohyper.ClientTimeout()
        assert timeout.total is None
        assert timeout.connect is None
        assert timeout.sock_connect is None
        assert timeout.sock_read is None
        assert timeout.ceil_threshold == 5

    def test_is_a_data_class(self) -> None:
        timeout = aiohyper.ClientTimeout(total=60)
        assert dataclasses.is_dataclass(timeout)
        assert dataclasses.replace(timeout, sock_read=1).sock_read == 1
        assert timeout == aiohyper.ClientTimeout(total=60)

    def test_ws_timeout(self) -> None:
        timeout = aiohyper.ClientWSTimeout()
        assert timeout.ws_receive is None
        assert aiohyper.ClientWSTimeout(ws_receive=1, ws_close=2).ws_close == 2

    def test_ceiling(self) -> None:
        """Docs: "ceils timeout if the value is equal or greater than 5 seconds"; smaller ones are
        not rounded; the threshold is configurable."""
        assert calculate_timeout_when(12345.67, 10, 5) == 12356
        assert calculate_timeout_when(12345.67, 5, 5) == 12351
        assert calculate_timeout_when(12345.67, 4.9, 5) == pytest.approx(12350.57)
        assert calculate_timeout_when(12345.67, 4.9, 1) == 12351


class TestTimeouts:
    async def test_total_covers_the_head(self, server: TestServer) -> None:
        timeout = aiohyper.ClientTimeout(total=0.1)
        async with aiohyper.ClientSession(timeout=timeout) as session:
            with pytest.raises(asyncio.TimeoutError):
                await session.get(server.make_url("/slow-head"))

    async def test_total_covers_body_reading(self, server: TestServer) -> None:
        """Docs: "for the whole operation including connection establishment, request sending and
        response reading"."""
        async with aiohyper.ClientSession(timeout=aiohyper.ClientTimeout(total=0.2)) as s:
            async with s.get(server.make_url("/slow-body")) as resp:
                assert resp.status == 200
                with pytest.raises(asyncio.TimeoutError):
                    await resp.read()

    async def test_request_timeout_overrides_session(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(timeout=aiohyper.ClientTimeout(total=0.05)) as s:
            async with s.get(
                server.make_url("/slow-head").with_query(delay="0.1"),
                timeout=aiohyper.ClientTimeout(total=5),
            ) as resp:
                assert await resp.text() == "late"

    async def test_float_is_total(self, server: TestServer) -> None:
        """Docs: "If :class:`float` is passed it is a *total* timeout (in seconds)"."""
        async with aiohyper.ClientSession() as session:
            with pytest.raises(asyncio.TimeoutError):
                await session.get(server.make_url("/slow-head"), timeout=0.05)

    @pytest.mark.parametrize("disabled", [None, 0])
    async def test_none_or_zero_disables(self, server: TestServer, disabled: Any) -> None:
        """Docs: "``None`` or ``0`` disables a particular timeout check"."""
        timeout = aiohyper.ClientTimeout(total=disabled, sock_read=disabled)
        async with aiohyper.ClientSession(timeout=timeout) as session:
            async with session.get(server.make_url("/slow-head").with_query(delay="0.05")) as r:
                assert await r.text() == "late"

    async def test_sock_read_waiting_for_head(self, server: TestServer) -> None:
        """``sock_read``: "for period between reading a new data portion from a peer";
        SocketTimeoutError is a ServerTimeoutError and an asyncio.TimeoutError."""
        timeout = aiohyper.ClientTimeout(sock_read=0.05)
        async with aiohyper.ClientSession(timeout=timeout) as session:
            with pytest.raises(aiohyper.SocketTimeoutError) as info:
                await session.get(server.make_url("/slow-head"))
        assert isinstance(info.value, aiohyper.ServerTimeoutError)
        assert isinstance(info.value, asyncio.TimeoutError)

    async def test_sock_read_in_body(self, server: TestServer) -> None:
        timeout = aiohyper.ClientTimeout(sock_read=0.05)
        async with aiohyper.ClientSession(timeout=timeout) as session:
            async with session.get(server.make_url("/slow-body")) as resp:
                with pytest.raises(asyncio.TimeoutError):
                    await resp.read()

    async def test_connect_covers_waiting_for_pool(self, server: TestServer) -> None:
        """``connect``: "or for waiting for a free connection from a pool if pool connection
        limits are exceeded" → ConnectionTimeoutError."""
        connector = aiohyper.TCPConnector(limit=1)
        async with aiohyper.ClientSession(connector=connector) as session:
            held = await session.get(server.make_url("/slow-body").with_query(delay="0.3"))
            with pytest.raises(aiohyper.ConnectionTimeoutError) as info:
                await session.get(
                    server.make_url("/fast"), timeout=aiohyper.ClientTimeout(connect=0.05)
                )
            assert isinstance(info.value, aiohyper.ServerTimeoutError)
            held.close()

    async def test_connect_covers_resolution(self) -> None:
        connector = aiohyper.TCPConnector(resolver=HangingResolver())
        timeout = aiohyper.ClientTimeout(connect=0.05)
        async with aiohyper.ClientSession(connector=connector, timeout=timeout) as session:
            with pytest.raises(aiohyper.ConnectionTimeoutError):
                await session.get("http://hangs.example/")

    async def test_sock_connect(self, blackhole: tuple[str, int]) -> None:
        host, port = blackhole
        timeout = aiohyper.ClientTimeout(sock_connect=0.05)
        async with aiohyper.ClientSession(timeout=timeout) as session:
            with pytest.raises(aiohyper.ConnectionTimeoutError):
                await session.get(f"http://{host}:{port}/")

    async def test_all_timeouts_are_asyncio_timeouts(self, blackhole: tuple[str, int]) -> None:
        """Docs: "To catch all timeouts, including the ``total`` timeout, use
        asyncio.TimeoutError"."""
        host, port = blackhole
        async with aiohyper.ClientSession() as session:
            for timeout in (
                aiohyper.ClientTimeout(total=0.05),
                aiohyper.ClientTimeout(connect=0.05),
                aiohyper.ClientTimeout(sock_connect=0.05),
            ):
                with pytest.raises(asyncio.TimeoutError):
                    await session.get(f"http://{host}:{port}/", timeout=timeout)


# --- connectors ----------------------------------------------------------------------------


class TestConnectors:
    async def test_base_connector_defaults(self) -> None:
        connector = aiohyper.TCPConnector()
        assert connector.limit == 100
        assert connector.limit_per_host == 0
        assert connector.force_close is False
        assert connector.closed is False
        assert connector.family == 0
        assert connector.dns_cache is True
        assert len(connector.cached_hosts) == 0
        await connector.close()
        assert connector.closed

    async def test_connector_context_manager(self) -> None:
        async with aiohyper.TCPConnector() as connector:
            assert not connector.closed
        assert connector.closed

    async def test_limit(self, server: TestServer) -> None:
        """At most ``limit`` connections at once."""
        connector = aiohyper.TCPConnector(limit=2)
        peak = 0
        active = 0
        async with aiohyper.ClientSession(connector=connector) as session:

            async def fetch() -> None:
                nonlocal active, peak
                async with session.get(server.make_url("/slow-head").with_query(delay="0.02")):
                    active += 1
                    peak = max(peak, active)
                    await asyncio.sleep(0.01)
                    active -= 1

            await asyncio.gather(*(fetch() for _ in range(5)))
        assert peak <= 2

    async def test_keepalive_reuses_and_force_close_does_not(self, server: TestServer) -> None:
        ports: list[int] = []

        async def peer(request: web.Request) -> web.Response:
            assert request.transport is not None
            ports.append(request.transport.get_extra_info("peername")[1])
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/", peer)
        async with TestServer(app) as srv:
            async with aiohyper.ClientSession() as session:
                for _ in range(3):
                    async with session.get(srv.make_url("/")) as resp:
                        await resp.read()
            assert len(set(ports)) == 1
            ports.clear()
            connector = aiohyper.TCPConnector(force_close=True)
            async with aiohyper.ClientSession(connector=connector) as session:
                for _ in range(3):
                    async with session.get(srv.make_url("/")) as resp:
                        await resp.read()
            assert len(set(ports)) == 3

    async def test_dns_cache_and_clear(self, server: TestServer) -> None:
        class CountingResolver(AbstractResolver):
            calls = 0

            async def resolve(
                self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
            ) -> list[ResolveResult]:
                CountingResolver.calls += 1
                return [
                    ResolveResult(
                        hostname=host,
                        host="127.0.0.1",
                        port=port,
                        family=socket.AF_INET,
                        proto=0,
                        flags=socket.AI_NUMERICHOST,
                    )
                ]

            async def close(self) -> None:
                pass

        connector = aiohyper.TCPConnector(resolver=CountingResolver(), force_close=True)
        url = URL(f"http://cached.example:{server.port}/fast")
        async with aiohyper.ClientSession(connector=connector) as session:
            for _ in range(2):
                async with session.get(url) as resp:
                    await resp.read()
            assert CountingResolver.calls == 1
            assert ("cached.example", server.port) in connector.cached_hosts
            connector.clear_dns_cache("cached.example", server.port)
            assert ("cached.example", server.port) not in connector.cached_hosts
            async with session.get(url) as resp:
                await resp.read()
            assert CountingResolver.calls == 2
            connector.clear_dns_cache()
            assert len(connector.cached_hosts) == 0

    async def test_unix_connector(self, tmp_path: Any) -> None:
        """The reference's usage: ``UnixConnector(path=...)``, any host in the URL."""
        app = web.Application()
        app.router.add_get("/", fast)
        runner = web.AppRunner(app)
        await runner.setup()
        path = str(tmp_path / "sock")
        site = web.UnixSite(runner, path)
        await site.start()
        try:
            conn = aiohyper.UnixConnector(path=path)
            assert conn.path == path
            async with aiohyper.ClientSession(connector=conn) as session:
                async with session.get("http://python.org") as resp:
                    assert await resp.text() == "fast"
        finally:
            await runner.cleanup()

    async def test_connect_returns_connection(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            resp = await session.get(server.make_url("/slow-body").with_query(delay="0.05"))
            conn = resp.connection
            assert isinstance(conn, aiohyper.Connection)
            assert conn.closed is False
            assert conn.transport is not None
            with pytest.warns(DeprecationWarning):
                assert conn.loop is asyncio.get_running_loop()
            resp.close()
            assert conn.closed is True


# --- connection errors ---------------------------------------------------------------------


class TestConnectionErrors:
    async def test_connection_refused(self) -> None:
        port = unused_port()
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.ClientConnectorError) as info:
                await session.get(f"http://127.0.0.1:{port}/")
        err = info.value
        assert isinstance(err, aiohyper.ClientOSError)
        assert isinstance(err, OSError)
        assert isinstance(err, aiohyper.ClientConnectionError)
        assert err.host == "127.0.0.1"
        assert err.port == port
        assert err.ssl is True
        assert isinstance(err.os_error, OSError)
        assert err.errno is not None
        assert str(err).startswith(f"Cannot connect to host 127.0.0.1:{port} ssl:default [")

    async def test_dns_error(self) -> None:
        connector = aiohyper.TCPConnector(resolver=FailingResolver())
        async with aiohyper.ClientSession(connector=connector) as session:
            with pytest.raises(aiohyper.ClientConnectorDNSError) as info:
                await session.get("http://does-not-exist.example/")
        assert isinstance(info.value, aiohyper.ClientConnectorError)
        assert info.value.host == "does-not-exist.example"

    async def test_server_disconnected(self) -> None:
        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.close()

        srv = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        try:
            async with aiohyper.ClientSession() as session:
                with pytest.raises(aiohyper.ServerDisconnectedError) as info:
                    await session.post(f"http://127.0.0.1:{port}/", data=b"x")
        finally:
            srv.close()
            await srv.wait_closed()
        assert isinstance(info.value, aiohyper.ServerConnectionError)
        assert info.value.message is not None

    async def test_malformed_response_head(self) -> None:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            writer.close()

        srv = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        try:
            async with aiohyper.ClientSession() as session:
                with pytest.raises(aiohyper.ClientResponseError) as info:
                    await session.get(f"http://127.0.0.1:{port}/")
        finally:
            srv.close()
            await srv.wait_closed()
        assert info.value.status == 400

    async def test_exception_hierarchy(self) -> None:
        """The "Hierarchy of exceptions" tree."""
        tree: dict[type, tuple[type, ...]] = {
            aiohyper.ClientConnectionError: (aiohyper.ClientError,),
            aiohyper.ClientConnectionResetError: (
                aiohyper.ClientConnectionError,
                ConnectionResetError,
            ),
            aiohyper.ClientOSError: (aiohyper.ClientConnectionError, OSError),
            aiohyper.ClientConnectorError: (aiohyper.ClientOSError,),
            aiohyper.ClientProxyConnectionError: (aiohyper.ClientConnectorError,),
            aiohyper.ClientConnectorDNSError: (aiohyper.ClientConnectorError,),
            aiohyper.ClientSSLError: (aiohyper.ClientConnectorError,),
            aiohyper.ClientConnectorCertificateError: (aiohyper.ClientSSLError,),
            aiohyper.ClientConnectorSSLError: (aiohyper.ClientSSLError,),
            aiohyper.UnixClientConnectorError: (aiohyper.ClientConnectorError,),
            aiohyper.ServerConnectionError: (aiohyper.ClientConnectionError,),
            aiohyper.ServerDisconnectedError: (aiohyper.ServerConnectionError,),
            aiohyper.ServerFingerprintMismatch: (aiohyper.ServerConnectionError,),
            aiohyper.ServerTimeoutError: (aiohyper.ServerConnectionError, asyncio.TimeoutError),
            aiohyper.ConnectionTimeoutError: (aiohyper.ServerTimeoutError,),
            aiohyper.SocketTimeoutError: (aiohyper.ServerTimeoutError,),
            aiohyper.ClientPayloadError: (aiohyper.ClientError,),
            aiohyper.ClientResponseError: (aiohyper.ClientError,),
            aiohyper.ClientHttpProxyError: (aiohyper.ClientResponseError,),
            aiohyper.ContentTypeError: (aiohyper.ClientResponseError,),
            aiohyper.TooManyRedirects: (aiohyper.ClientResponseError,),
            aiohyper.WSServerHandshakeError: (aiohyper.ClientResponseError,),
            aiohyper.InvalidURL: (aiohyper.ClientError, ValueError),
            aiohyper.InvalidUrlClientError: (aiohyper.InvalidURL,),
            aiohyper.InvalidUrlRedirectClientError: (
                aiohyper.InvalidUrlClientError,
                aiohyper.RedirectClientError,
            ),
            aiohyper.NonHttpUrlClientError: (aiohyper.ClientError,),
            aiohyper.NonHttpUrlRedirectClientError: (
                aiohyper.NonHttpUrlClientError,
                aiohyper.RedirectClientError,
            ),
            aiohyper.RedirectClientError: (aiohyper.ClientError,),
            aiohyper.WSMessageTypeError: (TypeError,),
        }
        for cls, bases in tree.items():
            for base in bases:
                assert issubclass(cls, base), (cls, base)
        assert issubclass(aiohyper.ClientError, Exception)
