"""BaseRequest / Request: head-derived properties, clone, body readers and forms."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from types import MappingProxyType, SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, strategies as st
from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

from aiohyper._http._message import HttpVersion10, HttpVersion11, RawRequestMessage
from aiohyper.helpers import ETag
from aiohyper.multipart import MultipartReader
from aiohyper.streams import EMPTY_PAYLOAD, StreamReader
from aiohyper.test_utils import make_mocked_request
from aiohyper.web import _request as request_module
from aiohyper.web._exceptions import (
    HTTPBadRequest,
    HTTPRequestEntityTooLarge,
    HTTPUnsupportedMediaType,
)
from aiohyper.web._request import BaseRequest, FileField, Request, parse_forwarded

# -- helpers -------------------------------------------------------------------------------------


class FakeTransport(asyncio.Transport):
    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        super().__init__(extra)


class FakeProtocol:
    def __init__(self, transport: asyncio.Transport | None) -> None:
        self.transport = transport


def make_payload(*chunks: bytes, eof: bool = True) -> StreamReader:
    reader = StreamReader(mock.Mock(), 2**16, loop=asyncio.get_running_loop())
    for chunk in chunks:
        reader.feed_data(chunk)
    if eof:
        reader.feed_eof()
    return reader


def make_base_request(
    path: str = "/",
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    extra: dict[str, Any] | None = None,
    transport: bool = True,
    url: URL | None = None,
    should_close: bool = False,
    **kwargs: Any,
) -> BaseRequest:
    """A BaseRequest built through the documented constructor, on fakes."""
    hdrs = CIMultiDictProxy(CIMultiDict(headers or {}))
    message = RawRequestMessage(
        method,
        path,
        HttpVersion11,
        hdrs,
        tuple((k.encode(), v.encode()) for k, v in hdrs.items()),
        should_close,
        None,
        False,
        False,
        url if url is not None else URL(path),
    )
    protocol = FakeProtocol(FakeTransport(extra) if transport else None)
    return BaseRequest(
        message,
        EMPTY_PAYLOAD,
        protocol,  # type: ignore[arg-type]
        mock.Mock(),
        mock.Mock(),
        mock.Mock(),
        **kwargs,
    )


def multipart_body(boundary: str, parts: list[tuple[dict[str, str], bytes]]) -> bytes:
    out = bytearray()
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode()
        for name, value in headers.items():
            out += f"{name}: {value}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def form_request(body: bytes, boundary: str = "XyZ", **kwargs: Any) -> Request:
    return make_mocked_request(
        "POST",
        "/",
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        payload=make_payload(body),
        **kwargs,
    )


# -- the request line and headers ----------------------------------------------------------------


def test_basic_properties() -> None:
    req = make_mocked_request(
        "GET", "/p%20a/th?x=1&y=2&x=3", {"Host": "example.com", "X-Thing": "v"}
    )
    assert req.method == "GET"
    assert req.version == HttpVersion11
    assert req.path == "/p a/th"
    assert req.raw_path == "/p%20a/th?x=1&y=2&x=3"
    assert req.path_qs == "/p%20a/th?x=1&y=2&x=3"
    assert req.rel_url == URL("/p%20a/th?x=1&y=2&x=3")
    assert isinstance(req.query, MultiDictProxy)
    assert req.query.getall("x") == ["1", "3"]
    assert req.query_string == "x=1&y=2&x=3"
    assert isinstance(req.headers, CIMultiDictProxy)
    assert req.headers["x-thing"] == "v"
    assert (b"X-Thing", b"v") in req.raw_headers
    assert req.keep_alive
    assert req.content_type == "application/octet-stream"
    assert req.charset is None
    assert req.content_length is None
    assert not req.body_exists and not req.can_read_body
    with pytest.warns(DeprecationWarning):
        assert not req.has_body
    assert repr(req) == "<Request GET /p%20a/th?x=1&y=2&x=3 >"


def test_repr_escapes_non_ascii() -> None:
    req = make_base_request("/caf\u00e9")
    assert repr(req) == "<BaseRequest GET /caf\\xe9 >"


def test_keep_alive_follows_the_message() -> None:
    assert not make_mocked_request("GET", "/", closing=True).keep_alive
    assert not make_mocked_request("GET", "/", version=HttpVersion10).keep_alive


def test_content_headers() -> None:
    req = make_mocked_request(
        "POST", "/", {"Content-Type": "Text/HTML; Charset=UTF-8", "Content-Length": "12"}
    )
    assert req.content_type == "text/html"
    assert req.charset == "UTF-8"
    assert req.content_length == 12


def test_url_from_host_and_scheme() -> None:
    req = make_base_request("/a%2Fb?q=%20", {"Host": "example.com:8080"})
    assert req.host == "example.com:8080"
    assert req.scheme == "http" and not req.secure
    assert str(req.url) == "http://example.com:8080/a%2Fb?q=%20"
    assert req.url.raw_path == "/a%2Fb"

    tls = make_base_request("/", {"Host": "example.com"}, extra={"sslcontext": object()})
    assert tls.scheme == "https" and tls.secure
    assert str(tls.url) == "https://example.com/"


def test_url_keeps_double_slash_paths_relative() -> None:
    req = make_base_request(
        "//evil.example/x", {"Host": "good.example"}, url=URL.build(path="//evil.example/x")
    )
    assert req.url.host == "good.example"
    assert req.url.raw_path == "//evil.example/x"


def test_url_with_idn_host() -> None:
    req = make_base_request("/", {"Host": "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"})
    assert req.url.raw_host == "xn--e1afmkfd.xn--p1ai"


def test_absolute_form_target_sets_host() -> None:
    url = URL("http://target.example:81/path?a=1")
    req = make_base_request("http://target.example:81/path?a=1", {"Host": "other"}, url=url)
    assert req.host == "target.example:81"
    assert req.rel_url == URL("/path?a=1")
    assert req.path == "/path"
    assert str(req.url) == "http://target.example:81/path?a=1"


def test_host_falls_back_to_fqdn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_module, "_fqdn", "machine.local")
    assert make_base_request("/").host == "machine.local"


def test_remote_and_transport() -> None:
    req = make_base_request("/", extra={"peername": ("10.0.0.1", 5555)})
    assert req.remote == "10.0.0.1"
    assert req.get_extra_info("peername") == ("10.0.0.1", 5555)
    assert req.get_extra_info("missing", "dflt") == "dflt"
    assert req.transport is not None
    assert make_base_request("/", extra={"peername": "/tmp/sock"}).remote == "/tmp/sock"
    gone = make_base_request("/", transport=False)
    assert gone.remote is None
    assert gone.transport is None
    assert gone.get_extra_info("peername", 1) == 1
    assert gone.scheme == "http"


def test_constructor_overrides() -> None:
    req = make_base_request("/", {"Host": "h"}, scheme="https", host="x.example", remote="1.2.3.4")
    assert (req.scheme, req.host, req.remote) == ("https", "x.example", "1.2.3.4")
    assert str(req.url) == "https://x.example/"
    assert req.client_max_size == 1024**2


def test_task_protocol_writer_loop() -> None:
    req = make_mocked_request("GET", "/")
    assert req.task is req._task
    assert req.writer is req._payload_writer
    assert req.protocol is req._protocol
    with pytest.warns(DeprecationWarning):
        assert req.loop is req._loop


def test_cookies() -> None:
    req = make_mocked_request("GET", "/", {"Cookie": 'a=1; b="two"; bad cookie=x; c=3'})
    assert req.cookies == {"a": "1", "b": "two", "c": "3"}
    assert isinstance(req.cookies, MappingProxyType)
    with pytest.raises(TypeError):
        req.cookies["d"] = "4"  # type: ignore[index]
    assert make_mocked_request("GET", "/").cookies == {}


def test_cookies_from_several_headers() -> None:
    req = make_mocked_request("GET", "/", [("Cookie", "a=1"), ("Cookie", "b=2")])
    assert req.cookies == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, slice(None, None, 1)),
        ("bytes=0-499", slice(0, 500, 1)),
        ("bytes=500-", slice(500, None, 1)),
        ("bytes=-500", slice(-500, None, 1)),
        ("bytes=5-5", slice(5, 6, 1)),
    ],
)
def test_http_range(header: str | None, expected: slice) -> None:
    headers = {} if header is None else {"Range": header}
    req = make_mocked_request("GET", "/", headers)
    assert req.http_range == expected
    assert b"0123456789"[make_mocked_request("GET", "/", {"Range": "bytes=2-4"}).http_range] == (
        b"234"
    )


@pytest.mark.parametrize(
    "header", ["bytes=", "bytes=-", "bytes=5-1", "items=0-1", "bytes=0-1,3-4", "bytes=\u0661-2"]
)
def test_http_range_invalid(header: str) -> None:
    req = make_mocked_request("GET", "/", {"Range": header})
    with pytest.raises(ValueError):
        _ = req.http_range


def test_conditional_headers() -> None:
    req = make_mocked_request(
        "GET",
        "/",
        {
            "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
            "If-Unmodified-Since": "Sunday, 06-Nov-94 08:49:37 GMT",
            "If-Range": "Sun Nov  6 08:49:37 1994",
            "If-Match": '"a", W/"b"',
            "If-None-Match": "*",
        },
    )
    when = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert req.if_modified_since == when
    assert req.if_unmodified_since == when
    assert req.if_range == when
    assert req.if_match == (ETag("a"), ETag("b", is_weak=True))
    assert req.if_none_match == (ETag("*"),)
    bare = make_mocked_request("GET", "/", {"If-Modified-Since": "garbage", "If-Range": '"x"'})
    assert bare.if_modified_since is None
    assert bare.if_range is None
    assert bare.if_match is None and bare.if_none_match is None


# -- Forwarded -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ()),
        (
            ["for=192.0.2.60;proto=http;by=203.0.113.43"],
            ({"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"},),
        ),
        (['For="[2001:db8:cafe::17]:4711"'], ({"for": "[2001:db8:cafe::17]:4711"},)),
        (["for=192.0.2.43, for=198.51.100.17"], ({"for": "192.0.2.43"}, {"for": "198.51.100.17"})),
        (["for=a", "for=b;host=c"], ({"for": "a"}, {"for": "b", "host": "c"})),
        (['for="quoted \\"pair\\""'], ({"for": 'quoted "pair"'},)),
        (["for=a, , ,for=b"], ({"for": "a"}, {"for": "b"})),
        ([";;for=a;"], ({"for": "a"},)),
        # Broken elements keep their place but carry nothing.
        (["for=a;for=b, host=x"], ({}, {"host": "x"})),
        (["for=a b, host=x"], ({}, {"host": "x"})),
        (["for = a, host=x"], ({}, {"host": "x"})),
        (['for="unterminated, host=x'], ({},)),
        (['for="a,b";by=c x, proto=https'], ({}, {"proto": "https"})),
        (["garbage, proto=https"], ({}, {"proto": "https"})),
    ],
)
def test_parse_forwarded(values: list[str], expected: tuple[dict[str, str], ...]) -> None:
    result = parse_forwarded(values)
    assert tuple(dict(element) for element in result) == expected
    assert all(isinstance(element, MappingProxyType) for element in result)


def test_forwarded_property() -> None:
    req = make_mocked_request(
        "GET", "/", [("Forwarded", "for=1.1.1.1"), ("Forwarded", "for=2.2.2.2;proto=https")]
    )
    assert [dict(f) for f in req.forwarded] == [
        {"for": "1.1.1.1"},
        {"for": "2.2.2.2", "proto": "https"},
    ]
    assert make_mocked_request("GET", "/").forwarded == ()


@given(st.lists(st.text(max_size=40), max_size=3))
def test_parse_forwarded_never_raises(values: list[str]) -> None:
    for element in parse_forwarded(values):
        for name in element:
            assert name == name.lower()


# -- mapping and identity ------------------------------------------------------------------------


def test_state_mapping_and_identity() -> None:
    req = make_mocked_request("GET", "/")
    assert len(req) == 0 and bool(req) and list(req) == []
    req["key"] = 1
    assert req["key"] == 1 and "key" in req and len(req) == 1
    del req["key"]
    with pytest.raises(KeyError):
        req["key"]
    with pytest.raises(KeyError):
        del req["key"]
    other = make_mocked_request("GET", "/")
    assert req == req and req != other
    assert len({req, other}) == 2


def test_custom_attributes_allowed() -> None:
    req = make_mocked_request("GET", "/")
    req.custom = 1  # type: ignore[attr-defined]
    assert req.custom == 1  # type: ignore[attr-defined]


# -- clone ---------------------------------------------------------------------------------------


def test_clone() -> None:
    req = make_mocked_request("GET", "/path?a=1", {"Host": "h", "X-A": "1"})
    req["state"] = "original"
    clone = req.clone(method="post", rel_url="/new?b=2", headers={"X-B": "2"})
    assert isinstance(clone, Request)
    assert clone.method == "POST"
    assert clone.path == "/new" and clone.query_string == "b=2"
    assert clone.raw_path == "/new?b=2"
    assert dict(clone.headers) == {"X-B": "2"}
    assert clone.raw_headers == ((b"X-B", b"2"),)
    assert clone._payload is req._payload
    assert clone.match_info is req.match_info
    assert clone["state"] == "original"
    clone["state"] = "changed"
    assert req["state"] == "original"
    # Unchanged request keeps everything.
    same = req.clone()
    assert same.method == "GET" and same.path_qs == "/path?a=1" and same.headers["X-A"] == "1"


def test_clone_overrides_and_inherits_scheme_host_remote() -> None:
    req = make_base_request("/", {"Host": "h"}, extra={"peername": ("9.9.9.9", 1)})
    clone = req.clone(scheme="https", host="example.org", remote="1.2.3.4", client_max_size=5)
    assert type(clone) is BaseRequest
    assert (clone.scheme, clone.host, clone.remote) == ("https", "example.org", "1.2.3.4")
    assert clone.client_max_size == 5
    assert str(clone.url) == "https://example.org/"
    again = clone.clone(method="PUT")
    assert (again.scheme, again.host, again.remote) == ("https", "example.org", "1.2.3.4")
    assert again.client_max_size == 5
    assert req.scheme == "http" and req.remote == "9.9.9.9"


def test_clone_rejects_absolute_url() -> None:
    with pytest.raises(ValueError, match="relative"):
        make_mocked_request("GET", "/").clone(rel_url="http://other/x")


async def test_clone_after_read_is_refused() -> None:
    req = make_mocked_request("POST", "/", payload=make_payload(b"x"))
    await req.read()
    with pytest.raises(RuntimeError):
        req.clone()


# -- Request (routed) ----------------------------------------------------------------------------


def test_match_info_app_and_config_dict() -> None:
    root = {"a": "root", "b": "root"}
    sub = {"a": "sub"}
    deeper = {"c": "deeper"}
    req = make_mocked_request("GET", "/")
    req._match_info = SimpleNamespace(  # type: ignore[assignment]
        apps=(root, sub, deeper), current_app=sub
    )
    assert req.app is sub
    config = req.config_dict
    assert config["a"] == "sub" and config["b"] == "root"
    assert "c" not in config


def test_match_info_from_mocked_request() -> None:
    req = make_mocked_request("GET", "/", match_info={"name": "value"})
    assert req.match_info["name"] == "value"


def test_unrouted_request_has_no_match_info() -> None:
    message = make_mocked_request("GET", "/")._message
    req = Request(message, EMPTY_PAYLOAD, mock.Mock(), mock.Mock(), mock.Mock(), mock.Mock())
    with pytest.raises(AssertionError):
        _ = req.match_info


# -- body ----------------------------------------------------------------------------------------


async def test_read_caches() -> None:
    payload = make_payload(b"hello ", b"world")
    req = make_mocked_request("POST", "/", payload=payload)
    assert req.body_exists and req.can_read_body
    assert req.content is payload
    assert await req.read() == b"hello world"
    assert await req.read() == b"hello world"
    assert not req.can_read_body and req.body_exists


async def test_read_limit() -> None:
    req = make_mocked_request(
        "POST", "/", payload=make_payload(b"x" * 6, b"y" * 6), client_max_size=10
    )
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await req.read()
    assert info.value.max_size == 10 and info.value.actual_size == 12
    assert info.value.status == 413


async def test_read_limit_uses_declared_length_first() -> None:
    payload = make_payload(b"", eof=False)  # never fed: must not be awaited
    req = make_mocked_request(
        "POST", "/", {"Content-Length": "100"}, payload=payload, client_max_size=10
    )
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await asyncio.wait_for(req.read(), 1)
    assert info.value.actual_size == 100


async def test_read_without_limit() -> None:
    req = make_mocked_request("POST", "/", payload=make_payload(b"z" * 100), client_max_size=0)
    assert len(await req.read()) == 100


async def test_text_and_charsets() -> None:
    req = make_mocked_request(
        "POST", "/", {"Content-Type": "text/plain; charset=latin-1"}, payload=make_payload(b"\xe9")
    )
    assert await req.text() == "\u00e9"
    req = make_mocked_request("POST", "/", payload=make_payload("\u00e9".encode()))
    assert await req.text() == "\u00e9"
    bad_charset = make_mocked_request(
        "POST", "/", {"Content-Type": "text/plain; charset=nope"}, payload=make_payload(b"x")
    )
    with pytest.raises(HTTPUnsupportedMediaType):
        await bad_charset.text()
    bad_bytes = make_mocked_request("POST", "/", payload=make_payload(b"\xff\xfe"))
    with pytest.raises(HTTPBadRequest):
        await bad_bytes.text()


async def test_json() -> None:
    body = json.dumps({"a": 1}).encode()
    req = make_mocked_request(
        "POST", "/", {"Content-Type": "application/json"}, payload=make_payload(body)
    )
    assert await req.json() == {"a": 1}
    problem = make_mocked_request(
        "POST", "/", {"Content-Type": "application/problem+json"}, payload=make_payload(body)
    )
    assert await problem.json() == {"a": 1}
    custom = make_mocked_request(
        "POST", "/", {"Content-Type": "application/json"}, payload=make_payload(body)
    )
    assert await custom.json(loads=lambda text: ("custom", text)) == ("custom", '{"a": 1}')


async def test_json_content_type_check() -> None:
    req = make_mocked_request(
        "POST", "/", {"Content-Type": "text/plain"}, payload=make_payload(b"[1]")
    )
    with pytest.raises(HTTPBadRequest) as info:
        await req.json()
    assert "unexpected mimetype: text/plain" in (info.value.text or "")
    assert await req.json(content_type=None) == [1]


async def test_multipart_returns_a_reader() -> None:
    req = form_request(multipart_body("XyZ", []))
    assert isinstance(await req.multipart(), MultipartReader)


async def test_release_drains_the_body() -> None:
    payload = make_payload(b"a" * 100, b"b" * 100)
    req = make_mocked_request("POST", "/", payload=payload)
    await req.release()
    assert payload.at_eof()


# -- post() --------------------------------------------------------------------------------------


async def test_post_urlencoded() -> None:
    req = make_mocked_request(
        "POST",
        "/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        payload=make_payload(b"a=1&b=two+words&a=3&empty=&caf%C3%A9=%C3%A9\r\n"),
    )
    form = await req.post()
    assert isinstance(form, MultiDictProxy)
    assert form.getall("a") == ["1", "3"]
    assert form["b"] == "two words"
    assert form["empty"] == ""
    assert form["caf\u00e9"] == "\u00e9"
    assert await req.post() is form


async def test_post_urlencoded_charset() -> None:
    req = make_mocked_request(
        "POST",
        "/",
        {"Content-Type": "application/x-www-form-urlencoded; charset=latin-1"},
        payload=make_payload(b"k=%E9"),
    )
    assert (await req.post())["k"] == "\u00e9"


@pytest.mark.parametrize(
    ("method", "content_type"),
    [("GET", "application/x-www-form-urlencoded"), ("POST", "application/json"), ("POST", None)],
)
async def test_post_empty_for_other_methods_and_types(
    method: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    req = make_mocked_request(method, "/", headers, payload=make_payload(b"a=1"))
    assert await req.post() == {}


async def test_post_urlencoded_limit() -> None:
    req = make_mocked_request(
        "POST",
        "/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        payload=make_payload(b"a=" + b"x" * 20),
        client_max_size=10,
    )
    with pytest.raises(HTTPRequestEntityTooLarge):
        await req.post()


async def test_post_multipart_fields_and_files() -> None:
    body = multipart_body(
        "XyZ",
        [
            ({"Content-Disposition": 'form-data; name="title"'}, "h\u00e9llo".encode()),
            (
                {
                    "Content-Disposition": 'form-data; name="latin"',
                    "Content-Type": "text/plain; charset=latin-1",
                },
                b"\xe9",
            ),
            (
                {
                    "Content-Disposition": 'form-data; name="blob"',
                    "Content-Type": "application/octet-stream",
                },
                b"\x00\x01",
            ),
            (
                {
                    "Content-Disposition": 'form-data; name="upload"; filename="a.txt"',
                    "Content-Type": "text/plain",
                },
                b"file content\r\nline 2",
            ),
            (
                {"Content-Disposition": 'form-data; name="raw"; filename="r.bin"'},
                b"\xff" * 10,
            ),
            ({"Content-Disposition": 'form-data; name="nofile"; filename=""'}, b""),
        ],
    )
    form = await form_request(body).post()
    assert form["title"] == "h\u00e9llo"
    assert form["latin"] == "\u00e9"
    assert form["blob"] == b"\x00\x01"
    upload = form["upload"]
    assert isinstance(upload, FileField)
    assert upload.name == "upload" and upload.filename == "a.txt"
    assert upload.content_type == "text/plain"
    assert upload.headers["Content-Disposition"].startswith("form-data")
    assert upload.file.read() == b"file content\r\nline 2"
    raw = form["raw"]
    assert isinstance(raw, FileField)
    assert raw.content_type == "application/octet-stream"
    assert raw.file.read() == b"\xff" * 10
    assert form["nofile"] == ""


async def test_post_large_file_is_spooled_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_module, "_SPOOL_THRESHOLD", 1000)
    monkeypatch.setattr(request_module, "_READ_CHUNK", 300)
    content = bytes(range(256)) * 20
    body = multipart_body(
        "XyZ",
        [({"Content-Disposition": 'form-data; name="f"; filename="big.bin"'}, content)],
    )
    form = await form_request(body, client_max_size=0).post()
    field = form["f"]
    assert isinstance(field, FileField)
    assert not isinstance(field.file, io.BytesIO)
    assert field.file.read() == content
    field.file.close()


async def test_post_multipart_limit() -> None:
    body = multipart_body(
        "XyZ",
        [
            ({"Content-Disposition": 'form-data; name="a"'}, b"x" * 60),
            ({"Content-Disposition": 'form-data; name="b"'}, b"y" * 60),
        ],
    )
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await form_request(body, client_max_size=100).post()
    assert info.value.max_size == 100 and info.value.actual_size > 100

    files = multipart_body(
        "XyZ",
        [({"Content-Disposition": 'form-data; name="f"; filename="x"'}, b"z" * 200)],
    )
    with pytest.raises(HTTPRequestEntityTooLarge):
        await form_request(files, client_max_size=100).post()


async def test_post_multipart_base64_part() -> None:
    body = multipart_body(
        "XyZ",
        [
            (
                {
                    "Content-Disposition": 'form-data; name="f"; filename="x.txt"',
                    "Content-Transfer-Encoding": "base64",
                },
                b"aGVsbG8gd29ybGQ=",
            )
        ],
    )
    field = (await form_request(body).post())["f"]
    assert isinstance(field, FileField)
    assert field.file.read() == b"hello world"


async def test_post_multipart_errors() -> None:
    missing_boundary = make_mocked_request(
        "POST", "/", {"Content-Type": "multipart/form-data"}, payload=make_payload(b"")
    )
    with pytest.raises(HTTPBadRequest):
        await missing_boundary.post()

    nameless = multipart_body("XyZ", [({"Content-Disposition": "form-data"}, b"x")])
    with pytest.raises(HTTPBadRequest) as info:
        await form_request(nameless).post()
    assert "no field name" in (info.value.text or "")

    inner = multipart_body("In", [({"Content-Disposition": 'form-data; name="x"'}, b"1")])
    nested = multipart_body(
        "XyZ",
        [
            (
                {
                    "Content-Disposition": 'form-data; name="n"',
                    "Content-Type": "multipart/mixed; boundary=In",
                },
                inner,
            )
        ],
    )
    with pytest.raises(ValueError, match="nested multipart"):
        await form_request(nested).post()

    bad_text = multipart_body("XyZ", [({"Content-Disposition": 'form-data; name="t"'}, b"\xff")])
    with pytest.raises(HTTPBadRequest):
        await form_request(bad_text).post()


async def test_prepare_hook_of_base_request_is_a_noop() -> None:
    req = make_base_request("/")
    assert await req._prepare_hook(mock.Mock()) is None
