"""aiohyper.test_utils, server half: test servers, mocked requests and loop helpers."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from unittest import mock

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper._http._message import HttpVersion
from aiohyper.streams import EMPTY_PAYLOAD
from aiohyper.test_utils import (
    BaseTestServer,
    RawTestServer,
    TestServer,
    get_port_socket,
    loop_context,
    make_mocked_coro,
    make_mocked_request,
    setup_test_loop,
    teardown_test_loop,
    unused_port,
)
from aiohyper.web._app import AppKey, Application
from aiohyper.web._request import Request
from aiohyper.web._response import Response
from aiohyper.web._server import Server


async def hello(request: Any) -> Response:
    return Response(text=f"hello {request.path}")


async def http_get(url: URL) -> bytes:
    assert url.host is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"GET {url.raw_path_qs} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


# -- utilities --------------------------------------------------------------------------------


def test_unused_port_is_bindable() -> None:
    port = unused_port()
    assert 0 < port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_get_port_socket_binds() -> None:
    sock = get_port_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    finally:
        sock.close()


async def test_make_mocked_coro() -> None:
    coro = make_mocked_coro(42)
    assert await coro(1, x=2) == 42
    coro.assert_called_once_with(1, x=2)
    assert await make_mocked_coro()() is None
    with pytest.raises(ValueError, match="nope"):
        await make_mocked_coro(raise_exception=ValueError("nope"))()

    async def inner() -> str:
        return "awaited"

    assert await make_mocked_coro(inner())() == "awaited"


def test_loop_context() -> None:
    with loop_context() as loop:
        assert isinstance(loop, asyncio.AbstractEventLoop)
        assert asyncio.get_event_loop_policy().get_event_loop() is loop
        assert loop.run_until_complete(asyncio.sleep(0, "x")) == "x"
    assert loop.is_closed()


def test_setup_and_teardown_test_loop() -> None:
    factory = mock.Mock(side_effect=asyncio.new_event_loop)
    loop = setup_test_loop(factory)
    factory.assert_called_once_with()
    ran = []
    loop.call_soon(ran.append, 1)
    teardown_test_loop(loop, fast=True)
    assert ran == [1]  # pending callbacks run before closing
    assert loop.is_closed()
    teardown_test_loop(loop)  # closing twice is harmless


# -- make_mocked_request ----------------------------------------------------------------------


def test_mocked_request_basics() -> None:
    req = make_mocked_request("GET", "/path?a=1", headers={"token": "x"})
    assert isinstance(req, Request)
    assert req.method == "GET"
    assert req.path == "/path"
    assert req.query["a"] == "1"
    assert req.headers["TOKEN"] == "x"
    assert req.raw_headers == ((b"token", b"x"),)
    assert req.version == HttpVersion(1, 1)
    assert req.keep_alive
    assert req.match_info == {}
    assert req.content is EMPTY_PAYLOAD
    assert not req.secure
    assert req.transport is not None


def test_mocked_request_headers_forms() -> None:
    for headers in ({"A": "1"}, CIMultiDict(A="1"), [("A", "1")]):
        assert make_mocked_request("GET", "/", headers=headers).headers["a"] == "1"


def test_mocked_request_http10_and_closing() -> None:
    assert not make_mocked_request("GET", "/", version=HttpVersion(1, 0)).keep_alive
    assert not make_mocked_request("GET", "/", closing=True).keep_alive


def test_mocked_request_match_info_and_app() -> None:
    key = AppKey("key", str)
    app = Application()
    app[key] = "value"
    req = make_mocked_request("GET", "/u/7", match_info={"id": "7"}, app=app)
    assert req.match_info["id"] == "7"
    assert req.app is app
    assert req.app[key] == "value"


def test_mocked_request_default_app_is_a_mapping() -> None:
    req = make_mocked_request("GET", "/")
    req.app["x"] = 1
    assert req.app["x"] == 1
    assert "x" in req.app


def test_mocked_request_sslcontext_and_transport() -> None:
    ctx = mock.Mock()
    req = make_mocked_request("GET", "/", sslcontext=ctx)
    assert req.secure
    assert req.scheme == "https"

    transport = mock.Mock()
    transport.get_extra_info.return_value = ("1.2.3.4", 5)
    req = make_mocked_request("GET", "/", transport=transport)
    assert req.transport is transport
    assert req.remote == "1.2.3.4"


def test_mocked_request_payload_writer_protocol() -> None:
    writer = mock.Mock()
    protocol = mock.Mock()
    payload = mock.Mock()
    req = make_mocked_request(
        "POST", "/", writer=writer, protocol=protocol, payload=payload, client_max_size=10
    )
    assert req.writer is writer
    assert req.protocol is protocol
    assert req.content is payload
    assert req.client_max_size == 10


def test_mocked_request_chunked() -> None:
    req = make_mocked_request("POST", "/", headers={"Transfer-Encoding": "chunked"})
    assert req._message.chunked


async def test_mocked_request_response_prepare() -> None:
    req = make_mocked_request("GET", "/")
    resp = Response(text="data")
    await resp.prepare(req)
    await resp.write_eof()
    req.writer.write_headers.assert_called_once()
    assert resp.prepared


async def test_mocked_request_uses_running_loop() -> None:
    req = make_mocked_request("GET", "/")
    assert req._loop is asyncio.get_running_loop()


def test_mocked_request_loop_outside_of_one() -> None:
    req = make_mocked_request("GET", "/", reader=object())
    assert isinstance(req._loop, mock.Mock)


# -- test servers -----------------------------------------------------------------------------


async def test_test_server_lifecycle() -> None:
    app = Application()
    app.router.add_get("/", hello)
    server = TestServer(app)
    assert not server.started
    assert server.app is app
    await server.start_server()
    assert server.started
    assert server.scheme == "http"
    assert server.host == "127.0.0.1"
    assert server.port
    assert isinstance(server.handler, Server)
    assert server.server is not None
    assert server.make_url("/") == URL(f"http://127.0.0.1:{server.port}/")
    assert (await http_get(server.make_url("/"))).endswith(b"hello /")
    await server.start_server()  # no-op
    await server.close()
    assert server.closed
    await server.close()  # no-op


async def test_make_url_rejects_absolute_urls() -> None:
    async with RawTestServer(hello) as server:
        assert str(server.make_url("/a?b=c")).endswith("/a?b=c")
        with pytest.raises(AssertionError):
            server.make_url("http://example.com/")
    async with RawTestServer(hello, skip_url_asserts=True) as server:
        assert str(server.make_url("/x")) == f"http://127.0.0.1:{server.port}/x"


async def test_raw_test_server() -> None:
    async with RawTestServer(hello) as server:
        assert isinstance(server, BaseTestServer)
        assert (await http_get(server.make_url("/raw"))).endswith(b"hello /raw")


async def test_raw_test_server_debug_error_page() -> None:
    async def broken(request: Any) -> Response:
        raise RuntimeError("visible in debug")

    async with RawTestServer(broken) as server:
        data = await http_get(server.make_url("/"))
    assert data.startswith(b"HTTP/1.1 500")
    assert b"visible in debug" in data


async def test_fixed_port_and_kwargs() -> None:
    port = unused_port()
    async with RawTestServer(hello, port=port, keepalive_timeout=12) as server:
        assert server.port == port
        assert server.handler().keepalive_timeout == 12


async def test_socket_factory() -> None:
    calls: list[tuple[str, int, socket.AddressFamily]] = []

    def factory(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
        calls.append((host, port, family))
        return get_port_socket(host, port, family)

    async with RawTestServer(hello, socket_factory=factory) as server:
        assert server.socket_factory is factory
    assert calls == [("127.0.0.1", 0, socket.AF_INET)]


async def test_ipv6_host() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    async with RawTestServer(hello, host="::1") as server:
        assert str(server.make_url("/")).startswith("http://[::1]:")


async def test_scheme_https_with_ssl_context() -> None:
    import ssl

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    server = RawTestServer(hello)
    await server.start_server(ssl=ctx)
    assert server.scheme == "https"
    assert server.make_url("/").scheme == "https"
    await server.close()


async def test_not_collected_by_pytest() -> None:
    assert TestServer.__test__ is False
