"""`ClientRequest`: headers, URL, body framing, and what goes on the wire."""

from __future__ import annotations

import asyncio
import io
import sys
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from http.cookies import Morsel, SimpleCookie
from typing import Any

import pytest
from multidict import CIMultiDict, istr
from yarl import URL

from aiohyper.client._exceptions import ClientConnectionError, InvalidUrlClientError
from aiohyper.client._request import ClientRequest, ConnectionKey, RequestInfo
from aiohyper.client._session import ClientSession
from aiohyper.client._tls import Fingerprint
from aiohyper.formdata import FormData
from aiohyper.helpers import BasicAuth, HttpVersion10
from aiohyper.payload import BytesPayload, Payload

# --- a raw server that records requests as bytes ------------------------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Recorded:
    def __init__(self, head: bytes, body: bytes) -> None:
        self.head = head
        self.body = body

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode()

    @property
    def headers(self) -> CIMultiDict[str]:
        result: CIMultiDict[str] = CIMultiDict()
        for line in self.head.decode().split("\r\n")[1:]:
            if line:
                name, _, value = line.partition(":")
                result.add(name, value.strip())
        return result


async def read_request(reader: asyncio.StreamReader) -> Recorded:
    """Read one request: head, then a Content-Length or chunked body (raw, framing kept)."""
    head = await reader.readuntil(b"\r\n\r\n")
    rec = Recorded(head, b"")
    headers = rec.headers
    if "chunked" in headers.get("Transfer-Encoding", ""):
        body = b""
        while not (body == b"0\r\n\r\n" or body.endswith(b"\r\n0\r\n\r\n")):
            data = await reader.read(65536)
            if not data:
                raise asyncio.IncompleteReadError(body, None)
            body += data
        rec.body = body
    elif "Content-Length" in headers:
        rec.body = await reader.readexactly(int(headers["Content-Length"]))
    return rec


class RawServer:
    """Answers every request with ``respond(recorded)`` (default: 200 "ok")."""

    def __init__(self, respond: Callable[[Recorded], bytes] | None = None) -> None:
        self.respond = respond or (lambda rec: OK)
        self.requests: list[Recorded] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> URL:
        assert self.server is not None
        return URL(f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    rec = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.requests.append(rec)
                writer.write(self.respond(rec))
                await writer.drain()
        finally:
            writer.close()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(respond: Callable[[Recorded], bytes] | None = None) -> RawServer:
        srv = await RawServer(respond).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.close()


def dechunk(raw: bytes) -> bytes:
    out = b""
    while raw:
        size_line, _, raw = raw.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += raw[:size]
        raw = raw[size + 2 :]
    return out


def make(method: str = "GET", url: str = "http://python.org/", **kwargs: Any) -> ClientRequest:
    return ClientRequest(method, URL(url), **kwargs)


# --- construction ---------------------------------------------------------------------------


class TestUrlAndMethod:
    def test_method_upper(self) -> None:
        assert make("get").method == "GET"

    @pytest.mark.parametrize("method", ["GE T", "GET\r\n", "", "G(ET"])
    def test_invalid_method(self, method: str) -> None:
        with pytest.raises(ValueError, match="valid HTTP method"):
            make(method)

    def test_url_must_be_url(self) -> None:
        with pytest.raises(TypeError):
            ClientRequest("GET", "http://python.org/")  # type: ignore[arg-type]

    def test_url_without_host(self) -> None:
        with pytest.raises(InvalidUrlClientError):
            make(url="/path")

    def test_fragment_stripped(self) -> None:
        req = make(url="http://python.org/p?q=1#frag")
        assert req.url == URL("http://python.org/p?q=1")
        assert req.original_url == URL("http://python.org/p?q=1#frag")
        assert req.request_info.real_url == req.original_url
        assert req.request_info.url == req.url

    def test_params_dict(self) -> None:
        req = make(url="http://python.org/p?a=1", params={"b": "x y", "c": "é"})
        assert str(req.url) == "http://python.org/p?a=1&b=x+y&c=%C3%A9"

    def test_params_pairs(self) -> None:
        req = make(params=[("k", "1"), ("k", "2")])
        assert req.url.query_string == "k=1&k=2"

    def test_params_str_not_encoded(self) -> None:
        req = make(params="key=value+1")
        assert str(req.url) == "http://python.org/?key=value+1"

    def test_is_ssl_and_port(self) -> None:
        assert make(url="https://python.org/").is_ssl()
        assert make(url="wss://python.org/").is_ssl()
        assert not make(url="http://python.org/").is_ssl()
        assert make(url="https://python.org/").port == 443
        assert make(url="http://python.org:8080/").port == 8080
        assert make(url="http://[::1]:8080/").host == "::1"

    def test_connection_key(self) -> None:
        req = make(url="https://python.org:8443/")
        assert req.connection_key == ConnectionKey(
            "python.org", 8443, True, True, None, None, None
        )
        proxied = make(
            proxy=URL("http://proxy:3128"),
            proxy_auth=BasicAuth("u", "p"),
            proxy_headers={"X-Proxy": "1"},
        )
        pkey = proxied.connection_key
        assert pkey.proxy == URL("http://proxy:3128")
        assert pkey.proxy_auth == BasicAuth("u", "p")
        assert pkey.proxy_headers_hash == hash((("X-Proxy", "1"),))
        assert hash(pkey) == hash(proxied.connection_key)
        assert isinstance(proxied.proxy_headers, CIMultiDict)

    def test_ssl_argument_types(self) -> None:
        fp = Fingerprint(b"\x00" * 32)
        assert make(ssl=fp).ssl is fp
        assert make(ssl=False).ssl is False
        with pytest.raises(TypeError):
            make(ssl="yes")  # type: ignore[arg-type]

    def test_proxy_auth_type(self) -> None:
        with pytest.raises(ValueError):
            make(proxy=URL("http://proxy"), proxy_auth=("u", "p"))  # type: ignore[arg-type]

    def test_request_info(self) -> None:
        req = make("POST", headers={"X-A": "1"})
        info = req.request_info
        assert isinstance(info, RequestInfo)
        assert info.method == "POST"
        assert info.headers["X-A"] == "1"
        assert RequestInfo(req.url, "GET", info.headers).real_url == req.url

    def test_session_required(self) -> None:
        with pytest.raises(RuntimeError):
            _ = make().session


class TestHeaders:
    def test_auto_headers(self) -> None:
        req = make(url="http://python.org:8080/")
        assert next(iter(req.headers)) == "Host"
        assert req.headers["Host"] == "python.org:8080"
        assert req.headers["Accept"] == "*/*"
        assert "gzip" in req.headers["Accept-Encoding"]
        assert "deflate" in req.headers["Accept-Encoding"]
        major, minor = sys.version_info[:2]
        assert req.headers["User-Agent"] == f"Python/{major}.{minor} aiohyper/0.1.0"

    @pytest.mark.parametrize(
        ("url", "host"),
        [
            ("http://python.org/", "python.org"),
            ("https://python.org:443/", "python.org"),
            ("http://[::1]:8080/", "[::1]:8080"),
            ("http://пример.рф/", "xn--e1afmkfd.xn--p1ai"),
        ],
    )
    def test_host_header(self, url: str, host: str) -> None:
        assert make(url=url).headers["Host"] == host

    def test_user_headers_win(self) -> None:
        req = make(headers={"host": "other", "User-Agent": "me", "accept": "text/html"})
        assert req.headers.getall("Host") == ["other"]
        assert req.headers.getall("User-Agent") == ["me"]
        assert req.headers.getall("Accept") == ["text/html"]

    def test_repeated_user_headers_kept(self) -> None:
        req = make(headers=[("X-A", "1"), ("X-A", "2")])
        assert req.headers.getall("X-A") == ["1", "2"]

    def test_skip_auto_headers(self) -> None:
        req = make(skip_auto_headers=["user-agent", istr("Accept-Encoding"), "Host"])
        assert "User-Agent" not in req.headers
        assert "Accept-Encoding" not in req.headers
        assert "Host" not in req.headers
        assert req.headers["Accept"] == "*/*"
        assert "user-agent" in req.skip_auto_headers

    def test_cookies(self) -> None:
        morsel: Morsel[str] = Morsel()
        morsel.set("m", "v", "v")
        req = make(cookies={"a": "1", "b": "with space", "m": morsel})
        assert req.headers["Cookie"] == 'a=1; b="with space"; m=v'

    def test_cookies_from_simple_cookie_and_existing_header(self) -> None:
        jar = SimpleCookie()
        jar["x"] = "y"
        req = make(headers={"Cookie": "pre=1"}, cookies=jar)
        assert req.headers["Cookie"] == "pre=1; x=y"

    def test_basic_auth(self) -> None:
        req = make(auth=BasicAuth("user", "pass"))
        assert req.headers["Authorization"] == "Basic dXNlcjpwYXNz"
        assert req.auth == BasicAuth("user", "pass")

    def test_auth_from_url(self) -> None:
        req = make(url="http://user:pass@python.org/")
        assert req.headers["Authorization"] == "Basic dXNlcjpwYXNz"

    def test_auth_type_checked(self) -> None:
        with pytest.raises(TypeError):
            make(auth=("user", "pass"))  # type: ignore[arg-type]

    def test_netrc_with_trust_env(self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        netrc = tmp_path / "netrc"
        netrc.write_text("machine python.org login nu password np\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        assert make(trust_env=True).auth == BasicAuth("nu", "np")
        assert make(trust_env=False).auth is None

    def test_expect100(self) -> None:
        assert make("POST", expect100=True).headers["Expect"] == "100-continue"
        req = make("POST", headers={"Expect": "100-Continue"}, data=b"x")
        assert req._expect100


class TestBody:
    def test_no_body_get(self) -> None:
        req = make()
        assert req.body == b""
        assert "Content-Length" not in req.headers
        assert "Content-Type" not in req.headers

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
    def test_no_body_post_has_zero_length(self, method: str) -> None:
        assert make(method).headers["Content-Length"] == "0"

    def test_no_body_delete(self) -> None:
        assert "Content-Length" not in make("DELETE").headers

    def test_bytes(self) -> None:
        req = make("POST", data=b"abc")
        assert isinstance(req.body, BytesPayload)
        assert req.headers["Content-Length"] == "3"
        assert req.headers["Content-Type"] == "application/octet-stream"
        assert not req.chunked

    def test_str(self) -> None:
        req = make("POST", data="Тест")
        assert req.headers["Content-Length"] == str(len("Тест".encode()))
        assert req.headers["Content-Type"] == "text/plain; charset=utf-8"

    def test_user_content_type_wins(self) -> None:
        req = make("POST", data=b"{}", headers={"content-type": "application/json"})
        assert req.headers.getall("Content-Type") == ["application/json"]

    def test_skip_content_type(self) -> None:
        req = make("POST", data=b"x", skip_auto_headers=["Content-Type"])
        assert "Content-Type" not in req.headers

    def test_dict_is_urlencoded_form(self) -> None:
        req = make("POST", data={"a": "1", "b": "x y"})
        assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert req.headers["Content-Length"] == str(len(b"a=1&b=x+y"))

    def test_pairs_are_form(self) -> None:
        req = make("POST", data=[("a", "1"), ("a", "2")])
        assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"

    def test_formdata_multipart(self) -> None:
        form = FormData()
        form.add_field("f", b"data", filename="f.bin")
        req = make("POST", data=form)
        assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")

    def test_file_has_length(self) -> None:
        req = make("POST", data=io.BytesIO(b"12345"))
        assert req.headers["Content-Length"] == "5"
        assert "Content-Disposition" not in req.headers

    def test_async_iterable_is_chunked(self) -> None:
        async def gen() -> AsyncIterator[bytes]:
            yield b"x"

        req = make("POST", data=gen())
        assert req.chunked
        assert req.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in req.headers

    def test_chunked_explicit(self) -> None:
        req = make("POST", data=b"abc", chunked=True)
        assert req.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in req.headers

    def test_chunked_with_content_length(self) -> None:
        with pytest.raises(ValueError, match="Content-Length"):
            make("POST", data=b"abc", chunked=True, headers={"Content-Length": "3"})

    def test_chunked_with_te_header(self) -> None:
        with pytest.raises(ValueError, match="Transfer-Encoding"):
            make("POST", data=b"abc", chunked=True, headers={"Transfer-Encoding": "chunked"})

    def test_te_header_alone_means_chunked(self) -> None:
        req = make("POST", data=b"abc", headers={"Transfer-Encoding": "chunked"})
        assert req.chunked
        assert req.headers.getall("Transfer-Encoding") == ["chunked"]
        assert "Content-Length" not in req.headers

    def test_compress(self) -> None:
        req = make("POST", data=b"abc", compress=True)
        assert req.compress == "deflate"
        assert req.headers["Content-Encoding"] == "deflate"
        assert req.chunked
        assert "Content-Length" not in req.headers
        assert make("POST", data=b"abc", compress="gzip").compress == "gzip"

    def test_compress_without_body_ignored(self) -> None:
        req = make("GET", compress=True)
        assert req.compress is None
        assert "Content-Encoding" not in req.headers

    def test_compress_with_content_encoding(self) -> None:
        with pytest.raises(ValueError, match="Content-Encoding"):
            make("POST", data=b"a", compress=True, headers={"Content-Encoding": "br"})

    def test_compress_with_content_length(self) -> None:
        with pytest.raises(ValueError, match="Content-Length"):
            make("POST", data=b"a", compress=True, headers={"Content-Length": "1"})

    async def test_update_body(self) -> None:
        req = make("POST", data=b"abc")
        old = req.body
        assert isinstance(old, Payload)
        await req.update_body("longer text")
        assert old.consumed  # closed
        assert req.headers["Content-Length"] == str(len("longer text"))
        assert req.headers["Content-Type"] == "text/plain; charset=utf-8"

        async def gen() -> AsyncIterator[bytes]:
            yield b"x"

        await req.update_body(gen())
        assert "Content-Length" not in req.headers
        assert req.headers["Transfer-Encoding"] == "chunked"
        await req.update_body(b"12")
        assert req.headers["Content-Length"] == "2"
        assert "Transfer-Encoding" not in req.headers
        await req.update_body(None)
        assert req.body == b""
        assert req.headers["Content-Length"] == "0"

    def test_keep_alive(self) -> None:
        assert make().keep_alive()
        assert not make(headers={"Connection": "close"}).keep_alive()
        assert not make(version=HttpVersion10).keep_alive()
        assert make(version=HttpVersion10, headers={"Connection": "keep-alive"}).keep_alive()


# --- on the wire ----------------------------------------------------------------------------


async def send(srv: RawServer, method: str, path: str = "/", **kwargs: Any) -> Recorded:
    async with (
        ClientSession() as session,
        session.request(method, srv.url.join(URL(path)), **kwargs) as resp,
    ):
        assert resp.status == 200
        assert await resp.read() == b"ok"
    return srv.requests[-1]


class TestWire:
    async def test_request_line_and_headers(self, raw_server: Any) -> None:
        srv = await raw_server()
        rec = await send(srv, "GET", "/a%20b/c?x=%31&y=2")
        assert rec.request_line == "GET /a%20b/c?x=1&y=2 HTTP/1.1"
        assert rec.headers["Host"] == f"127.0.0.1:{srv.url.port}"
        assert "Connection" not in rec.headers

    async def test_http10(self, raw_server: Any) -> None:
        srv = await raw_server()
        async with ClientSession(version=HttpVersion10) as session, session.get(srv.url) as resp:
            await resp.read()
        rec = srv.requests[0]
        assert rec.request_line.endswith("HTTP/1.0")
        assert "Connection" not in rec.headers

    async def test_connection_close_header(self, raw_server: Any) -> None:
        srv = await raw_server()
        rec = await send(srv, "GET", headers={"Connection": "close"})
        assert rec.headers["Connection"] == "close"

    async def test_bytes_body(self, raw_server: Any) -> None:
        srv = await raw_server()
        rec = await send(srv, "PUT", data=b"payload")
        assert rec.headers["Content-Length"] == "7"
        assert rec.body == b"payload"

    async def test_large_body_written_in_task(self, raw_server: Any) -> None:
        srv = await raw_server()
        data = bytes(range(256)) * 4096  # 1 MiB: more than the transport buffers at once
        rec = await send(srv, "POST", data=data)
        assert rec.body == data

    async def test_chunked_async_generator(self, raw_server: Any) -> None:
        srv = await raw_server()

        async def gen() -> AsyncIterator[bytes]:
            for part in (b"abc", b"", b"defg"):
                await asyncio.sleep(0)
                yield part

        rec = await send(srv, "POST", data=gen())
        assert rec.headers["Transfer-Encoding"] == "chunked"
        assert rec.body == b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"

    async def test_compressed_body(self, raw_server: Any) -> None:
        srv = await raw_server()
        data = b"hello " * 1000
        rec = await send(srv, "POST", data=data, compress=True)
        assert rec.headers["Content-Encoding"] == "deflate"
        assert zlib.decompress(dechunk(rec.body)) == data

    async def test_body_error_reported(self, raw_server: Any) -> None:
        srv = await raw_server(lambda rec: b"")  # never answers

        async def gen() -> AsyncIterator[bytes]:
            yield b"abc"
            raise ValueError("broken generator")

        async with ClientSession() as session:
            with pytest.raises(ClientConnectionError, match="broken generator") as info:
                await session.post(srv.url, data=gen())
        assert isinstance(info.value.__cause__, ValueError)

    async def test_expect_continue(self) -> None:
        events: list[str] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            assert b"Expect: 100-continue" in head
            # Nothing may arrive before the go-ahead.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(1), 0.05)
            events.append("continue")
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await reader.readexactly(4)
            events.append(body.decode())
            writer.write(OK)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with (
                ClientSession() as session,
                session.post(f"http://127.0.0.1:{port}/", data=b"body", expect100=True) as resp,
            ):
                assert resp.status == 200
                assert await resp.text() == "ok"
        finally:
            server.close()
            await server.wait_closed()
        assert events == ["continue", "body"]

    async def test_expect_continue_refused(self) -> None:
        received: list[bytes] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            received.append(await reader.read(100))  # b"" once the client closes
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with ClientSession() as session:
                async with session.post(
                    f"http://127.0.0.1:{port}/", data=b"body", expect100=True
                ) as resp:
                    assert resp.status == 417
                # The body was never sent, so the connection is not pooled.
                await asyncio.sleep(0.05)
                assert received == [b""]
        finally:
            server.close()
            await server.wait_closed()

    async def test_traces_of_headers_and_chunks(self, raw_server: Any) -> None:
        from aiohyper.tracing import TraceConfig

        srv = await raw_server()
        seen: list[Any] = []

        async def on_headers(session: Any, ctx: Any, params: Any) -> None:
            seen.append(("headers", params.method, params.headers["Content-Length"]))

        async def on_chunk(session: Any, ctx: Any, params: Any) -> None:
            seen.append(("chunk", params.chunk))

        config = TraceConfig()
        config.on_request_headers_sent.append(on_headers)
        config.on_request_chunk_sent.append(on_chunk)
        async with (
            ClientSession(trace_configs=[config]) as session,
            session.post(srv.url, data=b"abc") as resp,
        ):
            await resp.read()
        assert seen == [("headers", "POST", "3"), ("chunk", b"abc")]
