"""aiohyper.test_utils, client half: TestClient and AioHTTPTestCase against real servers."""

from __future__ import annotations

import asyncio
import unittest
from typing import Any

import pytest
from yarl import URL

from aiohyper.client._cookiejar import CookieJar
from aiohyper.client._session import ClientSession
from aiohyper.test_utils import AioHTTPTestCase, RawTestServer, TestClient, TestServer
from aiohyper.web._app import Application
from aiohyper.web._request import BaseRequest, Request
from aiohyper.web._response import Response, StreamResponse

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


async def hello(request: Request) -> Response:
    return Response(text="Hello, world")


async def set_cookie(request: Request) -> Response:
    resp = Response(text="set")
    resp.set_cookie("token", request.query.get("v", "abc"))
    return resp


async def echo_cookie(request: Request) -> Response:
    return Response(text=request.cookies.get("token", "<none>"))


async def echo_method(request: Request) -> Response:
    body = await request.read()
    return Response(text=f"{request.method} {body.decode()}", headers={"X-Method": request.method})


async def slow_body(request: Request) -> StreamResponse:
    resp = StreamResponse()
    await resp.prepare(request)
    await resp.write(b"first part")
    await asyncio.sleep(0.1)  # the client has the head, not the whole body
    await resp.write(b"second part")
    return resp


async def echo_header(request: Request) -> Response:
    return Response(text=request.headers.get("X-Test", "<none>"))


def make_app() -> Application:
    app = Application()
    app.router.add_get("/", hello)
    app.router.add_get("/set", set_cookie)
    app.router.add_get("/cookie", echo_cookie)
    app.router.add_route("*", "/method", echo_method)
    app.router.add_get("/header", echo_header)
    app.router.add_get("/slow", slow_body)
    return app


@pytest.fixture
async def client() -> Any:
    async with TestClient(TestServer(make_app())) as client:
        yield client


# -- requests ------------------------------------------------------------------------------


async def test_get_returns_the_handlers_response(client: TestClient[Request, Application]) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert await resp.text() == "Hello, world"


async def test_request_is_an_async_context_manager(
    client: TestClient[Request, Application],
) -> None:
    async with client.request("GET", "/") as resp:
        assert resp.status == 200
        assert "Hello" in await resp.text()
    assert resp.connection is None


@pytest.mark.parametrize("verb", VERBS)
async def test_every_verb_reaches_the_server(
    client: TestClient[Request, Application], verb: str
) -> None:
    method = getattr(client, verb.lower())
    kwargs = {"data": b"payload"} if verb in ("POST", "PUT", "PATCH") else {}
    resp = await method("/method", **kwargs)
    assert resp.status == 200
    assert resp.headers["X-Method"] == verb
    if verb == "HEAD":
        assert await resp.read() == b""
    else:
        assert await resp.text() == f"{verb} {kwargs.get('data', b'').decode()}"


@pytest.mark.parametrize("verb", VERBS)
async def test_request_with_any_verb(client: TestClient[Request, Application], verb: str) -> None:
    async with client.request(verb, "/method", data=b"x") as resp:
        assert resp.headers["X-Method"] == verb


async def test_cookies_persist_across_requests_to_an_ip_address(
    client: TestClient[Request, Application],
) -> None:
    assert client.host == "127.0.0.1"
    resp = await client.get("/cookie")
    assert await resp.text() == "<none>"
    resp = await client.get("/set", params={"v": "s3cret"})
    assert resp.status == 200
    resp = await client.get("/cookie")
    assert await resp.text() == "s3cret"


async def test_default_cookie_jar_is_unsafe(client: TestClient[Request, Application]) -> None:
    jar = client.session.cookie_jar
    assert isinstance(jar, CookieJar)
    jar.update_cookies({"a": "b"}, URL("http://127.0.0.1/"))
    assert len(jar) == 1


async def test_given_cookie_jar_is_used() -> None:
    jar = CookieJar()  # a safe jar drops cookies of IP addresses
    async with TestClient(TestServer(make_app()), cookie_jar=jar) as client:
        assert client.session.cookie_jar is jar
        await client.get("/set")
        resp = await client.get("/cookie")
        assert await resp.text() == "<none>"


async def test_extra_kwargs_go_to_the_session() -> None:
    async with TestClient(TestServer(make_app()), headers={"X-Test": "from-session"}) as client:
        resp = await client.get("/header")
        assert await resp.text() == "from-session"


# -- attributes and URLs -------------------------------------------------------------------


async def test_attributes_come_from_the_server() -> None:
    app = make_app()
    server = TestServer(app)
    client = TestClient(server)
    assert client.server is server
    assert client.app is app
    assert isinstance(client.session, ClientSession)
    await client.start_server()
    try:
        assert client.scheme == "http"
        assert client.host == "127.0.0.1"
        assert client.port == server.port != 0
    finally:
        await client.close()


async def test_make_url_is_absolute_on_the_server(
    client: TestClient[Request, Application],
) -> None:
    url = client.make_url("/path?q=1")
    assert url == URL(f"http://127.0.0.1:{client.port}/path?q=1")
    with pytest.raises(AssertionError):
        client.make_url("http://example.com/")


async def test_session_needs_absolute_urls(client: TestClient[Request, Application]) -> None:
    async with client.session.get(client.make_url("/")) as resp:
        assert await resp.text() == "Hello, world"


async def test_raw_server_client_has_no_app() -> None:
    async def handler(request: BaseRequest) -> Response:
        return Response(text=f"raw {request.path}")

    async with TestClient(RawTestServer(handler)) as client:
        assert client.app is None
        resp = await client.get("/x")
        assert await resp.text() == "raw /x"


async def test_application_is_refused() -> None:
    with pytest.raises(TypeError, match="TestServer"):
        TestClient(make_app())  # type: ignore[call-overload]


async def test_scheme_and_host_override_the_server_before_start() -> None:
    server = TestServer(make_app())
    client = TestClient(server, host="localhost")
    assert server.host == "localhost"
    await client.close()  # never started: closing is still fine
    started = TestServer(make_app())
    await started.start_server()
    try:
        with pytest.raises(ValueError, match="already started"):
            TestClient(started, host="127.0.0.2")
        TestClient(started, host="127.0.0.1")  # same value: accepted
    finally:
        await started.close()


async def test_start_server_twice_is_harmless() -> None:
    client = TestClient(TestServer(make_app()))
    await client.start_server()
    port = client.port
    await client.start_server()
    assert client.port == port
    await client.close()


# -- closing -------------------------------------------------------------------------------


async def test_close_releases_everything() -> None:
    client = TestClient(TestServer(make_app()))
    await client.start_server()
    unread = await client.get("/slow")
    assert unread.connection is not None  # body not read: the connection is still held
    await client.close()
    assert unread.closed
    assert unread.connection is None
    assert client.session.closed
    assert client.server.closed
    await client.close()  # a second close does nothing


async def test_async_with_closes_the_client() -> None:
    async with TestClient(TestServer(make_app())) as client:
        await client.get("/")
    assert client.session.closed
    assert client.server.closed


class _FakeWebSocket:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class _FakeSession:
    """Stands in for the session to check what ws_connect delegates and what close() closes."""

    def __init__(self, real: ClientSession) -> None:
        self.real = real
        self.calls: list[tuple[URL, dict[str, Any]]] = []
        self.sockets: list[_FakeWebSocket] = []

    async def ws_connect(self, url: URL, **kwargs: Any) -> _FakeWebSocket:
        self.calls.append((url, kwargs))
        ws = _FakeWebSocket()
        self.sockets.append(ws)
        return ws

    async def close(self) -> None:
        await self.real.close()


async def test_ws_connect_delegates_to_the_session_and_is_closed_at_close() -> None:
    client = TestClient(TestServer(make_app()))
    await client.start_server()
    fake = _FakeSession(client.session)
    client._session = fake  # type: ignore[assignment]
    ws = await client.ws_connect("/ws", heartbeat=5.0)
    assert fake.calls == [(client.make_url("/ws"), {"heartbeat": 5.0})]
    async with client.ws_connect("/ws2") as ws2:
        assert not ws2.closed
    assert ws2.closed
    assert not ws.closed
    await client.close()
    assert ws.closed
    assert fake.real.closed


async def test_ws_connect_against_a_websocket_handler() -> None:
    from aiohyper import web

    server_sockets: list[web.WebSocketResponse] = []

    async def handler(request: Request) -> Any:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        server_sockets.append(ws)
        async for msg in ws:
            await ws.send_str(f"echo {msg.data}")
        return ws

    app = Application()
    app.router.add_get("/ws", handler)
    async with TestClient(TestServer(app)) as client:
        ws = await client.ws_connect("/ws")
        await ws.send_str("hi")
        assert await ws.receive_str() == "echo hi"
        async with client.ws_connect("/ws") as ws2:
            await ws2.send_str("two")
            assert await ws2.receive_str() == "echo two"
        assert ws2.closed and not ws.closed
    # client.close() closed the first one with a complete closing handshake.
    assert ws.closed and ws.close_code == 1000
    assert [s.close_code for s in server_sockets] == [1000, 1000]


# -- AioHTTPTestCase -----------------------------------------------------------------------


class MyAppTestCase(AioHTTPTestCase):
    """The example of testing.rst, collected and run by pytest as a unittest case."""

    async def get_application(self) -> Application:
        async def hello(request: Request) -> Response:
            return Response(text="Hello, world")

        app = Application()
        app.router.add_get("/", hello)
        return app

    async def test_example(self) -> None:
        async with self.client.request("GET", "/") as resp:
            self.assertEqual(resp.status, 200)
            text = await resp.text()
        self.assertIn("Hello, world", text)

    async def test_attributes(self) -> None:
        self.assertIs(self.client.server, self.server)
        self.assertIs(self.server.app, self.app)
        self.assertIs(self.client.app, self.app)
        self.assertTrue(self.server.started)


def _run_case(case: unittest.TestCase) -> unittest.TestResult:
    result = unittest.TestResult()
    case.run(result)
    return result


def test_test_case_closes_client_and_server_after_each_test() -> None:
    seen: list[TestClient[Request, Application]] = []

    class Case(AioHTTPTestCase):
        async def get_application(self) -> Application:
            return make_app()

        async def test_one(self) -> None:
            seen.append(self.client)
            resp = await self.client.get("/cookie")
            self.assertEqual(await resp.text(), "<none>")

    result = _run_case(Case("test_one"))
    assert result.wasSuccessful(), result.errors + result.failures
    [client] = seen
    assert client.session.closed
    assert client.server.closed


def test_test_case_hooks_can_be_overridden() -> None:
    order: list[str] = []

    class Case(AioHTTPTestCase):
        async def get_application(self) -> Application:
            return make_app()

        async def get_server(self, app: Application) -> TestServer:
            order.append("server")
            return TestServer(app, host="127.0.0.1")

        async def get_client(self, server: TestServer) -> TestClient[Request, Application]:
            order.append("client")
            return TestClient(server, headers={"X-Test": "custom"})

        async def asyncSetUp(self) -> None:
            await super().asyncSetUp()
            order.append("setup")

        async def asyncTearDown(self) -> None:
            order.append("teardown")
            await super().asyncTearDown()

        async def test_one(self) -> None:
            resp = await self.client.get("/header")
            self.assertEqual(await resp.text(), "custom")
            order.append("test")

    result = _run_case(Case("test_one"))
    assert result.wasSuccessful(), result.errors + result.failures
    assert order == ["server", "client", "setup", "test", "teardown"]


def test_test_case_without_application_errors() -> None:
    class Case(AioHTTPTestCase):
        async def test_one(self) -> None:
            pass

    result = _run_case(Case("test_one"))
    assert len(result.errors) == 1
    assert "get_application" in result.errors[0][1]
