"""Client timeouts: the settings objects and each timeout against stalling servers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from yarl import URL

from aiohyper.client._connector import TCPConnector
from aiohyper.client._exceptions import (
    ConnectionTimeoutError,
    ServerTimeoutError,
    SocketTimeoutError,
)
from aiohyper.client._session import ClientSession
from aiohyper.client._timeout import (
    DEFAULT_TIMEOUT,
    DEFAULT_WS_CLIENT_TIMEOUT,
    ClientTimeout,
    ClientWSTimeout,
)

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[URL]]]:
    """``await scripted(script)``: a server running ``script(reader, writer)`` per connection
    after reading the request head."""
    servers: list[asyncio.Server] = []
    tasks: set[asyncio.Task[None]] = set()

    async def start(script: Script) -> URL:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await reader.readuntil(b"\r\n\r\n")
                await script(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/")

    yield start
    for task in tasks:
        task.cancel()
    for server in servers:
        server.close()
        await server.wait_closed()


async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(10)


async def head_then_stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst bytes")
    await writer.drain()
    await asyncio.sleep(10)


class TestSettings:
    def test_defaults(self) -> None:
        timeout = ClientTimeout()
        assert (timeout.total, timeout.connect, timeout.sock_read, timeout.sock_connect) == (
            None,
            None,
            None,
            None,
        )
        assert timeout.ceil_threshold == 5
        assert ClientTimeout(total=300, sock_connect=30) == DEFAULT_TIMEOUT

    def test_frozen(self) -> None:
        timeout = ClientTimeout(total=1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            timeout.total = 2  # type: ignore[misc]
        assert dataclasses.replace(timeout, connect=3) == ClientTimeout(total=1, connect=3)
        assert hash(timeout) == hash(ClientTimeout(total=1))

    def test_ws_timeout(self) -> None:
        assert ClientWSTimeout() == ClientWSTimeout(ws_receive=None, ws_close=None)
        assert ClientWSTimeout(ws_receive=None, ws_close=10.0) == DEFAULT_WS_CLIENT_TIMEOUT

    async def test_session_timeout_argument(self) -> None:
        with pytest.raises(ValueError, match="ClientTimeout"):
            ClientSession(timeout=10)  # type: ignore[arg-type]
        with pytest.warns(DeprecationWarning):
            session = ClientSession(read_timeout=5, conn_timeout=2)
        assert session.timeout == dataclasses.replace(DEFAULT_TIMEOUT, total=5, connect=2)
        await session.close()
        with pytest.raises(ValueError, match="conflict"):
            ClientSession(timeout=ClientTimeout(), read_timeout=5)
        async with ClientSession(timeout=None) as session:
            assert session.timeout is DEFAULT_TIMEOUT


class TestTotal:
    async def test_while_waiting_for_head(
        self, scripted: Callable[[Script], Awaitable[URL]]
    ) -> None:
        url = await scripted(stall)
        loop = asyncio.get_running_loop()
        async with ClientSession(timeout=ClientTimeout(total=0.2)) as session:
            started = loop.time()
            with pytest.raises(asyncio.TimeoutError) as info:
                await session.get(url)
            assert 0.15 < loop.time() - started < 2
        assert not isinstance(info.value, SocketTimeoutError)

    async def test_covers_body(self, scripted: Callable[[Script], Awaitable[URL]]) -> None:
        url = await scripted(head_then_stall)
        async with ClientSession() as session:
            resp = await session.get(url, timeout=ClientTimeout(total=0.2))
            assert resp.status == 200
            with pytest.raises(asyncio.TimeoutError):
                await resp.read()

    async def test_number_is_total(self, scripted: Callable[[Script], Awaitable[URL]]) -> None:
        url = await scripted(stall)
        async with ClientSession() as session:
            with pytest.raises(asyncio.TimeoutError):
                await session.get(url, timeout=0.1)

    async def test_request_overrides_session(
        self, scripted: Callable[[Script], Awaitable[URL]]
    ) -> None:
        async def slow_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(0.2)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

        url = await scripted(slow_ok)
        async with ClientSession(timeout=ClientTimeout(total=0.05)) as session:
            async with session.get(url, timeout=ClientTimeout(total=5)) as resp:
                assert await resp.read() == b"ok"
            async with session.get(url, timeout=None) as resp:
                assert await resp.read() == b"ok"
            with pytest.raises(asyncio.TimeoutError):
                await session.get(url)

    async def test_timer_stops_with_response(
        self, scripted: Callable[[Script], Awaitable[URL]]
    ) -> None:
        async def ok_keepalive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                await reader.readuntil(b"\r\n\r\n")

        url = await scripted(ok_keepalive)
        async with ClientSession(timeout=ClientTimeout(total=0.1)) as session:
            async with session.get(url) as resp:
                assert await resp.read() == b"ok"
            await asyncio.sleep(0.2)  # past the first request's deadline
            async with session.get(url) as resp:
                assert await resp.read() == b"ok"


class TestSockRead:
    async def test_head(self, scripted: Callable[[Script], Awaitable[URL]]) -> None:
        url = await scripted(stall)
        async with ClientSession(timeout=ClientTimeout(sock_read=0.1)) as session:
            with pytest.raises(SocketTimeoutError) as info:
                await session.get(url)
        assert isinstance(info.value, ServerTimeoutError)
        assert isinstance(info.value, asyncio.TimeoutError)

    async def test_body(self, scripted: Callable[[Script], Awaitable[URL]]) -> None:
        url = await scripted(head_then_stall)
        async with ClientSession(timeout=ClientTimeout(sock_read=0.1)) as session:
            resp = await session.get(url)
            with pytest.raises(SocketTimeoutError):
                await resp.read()

    async def test_trickle_is_not_a_timeout(
        self, scripted: Callable[[Script], Awaitable[URL]]
    ) -> None:
        async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
            for byte in b"abcdef":
                await asyncio.sleep(0.05)
                writer.write(bytes([byte]))
                await writer.drain()

        url = await scripted(trickle)
        async with (
            ClientSession(timeout=ClientTimeout(sock_read=0.2)) as session,
            session.get(url) as resp,
        ):
            assert await resp.read() == b"abcdef"


class TestConnect:
    async def test_waiting_for_a_pool_slot(
        self, scripted: Callable[[Script], Awaitable[URL]]
    ) -> None:
        url = await scripted(head_then_stall)
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:
            held = await session.get(url)  # keeps the only connection (body unfinished)
            with pytest.raises(ConnectionTimeoutError) as info:
                await session.get(url, timeout=ClientTimeout(connect=0.1))
            assert isinstance(info.value, asyncio.TimeoutError)
            held.close()
            # the slot is free again
            resp = await session.get(url, timeout=ClientTimeout(connect=1))
            resp.close()
