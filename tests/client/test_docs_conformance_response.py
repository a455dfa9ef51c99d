# The tests keep the docs' nested ``async with session: / async with session.get():`` form.
# ruff: noqa: SIM117
"""Documentation conformance: `ClientResponse` (client_reference.rst "Response object") and
``resp.content`` as streams.rst describes it.

The responses come from a canned raw server (exact bytes on the wire: chunk boundaries,
broken framing, odd headers) or from a local aiohyper.web application.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from multidict import CIMultiDictProxy, MultiDictProxy
from yarl import URL

import aiohyper
from aiohyper import web
from aiohyper.test_utils import TestServer


class RawServer:
    """Answers every request on a connection with the bytes ``responder(head)`` returns, then
    closes the connection if ``close`` is set."""

    def __init__(self, responder: Callable[[bytes], bytes], *, close: bool = False) -> None:
        self.responder = responder
        self.close_after = close
        self.server: asyncio.Server | None = None
        self.port = 0
        self.connections = 0
        self.heads: list[bytes] = []

    async def start(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.heads.append(head)
                writer.write(self.responder(head))
                await writer.drain()
                if self.close_after:
                    return
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def url(self, path: str = "/") -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")


@pytest.fixture
async def raw() -> AsyncIterator[Callable[..., Any]]:
    servers: list[RawServer] = []

    async def start(response: bytes | Callable[[bytes], bytes], **kwargs: Any) -> RawServer:
        responder = response if callable(response) else (lambda head: response)
        srv = await RawServer(responder, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.stop()


def http(headers: str, body: bytes = b"", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{h}\r\n" for h in headers.split("|") if h)
    return head.encode("latin-1") + b"\r\n" + body


def fixed(body: bytes, headers: str = "", status: str = "200 OK") -> bytes:
    extra = f"|{headers}" if headers else ""
    return http(f"Content-Length: {len(body)}{extra}", body, status)


def chunked(*chunks: bytes, headers: str = "") -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    extra = f"|{headers}" if headers else ""
    return http(f"Transfer-Encoding: chunked{extra}", body)


# --- attributes ----------------------------------------------------------------------------


class TestAttributes:
    async def test_status_reason_version_ok(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"nope", status="404 Not Here"))
        async with aiohyper.ClientSession() as session, session.get(srv.url("/x")) as resp:
            assert resp.status == 404
            assert resp.reason == "Not Here"
            assert resp.ok is False
            assert resp.version == aiohyper.HttpVersion11
            assert resp.method == "GET"
            assert resp.url == srv.url("/x")
            assert isinstance(resp.headers, CIMultiDictProxy)
            assert resp.headers["content-length"] == "4"

    @pytest.mark.parametrize(("code", "ok"), [(200, True), (302, True), (399, True), (400, False)])
    async def test_ok_is_status_below_400(
        self, raw: Callable[..., Any], code: int, ok: bool
    ) -> None:
        srv = await raw(fixed(b"", status=f"{code} X"))
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url(), allow_redirects=False) as resp:
                assert resp.ok is ok

    async def test_raw_headers_are_unconverted_bytes(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"", headers="X-Custom: Value"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert (b"X-Custom", b"Value") in resp.raw_headers
            assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in resp.raw_headers)

    async def test_content_type_default_and_invalid(self, raw: Callable[..., Any]) -> None:
        """No Content-Type → ``application/octet-stream``; an invalid one → ``text/plain``."""
        responses = iter(
            [
                fixed(b""),
                fixed(b"", headers="Content-Type: jpg"),
                fixed(b"", headers="Content-Type: Text/HTML; Charset=ISO-8859-1"),
            ]
        )
        srv = await raw(lambda head: next(responses))
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url()) as resp:
                assert resp.content_type == "application/octet-stream"
                assert resp.charset is None
                assert "CONTENT-TYPE" not in resp.headers
            async with session.get(srv.url()) as resp:
                assert resp.content_type == "text/plain"
                assert resp.headers["CONTENT-TYPE"] == "jpg"
            async with session.get(srv.url()) as resp:
                assert resp.content_type == "text/html"
                assert resp.charset == "ISO-8859-1"

    async def test_content_disposition(self, raw: Callable[..., Any]) -> None:
        responses = iter(
            [
                fixed(b"", headers='Content-Disposition: attachment; filename="a b.txt"'),
                fixed(b""),
            ]
        )
        srv = await raw(lambda head: next(responses))
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url()) as resp:
                cd = resp.content_disposition
                assert isinstance(cd, aiohyper.ContentDisposition)
                assert cd.type == "attachment"
                assert cd.filename == "a b.txt"
                assert cd.parameters["filename"] == "a b.txt"
                with pytest.raises(TypeError):
                    cd.parameters["x"] = "y"  # type: ignore[index]
            async with session.get(srv.url()) as resp:
                assert resp.content_disposition is None

    async def test_cookies_keep_last_of_same_name(self, raw: Callable[..., Any]) -> None:
        """``cookies`` is a SimpleCookie; "Only the last cookie with a given name will be
        accessible"; ``headers.getall('Set-Cookie')`` gives all of them."""
        srv = await raw(
            fixed(b"", headers="Set-Cookie: a=1; Path=/x|Set-Cookie: a=2; Path=/y|Set-Cookie: b=3")
        )
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert isinstance(resp.cookies, SimpleCookie)
            assert resp.cookies["a"].value == "2"
            assert resp.cookies["b"].value == "3"
            assert len(resp.headers.getall("Set-Cookie")) == 3

    async def test_links(self, raw: Callable[..., Any]) -> None:
        """``links``: keyed by ``rel`` (or the URL), params and ``url`` as a yarl.URL."""
        srv = await raw(
            fixed(
                b"",
                headers='Link: <https://example.com/page2>; rel="next", </rel>; title=T',
            )
        )
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url("/base/")) as resp:
                links = resp.links
                assert isinstance(links, MultiDictProxy)
                nxt = links["next"]
                assert isinstance(nxt, MultiDictProxy)
                assert nxt["rel"] == "next"
                assert nxt["url"] == URL("https://example.com/page2")
                other = links["/rel"]
                assert other["title"] == "T"
                assert other["url"] == srv.url("/rel")

    async def test_links_empty(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b""))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert len(resp.links) == 0

    async def test_connection_attribute(self, raw: Callable[..., Any]) -> None:
        srv = await raw(http("Content-Length: 100", b"partial"))
        async with aiohyper.ClientSession() as session:
            resp = await session.get(srv.url())
            assert isinstance(resp.connection, aiohyper.Connection)
            resp.release()
            assert resp.connection is None

    async def test_history_is_empty_sequence(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b""))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert len(resp.history) == 0
            assert isinstance(resp.history, tuple)


# --- reading the body ----------------------------------------------------------------------


class TestRead:
    async def test_read_returns_bytes(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"\x00\x01binary"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.read() == b"\x00\x01binary"
            assert await resp.read() == b"\x00\x01binary"  # cached

    async def test_read_releases_connection_for_reuse(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"abc"))
        async with aiohyper.ClientSession() as session:
            for _ in range(3):
                resp = await session.get(srv.url())
                assert await resp.read() == b"abc"
        assert srv.connections == 1

    async def test_unread_body_closes_connection(self, raw: Callable[..., Any]) -> None:
        """``release``: "If the payload is not fully read, the connection is closed"."""
        srv = await raw(lambda head: http("Content-Length: 100000", b"x" * 10))
        async with aiohyper.ClientSession() as session:
            resp = await session.get(srv.url())
            resp.release()
            assert resp.closed
            with pytest.raises(aiohyper.ClientConnectionError):
                await resp.read()

    @pytest.mark.parametrize(
        "response",
        [
            http("Content-Length: 10", b"abc"),  # not enough data for Content-Length
            http("Transfer-Encoding: chunked", b"zz\r\nabc\r\n0\r\n\r\n"),  # malformed chunk
            http("Content-Encoding: gzip|Content-Length: 5", b"xxxxx"),  # broken compression
        ],
    )
    async def test_client_payload_error(self, raw: Callable[..., Any], response: bytes) -> None:
        srv = await raw(response, close=True)
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(aiohyper.ClientPayloadError):
                await resp.read()

    async def test_gzip_and_deflate_decoded(self, raw: Callable[..., Any]) -> None:
        responses = iter(
            [
                fixed(gzip.compress(b"gzipped"), headers="Content-Encoding: gzip"),
                fixed(zlib.compress(b"deflated"), headers="Content-Encoding: deflate"),
                fixed(gzip.compress(b"raw"), headers="Content-Encoding: gzip"),
            ]
        )
        srv = await raw(lambda head: next(responses))
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"gzipped"
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"deflated"
            async with session.get(srv.url(), auto_decompress=False) as resp:
                assert gzip.decompress(await resp.read()) == b"raw"

    async def test_session_auto_decompress_false(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(gzip.compress(b"raw"), headers="Content-Encoding: gzip"))
        async with aiohyper.ClientSession(auto_decompress=False) as session:
            async with session.get(srv.url()) as resp:
                assert gzip.decompress(await resp.read()) == b"raw"
            async with session.get(srv.url(), auto_decompress=True) as resp:
                assert await resp.read() == b"raw"

    async def test_read_until_eof(self, raw: Callable[..., Any]) -> None:
        """A body without Content-Length is read until the connection closes."""
        srv = await raw(http("Connection: close", b"until eof"), close=True)
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"until eof"
            async with session.get(srv.url(), read_until_eof=False) as resp:
                assert await resp.read() == b""


class TestText:
    async def test_charset_from_content_type(self, raw: Callable[..., Any]) -> None:
        body = "Привет".encode("windows-1251")
        srv = await raw(fixed(body, headers="Content-Type: text/plain; charset=windows-1251"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert resp.get_encoding() == "cp1251"
            assert await resp.text() == "Привет"

    async def test_explicit_encoding(self, raw: Callable[..., Any]) -> None:
        """``await resp.text(encoding='windows-1251')``."""
        body = "Привет".encode("windows-1251")
        srv = await raw(fixed(body, headers="Content-Type: text/plain"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.text(encoding="windows-1251") == "Привет"

    async def test_default_fallback_is_utf8(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed("héllo".encode(), headers="Content-Type: text/plain"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.text() == "héllo"
            assert resp.get_encoding() == "utf-8"

    async def test_fallback_charset_resolver(self, raw: Callable[..., Any]) -> None:
        """Called with the response and the body when the charset is not known."""
        calls: list[tuple[Any, bytes]] = []

        def resolver(resp: aiohyper.ClientResponse, body: bytes) -> str:
            calls.append((resp, body))
            return "latin-1"

        responses = iter(
            [
                fixed(b"caf\xe9", headers="Content-Type: text/plain"),
                fixed(b"caf\xe9", headers="Content-Type: text/plain; charset=no-such-charset"),
                fixed(b"caf\xc3\xa9", headers="Content-Type: text/plain; charset=utf-8"),
            ]
        )
        srv = await raw(lambda head: next(responses))
        async with aiohyper.ClientSession(fallback_charset_resolver=resolver) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.text() == "café"
                assert calls == [(resp, b"caf\xe9")]
            async with session.get(srv.url()) as resp:
                # "or the charset is not understood by Python"
                assert await resp.text() == "café"
                assert len(calls) == 2
            async with session.get(srv.url()) as resp:
                assert await resp.text() == "café"
                assert len(calls) == 2

    async def test_decode_error(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"\xff\xfe\xfa", headers="Content-Type: text/plain; charset=utf-8"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(UnicodeDecodeError):
                await resp.text()


class TestJson:
    async def test_json(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b'{"a": [1, 2]}', headers="Content-Type: application/json"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.json() == {"a": [1, 2]}

    async def test_wrong_content_type(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b'{"a": 1}', headers="Content-Type: text/html", status="201 C"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(aiohyper.ContentTypeError) as info:
                await resp.json()
            err = info.value
            assert isinstance(err, aiohyper.ClientResponseError)
            assert err.status == 201
            assert err.request_info.url == srv.url()
            assert err.headers is not None
            assert err.headers["Content-Type"] == "text/html"
            assert "text/html" in err.message
            # The check can be disabled with None.
            assert await resp.json(content_type=None) == {"a": 1}
            # Or set to what is expected.
            assert await resp.json(content_type="text/html") == {"a": 1}

    async def test_missing_content_type_is_rejected(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b'{"a": 1}'))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(aiohyper.ContentTypeError):
                await resp.json()

    async def test_json_suffix_types_accepted(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b'{"a": 1}', headers="Content-Type: application/problem+json"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.json() == {"a": 1}

    @pytest.mark.parametrize("body", [b"", b"  \r\n\t "])
    async def test_empty_body_is_none(self, raw: Callable[..., Any], body: bytes) -> None:
        """Docs: "``None`` if *BODY* is empty or contains white-spaces only"."""
        srv = await raw(fixed(body, headers="Content-Type: application/json"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.json() is None

    async def test_loads_and_encoding(self, raw: Callable[..., Any]) -> None:
        body = '{"k": "é"}'.encode("latin-1")
        srv = await raw(fixed(body, headers="Content-Type: application/json"))
        seen: list[str] = []

        def loads(text: str) -> Any:
            seen.append(text)
            return json.loads(text)

        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.json(encoding="latin-1", loads=loads) == {"k": "é"}
        assert seen == ['{"k": "é"}']

    async def test_invalid_json_raises(self, raw: Callable[..., Any]) -> None:
        """Docs: "In case that JSON decoding fails, json() will raise an exception"."""
        srv = await raw(fixed(b"{not json", headers="Content-Type: application/json"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(ValueError):
                await resp.json()


class TestRaiseForStatus:
    async def test_raise_for_status(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"bad", status="418 I'm a teapot", headers="X-A: 1"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(aiohyper.ClientResponseError) as info:
                resp.raise_for_status()
        err = info.value
        assert err.status == 418
        assert err.message == "I'm a teapot"
        assert err.headers is not None and err.headers["X-A"] == "1"
        assert err.request_info is resp.request_info
        assert err.history == ()
        assert str(err) == f"418, message=\"I'm a teapot\", url='{srv.url()}'"

    async def test_success_does_nothing(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"ok"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            resp.raise_for_status()  # does nothing below 400
            assert await resp.read() == b"ok"

    async def test_code_is_deprecated_alias(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"", status="500 Oops"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(aiohyper.ClientResponseError) as info:
                resp.raise_for_status()
        with pytest.warns(DeprecationWarning):
            assert info.value.code == 500


class TestRelease:
    async def test_context_manager_releases(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"abc"))
        async with aiohyper.ClientSession() as session:
            resp = await session.get(srv.url())
            async with resp:
                assert resp.status == 200
            assert resp.closed
            async with session.get(srv.url()) as resp2:
                assert await resp2.read() == b"abc"

    async def test_close_closes_connection(self, raw: Callable[..., Any]) -> None:
        srv = await raw(
            lambda head: http("Content-Length: 6", b"abc") if b"/slow" in head else fixed(b"abc")
        )
        async with aiohyper.ClientSession() as session:
            resp = await session.get(srv.url("/slow"))
            resp.close()
            assert resp.closed
            async with session.get(srv.url()) as resp2:
                await resp2.read()
        assert srv.connections == 2

    async def test_get_encoding_before_read_without_charset(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"abc", headers="Content-Type: text/plain"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(RuntimeError):
                resp.get_encoding()


# --- resp.content (streams.rst) ------------------------------------------------------------


class TestContentStream:
    async def test_read_n_returns_what_is_available(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"0123456789"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert isinstance(resp.content, aiohyper.StreamReader)
            first = await resp.content.read(4)
            assert first == b"0123"
            rest = await resp.content.read()
            assert rest == b"456789"
            assert await resp.content.read() == b""
            assert resp.content.at_eof()
            assert resp.content.is_eof()

    async def test_readexactly(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"abcdef"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.content.readexactly(2) == b"ab"
            with pytest.raises(asyncio.IncompleteReadError) as info:
                await resp.content.readexactly(10)
            assert info.value.partial == b"cdef"

    async def test_readline_and_readuntil(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"line1\nline2\nA||B||tail"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.content.readline() == b"line1\n"
            assert await resp.content.readuntil(b"\n") == b"line2\n"
            assert await resp.content.readuntil(b"||") == b"A||"
            assert await resp.content.readuntil(b"||") == b"B||"
            # EOF without the separator: the partial bytes, then b"".
            assert await resp.content.readuntil(b"||") == b"tail"
            assert await resp.content.readline() == b""

    async def test_iterates_over_lines(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"a\nbb\nccc"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            lines = [line async for line in resp.content]
        assert lines == [b"a\n", b"bb\n", b"ccc"]

    async def test_iter_chunked_limits_size(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"x" * 1000))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            chunks = [c async for c in resp.content.iter_chunked(300)]
        assert all(len(c) <= 300 for c in chunks)
        assert b"".join(chunks) == b"x" * 1000

    async def test_iter_any(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"y" * 5000))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            data = b"".join([c async for c in resp.content.iter_any()])
        assert data == b"y" * 5000

    async def test_readchunk_and_iter_chunks_report_http_chunks(
        self, raw: Callable[..., Any]
    ) -> None:
        """With chunked encoding, ``end_of_HTTP_chunk`` marks the end of each HTTP chunk."""
        srv = await raw(chunked(b"first", b"second", b"third"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            chunks: list[bytes] = []
            buffer = b""
            async for data, end_of_http_chunk in resp.content.iter_chunks():
                buffer += data
                if end_of_http_chunk:
                    chunks.append(buffer)
                    buffer = b""
        assert chunks == [b"first", b"second", b"third"]
        assert buffer == b""

    async def test_readchunk_without_chunked_encoding(self, raw: Callable[..., Any]) -> None:
        """Docs: "otherwise it is always ``False``"."""
        srv = await raw(fixed(b"plain body"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            data, end = await resp.content.readchunk()
            assert data == b"plain body"
            assert end is False
            assert await resp.content.readchunk() == (b"", False)

    async def test_read_nowait_and_unread_data(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"hello world"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            await resp.content.wait_eof()
            assert resp.content.is_eof()
            assert not resp.content.at_eof()  # "Internal buffer may be not empty"
            assert resp.content.read_nowait(5) == b"hello"
            with pytest.warns(DeprecationWarning):
                resp.content.unread_data(b"hello")
            assert resp.content.read_nowait() == b"hello world"
            assert resp.content.read_nowait() == b""
            assert resp.content.at_eof()

    async def test_exception(self, raw: Callable[..., Any]) -> None:
        srv = await raw(http("Content-Length: 10", b"abc"), close=True)
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert resp.content.exception() is None
            with pytest.raises(aiohyper.ClientPayloadError):
                await resp.content.read()
            assert isinstance(resp.content.exception(), aiohyper.ClientPayloadError)

    async def test_release_before_end_fails_readers(self, raw: Callable[..., Any]) -> None:
        """Docs: "Reading from the stream may raise ClientPayloadError if the response object is
        closed before response receives all data" (or a ClientConnectionError)."""
        srv = await raw(http("Content-Length: 100", b"abc"))
        async with aiohyper.ClientSession() as session:
            resp = await session.get(srv.url())
            reader = asyncio.ensure_future(resp.content.read())
            await asyncio.sleep(0.01)
            resp.release()
            with pytest.raises(aiohyper.ClientError):
                await reader

    async def test_read_after_content_read_returns_rest(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"0123456789"))
        async with aiohyper.ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.content.read(3) == b"012"
            await resp.content.read()
            assert resp.content.at_eof()


class TestWebServerExamples:
    async def test_quickstart_fetch(self) -> None:
        """The reference's usage example: ``fetch(client)`` asserts 200 and returns text."""

        async def hello(request: web.Request) -> web.Response:
            return web.Response(text="<html>hello</html>", content_type="text/html")

        app = web.Application()
        app.router.add_get("/", hello)
        async with TestServer(app) as srv:

            async def fetch(client: aiohyper.ClientSession) -> str:
                async with client.get(srv.make_url("/")) as resp:
                    assert resp.status == 200
                    return await resp.text()

            async with aiohyper.ClientSession() as client:
                html = await fetch(client)
        assert html == "<html>hello</html>"

    async def test_streaming_to_file_pattern(self, tmp_path: Any) -> None:
        async def big(request: web.Request) -> web.Response:
            return web.Response(body=b"z" * 200_000)

        app = web.Application()
        app.router.add_get("/", big)
        filename = tmp_path / "out.bin"
        async with TestServer(app) as srv, aiohyper.ClientSession() as session:
            async with session.get(srv.make_url("/")) as resp:
                with open(filename, "wb") as fd:
                    async for chunk in resp.content.iter_chunked(1024):
                        fd.write(chunk)
        assert filename.read_bytes() == b"z" * 200_000


class TestMoreStreamMethods:
    async def test_readany(self, raw: Callable[..., Any]) -> None:
        srv = await raw(fixed(b"some data"))
        async with aiohyper.ClientSession() as session:
            async with session.get(srv.url()) as resp:
                assert await resp.content.readany() == b"some data"
                assert await resp.content.readany() == b""

    async def test_read_nowait_while_waiting(self) -> None:
        """``read_nowait``: "Raises RuntimeError if other coroutine is waiting for stream"."""
        gate = asyncio.Event()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(http("Content-Length: 4", b"ab"))
            await writer.drain()
            await gate.wait()
            writer.write(b"cd")
            await writer.drain()
            writer.close()

        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        try:
            async with aiohyper.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    assert await resp.content.readexactly(2) == b"ab"
                    waiter = asyncio.ensure_future(resp.content.read(2))
                    await asyncio.sleep(0.01)
                    with pytest.raises(RuntimeError):
                        resp.content.read_nowait()
                    gate.set()
                    assert await waiter == b"cd"
        finally:
            gate.set()
            srv.close()
            await srv.wait_closed()

    async def test_json_without_charset_is_utf8(self, raw: Callable[..., Any]) -> None:
        """JSON is UTF-8: the fallback resolver is not asked."""

        def resolver(resp: aiohyper.ClientResponse, body: bytes) -> str:
            raise AssertionError("not called for JSON")

        srv = await raw(fixed('{"k": "é"}'.encode(), headers="Content-Type: application/json"))
        async with aiohyper.ClientSession(fallback_charset_resolver=resolver) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.json() == {"k": "é"}
                assert resp.get_encoding() == "utf-8"

    async def test_head_has_empty_content(self, raw: Callable[..., Any]) -> None:
        srv = await raw(http("Content-Length: 100"))
        async with aiohyper.ClientSession() as session:
            async with session.head(srv.url()) as resp:
                assert resp.headers["Content-Length"] == "100"
                assert await resp.read() == b""
                assert resp.content.at_eof()
