"""Our client against uvicorn (a real ASGI server with its own HTTP/1.1 parser).

The app (``apps/echo_asgi.py``) reports what the server saw: method, headers, body hash,
client port. So each test checks the client from the server's side of a real socket: what went
on the wire, redirects, cookies, chunked bodies both ways, timeouts and connection reuse.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

import aiohyper as aiohttp

# Fixtures (conftest.py): peers, require_binary.

pytestmark = pytest.mark.timeout(20)


def _load_pattern() -> Any:
    # The app's own byte generator, so both ends agree on bodies without sending them twice.
    path = Path(__file__).parent / "apps" / "echo_asgi.py"
    spec = importlib.util.spec_from_file_location("_interop_echo_asgi", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pattern


pattern = _load_pattern()


@pytest.fixture(scope="module")
def origin(peers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the main uvicorn server."""
    pytest.importorskip("uvicorn")
    with peers.uvicorn("uvicorn-a", workdir=tmp_path_factory.mktemp("uvicorn-a")) as peer:
        yield peer.base_url


@pytest.fixture(scope="module")
def other_origin(peers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second uvicorn (another port: another origin) that closes idle connections after 1 s."""
    pytest.importorskip("uvicorn")
    workdir = tmp_path_factory.mktemp("uvicorn-b")
    with peers.uvicorn("uvicorn-b", workdir=workdir, keep_alive=1) as peer:
        yield peer.base_url


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session


def _header(echo: dict[str, Any], name: str) -> list[str]:
    """Every value the server received for header ``name`` (lower-case), in order."""
    return [value for key, value in echo["headers"] if key == name]


async def _echo(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = json.loads(await resp.read())
    return data


# --- echo: what goes on the wire -------------------------------------------------------------


async def test_get_sends_default_headers(origin: str, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{origin}/echo/a%20b", params={"q": "café", "n": "1"}) as resp:
        echo = await _echo(resp)
        assert resp.version == aiohttp.HttpVersion11
        assert resp.content_type == "application/json"
    assert echo["method"] == "GET"
    assert echo["path"] == "/echo/a b"
    assert echo["raw_path"] == "/echo/a%20b"
    assert echo["query"] == "q=caf%C3%A9&n=1"
    assert echo["http_version"] == "1.1"
    port = origin.rsplit(":", 1)[1]
    assert _header(echo, "host") == [f"127.0.0.1:{port}"]
    assert _header(echo, "accept") == ["*/*"]
    assert "gzip" in _header(echo, "accept-encoding")[0]
    assert _header(echo, "user-agent")[0].startswith("Python/")
    # A GET without a body sends neither a length nor chunked coding.
    assert _header(echo, "content-length") == []
    assert _header(echo, "transfer-encoding") == []
    assert echo["body_length"] == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_methods_and_bytes_body(
    origin: str, session: aiohttp.ClientSession, method: str
) -> None:
    body = pattern(10_000)
    async with session.request(method, f"{origin}/echo", data=body) as resp:
        echo = await _echo(resp)
    assert echo["method"] == method
    assert _header(echo, "content-length") == ["10000"]
    assert _header(echo, "content-type") == ["application/octet-stream"]
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_custom_headers_keep_order_and_repeats(
    origin: str, session: aiohttp.ClientSession
) -> None:
    headers = [("X-One", "1"), ("X-Multi", "a"), ("X-Multi", "b"), ("User-Agent", "interop/1")]
    async with session.get(f"{origin}/echo", headers=CIMultiDict(headers)) as r:
        echo = await _echo(r)
    assert _header(echo, "x-one") == ["1"]
    assert _header(echo, "x-multi") == ["a", "b"]
    assert _header(echo, "user-agent") == ["interop/1"]


async def test_json_and_form_bodies(origin: str, session: aiohttp.ClientSession) -> None:
    async with session.post(f"{origin}/echo", json={"k": ["v", 1]}) as resp:
        echo = await _echo(resp)
    assert _header(echo, "content-type") == ["application/json"]
    assert json.loads(echo["body"]) == {"k": ["v", 1]}

    async with session.post(f"{origin}/echo", data={"a": "1 2", "b": "é"}) as resp:
        echo = await _echo(resp)
    assert _header(echo, "content-type") == ["application/x-www-form-urlencoded"]
    assert echo["body"] == "a=1+2&b=%C3%A9"


async def test_expect_100_continue(origin: str, session: aiohttp.ClientSession) -> None:
    body = pattern(200_000)
    async with session.put(f"{origin}/echo", data=body, expect100=True) as resp:
        echo = await _echo(resp)
    assert _header(echo, "expect") == ["100-continue"]
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_http_1_0_request(origin: str) -> None:
    async with (
        aiohttp.ClientSession(version=aiohttp.HttpVersion10) as session,
        session.post(f"{origin}/echo", data=b"old") as resp,
    ):
        echo = await _echo(resp)
    assert echo["http_version"] == "1.0"
    assert echo["body"] == "old"


async def test_compressed_request_body(origin: str, session: aiohttp.ClientSession) -> None:
    body = b"compress me " * 1000
    async with session.post(f"{origin}/echo", data=body, compress="deflate") as resp:
        echo = await _echo(resp)
    assert _header(echo, "content-encoding") == ["deflate"]
    sent = echo["body"].encode("latin-1")
    assert len(sent) < len(body) // 10
    assert zlib.decompress(sent) == body


async def test_head_has_no_body_and_keeps_connection(
    origin: str, session: aiohttp.ClientSession
) -> None:
    async with session.head(f"{origin}/echo") as resp:
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) > 0
        assert await resp.read() == b""
    async with session.get(f"{origin}/whoami") as first:
        port = await first.text()
    async with session.head(f"{origin}/whoami") as resp:
        assert resp.status == 200
    async with session.get(f"{origin}/whoami") as again:
        assert await again.text() == port


async def test_status_codes_and_raise_for_status(
    origin: str, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{origin}/status/204") as resp:
        assert resp.status == 204
        assert await resp.read() == b""
    async with session.get(f"{origin}/status/418") as resp:
        assert resp.status == 418
        assert not resp.ok
        with pytest.raises(aiohttp.ClientResponseError) as info:
            resp.raise_for_status()
    assert info.value.status == 418
    assert str(info.value.request_info.url) == f"{origin}/status/418"


# --- redirects -------------------------------------------------------------------------------


async def test_redirect_chain_with_relative_locations(
    origin: str, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{origin}/chain/301-302-303-307-308") as resp:
        echo = await _echo(resp)
        assert [r.status for r in resp.history] == [301, 302, 303, 307, 308]
        assert [r.url.path for r in resp.history] == [
            "/chain/301-302-303-307-308",
            "/chain/302-303-307-308",
            "/chain/303-307-308",
            "/chain/307-308",
            "/chain/308",
        ]
        assert str(resp.url) == f"{origin}/echo"
    assert echo["method"] == "GET"
    assert echo["path"] == "/echo"


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_post_redirect_becomes_get_without_body(
    origin: str, session: aiohttp.ClientSession, status: int
) -> None:
    url = f"{origin}/redirect?status={status}&location=/echo"
    async with session.post(url, data=b"payload") as resp:
        echo = await _echo(resp)
    assert echo["method"] == "GET"
    assert echo["body_length"] == 0
    assert _header(echo, "content-length") == []


@pytest.mark.parametrize("status", [307, 308])
async def test_307_308_keep_method_and_body(
    origin: str, session: aiohttp.ClientSession, status: int
) -> None:
    url = f"{origin}/redirect?status={status}&location=/echo/kept"
    async with session.post(url, data=b"payload") as resp:
        echo = await _echo(resp)
        assert resp.history[0].status == status
    assert echo["method"] == "POST"
    assert echo["path"] == "/echo/kept"
    assert echo["body"] == "payload"


async def test_redirect_not_followed_when_disabled(
    origin: str, session: aiohttp.ClientSession
) -> None:
    url = f"{origin}/redirect?status=302&location=/echo"
    async with session.get(url, allow_redirects=False) as resp:
        assert resp.status == 302
        assert resp.headers["Location"] == "/echo"
        assert resp.history == ()


async def test_too_many_redirects(origin: str, session: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.TooManyRedirects) as info:
        await session.get(f"{origin}/loop", max_redirects=3)
    assert len(info.value.history) == 4  # the three followed plus the one that overflowed


async def test_redirect_to_non_http_scheme_is_refused(
    origin: str, session: aiohttp.ClientSession
) -> None:
    url = f"{origin}/redirect?status=302&location=ftp://127.0.0.1/file"
    with pytest.raises(aiohttp.NonHttpUrlRedirectClientError):
        await session.get(url)


async def test_cross_origin_redirect_drops_authorization(
    origin: str, other_origin: str, session: aiohttp.ClientSession
) -> None:
    auth = aiohttp.BasicAuth("user", "secret")
    # Same origin: the credentials follow.
    same = f"{origin}/redirect?status=302&location=/echo"
    async with session.get(same, auth=auth) as resp:
        echo = await _echo(resp)
    assert _header(echo, "authorization") == [auth.encode()]

    # Another port is another origin: neither `auth=` nor an explicit header may leak there.
    away = f"{origin}/redirect?status=302&location={other_origin}/echo"
    async with session.get(away, auth=auth) as resp:
        echo = await _echo(resp)
        assert resp.history[0].status == 302
        assert str(resp.url) == f"{other_origin}/echo"
    assert _header(echo, "authorization") == []
    async with session.get(away, headers={"Authorization": "Bearer t0ken"}) as resp:
        echo = await _echo(resp)
    assert _header(echo, "authorization") == []
    assert _header(echo, "host") == [other_origin.removeprefix("http://")]


# --- cookies ---------------------------------------------------------------------------------


async def test_cookies_stored_and_sent_back(origin: str) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # unsafe: the server is an IP address
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{origin}/cookies/set") as resp:
            assert resp.status == 200
            assert set(resp.cookies) >= {"plain", "attrs", "scoped", "sec"}
            assert resp.cookies["attrs"]["httponly"] is True
            assert resp.cookies["attrs"]["samesite"] == "Lax"
        stored = {cookie.key: cookie.coded_value for cookie in jar}
        assert stored == {
            "plain": "1",
            "attrs": "2",
            "scoped": "3",
            "sec": "4",
            "quoted": '"a b"',
            "nopath": "6",
        }

        async with session.get(f"{origin}/echo") as resp:
            echo = await _echo(resp)
        sent = _cookie_pairs(echo)
        # Not the path-scoped ones, not the Secure one over plain http, not the expired one.
        assert sent == {"plain": "1", "attrs": "2", "quoted": '"a b"'}

        async with session.get(f"{origin}/cookies/echo") as resp:
            echo = await _echo(resp)
        assert _cookie_pairs(echo) == {**sent, "nopath": "6"}

        async with session.get(f"{origin}/echo/scoped/page") as resp:
            echo = await _echo(resp)
        assert _cookie_pairs(echo) == {**sent, "scoped": "3"}

        async with session.get(f"{origin}/cookies/delete") as resp:
            assert resp.status == 200
        async with session.get(f"{origin}/echo") as resp:
            echo = await _echo(resp)
        assert "plain" not in _cookie_pairs(echo)


async def test_request_cookies_and_default_jar_ignores_ip_hosts(origin: str) -> None:
    async with aiohttp.ClientSession(cookies={"session_c": "s1"}) as session:
        async with session.get(f"{origin}/cookies/set") as resp:
            assert resp.status == 200
        # The default jar refuses cookies from an IP address (documented `unsafe=False`).
        assert len(session.cookie_jar) == 1
        async with session.get(f"{origin}/echo", cookies={"per_request": "r1"}) as resp:
            echo = await _echo(resp)
    assert _cookie_pairs(echo) == {"session_c": "s1", "per_request": "r1"}


def _cookie_pairs(echo: dict[str, Any]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for header in _header(echo, "cookie"):
        for item in header.split("; "):
            name, _, value = item.partition("=")
            pairs[name] = value
    return pairs


# --- chunked bodies, both ways ---------------------------------------------------------------


async def test_chunked_response(origin: str, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{origin}/chunked?chunks=40&size=1000") as resp:
        assert resp.status == 200
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in resp.headers
        pieces: list[bytes] = []
        chunk_ends = 0
        async for data, end_of_chunk in resp.content.iter_chunks():
            pieces.append(data)
            chunk_ends += end_of_chunk
    assert b"".join(pieces) == pattern(40_000)
    assert chunk_ends == 40


async def test_large_chunked_response_read_whole(
    origin: str, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{origin}/chunked?chunks=64&size=65536") as resp:
        body = await resp.read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(pattern(64 * 65536)).digest()


async def test_streaming_upload_from_async_generator(
    origin: str, session: aiohttp.ClientSession
) -> None:
    body = pattern(3 * 1024 * 1024)

    async def produce() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]
            await asyncio.sleep(0.001)

    async with session.post(f"{origin}/echo", data=produce()) as resp:
        echo = await _echo(resp)
    assert _header(echo, "transfer-encoding") == ["chunked"]
    assert _header(echo, "content-length") == []
    assert echo["body_length"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert echo["body_messages"] > 1  # it was streamed, not buffered into one message


async def test_upload_with_chunked_true(origin: str, session: aiohttp.ClientSession) -> None:
    async with session.put(f"{origin}/echo", data=b"x" * 5000, chunked=True) as resp:
        echo = await _echo(resp)
    assert _header(echo, "transfer-encoding") == ["chunked"]
    assert echo["body"] == "x" * 5000


# --- timeouts --------------------------------------------------------------------------------


async def test_sock_read_timeout_waiting_for_head(origin: str) -> None:
    timeout = aiohttp.ClientTimeout(sock_read=0.3)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(aiohttp.SocketTimeoutError) as info:
            await session.get(f"{origin}/slow?head=2")
        assert loop.time() - started < 1.5
    assert isinstance(info.value, aiohttp.ServerTimeoutError)
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_sock_read_timeout_inside_body(origin: str) -> None:
    timeout = aiohttp.ClientTimeout(sock_read=0.3)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(f"{origin}/slow?body=2") as resp,
    ):
        assert resp.status == 200
        with pytest.raises(aiohttp.ServerTimeoutError):
            await resp.read()


async def test_total_timeout_waiting_for_head(origin: str) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await session.get(f"{origin}/slow?head=2")
        assert loop.time() - started < 1.5


async def test_total_timeout_inside_body(origin: str) -> None:
    timeout = aiohttp.ClientTimeout(total=0.5)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(f"{origin}/slow?body=2") as resp,
    ):
        assert resp.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await resp.read()


async def test_per_request_timeout_overrides_session(
    origin: str, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await session.get(f"{origin}/slow?head=2", timeout=aiohttp.ClientTimeout(total=0.3))
    # The session (total=15) still works afterwards, and slow-but-in-time answers pass.
    async with session.get(f"{origin}/slow?head=0.2&body=0.2") as resp:
        assert await resp.read() == pattern(2000)


# --- connection reuse, seen by the server ----------------------------------------------------


async def _seen(origin: str, tag: str) -> list[int]:
    async with (
        aiohttp.ClientSession() as other,
        other.get(f"{origin}/seen", params={"tag": tag}) as resp,
    ):
        ports: list[int] = json.loads(await resp.read())
        return ports


async def test_sequential_requests_reuse_one_connection(origin: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            async with session.get(f"{origin}/whoami", params={"tag": "reuse"}) as resp:
                assert resp.status == 200
                await resp.read()
    seen = await _seen(origin, "reuse")
    assert len(seen) == 100
    assert len(set(seen)) == 1


async def test_force_close_opens_a_connection_per_request(origin: str) -> None:
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(100):
            async with session.get(f"{origin}/whoami", params={"tag": "close"}) as resp:
                assert resp.status == 200
                await resp.read()
    seen = await _seen(origin, "close")
    assert len(seen) == 100
    assert len(set(seen)) == 100


async def test_connector_limit_bounds_concurrent_connections(origin: str) -> None:
    connector = aiohttp.TCPConnector(limit=4)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            url = f"{origin}/whoami?tag=limit"
            async with session.get(url) as resp:
                await resp.read()
            async with session.get(f"{origin}/slow?head=0.05") as resp:
                await resp.read()

        await asyncio.gather(*(one() for _ in range(20)))
    seen = await _seen(origin, "limit")
    assert len(seen) == 20
    assert 1 < len(set(seen)) <= 4


async def test_connection_closed_by_idle_server_is_not_reused(
    other_origin: str, session: aiohttp.ClientSession
) -> None:
    # The second server closes idle connections after 1 s; the pooled one must be dropped.
    async with session.get(f"{other_origin}/whoami") as resp:
        first = await resp.text()
    await asyncio.sleep(1.6)
    async with session.get(f"{other_origin}/whoami") as resp:
        assert resp.status == 200
        second = await resp.text()
    assert second != first
