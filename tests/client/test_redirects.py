"""Redirects: methods and bodies per status, history, limits, origin changes, bad locations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from aiohyper import web
from aiohyper.client._cookiejar import CookieJar
from aiohyper.client._exceptions import (
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
    TooManyRedirects,
)
from aiohyper.client._redirects import method_after_redirect, resolve_location
from aiohyper.client._session import ClientSession
from aiohyper.helpers import BasicAuth
from aiohyper.test_utils import TestServer
from aiohyper.tracing import TraceConfig

Serve = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        srv = TestServer(app)
        await srv.start_server()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.close()


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path_qs": request.raw_path,
            "body": body.decode(),
            "headers": dict(request.headers),
        }
    )


async def redirect(request: web.Request) -> web.Response:
    """``/r/{status}?to=<location>``: redirects with that status (body read first)."""
    await request.read()
    status = int(request.match_info["status"])
    return web.Response(status=status, headers={"Location": request.query["to"]})


def redirect_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/r/{status}", redirect)
    app.router.add_route("*", "/echo{tail:.*}", echo)
    return app


@pytest.fixture
async def srv(serve: Serve) -> TestServer:
    return await serve(redirect_app())


def via(srv: TestServer, status: int, to: str) -> URL:
    return srv.make_url(f"/r/{status}").with_query(to=to)


class TestMethodAndBody:
    @pytest.mark.parametrize(
        ("status", "method", "expected_method", "body_kept"),
        [
            (301, "POST", "GET", False),
            (302, "POST", "GET", False),
            (303, "POST", "GET", False),
            (303, "PUT", "GET", False),
            (303, "DELETE", "GET", False),
            (301, "PUT", "PUT", True),
            (302, "PATCH", "PATCH", True),
            (307, "POST", "POST", True),
            (308, "POST", "POST", True),
            (307, "PUT", "PUT", True),
        ],
    )
    async def test_status_rules(
        self, srv: TestServer, status: int, method: str, expected_method: str, body_kept: bool
    ) -> None:
        async with (
            ClientSession() as session,
            session.request(method, via(srv, status, "/echo"), data=b"payload") as resp,
        ):
            assert resp.status == 200
            seen = await resp.json()
            assert seen["method"] == expected_method
            assert seen["body"] == ("payload" if body_kept else "")
            if not body_kept:
                assert "Content-Length" not in seen["headers"]
                assert "Content-Type" not in seen["headers"]
            assert resp.method == expected_method
            assert [r.status for r in resp.history] == [status]
            assert resp.history[0].method == method

    async def test_head_stays_head_on_303(self, srv: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.head(via(srv, 303, "/echo"), allow_redirects=True) as resp,
        ):
            assert resp.status == 200
            assert resp.method == "HEAD"

    async def test_get_on_301(self, srv: TestServer) -> None:
        async with ClientSession() as session, session.get(via(srv, 301, "/echo/x")) as resp:
            assert (await resp.json())["path_qs"] == "/echo/x"

    async def test_307_resends_form_and_file(self, srv: TestServer, tmp_path: Any) -> None:
        path = tmp_path / "upload.bin"
        path.write_bytes(b"file body")
        async with ClientSession() as session:
            with path.open("rb") as f:
                async with session.post(via(srv, 307, "/echo"), data=f) as resp:
                    assert (await resp.json())["body"] == "file body"
            async with session.post(via(srv, 308, "/echo"), data={"a": "1"}) as resp:
                assert (await resp.json())["body"] == "a=1"

    async def test_307_with_one_shot_body_is_not_followed(self, srv: TestServer) -> None:
        async def gen() -> AsyncIterator[bytes]:
            yield b"streamed"

        async with (
            ClientSession() as session,
            session.post(via(srv, 307, "/echo"), data=gen()) as resp,
        ):
            # The body cannot be produced again: the caller gets the redirect itself.
            assert resp.status == 307
            assert resp.history == ()


class TestHistoryAndLimits:
    async def test_chain_history(self, srv: TestServer) -> None:
        target = via(srv, 307, str(via(srv, 301, "/echo/end")))
        start = via(srv, 302, str(target))
        async with ClientSession() as session, session.get(start) as resp:
            assert resp.status == 200
            assert [r.status for r in resp.history] == [302, 307, 301]
            assert resp.history[0].url == start
            assert resp.url == srv.make_url("/echo/end")
            assert all(r.closed for r in resp.history)

    async def test_allow_redirects_false(self, srv: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.get(via(srv, 302, "/echo"), allow_redirects=False) as resp,
        ):
            assert resp.status == 302
            assert resp.headers["Location"] == "/echo"
            assert resp.history == ()

    async def test_head_not_followed_by_default(self, srv: TestServer) -> None:
        async with ClientSession() as session, session.head(via(srv, 302, "/echo")) as resp:
            assert resp.status == 302

    async def test_loop_raises_too_many_redirects(self, serve: Serve) -> None:
        async def loop_handler(request: web.Request) -> web.Response:
            raise web.HTTPFound("/loop")

        app = web.Application()
        app.router.add_get("/loop", loop_handler)
        server = await serve(app)
        async with ClientSession() as session:
            with pytest.raises(TooManyRedirects) as info:
                await session.get(server.make_url("/loop"), max_redirects=3)
        err = info.value
        assert len(err.history) == 4
        assert err.request_info.url == server.make_url("/loop")
        assert all(r.closed for r in err.history)

    async def test_max_redirects_is_allowed(self, srv: TestServer) -> None:
        url = via(srv, 302, str(via(srv, 302, "/echo")))
        async with ClientSession() as session:
            async with session.get(url, max_redirects=2) as resp:
                assert resp.status == 200
                assert len(resp.history) == 2
            with pytest.raises(TooManyRedirects):
                await session.get(url, max_redirects=1)

    async def test_redirect_without_location(self, serve: Serve) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=302, text="nowhere")

        app = web.Application()
        app.router.add_get("/", handler)
        server = await serve(app)
        async with ClientSession() as session, session.get(server.make_url("/")) as resp:
            assert resp.status == 302
            assert await resp.text() == "nowhere"
            assert resp.history == ()

    async def test_redirect_trace(self, srv: TestServer) -> None:
        statuses: list[int] = []

        async def on_redirect(session: Any, ctx: Any, params: Any) -> None:
            statuses.append(params.response.status)

        config = TraceConfig()
        config.on_request_redirect.append(on_redirect)
        async with (
            ClientSession(trace_configs=[config]) as session,
            session.get(via(srv, 308, "/echo")) as resp,
        ):
            await resp.read()
        assert statuses == [308]


class TestLocations:
    @pytest.mark.parametrize(
        ("location", "expected"),
        [
            ("/abs", "/abs"),
            ("../up", "/up"),
            ("sibling", "/dir/sibling"),
            ("?to=/final", "/final"),  # same path, new query: redirected once more
        ],
    )
    async def test_relative_location(self, serve: Serve, location: str, expected: str) -> None:
        async def page(request: web.Request) -> web.Response:
            raise web.HTTPFound(request.query["to"])

        async def anywhere(request: web.Request) -> web.Response:
            return web.Response(text=request.raw_path)

        app = web.Application()
        app.router.add_get("/dir/page", page)
        app.router.add_get("/{tail:.*}", anywhere)
        server = await serve(app)
        url = server.make_url("/dir/page").with_query(to=location)
        async with ClientSession() as session, session.get(url) as resp:
            assert await resp.text() == expected
            assert resp.url == server.make_url(expected)

    async def test_relative_location_followed(self, srv: TestServer) -> None:
        async with ClientSession() as session, session.get(via(srv, 302, "../echo/x?y=1")) as r:
            assert (await r.json())["path_qs"] == "/echo/x?y=1"

    async def test_scheme_relative_location(self, srv: TestServer) -> None:
        location = f"//127.0.0.1:{srv.port}/echo/s"
        async with ClientSession() as session, session.get(via(srv, 302, location)) as r:
            assert (await r.json())["path_qs"] == "/echo/s"

    @pytest.mark.parametrize("location", ["ftp://example.com/file", "javascript:alert(1)"])
    async def test_non_http_location(self, srv: TestServer, location: str) -> None:
        async with ClientSession() as session:
            with pytest.raises(NonHttpUrlRedirectClientError) as info:
                await session.get(via(srv, 302, location))
        assert isinstance(info.value, RedirectClientError)
        assert location in str(info.value)

    @pytest.mark.parametrize("location", ["http://[bad", "http:///no-host"])
    async def test_invalid_location(self, srv: TestServer, location: str) -> None:
        async with ClientSession() as session:
            with pytest.raises(InvalidUrlRedirectClientError):
                await session.get(via(srv, 302, location))

    async def test_requote_redirect_url(self, srv: TestServer) -> None:
        location = "/echo/%7Euser/a%2Fb"
        async with ClientSession() as session, session.get(via(srv, 302, location)) as resp:
            # requoted: unreserved characters are decoded, the encoded slash stays
            assert (await resp.json())["path_qs"] == "/echo/~user/a%2Fb"
        async with (
            ClientSession(requote_redirect_url=False) as session,
            session.get(via(srv, 302, location)) as resp,
        ):
            assert (await resp.json())["path_qs"] == location


class TestOriginChange:
    async def test_credentials_kept_on_same_origin(self, srv: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.get(
                via(srv, 302, "/echo"),
                auth=BasicAuth("u", "p"),
                headers={"Cookie": "c=1", "X-Keep": "1"},
            ) as resp,
        ):
            headers = (await resp.json())["headers"]
        assert headers["Authorization"] == BasicAuth("u", "p").encode()
        assert headers["Cookie"] == "c=1"
        assert headers["X-Keep"] == "1"

    async def test_credentials_stripped_on_origin_change(self, srv: TestServer) -> None:
        other = f"http://localhost:{srv.port}/echo"  # same server, another origin
        async with ClientSession(auth=BasicAuth("s", "s")) as session:
            async with session.get(
                via(srv, 302, other),
                headers={"Authorization": "Bearer secret", "X-Keep": "1"},
                cookies={"c": "1"},
            ) as resp:
                headers = (await resp.json())["headers"]
            assert "Authorization" not in headers
            assert "Cookie" not in headers
            assert headers["X-Keep"] == "1"
            async with session.get(via(srv, 302, other), auth=BasicAuth("u", "p")) as resp:
                headers = (await resp.json())["headers"]
            assert "Authorization" not in headers

    async def test_credentials_in_redirect_url(self, srv: TestServer) -> None:
        other = f"http://x:y@localhost:{srv.port}/echo"
        async with ClientSession() as session, session.get(via(srv, 302, other)) as resp:
            headers = (await resp.json())["headers"]
        assert headers["Authorization"] == BasicAuth("x", "y").encode()

    async def test_cookies_set_on_redirect_are_sent(self, serve: Serve) -> None:
        async def login(request: web.Request) -> web.Response:
            resp = web.HTTPFound("/echo")
            resp.set_cookie("session", "42")
            raise resp

        app = redirect_app()
        app.router.add_get("/login", login)
        server = await serve(app)
        async with (
            ClientSession(cookie_jar=CookieJar(unsafe=True)) as session,
            session.get(server.make_url("/login")) as resp,
        ):
            headers = (await resp.json())["headers"]
        assert headers["Cookie"] == "session=42"


async def test_connection_reused_across_redirects(serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        port = request.transport.get_extra_info("peername")[1]
        if request.path == "/a":
            return web.Response(status=302, headers={"Location": "/b", "X-Port": str(port)})
        return web.Response(text=str(port))

    app = web.Application()
    app.router.add_get("/{name}", handler)
    server = await serve(app)
    async with ClientSession() as session, session.get(server.make_url("/a")) as resp:
        assert await resp.text() == resp.history[0].headers["X-Port"]
    await asyncio.sleep(0)


class TestRules:
    @pytest.mark.parametrize(
        ("status", "method", "expected"),
        [
            (301, "POST", "GET"),
            (302, "POST", "GET"),
            (301, "GET", None),
            (302, "PUT", None),
            (303, "POST", "GET"),
            (303, "GET", "GET"),
            (303, "HEAD", None),
            (307, "POST", None),
            (308, "DELETE", None),
        ],
    )
    def test_method_after_redirect(self, status: int, method: str, expected: str | None) -> None:
        assert method_after_redirect(status, method) == expected

    def test_resolve_location(self) -> None:
        base = URL("http://example.com/a/b?q=1")
        assert resolve_location("c", base, requote=True) == URL("http://example.com/a/c")
        assert resolve_location("//other.org/x", base, requote=True) == URL("http://other.org/x")
        assert resolve_location("HTTPS://E.com/", base, requote=True) == URL("https://e.com/")
        kept = resolve_location("/%7E", base, requote=False)
        assert kept.raw_path == "/%7E"
        assert resolve_location("/%7E", base, requote=True).raw_path == "/~"
        with pytest.raises(NonHttpUrlRedirectClientError):
            resolve_location("mailto:x@example.com", base, requote=True)
        with pytest.raises(InvalidUrlRedirectClientError):
            resolve_location("http://", base, requote=True)
