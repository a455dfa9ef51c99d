"""`ClientResponse`: attributes, body reading, decoding, and giving back the connection."""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper import web
from aiohyper.client._exceptions import (
    ClientConnectionError,
    ClientPayloadError,
    ClientResponseError,
    ContentTypeError,
)
from aiohyper.client._response import ClientResponse
from aiohyper.client._session import ClientSession
from aiohyper.helpers import HttpVersion11
from aiohyper.test_utils import TestServer

Serve = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        srv = TestServer(app)
        await srv.start_server()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.close()


class Canned:
    """A raw server answering each request head with ``responses[i]`` (the last one repeats),
    counting connections."""

    def __init__(self, *responses: bytes) -> None:
        self.responses = list(responses)
        self.connections = 0
        self.count = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Canned:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> URL:
        assert self.server is not None
        return URL(f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                response = self.responses[min(self.count, len(self.responses) - 1)]
                self.count += 1
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


class TestAttributes:
    async def test_basic_attributes(self, serve: Serve) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(text="hi", status=201, reason="Made It", headers={"X-Thing": "1"})

        app = web.Application()
        app.router.add_get("/p", handler)
        srv = await serve(app)
        async with ClientSession() as session:
            url = srv.make_url("/p?q=1#frag")
            async with session.get(url) as resp:
                assert resp.status == 201
                assert resp.reason == "Made It"
                assert resp.ok
                assert resp.method == "GET"
                assert resp.version == HttpVersion11
                assert resp.url == srv.make_url("/p?q=1")
                assert resp.real_url == url
                assert resp.host == "127.0.0.1"
                assert resp.headers["X-Thing"] == "1"
                assert (b"X-Thing", b"1") in resp.raw_headers
                assert resp.content_type == "text/plain"
                assert resp.charset == "utf-8"
                assert resp.content_length == 2
                assert resp.history == ()
                assert resp.request_info.url == srv.make_url("/p?q=1")
                assert resp.request_info.real_url == url
                assert resp.request_info.method == "GET"
                assert resp.request_info.headers["Host"] == f"127.0.0.1:{srv.port}"
                # The body came with the head: the connection is back in the pool already.
                assert resp.connection is None
                text = repr(resp)
                assert text.startswith(f"<ClientResponse({srv.make_url('/p?q=1')}) [201 Made It]>")
                assert "X-Thing" in text
                assert await resp.text() == "hi"

    async def test_not_ok(self) -> None:
        async with (
            Canned(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") as srv,
            ClientSession() as session,
            session.get(srv.url) as resp,
        ):
            assert not resp.ok
            with pytest.raises(ClientResponseError) as info:
                resp.raise_for_status()
            err = info.value
            assert err.status == 404
            assert err.message == "Not Found"
            assert err.headers is not None and err.headers["Content-Length"] == "0"
            assert err.request_info is resp.request_info

    async def test_content_type_defaults(self) -> None:
        async with (
            Canned(ok(b"x"), ok(b"x", "Content-Type: jpg")) as srv,
            ClientSession() as session,
        ):
            async with session.get(srv.url) as resp:
                assert resp.content_type == "application/octet-stream"
                assert resp.charset is None
            async with session.get(srv.url) as resp:
                assert resp.content_type == "text/plain"

    async def test_content_disposition(self) -> None:
        cd = "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20rates.txt"
        async with Canned(ok(b"x", cd), ok(b"x")) as srv, ClientSession() as session:
            async with session.get(srv.url) as resp:
                disposition = resp.content_disposition
                assert disposition is not None
                assert disposition.type == "attachment"
                assert disposition.filename == "€ rates.txt"
                assert disposition.parameters["filename*"] == "€ rates.txt"
            async with session.get(srv.url) as resp:
                assert resp.content_disposition is None

    async def test_links(self) -> None:
        link = (
            'Link: <https://api.example.com/page/2>; rel="next", '
            '</page/9>; rel=last; title="Last, page", <http://x/y>'
        )
        async with (
            Canned(ok(b"", link)) as srv,
            ClientSession() as session,
            session.get(srv.url) as resp,
        ):
            links = resp.links
            assert links["next"]["url"] == URL("https://api.example.com/page/2")
            assert links["next"]["rel"] == "next"
            assert links["last"]["url"] == srv.url.join(URL("/page/9"))
            assert links["last"]["title"] == "Last, page"
            assert links["http://x/y"]["url"] == URL("http://x/y")
            assert len(links) == 3

    async def test_cookies(self) -> None:
        headers = ("Set-Cookie: a=1; Path=/", "Set-Cookie: b=2; HttpOnly", "Set-Cookie: a=3")
        async with (
            Canned(ok(b"", *headers)) as srv,
            ClientSession() as session,
            session.get(srv.url) as resp,
        ):
            assert resp.cookies["a"].value == "3"
            assert resp.cookies["b"]["httponly"] is True
            assert len(resp.headers.getall("Set-Cookie")) == 3


class TestBody:
    async def test_read_text_json(self, serve: Serve) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response({"a": [1, 2]})

        app = web.Application()
        app.router.add_get("/", handler)
        srv = await serve(app)
        async with ClientSession() as session, session.get(srv.make_url("/")) as resp:
            assert await resp.json() == {"a": [1, 2]}
            assert await resp.read() == b'{"a": [1, 2]}'
            assert await resp.text() == '{"a": [1, 2]}'
            assert await resp.json(loads=lambda s: ("custom", s)) == ("custom", '{"a": [1, 2]}')

    async def test_json_content_type_check(self) -> None:
        async with (
            Canned(ok(b'{"a": 1}', "Content-Type: text/html")) as srv,
            ClientSession() as session,
            session.get(srv.url) as resp,
        ):
            with pytest.raises(ContentTypeError) as info:
                await resp.json()
            assert "unexpected mimetype: text/html" in info.value.message
            assert info.value.status == 200
            assert await resp.json(content_type=None) == {"a": 1}
            assert await resp.json(content_type="text/html") == {"a": 1}

    async def test_json_suffix_and_empty(self) -> None:
        async with (
            Canned(
                ok(b'{"e": 1}', "Content-Type: application/problem+json"),
                ok(b"  \n", "Content-Type: application/json"),
            ) as srv,
            ClientSession() as session,
        ):
            async with session.get(srv.url) as resp:
                assert await resp.json() == {"e": 1}
            async with session.get(srv.url) as resp:
                assert await resp.json() is None

    async def test_text_encoding(self) -> None:
        body = "привет".encode("cp1251")
        async with (
            Canned(
                ok(body, "Content-Type: text/plain; charset=windows-1251"),
                ok(body, "Content-Type: text/plain"),
                ok(body, "Content-Type: text/plain; charset=no-such-codec"),
            ) as srv,
            ClientSession() as session,
        ):
            async with session.get(srv.url) as resp:
                assert resp.get_encoding() == "cp1251"
                assert await resp.text() == "привет"
            async with session.get(srv.url) as resp:
                assert await resp.text(encoding="cp1251") == "привет"
                with pytest.raises(UnicodeDecodeError):
                    await resp.text()
                assert await resp.text(errors="replace") != "привет"
            async with session.get(srv.url) as resp:
                await resp.read()
                assert resp.get_encoding() == "utf-8"  # unknown charset: fallback

    async def test_fallback_charset_resolver(self) -> None:
        body = "é".encode("latin-1")
        calls: list[bytes] = []

        def resolver(resp: ClientResponse, data: bytes) -> str:
            calls.append(data)
            return "latin-1"

        async with (
            Canned(ok(body, "Content-Type: text/plain")) as srv,
            ClientSession(fallback_charset_resolver=resolver) as session,
            session.get(srv.url) as resp,
        ):
            with pytest.raises(RuntimeError):
                resp.get_encoding()  # body not read yet
            assert await resp.text() == "é"
        assert calls == [body]

    async def test_json_is_utf8_without_charset(self) -> None:
        async with (
            Canned(ok('{"k": "é"}'.encode(), "Content-Type: application/json")) as srv,
            ClientSession(fallback_charset_resolver=lambda r, b: "ascii") as session,
            session.get(srv.url) as resp,
        ):
            assert resp.get_encoding() == "utf-8"
            assert await resp.json() == {"k": "é"}

    async def test_streaming(self, serve: Serve) -> None:
        data = bytes(range(256)) * 1000

        async def handler(request: web.Request) -> web.StreamResponse:
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for i in range(0, len(data), 10000):
                await resp.write(data[i : i + 10000])
            await resp.write_eof()
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        srv = await serve(app)
        async with ClientSession() as session, session.get(srv.make_url("/")) as resp:
            received = b""
            async for chunk in resp.content.iter_chunked(4096):
                assert len(chunk) <= 4096
                received += chunk
            assert received == data

    async def test_gzip_decoded(self) -> None:
        raw = gzip.compress(b"compressed body")
        async with Canned(ok(raw, "Content-Encoding: gzip")) as srv:
            async with ClientSession() as session:
                async with session.get(srv.url) as resp:
                    assert await resp.read() == b"compressed body"
                async with session.get(srv.url, auto_decompress=False) as resp:
                    assert await resp.read() == raw
            async with (
                ClientSession(auto_decompress=False) as session,
                session.get(srv.url) as resp,
            ):
                assert await resp.read() == raw

    async def test_head_has_no_body(self) -> None:
        async with Canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") as srv:
            async with ClientSession() as session:
                for _ in range(2):
                    async with session.head(srv.url) as resp:
                        assert resp.content_length == 100
                        assert await resp.read() == b""
            assert srv.connections == 1

    async def test_truncated_body(self) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with ClientSession() as session:
                resp = await session.get(f"http://127.0.0.1:{port}/")
                with pytest.raises(ClientPayloadError):
                    await resp.read()
                assert resp.closed
                assert resp.connection is None
        finally:
            server.close()
            await server.wait_closed()

    async def test_malformed_head(self) -> None:
        async with Canned(b"HTTP/1.1 2x0 Bad\r\n\r\n") as srv, ClientSession() as session:
            with pytest.raises(ClientResponseError) as info:
                await session.get(srv.url)
            assert info.value.status == 400
            assert isinstance(info.value.request_info.url, URL)

    async def test_interim_responses_skipped(self) -> None:
        async with (
            Canned(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + ok(b"x")) as srv,
            ClientSession() as session,
            session.get(srv.url) as resp,
        ):
            assert resp.status == 200
            assert await resp.read() == b"x"


class TestConnection:
    async def test_read_returns_connection_to_pool(self) -> None:
        async with Canned(ok(b"hello")) as srv:
            async with ClientSession() as session:
                for _ in range(3):
                    resp = await session.get(srv.url)
                    assert await resp.read() == b"hello"
                    assert resp.connection is None
                    assert resp.closed
            assert srv.connections == 1

    async def test_context_manager_releases(self) -> None:
        async with Canned(ok(b"hello")) as srv:
            async with ClientSession() as session:
                for _ in range(3):
                    async with session.get(srv.url) as resp:
                        assert resp.status == 200
                # the body was already buffered: the connection is reused
            assert srv.connections == 1

    async def test_release_unread_body_closes(self, serve: Serve) -> None:
        big = b"x" * 2**20

        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=big)

        app = web.Application()
        app.router.add_get("/", handler)
        srv = await serve(app)
        peers: set[Any] = set()
        async with ClientSession() as session:
            for _ in range(2):
                async with session.get(srv.make_url("/")) as resp:
                    assert resp.connection is not None
                    peers.add(resp.connection.transport.get_extra_info("sockname"))  # type: ignore[union-attr]
                    await resp.content.read(10)
                assert resp.connection is None
                with pytest.raises(ClientConnectionError):
                    await resp.read()
        assert len(peers) == 2  # a half-read connection is never reused

    async def test_close(self) -> None:
        async with Canned(ok(b"hello")) as srv, ClientSession() as session:
            resp = await session.get(srv.url)
            resp.close()
            assert resp.closed
            assert resp.connection is None
            resp.close()  # idempotent
            await resp.wait_for_close()
            async with session.get(srv.url) as resp2:
                assert await resp2.read() == b"hello"

    async def test_release_is_awaitable(self) -> None:
        async with Canned(ok(b"hello")) as srv, ClientSession() as session:
            resp = await session.get(srv.url)
            await resp.release()
            assert resp.closed
            resp.release()

    async def test_raise_for_status_outside_context_releases(self) -> None:
        async with (
            Canned(b"HTTP/1.1 500 Boom\r\nContent-Length: 4\r\n\r\nbody") as srv,
            ClientSession() as session,
        ):
            resp = await session.get(srv.url)
            with pytest.raises(ClientResponseError):
                resp.raise_for_status()
            assert resp.closed
            async with session.get(srv.url) as resp2:
                with pytest.raises(ClientResponseError):
                    resp2.raise_for_status()
                assert await resp2.read() == b"body"  # still readable inside the block

    async def test_unclosed_response_is_released_on_gc(self) -> None:
        async with Canned(ok(b"hello")) as srv:
            async with ClientSession() as session:
                resp = await session.get(srv.url)
                assert resp.closed  # the whole body arrived with the head
                async with session.get(srv.url, headers=CIMultiDict({"X": "1"})) as resp2:
                    assert await resp2.read() == b"hello"
                del resp, resp2
                gc.collect()
            assert srv.connections == 1

    async def test_read_json_body_helper(self) -> None:
        payload = json.dumps({"n": 1}).encode()
        async with (
            Canned(ok(payload, "Content-Type: application/json; charset=utf-8")) as srv,
            ClientSession() as session,
        ):
            resp = await session.get(srv.url)
            assert await resp.json() == {"n": 1}
            # the body is cached after release
            resp.release()
            assert await resp.read() == payload
