# The tests keep the docs' nested ``async with session: / async with session.get():`` form.
# ruff: noqa: SIM117
"""Documentation conformance: the less common `ClientSession` / request options
(``read_bufsize``, ``max_line_size``, ``max_field_size``, ``trust_env``, ``requote_redirect_url``,
``params`` on redirects, ``Host`` generation, text bodies) and the redirect rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import aiohyper
from aiohyper import ClientHandlerType, ClientRequest, ClientResponse, web
from aiohyper.test_utils import TestServer


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "raw_path": request.raw_path,
            "headers": list(request.headers.items()),
            "body": body.decode("latin-1"),
        }
    )


async def redirect(request: web.Request) -> web.Response:
    await request.read()
    status = int(request.query.get("status", "302"))
    return web.Response(status=status, headers={"Location": request.query["to"]})


async def long_header(request: web.Request) -> web.Response:
    size = int(request.query["size"])
    return web.Response(text="ok", headers={"X-Long": "a" * size})


async def loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def big(request: web.Request) -> web.Response:
    return web.Response(body=b"b" * 300_000)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_get("/long-header", long_header)
    app.router.add_get("/big", big)
    app.router.add_get("/loop", loop)
    app.router.add_route("*", "/{tail:.*}", echo)
    srv = TestServer(app)
    await srv.start_server()
    yield srv
    await srv.close()


def headers_of(result: dict[str, Any]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in result["headers"])


class Captured(Exception):
    """Raised by `capture` once it has seen the request."""


async def capture_request(url: str | URL, **kwargs: Any) -> ClientRequest:
    """The `ClientRequest` a session builds for ``url`` (not sent)."""
    seen: list[ClientRequest] = []

    async def capture(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        seen.append(req)
        raise Captured

    async with aiohyper.ClientSession(middlewares=(capture,)) as session:
        with pytest.raises(Captured):
            await session.get(url, **kwargs)
    return seen[0]


class TestHost:
    @pytest.mark.parametrize(
        ("url", "host"),
        [
            ("http://example.com/", "example.com"),
            ("http://example.com:80/", "example.com"),
            ("https://example.com:443/", "example.com"),
            ("http://example.com:8080/", "example.com:8080"),
            ("https://example.com:80/", "example.com:80"),
            ("http://[::1]:8080/", "[::1]:8080"),
            ("http://пример.рф/", "xn--e1afmkfd.xn--p1ai"),
        ],
    )
    async def test_host_header(self, url: str, host: str) -> None:
        """The *host* part is IDNA-encoded (quickstart note on canonicalization); the default
        port is omitted."""
        req = await capture_request(url)
        assert req.headers["Host"] == host

    async def test_explicit_host_header_is_kept(self) -> None:
        req = await capture_request("http://example.com/", headers={"Host": "other.example"})
        assert req.headers.getall("Host") == ["other.example"]


class TestOptions:
    async def test_read_bufsize(self, server: TestServer) -> None:
        """``read_bufsize``: size of the read buffer of ``ClientResponse.content``, 64 KiB
        by default, per session or per request."""
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/big")) as resp:
                assert resp.content.get_read_buffer_limits()[0] == 2**16
        async with aiohyper.ClientSession(read_bufsize=1024) as session:
            async with session.get(server.make_url("/big")) as resp:
                assert resp.content.get_read_buffer_limits()[0] == 1024
                assert len(await resp.read()) == 300_000
            async with session.get(server.make_url("/big"), read_bufsize=4096) as resp:
                assert resp.content.get_read_buffer_limits()[0] == 4096

    async def test_max_field_size(self, server: TestServer) -> None:
        url = server.make_url("/long-header").with_query(size="9000")
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.ClientResponseError):
                await session.get(url)
            async with session.get(url, max_field_size=10_000) as resp:
                assert len(resp.headers["X-Long"]) == 9000
        async with aiohyper.ClientSession(max_field_size=10_000) as session:
            async with session.get(url) as resp:
                assert resp.status == 200
        async with aiohyper.ClientSession() as session:
            small = server.make_url("/long-header").with_query(size="200")
            with pytest.raises(aiohyper.ClientResponseError):
                await session.get(small, max_field_size=100)

    async def test_max_line_size(self, server: TestServer) -> None:
        async def long_reason(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 " + b"R" * 500 + b"\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        srv = await asyncio.start_server(long_reason, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/"
        try:
            async with aiohyper.ClientSession(max_line_size=100) as session:
                with pytest.raises(aiohyper.ClientResponseError):
                    await session.get(url)
            async with aiohyper.ClientSession() as session:
                with pytest.raises(aiohyper.ClientResponseError):
                    await session.get(url, max_line_size=100)
                async with session.get(url) as resp:
                    assert resp.reason == "R" * 500
        finally:
            srv.close()
            await srv.wait_closed()

    async def test_text_body_uses_given_charset(self, server: TestServer) -> None:
        async with (
            aiohyper.ClientSession() as session,
            session.post(
                server.make_url("/echo"),
                data="café",
                headers={"Content-Type": "text/plain; charset=latin-1"},
            ) as resp,
        ):
            result = await resp.json()
        assert result["body"] == "café"  # one byte per character: latin-1 on the wire
        assert headers_of(result)["Content-Type"] == "text/plain; charset=latin-1"

    async def test_trust_env_netrc(
        self, server: TestServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``trust_env``: "Get HTTP Basic Auth credentials from ~/.netrc file if present. If
        NETRC environment variable is set, read from file specified there"."""
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login user password pass\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        async with aiohyper.ClientSession(trust_env=True) as session:
            async with session.get(server.make_url("/echo")) as resp:
                sent = headers_of(await resp.json())
        assert sent["Authorization"] == aiohyper.BasicAuth("user", "pass").encode()
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/echo")) as resp:
                assert "Authorization" not in headers_of(await resp.json())

    async def test_trust_env_proxy(
        self, server: TestServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``trust_env``: "Trust environment settings for proxy configuration"."""
        seen: list[str] = []

        async def proxy(request: web.Request) -> web.Response:
            seen.append(str(request.url))
            seen.append(request.raw_path)
            return web.Response(text="via proxy")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", proxy)
        async with TestServer(app) as proxy_srv:
            monkeypatch.setenv("HTTP_PROXY", str(proxy_srv.make_url("/")))
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            async with aiohyper.ClientSession(trust_env=True) as session:
                async with session.get("http://origin.example/path?q=1") as resp:
                    assert await resp.text() == "via proxy"
        assert seen[1] == "http://origin.example/path?q=1"  # absolute-form request target

    async def test_explicit_proxy(self, server: TestServer) -> None:
        seen: list[tuple[str, str | None]] = []

        async def proxy(request: web.Request) -> web.Response:
            seen.append((request.raw_path, request.headers.get("Proxy-Authorization")))
            return web.Response(text="via proxy")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", proxy)
        async with TestServer(app) as proxy_srv, aiohyper.ClientSession() as session:
            async with session.get(
                "http://origin.example/p",
                proxy=proxy_srv.make_url("/"),
                proxy_auth=aiohyper.BasicAuth("pu", "pp"),
            ) as resp:
                assert await resp.text() == "via proxy"
        assert seen == [("http://origin.example/p", aiohyper.BasicAuth("pu", "pp").encode())]


class TestRedirects:
    async def test_params_ignored_for_redirected_requests(self, server: TestServer) -> None:
        """``params``: "Ignored for subsequent redirected requests"."""
        async with (
            aiohyper.ClientSession() as session,
            session.get(
                server.make_url("/redirect"), params={"to": "/echo?from=redirect"}
            ) as resp,
        ):
            result = await resp.json()
        assert result["raw_path"] == "/echo?from=redirect"

    @pytest.mark.parametrize(
        ("status", "method", "expected_method", "body_kept"),
        [
            (301, "POST", "GET", False),
            (302, "POST", "GET", False),
            (303, "POST", "GET", False),
            (303, "PUT", "GET", False),
            (307, "POST", "POST", True),
            (308, "PUT", "PUT", True),
            (302, "PUT", "PUT", True),
        ],
    )
    async def test_method_and_body(
        self,
        server: TestServer,
        status: int,
        method: str,
        expected_method: str,
        body_kept: bool,
    ) -> None:
        url = server.make_url("/redirect").with_query(status=str(status), to="/echo")
        async with aiohyper.ClientSession() as session:
            async with session.request(method, url, data=b"payload") as resp:
                result = await resp.json()
                assert resp.history[0].status == status
        assert result["method"] == expected_method
        assert result["body"] == ("payload" if body_kept else "")
        if not body_kept:
            assert "Content-Length" not in headers_of(result) or (
                headers_of(result)["Content-Length"] == "0"
            )

    async def test_authorization_dropped_on_other_origin(self, server: TestServer) -> None:
        other = str(server.make_url("/echo")).replace("127.0.0.1", "localhost")
        url = server.make_url("/redirect").with_query(to=other)
        async with aiohyper.ClientSession() as session:
            async with session.get(url, auth=aiohyper.BasicAuth("u", "p")) as resp:
                assert "Authorization" not in headers_of(await resp.json())
            same = server.make_url("/redirect").with_query(to="/echo")
            async with session.get(same, auth=aiohyper.BasicAuth("u", "p")) as resp:
                assert "Authorization" in headers_of(await resp.json())

    async def test_non_http_location(self, server: TestServer) -> None:
        url = server.make_url("/redirect").with_query(to="ftp://example.com/file")
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.NonHttpUrlRedirectClientError):
                await session.get(url)

    async def test_invalid_location(self, server: TestServer) -> None:
        url = server.make_url("/redirect").with_query(to="http://:80/x")
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.InvalidUrlRedirectClientError):
                await session.get(url)

    async def test_too_many_redirects(self, server: TestServer) -> None:
        loop_url = server.make_url("/loop")
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.TooManyRedirects) as info:
                await session.get(loop_url, max_redirects=3)
        err = info.value
        assert isinstance(err, aiohyper.ClientResponseError)
        assert err.request_info.url == loop_url
        assert len(err.history) >= 3
        assert all(r.status == 302 for r in err.history)

    async def test_default_max_redirects_is_ten(self, server: TestServer) -> None:
        loop_url = server.make_url("/loop")
        calls = 0

        async def count(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            nonlocal calls
            calls += 1
            return await handler(req)

        async with aiohyper.ClientSession(middlewares=(count,)) as session:
            with pytest.raises(aiohyper.TooManyRedirects):
                await session.get(loop_url)
        assert 10 <= calls <= 11

    async def test_requote_redirect_url(self) -> None:
        """``requote_redirect_url=False``: the Location is used exactly as received."""
        paths: list[str] = []

        async def handler(request: web.Request) -> web.Response:
            paths.append(request.raw_path)
            if request.path == "/start":
                return web.Response(status=302, headers={"Location": "/a%2Fb%7E"})
            return web.Response(text="done")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        async with TestServer(app) as srv:
            async with aiohyper.ClientSession(requote_redirect_url=False) as session:
                async with session.get(srv.make_url("/start")) as resp:
                    assert resp.status == 200
            async with aiohyper.ClientSession() as session:
                async with session.get(srv.make_url("/start")) as resp:
                    assert resp.status == 200
        assert paths[1] == "/a%2Fb%7E"
        assert paths[3] in ("/a%2Fb~", "/a%2Fb%7E")

    async def test_redirect_response_cookies_are_kept(self) -> None:
        async def start(request: web.Request) -> web.Response:
            resp = web.Response(status=302, headers={"Location": "/end"})
            resp.set_cookie("step", "1")
            return resp

        async def end(request: web.Request) -> web.Response:
            return web.Response(text=json.dumps(dict(request.cookies)))

        app = web.Application()
        app.router.add_get("/start", start)
        app.router.add_get("/end", end)
        async with TestServer(app) as srv:
            jar = aiohyper.CookieJar(unsafe=True)
            async with aiohyper.ClientSession(cookie_jar=jar) as session:
                async with session.get(srv.make_url("/start")) as resp:
                    assert json.loads(await resp.text()) == {"step": "1"}
                    assert resp.history[0].cookies["step"].value == "1"


_SHARED = URL()


class TestCustomCookieJar:
    async def test_abstract_cookie_jar_implementation(self, server: TestServer) -> None:
        """``cookie_jar``: "user may redefine this behavior by providing own jar
        implementation" of AbstractCookieJar."""
        from http.cookies import BaseCookie, Morsel, SimpleCookie

        from aiohyper.abc import AbstractCookieJar

        class RecordingJar(AbstractCookieJar):
            def __init__(self) -> None:
                super().__init__()
                self.updates: list[tuple[dict[str, str], URL]] = []
                self.filtered: list[URL] = []

            @property
            def quote_cookie(self) -> bool:
                return True

            def clear(self, predicate: Any = None) -> None:
                pass

            def clear_domain(self, domain: str) -> None:
                pass

            def update_cookies(self, cookies: Any, response_url: URL = _SHARED) -> None:
                items = cookies.items() if hasattr(cookies, "items") else cookies
                pairs = {k: (v.value if isinstance(v, Morsel) else str(v)) for k, v in items}
                self.updates.append((pairs, response_url))

            def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
                self.filtered.append(request_url)
                return SimpleCookie("from_jar=1")

            def __iter__(self) -> Any:
                return iter(())

            def __len__(self) -> int:
                return 0

        async def set_cookie(request: web.Request) -> web.Response:
            resp = web.Response(text=request.headers.get("Cookie", ""))
            resp.set_cookie("server", "v")
            return resp

        app = web.Application()
        app.router.add_get("/", set_cookie)
        jar = RecordingJar()
        async with TestServer(app) as srv:
            url = srv.make_url("/")
            async with aiohyper.ClientSession(cookie_jar=jar) as session:
                assert session.cookie_jar is jar
                async with session.get(url) as resp:
                    assert await resp.text() == "from_jar=1"
        assert jar.filtered == [url]
        assert jar.updates == [({"server": "v"}, url)]
