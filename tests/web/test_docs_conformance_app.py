"""Documented behaviour of ``Application`` and what hangs off it (web_reference.rst,
"Application and Router"; web_advanced.rst: data sharing, middlewares, signals, cleanup
contexts, nested applications, Expect header, graceful shutdown, contextvars; abc.rst:
pluggable routers). Guide examples run as written, adapted to ``from aiohyper import web``."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from aiosignal import Signal
from yarl import URL

import aiohyper
from aiohyper import web
from aiohyper.abc import AbstractMatchInfo, AbstractRouter
from aiohyper.test_utils import TestClient, TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(app, **kwargs)) as client:
        yield client


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello")


# -- Application basics ---------------------------------------------------------------------


def test_application_defaults() -> None:
    app = web.Application()
    assert isinstance(app.router, web.UrlDispatcher)
    assert app.logger is logging.getLogger(app.logger.name)
    assert app.logger.name.endswith(".web")
    for signal in (app.on_response_prepare, app.on_startup, app.on_shutdown, app.on_cleanup):
        assert isinstance(signal, Signal)
    assert list(app.cleanup_ctx) == []
    assert app.frozen is False
    with pytest.raises(AttributeError):
        app.router = web.UrlDispatcher()  # type: ignore[misc]


def test_application_keywords() -> None:
    logger = logging.getLogger("my.app")

    async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    app = web.Application(
        logger=logger, middlewares=[mw], handler_args={"max_line_size": 100}, client_max_size=10
    )
    assert app.logger is logger
    assert list(app.middlewares) == [mw]
    with pytest.warns(DeprecationWarning):
        web.Application(debug=True)


def test_application_debug_is_deprecated() -> None:
    app = web.Application()
    with pytest.warns(DeprecationWarning):
        assert app.debug is False


def test_app_key_and_dict_interface() -> None:
    """web_reference.rst Application example, with AppKey."""
    database = web.AppKey("database", str)
    app = web.Application()
    app[database] = "engine"
    assert app[database] == "engine" and database in app and len(app) == 1
    assert app.get(database) == "engine"
    assert list(app) == [database]
    del app[database]
    assert database not in app
    # Plain str keys still work, with a warning recommending AppKey.
    with pytest.warns(UserWarning, match="AppKey"):
        app["my_private_key"] = "data"
    assert app["my_private_key"] == "data"
    # Not duplicable like a dict.
    with pytest.raises((AttributeError, NotImplementedError, TypeError)):
        app.copy()  # type: ignore[attr-defined]


def test_app_key_name_and_type() -> None:
    key = web.AppKey("name", int)
    assert "name" in repr(key) and "int" in repr(key)
    assert web.AppKey("name", int) != key  # keys never clash


def test_subclassing_application_is_discouraged() -> None:
    with pytest.warns(DeprecationWarning):

        class MyApp(web.Application):
            pass


async def test_data_sharing_example() -> None:
    """web_advanced.rst "Application's config"."""
    my_private_key = web.AppKey("my_private_key", str)
    app = web.Application()
    app[my_private_key] = "data"

    async def handler(request: web.Request) -> web.Response:
        data = request.app[my_private_key]
        return web.Response(text=data + request.config_dict[my_private_key])

    app.router.add_get("/", handler)
    async with serve(app) as client:
        assert await (await client.get("/")).text() == "datadata"


def test_add_routes_returns_registered_routes() -> None:
    app = web.Application()
    routes = app.add_routes([web.get("/", hello), web.post("/post", hello)])
    assert [route.method for route in routes] == ["GET", "POST"]
    assert all(isinstance(route, web.AbstractRoute) for route in routes)


# -- middlewares (web_advanced.rst "Middlewares") --------------------------------------------


async def test_middlewares_execution_order_example() -> None:
    printed: list[str] = []

    async def test(request: web.Request) -> web.Response:
        printed.append("Handler function called")
        return web.Response(text="Hello")

    async def middleware1(request: web.Request, handler: Handler) -> web.StreamResponse:
        printed.append("Middleware 1 called")
        response = await handler(request)
        printed.append("Middleware 1 finished")
        return response

    async def middleware2(request: web.Request, handler: Handler) -> web.StreamResponse:
        printed.append("Middleware 2 called")
        response = await handler(request)
        printed.append("Middleware 2 finished")
        return response

    app = web.Application(middlewares=[middleware1, middleware2])
    app.router.add_get("/", test)
    async with serve(app) as client:
        assert await (await client.get("/")).text() == "Hello"
    assert printed == [
        "Middleware 1 called",
        "Middleware 2 called",
        "Handler function called",
        "Middleware 2 finished",
        "Middleware 1 finished",
    ]


async def test_wink_middleware_and_middleware_factory() -> None:
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resp = await handler(request)
        assert isinstance(resp, web.Response)
        resp.text = (resp.text or "") + " wink"
        return resp

    def middleware_factory(text: str) -> Any:
        async def sample_middleware(request: web.Request, handler: Handler) -> Any:
            resp = await handler(request)
            resp.text = resp.text + text
            return resp

        return sample_middleware

    app = web.Application(middlewares=[middleware_factory(" blink"), middleware])
    app.router.add_get("/", hello)
    async with serve(app) as client:
        assert await (await client.get("/")).text() == "Hello wink blink"


async def test_decorated_middleware_still_works() -> None:
    @web.middleware
    async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        resp = await handler(request)
        resp.headers["X-MW"] = "1"
        return resp

    app = web.Application(middlewares=[mw])
    app.router.add_get("/", hello)
    async with serve(app) as client:
        assert (await client.get("/")).headers["X-MW"] == "1"


async def test_error_middleware_example_renders_404_as_json() -> None:
    async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
            if response.status != 404:
                return response
            message = response.reason
        except web.HTTPException as ex:
            if ex.status != 404:
                raise
            message = ex.reason
        return web.json_response({"error": message})

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/", hello)
    async with serve(app) as client:
        resp = await client.get("/missing")
        assert resp.status == 200 and await resp.json() == {"error": "Not Found"}
        assert await (await client.get("/")).text() == "Hello"


async def test_middleware_may_skip_handler_and_raise_http_exception() -> None:
    async def forbid(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/secret":
            raise web.HTTPForbidden()
        return await handler(request)

    app = web.Application(middlewares=[forbid])
    app.router.add_get("/secret", hello)
    async with serve(app) as client:
        resp = await client.get("/secret")
        assert resp.status == 403 and await resp.text() == "403: Forbidden"


async def test_non_http_exception_from_middleware_chain_is_500() -> None:
    async def broken(request: web.Request, handler: Handler) -> web.StreamResponse:
        await handler(request)
        raise ValueError("boom")

    app = web.Application(middlewares=[broken])
    app.router.add_get("/", hello)
    logging.getLogger("aiohyper.server").disabled = True
    try:
        async with serve(app) as client:
            assert (await client.get("/")).status == 500
    finally:
        logging.getLogger("aiohyper.server").disabled = False


async def test_body_read_in_middleware_is_cached_for_handler() -> None:
    """web_advanced.rst "Request Body Stream Consumption"."""
    logged: list[str] = []

    async def logging_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.text()
        logged.append(body)
        return await handler(request)

    async def handler(request: web.Request) -> web.Response:
        body = await request.text()
        return web.Response(text=f"Received: {body}")

    app = web.Application(middlewares=[logging_middleware])
    app.router.add_post("/", handler)
    async with serve(app) as client:
        assert await (await client.post("/", data=b"abc")).text() == "Received: abc"
    assert logged == ["abc"]


async def test_stream_parsing_middleware_example() -> None:
    async def stream_parsing_middleware(
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        raw_data = await request.content.read()
        request["raw_body"] = raw_data
        return await handler(request)

    async def handler(request: web.Request) -> web.Response:
        assert await request.content.read() == b""
        raw_data = request.get("raw_body", b"")
        return web.Response(body=raw_data)

    app = web.Application(middlewares=[stream_parsing_middleware])
    app.router.add_post("/", handler)
    async with serve(app) as client:
        assert await (await client.post("/", data=b"raw")).read() == b"raw"


# -- signals and cleanup contexts ---------------------------------------------------------------


async def test_signal_order_and_cleanup_ctx() -> None:
    events: list[str] = []

    async def on_startup(app: web.Application) -> None:
        events.append("startup")

    async def on_shutdown(app: web.Application) -> None:
        events.append("shutdown")

    async def on_cleanup(app: web.Application) -> None:
        events.append("cleanup")

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        events.append("ctx-start")
        yield
        events.append("ctx-end")

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    app.cleanup_ctx.append(ctx)
    runner = web.AppRunner(app)
    await runner.setup()
    assert events == ["ctx-start", "startup"]
    await runner.cleanup()
    assert events == ["ctx-start", "startup", "shutdown", "ctx-end", "cleanup"]


async def test_cleanup_ctx_only_cleans_up_what_started() -> None:
    """web_advanced.rst "Cleanup Context": cleanup code runs iff its startup code finished."""
    events: list[str] = []

    async def pg(app: web.Application) -> AsyncIterator[None]:
        events.append("pg up")
        yield
        events.append("pg down")

    async def redis(app: web.Application) -> AsyncIterator[None]:
        raise RuntimeError("redis is down")
        yield  # pragma: no cover

    async def never(app: web.Application) -> AsyncIterator[None]:
        events.append("never up")  # pragma: no cover
        yield  # pragma: no cover
        events.append("never down")  # pragma: no cover

    app = web.Application()
    app.cleanup_ctx.extend([pg, redis, never])
    with pytest.raises(RuntimeError, match="redis is down"):
        await app.startup()
    await app.cleanup()
    assert events == ["pg up", "pg down"]


async def test_signal_handlers_run_sequentially_in_order_added() -> None:
    events: list[int] = []

    def make(n: int) -> Callable[[web.Application], Awaitable[None]]:
        async def handler(app: web.Application) -> None:
            await asyncio.sleep(0.01 * (3 - n))
            events.append(n)

        return handler

    app = web.Application()
    for n in range(3):
        app.on_startup.append(make(n))
    await app.startup()
    assert events == [0, 1, 2]


async def test_startup_shutdown_cleanup_methods_send_signals() -> None:
    events: list[tuple[str, Any]] = []
    app = web.Application()
    for name in ("on_startup", "on_shutdown", "on_cleanup"):

        async def handler(a: web.Application, name: str = name) -> None:
            events.append((name, a))

        getattr(app, name).append(handler)
    app.freeze()  # as a runner does before starting the application
    await app.startup()
    await app.shutdown()
    await app.cleanup()
    assert events == [("on_startup", app), ("on_shutdown", app), ("on_cleanup", app)]


async def test_background_task_cleanup_ctx_example() -> None:
    """web_advanced.rst "Background tasks"."""
    ticks: list[int] = []
    listener = web.AppKey("listener", asyncio.Task)

    async def listen(app: web.Application) -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.01)

    async def background_tasks(app: web.Application) -> AsyncIterator[None]:
        app[listener] = asyncio.create_task(listen(app))
        yield
        app[listener].cancel()
        with pytest.raises(asyncio.CancelledError):
            await app[listener]

    app = web.Application()
    app.cleanup_ctx.append(background_tasks)
    app.router.add_get("/", hello)
    async with serve(app) as client:
        await asyncio.sleep(0.05)
        assert (await client.get("/")).status == 200
    assert ticks
    assert app[listener].cancelled()


# -- nested applications ------------------------------------------------------------------------


async def test_subapp_middlewares_signals_and_url_reversing() -> None:
    events: list[str] = []

    async def app_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        events.append("app mw")
        return await handler(request)

    async def admin_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        events.append("admin mw")
        return await handler(request)

    async def app_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-App"] = "1"

    async def admin_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Admin"] = "1"

    received: dict[str, Any] = {}

    async def admin_startup(app: web.Application) -> None:
        received["startup"] = app

    async def handler(request: web.Request) -> web.Response:
        events.append("handler")
        return web.Response(text=str(request.app.router["name"].url_for()))

    admin = web.Application(middlewares=[admin_mw])
    admin.add_routes([web.get("/resource", handler, name="name")])
    admin.on_response_prepare.append(admin_prepare)
    admin.on_startup.append(admin_startup)
    app = web.Application(middlewares=[app_mw])
    app.on_response_prepare.append(app_prepare)
    resource = app.add_subapp("/admin/", admin)
    assert isinstance(resource, web.PrefixedSubAppResource)
    assert resource.canonical == "/admin"
    with pytest.raises(RuntimeError):
        resource.url_for()
    assert admin.router["name"].url_for() == URL("/admin/resource")

    async with serve(app) as client:
        resp = await client.get("/admin/resource")
        assert await resp.text() == "/admin/resource"
        assert resp.headers["X-App"] == resp.headers["X-Admin"] == "1"
        assert events == ["app mw", "admin mw", "handler"]
        # A top level route only gets the top level signal.
        assert (await client.get("/nope")).headers.get("X-Admin") is None
    assert received["startup"] is admin  # the sub-application, not the top-level one


async def test_subapp_explicit_url_reversing_from_main_app() -> None:
    admin = web.Application()
    admin_key = web.AppKey("admin_key", web.Application)

    async def admin_handler(request: web.Request) -> web.Response:
        return web.Response()

    admin.add_routes([web.get("/resource", admin_handler, name="name")])
    app = web.Application()
    app.add_subapp("/admin/", admin)
    app[admin_key] = admin

    async def handler(request: web.Request) -> web.Response:
        admin = request.app[admin_key]
        url = admin.router["name"].url_for()
        return web.Response(text=str(url))

    app.router.add_get("/", handler)
    async with serve(app) as client:
        assert await (await client.get("/")).text() == "/admin/resource"


async def test_third_level_subapps() -> None:
    async def deep(request: web.Request) -> web.Response:
        return web.Response(text=str(len(request.match_info.apps)))

    level3 = web.Application()
    level3.router.add_get("/leaf", deep)
    level2 = web.Application()
    level2.add_subapp("/l3", level3)
    app = web.Application()
    app.add_subapp("/l2", level2)
    async with serve(app) as client:
        assert await (await client.get("/l2/l3/leaf")).text() == "3"


async def test_add_domain() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="sub")

    sub = web.Application()
    sub.router.add_get("/", handler)
    app = web.Application()
    resource = app.add_domain("*.example.com", sub)
    assert isinstance(resource, web.MatchedSubAppResource)
    async with serve(app) as client:
        resp = await client.get("/", headers={"Host": "api.example.com"})
        assert resp.status == 200 and await resp.text() == "sub"
        assert (await client.get("/", headers={"Host": "other.org"})).status == 404


# -- Expect header (web_advanced.rst "Expect Header") -------------------------------------


async def raw_exchange(port: int, data: bytes, read_timeout: float = 1.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    chunks = []
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), read_timeout)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        pass
    finally:
        writer.close()
    return b"".join(chunks)


async def test_default_expect_handler_sends_100_continue_or_417() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/", echo)
    async with serve(app) as client:
        data = await raw_exchange(
            client.port,
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 3\r\nConnection: close\r\n\r\nabc",
        )
        assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
        assert data.endswith(b"abc")
        data = await raw_exchange(
            client.port,
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n"
            b"Content-Length: 3\r\nConnection: close\r\n\r\nabc",
        )
        assert data.startswith(b"HTTP/1.1 417 Expectation Failed\r\n")


async def test_custom_expect_handler_example() -> None:
    calls: list[str] = []

    async def check_auth(request: web.Request) -> None:
        calls.append("expect")
        if request.version != aiohyper.HttpVersion11:
            return
        expect = request.headers.get("EXPECT")
        if expect != "100-continue":
            raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
        if request.headers.get("AUTHORIZATION") is None:
            raise web.HTTPForbidden()
        assert request.transport is not None
        request.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        calls.append("middleware")
        return await handler(request)

    async def hello_handler(request: web.Request) -> web.Response:
        return web.Response(body=b"Hello, world")

    app = web.Application(middlewares=[mw])
    app.add_routes([web.post("/", hello_handler, expect_handler=check_auth)])
    async with serve(app) as client:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
        data = await raw_exchange(client.port, head + b"Content-Length: 0\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 403 Forbidden\r\n")
        assert calls == ["expect"]  # before (and instead of) the middlewares
        calls.clear()
        data = await raw_exchange(
            client.port, head + b"Authorization: yes\r\nContent-Length: 0\r\n\r\n"
        )
        assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
        assert data.endswith(b"Hello, world")
        assert calls == ["expect", "middleware"]


async def test_expect_handler_may_return_a_response() -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=202, text="from expect handler")

    app = web.Application()
    app.router.add_post("/", hello, expect_handler=answer)
    async with serve(app) as client:
        data = await raw_exchange(
            client.port,
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n",
        )
    assert data.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert data.endswith(b"from expect handler")


# -- contextvars (web_advanced.rst "ContextVars support") ---------------------------------------


def test_contextvars_example_with_run_app() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="default")
    printed: list[tuple[str, str]] = []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    body: list[str] = []

    async def coro() -> str:
        return var.get()

    async def handler(request: web.Request) -> web.Response:
        value = var.get()
        var.set("handler")
        ret = await coro()
        return web.Response(text="\n".join([value, ret]))

    async def fetch_then_exit(app: web.Application) -> None:
        # Started from on_startup: retry until the site listens.
        for _ in range(100):
            await asyncio.sleep(0.02)
            try:
                connect = asyncio.open_connection("127.0.0.1", port)
                reader, writer = await asyncio.wait_for(connect, 0.5)
                break
            except (OSError, TimeoutError):
                continue
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        body.append((await reader.read()).split(b"\r\n\r\n", 1)[1].decode())
        writer.close()
        asyncio.get_running_loop().call_soon(_graceful_exit)

    async def on_startup(app: web.Application) -> None:
        printed.append(("on_startup", var.get()))
        var.set("on_startup")
        app[client_task] = asyncio.get_running_loop().create_task(fetch_then_exit(app))

    async def on_cleanup(app: web.Application) -> None:
        printed.append(("on_cleanup", var.get()))
        var.set("on_cleanup")

    client_task = web.AppKey("client_task", asyncio.Task)

    async def init() -> web.Application:
        printed.append(("init", var.get()))
        var.set("init")
        app = web.Application()
        app.router.add_get("/", handler)
        app.on_startup.append(on_startup)
        app.on_cleanup.append(on_cleanup)
        return app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        web.run_app(
            init(),
            host="127.0.0.1",
            port=port,
            print=None,
            handle_signals=False,
            access_log=None,
        )
    printed.append(("done", var.get()))
    assert printed == [
        ("init", "default"),
        ("on_startup", "init"),
        ("on_cleanup", "on_startup"),
        ("done", "default"),
    ]
    assert body == ["on_startup\nhandler"]


def _graceful_exit() -> None:
    raise web.GracefulExit()


# -- graceful shutdown (web_advanced.rst "Graceful shutdown") ---------------------------------


async def test_graceful_shutdown_steps() -> None:
    events: list[str] = []
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(0.2)
        events.append("handler finished")
        return web.Response(text="done")

    async def on_shutdown(app: web.Application) -> None:
        events.append("on_shutdown")

    async def on_cleanup(app: web.Application) -> None:
        events.append("on_cleanup")

    app = web.Application()
    app.router.add_get("/", slow)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    # An idle keep-alive connection and a busy one.
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
    busy = asyncio.create_task(
        raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", read_timeout=3)
    )
    await started.wait()
    await runner.cleanup()
    response = await busy
    # The running handler completed; its response says the connection closes.
    assert response.startswith(b"HTTP/1.1 200 OK\r\n") and response.endswith(b"done")
    assert b"connection: close" in response.lower()
    assert events == ["on_shutdown", "handler finished", "on_cleanup"]
    # The idle connection was closed, and new connections are refused.
    assert await asyncio.wait_for(idle_reader.read(), 1) == b""
    idle_writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


# -- pluggable router (abc.rst "Abstract routing") ----------------------------------------------


class _MatchInfo(dict[str, str], AbstractMatchInfo):
    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self._handler = handler
        self._apps: tuple[web.Application, ...] = ()
        self._current: web.Application | None = None

    @property
    def handler(self) -> Handler:
        return self._handler

    @property
    def expect_handler(self) -> Any:
        async def expect(request: web.Request) -> None:
            return None

        return expect

    @property
    def http_exception(self) -> None:
        return None

    def get_info(self) -> dict[str, Any]:
        return {}

    @property
    def apps(self) -> tuple[web.Application, ...]:
        return self._apps

    def add_app(self, app: web.Application) -> None:
        self._apps = (app, *self._apps)
        self._current = self._current or app

    def freeze(self) -> None:
        pass

    @property
    def current_app(self) -> web.Application:
        assert self._current is not None
        return self._current

    @contextmanager
    def set_current_app(self, app: web.Application) -> Any:
        previous, self._current = self._current, app
        try:
            yield
        finally:
            self._current = previous


class _EverythingRouter(AbstractRouter):
    """A router that is not url-matching: every request goes to one handler."""

    async def resolve(self, request: web.Request) -> AbstractMatchInfo:
        return _MatchInfo(hello)


async def test_application_accepts_a_custom_router() -> None:
    router = _EverythingRouter()
    with pytest.warns(DeprecationWarning):
        app = web.Application(router=router)
    assert app.router is router
    async with serve(app) as client:
        for path in ("/", "/anything/at/all"):
            resp = await client.get(path)
            assert resp.status == 200 and await resp.text() == "Hello"


# -- odds and ends of the reference ------------------------------------------------------------


def test_documented_base_classes() -> None:
    import abc
    import collections.abc
    import dataclasses

    from aiohyper.abc import AbstractView

    app = web.Application()
    assert isinstance(app.router, collections.abc.Mapping)
    assert isinstance(app.router, AbstractRouter)
    resource = app.router.add_resource("/r")
    assert isinstance(resource, collections.abc.Sized)
    assert isinstance(resource, collections.abc.Iterable)
    assert issubclass(web.View, AbstractView)
    assert issubclass(web.UrlMappingMatchInfo, dict)
    assert issubclass(web.UrlMappingMatchInfo, AbstractMatchInfo)
    assert issubclass(web.AbstractRouteDef, abc.ABC)
    assert isinstance(web.RouteTableDef(), collections.abc.Sequence)
    assert dataclasses.is_dataclass(web.FileField)
    assert issubclass(web.Response, web.StreamResponse)
    assert issubclass(web.FileResponse, web.StreamResponse)
    assert issubclass(web.Request, web.BaseRequest)


async def test_frozen_application_refuses_new_routes() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    async with serve(app):
        with pytest.raises(RuntimeError):
            app.router.add_get("/late", hello)
        with pytest.raises(RuntimeError):
            app.add_subapp("/sub", web.Application())


async def test_forwarded_middleware_with_clone() -> None:
    """web_advanced.rst "Deploying behind a Proxy": a middleware fixes scheme, host and
    remote with clone()."""
    trusted = web.AppKey("trusted", str)

    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        fixed = request.clone(
            scheme=request.headers.get("X-Forwarded-Proto", request.scheme),
            host=request.headers.get("X-Forwarded-Host", request.host),
            remote=request.headers.get("X-Real-IP", request.remote or ""),
            client_max_size=2,
        )
        return await handler(fixed)

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "url": str(request.url),
                "remote": request.remote,
                "secure": request.secure,
                "max": request.client_max_size,
                "app": request.app[trusted],
            }
        )

    app = web.Application(middlewares=[forwarded])
    app[trusted] = "yes"
    app.router.add_get("/path", handler)
    async with serve(app) as client:
        resp = await client.get(
            "/path?q=1",
            headers={
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "example.com",
                "X-Real-IP": "203.0.113.7",
            },
        )
        assert await resp.json() == {
            "url": "https://example.com/path?q=1",
            "remote": "203.0.113.7",
            "secure": True,
            "max": 2,
            "app": "yes",
        }


async def test_response_compression_in_executor() -> None:
    import zlib
    from concurrent.futures import ThreadPoolExecutor

    text = "executor " * 1000
    with ThreadPoolExecutor(1) as executor:

        async def handler(request: web.Request) -> web.Response:
            resp = web.Response(text=text, zlib_executor_size=16, zlib_executor=executor)
            resp.enable_compression(web.ContentCoding.deflate, strategy=zlib.Z_FILTERED)
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        async with serve(app) as client:
            resp = await client.get("/", auto_decompress=False)
            assert resp.headers["Content-Encoding"] == "deflate"
            assert zlib.decompress(await resp.read()).decode() == text
