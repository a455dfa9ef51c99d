"""Documented behaviour of the response classes (web_reference.rst, "Response classes":
``StreamResponse``, ``Response``, ``FileResponse``, ``json_response``, ``ContentCoding``)."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import json
import pathlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from typing import Any

import pytest

from aiohyper import payload, web
from aiohyper.helpers import ETag
from aiohyper.test_utils import TestClient, TestServer, make_mocked_request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(app, **kwargs)) as client:
        yield client


def app_with(handler: Handler, path: str = "/", method: str = "GET") -> web.Application:
    app = web.Application()
    app.router.add_route(method, path, handler)
    return app


async def raw_exchange(port: int, data: bytes, timeout: float = 2.0) -> bytes:
    """Send raw bytes; return everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


# -- StreamResponse ---------------------------------------------------------------------------


def test_stream_response_defaults() -> None:
    resp = web.StreamResponse()
    assert resp.status == 200 and resp.reason == "OK"
    assert resp.prepared is False
    assert resp.compression is False and resp.chunked is False
    assert resp.task is None
    assert isinstance(resp.cookies, SimpleCookie)
    custom = web.StreamResponse(status=404, reason="Gone Fishing")
    assert custom.status == 404 and custom.reason == "Gone Fishing"
    assert web.StreamResponse(status=404).reason == "Not Found"


def test_set_status_computes_reason() -> None:
    resp = web.StreamResponse()
    resp.set_status(201)
    assert (resp.status, resp.reason) == (201, "Created")
    resp.set_status(202, "Queued")
    assert (resp.status, resp.reason) == (202, "Queued")


def test_response_is_dict_like() -> None:
    """web_advanced.rst "Response's storage"."""
    resp = web.Response()
    resp["my_metric"] = 123
    assert resp["my_metric"] == 123 and dict(resp) == {"my_metric": 123} and len(resp) == 1
    del resp["my_metric"]
    assert "my_metric" not in resp


async def test_prepare_state_machine() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        with pytest.raises(RuntimeError):
            await resp.write(b"too early")
        writer = await resp.prepare(request)
        seen["writer"] = writer is not None
        seen["prepared"] = resp.prepared
        seen["task"] = resp.task is asyncio.current_task()
        seen["keep_alive"] = resp.keep_alive
        with pytest.raises(RuntimeError):
            resp.set_status(500)
        with pytest.raises(TypeError):
            await resp.write("text")  # type: ignore[arg-type]
        for data in (b"a", bytearray(b"b"), memoryview(b"c")):
            await resp.write(data)
        await resp.write_eof()
        with pytest.raises(RuntimeError):
            await resp.write(b"too late")
        return resp

    async with serve(app_with(handler)) as client:
        resp = await client.get("/")
        assert resp.status == 200 and await resp.read() == b"abc"
    assert seen == {"writer": True, "prepared": True, "task": True, "keep_alive": True}


async def test_force_close_disables_keep_alive() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(text="bye")
        resp.force_close()
        seen["before"] = resp.keep_alive
        await resp.prepare(request)
        seen["after"] = resp.keep_alive
        return resp

    async with serve(app_with(handler)) as server:
        data = await raw_exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    assert b"connection: close" in head
    assert seen == {"before": False, "after": False}


async def test_keep_alive_copies_request_keep_alive() -> None:
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(text="x")
        await resp.prepare(request)
        seen.append((request.keep_alive, resp.keep_alive))
        return resp

    async with serve(app_with(handler)) as server:
        await raw_exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert seen == [(False, False)]


async def test_chunked_encoding_each_write_is_a_chunk() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        assert resp.chunked
        await resp.prepare(request)
        await resp.write(b"hello")
        await resp.write(b"world!")
        await resp.write_eof()
        return resp

    async with serve(app_with(handler)) as server:
        data = await raw_exchange(
            server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b"5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"


def test_chunked_and_content_length_are_mutually_exclusive() -> None:
    resp = web.StreamResponse()
    resp.content_length = 10
    with pytest.raises(RuntimeError):
        resp.enable_chunked_encoding()
    resp2 = web.StreamResponse()
    resp2.enable_chunked_encoding()
    with pytest.raises(RuntimeError):
        resp2.content_length = 10


async def test_chunked_encoding_is_for_http11_only() -> None:
    errors: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        try:
            await resp.prepare(request)
        except RuntimeError as exc:
            errors.append(str(exc))
            return web.Response(text="refused")
        return resp

    async with serve(app_with(handler)) as server:
        data = await raw_exchange(server.port, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    assert data.endswith(b"refused") and len(errors) == 1


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("gzip", "gzip"), ("deflate", "deflate"), ("", None), ("identity", None)],
)
async def test_enable_compression_follows_accept_encoding(
    accept: str, expected: str | None
) -> None:
    text = "compress me " * 200

    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(text=text)
        resp.enable_compression()
        assert resp.compression is True
        return resp

    async with serve(app_with(handler)) as client:
        resp = await client.get("/", headers={"Accept-Encoding": accept}, auto_decompress=False)
        body = await resp.read()
    assert resp.headers.get("Content-Encoding") == expected
    if expected == "gzip":
        body = gzip.decompress(body)
    elif expected == "deflate":
        body = zlib.decompress(body)
    assert body.decode() == text


async def test_enable_compression_force_ignores_accept_encoding() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_compression(web.ContentCoding.gzip)
        await resp.prepare(request)
        await resp.write(b"x" * 1000)
        return resp

    async with serve(app_with(handler)) as client:
        resp = await client.get(
            "/", headers={"Accept-Encoding": "identity"}, auto_decompress=False
        )
        body = await resp.read()
    assert resp.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == b"x" * 1000


def test_content_coding_members() -> None:
    assert web.ContentCoding.deflate.value == "deflate"
    assert web.ContentCoding.gzip.value == "gzip"
    assert web.ContentCoding.identity.value == "identity"


async def test_set_cookie_and_del_cookie_headers() -> None:
    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(text="c")
        resp.set_cookie(
            "session",
            42,  # converted to str
            max_age=3600,
            domain="example.com",
            secure=True,
            httponly=True,
            samesite="Lax",
        )
        resp.set_cookie("plain", "v")
        resp.del_cookie("old")
        resp.del_cookie("scoped", path="/admin", domain="example.com")
        return resp

    async with serve(app_with(handler)) as client:
        resp = await client.get("/")
    cookies = {value.split("=", 1)[0]: value for value in resp.headers.getall("Set-Cookie")}
    session = cookies["session"]
    assert session.startswith("session=42;")
    for attribute in ("Max-Age=3600", "Domain=example.com", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in session
    assert "Path=/" in cookies["plain"]  # path defaults to "/"
    old = cookies["old"]
    assert old.startswith(('old="";', "old=;"))
    assert "Max-Age=0" in old and "Path=/" in old
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in old
    assert "Path=/admin" in cookies["scoped"] and "Domain=example.com" in cookies["scoped"]


def test_cookies_attribute_is_simple_cookie_and_feeds_set_cookie() -> None:
    resp = web.StreamResponse()
    resp.set_cookie("a", "b", expires="Wed, 21 Oct 2015 07:28:00 GMT")
    assert isinstance(resp.cookies, SimpleCookie)
    assert resp.cookies["a"].value == "b"
    assert resp.cookies["a"]["expires"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert resp.cookies["a"]["path"] == "/"


def test_content_type_charset_and_content_length_attributes() -> None:
    resp = web.StreamResponse()
    resp.content_type = "text/html"
    resp.charset = "UTF-8"
    assert resp.charset == "utf-8"  # lower-cased on assignment
    assert resp.content_type == "text/html"
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    resp.content_length = 42
    assert resp.content_length == 42 and resp.headers["Content-Length"] == "42"
    resp.content_length = None
    assert resp.content_length is None and "Content-Length" not in resp.headers


def test_last_modified_accepts_str_datetime_timestamps_and_none() -> None:
    resp = web.StreamResponse()
    resp.last_modified = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert resp.headers["Last-Modified"] == "Mon, 01 Jan 2001 00:00:00 GMT"
    expected = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)
    assert resp.last_modified == expected
    resp.last_modified = datetime.datetime(2001, 1, 1, 0, 0, 5, tzinfo=datetime.UTC)
    assert resp.headers["Last-Modified"] == "Mon, 01 Jan 2001 00:00:05 GMT"
    resp.last_modified = 978307200
    assert resp.headers["Last-Modified"] == "Mon, 01 Jan 2001 00:00:00 GMT"
    resp.last_modified = 978307200.0
    assert resp.last_modified == expected
    resp.last_modified = None
    assert "Last-Modified" not in resp.headers and resp.last_modified is None


def test_etag_accepts_str_etag_and_none() -> None:
    resp = web.StreamResponse()
    resp.etag = "0123-abc"
    assert resp.headers["ETag"] == '"0123-abc"'  # quotes added, strong by default
    assert resp.etag == ETag("0123-abc")
    resp.etag = ETag("weak", is_weak=True)
    assert resp.headers["ETag"] == 'W/"weak"'
    assert resp.etag == ETag("weak", is_weak=True)
    resp.etag = None
    assert "ETag" not in resp.headers and resp.etag is None
    with pytest.raises(ValueError):
        resp.etag = 'has"quote'


async def test_on_response_prepare_sees_default_headers_and_can_change_them() -> None:
    """web_reference.rst prepare(): the signal runs after default headers are computed and
    directly before they are sent."""
    seen: dict[str, Any] = {}

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        seen["prepared"] = response.prepared
        seen["headers"] = dict(response.headers)
        response.headers["My-Header"] = "value"
        response.headers["Server"] = "custom"

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = app_with(handler)
    app.on_response_prepare.append(on_prepare)
    async with serve(app) as client:
        resp = await client.get("/")
        assert await resp.text() == "hello"
    assert resp.headers["My-Header"] == "value" and resp.headers["Server"] == "custom"
    headers = seen["headers"]
    assert headers["Content-Length"] == "5"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Date" in headers and "Server" in headers


async def test_head_gets_the_same_headers_as_get() -> None:
    """web_quickstart.rst: GET routes answer HEAD with the headers of a GET."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="hello", headers={"X-Extra": "1"})

    app = web.Application()
    app.router.add_get("/", handler)
    async with serve(app) as client:
        get = await client.get("/")
        head = await client.head("/")
        assert await head.read() == b""
    skip = {"Date"}
    assert {k: v for k, v in get.headers.items() if k not in skip} == {
        k: v for k, v in head.headers.items() if k not in skip
    }
    assert head.headers["Content-Length"] == "5"


# -- Response ---------------------------------------------------------------------------------


def test_response_content_type_and_charset_defaults() -> None:
    text = web.Response(text="x")
    assert text.content_type == "text/plain" and text.charset == "utf-8"
    assert text.body == b"x" and text.text == "x"
    body = web.Response(body=b"x")
    assert body.content_type == "application/octet-stream" and body.charset is None
    html = web.Response(text="<p>", content_type="text/html", charset="latin-1")
    assert html.headers["Content-Type"] == "text/html; charset=latin-1"
    assert html.body == "<p>".encode("latin-1")
    assert web.Response(status=201).status == 201


def test_response_headers_are_added() -> None:
    resp = web.Response(body=b"x", headers={"X-A": "1"})
    assert resp.headers["X-A"] == "1"


def test_response_body_and_text_are_read_write() -> None:
    resp = web.Response()
    resp.body = b"bytes"
    assert resp.body == b"bytes" and resp.text == "bytes"
    resp.text = "text"
    assert resp.body == b"text" and resp.text == "text"
    assert resp.content_type == "text/plain"


def test_assigning_str_to_body_makes_a_string_payload() -> None:
    resp = web.Response()
    resp.body = "ĥi"
    assert isinstance(resp.body, payload.StringPayload)
    assert resp.text == "ĥi"


def test_response_rejects_body_and_text_together() -> None:
    with pytest.raises(ValueError):
        web.Response(body=b"a", text="b")


async def test_response_sends_body_with_content_length() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"0123456789")

    async with serve(app_with(handler)) as server:
        data = await raw_exchange(
            server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"content-length: 10" in head.lower() and b"chunked" not in head.lower()
    assert body == b"0123456789"


async def test_quickstart_hello_handler() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, world")

    app = web.Application()
    app.add_routes([web.get("/", hello)])
    async with serve(app) as client:
        resp = await client.get("/")
        assert resp.status == 200 and await resp.text() == "Hello, world"
        assert resp.content_type == "text/plain"


# -- json_response --------------------------------------------------------------------------


def test_json_response() -> None:
    resp = web.json_response({"some": "data"})
    assert isinstance(resp, web.Response)
    assert resp.content_type == "application/json"
    assert json.loads(resp.text or "") == {"some": "data"}
    custom = web.json_response(
        [1], status=201, reason="Made", headers={"X": "1"}, dumps=lambda d: "dumped"
    )
    assert (custom.status, custom.reason, custom.text, custom.headers["X"]) == (
        201,
        "Made",
        "dumped",
        "1",
    )
    assert web.json_response(text='{"a": 1}').text == '{"a": 1}'
    assert web.json_response(body=b"[]").body == b"[]"
    assert web.json_response({}, content_type="application/vnd.api+json").content_type == (
        "application/vnd.api+json"
    )
    with pytest.raises(ValueError):
        web.json_response({"a": 1}, text="{}")


async def test_json_response_can_set_cookies() -> None:
    async def handler(request: web.Request) -> web.Response:
        data = {"some": "data"}
        resp = web.json_response(data)
        resp.set_cookie("k", "v")
        return resp

    async with serve(app_with(handler)) as client:
        resp = await client.get("/")
        assert await resp.json() == {"some": "data"}
        assert resp.cookies["k"].value == "v"


# -- FileResponse -------------------------------------------------------------------------------


DATA = b"0123456789" * 10


@pytest.fixture
def data_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "data.txt"
    path.write_bytes(DATA)
    return path


@pytest.mark.parametrize("as_str", [True, False])
async def test_file_response_path_str_or_path(data_file: pathlib.Path, as_str: bool) -> None:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(str(data_file) if as_str else data_file)

    async with serve(app_with(handler)) as client:
        resp = await client.get("/")
        assert resp.status == 200 and await resp.read() == DATA
        assert resp.headers["Content-Type"] == "text/plain"
        assert resp.headers["Content-Length"] == "100"


async def test_file_response_keywords_status_reason_headers(data_file: pathlib.Path) -> None:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            path=data_file,
            chunk_size=7,
            status=203,
            reason="Copied",
            headers={"X-Extra": "1", "Content-Type": "application/x-custom"},
        )

    async with serve(app_with(handler)) as client:
        resp = await client.get("/")
        assert (resp.status, resp.reason) == (203, "Copied")
        assert resp.headers["X-Extra"] == "1"
        assert resp.headers["Content-Type"] == "application/x-custom"
        assert await resp.read() == DATA


async def test_file_response_range_and_if_range(data_file: pathlib.Path) -> None:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(data_file)

    async with serve(app_with(handler)) as client:
        resp = await client.get("/", headers={"Range": "bytes=10-19"})
        assert resp.status == 206
        assert resp.headers["Content-Range"] == "bytes 10-19/100"
        assert await resp.read() == b"0123456789"
        last_modified = resp.headers["Last-Modified"]
        etag = resp.headers["ETag"]
        # If-Range matching: the range is honoured.
        for validator in (last_modified, etag):
            resp = await client.get("/", headers={"Range": "bytes=0-1", "If-Range": validator})
            assert resp.status == 206 and await resp.read() == b"01"
        # If-Range not matching: the whole file.
        resp = await client.get(
            "/", headers={"Range": "bytes=0-1", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"}
        )
        assert resp.status == 200 and len(await resp.read()) == 100
        resp = await client.get("/", headers={"Range": "bytes=500-"})
        assert resp.status == 416


async def test_file_response_conditional_get(data_file: pathlib.Path) -> None:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(data_file)

    async with serve(app_with(handler)) as client:
        first = await client.get("/")
        etag = first.headers["ETag"]
        resp = await client.get("/", headers={"If-None-Match": etag})
        assert resp.status == 304 and await resp.read() == b""
        resp = await client.get("/", headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert resp.status == 304
        resp = await client.get("/", headers={"If-Match": '"other"'})
        assert resp.status == 412


async def test_file_response_without_sendfile_env(
    data_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """web_reference.rst add_static: AIOHTTP_NOSENDFILE=1 avoids the sendfile system call."""
    monkeypatch.setenv("AIOHTTP_NOSENDFILE", "1")
    calls: list[Any] = []

    async def handler(request: web.Request) -> web.FileResponse:
        loop = asyncio.get_running_loop()
        original = loop.sendfile

        async def spy(*args: Any, **kwargs: Any) -> int:
            calls.append(args)
            return await original(*args, **kwargs)

        monkeypatch.setattr(loop, "sendfile", spy)
        return web.FileResponse(data_file)

    async with serve(app_with(handler)) as client:
        resp = await client.get("/")
        assert await resp.read() == DATA
    assert calls == []


async def test_file_response_uses_sendfile_by_default(
    data_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIOHTTP_NOSENDFILE", raising=False)
    calls: list[Any] = []

    async def handler(request: web.Request) -> web.FileResponse:
        loop = asyncio.get_running_loop()
        original = loop.sendfile

        async def spy(*args: Any, **kwargs: Any) -> int:
            calls.append(args)
            return await original(*args, **kwargs)

        monkeypatch.setattr(loop, "sendfile", spy)
        return web.FileResponse(data_file)

    async with serve(app_with(handler)) as client:
        resp = await client.get("/", headers={"Accept-Encoding": "identity"})
        assert await resp.read() == DATA
    assert len(calls) == 1


def test_response_write_eof_data_and_prepare_twice() -> None:
    """prepare() may be awaited again; write_eof() on an unprepared response fails."""
    req = make_mocked_request("GET", "/")
    resp = web.StreamResponse()

    async def scenario() -> None:
        with pytest.raises(RuntimeError):
            await resp.write_eof()
        first = await resp.prepare(req)
        assert await resp.prepare(req) is first
        await resp.write_eof(b"end")
        await resp.write_eof()  # a second call does nothing

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("accept", "encoding", "body"),
    [
        ("gzip, br", "br", b"BROTLI-BYTES"),
        ("br", "br", b"BROTLI-BYTES"),
        ("gzip", "gzip", b"GZIP-BYTES"),
        ("identity", None, b"plain text"),
    ],
)
async def test_static_serves_precompressed_siblings(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    accept: str,
    encoding: str | None,
    body: bytes,
) -> None:
    """web_reference.rst add_static: a .br or .gz sibling is used, Brotli preferred. Serving
    a stored .br file needs no brotli library: pretend none is installed."""
    from aiohyper.web import _response

    monkeypatch.setattr(_response, "_CODING_PREFERENCE", (web.ContentCoding.gzip,))
    (tmp_path / "page.txt").write_bytes(b"plain text")
    (tmp_path / "page.txt.br").write_bytes(b"BROTLI-BYTES")
    (tmp_path / "page.txt.gz").write_bytes(b"GZIP-BYTES")
    app = web.Application()
    app.router.add_static("/static", tmp_path)
    async with serve(app) as client:
        resp = await client.get(
            "/static/page.txt", headers={"Accept-Encoding": accept}, auto_decompress=False
        )
        assert resp.status == 200
        assert resp.headers.get("Content-Encoding") == encoding
        assert resp.headers["Content-Type"] == "text/plain"
        assert await resp.read() == body
