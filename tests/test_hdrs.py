"""aiohyper.hdrs: every method and header name constant aiohttp documents and uses."""

from __future__ import annotations

import re

import pytest
from multidict import CIMultiDict, istr

from aiohyper import hdrs

# aiohttp's ``hdrs`` set (docs and the names its API is known to expose), plus every field RFC
# 9110 §18.4 registers and the ones RFC 9111/9112 define. Canonical spelling.
EXPECTED_HEADERS = (
    # aiohttp.hdrs
    "Accept",
    "Accept-Charset",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Ranges",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Method",
    "Age",
    "Allow",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Disposition",
    "Content-Encoding",
    "Content-ID",  # multipart.rst uses hdrs.CONTENT_ID
    "Content-Language",
    "Content-Length",
    "Content-Location",
    "Content-MD5",
    "Content-Range",
    "Content-Transfer-Encoding",
    "Content-Type",
    "Cookie",
    "Date",
    "Destination",
    "Digest",
    "ETag",
    "Expect",
    "Expires",
    "Forwarded",
    "From",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Keep-Alive",
    "Last-Event-ID",
    "Last-Modified",
    "Link",
    "Location",
    "Max-Forwards",
    "Origin",
    "Pragma",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Range",
    "Referer",
    "Retry-After",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Key1",
    "Server",
    "Set-Cookie",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "URI",
    "User-Agent",
    "Vary",
    "Via",
    "Want-Digest",
    "Warning",
    "WWW-Authenticate",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    # RFC 9110 §18.4 fields not in the list above
    "Authentication-Info",
    "Proxy-Authentication-Info",
)

EXPECTED_METHODS = {
    "METH_CONNECT": "CONNECT",
    "METH_HEAD": "HEAD",
    "METH_GET": "GET",
    "METH_DELETE": "DELETE",
    "METH_OPTIONS": "OPTIONS",
    "METH_PATCH": "PATCH",
    "METH_POST": "POST",
    "METH_PUT": "PUT",
    "METH_TRACE": "TRACE",
}


def _const_name(header: str) -> str:
    return header.upper().replace("-", "_")


@pytest.mark.parametrize("header", EXPECTED_HEADERS)
def test_header_constant(header: str) -> None:
    value = getattr(hdrs, _const_name(header))
    assert isinstance(value, istr)
    assert str(value) == header  # canonical spelling, as sent on the wire


def test_no_unexpected_or_malformed_constants() -> None:
    expected = {_const_name(h) for h in EXPECTED_HEADERS}
    istr_constants = {
        name for name, value in vars(hdrs).items() if isinstance(value, istr) and name.isupper()
    }
    assert istr_constants == expected
    token = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
    for name in istr_constants:
        assert token.fullmatch(getattr(hdrs, name))


def test_constants_work_as_case_insensitive_keys() -> None:
    headers = CIMultiDict({"content-type": "text/plain", "SEC-WEBSOCKET-KEY": "k"})
    assert headers[hdrs.CONTENT_TYPE] == "text/plain"
    assert headers[hdrs.SEC_WEBSOCKET_KEY] == "k"


@pytest.mark.parametrize(("name", "value"), EXPECTED_METHODS.items())
def test_method_constants(name: str, value: str) -> None:
    assert getattr(hdrs, name) == value


def test_meth_all() -> None:
    assert isinstance(hdrs.METH_ALL, frozenset)
    assert set(EXPECTED_METHODS.values()) == hdrs.METH_ALL
    assert hdrs.METH_ANY == "*"
    assert hdrs.METH_ANY not in hdrs.METH_ALL
