"""RequestParser and ResponseParser: messages, bodies, framing, upgrades, limits, plain bytes."""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from multidict import CIMultiDictProxy
from yarl import URL

from aiohyper._http._message import HttpVersion10, HttpVersion11
from aiohyper._http._parser import RequestParser, ResponseParser
from aiohyper.http_exceptions import (
    BadHttpMessage,
    ContentLengthError,
    DecompressSizeError,
    InvalidHeader,
    LineTooLong,
    TransferEncodingError,
)
from aiohyper.streams import EMPTY_PAYLOAD, StreamReader

RequestFactory = Callable[..., RequestParser]
ResponseFactory = Callable[..., ResponseParser]


def req(target: str = "/", *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {target} HTTP/{version}", "Host: example.com", *headers, "", ""]
    return "\r\n".join(lines).encode()


# -- requests: the head ------------------------------------------------------------------------


def test_simple_get(request_parser: RequestParser) -> None:
    messages, upgraded, tail = request_parser.feed_data(
        b"GET /path?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n"
    )
    assert not upgraded
    assert tail == b""
    ((msg, payload),) = messages
    assert msg.method == "GET"
    assert msg.path == "/path?a=1&b=2"
    assert msg.version == HttpVersion11
    assert isinstance(msg.headers, CIMultiDictProxy)
    assert msg.headers["HOST"] == "example.com"
    assert msg.headers.getall("X-MULTI") == ["1", "2"]
    assert msg.raw_headers == (
        (b"Host", b"example.com"),
        (b"X-Multi", b"1"),
        (b"x-multi", b"2"),
    )
    assert msg.should_close is False
    assert msg.compression is None
    assert msg.upgrade is False
    assert msg.chunked is False
    assert msg.url == URL("/path?a=1&b=2")
    assert msg.url.query["b"] == "2"
    assert payload is EMPTY_PAYLOAD


@pytest.mark.parametrize(
    ("method", "target", "url"),
    [
        ("GET", "/", URL("/")),
        (
            "GET",
            "/a%20b/c?x=%2F#frag",
            URL.build(path="/a%20b/c", query_string="x=%2F", fragment="frag", encoded=True),
        ),
        ("GET", "//double/slash", URL.build(path="//double/slash", encoded=True)),
        ("GET", "http://example.com:8080/p?q", URL("http://example.com:8080/p?q")),
        ("CONNECT", "example.com:443", URL.build(authority="example.com:443", encoded=True)),
        ("OPTIONS", "*", URL.build(path="*", encoded=True)),
    ],
)
def test_request_target_forms(
    request_parser: RequestParser, method: str, target: str, url: URL
) -> None:
    messages, _, _ = request_parser.feed_data(req(target, method=method))
    msg = messages[0][0]
    assert msg.path == target
    assert msg.url == url
    assert msg.url.raw_path == url.raw_path


def test_origin_form_url_keeps_encoding(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(req("/caf%C3%A9?q=a+b%26c"))
    url = messages[0][0].url
    assert url.raw_path == "/caf%C3%A9"
    assert url.path == "/café"
    assert url.query["q"] == "a b&c"


def test_header_values_trimmed_and_decoded(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(
        b"GET / HTTP/1.1\r\nHost: h\r\nX-Ws: \t  value with  inner \t \r\n"
        b"X-Utf8: caf\xc3\xa9\r\nX-Obs: \xff\xfe\r\nX-Empty:\r\n\r\n"
    )
    msg = messages[0][0]
    assert msg.headers["X-Ws"] == "value with  inner"
    assert msg.headers["X-Utf8"] == "café"
    # obs-text that is not UTF-8 survives losslessly
    assert msg.headers["X-Obs"].encode("utf-8", "surrogateescape") == b"\xff\xfe"
    assert msg.headers["X-Empty"] == ""
    assert (b"X-Ws", b"value with  inner") in msg.raw_headers


@pytest.mark.parametrize(
    ("version", "connection", "should_close"),
    [
        ("1.1", None, False),
        ("1.1", "close", True),
        ("1.1", "Keep-Alive, CLOSE", True),
        ("1.1", "keep-alive", False),
        ("1.0", None, True),
        ("1.0", "keep-alive", False),
        ("1.0", "close", True),
    ],
)
def test_should_close(
    request_parser: RequestParser, version: str, connection: str | None, should_close: bool
) -> None:
    headers = [f"Connection: {connection}"] if connection else []
    messages, _, _ = request_parser.feed_data(req("/", *headers, version=version))
    msg = messages[0][0]
    assert msg.version == (HttpVersion10 if version == "1.0" else HttpVersion11)
    assert msg.should_close is should_close


def test_http10_without_host(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(b"GET / HTTP/1.0\r\n\r\n")
    assert messages[0][0].version == HttpVersion10


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gzip", "gzip"),
        ("GZIP", "gzip"),
        ("deflate", "deflate"),
        ("br", "br"),
        ("Zstd", "zstd"),
        ("identity", None),
        ("gzip, br", None),
        ("x-gzip", None),
    ],
)
def test_compression_field(
    request_parser: RequestParser, value: str, expected: str | None
) -> None:
    messages, _, _ = request_parser.feed_data(req("/", f"Content-Encoding: {value}"))
    assert messages[0][0].compression == expected


def test_methods(request_parser_factory: RequestFactory) -> None:
    for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE", "QUERY"):
        parser = request_parser_factory()
        messages, _, _ = parser.feed_data(req("/", method=method))
        assert messages[0][0].method == method


# -- requests: bodies --------------------------------------------------------------------------


def test_content_length_body_split(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(
        req("/", "Content-Length: 10", method="POST") + b"01"
    )
    ((msg, payload),) = messages
    assert msg.chunked is False
    assert isinstance(payload, StreamReader) and payload is not EMPTY_PAYLOAD
    assert payload.read_nowait() == b"01"
    assert not payload.is_eof()
    assert request_parser.feed_data(b"2345") == ([], False, b"")
    assert request_parser.feed_data(b"6789") == ([], False, b"")
    assert payload.read_nowait() == b"23456789"
    assert payload.is_eof()


def test_content_length_zero_is_empty_payload(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(req("/", "Content-Length: 0", method="POST"))
    assert messages[0][1] is EMPTY_PAYLOAD


async def test_chunked_body_with_extensions_and_trailers(request_parser: RequestParser) -> None:
    data = req("/", "Transfer-Encoding: Chunked", method="POST") + (
        b"5;name=value;flag\r\nhello\r\n"
        b'6;q="quoted \\" ext"\r\n world\r\n'
        b"0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n"
    )
    messages, _, _ = request_parser.feed_data(data)
    ((msg, payload),) = messages
    assert msg.chunked is True
    assert "Trailer-A" not in msg.headers
    chunks = [chunk async for chunk in payload.iter_chunks()]
    assert chunks == [(b"hello", True), (b" world", True)]
    assert payload.is_eof()


def test_chunked_body_fed_bytewise(request_parser: RequestParser) -> None:
    data = req("/", "Transfer-Encoding: chunked", method="POST") + (
        b"a\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    payloads = []
    for i in range(len(data)):
        messages, _, _ = request_parser.feed_data(data[i : i + 1])
        payloads += [p for _, p in messages]
    (payload,) = payloads
    assert payload.read_nowait() == b"0123456789abc"
    assert payload.is_eof()


def test_pipelined_requests_in_order(request_parser: RequestParser) -> None:
    data = (
        req("/1")
        + req("/2", "Content-Length: 3", method="POST")
        + b"abc"
        + req("/3", "Transfer-Encoding: chunked", method="PUT")
        + b"2\r\nde\r\n0\r\n\r\n"
        + req("/4", method="DELETE")
    )
    messages, upgraded, tail = request_parser.feed_data(data)
    assert not upgraded and tail == b""
    assert [m.path for m, _ in messages] == ["/1", "/2", "/3", "/4"]
    assert [p.read_nowait() for _, p in messages] == [b"", b"abc", b"de", b""]
    assert all(p.is_eof() for _, p in messages)


def test_leading_empty_lines_between_requests(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(b"\r\n" + req("/a") + b"\r\n" + req("/b"))
    assert [m.path for m, _ in messages] == ["/a", "/b"]


def test_request_gzip_body_decompressed(request_parser: RequestParser) -> None:
    body = gzip.compress(b"x" * 1000)
    head = req("/", "Content-Encoding: gzip", f"Content-Length: {len(body)}", method="POST")
    messages, _, _ = request_parser.feed_data(head + body)
    payload = messages[0][1]
    assert payload.read_nowait() == b"x" * 1000
    assert payload.is_eof()


def test_request_auto_decompress_off(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(auto_decompress=False)
    body = zlib.compress(b"y" * 100)
    head = req("/", "Content-Encoding: deflate", f"Content-Length: {len(body)}", method="POST")
    messages, _, _ = parser.feed_data(head + body)
    assert messages[0][0].compression == "deflate"
    assert messages[0][1].read_nowait() == body


def test_decompressed_size_cap_through_parser(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_decompressed_size=1000)
    body = gzip.compress(b"\0" * 5000)
    head = req("/", "Content-Encoding: gzip", f"Content-Length: {len(body)}", method="POST")
    with pytest.raises(DecompressSizeError):
        parser.feed_data(head + body)
    with pytest.raises(DecompressSizeError):
        parser.feed_data(req("/"))


def test_corrupt_gzip_body_fails_payload(request_parser: RequestParser) -> None:
    head = req("/", "Content-Encoding: gzip", "Transfer-Encoding: chunked", method="POST")
    messages, _, _ = request_parser.feed_data(head)
    payload = messages[0][1]
    with pytest.raises(BadHttpMessage) as info:
        request_parser.feed_data(b"5\r\nhello\r\n")
    assert payload.exception() is info.value


# -- errors in bodies, EOF -------------------------------------------------------------------


def test_bad_chunk_size_fails_payload_and_raises(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(
        req("/", "Transfer-Encoding: chunked", method="POST") + b"3\r\nabc\r\n"
    )
    payload = messages[0][1]
    with pytest.raises(TransferEncodingError) as info:
        request_parser.feed_data(b"zz\r\n")
    assert payload.exception() is info.value
    # dead from now on
    with pytest.raises(TransferEncodingError):
        request_parser.feed_data(req("/"))
    assert request_parser.feed_eof() is None


def test_payload_exception_wraps_error(request_parser_factory: RequestFactory) -> None:
    class PayloadError(Exception):
        pass

    parser = request_parser_factory(payload_exception=PayloadError)
    messages, _, _ = parser.feed_data(req("/", "Transfer-Encoding: chunked", method="POST"))
    payload = messages[0][1]
    with pytest.raises(TransferEncodingError) as info:
        parser.feed_data(b"-1\r\n")
    exc = payload.exception()
    assert isinstance(exc, PayloadError)
    assert exc.__cause__ is info.value


def test_eof_inside_content_length_body(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(req("/", "Content-Length: 5", method="POST") + b"ab")
    payload = messages[0][1]
    with pytest.raises(ContentLengthError) as info:
        request_parser.feed_eof()
    assert payload.exception() is info.value


def test_eof_inside_chunked_body(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(
        req("/", "Transfer-Encoding: chunked", method="POST") + b"5\r\nab"
    )
    with pytest.raises(TransferEncodingError):
        request_parser.feed_eof()
    assert isinstance(messages[0][1].exception(), TransferEncodingError)


def test_eof_inside_head_is_dropped(request_parser: RequestParser) -> None:
    assert request_parser.feed_data(b"GET / HTTP/1.1\r\nHost: a\r\n") == ([], False, b"")
    assert request_parser.feed_eof() is None


def test_eof_between_messages(request_parser: RequestParser) -> None:
    request_parser.feed_data(req("/"))
    assert request_parser.feed_eof() is None


# -- upgrades ----------------------------------------------------------------------------------


def test_websocket_upgrade_returns_tail(request_parser: RequestParser) -> None:
    head = req("/ws", "Connection: keep-alive, Upgrade", "Upgrade: websocket")
    messages, upgraded, tail = request_parser.feed_data(head + b"\x81\x05hello" + req("/x"))
    assert upgraded
    assert tail == b"\x81\x05hello" + req("/x")
    ((msg, payload),) = messages
    assert msg.upgrade is True
    assert payload is EMPTY_PAYLOAD
    # everything afterwards belongs to the new protocol
    assert request_parser.feed_data(b"more") == ([], True, b"more")


def test_upgrade_tail_when_fed_bytewise(request_parser: RequestParser) -> None:
    data = req("/ws", "Connection: upgrade", "Upgrade: websocket") + b"XY"
    results = [request_parser.feed_data(data[i : i + 1]) for i in range(len(data))]
    assert [r[1] for r in results].count(True) == 3
    first = next(r for r in results if r[1])
    assert len(first[0]) == 1 and first[2] == b""


def test_pipelined_request_before_upgrade(request_parser: RequestParser) -> None:
    data = req("/a") + req("/ws", "Connection: upgrade", "Upgrade: websocket") + b"tail"
    messages, upgraded, tail = request_parser.feed_data(data)
    assert [m.path for m, _ in messages] == ["/a", "/ws"]
    assert upgraded and tail == b"tail"


def test_connect_is_upgrade(request_parser: RequestParser) -> None:
    messages, upgraded, tail = request_parser.feed_data(
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01"
    )
    assert upgraded and tail == b"\x16\x03\x01"
    assert messages[0][0].upgrade is True
    assert messages[0][0].url.raw_authority == "example.com:443"


def test_connection_upgrade_without_upgrade_header(request_parser: RequestParser) -> None:
    messages, upgraded, _ = request_parser.feed_data(req("/", "Connection: upgrade") + req("/2"))
    assert not upgraded
    assert [m.upgrade for m, _ in messages] == [False, False]


def test_data_after_connection_close_ignored(request_parser: RequestParser) -> None:
    messages, upgraded, tail = request_parser.feed_data(
        req("/a", "Connection: close") + b"\r\n" + req("/b")
    )
    assert [m.path for m, _ in messages] == ["/a"]
    assert not upgraded and tail == b""
    assert request_parser.feed_data(b"garbage") == ([], False, b"")


def test_data_after_http10_body_ignored(request_parser: RequestParser) -> None:
    data = b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nokGET /evil HTTP/1.1\r\n\r\n"
    messages, _, _ = request_parser.feed_data(data)
    assert len(messages) == 1
    assert messages[0][1].read_nowait() == b"ok"


# -- limits ------------------------------------------------------------------------------------


def test_target_too_long(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_line_size=100)
    parser.feed_data(req("/" + "a" * 99))  # exactly at the limit
    parser = request_parser_factory(max_line_size=100)
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(req("/" + "a" * 100))
    assert info.value.code == 414


def test_target_too_long_across_reads(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_line_size=100)
    parser.feed_data(b"GET /" + b"a" * 60)
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(b"a" * 60)
    assert info.value.code == 414


def test_header_field_too_long(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_field_size=100)
    parser.feed_data(req("/", "X-Long: " + "v" * 94))  # name + value == 100
    parser = request_parser_factory(max_field_size=100)
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(req("/", "X-Long: " + "v" * 95))
    assert info.value.code == 431


def test_unfinished_header_bounded_while_buffered(request_parser_factory: RequestFactory) -> None:
    """A header value that never ends is refused after about max_field_size bytes."""
    parser = request_parser_factory(max_field_size=1000)
    parser.feed_data(b"GET / HTTP/1.1\r\nHost: a\r\nX-Endless: ")
    with pytest.raises(LineTooLong) as info:
        for _ in range(100):
            parser.feed_data(b"v" * 100)
    assert info.value.code == 431
    assert parser._partial < 1000 + 200  # stopped right after the limit


def test_unfinished_first_header_bounded(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_field_size=1000, max_line_size=1000)
    with pytest.raises(LineTooLong):
        parser.feed_data(b"GET / HTTP/1.1\r\nX-Endless: ")
        for _ in range(30):
            parser.feed_data(b"v" * 100)


def test_too_many_headers(request_parser_factory: RequestFactory) -> None:
    fields = [f"X-{i}: v" for i in range(9)]  # + Host = 10
    parser = request_parser_factory(max_headers=10)
    parser.feed_data(req("/", *fields))
    parser = request_parser_factory(max_headers=10)
    with pytest.raises(BadHttpMessage) as info:
        parser.feed_data(req("/", *fields, "X-10: v"))
    assert info.value.code == 431


def test_too_many_headers_stops_before_head_ends(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_headers=10)
    parser.feed_data(b"GET / HTTP/1.1\r\n")
    with pytest.raises(BadHttpMessage) as info:
        parser.feed_data(b"".join(b"X-%d: v\r\n" % i for i in range(50)))
    assert info.value.code == 431


def test_trailer_limits(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory(max_field_size=50, max_headers=3)
    head = req("/", "Transfer-Encoding: chunked", method="POST")
    with pytest.raises(LineTooLong):
        parser.feed_data(head + b"0\r\nX-T: " + b"t" * 60 + b"\r\n\r\n")
    parser = request_parser_factory(max_field_size=50, max_headers=3)
    with pytest.raises(BadHttpMessage) as info:
        parser.feed_data(head + b"0\r\n" + b"T: 1\r\n" * 4 + b"\r\n")
    assert info.value.code == 431


# -- responses ---------------------------------------------------------------------------------


def test_response_with_length(response_parser: ResponseParser) -> None:
    messages, _upgraded, _tail = response_parser.feed_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
    )
    ((msg, payload),) = messages
    assert (msg.version, msg.code, msg.reason) == (HttpVersion11, 200, "OK")
    assert msg.headers["content-type"] == "text/plain"
    assert msg.should_close is False
    assert payload.read_nowait() == b"hello"
    assert payload.is_eof()


@pytest.mark.parametrize(
    ("status_line", "code", "reason"),
    [
        (b"HTTP/1.1 200", 200, ""),
        (b"HTTP/1.1 404 Not Found", 404, "Not Found"),
        (b"HTTP/1.0 599 Custom  Reason\twith tab", 599, "Custom  Reason\twith tab"),
        (b"HTTP/1.1 500 Ori\xc3\xabntatieprobleem", 500, "Oriëntatieprobleem"),
    ],
)
def test_status_lines(
    response_parser: ResponseParser, status_line: bytes, code: int, reason: str
) -> None:
    messages, _, _ = response_parser.feed_data(status_line + b"\r\nContent-Length: 0\r\n\r\n")
    assert (messages[0][0].code, messages[0][0].reason) == (code, reason)


def test_response_read_until_eof(response_parser: ResponseParser) -> None:
    messages, _, _ = response_parser.feed_data(b"HTTP/1.1 200 OK\r\n\r\npart1")
    ((msg, payload),) = messages
    assert msg.should_close is True
    response_parser.feed_data(b"part2")
    assert not payload.is_eof()
    assert response_parser.feed_eof() is None
    assert payload.read_nowait() == b"part1part2"
    assert payload.is_eof()


def test_response_without_length_not_read(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory(read_until_eof=False)
    messages, _, _ = parser.feed_data(b"HTTP/1.1 200 OK\r\n\r\nignored")
    assert messages[0][1] is EMPTY_PAYLOAD
    assert messages[0][0].should_close is True
    assert parser.feed_data(b"more") == ([], False, b"")
    assert parser.feed_eof() is None


@pytest.mark.parametrize("status", [204, 304, 102, 103])
def test_responses_without_body(response_parser: ResponseParser, status: int) -> None:
    data = b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status
    data += b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    messages, _, _ = response_parser.feed_data(data)
    assert [m.code for m, _ in messages] == [status, 200]
    assert messages[0][1] is EMPTY_PAYLOAD
    assert messages[1][1].read_nowait() == b"ok"


def test_continue_then_final(response_parser: ResponseParser) -> None:
    messages, _, _ = response_parser.feed_data(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"
    )
    assert [m.code for m, _ in messages] == [100, 201]


def test_head_response_has_no_body(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory(response_with_body=False)
    messages, _, _ = parser.feed_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Encoding: gzip\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    assert [(m.code, p) for m, p in messages] == [(200, EMPTY_PAYLOAD), (200, EMPTY_PAYLOAD)]
    assert messages[0][0].headers["Content-Length"] == "1000"


def test_head_response_fed_bytewise(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory(response_with_body=False)
    data = (
        b"\r\nHTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"
    )
    codes = []
    for i in range(len(data)):
        messages, _, _ = parser.feed_data(data[i : i + 1])
        codes += [m.code for m, _ in messages]
    assert codes == [100, 200, 204]


def test_head_response_connection_close(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory(response_with_body=False)
    messages, _, _ = parser.feed_data(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert len(messages) == 1 and messages[0][0].should_close
    assert parser.feed_data(b"xyz") == ([], False, b"")


def test_head_response_upgrade(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory(response_with_body=False)
    messages, upgraded, tail = parser.feed_data(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"\x81\x00"
    )
    assert upgraded and tail == b"\x81\x00" and messages[0][0].upgrade


def test_switching_protocols(response_parser: ResponseParser) -> None:
    messages, upgraded, tail = response_parser.feed_data(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"\x81\x02hi"
    )
    assert upgraded and tail == b"\x81\x02hi"
    assert messages[0][0].upgrade is True
    assert messages[0][1] is EMPTY_PAYLOAD


def test_response_upgrade_header_without_101(response_parser: ResponseParser) -> None:
    messages, upgraded, _ = response_parser.feed_data(
        b"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nok"
    )
    assert not upgraded
    assert messages[0][0].upgrade is False
    assert messages[0][1].read_nowait() == b"ok"


def test_response_chunked_gzip(response_parser: ResponseParser) -> None:
    body = gzip.compress(b"data" * 100)
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:10], body[10:])) + b"0\r\n\r\n"
    )
    messages, _, _ = response_parser.feed_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        + chunked
    )
    msg, payload = messages[0]
    assert msg.chunked and msg.compression == "gzip"
    assert payload.read_nowait() == b"data" * 100


def test_http10_response_with_chunked_not_kept_alive(response_parser: ResponseParser) -> None:
    messages, _, _ = response_parser.feed_data(
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n"
    )
    assert messages[0][0].should_close is True
    assert messages[0][1].read_nowait() == b"ok"


def test_truncated_gzip_response_at_eof(response_parser: ResponseParser) -> None:
    body = gzip.compress(b"z" * 1000)[:-8]
    messages, _, _ = response_parser.feed_data(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + body
    )
    with pytest.raises(BadHttpMessage):
        response_parser.feed_eof()
    assert messages[0][1].exception() is not None


def test_reason_too_long(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory(max_line_size=20)
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(b"HTTP/1.1 200 " + b"r" * 21 + b"\r\n\r\n")
    assert info.value.code == 400


# -- splitting does not change the outcome -----------------------------------------------------

_GZIPPED = gzip.compress(b"compressed body!", mtime=0)
_REQUESTS = [
    req("/a?x=1"),
    req("/b", "Content-Length: 5", "X-H: v", method="POST") + b"hello",
    req("/c", "Transfer-Encoding: chunked", method="PUT")
    + b"3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: t\r\n\r\n",
    req("/d", "Cookie: a=b; c=d", "Accept: */*", version="1.0", method="HEAD").replace(
        b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n"
    ),
    b"\r\n" + req("/e", "Content-Length: 0", method="DELETE"),
    req("/f", "Content-Encoding: gzip", f"Content-Length: {len(_GZIPPED)}", method="POST")
    + _GZIPPED,
]


def _outcome(parser: RequestParser | ResponseParser, pieces: list[bytes]) -> list[Any]:
    collected = []
    for piece in pieces:
        messages, upgraded, _ = parser.feed_data(piece)
        assert not upgraded
        collected += messages
    return [
        (msg, payload.read_nowait(), payload.is_eof(), payload.exception())
        for msg, payload in collected
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    indexes=st.lists(st.integers(0, len(_REQUESTS) - 1), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 2000), max_size=12),
)
def test_split_points_do_not_matter(
    request_parser_factory: RequestFactory, indexes: list[int], cuts: list[int]
) -> None:
    data = b"".join(_REQUESTS[i] for i in indexes)
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    whole = _outcome(request_parser_factory(), [data])
    split = _outcome(request_parser_factory(), pieces)
    assert split == whole
    assert len(whole) == len(indexes)
    assert all(eof and exc is None for _, _, eof, exc in whole)


_RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
    b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    indexes=st.lists(st.integers(0, len(_RESPONSES) - 1), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 1000), max_size=10),
    head_only=st.booleans(),
)
def test_response_split_points_do_not_matter(
    response_parser_factory: ResponseFactory, indexes: list[int], cuts: list[int], head_only: bool
) -> None:
    data = b"".join(_RESPONSES[i] for i in indexes)
    if head_only:
        # bodies are not sent in answers to HEAD
        data = b"".join(_RESPONSES[i].partition(b"\r\n\r\n")[0] + b"\r\n\r\n" for i in indexes)
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]

    def make() -> ResponseParser:
        return response_parser_factory(response_with_body=not head_only)

    whole = _outcome(make(), [data])
    assert _outcome(make(), pieces) == whole
    assert len(whole) == len(indexes)


# -- heads read from the bytes: positions, carried bytes, memo caches --------------------------


def test_same_head_parsed_again_gives_equal_messages(
    request_parser_factory: RequestFactory,
) -> None:
    """The third sighting of a head comes from the memo caches: same message, same checks."""
    head = req("/same?q=1", "Accept: */*", "X-Multi: 1", "x-multi: 2")
    first = request_parser_factory().feed_data(head)[0][0][0]
    for _ in range(3):
        msg = request_parser_factory().feed_data(head)[0][0][0]
        assert msg == first
        assert msg.url == URL("/same?q=1")
        assert msg.headers.getall("X-MULTI") == ["1", "2"]
        assert isinstance(msg.headers, CIMultiDictProxy)


def test_cached_head_still_obeys_each_parsers_limits(
    request_parser_factory: RequestFactory,
) -> None:
    head = req("/" + "p" * 40, "X-Long: " + "v" * 60, "X-2: a", "X-3: b")
    for _ in range(3):  # now cached with the default limits
        request_parser_factory().feed_data(head)
    with pytest.raises(LineTooLong) as info:
        request_parser_factory(max_line_size=30).feed_data(head)
    assert info.value.code == 414
    with pytest.raises(LineTooLong) as info:
        request_parser_factory(max_field_size=50).feed_data(head)
    assert info.value.code == 431
    with pytest.raises(BadHttpMessage) as info:
        request_parser_factory(max_headers=3).feed_data(head)
    assert info.value.code == 431
    # A cached section whose size bound exceeds the limit, but no field does.
    assert request_parser_factory(max_field_size=70).feed_data(head)[0]


def test_cached_section_checked_again_per_version(request_parser_factory: RequestFactory) -> None:
    """Host and Transfer-Encoding rules depend on the version, not only on the fields."""
    section = b"Transfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
    for _ in range(3):
        request_parser_factory().feed_data(
            b"POST / HTTP/1.1\r\nHost: h\r\n" + section + b"0\r\n\r\n"
        )
    for _ in range(3):
        assert request_parser_factory().feed_data(b"GET / HTTP/1.0\r\nX-A: 1\r\n\r\n")[0]
    with pytest.raises(BadHttpMessage, match="Missing Host"):
        request_parser_factory().feed_data(b"GET / HTTP/1.1\r\nX-A: 1\r\n\r\n")
    with pytest.raises(BadHttpMessage, match=r"HTTP/1\.0 request"):
        request_parser_factory().feed_data(b"POST / HTTP/1.0\r\nHost: h\r\n" + section)


def test_response_section_does_not_vouch_for_a_request_host(
    request_parser_factory: RequestFactory, response_parser_factory: ResponseFactory
) -> None:
    section = b"Host: bad/host\r\nContent-Length: 0\r\n\r\n"
    for _ in range(3):
        messages, _, _ = response_parser_factory().feed_data(b"HTTP/1.1 200 OK\r\n" + section)
        assert messages[0][0].headers["Host"] == "bad/host"
    with pytest.raises(InvalidHeader):
        request_parser_factory().feed_data(b"GET / HTTP/1.1\r\n" + section)


def test_spaces_around_target_and_bare_leading_newlines(request_parser: RequestParser) -> None:
    messages, _, _ = request_parser.feed_data(
        b"\nGET  /a  HTTP/1.1\r\nHost: h\r\n\r\n\r\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    assert [(m.path, m.url) for m, _ in messages] == [("/a", URL("/a")), ("/b", URL("/b"))]


def test_endless_empty_lines_are_not_kept(request_parser: RequestParser) -> None:
    for _ in range(1000):
        assert request_parser.feed_data(b"\r\n") == ([], False, b"")
    assert request_parser._carry is None
    assert [m.path for m, _ in request_parser.feed_data(req("/x"))[0]] == ["/x"]


def test_unfinished_head_is_carried_and_read_is_released(request_parser: RequestParser) -> None:
    head = req("/carried", "X-A: 1")
    for i in range(len(head) - 1):
        assert request_parser.feed_data(head[i : i + 1]) == ([], False, b"")
        assert request_parser._carry == head[: i + 1]
        assert request_parser._buf == b""  # the read itself is not kept
    messages, _, _ = request_parser.feed_data(head[-1:] + b"GET /next")
    assert [m.path for m, _ in messages] == ["/carried"]
    assert request_parser._carry == b"GET /next"


def test_trailers_and_chunk_lines_split_anywhere(request_parser_factory: RequestFactory) -> None:
    data = req("/t", "Transfer-Encoding: chunked", method="POST") + (
        b"4;a=b\r\nwiki\r\n0\r\nT-1: x\r\nT-2: y\r\n\r\n" + req("/after")
    )
    for cut in range(len(data) + 1):
        for cut2 in (cut, min(cut + 7, len(data))):
            parser = request_parser_factory(max_headers=2)
            collected = []
            for piece in (data[:cut], data[cut:cut2], data[cut2:]):
                collected += parser.feed_data(piece)[0]
            assert [m.path for m, _ in collected] == ["/t", "/after"], cut
            assert collected[0][1].read_nowait() == b"wiki"
            assert collected[0][1].is_eof()


def test_response_trailers_checked(response_parser_factory: ResponseFactory) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT: v\r\n\r\n"
    parser = response_parser_factory(max_headers=1)
    messages, _, _ = parser.feed_data(data)
    assert messages[0][1].read_nowait() == b"a"
    parser = response_parser_factory(max_headers=1)
    with pytest.raises(BadHttpMessage) as info:
        parser.feed_data(data.replace(b"T: v\r\n", b"T: v\r\nU: w\r\n"))
    assert info.value.code == 431


def test_complete_fields_of_an_unfinished_head_are_bounded(
    request_parser_factory: RequestFactory,
) -> None:
    """Long fields are refused while the head is still arriving, not buffered until its end."""
    parser = request_parser_factory(max_field_size=100)
    parser.feed_data(b"GET / HTTP/1.1\r\nHost: h\r\n")
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(b"X-Long: " + b"v" * 1000 + b"\r\nX-Next")
    assert info.value.code == 431
    assert "X-Long" in info.value.message  # the field itself is named, as for a complete head


def test_first_problem_of_a_head_is_reported(request_parser_factory: RequestFactory) -> None:
    """A too-long field before a syntax error is what the client hears about."""
    data = b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + b"v" * 200 + b"\r\nNext: a\x01b\r\n\r\n"
    for pieces in ([data], [data[:30], data[30:]], [data[i : i + 1] for i in range(len(data))]):
        parser = request_parser_factory(max_field_size=100)
        with pytest.raises(LineTooLong) as info:
            for piece in pieces:
                parser.feed_data(piece)
        assert info.value.code == 431


_head_ids = itertools.count()


def _distinct_heads(count: int) -> bytes:
    """Heads never seen before (so never in the memo caches)."""
    return b"".join(req(f"/p{i}", f"X-Id: {next(_head_ids)}") for i in range(count))


def test_parser_of_distinct_heads_switches_to_field_mode(
    request_parser_factory: RequestFactory,
) -> None:
    """Heads that never repeat are read field by field from llhttp, with the same results."""
    parser = request_parser_factory(max_field_size=50, max_headers=3)
    assert len(parser.feed_data(_distinct_heads(40))[0]) == 40
    data = (
        req("/t", "Transfer-Encoding: chunked", "X-A:  a \t", method="POST")
        + b"4\r\nwiki\r\n0\r\nT-1: x\r\n\r\n"
        + req("/after", "X-Multi: 1", "x-multi: 2")
    )
    messages, _, _ = parser.feed_data(data)
    assert parser._field_mode
    (msg, payload), (after, _) = messages
    assert msg.raw_headers == (
        (b"Host", b"example.com"),
        (b"Transfer-Encoding", b"chunked"),
        (b"X-A", b"a"),
    )
    assert payload.read_nowait() == b"wiki"
    assert "T-1" not in after.headers  # trailers stay dropped
    assert after.headers.getall("X-MULTI") == ["1", "2"]
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(req("/", "X-Long: " + "v" * 60))
    assert info.value.code == 431


def test_parser_of_repeated_heads_keeps_the_caches(request_parser: RequestParser) -> None:
    for _ in range(5):
        assert len(request_parser.feed_data(req("/same") * 40)[0]) == 40
    assert not request_parser._field_mode


def test_split_points_do_not_matter_in_field_mode(request_parser_factory: RequestFactory) -> None:
    data = b"".join(_REQUESTS)
    whole = _outcome(request_parser_factory(), [data])
    for cut in range(0, len(data) + 1, 3):
        parser = request_parser_factory()
        parser.feed_data(_distinct_heads(40))
        assert _outcome(parser, [data[:cut], data[cut:]]) == whole
        assert parser._field_mode
