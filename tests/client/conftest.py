"""Helpers for the connector tests: a stand-in request, canned HTTP servers, a fake resolver, a
recording trace. Test modules get them through the fixtures at the end (importing ``conftest``
is ambiguous when several test directories have one)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trustme
from multidict import CIMultiDict
from yarl import URL

from aiohyper.abc import AbstractResolver, ResolveResult
from aiohyper.client._pool import Connection
from aiohyper.client._request import ConnectionKey
from aiohyper.helpers import BasicAuth


class FakeRequest:
    """The attributes of ``ClientRequest`` that connectors read."""

    def __init__(
        self,
        url: str | URL,
        *,
        ssl: Any = True,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        proxy_headers: dict[str, str] | None = None,
        server_hostname: str | None = None,
    ) -> None:
        self.url = URL(url)
        self.ssl = ssl
        self.proxy = URL(proxy) if proxy is not None else None
        self.proxy_auth = proxy_auth
        self.proxy_headers = CIMultiDict(proxy_headers) if proxy_headers is not None else None
        self.server_hostname = server_hostname
        self.headers: CIMultiDict[str] = CIMultiDict()

    @property
    def host(self) -> str:
        host = self.url.raw_host
        assert host is not None
        return host

    @property
    def port(self) -> int | None:
        return self.url.port

    def is_ssl(self) -> bool:
        return self.url.scheme in ("https", "wss")

    @property
    def connection_key(self) -> ConnectionKey:
        headers = self.proxy_headers
        return ConnectionKey(
            self.host,
            self.port,
            self.is_ssl(),
            self.ssl,
            self.proxy,
            self.proxy_auth,
            hash(tuple(headers.items())) if headers else None,
        )


Responder = Callable[[bytes], bytes]


def ok_response(head: bytes) -> bytes:
    del head
    return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class CannedServer:
    """An HTTP/1.1 server answering every request head with ``responder(head)``.

    Records the client port of each accepted connection, the request heads, and how many
    connections the clients closed.
    """

    def __init__(self, responder: Responder = ok_response) -> None:
        self.responder = responder
        self.peers: list[Any] = []
        self.heads: list[bytes] = []
        self.closed_by_client = 0
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def start(
        self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
    ) -> CannedServer:
        self.server = await asyncio.start_server(self._handle, host, 0, ssl=ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def start_unix(self, path: str) -> CannedServer:
        self.server = await asyncio.start_unix_server(self._handle, path)
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.append(writer.get_extra_info("peername"))
        self.writers.append(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    self.closed_by_client += 1
                    return
                self.heads.append(head)
                writer.write(self.responder(head))
                await writer.drain()
        except (ConnectionError, ssl.SSLError, asyncio.LimitOverrunError):
            self.closed_by_client += 1
        finally:
            writer.close()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()

    def url(self, path: str = "/", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


async def fetch(conn: Connection, path: str = "/", host: str = "test") -> tuple[Any, bytes]:
    """Send ``GET path`` on ``conn`` and read the whole response."""
    proto = conn.protocol
    transport = conn.transport
    assert proto is not None and transport is not None
    proto.set_response_params()
    transport.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    message, payload = await proto.read()
    body = await payload.read()
    return message, body


class FakeResolver(AbstractResolver):
    """Resolves names from a table, counting lookups; ``gate`` (when set) holds them."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int, int]] = []
        self.gate: asyncio.Future[None] | None = None
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append((host, port, family))
        if self.gate is not None:
            await self.gate
        if host not in self.table:
            raise OSError(None, f"unknown host {host}")
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        self.closed = True


class RecordingTrace:
    """Records the names of the trace calls it receives."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("send_"):
            raise AttributeError(name)

        async def record(*args: Any) -> None:
            self.events.append(name[5:] + (f"({args[0]})" if args else ""))

        return record


@pytest.fixture
def make_request() -> type[FakeRequest]:
    return FakeRequest


@pytest.fixture
def fetch_on() -> Callable[..., Any]:
    return fetch


@pytest.fixture
def make_resolver() -> type[FakeResolver]:
    return FakeResolver


@pytest.fixture
def trace() -> RecordingTrace:
    return RecordingTrace()


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[..., Any]]:
    """``await start_server(responder=..., ssl_context=..., unix_path=...)``: a started
    `CannedServer`, closed after the test."""
    servers: list[CannedServer] = []

    async def start(
        responder: Responder = ok_response,
        *,
        ssl_context: ssl.SSLContext | None = None,
        unix_path: str | None = None,
    ) -> CannedServer:
        srv = CannedServer(responder)
        if unix_path is not None:
            await srv.start_unix(unix_path)
        else:
            await srv.start(ssl_context=ssl_context)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.close()


@pytest.fixture
async def server(start_server: Callable[..., Any]) -> CannedServer:
    srv: CannedServer = await start_server()
    return srv


# -- TLS: a test CA and a server certificate for localhost / 127.0.0.1 ---------------------


@pytest.fixture(scope="session")
def ca() -> Any:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca: Any) -> Any:
    return ca.issue_cert("localhost", "127.0.0.1")


@pytest.fixture
def server_context(server_cert: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: Any) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def tls_server(start_server: Callable[..., Any], server_context: ssl.SSLContext) -> Any:
    return await start_server(ssl_context=server_context)
