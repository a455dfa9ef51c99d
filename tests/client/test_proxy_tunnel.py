"""Proxies in the TCP connector: CONNECT tunnels (TLS inside), forward proxying, proxy errors.

The proxy is a tiny asyncio server written here: it opens tunnels for CONNECT and answers plain
requests itself (echoing the request target), recording every head it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiohyper.client._connector import TCPConnector
from aiohyper.client._exceptions import (
    ClientConnectorCertificateError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
)
from aiohyper.client._proxy import proxy_authorization
from aiohyper.client._tls import Fingerprint
from aiohyper.helpers import BasicAuth


class TinyProxy:
    def __init__(self, *, connect_status: int = 200, hang_up_on_connect: bool = False) -> None:
        self.connect_status = connect_status
        self.hang_up_on_connect = hang_up_on_connect
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> TinyProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                self.heads.append(head)
                method, target, _ = head.split(b"\r\n", 1)[0].split(b" ")
                if method != b"CONNECT":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(target), target)
                    )
                    continue
                if self.hang_up_on_connect:
                    return
                if self.connect_status != 200:
                    writer.write(
                        b"HTTP/1.1 %d Go Away\r\nContent-Length: 0\r\n\r\n" % self.connect_status
                    )
                    continue
                host, _, port = target.rpartition(b":")
                up_reader, up_writer = await asyncio.open_connection(
                    host.strip(b"[]").decode(), int(port)
                )
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
                return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TinyProxy]:
    srv = await TinyProxy().start()
    yield srv
    await srv.close()


async def make_proxy(**kwargs: Any) -> TinyProxy:
    return await TinyProxy(**kwargs).start()


async def test_https_through_connect_tunnel(
    proxy: TinyProxy,
    tls_server: Any,
    client_context: ssl.SSLContext,
    make_request: Any,
    fetch_on: Any,
) -> None:
    url = tls_server.url(scheme="https")
    async with TCPConnector(ssl=client_context) as connector:
        for _ in range(2):
            conn = await connector.connect(make_request(url, proxy=proxy.url))
            assert conn.transport is not None
            assert conn.transport.get_extra_info("ssl_object") is not None
            message, body = await fetch_on(conn)
            assert (message.code, body) == (200, b"ok")
            conn.release()
    # One tunnel, reused for both requests.
    assert len(proxy.heads) == 1
    head = proxy.heads[0]
    assert head.startswith(f"CONNECT 127.0.0.1:{tls_server.port} HTTP/1.1\r\n".encode())
    assert f"Host: 127.0.0.1:{tls_server.port}\r\n".encode() in head
    assert len(tls_server.heads) == 2
    assert len(tls_server.peers) == 1


async def test_tls_inside_tls_to_an_https_proxy(
    tls_server: Any,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    make_request: Any,
    fetch_on: Any,
) -> None:
    proxy = await TinyProxy().start(ssl_context=server_context)
    try:
        async with TCPConnector(ssl=client_context) as connector:
            proxy_url = f"https://127.0.0.1:{proxy.port}"
            conn = await connector.connect(
                make_request(tls_server.url(scheme="https"), proxy=proxy_url)
            )
            message, body = await fetch_on(conn)
            assert (message.code, body) == (200, b"ok")
            conn.release()
    finally:
        await proxy.close()
    assert proxy.heads[0].startswith(b"CONNECT ")


async def test_connect_carries_credentials_and_proxy_headers(
    proxy: TinyProxy, tls_server: Any, client_context: ssl.SSLContext, make_request: Any
) -> None:
    async with TCPConnector(ssl=client_context) as connector:
        req = make_request(
            tls_server.url(scheme="https"),
            proxy=proxy.url,
            proxy_auth=BasicAuth("user", "pass"),
            proxy_headers={"X-Proxy-Token": "t0k"},
        )
        (await connector.connect(req)).release()
        assert "Proxy-Authorization" not in req.headers  # sent to the proxy only
    head = proxy.heads[0]
    assert b"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n" in head
    assert b"X-Proxy-Token: t0k\r\n" in head


async def test_credentials_in_proxy_url(make_request: Any) -> None:
    req = make_request("https://example.test/", proxy="http://user:pa%20ss@127.0.0.1:3128")
    assert proxy_authorization(req) == BasicAuth("user", "pa ss").encode()
    req = make_request("https://example.test/", proxy="http://127.0.0.1:3128")
    assert proxy_authorization(req) is None


async def test_tunnel_refused(tls_server: Any, make_request: Any) -> None:
    proxy = await make_proxy(connect_status=407)
    try:
        async with TCPConnector() as connector:
            req = make_request(tls_server.url(scheme="https"), proxy=proxy.url)
            with pytest.raises(ClientHttpProxyError) as info:
                await connector.connect(req)
            assert connector._slots == 0
            assert not connector._conns
    finally:
        await proxy.close()
    assert info.value.status == 407
    assert info.value.message == "Go Away"
    assert info.value.request_info.method == "CONNECT"


async def test_proxy_hangs_up(tls_server: Any, make_request: Any) -> None:
    proxy = await make_proxy(hang_up_on_connect=True)
    try:
        async with TCPConnector() as connector:
            req = make_request(tls_server.url(scheme="https"), proxy=proxy.url)
            with pytest.raises(ServerDisconnectedError):
                await connector.connect(req)
    finally:
        await proxy.close()


async def test_proxy_unreachable(tls_server: Any, make_request: Any) -> None:
    proxy = await make_proxy()
    port = proxy.port
    await proxy.close()
    async with TCPConnector() as connector:
        req = make_request(tls_server.url(scheme="https"), proxy=f"http://127.0.0.1:{port}")
        with pytest.raises(ClientProxyConnectionError) as info:
            await connector.connect(req)
    assert info.value.port == port


async def test_certificate_checked_inside_tunnel(
    proxy: TinyProxy, tls_server: Any, server_cert: Any, make_request: Any
) -> None:
    url = tls_server.url(scheme="https")
    async with TCPConnector() as connector:
        with pytest.raises(ClientConnectorCertificateError):
            await connector.connect(make_request(url, proxy=proxy.url))
        der = ssl.PEM_cert_to_DER_cert(server_cert.cert_chain_pems[0].bytes().decode())
        pin = Fingerprint(hashlib.sha256(der).digest())
        (await connector.connect(make_request(url, proxy=proxy.url, ssl=pin))).release()
        wrong = Fingerprint(hashlib.sha256(b"other").digest())
        with pytest.raises(ServerFingerprintMismatch):
            await connector.connect(make_request(url, proxy=proxy.url, ssl=wrong))
        assert connector._slots == 0


async def test_forward_proxy_for_plain_http(
    proxy: TinyProxy, server: Any, make_request: Any, fetch_on: Any
) -> None:
    async with TCPConnector() as connector:
        for _ in range(2):
            req = make_request(
                server.url("/x"),
                proxy=proxy.url,
                proxy_auth=BasicAuth("user", "pass"),
                proxy_headers={"X-Proxy-Token": "t0k"},
            )
            conn = await connector.connect(req)
            assert conn.transport is not None
            assert conn.transport.get_extra_info("peername")[1] == proxy.port
            # A pooled connection to the proxy or a new one: the headers are added each time.
            assert req.headers["Proxy-Authorization"] == "Basic dXNlcjpwYXNz"
            assert req.headers["X-Proxy-Token"] == "t0k"
            message, body = await fetch_on(conn, server.url("/x"))
            assert (message.code, body) == (200, server.url("/x").encode())
            conn.release()
    assert len(proxy.heads) == 2
    assert server.heads == []  # the proxy answered; nothing reached the origin


async def test_forward_proxy_keeps_request_headers(proxy: TinyProxy, make_request: Any) -> None:
    async with TCPConnector() as connector:
        req = make_request("http://127.0.0.1:1/", proxy=proxy.url, proxy_headers={"X-A": "proxy"})
        req.headers["X-A"] = "mine"
        (await connector.connect(req)).release()
        assert req.headers.getall("X-A") == ["mine"]
        assert "Proxy-Authorization" not in req.headers
