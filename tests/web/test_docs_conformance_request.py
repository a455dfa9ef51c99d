"""Documented behaviour of ``BaseRequest`` / ``Request`` (web_reference.rst, "Request and Base
Request"; web_quickstart.rst, "HTTP Forms" and "File Uploads"), checked over real sockets."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

import aiohyper
from aiohyper import FormData, web
from aiohyper.helpers import ChainMapProxy, ETag
from aiohyper.test_utils import TestClient, TestServer, make_mocked_request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(app, **kwargs)) as client:
        yield client


def app_with(method: str, path: str, handler: Handler, **app_kwargs: Any) -> web.Application:
    app = web.Application(**app_kwargs)
    app.router.add_route(method, path, handler)
    return app


async def capture(
    method: str,
    path: str,
    probe: Callable[[web.Request], Awaitable[Any]],
    route: str = "/{tail:.*}",
    **request_kwargs: Any,
) -> Any:
    """Send one request; return what ``probe(request)`` computed inside the handler."""
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["value"] = await probe(request)
        return web.Response(text="ok")

    async with serve(app_with("*", route, handler)) as client:
        resp = await client.request(method, path, **request_kwargs)
        assert resp.status == 200, await resp.text()
    return seen["value"]


# -- request line and URL -------------------------------------------------------------------


async def test_version_method_url_and_rel_url() -> None:
    async def probe(request: web.Request) -> Any:
        return request.version, request.method, request.url, request.rel_url, request.host

    version, method, url, rel_url, host = await capture("patch", "/a/b?x=1", probe)
    assert tuple(version) == (1, 1)
    assert method == "PATCH"  # upper-cased str
    # url: absolute, scheme, host and port included
    assert url.absolute and url.scheme == "http" and url.host == "127.0.0.1"
    assert url.port is not None and url.path == "/a/b" and url.query_string == "x=1"
    # rel_url: only path, query and fragment; equal to url.relative()
    assert not rel_url.absolute and rel_url == url.relative() == URL("/a/b?x=1")
    assert host == f"127.0.0.1:{url.port}"


def test_path_raw_path_path_qs_query_and_query_string() -> None:
    raw = "/my%2Fpath%7Cwith%21some%25strange%24characters"
    request = make_mocked_request("GET", raw + "?id=10&id=11&e=")
    assert request.path == "/my/path|with!some%strange$characters"  # URL-decoded
    assert request.raw_path.startswith(raw)  # as sent, still encoded
    assert request.path_qs.endswith("?id=10&id=11&e=")
    assert request.path_qs.startswith("/my")
    query = request.query
    assert isinstance(query, MultiDictProxy)
    assert query.getall("id") == ["10", "11"] and query["e"] == ""
    assert request.query_string == "id=10&id=11&e="
    assert make_mocked_request("GET", "/app/blog?id=10").path_qs == "/app/blog?id=10"


async def test_scheme_secure_remote_and_transport() -> None:
    async def probe(request: web.Request) -> Any:
        transport = request.transport
        assert transport is not None
        peername = transport.get_extra_info("peername")
        return (
            request.scheme,
            request.secure,
            request.remote,
            peername,
            request.get_extra_info("peername"),
            request.get_extra_info("no-such-key", "dflt"),
            request.get_extra_info("no-such-key"),
        )

    scheme, secure, remote, peername, extra, dflt, none = await capture("GET", "/", probe)
    assert scheme == "http" and secure is False
    host, port = peername
    assert remote == host == "127.0.0.1" and isinstance(port, int)
    assert extra == peername and dflt == "dflt" and none is None


async def test_forwarded_headers_are_not_used_for_scheme_host_remote() -> None:
    """web_reference.rst: Forwarded and X-Forwarded-* are not used anymore (2.3)."""

    async def probe(request: web.Request) -> Any:
        return request.scheme, request.host, request.remote, request.forwarded

    headers = {
        "Forwarded": 'for="_gazonk";proto=https;host=example.com, for=192.0.2.43;by=x',
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-For": "10.0.0.1",
    }
    scheme, host, remote, forwarded = await capture("GET", "/", probe, headers=headers)
    assert scheme == "http" and remote == "127.0.0.1"
    assert host.startswith("127.0.0.1:")
    # One immutable mapping per proxy, quoted-strings unescaped.
    assert len(forwarded) == 2
    assert dict(forwarded[0]) == {"for": "_gazonk", "proto": "https", "host": "example.com"}
    assert dict(forwarded[1]) == {"for": "192.0.2.43", "by": "x"}
    with pytest.raises(TypeError):
        forwarded[0]["for"] = "x"  # type: ignore[index]


def test_forwarded_unescapes_quoted_pairs_and_does_not_validate_contents() -> None:
    req = make_mocked_request(
        "GET", "/", headers={"Forwarded": r'for="\"quoted\"";proto=not-a-scheme-123;host="@@"'}
    )
    assert dict(req.forwarded[0]) == {"for": '"quoted"', "proto": "not-a-scheme-123", "host": "@@"}


def test_host_falls_back_to_the_fqdn_without_host_header() -> None:
    import socket

    req = make_mocked_request("GET", "/")
    assert req.host == socket.getfqdn()
    assert make_mocked_request("GET", "/", headers={"Host": "example.com:81"}).host == (
        "example.com:81"
    )


def test_clone_overrides_and_exact_copy() -> None:
    req = make_mocked_request("GET", "/path?a=1", headers={"Host": "h", "X": "1"})
    req["key"] = "value"
    copy = req.clone()
    assert isinstance(copy, web.Request) and copy is not req
    assert (copy.method, copy.rel_url, copy.headers) == (req.method, req.rel_url, req.headers)
    assert copy["key"] == "value"

    changed = req.clone(
        method="post",
        rel_url="/other?b=2",
        headers={"Y": "2"},
        scheme="https",
        host="example.com",
        remote="10.0.0.1",
        client_max_size=5,
    )
    assert changed.method == "POST"
    assert changed.rel_url == URL("/other?b=2") and changed.path == "/other"
    assert isinstance(changed.headers, CIMultiDictProxy) and dict(changed.headers) == {"Y": "2"}
    assert changed.raw_headers == ((b"Y", b"2"),)
    assert changed.scheme == "https" and changed.secure is True
    assert changed.host == "example.com" and changed.remote == "10.0.0.1"
    assert changed.client_max_size == 5
    assert changed.url == URL("https://example.com/other?b=2")
    # The original is untouched.
    assert req.method == "GET" and req.scheme == "http" and req.host == "h"
    # A URL instance is accepted too; the match info carries over.
    assert req.clone(rel_url=URL("/u")).rel_url == URL("/u")
    assert req.clone().match_info is req.match_info


# -- headers ----------------------------------------------------------------------------------


async def test_headers_raw_headers_keep_alive_and_cookies() -> None:
    async def probe(request: web.Request) -> Any:
        return (
            request.headers,
            request.raw_headers,
            request.keep_alive,
            request.cookies,
        )

    headers, raw_headers, keep_alive, cookies = await capture(
        "GET", "/", probe, headers={"X-Custom": "v", "Cookie": "a=b; c=d"}
    )
    assert isinstance(headers, CIMultiDictProxy)
    assert headers["x-custom"] == headers["X-CUSTOM"] == "v"
    assert (b"X-Custom", b"v") in list(raw_headers)
    assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in raw_headers)
    assert keep_alive is True
    assert isinstance(cookies, MappingProxyType) and dict(cookies) == {"a": "b", "c": "d"}


def test_keep_alive_false_for_http10_and_connection_close() -> None:
    assert make_mocked_request("GET", "/", version=aiohyper.HttpVersion10).keep_alive is False
    assert make_mocked_request("GET", "/", closing=True).keep_alive is False
    assert make_mocked_request("GET", "/").keep_alive is True


def test_content_type_charset_content_length() -> None:
    req = make_mocked_request(
        "POST", "/", headers={"Content-Type": "text/html; charset=UTF-8", "Content-Length": "7"}
    )
    assert req.content_type == "text/html"
    assert req.charset == "utf-8" or req.charset == "UTF-8"
    assert req.content_length == 7
    bare = make_mocked_request("POST", "/")
    # RFC 2616 default when Content-Type is absent.
    assert bare.content_type == "application/octet-stream"
    assert bare.charset is None and bare.content_length is None


def test_http_range_forms() -> None:
    def rng(value: str | None) -> slice:
        headers = {} if value is None else {"Range": value}
        return make_mocked_request("GET", "/", headers=headers).http_range

    assert rng("bytes=2-5") == slice(2, 6, 1)  # stop is exclusive
    assert rng("bytes=2-") == slice(2, None, 1)
    assert rng("bytes=-5") == slice(-5, None, 1)
    assert rng(None) == slice(None, None, 1)
    buffer = b"0123456789"
    assert buffer[rng("bytes=2-5")] == b"2345"  # slice style
    for bad in ("bytes=5-2", "items=1-2", "bytes=-", "bytes=1-2,4-5"):
        with pytest.raises(ValueError):
            rng(bad)


def test_conditional_dates() -> None:
    date = "Sun, 06 Nov 1994 08:49:37 GMT"
    expected = datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=datetime.UTC)
    req = make_mocked_request(
        "GET",
        "/",
        headers={"If-Modified-Since": date, "If-Unmodified-Since": date, "If-Range": date},
    )
    assert req.if_modified_since == expected
    assert req.if_unmodified_since == expected
    assert req.if_range == expected
    bad = make_mocked_request(
        "GET",
        "/",
        headers={"If-Modified-Since": "garbage", "If-Unmodified-Since": "x", "If-Range": '"e"'},
    )
    assert bad.if_modified_since is None and bad.if_unmodified_since is None
    assert bad.if_range is None
    none = make_mocked_request("GET", "/")
    assert none.if_modified_since is none.if_unmodified_since is none.if_range is None


def test_if_match_and_if_none_match_etags() -> None:
    req = make_mocked_request("GET", "/", headers={"If-Match": '"a", W/"b"', "If-None-Match": "*"})
    assert req.if_match == (ETag("a"), ETag("b", is_weak=True))
    assert isinstance(req.if_none_match, tuple)
    assert [tag.value for tag in req.if_none_match] == ["*"]
    none = make_mocked_request("GET", "/")
    assert none.if_match is None and none.if_none_match is None


# -- body -------------------------------------------------------------------------------------


async def test_read_text_json_store_the_data() -> None:
    async def probe(request: web.Request) -> Any:
        assert request.body_exists and request.can_read_body
        first = await request.read()
        assert not request.can_read_body and request.body_exists
        return (
            first,
            await request.read(),
            await request.text(),
            await request.text(),
            await request.json(),
            await request.json(),
        )

    values = await capture("POST", "/", probe, json={"a": [1, 2]})
    body = json.dumps({"a": [1, 2]}).encode()
    assert values == (body, body, body.decode(), body.decode(), {"a": [1, 2]}, {"a": [1, 2]})


async def test_body_exists_false_without_body() -> None:
    async def probe(request: web.Request) -> Any:
        return request.body_exists, request.can_read_body, await request.read()

    assert await capture("GET", "/", probe) == (False, False, b"")


async def test_text_uses_charset() -> None:
    async def probe(request: web.Request) -> str:
        return await request.text()

    data = "ĥéllo".encode("latin-1", errors="replace")
    text = await capture(
        "POST", "/", probe, data=data, headers={"Content-Type": "text/plain; charset=latin-1"}
    )
    assert text == data.decode("latin-1")


async def test_json_content_type_check_and_custom_loads() -> None:
    async def strict(request: web.Request) -> Any:
        try:
            await request.json()
        except web.HTTPBadRequest:
            return "bad request"
        return "parsed"

    async def lenient(request: web.Request) -> Any:
        return await request.json(content_type=None, loads=lambda s: ("custom", s))

    headers = {"Content-Type": "text/plain"}
    assert await capture("POST", "/", strict, data=b"{}", headers=headers) == "bad request"
    assert await capture("POST", "/", lenient, data=b"{}", headers=headers) == ("custom", "{}")


async def test_post_urlencoded_form_login_example() -> None:
    """web_quickstart.rst "HTTP Forms": the do_login example."""
    seen: dict[str, Any] = {}

    async def do_login(request: web.Request) -> web.Response:
        data = await request.post()
        seen["login"], seen["password"] = data["login"], data["password"]
        seen["again"] = await request.post() is data
        return web.Response(text="ok")

    async with serve(app_with("POST", "/login", do_login)) as client:
        resp = await client.post("/login", data={"login": "bob", "password": "s3cret"})
        assert resp.status == 200
    assert seen == {"login": "bob", "password": "s3cret", "again": True}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_post_reads_form_for_body_methods(method: str) -> None:
    async def probe(request: web.Request) -> Any:
        return dict(await request.post())

    assert await capture(method, "/", probe, data={"a": "1"}) == {"a": "1"}


async def test_post_is_empty_for_other_methods_and_content_types() -> None:
    async def probe(request: web.Request) -> Any:
        post = await request.post()
        return type(post), len(post)

    assert await capture("GET", "/", probe) == (MultiDictProxy, 0)
    assert await capture(
        "POST", "/", probe, data=b'{"a": 1}', headers={"Content-Type": "application/json"}
    ) == (MultiDictProxy, 0)


async def test_file_upload_with_post_gives_file_fields() -> None:
    """web_quickstart.rst "File Uploads": the store_mp3_handler example with post()."""
    seen: dict[str, Any] = {}

    async def store_mp3_handler(request: web.Request) -> web.Response:
        data = await request.post()
        mp3 = data["mp3"]
        assert isinstance(mp3, web.FileField)
        seen["filename"] = mp3.filename
        seen["name"] = mp3.name
        seen["content_type"] = mp3.content_type
        content = data["mp3"].file.read()
        return web.Response(body=content)

    form = FormData()
    form.add_field("mp3", b"ID3-bytes", filename="song.mp3", content_type="audio/mpeg")
    async with serve(app_with("POST", "/store/mp3", store_mp3_handler)) as client:
        resp = await client.post("/store/mp3", data=form)
        assert resp.status == 200 and await resp.read() == b"ID3-bytes"
    assert seen == {"filename": "song.mp3", "name": "mp3", "content_type": "audio/mpeg"}


async def test_file_upload_with_multipart_reader() -> None:
    """web_quickstart.rst "File Uploads": the store_mp3_handler example with multipart()."""
    seen: dict[str, Any] = {}

    async def store_mp3_handler(request: web.Request) -> web.Response:
        reader = await request.multipart()
        field = await reader.next()
        assert field is not None and field.name == "name"
        name = await field.read(decode=True)
        field = await reader.next()
        assert field is not None and field.name == "mp3"
        filename = field.filename
        size = 0
        chunks = []
        while True:
            chunk = await field.read_chunk()  # 8192 bytes by default.
            if not chunk:
                break
            size += len(chunk)
            chunks.append(chunk)
        seen["name"], seen["data"] = name, b"".join(chunks)
        return web.Response(text=f"{filename} sized of {size} successfully stored")

    payload = bytes(range(256)) * 100
    form = FormData()
    form.add_field("name", "my song")
    form.add_field("mp3", payload, filename="song.mp3")
    async with serve(app_with("POST", "/store/mp3", store_mp3_handler)) as client:
        resp = await client.post("/store/mp3", data=form)
        assert await resp.text() == f"song.mp3 sized of {len(payload)} successfully stored"
    assert seen == {"name": b"my song", "data": payload}


async def test_client_max_size_gives_413() -> None:
    """web_reference.rst Application(client_max_size): HTTPRequestEntityTooLarge."""

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="read")

    async def form_handler(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text="read")

    app = web.Application(client_max_size=10)
    app.router.add_post("/", handler)
    app.router.add_post("/form", form_handler)
    async with serve(app) as client:
        resp = await client.post("/", data=b"x" * 11)
        assert resp.status == 413
        resp = await client.post("/", data=b"x" * 10)
        assert resp.status == 200
        resp = await client.post("/form", data={"a": "x" * 20})
        assert resp.status == 413


def test_client_max_size_property_default() -> None:
    assert make_mocked_request("GET", "/").client_max_size == 1024**2


async def test_release_eats_the_unread_body() -> None:
    async def probe(request: web.Request) -> Any:
        await request.release()
        return request.can_read_body, await request.content.read()

    assert await capture("POST", "/", probe, data=b"x" * 1000) == (False, b"")


async def test_content_is_a_stream_reader_without_caching() -> None:
    """web_advanced.rst "Request Body Stream Consumption"."""

    async def probe(request: web.Request) -> Any:
        first = await request.content.read()
        second = await request.content.read()
        return first, second

    assert await capture("POST", "/", probe, data=b"payload") == (b"payload", b"")


# -- Request: routing, app, config_dict, dict-like --------------------------------------------


async def test_match_info_app_and_config_dict() -> None:
    key = web.AppKey("key", str)
    sub_key = web.AppKey("sub_key", str)
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["match_info"] = request.match_info
        seen["name"] = request.match_info["name"]
        seen["app"] = request.app
        seen["config"] = request.config_dict
        return web.Response()

    app = web.Application()
    app[key] = "parent"
    sub = web.Application()
    sub[sub_key] = "child"
    sub.router.add_get("/{name}", handler)
    app.add_subapp("/sub", sub)
    async with serve(app) as client:
        assert (await client.get("/sub/john")).status == 200
    assert isinstance(seen["match_info"], web.UrlMappingMatchInfo)
    assert seen["name"] == "john"
    assert seen["app"] is sub
    config = seen["config"]
    assert isinstance(config, ChainMapProxy)
    assert config[key] == "parent" and config[sub_key] == "child"


async def test_request_is_dict_like_for_sharing_data() -> None:
    """web_advanced.rst "Request's storage"."""

    async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        request["my_private_key"] = "data"
        return await handler(request)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=request["my_private_key"] + str(len(request)))

    app = web.Application(middlewares=[mw])
    app.router.add_get("/", handler)
    async with serve(app) as client:
        assert await (await client.get("/")).text() == "data1"


def test_base_request_is_a_mutable_mapping() -> None:
    req = make_mocked_request("GET", "/")
    req["a"] = 1
    assert dict(req) == {"a": 1} and "a" in req
    del req["a"]
    assert len(req) == 0


def test_mocked_request_example_from_testing_docs() -> None:
    def handler(request: web.Request) -> web.Response:
        assert request.headers.get("token") == "x"
        return web.Response(body=b"data")

    req = make_mocked_request("GET", "/", headers={"token": "x"})
    assert handler(req).body == b"data"
    req2 = make_mocked_request("GET", "/", headers=CIMultiDict(token="x"), match_info={"a": "b"})
    assert req2.match_info["a"] == "b"
