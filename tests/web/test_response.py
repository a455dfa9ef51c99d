"""StreamResponse, Response, json_response and compression negotiation, written through a
real StreamWriter to a transport that records the bytes."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import zlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import brotli
import pytest
import zstandard
from aiosignal import Signal
from multidict import CIMultiDict

from aiohyper import __version__
from aiohyper._http._message import HttpVersion10, HttpVersion11
from aiohyper._http._writer import StreamWriter
from aiohyper.helpers import ETag, parse_http_date
from aiohyper.payload import BytesPayload, StringPayload
from aiohyper.test_utils import make_mocked_request
from aiohyper.web._request import Request
from aiohyper.web._response import (
    ContentCoding,
    Response,
    StreamResponse,
    acceptable_codings,
    json_response,
    parse_accept_encoding,
)

# -- fakes ---------------------------------------------------------------------------------------


class FakeTransport(asyncio.Transport):
    """Records what is written; extra info as given."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        super().__init__(extra)
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


class FakeProtocol:
    """What StreamWriter and BaseRequest need from the connection."""

    def __init__(self, transport: FakeTransport) -> None:
        self.transport: FakeTransport | None = transport
        self.writing_paused = False

    async def _drain_helper(self) -> None:
        return None


def make_request(
    method: str = "GET",
    path: str = "/",
    headers: Any = None,
    *,
    version: Any = HttpVersion11,
    closing: bool = False,
) -> tuple[Request, FakeTransport]:
    transport = FakeTransport()
    protocol = FakeProtocol(transport)
    writer = StreamWriter(protocol, asyncio.get_running_loop())  # type: ignore[arg-type]
    request = make_mocked_request(
        method,
        path,
        headers,
        version=version,
        closing=closing,
        writer=writer,
        protocol=protocol,
        transport=transport,
    )
    return request, transport


def parse(data: bytes) -> tuple[str, CIMultiDict[str], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, data
    status_line, *lines = head.decode().split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _, value = line.partition(": ")
        headers.add(name, value)
    return status_line, headers, body


def dechunk(body: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n"
            return bytes(out)
        out += rest[:size]
        assert rest[size : size + 2] == b"\r\n"
        body = rest[size + 2 :]


async def send(resp: StreamResponse, request: Request, *chunks: bytes) -> None:
    await resp.prepare(request)
    for chunk in chunks:
        await resp.write(chunk)
    await resp.write_eof()


# -- StreamResponse state ------------------------------------------------------------------------


def test_defaults() -> None:
    resp = StreamResponse()
    assert resp.status == 200
    assert resp.reason == "OK"
    assert not resp.prepared
    assert resp.keep_alive is None
    assert not resp.chunked
    assert not resp.compression
    assert resp.headers == {}
    assert resp.content_length is None
    assert resp.content_type == "application/octet-stream"
    assert resp.charset is None
    assert resp.last_modified is None
    assert resp.etag is None
    assert resp.task is None
    assert resp.body_length == 0
    assert repr(resp) == "<StreamResponse OK not prepared>"


def test_headers_argument_is_copied() -> None:
    given = {"X-A": "1"}
    resp = StreamResponse(headers=given)
    resp.headers["X-B"] = "2"
    assert given == {"X-A": "1"}
    assert resp.headers["x-a"] == "1"


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (418, "I'm a Teapot")])
def test_reason_from_status(status: int, reason: str) -> None:
    assert StreamResponse(status=status).reason == reason


def test_unknown_status_has_empty_reason() -> None:
    resp = StreamResponse(status=599)
    assert resp.status == 599 and resp.reason == ""


def test_custom_reason_and_set_status() -> None:
    resp = StreamResponse(status=200, reason="Fine")
    assert resp.reason == "Fine"
    resp.set_status(201)
    assert (resp.status, resp.reason) == (201, "Created")
    resp.set_status(299, "Odd")
    assert (resp.status, resp.reason) == (299, "Odd")


@pytest.mark.parametrize("status", [-1, 0, 99, 1000, 10000])
def test_invalid_status(status: int) -> None:
    with pytest.raises(ValueError, match="Invalid status code"):
        StreamResponse(status=status)
    resp = StreamResponse()
    with pytest.raises(ValueError):
        resp.set_status(status)


@pytest.mark.parametrize("reason", ["bad\r\nX-Injected: 1", "a\nb", "a\rb"])
def test_reason_with_newline_rejected(reason: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        StreamResponse(reason=reason)


def test_content_length() -> None:
    resp = StreamResponse()
    resp.content_length = 10
    assert resp.content_length == 10
    assert resp.headers["Content-Length"] == "10"
    resp.content_length = None
    assert "Content-Length" not in resp.headers
    resp.content_length = None  # no error when absent
    with pytest.raises(ValueError):
        resp.content_length = -1


def test_chunked_and_content_length_exclude_each_other() -> None:
    resp = StreamResponse()
    resp.content_length = 1
    with pytest.raises(RuntimeError):
        resp.enable_chunked_encoding()
    resp.content_length = None
    resp.enable_chunked_encoding()
    assert resp.chunked
    with pytest.raises(RuntimeError):
        resp.content_length = 5


def test_content_type_and_charset() -> None:
    resp = StreamResponse()
    with pytest.raises(RuntimeError, match="octet-stream"):
        resp.charset = "utf-8"
    resp.content_type = "text/html"
    assert resp.headers["Content-Type"] == "text/html"
    resp.charset = "UTF-8"
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.charset == "utf-8"
    resp.content_type = "text/plain"  # keeps the charset
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.content_type == "text/plain"
    resp.charset = None
    assert resp.headers["Content-Type"] == "text/plain"


def test_content_type_keeps_other_parameters() -> None:
    resp = StreamResponse(headers={"Content-Type": 'multipart/mixed; boundary="a b"'})
    resp.charset = "utf-8"
    assert resp.headers["Content-Type"] == 'multipart/mixed; boundary="a b"; charset=utf-8'


def test_last_modified() -> None:
    resp = StreamResponse()
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    resp.last_modified = when
    assert resp.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"
    assert resp.last_modified == when
    resp.last_modified = datetime(2024, 1, 2, 3, 4, 5)  # naive means UTC
    assert resp.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"
    resp.last_modified = when.timestamp() + 0.2  # rounded up
    assert resp.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:06 GMT"
    resp.last_modified = int(when.timestamp())
    assert resp.last_modified == when
    resp.last_modified = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert resp.last_modified == datetime(2024, 1, 1, tzinfo=UTC)
    resp.last_modified = None
    assert "Last-Modified" not in resp.headers
    with pytest.raises(TypeError):
        resp.last_modified = object()  # type: ignore[assignment]


def test_etag() -> None:
    resp = StreamResponse()
    resp.etag = "abc"
    assert resp.headers["ETag"] == '"abc"'
    assert resp.etag == ETag("abc")
    resp.etag = ETag("xyz", is_weak=True)
    assert resp.headers["ETag"] == 'W/"xyz"'
    assert resp.etag == ETag("xyz", is_weak=True)
    resp.etag = "*"
    assert resp.headers["ETag"] == "*"
    assert resp.etag == ETag("*")
    resp.etag = None
    assert "ETag" not in resp.headers
    with pytest.raises(ValueError, match="not a valid etag"):
        resp.etag = 'a"b'
    with pytest.raises(ValueError, match="Unsupported etag type"):
        resp.etag = 123  # type: ignore[assignment]
    resp.headers["ETag"] = "garbage"
    assert resp.etag is None


def test_cookies_and_mapping() -> None:
    resp = StreamResponse()
    assert not resp.cookies
    resp.set_cookie("a", "1", max_age=5, samesite="Lax", partitioned=True, secure=True)
    assert resp.cookies["a"].value == "1"
    resp.del_cookie("a")
    assert resp.cookies["a"]["max-age"] == "0"
    assert len(resp) == 0 and bool(resp)
    resp["key"] = "value"
    assert resp["key"] == "value" and list(resp) == ["key"] and len(resp) == 1
    del resp["key"]
    with pytest.raises(KeyError):
        resp["key"]
    with pytest.raises(KeyError):
        del resp["key"]


def test_identity_equality_and_hash() -> None:
    a, b = StreamResponse(), StreamResponse()
    assert a == a and a != b
    assert len({a, b}) == 2


def test_enable_compression_arguments() -> None:
    resp = StreamResponse()
    resp.enable_compression()
    assert resp.compression
    with pytest.warns(DeprecationWarning):
        resp.enable_compression(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        resp.enable_compression("gzip")  # type: ignore[arg-type]


# -- Accept-Encoding ------------------------------------------------------------------------------


def test_parse_accept_encoding() -> None:
    assert parse_accept_encoding("gzip, deflate;q=0.5, br;q=0, x-gzip, *;q=0.1") == {
        "gzip": 1.0,
        "deflate": 0.5,
        "br": 0.0,
        "*": 0.1,
    }
    assert parse_accept_encoding("gzip;q=bad, de flate, ;q=1") == {"gzip": 0.0}
    assert parse_accept_encoding("gzip;q=2") == {"gzip": 0.0}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", []),
        ("identity", []),
        ("gzip", [ContentCoding.gzip]),
        ("gzip, deflate", [ContentCoding.gzip, ContentCoding.deflate]),
        ("deflate, gzip;q=0.5", [ContentCoding.deflate, ContentCoding.gzip]),
        ("br;q=0, gzip", [ContentCoding.gzip]),
        ("gzip;q=0", []),
        (
            "gzip, deflate, br, zstd",
            [ContentCoding.zstd, ContentCoding.br, ContentCoding.gzip, ContentCoding.deflate],
        ),
        ("*", [ContentCoding.zstd, ContentCoding.br, ContentCoding.gzip, ContentCoding.deflate]),
        ("*, zstd;q=0, br;q=0", [ContentCoding.gzip, ContentCoding.deflate]),
    ],
)
def test_acceptable_codings(header: str, expected: list[ContentCoding]) -> None:
    assert acceptable_codings(header) == expected


# -- StreamResponse on the wire -------------------------------------------------------------------


async def test_prepare_streams_chunked_on_http11() -> None:
    request, transport = make_request()
    resp = StreamResponse()
    writer = await resp.prepare(request)
    assert writer is request._payload_writer
    assert resp.prepared and resp.keep_alive is True
    assert resp.task is request.task
    assert repr(resp) == "<StreamResponse OK GET / >"
    assert await resp.prepare(request) is writer
    await resp.write(b"hello ")
    await resp.write(bytearray(b"world"))
    await resp.write_eof()
    assert await resp.prepare(request) is None
    status, headers, body = parse(transport.data)
    assert status == "HTTP/1.1 200 OK"
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["Content-Type"] == "application/octet-stream"
    py = f"Python/{sys.version_info.major}.{sys.version_info.minor}"
    assert headers["Server"] == f"{py} aiohyper/{__version__}"
    assert parse_http_date(headers["Date"]) is not None
    assert "Connection" not in headers
    assert dechunk(body) == b"hello world"
    assert resp.body_length == len(transport.data)
    assert repr(resp) == "<StreamResponse OK eof>"


async def test_content_length_response_is_not_chunked() -> None:
    request, transport = make_request()
    resp = StreamResponse(headers={"Content-Type": "text/plain"})
    resp.content_length = 5
    await send(resp, request, b"12345", b"extra bytes past the length are dropped")
    _, headers, body = parse(transport.data)
    assert "Transfer-Encoding" not in headers
    assert headers["Content-Length"] == "5"
    assert headers["Content-Type"] == "text/plain"
    assert body == b"12345"


async def test_write_errors() -> None:
    request, _ = make_request()
    resp = StreamResponse()
    with pytest.raises(RuntimeError, match="before prepare"):
        await resp.write(b"x")
    with pytest.raises(RuntimeError, match="not been started"):
        await resp.write_eof()
    await resp.prepare(request)
    with pytest.raises(TypeError):
        await resp.write("text")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="after the headers"):
        resp.set_status(404)
    await resp.write_eof()
    await resp.write_eof()  # a second call does nothing
    with pytest.raises(RuntimeError, match="after write_eof"):
        await resp.write(b"x")


async def test_drain_is_deprecated() -> None:
    request, _ = make_request()
    resp = StreamResponse()
    await resp.prepare(request)
    with pytest.warns(DeprecationWarning):
        await resp.drain()


async def test_http10_without_length_closes_the_connection() -> None:
    request, transport = make_request(version=HttpVersion10, headers={"Connection": "keep-alive"})
    resp = StreamResponse()
    await send(resp, request, b"abc")
    status, headers, body = parse(transport.data)
    assert status == "HTTP/1.0 200 OK"
    assert "Transfer-Encoding" not in headers
    assert headers["Connection"] == "close"
    assert body == b"abc"
    assert resp.keep_alive is False


async def test_http10_keep_alive_with_length() -> None:
    request, transport = make_request(version=HttpVersion10)
    request._message = request._message._replace(should_close=False)
    resp = StreamResponse()
    resp.content_length = 3
    await send(resp, request, b"abc")
    _, headers, _ = parse(transport.data)
    assert headers["Connection"] == "keep-alive"
    assert resp.keep_alive is True


async def test_http10_chunked_is_refused() -> None:
    request, _ = make_request(version=HttpVersion10)
    resp = StreamResponse()
    resp.enable_chunked_encoding()
    with pytest.raises(RuntimeError, match=r"HTTP/1\.0"):
        await resp.prepare(request)


async def test_force_close_and_client_close() -> None:
    request, transport = make_request()
    resp = StreamResponse()
    resp.force_close()
    resp.content_length = 0
    await send(resp, request)
    assert parse(transport.data)[1]["Connection"] == "close"
    assert resp.keep_alive is False

    request, transport = make_request(closing=True)
    resp = StreamResponse()
    resp.content_length = 0
    await send(resp, request)
    assert parse(transport.data)[1]["Connection"] == "close"


async def test_explicit_headers_are_kept() -> None:
    request, transport = make_request()
    resp = StreamResponse(headers={"Server": "mine", "Date": "today", "Connection": "Upgrade"})
    resp.content_length = 0
    await send(resp, request)
    _, headers, _ = parse(transport.data)
    assert headers["Server"] == "mine"
    assert headers["Date"] == "today"
    assert headers["Connection"] == "Upgrade"


async def test_head_keeps_length_and_sends_no_body() -> None:
    request, transport = make_request("HEAD")
    resp = StreamResponse()
    resp.content_length = 10
    await send(resp, request, b"0123456789")
    _, headers, body = parse(transport.data)
    assert headers["Content-Length"] == "10"
    assert body == b""


async def test_head_without_length_is_not_chunked() -> None:
    request, transport = make_request("HEAD")
    resp = StreamResponse()
    await send(resp, request, b"data")
    _, headers, body = parse(transport.data)
    assert "Transfer-Encoding" not in headers
    assert body == b""


@pytest.mark.parametrize("status", [204, 304])
async def test_no_body_statuses(status: int) -> None:
    request, transport = make_request()
    resp = StreamResponse(status=status)
    resp.content_length = 4
    await send(resp, request, b"data")
    status_line, headers, body = parse(transport.data)
    assert status_line.startswith(f"HTTP/1.1 {status} ")
    assert "Content-Length" not in headers
    assert "Transfer-Encoding" not in headers
    assert "Content-Type" not in headers
    assert body == b""


async def test_chunked_204_sends_no_transfer_encoding() -> None:
    request, transport = make_request()
    resp = StreamResponse(status=204)
    resp.enable_chunked_encoding()
    await send(resp, request)
    assert "Transfer-Encoding" not in parse(transport.data)[1]


async def test_cookies_become_set_cookie_headers() -> None:
    request, transport = make_request()
    resp = StreamResponse()
    resp.set_cookie("a", "1", httponly=True, samesite="Strict")
    resp.set_cookie("b", "x y")
    resp.del_cookie("old", domain="example.com")
    resp.cookies["plain"] = "v"
    resp.content_length = 0
    await send(resp, request)
    cookies = parse(transport.data)[1].getall("Set-Cookie")
    assert cookies[0] == "a=1; HttpOnly; Path=/; SameSite=Strict"
    assert cookies[1] == 'b="x y"; Path=/'
    assert cookies[2].startswith("old=; Domain=example.com; expires=Thu, 01 Jan 1970")
    assert "Max-Age=0" in cookies[2]
    assert cookies[3] == "plain=v"


async def test_on_response_prepare_runs_before_headers() -> None:
    request, transport = make_request()
    seen: list[tuple[Any, Any]] = []

    async def hook(req: Any, resp: StreamResponse) -> None:
        seen.append((req, resp))
        resp.headers["X-Hook"] = "yes"

    outer, inner = Signal(None), Signal(None)
    outer.append(hook)
    inner.append(hook)
    outer.freeze()
    inner.freeze()
    request._match_info = SimpleNamespace(  # type: ignore[assignment]
        apps=(
            SimpleNamespace(on_response_prepare=outer),
            SimpleNamespace(on_response_prepare=inner),
        )
    )
    resp = StreamResponse()
    resp.content_length = 0
    await send(resp, request)
    assert seen == [(request, resp), (request, resp)]
    assert parse(transport.data)[1]["X-Hook"] == "yes"


# -- streaming compression -----------------------------------------------------------------------


async def test_stream_compression_negotiated() -> None:
    request, transport = make_request(headers={"Accept-Encoding": "gzip, deflate;q=0.5"})
    resp = StreamResponse()
    resp.content_length = 100  # dropped: the coded length is unknown
    resp.enable_compression()
    await send(resp, request, b"a" * 1000, b"b" * 1000)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in headers
    assert zlib.decompress(dechunk(body), 16 + zlib.MAX_WBITS) == b"a" * 1000 + b"b" * 1000


async def test_stream_compression_without_accept_encoding() -> None:
    request, transport = make_request()
    resp = StreamResponse(headers={"Vary": "Origin"})
    resp.enable_compression()
    await send(resp, request, b"plain")
    _, headers, body = parse(transport.data)
    assert "Content-Encoding" not in headers
    assert headers["Vary"] == "Origin, Accept-Encoding"
    assert dechunk(body) == b"plain"


async def test_stream_compression_forced() -> None:
    request, transport = make_request(headers={"Accept-Encoding": "gzip"})
    resp = StreamResponse()
    resp.enable_compression(ContentCoding.deflate)
    await send(resp, request, b"data" * 50)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "deflate"
    assert "Vary" not in headers
    assert zlib.decompress(dechunk(body)) == b"data" * 50


async def test_stream_compression_identity_and_preencoded() -> None:
    request, transport = make_request(headers={"Accept-Encoding": "gzip"})
    resp = StreamResponse()
    resp.enable_compression(ContentCoding.identity)
    await send(resp, request, b"raw")
    assert dechunk(parse(transport.data)[2]) == b"raw"

    request, transport = make_request(headers={"Accept-Encoding": "gzip"})
    resp = StreamResponse(headers={"Content-Encoding": "br"})
    resp.enable_compression()
    await send(resp, request, b"already coded")
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "br"
    assert dechunk(body) == b"already coded"


async def test_head_with_compression_sends_no_body() -> None:
    request, transport = make_request("HEAD", headers={"Accept-Encoding": "gzip"})
    resp = StreamResponse()
    resp.enable_compression()
    await send(resp, request, b"x" * 100)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "gzip"
    assert body == b""


# -- Response -------------------------------------------------------------------------------------


def test_response_body_and_text_arguments() -> None:
    resp = Response(body=b"data")
    assert resp.body == b"data"
    assert resp.content_length == 4
    assert resp.content_type == "application/octet-stream"
    assert resp.text == "data"

    resp = Response(text="h\u00e9llo")
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.body == "h\u00e9llo".encode()
    assert resp.text == "h\u00e9llo"

    resp = Response(text="caf\u00e9", content_type="text/html", charset="latin-1")
    assert resp.headers["Content-Type"] == "text/html; charset=latin-1"
    assert resp.body == b"caf\xe9"

    resp = Response(content_type="application/xml", charset="utf-8")
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert resp.body is None and resp.text is None and resp.content_length == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"body": b"a", "text": "b"},
        {"text": "a", "content_type": "text/plain; charset=utf-8"},
        {"text": "a", "headers": {"Content-Type": "text/plain"}, "content_type": "text/x"},
        {"headers": {"Content-Type": "text/plain"}, "charset": "utf-8"},
        {"body": object()},
    ],
)
def test_response_argument_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Response(**kwargs)


def test_response_text_type_errors() -> None:
    with pytest.raises(TypeError):
        Response(text=b"bytes")  # type: ignore[arg-type]
    resp = Response()
    with pytest.raises(TypeError):
        resp.text = 1  # type: ignore[assignment]


def test_response_text_with_own_content_type_header() -> None:
    resp = Response(text="x", headers={"Content-Type": "text/html; charset=utf-8"})
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.body == b"x"


def test_response_text_setter() -> None:
    resp = Response(body=b"old")
    resp.text = "new"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.body == b"new"
    with pytest.raises(RuntimeError):
        resp.content_length = 3


def test_response_payload_bodies() -> None:
    resp = Response(body="text body")
    assert isinstance(resp.body, StringPayload)
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.text == "text body"
    assert resp.content_length == len(b"text body")

    payload = BytesPayload(b"xyz", content_type="image/png", headers={"X-Extra": "1"})
    resp = Response(body=payload)
    assert resp.body is payload
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Extra"] == "1"


async def test_response_is_one_write() -> None:
    request, transport = make_request()
    resp = Response(text="hello")
    await resp.prepare(request)
    await resp.write_eof()
    assert len(transport.writes) == 1
    status, headers, body = parse(transport.data)
    assert status == "HTTP/1.1 200 OK"
    assert headers["Content-Length"] == "5"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body == b"hello"
    assert resp.body_length == len(transport.data)


async def test_response_write_eof_takes_no_data() -> None:
    request, _ = make_request()
    resp = Response(body=b"x")
    await resp.prepare(request)
    with pytest.raises(RuntimeError):
        await resp.write_eof(b"more")


async def test_empty_response_has_zero_length() -> None:
    request, transport = make_request()
    await send(Response(), request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Length"] == "0" and body == b""


async def test_payload_response_on_the_wire() -> None:
    request, transport = make_request()
    resp = Response(body=io.BytesIO(b"from a file object"))
    await send(resp, request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Length"] == "18"
    assert body == b"from a file object"


async def test_response_head() -> None:
    request, transport = make_request("HEAD")
    await send(Response(body=b"0123456789"), request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Length"] == "10" and body == b""

    request, transport = make_request("HEAD")
    await send(Response(), request)
    _, headers, body = parse(transport.data)
    assert "Content-Length" not in headers and body == b""


@pytest.mark.parametrize("status", [204, 304])
async def test_response_no_body_status(status: int) -> None:
    request, transport = make_request()
    await send(Response(status=status, body=b"ignored"), request)
    _, headers, body = parse(transport.data)
    assert "Content-Length" not in headers and body == b""


@pytest.mark.parametrize(
    ("accept", "coding", "decompress"),
    [
        ("gzip", "gzip", lambda b: zlib.decompress(b, 16 + zlib.MAX_WBITS)),
        ("deflate", "deflate", zlib.decompress),
        ("br", "br", brotli.decompress),
        ("zstd", "zstd", lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)),
    ],
)
async def test_response_compressed_in_one_go(accept: str, coding: str, decompress: Any) -> None:
    request, transport = make_request(headers={"Accept-Encoding": accept})
    data = b"compress me " * 500
    resp = Response(body=data)
    resp.enable_compression()
    await send(resp, request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == coding
    assert "Transfer-Encoding" not in headers
    assert headers["Content-Length"] == str(len(body))
    assert len(body) < len(data)
    assert decompress(body) == data


async def test_response_compression_in_executor() -> None:
    request, transport = make_request(headers={"Accept-Encoding": "gzip"})
    data = bytes(range(256)) * 64
    resp = Response(body=data, zlib_executor_size=1024)
    resp.enable_compression()
    await send(resp, request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "gzip"
    assert zlib.decompress(body, 16 + zlib.MAX_WBITS) == data


async def test_empty_response_is_not_compressed() -> None:
    request, transport = make_request(headers={"Accept-Encoding": "gzip"})
    resp = Response()
    resp.enable_compression()
    await send(resp, request)
    _, headers, _ = parse(transport.data)
    assert "Content-Encoding" not in headers
    assert headers["Content-Length"] == "0"


async def test_chunked_response() -> None:
    request, transport = make_request()
    resp = Response(body=b"chunky")
    resp.enable_chunked_encoding()
    assert resp.content_length is None
    await send(resp, request)
    _, headers, body = parse(transport.data)
    assert headers["Transfer-Encoding"] == "chunked"
    assert dechunk(body) == b"chunky"


# -- json_response --------------------------------------------------------------------------------


def test_json_response() -> None:
    resp = json_response({"a": [1, 2]})
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(resp.text or "") == {"a": [1, 2]}
    assert json_response(None).text == "null"

    resp = json_response(text='{"x": 1}', status=201, reason="Made")
    assert resp.status == 201 and resp.reason == "Made" and resp.body == b'{"x": 1}'

    resp = json_response(body=b"[]", content_type="application/vnd.api+json")
    assert resp.headers["Content-Type"] == "application/vnd.api+json"

    resp = json_response([1], dumps=lambda obj: "custom")
    assert resp.text == "custom"

    with pytest.raises(ValueError, match="only one"):
        json_response({"a": 1}, text="{}")
    with pytest.raises(ValueError, match="only one"):
        json_response({"a": 1}, body=b"{}")
