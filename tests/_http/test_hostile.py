"""Malformed and hostile messages: each is refused with an exact error class and status code.

Every case is fed whole and one byte at a time (the error must not depend on how the bytes
arrive), and afterwards the parser is dead: any later input raises the same error again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aiohyper._http._parser import RequestParser, ResponseParser
from aiohyper.http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)

H = b"Host: example.com\r\n"


def post(*headers: bytes, body: bytes = b"", version: bytes = b"1.1") -> bytes:
    return (
        b"POST / HTTP/"
        + version
        + b"\r\n"
        + H
        + b"".join(h + b"\r\n" for h in headers)
        + (b"\r\n" + body)
    )


REQUESTS: list[tuple[str, bytes, type[HttpProcessingError], int]] = [
    # --- framing / request smuggling
    ("cl-and-te", post(b"Content-Length: 5", b"Transfer-Encoding: chunked"), BadHttpMessage, 400),
    ("te-and-cl", post(b"Transfer-Encoding: chunked", b"Content-Length: 5"), BadHttpMessage, 400),
    ("duplicate-cl-equal", post(b"Content-Length: 5", b"Content-Length: 5"), BadHttpMessage, 400),
    ("duplicate-cl-differ", post(b"Content-Length: 5", b"Content-Length: 6"), BadHttpMessage, 400),
    ("cl-list", post(b"Content-Length: 5, 5"), BadHttpMessage, 400),
    ("cl-plus-sign", post(b"Content-Length: +5"), BadHttpMessage, 400),
    ("cl-negative", post(b"Content-Length: -1"), BadHttpMessage, 400),
    ("cl-inner-space", post(b"Content-Length: 1 0"), BadHttpMessage, 400),
    ("cl-not-digits", post(b"Content-Length: abc"), BadHttpMessage, 400),
    ("cl-hex", post(b"Content-Length: 0x10"), BadHttpMessage, 400),
    ("cl-overflow", post(b"Content-Length: 99999999999999999999999"), BadHttpMessage, 400),
    ("cl-empty", post(b"Content-Length: "), BadHttpMessage, 400),
    ("te-chunked-not-last", post(b"Transfer-Encoding: chunked, gzip"), BadHttpMessage, 400),
    ("te-other-coding", post(b"Transfer-Encoding: gzip, chunked"), BadHttpMessage, 400),
    ("te-xchunked", post(b"Transfer-Encoding: xchunked"), BadHttpMessage, 400),
    ("te-chunked-param", post(b"Transfer-Encoding: chunked;x=1"), BadHttpMessage, 400),
    ("te-identity", post(b"Transfer-Encoding: identity"), BadHttpMessage, 400),
    (
        "te-twice",
        post(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"),
        BadHttpMessage,
        400,
    ),
    ("te-in-http10", post(b"Transfer-Encoding: chunked", version=b"1.0"), BadHttpMessage, 400),
    ("te-obs-fold", post(b"Transfer-Encoding:", b" chunked"), InvalidHeader, 400),
    ("te-space-before-colon", post(b"Transfer-Encoding : chunked"), InvalidHeader, 400),
    # --- chunked bodies
    (
        "chunk-size-overflow",
        post(b"Transfer-Encoding: chunked", body=b"fffffffffffffffff\r\nx\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-size-not-hex",
        post(b"Transfer-Encoding: chunked", body=b"zz\r\nx\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-size-0x",
        post(b"Transfer-Encoding: chunked", body=b"0x5\r\nhello\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-size-negative",
        post(b"Transfer-Encoding: chunked", body=b"-1\r\nx\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-size-space",
        post(b"Transfer-Encoding: chunked", body=b"5 \r\nhello\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-data-too-long",
        post(b"Transfer-Encoding: chunked", body=b"3\r\nabcdef\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-size-bare-lf",
        post(b"Transfer-Encoding: chunked", body=b"3\nabc\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    (
        "chunk-extension-ctl",
        post(b"Transfer-Encoding: chunked", body=b"3;a\x01=b\r\nabc\r\n0\r\n\r\n"),
        TransferEncodingError,
        400,
    ),
    # --- line endings and field syntax
    ("bare-lf-request-line", b"GET / HTTP/1.1\n" + H + b"\r\n", BadHttpMessage, 400),
    ("bare-lf-header", b"GET / HTTP/1.1\r\nHost: a\n\r\n", BadHttpMessage, 400),
    ("bare-cr-header", b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", BadHttpMessage, 400),
    ("bare-lf-end-of-head", b"GET / HTTP/1.1\r\n" + H + b"\n", InvalidHeader, 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n  b\r\n\r\n", InvalidHeader, 400),
    ("nul-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n", InvalidHeader, 400),
    ("ctl-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x01b\r\n\r\n", InvalidHeader, 400),
    ("del-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x7fb\r\n\r\n", InvalidHeader, 400),
    ("ctl-in-name", b"GET / HTTP/1.1\r\n" + H + b"X\x01Y: a\r\n\r\n", InvalidHeader, 400),
    ("space-in-name", b"GET / HTTP/1.1\r\n" + H + b"X Y: a\r\n\r\n", InvalidHeader, 400),
    ("space-before-colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", InvalidHeader, 400),
    ("empty-name", b"GET / HTTP/1.1\r\n" + H + b": a\r\n\r\n", InvalidHeader, 400),
    ("no-colon", b"GET / HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n", InvalidHeader, 400),
    ("space-before-first-field", b"GET / HTTP/1.1\r\n " + H + b"\r\n", BadStatusLine, 400),
    # --- start line
    ("unknown-method", b"FOO / HTTP/1.1\r\n" + H + b"\r\n", BadHttpMethod, 400),
    ("lowercase-method", b"get / HTTP/1.1\r\n" + H + b"\r\n", BadHttpMethod, 400),
    ("ctl-in-method", b"G\x01T / HTTP/1.1\r\n" + H + b"\r\n", BadHttpMethod, 400),
    ("ctl-in-target", b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    ("del-in-target", b"GET /a\x7f HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    ("utf8-in-target", b"GET /caf\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    ("tab-in-target", b"GET /a\tb HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    ("space-in-target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", BadStatusLine, 400),
    ("http-1.2", b"GET / HTTP/1.2\r\n" + H + b"\r\n", BadStatusLine, 400),
    ("http-2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n", BadStatusLine, 400),
    ("http-0.9", b"GET /\r\n\r\n", BadStatusLine, 400),
    ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", BadStatusLine, 400),
    ("no-protocol", b"GET / FTP/1.1\r\n" + H + b"\r\n", BadStatusLine, 400),
    # --- targets and Host
    ("missing-host", b"GET / HTTP/1.1\r\n\r\n", BadHttpMessage, 400),
    ("duplicate-host", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", BadHttpMessage, 400),
    ("duplicate-host-http10", b"GET / HTTP/1.0\r\n" + H + H + b"\r\n", BadHttpMessage, 400),
    ("host-with-slash", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", InvalidHeader, 400),
    ("host-with-space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", InvalidHeader, 400),
    ("host-with-at", b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", InvalidHeader, 400),
    (
        "absolute-form-userinfo",
        b"GET http://user:pw@example.com/ HTTP/1.1\r\n" + H + b"\r\n",
        InvalidURLError,
        400,
    ),
    ("absolute-form-no-host", b"GET http:/// HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    ("asterisk-not-options", b"GET * HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    ("connect-origin-form", b"CONNECT /x HTTP/1.1\r\n" + H + b"\r\n", InvalidURLError, 400),
    (
        "connect-absolute-form",
        b"CONNECT http://example.com/ HTTP/1.1\r\n" + H + b"\r\n",
        InvalidURLError,
        400,
    ),
    # --- upgrades
    (
        "upgrade-with-body",
        b"POST / HTTP/1.1\r\n" + H + b"Connection: upgrade\r\nUpgrade: h2c\r\n"
        b"Content-Length: 4\r\n\r\nbody",
        BadHttpMessage,
        400,
    ),
    (
        "connect-with-body",
        b"CONNECT example.com:443 HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n\r\nbody",
        BadHttpMessage,
        400,
    ),
    # --- limits (defaults: 8190 per line and field, 128 fields)
    ("target-too-long", b"GET /" + b"a" * 8190 + b" HTTP/1.1\r\n" + H + b"\r\n", LineTooLong, 414),
    (
        "field-too-long",
        b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 8190 + b"\r\n\r\n",
        LineTooLong,
        431,
    ),
    (
        "too-many-fields",
        b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(128)) + b"\r\n",
        BadHttpMessage,
        431,
    ),
    (
        "trailer-too-long",
        post(b"Transfer-Encoding: chunked", body=b"0\r\nT: " + b"t" * 8190 + b"\r\n\r\n"),
        LineTooLong,
        431,
    ),
]

RESPONSES: list[tuple[str, bytes, type[HttpProcessingError], int]] = [
    ("status-4-digits", b"HTTP/1.1 2000 OK\r\n\r\n", BadStatusLine, 400),
    ("status-below-100", b"HTTP/1.1 099 Low\r\n\r\n", BadStatusLine, 400),
    ("status-letters", b"HTTP/1.1 abc OK\r\n\r\n", BadStatusLine, 400),
    ("reason-ctl", b"HTTP/1.1 200 O\x01K\r\n\r\n", BadStatusLine, 400),
    ("reason-too-long", b"HTTP/1.1 200 " + b"r" * 8191 + b"\r\n\r\n", LineTooLong, 400),
    ("response-http-2.0", b"HTTP/2.0 200 OK\r\n\r\n", BadStatusLine, 400),
    ("response-bare-lf", b"HTTP/1.1 200 OK\nX: y\n\n", BadHttpMessage, 400),
    ("101-without-upgrade", b"HTTP/1.1 101 Switching Protocols\r\n\r\n", BadHttpMessage, 400),
    (
        "response-cl-and-te",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        BadHttpMessage,
        400,
    ),
    (
        "response-te-gzip",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        BadHttpMessage,
        400,
    ),
    (
        "response-duplicate-cl",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        BadHttpMessage,
        400,
    ),
    (
        "response-bad-chunk",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        TransferEncodingError,
        400,
    ),
    ("response-nul-in-value", b"HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n", InvalidHeader, 400),
]


def _first_error(parser: RequestParser | ResponseParser, pieces: list[bytes]) -> BaseException:
    with pytest.raises(HttpProcessingError) as info:
        for piece in pieces:
            parser.feed_data(piece)
        parser.feed_eof()
    return info.value


def _check(
    make: Callable[[], RequestParser | ResponseParser],
    data: bytes,
    cls: type[HttpProcessingError],
    code: int,
) -> None:
    parser = make()
    exc = _first_error(parser, [data])
    assert type(exc) is cls, repr(exc)
    assert exc.code == code
    # The parser is dead: everything later raises the same error.
    for later in (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"", b"HTTP/1.1 200 OK\r\n\r\n"):
        with pytest.raises(cls) as again:
            parser.feed_data(later)
        assert again.value is exc
    # How the bytes are split does not change the verdict.
    exc = _first_error(make(), [data[i : i + 1] for i in range(len(data))])
    assert type(exc) is cls, repr(exc)
    assert exc.code == code


def test_table_is_large_enough() -> None:
    assert len(REQUESTS) + len(RESPONSES) >= 40
    assert len({name for name, *_ in REQUESTS + RESPONSES}) == len(REQUESTS) + len(RESPONSES)


@pytest.mark.parametrize(
    ("data", "cls", "code"), [c[1:] for c in REQUESTS], ids=[c[0] for c in REQUESTS]
)
def test_hostile_request(
    request_parser_factory: Callable[..., RequestParser],
    data: bytes,
    cls: type[HttpProcessingError],
    code: int,
) -> None:
    _check(request_parser_factory, data, cls, code)


@pytest.mark.parametrize(
    ("data", "cls", "code"), [c[1:] for c in RESPONSES], ids=[c[0] for c in RESPONSES]
)
def test_hostile_response(
    response_parser_factory: Callable[..., ResponseParser],
    data: bytes,
    cls: type[HttpProcessingError],
    code: int,
) -> None:
    _check(lambda: response_parser_factory(read_until_eof=True), data, cls, code)


def test_smuggling_chunked_body_does_not_leak_a_request(
    request_parser_factory: Callable[..., RequestParser],
) -> None:
    """The classic CL.TE attack is refused before any byte of the body is interpreted."""
    parser = request_parser_factory()
    attack = post(
        b"Content-Length: 13",
        b"Transfer-Encoding: chunked",
        body=b"0\r\n\r\nSMUGGLED",
    )
    with pytest.raises(BadHttpMessage):
        parser.feed_data(attack + b"GET /admin HTTP/1.1\r\n" + H + b"\r\n")


def test_pipelined_error_after_valid_request(
    request_parser_factory: Callable[..., RequestParser],
) -> None:
    parser = request_parser_factory()
    messages, _, _ = parser.feed_data(b"GET /ok HTTP/1.1\r\n" + H + b"\r\n")
    assert len(messages) == 1
    with pytest.raises(BadHttpMethod):
        parser.feed_data(b"BOGUS / HTTP/1.1\r\n" + H + b"\r\n")
    with pytest.raises(BadHttpMethod):
        parser.feed_data(b"GET /ok HTTP/1.1\r\n" + H + b"\r\n")
