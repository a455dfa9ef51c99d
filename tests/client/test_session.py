"""`ClientSession` and the module-level `request()`, against real local servers."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper import web
from aiohyper.client._connector import TCPConnector
from aiohyper.client._cookiejar import CookieJar, DummyCookieJar
from aiohyper.client._exceptions import (
    ClientConnectorError,
    ClientResponseError,
    InvalidUrlClientError,
    NonHttpUrlClientError,
    ServerDisconnectedError,
)
from aiohyper.client._request import ClientRequest
from aiohyper.client._response import ClientResponse
from aiohyper.client._session import ClientSession, _RequestContextManager, request
from aiohyper.client._timeout import DEFAULT_TIMEOUT, ClientTimeout
from aiohyper.helpers import BasicAuth, HttpVersion10, HttpVersion11
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
    """Describes the request it got, as JSON."""
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path_qs": request.path_qs,
            "headers": {k: v for k, v in request.headers.items()},
            "cookies": dict(request.cookies),
            "body": body.decode("latin-1"),
            "version": f"{request.version.major}.{request.version.minor}",
        }
    )


@pytest.fixture
async def echo_server(serve: Serve) -> TestServer:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return await serve(app)


class TestVerbs:
    @pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "options"])
    async def test_verbs(self, echo_server: TestServer, verb: str) -> None:
        async with (
            ClientSession() as session,
            getattr(session, verb)(echo_server.make_url("/x")) as resp,
        ):
            assert resp.status == 200
            assert resp.method == verb.upper()
            assert (await resp.json())["method"] == verb.upper()

    async def test_head(self, echo_server: TestServer) -> None:
        async with ClientSession() as session, session.head(echo_server.make_url("/x")) as resp:
            assert resp.status == 200
            assert resp.method == "HEAD"
            assert await resp.read() == b""

    async def test_request_any_method(self, echo_server: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.request("propfind", echo_server.make_url("/x")) as resp,
        ):
            assert (await resp.json())["method"] == "PROPFIND"

    async def test_awaitable_and_context_manager(self, echo_server: TestServer) -> None:
        async with ClientSession() as session:
            ctx = session.get(echo_server.make_url("/"))
            assert isinstance(ctx, _RequestContextManager)
            resp = await ctx
            assert isinstance(resp, ClientResponse)
            await resp.read()
            resp.release()
            # also usable with asyncio helpers that take coroutines
            results = await asyncio.gather(
                session.get(echo_server.make_url("/a")), session.get(echo_server.make_url("/b"))
            )
            for r in results:
                assert r.status == 200
                r.release()


class TestArguments:
    async def test_params(self, echo_server: TestServer) -> None:
        async with ClientSession() as session:
            async with session.get(
                echo_server.make_url("/p?x=0"), params={"a": "1 2", "b": "é"}
            ) as resp:
                assert (await resp.json())["path_qs"] == "/p?x=0&a=1+2&b=%C3%A9"
                assert resp.url.query["b"] == "é"
            async with session.get(echo_server.make_url("/p"), params=[("k", 1), ("k", 2)]) as r:
                assert (await r.json())["path_qs"] == "/p?k=1&k=2"

    async def test_json(self, echo_server: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.post(echo_server.make_url("/"), json={"k": [1, "v"]}) as resp,
        ):
            seen = await resp.json()
            assert json.loads(seen["body"]) == {"k": [1, "v"]}
            assert seen["headers"]["Content-Type"] == "application/json"

    async def test_json_serialize(self, echo_server: TestServer) -> None:
        async with (
            ClientSession(json_serialize=lambda obj: "custom") as session,
            session.post(echo_server.make_url("/"), json={"k": 1}) as resp,
        ):
            assert (await resp.json())["body"] == "custom"
            assert session.json_serialize({}) == "custom"

    async def test_data_and_json_conflict(self) -> None:
        async with ClientSession() as session:
            with pytest.raises(ValueError, match="data and json"):
                await session.post("http://127.0.0.1:1/", data=b"x", json={})

    async def test_form_data(self, echo_server: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.post(echo_server.make_url("/"), data={"a": "1", "b": "x y"}) as resp,
        ):
            seen = await resp.json()
            assert seen["body"] == "a=1&b=x+y"
            assert seen["headers"]["Content-Type"] == "application/x-www-form-urlencoded"

    async def test_chunked_upload_from_async_generator(self, echo_server: TestServer) -> None:
        async def gen() -> AsyncIterator[bytes]:
            for i in range(5):
                await asyncio.sleep(0)
                yield f"part{i};".encode()

        async with (
            ClientSession() as session,
            session.put(echo_server.make_url("/"), data=gen()) as resp,
        ):
            seen = await resp.json()
            assert seen["body"] == "part0;part1;part2;part3;part4;"
            assert seen["headers"]["Transfer-Encoding"] == "chunked"

    async def test_default_and_request_headers(self, echo_server: TestServer) -> None:
        async with ClientSession(headers={"X-A": "session", "X-B": "session"}) as session:
            async with session.get(
                echo_server.make_url("/"), headers=[("x-b", "req1"), ("X-B", "req2")]
            ) as resp:
                seen = (await resp.json())["headers"]
            raw = resp.request_info.headers
            assert raw.getall("X-A") == ["session"]
            assert raw.getall("X-B") == ["req1", "req2"]
            assert seen["X-A"] == "session"
            assert session.headers["X-A"] == "session"

    async def test_skip_auto_headers(self, echo_server: TestServer) -> None:
        async with ClientSession(skip_auto_headers=["User-Agent"]) as session:
            async with session.get(echo_server.make_url("/")) as resp:
                seen = (await resp.json())["headers"]
            assert "User-Agent" not in seen
            async with session.get(
                echo_server.make_url("/"), skip_auto_headers=["Accept-Encoding"]
            ) as resp:
                seen = (await resp.json())["headers"]
            assert "User-Agent" not in seen and "Accept-Encoding" not in seen
            assert "User-Agent" in session.skip_auto_headers

    async def test_version(self, echo_server: TestServer) -> None:
        async with ClientSession(version=HttpVersion10) as session:
            assert session.version == HttpVersion10
            async with session.get(echo_server.make_url("/")) as resp:
                assert (await resp.json())["version"] == "1.0"

    async def test_base_url(self, echo_server: TestServer) -> None:
        base = echo_server.make_url("/api/v1/")
        async with ClientSession(base_url=base) as session:
            assert session.base_url == base
            async with session.get("items?x=1") as resp:
                assert (await resp.json())["path_qs"] == "/api/v1/items?x=1"
            async with session.get("/root") as resp:
                assert (await resp.json())["path_qs"] == "/root"
            async with session.get(echo_server.make_url("/absolute")) as resp:
                assert (await resp.json())["path_qs"] == "/absolute"

    def test_base_url_checks(self) -> None:
        with pytest.raises(ValueError, match="trailing"):
            ClientSession("http://example.com/api")
        with pytest.raises(ValueError, match="absolute"):
            ClientSession("/relative/")

    async def test_invalid_urls(self) -> None:
        async with ClientSession() as session:
            with pytest.raises(NonHttpUrlClientError):
                await session.get("ftp://example.com/")
            with pytest.raises(InvalidUrlClientError):
                await session.get("http:///no-host")
            with pytest.raises(InvalidUrlClientError):
                await session.get("http://[bad")

    async def test_connection_refused(self) -> None:
        async with ClientSession() as session:
            with pytest.raises(ClientConnectorError):
                await session.get("http://127.0.0.1:1/")

    async def test_auto_decompress(self, serve: Serve) -> None:
        async def handler(request: web.Request) -> web.Response:
            resp = web.Response(body=b"z" * 1000)
            resp.enable_compression(web.ContentCoding.gzip)
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        srv = await serve(app)
        async with ClientSession(auto_decompress=False) as session:
            assert not session.auto_decompress
            async with session.get(srv.make_url("/")) as resp:
                assert resp.headers["Content-Encoding"] == "gzip"
                assert (await resp.read())[:2] == b"\x1f\x8b"
            async with session.get(srv.make_url("/"), auto_decompress=True) as resp:
                assert await resp.read() == b"z" * 1000

    async def test_max_field_size(self, serve: Serve) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(headers={"X-Big": "v" * 500})

        app = web.Application()
        app.router.add_get("/", handler)
        srv = await serve(app)
        async with ClientSession() as session:
            async with session.get(srv.make_url("/")) as resp:
                assert len(resp.headers["X-Big"]) == 500
            with pytest.raises(ClientResponseError):
                await session.get(srv.make_url("/"), max_field_size=100)
        async with ClientSession(max_field_size=100) as session:
            with pytest.raises(ClientResponseError):
                await session.get(srv.make_url("/"))


class TestRaiseForStatus:
    @pytest.fixture
    async def status_server(self, serve: Serve) -> TestServer:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=int(request.match_info["code"]), text="body")

        app = web.Application()
        app.router.add_get("/{code}", handler)
        return await serve(app)

    async def test_off_by_default(self, status_server: TestServer) -> None:
        async with (
            ClientSession() as session,
            session.get(status_server.make_url("/500")) as resp,
        ):
            assert resp.status == 500

    async def test_session_level(self, status_server: TestServer) -> None:
        async with ClientSession(raise_for_status=True) as session:
            assert session.raise_for_status is True
            with pytest.raises(ClientResponseError) as info:
                await session.get(status_server.make_url("/404"))
            assert info.value.status == 404
            async with session.get(status_server.make_url("/200")) as resp:
                assert resp.status == 200
            async with session.get(status_server.make_url("/404"), raise_for_status=False) as r:
                assert r.status == 404

    async def test_request_level(self, status_server: TestServer) -> None:
        async with ClientSession() as session:
            with pytest.raises(ClientResponseError):
                async with session.get(status_server.make_url("/400"), raise_for_status=True):
                    pass

    async def test_callable(self, status_server: TestServer) -> None:
        seen: list[int] = []

        async def check(resp: ClientResponse) -> None:
            seen.append(resp.status)
            if resp.status == 418:
                raise RuntimeError("teapot")

        async with ClientSession(raise_for_status=check) as session:
            async with session.get(status_server.make_url("/200")) as resp:
                assert resp.status == 200
            with pytest.raises(RuntimeError, match="teapot"):
                await session.get(status_server.make_url("/418"))

        async def request_check(resp: ClientResponse) -> None:
            seen.append(-resp.status)

        async with (
            ClientSession(raise_for_status=True) as session,
            session.get(status_server.make_url("/500"), raise_for_status=request_check) as resp,
        ):
            assert resp.status == 500
        assert seen == [200, 418, -500]


class TestCookiesAndAuth:
    async def test_cookies_round_trip(self, serve: Serve) -> None:
        async def set_cookie(request: web.Request) -> web.Response:
            resp = web.Response(text="set")
            resp.set_cookie("token", "abc")
            resp.set_cookie("other", "x y")
            return resp

        app = web.Application()
        app.router.add_get("/set", set_cookie)
        app.router.add_get("/echo", echo)
        srv = await serve(app)
        # IP hosts only keep cookies with an unsafe jar (RFC 6265 is about domain names).
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
            async with session.get(srv.make_url("/set")) as resp:
                assert resp.cookies["token"].value == "abc"
            assert len(session.cookie_jar) == 2
            async with session.get(srv.make_url("/echo"), cookies={"extra": "1"}) as resp:
                seen = await resp.json()
            assert seen["headers"]["Cookie"] == 'token=abc; other="x y"; extra=1'
            assert seen["cookies"]["token"] == "abc"
            assert seen["cookies"]["extra"] == "1"
            # per-request cookies are not stored
            async with session.get(srv.make_url("/echo")) as resp:
                assert "extra" not in (await resp.json())["cookies"]

    async def test_session_cookies(self, echo_server: TestServer) -> None:
        async with (
            ClientSession(cookies={"s": "1"}) as session,
            session.get(echo_server.make_url("/")) as resp,
        ):
            assert (await resp.json())["cookies"] == {"s": "1"}

    async def test_dummy_cookie_jar(self, serve: Serve) -> None:
        async def set_cookie(request: web.Request) -> web.Response:
            resp = web.Response(text="set")
            resp.set_cookie("token", "abc")
            return resp

        app = web.Application()
        app.router.add_get("/", set_cookie)
        srv = await serve(app)
        jar = DummyCookieJar()
        async with ClientSession(cookie_jar=jar) as session:
            assert session.cookie_jar is jar
            async with session.get(srv.make_url("/")):
                pass
            assert len(jar) == 0

    async def test_basic_auth(self, echo_server: TestServer) -> None:
        async with ClientSession(auth=BasicAuth("u", "p")) as session:
            assert session.auth == BasicAuth("u", "p")
            async with session.get(echo_server.make_url("/")) as resp:
                assert (await resp.json())["headers"]["Authorization"] == "Basic dTpw"
            async with session.get(echo_server.make_url("/"), auth=BasicAuth("x", "y")) as resp:
                assert (await resp.json())["headers"]["Authorization"] == "Basic eDp5"

    async def test_auth_in_url(self, echo_server: TestServer) -> None:
        url = echo_server.make_url("/").with_user("u").with_password("p")
        async with ClientSession() as session, session.get(url) as resp:
            assert (await resp.json())["headers"]["Authorization"] == "Basic dTpw"
            assert resp.url.user is None

    async def test_auth_conflicts(self, echo_server: TestServer) -> None:
        url = echo_server.make_url("/").with_user("u").with_password("p")
        async with ClientSession() as session:
            with pytest.raises(ValueError, match="credentials encoded in URL"):
                await session.get(url, auth=BasicAuth("a", "b"))
            with pytest.raises(ValueError, match="AUTHORIZATION header"):
                await session.get(
                    echo_server.make_url("/"),
                    auth=BasicAuth("a", "b"),
                    headers={"Authorization": "Bearer x"},
                )

    async def test_base_url_auth_only_for_its_origin(self, echo_server: TestServer) -> None:
        base = echo_server.make_url("/")
        other = URL(str(base).replace("127.0.0.1", "localhost"))
        async with ClientSession(base_url=base, auth=BasicAuth("u", "p")) as session:
            async with session.get("x") as resp:
                assert "Authorization" in (await resp.json())["headers"]
            async with session.get(other) as resp:
                assert "Authorization" not in (await resp.json())["headers"]


class TestLifecycle:
    async def test_close(self) -> None:
        session = ClientSession()
        connector = session.connector
        assert connector is not None
        assert not session.closed
        await session.close()
        assert session.closed
        assert connector.closed
        await session.close()  # twice is fine
        with pytest.raises(RuntimeError, match="closed"):
            await session.get("http://127.0.0.1:1/")

    async def test_connector_not_owned(self) -> None:
        connector = TCPConnector()
        session = ClientSession(connector=connector, connector_owner=False)
        assert not session.connector_owner
        await session.close()
        assert session.closed
        assert not connector.closed
        await connector.close()

    async def test_detach(self) -> None:
        session = ClientSession()
        connector = session.connector
        assert connector is not None
        session.detach()
        assert session.closed
        assert session.connector is None
        assert not connector.closed
        await connector.close()

    async def test_closed_when_connector_closed(self) -> None:
        session = ClientSession()
        assert session.connector is not None
        await session.connector.close()
        assert session.closed

    async def test_context_manager(self) -> None:
        async with ClientSession() as session:
            assert not session.closed
        assert session.closed
        with pytest.raises(TypeError), session:  # type: ignore[attr-defined]
            pass

    async def test_unclosed_warning(self) -> None:
        loop = asyncio.get_running_loop()
        contexts: list[dict[str, Any]] = []
        old = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
        try:
            session = ClientSession()
            with pytest.warns(ResourceWarning, match="Unclosed client session"):
                del session
                gc.collect()
        finally:
            loop.set_exception_handler(old)
        assert contexts and contexts[0]["message"] == "Unclosed client session"

    async def test_properties(self) -> None:
        trace_config = TraceConfig()
        jar = CookieJar()

        async def mw(req: ClientRequest, handler: Any) -> ClientResponse:
            return await handler(req)  # type: ignore[no-any-return]

        async with ClientSession(
            cookie_jar=jar,
            timeout=ClientTimeout(total=7),
            trust_env=True,
            trace_configs=[trace_config],
            middlewares=(mw,),
            requote_redirect_url=False,
            raise_for_status=False,
        ) as session:
            assert session.cookie_jar is jar
            assert session.timeout == ClientTimeout(total=7)
            assert session.trust_env
            assert session.trace_configs == [trace_config]
            assert trace_config.frozen
            assert session.middlewares == (mw,)
            assert session.requote_redirect_url is False
            with pytest.warns(DeprecationWarning):
                session.requote_redirect_url = True
            assert session.requote_redirect_url
            with pytest.warns(DeprecationWarning):
                assert session.loop is asyncio.get_running_loop()
            assert session.version == HttpVersion11
            assert isinstance(session.headers, CIMultiDict)
            assert session.connector_owner

    async def test_default_timeout(self) -> None:
        async with ClientSession() as session:
            assert session.timeout is DEFAULT_TIMEOUT
            assert session.timeout.total == 300
            assert session.timeout.sock_connect == 30

    async def test_subclassing_discouraged(self) -> None:
        with pytest.warns(DeprecationWarning, match="discouraged"):

            class MySession(ClientSession):
                pass


class TestConnectionReuse:
    async def test_context_manager_releases_connection(self, serve: Serve) -> None:
        async def handler(request: web.Request) -> web.Response:
            assert request.transport is not None
            port = request.transport.get_extra_info("peername")[1]
            return web.Response(text=str(port))

        app = web.Application()
        app.router.add_get("/", handler)
        srv = await serve(app)
        ports = set()
        async with ClientSession() as session:
            for _ in range(4):
                async with session.get(srv.make_url("/")) as resp:
                    ports.add(await resp.text())
        assert len(ports) == 1

    async def test_retry_on_stale_connection(self) -> None:
        """A pooled connection the server closed without a word is retried once (GET),
        never for POST."""
        connections = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            first = connections == 1
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                if first:
                    # Drop the next request on this keep-alive connection.
                    await reader.readuntil(b"\r\n\r\n")
                    writer.transport.abort()
                    return
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        try:
            async with ClientSession() as session:
                for _ in range(2):
                    async with session.get(url) as resp:
                        assert await resp.text() == "ok"
                assert connections == 2
            connections = 0
            async with ClientSession() as session:
                async with session.post(url) as resp:
                    assert await resp.text() == "ok"
                with pytest.raises((ServerDisconnectedError, ClientConnectorError, OSError)):
                    await session.post(url)
        finally:
            server.close()
            await server.wait_closed()


class TestTracing:
    async def test_request_lifecycle_signals(self, serve: Serve) -> None:
        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound("/final")

        async def final(request: web.Request) -> web.Response:
            return web.Response(text="done")

        app = web.Application()
        app.router.add_get("/start", redirect)
        app.router.add_get("/final", final)
        srv = await serve(app)
        events: list[Any] = []

        def record(name: str) -> Any:
            async def handler(session: Any, ctx: Any, params: Any) -> None:
                events.append((name, ctx.trace_request_ctx, str(getattr(params, "url", ""))))

            return handler

        config = TraceConfig()
        for name in (
            "on_request_start",
            "on_request_redirect",
            "on_request_end",
            "on_request_exception",
            "on_response_chunk_received",
        ):
            getattr(config, name).append(record(name))
        async with ClientSession(trace_configs=[config]) as session:
            async with session.get(srv.make_url("/start"), trace_request_ctx="ctx") as resp:
                assert await resp.text() == "done"
            with pytest.raises(ClientConnectorError):
                await session.get("http://127.0.0.1:1/", trace_request_ctx="fail")
        start, final_url = str(srv.make_url("/start")), str(srv.make_url("/final"))
        assert events == [
            ("on_request_start", "ctx", start),
            ("on_request_redirect", "ctx", start),
            ("on_request_end", "ctx", final_url),
            ("on_response_chunk_received", "ctx", final_url),
            ("on_request_start", "fail", "http://127.0.0.1:1/"),
            ("on_request_exception", "fail", "http://127.0.0.1:1/"),
        ]


class TestModuleRequest:
    async def test_request(self, echo_server: TestServer) -> None:
        async with request("GET", echo_server.make_url("/m"), params={"a": "1"}) as resp:
            assert resp.status == 200
            seen = await resp.json()
        assert seen["path_qs"] == "/m?a=1"
        assert resp.closed

    async def test_request_with_connector(self, echo_server: TestServer) -> None:
        connector = TCPConnector()
        async with request("POST", echo_server.make_url("/"), data=b"x", connector=connector) as r:
            assert (await r.json())["body"] == "x"
        assert not connector.closed  # not owned
        await connector.close()

    async def test_request_error_closes_session(self) -> None:
        with pytest.raises(ClientConnectorError):
            async with request("GET", "http://127.0.0.1:1/"):
                pass
