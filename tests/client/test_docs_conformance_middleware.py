# The tests keep the docs' nested ``async with session: / async with session.get():`` form.
# ruff: noqa: SIM117
"""Documentation conformance: client middlewares (client_middleware_cookbook.rst, the
``middlewares`` arguments and `ClientRequest` in client_reference.rst).

The cookbook's examples are run as written (with the external URLs replaced by a local
aiohyper.web server).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from yarl import URL

import aiohyper
from aiohyper import ClientHandlerType, ClientRequest, ClientResponse, web
from aiohyper.abc import AbstractResolver, ResolveResult
from aiohyper.test_utils import TestServer


class Api:
    """A local API: ``/data`` needs ``Authorization: Bearer <token>``, ``/refresh`` hands out
    tokens, ``/log`` records what it is sent, ``/flaky`` fails every other time."""

    def __init__(self) -> None:
        self.token = "t1"
        self.logged: list[str] = []
        self.refreshes = 0
        self.flaky_calls = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/data", self.data)
        self.app.router.add_post("/refresh", self.refresh)
        self.app.router.add_post("/log", self.log)
        self.app.router.add_get("/flaky", self.flaky)
        self.app.router.add_route("*", "/echo", self.echo)
        self.app.router.add_get("/redirect", self.redirect)

    async def data(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)
        return web.json_response({"ok": True})

    async def refresh(self, request: web.Request) -> web.Response:
        assert await request.text() == "refresh-secret"
        self.refreshes += 1
        self.token = f"t{self.refreshes + 1}"
        return web.json_response(
            {
                "access_token": self.token,
                "expires_at": time.time() + 3600,
                "auth": self.token,
                "valid_duration": 3600,
            }
        )

    async def log(self, request: web.Request) -> web.Response:
        self.logged.append(await request.text())
        return web.Response(text="logged")

    async def flaky(self, request: web.Request) -> web.Response:
        self.flaky_calls += 1
        if self.flaky_calls % 2:
            return web.Response(status=503)
        return web.Response(text="finally")

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        return web.json_response(
            {"headers": dict(request.headers), "body": body.decode("latin-1")}
        )

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/echo")


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, TestServer]]:
    api = Api()
    srv = TestServer(api.app)
    await srv.start_server()
    yield api, srv
    await srv.close()


# --- the cookbook's examples ----------------------------------------------------------------


async def retry_middleware(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    for _ in range(2):  # Try twice
        resp = await handler(req)
        if resp.ok:
            return resp
    return resp


async def api_logging_middleware(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    # We use middlewares=() to avoid infinite recursion.
    async with req.session.post("/log", data=req.url.host, middlewares=()) as resp:
        if not resp.ok:
            logging.warning("Log endpoint failed")

    return await handler(req)


class TokenRefresh401Middleware:
    def __init__(self, refresh_token: str, access_token: str, refresh_url: URL) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.refresh_url = refresh_url
        self.lock = asyncio.Lock()

    async def __call__(self, req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        for _ in range(2):  # Retry at most one time
            token = self.access_token
            req.headers["Authorization"] = f"Bearer {token}"
            resp = await handler(req)
            if resp.status != 401:
                return resp
            async with self.lock:
                if token != self.access_token:  # Already refreshed
                    continue
                url = self.refresh_url
                async with req.session.post(url, data=self.refresh_token) as resp:
                    # Add error handling as needed
                    data = await resp.json()
                    self.access_token = data["access_token"]
        return resp


class TokenRefreshExpiryMiddleware:
    def __init__(self, refresh_token: str, refresh_url: URL) -> None:
        self.access_token = ""
        self.expires_at = 0.0
        self.refresh_token = refresh_token
        self.refresh_url = refresh_url
        self.lock = asyncio.Lock()

    async def __call__(self, req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if self.expires_at <= time.time():
            token = self.access_token
            async with self.lock:
                if token == self.access_token:  # Still not refreshed
                    url = self.refresh_url
                    async with req.session.post(url, data=self.refresh_token) as resp:
                        # Add error handling as needed
                        data = await resp.json()
                        self.access_token = data["access_token"]
                        self.expires_at = data["expires_at"]

        req.headers["Authorization"] = f"Bearer {self.access_token}"
        return await handler(req)


class SSRFError(aiohyper.ClientError):
    pass


async def ssrf_middleware(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    # WARNING: simplified, as in the cookbook.
    if req.url.host in {"127.0.0.1", "localhost"}:
        raise SSRFError(req.url.host)
    return await handler(req)


class SSRFConnector(aiohyper.TCPConnector):
    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Any] | None = None
    ) -> list[ResolveResult]:
        res = await super()._resolve_host(host, port, traces)
        # WARNING: simplified, as in the cookbook.
        if any(r["host"] in {"127.0.0.1"} for r in res):
            raise SSRFError()
        return res


class LoopbackResolver(AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        pass


class TestCookbook:
    async def test_retry_middleware(self, api: tuple[Api, TestServer]) -> None:
        state, srv = api
        async with aiohyper.ClientSession(middlewares=(retry_middleware,)) as session:
            async with session.get(srv.make_url("/flaky")) as resp:
                assert resp.status == 200
                assert await resp.text() == "finally"
        assert state.flaky_calls == 2

    async def test_retry_middleware_resends_body(self, api: tuple[Api, TestServer]) -> None:
        calls = 0

        async def retry_twice(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            nonlocal calls
            for _ in range(2):
                calls += 1
                resp = await handler(req)
            return resp

        state, srv = api
        async with aiohyper.ClientSession(middlewares=(retry_twice,)) as session:
            async with session.post(srv.make_url("/echo"), data=b"payload") as resp:
                assert (await resp.json())["body"] == "payload"
        assert calls == 2
        assert [body for *_, body in state.requests] == [b"payload", b"payload"]

    async def test_api_logging_middleware(self, api: tuple[Api, TestServer]) -> None:
        state, srv = api
        async with (
            aiohyper.ClientSession(
                base_url=srv.make_url("/"), middlewares=(api_logging_middleware,)
            ) as session,
            session.get("/echo") as resp,
        ):
            assert resp.status == 200
        assert state.logged == ["127.0.0.1"]  # logged once: no recursion

    async def test_token_refresh_401(self, api: tuple[Api, TestServer]) -> None:
        state, srv = api
        middleware = TokenRefresh401Middleware("refresh-secret", "stale", srv.make_url("/refresh"))
        async with aiohyper.ClientSession(middlewares=(middleware,)) as session:
            async with session.get(srv.make_url("/data")) as resp:
                assert resp.status == 200
                assert await resp.json() == {"ok": True}
            async with session.get(srv.make_url("/data")) as resp:
                assert resp.status == 200
        assert state.refreshes == 1
        assert middleware.access_token == "t2"

    async def test_token_refresh_expiry(self, api: tuple[Api, TestServer]) -> None:
        state, srv = api
        state.token = "t2"  # what the first refresh hands out
        middleware = TokenRefreshExpiryMiddleware("refresh-secret", srv.make_url("/refresh"))
        # Per request: the refresh request inside the middleware must not take the lock again
        # (the cookbook's warning about requests made from within a middleware).
        async with aiohyper.ClientSession() as session:
            results = await asyncio.gather(
                *(self._status(session, srv.make_url("/data"), middleware) for _ in range(3))
            )
        assert results == [200, 200, 200]
        assert state.refreshes == 1

    @staticmethod
    async def _status(session: aiohyper.ClientSession, url: URL, middleware: Any) -> int:
        async with session.get(url, middlewares=(middleware,)) as resp:
            return resp.status

    async def test_token_refresh_preemptively(self, api: tuple[Api, TestServer]) -> None:
        """Background task setting ``session.headers["Authorization"]``."""
        state, srv = api

        async def set_token(session: aiohyper.ClientSession, event: asyncio.Event) -> None:
            while True:
                async with session.post("/refresh", data="refresh-secret") as resp:
                    token = await resp.json()
                    session.headers["Authorization"] = f"Bearer {token['auth']}"
                    event.set()
                    await asyncio.sleep(token["valid_duration"])

        @contextlib.asynccontextmanager
        async def auto_refresh_client() -> AsyncIterator[aiohyper.ClientSession]:
            async with aiohyper.ClientSession(base_url=srv.make_url("/")) as session:
                ready = asyncio.Event()
                t = asyncio.create_task(set_token(session, ready))
                await ready.wait()
                yield session
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t

        async with auto_refresh_client() as sess, sess.get("/data") as resp:
            assert resp.status == 200
        assert state.refreshes == 1

    async def test_ssrf_middleware(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        async with aiohyper.ClientSession(middlewares=(ssrf_middleware,)) as session:
            with pytest.raises(SSRFError):
                await session.get(srv.make_url("/echo"))

    async def test_ssrf_connector(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        async with aiohyper.ClientSession(connector=SSRFConnector()) as session:
            with pytest.raises(SSRFError):
                await session.get(srv.make_url("/echo"))
            with pytest.raises(SSRFError):
                await session.get(URL(f"http://localhost:{srv.port}/echo"))

    async def test_resolve_host_without_traces(self) -> None:
        """The cookbook's override passes ``traces=None`` on to the base method."""
        connector = aiohyper.TCPConnector(resolver=LoopbackResolver())
        try:
            (result,) = await connector._resolve_host("api.example", 80)
            assert result["host"] == "127.0.0.1"
            assert result["port"] == 80
        finally:
            await connector.close()
        async with SSRFConnector() as ssrf:
            with pytest.raises(SSRFError):
                await ssrf._resolve_host("127.0.0.1", 80)


# --- the middlewares arguments --------------------------------------------------------------


def tagging(tag: str, order: list[str]) -> Any:
    async def middleware(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        order.append(f"{tag}>")
        req.headers.add("X-Tags", tag)
        resp = await handler(req)
        order.append(f"<{tag}")
        return resp

    return middleware


class TestMiddlewareArguments:
    async def test_order_is_the_listed_one(self, api: tuple[Api, TestServer]) -> None:
        """Docs: "Middlewares execute in the order they're listed"."""
        state, srv = api
        order: list[str] = []
        middlewares = (tagging("a", order), tagging("b", order))
        async with aiohyper.ClientSession(middlewares=middlewares) as session:
            async with session.get(srv.make_url("/echo")) as resp:
                await resp.read()
        assert order == ["a>", "b>", "<b", "<a"]
        assert state.requests[0][2]["X-Tags"] == "a"

    async def test_request_middlewares_replace_session_ones(
        self, api: tuple[Api, TestServer]
    ) -> None:
        """``None`` (default) uses the session's; a sequence is used for this request only;
        ``()`` disables them."""
        _, srv = api
        order: list[str] = []
        async with aiohyper.ClientSession(middlewares=(tagging("s", order),)) as session:
            async with session.get(srv.make_url("/echo")) as resp:
                await resp.read()
            assert order == ["s>", "<s"]
            order.clear()
            async with session.get(srv.make_url("/echo"), middlewares=(tagging("r", order),)):
                pass
            assert order == ["r>", "<r"]
            order.clear()
            async with session.get(srv.make_url("/echo"), middlewares=()):
                pass
            assert order == []
            async with session.get(srv.make_url("/echo"), middlewares=None):
                pass
            assert order == ["s>", "<s"]

    async def test_middlewares_see_each_redirect(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        urls: list[URL] = []

        async def record(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            urls.append(req.url)
            return await handler(req)

        async with aiohyper.ClientSession(middlewares=(record,)) as session:
            async with session.get(srv.make_url("/redirect")) as resp:
                assert resp.status == 200
        assert urls == [srv.make_url("/redirect"), srv.make_url("/echo")]

    async def test_middleware_may_answer_without_handler(
        self, api: tuple[Api, TestServer]
    ) -> None:
        _, srv = api
        inner_calls = 0

        async def inner(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            nonlocal inner_calls
            inner_calls += 1
            return await handler(req)

        cached: dict[str, ClientResponse] = {}

        async def cache(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            key = str(req.url)
            if key not in cached:
                resp = await handler(req)
                await resp.read()
                cached[key] = resp
            return cached[key]

        async with aiohyper.ClientSession(middlewares=(cache, inner)) as session:
            for _ in range(2):
                async with session.get(srv.make_url("/echo")) as resp:
                    assert resp.status == 200
        assert inner_calls == 1

    async def test_client_request_attributes(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        seen: dict[str, Any] = {}

        async def inspect(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            seen.update(
                method=req.method,
                url=req.url,
                original_url=req.original_url,
                version=req.version,
                session=req.session,
                ssl=req.ssl,
                proxy=req.proxy,
                proxy_headers=req.proxy_headers,
                server_hostname=req.server_hostname,
                response_class=req.response_class,
                body=req.body,
                chunked=req.chunked,
                compress=req.compress,
                headers=req.headers,
            )
            return await handler(req)

        url = URL(str(srv.make_url("/echo")) + "#frag")
        async with aiohyper.ClientSession(middlewares=(inspect,)) as session:
            async with session.get(url) as resp:
                await resp.read()
        assert seen["method"] == "GET"
        assert seen["url"] == srv.make_url("/echo")  # "with the fragment part stripped"
        assert seen["original_url"] == url  # "including any fragment"
        assert seen["version"] == aiohyper.HttpVersion11
        assert seen["session"] is session
        assert seen["ssl"] is True
        assert seen["proxy"] is None
        assert seen["proxy_headers"] is None
        assert seen["server_hostname"] is None
        assert seen["response_class"] is aiohyper.ClientResponse
        assert seen["body"] == b""  # "defaults to b'' if no body passed"
        assert seen["chunked"] in (None, False)
        assert seen["compress"] is None
        assert "Host" in seen["headers"]

    async def test_is_ssl(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        seen: list[bool] = []

        async def inspect(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            seen.append(req.is_ssl())
            return await handler(req)

        async with aiohyper.ClientSession(middlewares=(inspect,)) as session:
            async with session.get(srv.make_url("/echo")):
                pass
        assert seen == [False]


class TestUpdateBody:
    async def send_with(self, srv: TestServer, new_body: Any, **kwargs: Any) -> dict[str, Any]:
        async def replace(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            await req.update_body(new_body)
            return await handler(req)

        async with aiohyper.ClientSession(middlewares=(replace,)) as session:
            async with session.post(srv.make_url("/echo"), **kwargs) as resp:
                result: dict[str, Any] = await resp.json()
                return result

    async def test_bytes(self, api: tuple[Api, TestServer]) -> None:
        """The reference's example: ``await request.update_body(b'{"modified": true}')``;
        "The Content-Length header will be updated automatically"."""
        _, srv = api
        result = await self.send_with(srv, b'{"modified": true}', data=b"original")
        assert result["body"] == '{"modified": true}'
        assert result["headers"]["Content-Length"] == str(len(b'{"modified": true}'))

    async def test_str_uses_content_type_charset(self, api: tuple[Api, TestServer]) -> None:
        """``str``: "Text data (encoded using charset from Content-Type)"."""
        _, srv = api
        result = await self.send_with(
            srv,
            "é",
            data=b"x",
            headers={"Content-Type": "text/plain; charset=latin-1"},
        )
        assert result["body"].encode("latin-1") == "é".encode("latin-1")
        assert result["headers"]["Content-Length"] == "1"

    async def test_formdata(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        form = aiohyper.FormData()
        form.add_field("auth_token", "secret123")
        result = await self.send_with(srv, form, data=b"x")
        assert result["body"] == "auth_token=secret123"
        assert result["headers"]["Content-Type"] == "application/x-www-form-urlencoded"

    async def test_async_iterable(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api

        async def gen() -> AsyncIterator[bytes]:
            yield b"a"
            yield b"b"

        result = await self.send_with(srv, gen(), data=b"x")
        assert result["body"] == "ab"
        assert "Content-Length" not in result["headers"]
        assert result["headers"]["Transfer-Encoding"] == "chunked"

    async def test_file_like(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        result = await self.send_with(srv, io.BytesIO(b"from a file"), data=b"x")
        assert result["body"] == "from a file"
        assert result["headers"]["Content-Length"] == "11"

    async def test_payload(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        payload = aiohyper.JsonPayload({"a": 1})
        result = await self.send_with(srv, payload, data=b"x")
        assert json.loads(result["body"]) == {"a": 1}

    async def test_none_clears(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        result = await self.send_with(srv, None, data=b"original")
        assert result["body"] == ""
        assert result["headers"].get("Content-Length", "0") == "0"

    async def test_body_attribute_after_update(self, api: tuple[Api, TestServer]) -> None:
        _, srv = api
        seen: list[Any] = []

        async def replace(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            await req.update_body(b"new")
            seen.append(req.body)
            return await handler(req)

        async with aiohyper.ClientSession(middlewares=(replace,)) as session:
            async with session.post(srv.make_url("/echo"), data=b"old") as resp:
                await resp.read()
        assert isinstance(seen[0], aiohyper.Payload)

    async def test_closes_previous_file_payload(
        self, api: tuple[Api, TestServer], tmp_path: Any
    ) -> None:
        """Docs: "Update the request body and close any existing payload"."""
        _, srv = api
        path = tmp_path / "body.bin"
        path.write_bytes(b"file body")
        with open(path, "rb") as f:
            await self.send_with(srv, b"replacement", data=f)
            assert f.closed
