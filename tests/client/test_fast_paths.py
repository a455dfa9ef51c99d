"""The client's shortcuts for the common request: each must behave like the general path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http.cookies import BaseCookie, SimpleCookie
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper.client import _request as request_mod
from aiohyper.client._connector import TCPConnector
from aiohyper.client._cookiejar import CookieJar, DummyCookieJar
from aiohyper.client._pool import Connection
from aiohyper.client._protocol import ResponseHandler
from aiohyper.client._request import ClientRequest
from aiohyper.client._session import ClientSession
from aiohyper.payload import BytesPayload


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def connection() -> tuple[Connection, RecordingTransport]:
    loop = asyncio.get_running_loop()
    proto = ResponseHandler(loop)
    transport = RecordingTransport()
    proto.connection_made(transport)
    conn = Connection(TCPConnector(loop=loop), None, proto, loop)  # type: ignore[arg-type]
    return conn, transport


class TestSendInOneWrite:
    async def test_bodyless_request_is_one_write_without_a_task(self) -> None:
        conn, transport = connection()
        req = ClientRequest("GET", URL("http://example.com/a?b=1"), loop=conn._loop)
        resp = await req.send(conn)
        assert req._writer is None and resp._writer is None
        assert transport.writes == [
            b"GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n"
            + b"".join(f"{k}: {v}\r\n".encode() for k, v in list(req.headers.items())[1:])
            + b"\r\n"
        ]
        conn._protocol = None

    async def test_small_body_goes_with_the_head(self) -> None:
        conn, transport = connection()
        req = ClientRequest("POST", URL("http://example.com/"), data=b"xyz", loop=conn._loop)
        await req.send(conn)
        assert req._writer is None
        assert len(transport.writes) == 1
        assert b"\r\nContent-Length: 3\r\n" in transport.writes[0]
        assert transport.writes[0].endswith(b"\r\n\r\nxyz")
        conn._protocol = None

    async def test_memoryview_body_goes_with_the_head(self) -> None:
        conn, transport = connection()
        body = memoryview(b"--abc--")[2:5]
        req = ClientRequest("PUT", URL("http://example.com/"), data=body, loop=conn._loop)
        await req.send(conn)
        assert len(transport.writes) == 1 and transport.writes[0].endswith(b"\r\n\r\nabc")
        conn._protocol = None

    async def test_payload_with_its_own_write_takes_the_general_path(self) -> None:
        class Shouting(BytesPayload):
            async def write(self, writer: Any) -> None:
                await writer.write(bytes(self._value).upper())

        conn, transport = connection()
        req = ClientRequest(
            "POST", URL("http://example.com/"), data=Shouting(b"abc"), loop=conn._loop
        )
        await req.send(conn)
        await asyncio.sleep(0)  # the writer flushes at the end of the iteration at the latest
        assert b"".join(transport.writes).endswith(b"\r\n\r\nABC")
        conn._protocol = None

    async def test_closing_transport_is_a_client_error(self) -> None:
        from aiohyper.client._exceptions import ClientOSError

        conn, transport = connection()
        transport.is_closing = lambda: True  # type: ignore[method-assign]
        req = ClientRequest("GET", URL("http://example.com/"), loop=conn._loop)
        with pytest.raises(ClientOSError):
            await req.send(conn)
        conn._protocol = None


class TestHeadCache:
    def test_same_head_same_bytes_and_changes_seen(self) -> None:
        headers = CIMultiDict({"Host": "a", "X-A": "1"})
        first = request_mod._serialize_head("GET / HTTP/1.1", headers)
        assert request_mod._serialize_head("GET / HTTP/1.1", headers) is first
        headers["X-A"] = "2"
        assert b"X-A: 2\r\n" in request_mod._serialize_head("GET / HTTP/1.1", headers)
        assert b"GET /b " in request_mod._serialize_head("GET /b HTTP/1.1", headers)

    def test_values_that_are_not_strings_are_never_served_from_the_cache(self) -> None:
        headers: CIMultiDict[Any] = CIMultiDict({"Host": "a", "X-N": 1})
        assert b"X-N: 1\r\n" in request_mod._serialize_head("GET / HTTP/1.1", headers)
        headers["X-N"] = True  # equal to 1, and hashed alike
        assert b"X-N: True\r\n" in request_mod._serialize_head("GET / HTTP/1.1", headers)

    def test_unhashable_value(self) -> None:
        headers: CIMultiDict[Any] = CIMultiDict({"Host": "a", "X-L": ["x"]})
        assert b"X-L: ['x']\r\n" in request_mod._serialize_head("GET / HTTP/1.1", headers)

    def test_invalid_head_still_refused(self) -> None:
        headers = CIMultiDict({"Host": "a", "X-Bad": "a\r\nInjected: 1"})
        with pytest.raises(ValueError):
            request_mod._serialize_head("GET / HTTP/1.1", headers)
        with pytest.raises(ValueError):  # not remembered as good either
            request_mod._serialize_head("GET / HTTP/1.1", headers)


class TestSessionShortcuts:
    async def test_url_strings_parsed_once(self) -> None:
        async with ClientSession() as session:
            url = session._build_url("http://example.com/x")
            assert session._build_url("http://example.com/x") is url
            assert session._build_url(URL("http://example.com/x")) == url

    async def test_url_cache_joins_base_url_and_is_bounded(self) -> None:
        async with ClientSession("http://example.com/api/") as session:
            assert session._build_url("v1") == URL("http://example.com/api/v1")
            for i in range(1000):
                session._build_url(f"p{i}")
            assert len(session._url_cache) <= 256

    async def test_empty_jars_are_skipped_others_asked(self) -> None:
        async with ClientSession() as session:
            assert session._jar_is_empty()
            session.cookie_jar.update_cookies({"a": "1"})
            assert not session._jar_is_empty()
        async with ClientSession(cookie_jar=DummyCookieJar()) as session:
            assert session._jar_is_empty()

        class CustomJar(CookieJar):
            def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
                cookie: SimpleCookie = SimpleCookie()
                cookie["made"] = "up"
                return cookie

        async with ClientSession(cookie_jar=CustomJar()) as session:
            assert not session._jar_is_empty()  # a jar of another type is always asked


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    """A server that answers each request with its own head as the body."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(head), head)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


async def test_custom_jar_cookies_are_sent(echo_url: str) -> None:
    class CustomJar(DummyCookieJar):
        def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
            cookie: SimpleCookie = SimpleCookie()
            cookie["made"] = "up"
            return cookie

    async with (
        ClientSession(cookie_jar=CustomJar()) as session,
        session.get(f"{echo_url}/") as resp,
    ):
        assert b"Cookie: made=up\r\n" in await resp.read()


async def test_many_requests_one_connection_one_parser(echo_url: str) -> None:
    async with ClientSession() as session:
        connector = session.connector
        assert connector is not None
        parsers = set()
        for i in range(5):
            async with session.get(f"{echo_url}/{i}") as resp:
                assert (await resp.read()).startswith(f"GET /{i} HTTP/1.1\r\n".encode())
            assert resp.connection is None  # released as soon as the body was in
            [(proto, _)] = [c for conns in connector._conns.values() for c in conns]
            parsers.add(id(proto._parser))
        assert len(parsers) == 1
        async with session.head(f"{echo_url}/h") as resp:
            assert resp.status == 200  # a HEAD needs a parser of its own...
        async with session.get(f"{echo_url}/after-head") as resp:  # ...and so does a GET after
            assert (await resp.read()).startswith(b"GET /after-head HTTP/1.1\r\n")
