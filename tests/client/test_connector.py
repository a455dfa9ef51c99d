"""Tests for the connection pool and the TCP/Unix connectors, against real local servers."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aiohyper.client._connector import (
    NamedPipeConnector,
    TCPConnector,
    UnixConnector,
)
from aiohyper.client._exceptions import (
    ClientConnectionError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ConnectionTimeoutError,
    UnixClientConnectorError,
)
from aiohyper.client._happy_eyeballs import interleave_addrinfos, start_connection
from aiohyper.client._pool import BaseConnector
from aiohyper.client._timeout import ClientTimeout

Fetch = Callable[..., Any]


def local_port(conn: Any) -> int:
    port: int = conn.transport.get_extra_info("sockname")[1]
    return port


# -- pooling -------------------------------------------------------------------------------


async def test_reuses_connection(server: Any, make_request: Any, fetch_on: Fetch) -> None:
    async with TCPConnector() as connector:
        ports = []
        for _ in range(3):
            conn = await connector.connect(make_request(server.url()))
            message, body = await fetch_on(conn)
            assert (message.code, body) == (200, b"ok")
            ports.append(local_port(conn))
            conn.release()
            assert conn.closed
            assert conn.protocol is None
        assert len(set(ports)) == 1
        assert len(server.peers) == 1
        assert len(server.heads) == 3


async def test_force_close(server: Any, make_request: Any, fetch_on: Fetch) -> None:
    async with TCPConnector(force_close=True) as connector:
        assert connector.force_close
        for _ in range(2):
            conn = await connector.connect(make_request(server.url()))
            await fetch_on(conn)
            conn.release()
        assert len(server.peers) == 2


async def test_force_close_with_keepalive_refused() -> None:
    with pytest.raises(ValueError):
        TCPConnector(force_close=True, keepalive_timeout=10)


async def test_connection_not_pooled_when_server_closes(
    start_server: Any, make_request: Any, fetch_on: Fetch
) -> None:
    srv = await start_server(
        lambda head: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    )
    async with TCPConnector() as connector:
        for _ in range(2):
            conn = await connector.connect(make_request(srv.url()))
            await fetch_on(conn)
            conn.release()
        assert len(srv.peers) == 2
        assert not connector._conns


async def test_unread_body_not_pooled(
    start_server: Any, make_request: Any, fetch_on: Fetch
) -> None:
    srv = await start_server(lambda head: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(srv.url()))
        proto = conn.protocol
        assert proto is not None
        proto.set_response_params()
        assert conn.transport is not None
        conn.transport.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await proto.read()
        conn.release()  # body not read: the connection cannot be reused
        assert not connector._conns
        assert not proto.is_connected()


async def test_closed_idle_connection_is_not_reused(
    server: Any, make_request: Any, fetch_on: Fetch
) -> None:
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(server.url()))
        await fetch_on(conn)
        conn.release()
        for writer in server.writers:  # the server drops the idle connection
            writer.close()
        await asyncio.sleep(0.05)
        conn = await connector.connect(make_request(server.url()))
        message, _ = await fetch_on(conn)
        assert message.code == 200
        conn.release()
        assert len(server.peers) == 2


async def test_connection_close(server: Any, make_request: Any, fetch_on: Fetch) -> None:
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(server.url()))
        await fetch_on(conn)
        proto = conn.protocol
        assert proto is not None
        called = []
        conn.add_callback(lambda: called.append(1))
        conn.close()
        assert called == [1]
        assert conn.closed
        assert not proto.is_connected()
        assert not connector._conns
        conn.release()  # no-op after close


async def test_keepalive_expiry(server: Any, make_request: Any, fetch_on: Fetch) -> None:
    async with TCPConnector(keepalive_timeout=0.05) as connector:
        conn = await connector.connect(make_request(server.url()))
        await fetch_on(conn)
        proto = conn.protocol
        assert proto is not None
        conn.release()
        assert connector._conns
        await asyncio.sleep(0.15)
        # The cleanup timer closed the idle connection.
        assert not connector._conns
        assert not proto.is_connected()
        await asyncio.sleep(0.02)
        assert server.closed_by_client == 1


async def test_expired_connection_not_reused_before_cleanup(
    server: Any, make_request: Any, fetch_on: Fetch
) -> None:
    async with TCPConnector(keepalive_timeout=0.05) as connector:
        conn = await connector.connect(make_request(server.url()))
        await fetch_on(conn)
        conn.release()
        assert connector._cleanup_handle is not None
        connector._cleanup_handle.cancel()  # only the check on checkout is left
        connector._cleanup_handle = None
        await asyncio.sleep(0.08)
        conn = await connector.connect(make_request(server.url()))
        await fetch_on(conn)
        conn.release()
        assert len(server.peers) == 2


async def test_close_closes_everything(server: Any, make_request: Any, fetch_on: Fetch) -> None:
    connector = TCPConnector()
    idle = await connector.connect(make_request(server.url()))
    await fetch_on(idle)
    idle_proto = idle.protocol
    idle.release()
    busy = await connector.connect(make_request(server.url()))
    busy_proto = busy.protocol
    assert idle_proto is not None and busy_proto is not None
    await connector.close()
    assert connector.closed
    assert idle_proto.closed.done() and busy_proto.closed.done()
    assert busy.closed
    busy.release()  # harmless after close
    with pytest.raises(ClientConnectionError):
        await connector.connect(make_request(server.url()))
    await connector.close()  # idempotent


async def test_base_connector_properties() -> None:
    connector = BaseConnector(limit=7, limit_per_host=3)
    assert (connector.limit, connector.limit_per_host) == (7, 3)
    assert not connector.force_close
    assert not connector.closed
    assert "http" in connector.allowed_protocol_schema_set
    with pytest.raises(NotImplementedError):
        await connector._create_connection(None, [], None)  # type: ignore[arg-type]
    await connector.close()


async def test_unreleased_connection_warns(
    server: Any, make_request: Any, fetch_on: Fetch
) -> None:
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(server.url()))
        proto = conn.protocol
        assert proto is not None
        loop = asyncio.get_running_loop()
        contexts: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
        try:
            with pytest.warns(ResourceWarning, match="Unclosed connection"):
                del conn
                gc.collect()
        finally:
            loop.set_exception_handler(None)
        assert contexts and contexts[0]["message"] == "Unclosed connection"
        assert not proto.is_connected()
        assert not connector._acquired


async def test_unclosed_connector_warns(server: Any, make_request: Any, fetch_on: Fetch) -> None:
    connector = TCPConnector()
    conn = await connector.connect(make_request(server.url()))
    await fetch_on(conn)
    conn.release()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, ctx: None)
    try:
        with pytest.warns(ResourceWarning, match="Unclosed connector"):
            del connector, conn
            gc.collect()
    finally:
        loop.set_exception_handler(None)


# -- limits and waiters --------------------------------------------------------------------


async def test_limit_queues_fifo(server: Any, make_request: Any, trace: Any) -> None:
    async with TCPConnector(limit=1) as connector:
        first = await connector.connect(make_request(server.url()))
        order: list[int] = []

        async def wait(i: int) -> Any:
            conn = await connector.connect(make_request(server.url()), [trace] if i == 0 else [])
            order.append(i)
            return conn

        tasks = [asyncio.create_task(wait(i)) for i in range(3)]
        await asyncio.sleep(0.01)
        assert not any(t.done() for t in tasks)
        assert trace.events == ["connection_queued_start"]
        first.close()  # a closed connection frees its slot too
        for i in range(3):
            conn = await tasks[i]
            await asyncio.sleep(0.01)
            assert order == list(range(i + 1))  # one at a time, in arrival order
            conn.release()
        assert trace.events[:2] == ["connection_queued_start", "connection_queued_end"]
        assert connector._slots == 0


async def test_limit_per_host(start_server: Any, make_request: Any) -> None:
    a = await start_server()
    b = await start_server()
    async with TCPConnector(limit_per_host=1) as connector:
        conn_a = await connector.connect(make_request(a.url()))
        conn_b = await connector.connect(make_request(b.url()))  # another host: not blocked
        waiting = asyncio.create_task(connector.connect(make_request(a.url())))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        conn_b.release()
        await asyncio.sleep(0.01)
        assert not waiting.done()  # b's slot is no use to a
        conn_a.release()
        conn = await asyncio.wait_for(waiting, 1)
        conn.release()


async def test_per_host_blocked_waiter_does_not_block_others(
    start_server: Any, make_request: Any
) -> None:
    a = await start_server()
    b = await start_server()
    async with TCPConnector(limit=2, limit_per_host=1) as connector:
        conn_a = await connector.connect(make_request(a.url()))
        conn_b = await connector.connect(make_request(b.url()))
        wait_a = asyncio.create_task(connector.connect(make_request(a.url())))
        wait_b = asyncio.create_task(connector.connect(make_request(b.url())))
        await asyncio.sleep(0.01)
        conn_b.release()
        # The freed slot skips the first waiter (a is at its host limit) for the second.
        conn = await asyncio.wait_for(wait_b, 1)
        assert not wait_a.done()
        conn.release()
        conn_a.release()
        (await asyncio.wait_for(wait_a, 1)).release()


async def test_no_limit(server: Any, make_request: Any) -> None:
    async with TCPConnector(limit=0) as connector:
        conns = [await connector.connect(make_request(server.url())) for _ in range(5)]
        assert len({local_port(c) for c in conns}) == 5
        for conn in conns:
            conn.release()


async def test_cancelled_waiter_does_not_leak_slot(server: Any, make_request: Any) -> None:
    async with TCPConnector(limit=1) as connector:
        first = await connector.connect(make_request(server.url()))
        cancelled = asyncio.create_task(connector.connect(make_request(server.url())))
        later = asyncio.create_task(connector.connect(make_request(server.url())))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        first.release()
        conn = await asyncio.wait_for(later, 1)
        conn.release()
        assert connector._slots == 0
        assert not connector._waiters


async def test_waiter_cancelled_after_slot_handed_over(server: Any, make_request: Any) -> None:
    async with TCPConnector(limit=1) as connector:
        first = await connector.connect(make_request(server.url()))
        unlucky = asyncio.create_task(connector.connect(make_request(server.url())))
        later = asyncio.create_task(connector.connect(make_request(server.url())))
        await asyncio.sleep(0.01)
        first.release()  # the slot goes to `unlucky`...
        unlucky.cancel()  # ...which is cancelled before it runs: `later` must get it
        with pytest.raises(asyncio.CancelledError):
            await unlucky
        conn = await asyncio.wait_for(later, 1)
        conn.release()
        assert connector._slots == 0


async def test_failed_connect_frees_slot(make_request: Any) -> None:
    async with TCPConnector(limit=1) as connector:
        with pytest.raises(ClientConnectorError):
            await connector.connect(make_request(f"http://127.0.0.1:{unused_port()}/"))
        assert connector._slots == 0


async def test_close_fails_waiters(server: Any, make_request: Any) -> None:
    connector = TCPConnector(limit=1)
    first = await connector.connect(make_request(server.url()))
    waiting = asyncio.create_task(connector.connect(make_request(server.url())))
    await asyncio.sleep(0.01)
    await connector.close()
    with pytest.raises(ClientConnectionError):
        await waiting
    first.release()


# -- traces --------------------------------------------------------------------------------


async def test_traces_create_and_reuse(
    server: Any, make_request: Any, fetch_on: Fetch, trace: Any
) -> None:
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(server.url()), [trace])
        await fetch_on(conn)
        conn.release()
        conn = await connector.connect(make_request(server.url()), [trace])
        conn.release()
    assert trace.events == [
        "connection_create_start",
        "connection_create_end",
        "connection_reuseconn",
    ]


# -- DNS -----------------------------------------------------------------------------------


async def test_dns_cache(server: Any, make_request: Any, make_resolver: Any, trace: Any) -> None:
    resolver = make_resolver({"example.test": ["127.0.0.1"]})
    async with TCPConnector(resolver=resolver, force_close=True) as connector:
        assert connector.dns_cache
        for _ in range(2):
            conn = await connector.connect(make_request(server.url(host="example.test")), [trace])
            conn.release()
        assert len(resolver.calls) == 1
        assert ("example.test", server.port) in connector.cached_hosts
        assert trace.events == [
            "connection_create_start",
            "dns_cache_miss(example.test)",
            "dns_resolvehost_start(example.test)",
            "dns_resolvehost_end(example.test)",
            "connection_create_end",
            "connection_create_start",
            "dns_cache_hit(example.test)",
            "connection_create_end",
        ]
        connector.clear_dns_cache("example.test", server.port)
        assert not connector.cached_hosts
    assert not resolver.closed  # not ours to close


async def test_dns_cache_ttl(server: Any, make_request: Any, make_resolver: Any) -> None:
    resolver = make_resolver({"example.test": ["127.0.0.1"]})
    async with TCPConnector(resolver=resolver, ttl_dns_cache=0.05, force_close=True) as conn_:
        for _ in range(2):
            (await conn_.connect(make_request(server.url(host="example.test")))).release()
        assert len(resolver.calls) == 1
        await asyncio.sleep(0.08)
        (await conn_.connect(make_request(server.url(host="example.test")))).release()
        assert len(resolver.calls) == 2


async def test_without_dns_cache(
    server: Any, make_request: Any, make_resolver: Any, trace: Any
) -> None:
    resolver = make_resolver({"example.test": ["127.0.0.1"]})
    async with TCPConnector(resolver=resolver, use_dns_cache=False, force_close=True) as conn_:
        assert not conn_.dns_cache
        for _ in range(2):
            (await conn_.connect(make_request(server.url(host="example.test")), [trace])).release()
        assert len(resolver.calls) == 2
        assert "dns_resolvehost_start(example.test)" in trace.events
        assert not conn_.cached_hosts


async def test_ip_literal_skips_resolver(
    server: Any, make_request: Any, make_resolver: Any
) -> None:
    resolver = make_resolver({})
    async with TCPConnector(resolver=resolver) as connector:
        (await connector.connect(make_request(server.url()))).release()
    assert resolver.calls == []


async def test_clear_dns_cache_arguments() -> None:
    async with TCPConnector() as connector:
        connector._cached_hosts.add(("a", 80), [])
        connector._cached_hosts.add(("b", 80), [])
        with pytest.raises(ValueError):
            connector.clear_dns_cache("a")
        with pytest.raises(ValueError):
            connector.clear_dns_cache(port=80)
        connector.clear_dns_cache("a", 80)
        assert list(connector.cached_hosts) == [("b", 80)]
        connector.clear_dns_cache()
        assert not connector.cached_hosts


async def test_concurrent_lookups_coalesced(make_resolver: Any) -> None:
    resolver = make_resolver({"example.test": ["127.0.0.1", "127.0.0.2"]})
    loop = asyncio.get_running_loop()
    resolver.gate = loop.create_future()
    async with TCPConnector(resolver=resolver) as connector:
        tasks = [
            asyncio.create_task(connector._resolve_host("example.test", 80)) for _ in range(3)
        ]
        await asyncio.sleep(0.01)
        tasks[0].cancel()  # one caller giving up does not stop the lookup of the others
        await asyncio.sleep(0)
        resolver.gate.set_result(None)
        results = await asyncio.gather(*tasks[1:])
        assert len(resolver.calls) == 1
        assert {r["host"] for r in results[0]} == {"127.0.0.1", "127.0.0.2"}
        # Round robin: successive callers start at different addresses.
        assert results[0][0]["host"] != results[1][0]["host"]
        assert tasks[0].cancelled()


async def test_dns_error(make_request: Any, make_resolver: Any) -> None:
    resolver = make_resolver({})
    async with TCPConnector(resolver=resolver) as connector:
        with pytest.raises(ClientConnectorDNSError) as info:
            await connector.connect(make_request("http://nowhere.test/"))
        assert info.value.host == "nowhere.test"
        assert info.value.port == 80
        # A failed lookup is not cached.
        with pytest.raises(ClientConnectorDNSError):
            await connector.connect(make_request("http://nowhere.test/"))
        assert len(resolver.calls) == 2


async def test_owned_resolver_created_lazily_and_closed(
    server: Any, make_request: Any, monkeypatch: pytest.MonkeyPatch, make_resolver: Any
) -> None:
    created: list[Any] = []

    def factory(loop: Any = None) -> Any:
        resolver = make_resolver({"example.test": ["127.0.0.1"]})
        created.append(resolver)
        return resolver

    monkeypatch.setattr("aiohyper.client._connector.DefaultResolver", factory)
    connector = TCPConnector()
    (await connector.connect(make_request(server.url()))).release()
    assert created == []  # an IP literal needs no resolver
    (await connector.connect(make_request(server.url(host="example.test")))).release()
    assert len(created) == 1
    await connector.close()
    assert created[0].closed


# -- connecting ----------------------------------------------------------------------------


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


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


async def test_connection_refused(make_request: Any) -> None:
    async with TCPConnector() as connector:
        req = make_request(f"http://127.0.0.1:{unused_port()}/")
        with pytest.raises(ClientConnectorError) as info:
            await connector.connect(req)
    assert info.value.errno == errno.ECONNREFUSED
    assert info.value.host == "127.0.0.1"
    assert isinstance(info.value.os_error, ConnectionRefusedError)


async def test_sock_connect_timeout(blackhole: tuple[str, int], make_request: Any) -> None:
    host, port = blackhole
    async with TCPConnector() as connector:
        with pytest.raises(ConnectionTimeoutError):
            await connector.connect(
                make_request(f"http://{host}:{port}/"), [], ClientTimeout(sock_connect=0.1)
            )
        assert connector._slots == 0


async def test_happy_eyeballs_skips_hanging_address(
    blackhole: tuple[str, int], server: Any, make_request: Any, make_resolver: Any
) -> None:
    # The host resolves to a hanging address first, then to the server (a resolved address
    # carries its own port).
    resolver = make_resolver({"example.test": ["127.0.0.1"]})
    hanging = ("127.0.0.1", blackhole[1])

    async def resolve(host: str, port: int = 0, family: Any = 0) -> Any:
        good = await type(resolver).resolve(resolver, host, port, family)
        bad = dict(good[0], port=hanging[1])
        return [bad, *good]

    resolver.resolve = resolve
    async with TCPConnector(resolver=resolver, happy_eyeballs_delay=0.05) as connector:
        loop = asyncio.get_running_loop()
        start = loop.time()
        conn = await asyncio.wait_for(
            connector.connect(make_request(server.url(host="example.test"))), 2
        )
        assert loop.time() - start < 1
        assert conn.transport is not None
        assert conn.transport.get_extra_info("peername")[1] == server.port
        conn.release()


async def test_sequential_fallback_after_refusal(
    server: Any, make_request: Any, make_resolver: Any
) -> None:
    resolver = make_resolver({"example.test": ["127.0.0.1"]})
    dead = unused_port()

    async def resolve(host: str, port: int = 0, family: Any = 0) -> Any:
        good = await type(resolver).resolve(resolver, host, port, family)
        return [dict(good[0], port=dead), *good]

    resolver.resolve = resolve
    async with TCPConnector(resolver=resolver, happy_eyeballs_delay=None) as connector:
        conn = await connector.connect(make_request(server.url(host="example.test")))
        assert conn.transport is not None
        assert conn.transport.get_extra_info("peername")[1] == server.port
        conn.release()


async def test_all_addresses_fail() -> None:
    dead = [
        (socket.AF_INET, socket.SOCK_STREAM, 0, "", ("127.0.0.1", unused_port())),
        (socket.AF_INET, socket.SOCK_STREAM, 0, "", ("127.0.0.1", unused_port())),
    ]
    with pytest.raises(OSError) as info:
        await start_connection(dead, happy_eyeballs_delay=0.05)
    assert info.value.errno == errno.ECONNREFUSED


def test_interleave_addrinfos() -> None:
    v6 = [(socket.AF_INET6, 1, 0, "", (f"::{i}", 80, 0, 0)) for i in (1, 2, 3)]
    v4 = [(socket.AF_INET, 1, 0, "", (f"10.0.0.{i}", 80)) for i in (1, 2)]
    hosts = [info[4][0] for info in interleave_addrinfos([*v6, *v4], 1)]
    assert hosts == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]
    hosts = [info[4][0] for info in interleave_addrinfos([*v6, *v4], 2)]
    assert hosts == ["::1", "::2", "10.0.0.1", "::3", "10.0.0.2"]
    assert interleave_addrinfos(v4, 1) == v4


async def test_local_addr_and_socket_factory(server: Any, make_request: Any) -> None:
    made: list[Any] = []

    def factory(addr_info: Any) -> socket.socket:
        made.append(addr_info)
        return socket.socket(addr_info[0], addr_info[1], addr_info[2])

    async with TCPConnector(local_addr=("127.0.0.2", 0), socket_factory=factory) as connector:
        conn = await connector.connect(make_request(server.url()))
        conn.release()
    assert len(made) == 1
    assert server.peers[0][0] == "127.0.0.2"


async def test_family_property_and_deprecations() -> None:
    async with TCPConnector(family=socket.AF_INET) as connector:
        assert connector.family == socket.AF_INET
    with pytest.warns(DeprecationWarning):
        async with TCPConnector(ssl_shutdown_timeout=0.1):
            pass


# -- unix sockets and named pipes ----------------------------------------------------------


@pytest.fixture
def socket_path() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield os.path.join(tmp, "http.sock")


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
async def test_unix_connector(
    start_server: Any, socket_path: str, make_request: Any, fetch_on: Fetch
) -> None:
    srv = await start_server(unix_path=socket_path)
    async with UnixConnector(path=socket_path) as connector:
        assert connector.path == socket_path
        protos = []
        for _ in range(2):
            conn = await connector.connect(make_request("http://localhost/"))
            message, body = await fetch_on(conn)
            assert (message.code, body) == (200, b"ok")
            protos.append(conn.protocol)
            conn.release()
        assert protos[0] is protos[1]
        assert len(srv.peers) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
async def test_unix_connector_missing_socket(socket_path: str, make_request: Any) -> None:
    async with UnixConnector(socket_path) as connector:
        with pytest.raises(UnixClientConnectorError) as info:
            await connector.connect(make_request("http://localhost/"))
    assert info.value.path == socket_path
    assert connector._slots == 0


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes work there")
async def test_named_pipe_connector_needs_windows() -> None:
    with pytest.raises(RuntimeError, match="Named Pipes"):
        NamedPipeConnector(r"\\.\pipe\test")


async def test_connection_attributes(server: Any, make_request: Any) -> None:
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(server.url()))
        assert "127.0.0.1" in repr(conn)
        transport = conn.transport
        assert transport is not None and not conn.closed
        with pytest.warns(DeprecationWarning):
            assert conn.loop is asyncio.get_running_loop()
        conn.release()
        assert (conn.transport, conn.protocol) == (None, None)
        assert bool(conn)  # never falsy
