"""Tests of ``Application``: state, freezing, signals, cleanup contexts, sub-applications,
request handling through middlewares, and serving over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiohyper.abc import AbstractAccessLogger
from aiohyper.log import web_logger
from aiohyper.test_utils import TestServer, make_mocked_request
from aiohyper.web._app import AppKey, Application, CleanupError, NotAppKeyWarning
from aiohyper.web._exceptions import HTTPForbidden, HTTPMethodNotAllowed, HTTPNotFound
from aiohyper.web._request import Request
from aiohyper.web._response import Response, StreamResponse
from aiohyper.web._server import Server

KEY = AppKey("KEY", str)
NUM = AppKey[int]("NUM")


async def ok(request: Request) -> Response:
    return Response(text="ok")


# -- AppKey ---------------------------------------------------------------------------------------


def test_app_key_repr_and_name() -> None:
    assert repr(KEY) == f"<AppKey({__name__}.KEY, type=str)>"
    assert repr(NUM) == f"<AppKey({__name__}.NUM, type=int)>"
    assert repr(AppKey("x")) == f"<AppKey({__name__}.x, type=<<Unknown>>)>"
    assert repr(AppKey("p", pathlib.Path)) == f"<AppKey({__name__}.p, type=pathlib.Path)>"
    assert repr(AppKey("l", list[int])) == f"<AppKey({__name__}.l, type=list[int])>"


def test_app_keys_with_same_name_are_distinct() -> None:
    a, b = AppKey("same", int), AppKey("same", int)
    app = Application()
    app[a] = 1
    app[b] = 2
    assert app[a] == 1 and app[b] == 2


def test_app_key_ordering() -> None:
    a, b = AppKey("a", int), AppKey("b", int)
    assert sorted([b, a]) == [a, b]
    assert a < "a"  # type: ignore[operator]


def test_app_key_cannot_be_subclassed_at_runtime() -> None:
    with pytest.raises(AttributeError):
        AppKey("x", int).extra = 1  # type: ignore[attr-defined]


# -- state ----------------------------------------------------------------------------------------


def test_state_mapping() -> None:
    app = Application()
    assert not len(app)
    assert app  # an empty application is still truthy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app[KEY] = "value"
        app[NUM] = 1
    assert app[KEY] == "value"
    assert app.get(NUM) == 1
    assert app.get(AppKey("missing", int)) is None
    assert app.get(AppKey("missing", int), 5) == 5
    assert KEY in app
    assert set(app) == {KEY, NUM}
    assert len(app) == 2
    del app[NUM]
    assert NUM not in app
    with pytest.raises(KeyError):
        app[NUM]


def test_str_key_warns() -> None:
    app = Application()
    with pytest.warns(NotAppKeyWarning, match="AppKey"):
        app["plain"] = 1
    assert app["plain"] == 1
    assert issubclass(NotAppKeyWarning, UserWarning)


def test_identity_semantics() -> None:
    a, b = Application(), Application()
    assert a != b
    assert a == a
    assert len({a, b}) == 2
    assert repr(a).startswith("<Application 0x")
    assert a() is a


def test_attributes() -> None:
    logger = logging.getLogger("test.app")
    app = Application(logger=logger, client_max_size=10)
    assert app.logger is logger
    assert Application().logger is web_logger
    assert app._client_max_size == 10
    assert list(app.middlewares) == []


def test_deprecated_arguments() -> None:
    with pytest.warns(DeprecationWarning, match="debug"):
        app = Application(debug=True)
    with pytest.warns(DeprecationWarning, match="debug"):
        assert app.debug is True
    loop = asyncio.new_event_loop()
    try:
        with pytest.warns(DeprecationWarning, match="loop"):
            Application(loop=loop)
    finally:
        loop.close()


def test_subclassing_is_discouraged() -> None:
    with pytest.warns(DeprecationWarning, match="discouraged"):

        class MyApp(Application):
            pass


# -- freezing -------------------------------------------------------------------------------------


async def mw(request: Request, handler: Any) -> StreamResponse:
    return await handler(request)


async def signal_handler(app: Application) -> None:
    pass


def test_frozen_application_refuses_changes() -> None:
    app = Application()
    app[KEY] = "v"
    app.freeze()
    assert app.frozen and app.pre_frozen
    # State changes after start-up are deprecated, not refused (aiohttp 3.x compatibility).
    with pytest.warns(DeprecationWarning, match="deprecated"):
        app[KEY] = "x"
    assert app[KEY] == "x"
    with pytest.warns(DeprecationWarning):
        del app[KEY]
    assert KEY not in app
    with pytest.raises(RuntimeError):
        app.router.add_get("/", ok)
    with pytest.raises(RuntimeError):
        app.middlewares.append(mw)
    for signal in (app.on_startup, app.on_shutdown, app.on_cleanup, app.on_response_prepare):
        with pytest.raises(RuntimeError):
            signal.append(signal_handler)
    with pytest.raises(RuntimeError):
        app.cleanup_ctx.append(lambda app: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RuntimeError):
        app.add_subapp("/x", Application())
    app.freeze()  # idempotent


def test_subapp_is_pre_frozen_then_frozen_with_parent() -> None:
    app, sub = Application(), Application()
    sub.router.add_get("/", ok)
    app.add_subapp("/sub", sub)
    assert sub.pre_frozen and not sub.frozen
    with pytest.raises(RuntimeError):
        sub.router.add_get("/late", ok)
    with pytest.raises(RuntimeError):
        sub.on_startup.append(signal_handler)
    sub[KEY] = "state can still change"
    app.freeze()
    assert sub.frozen
    with pytest.warns(DeprecationWarning):
        sub[KEY] = "x"


def test_cannot_add_frozen_or_same_subapp_twice() -> None:
    app, sub = Application(), Application()
    app.add_subapp("/a", sub)
    with pytest.raises(RuntimeError):
        app.add_subapp("/b", sub)
    frozen = Application()
    frozen.freeze()
    with pytest.raises(RuntimeError):
        app.add_subapp("/c", frozen)
    with pytest.raises(RuntimeError):
        app.add_subapp("/d", app)


def test_non_callable_middleware_is_refused_at_freeze() -> None:
    app = Application(middlewares=["nope"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="callable"):
        app.freeze()


def test_add_routes_returns_routes() -> None:
    from aiohyper.web._routedef import get, post

    app = Application()
    routes = app.add_routes([get("/", ok), post("/p", ok)])
    assert [r.method for r in routes] == ["GET", "POST"]


# -- signals and cleanup contexts -----------------------------------------------------------------


async def test_signals_reach_subapps_with_their_own_app() -> None:
    calls: list[tuple[str, Application]] = []
    app, sub = Application(), Application()

    def record(name: str) -> Any:
        async def handler(a: Application) -> None:
            calls.append((name, a))

        return handler

    for owner, tag in ((app, "app"), (sub, "sub")):
        owner.on_startup.append(record(f"{tag}-startup"))
        owner.on_shutdown.append(record(f"{tag}-shutdown"))
        owner.on_cleanup.append(record(f"{tag}-cleanup"))
    app.add_subapp("/sub", sub)
    app.freeze()
    await app.startup()
    await app.shutdown()
    await app.cleanup()
    assert calls == [
        ("app-startup", app),
        ("sub-startup", sub),
        ("app-shutdown", app),
        ("sub-shutdown", sub),
        ("app-cleanup", app),
        ("sub-cleanup", sub),
    ]


async def test_cleanup_ctx_order() -> None:
    events: list[str] = []
    app = Application()

    def ctx(name: str) -> Any:
        async def gen(a: Application) -> AsyncIterator[None]:
            assert a is app
            events.append(f"start {name}")
            yield
            events.append(f"stop {name}")

        return gen

    app.cleanup_ctx.append(ctx("a"))
    app.cleanup_ctx.append(ctx("b"))
    app.freeze()
    await app.startup()
    assert events == ["start a", "start b"]
    await app.cleanup()
    assert events == ["start a", "start b", "stop b", "stop a"]


async def test_cleanup_ctx_only_cleans_what_started() -> None:
    events: list[str] = []
    app = Application()

    async def good(a: Application) -> AsyncIterator[None]:
        events.append("start good")
        yield
        events.append("stop good")

    async def bad(a: Application) -> AsyncIterator[None]:
        raise ValueError("startup failed")
        yield  # pragma: no cover

    async def never(a: Application) -> AsyncIterator[None]:
        events.append("start never")  # pragma: no cover
        yield  # pragma: no cover

    app.cleanup_ctx.extend([good, bad, never])
    app.on_startup.freeze()
    with pytest.raises(ValueError, match="startup failed"):
        await app.startup()
    # The app never got frozen (the runner failed): cleanup still closes "good".
    await app.cleanup()
    assert events == ["start good", "stop good"]


async def test_cleanup_ctx_single_error_is_raised_as_is() -> None:
    app = Application()

    async def failing(a: Application) -> AsyncIterator[None]:
        yield
        raise ValueError("cleanup failed")

    app.cleanup_ctx.append(failing)
    app.freeze()
    await app.startup()
    with pytest.raises(ValueError, match="cleanup failed"):
        await app.cleanup()


async def test_cleanup_ctx_errors_are_collected() -> None:
    events: list[str] = []
    app = Application()

    async def fail1(a: Application) -> AsyncIterator[None]:
        yield
        raise ValueError("one")

    async def fine(a: Application) -> AsyncIterator[None]:
        yield
        events.append("fine cleaned")

    async def fail2(a: Application) -> AsyncIterator[None]:
        yield
        raise KeyError("two")

    async def two_yields(a: Application) -> AsyncIterator[None]:
        yield
        yield

    app.cleanup_ctx.extend([fail1, fine, fail2, two_yields])
    app.freeze()
    await app.startup()
    with pytest.raises(CleanupError) as info:
        await app.cleanup()
    assert isinstance(info.value, RuntimeError)
    excs = info.value.exceptions
    # Reverse order: two_yields, fail2, fine, fail1.
    assert [type(e) for e in excs] == [RuntimeError, KeyError, ValueError]
    assert "more than one 'yield'" in str(excs[0])
    assert events == ["fine cleaned"]


async def test_cleanup_ctx_accepts_async_context_managers() -> None:
    events: list[str] = []
    app = Application()

    @contextlib.asynccontextmanager
    async def managed(a: Application) -> AsyncIterator[None]:
        events.append("enter")
        yield
        events.append("exit")

    app.cleanup_ctx.append(managed)
    app.freeze()
    await app.startup()
    await app.cleanup()
    assert events == ["enter", "exit"]


async def test_subapp_cleanup_ctx_runs_through_parent() -> None:
    events: list[str] = []
    app, sub = Application(), Application()

    async def ctx(a: Application) -> AsyncIterator[None]:
        assert a is sub
        events.append("sub start")
        yield
        events.append("sub stop")

    sub.cleanup_ctx.append(ctx)
    app.add_subapp("/s", sub)
    app.freeze()
    await app.startup()
    await app.cleanup()
    assert events == ["sub start", "sub stop"]


# -- request handling -----------------------------------------------------------------------------


def request_for(app: Application, method: str, path: str, **kw: Any) -> Request:
    return make_mocked_request(method, path, app=app, **kw)


async def test_handle_runs_handler_and_sets_match_info() -> None:
    app = Application()
    seen: list[Request] = []

    async def handler(request: Request) -> Response:
        seen.append(request)
        return Response(text=request.match_info["name"])

    app.router.add_get("/hello/{name}", handler)
    app.freeze()
    request = request_for(app, "GET", "/hello/world")
    response = await app._handle(request)
    assert isinstance(response, Response)
    assert response.text == "world"
    assert request.match_info.apps == (app,)
    assert request.app is app
    assert seen == [request]


async def test_handle_not_found_and_method_not_allowed() -> None:
    app = Application()
    app.router.add_post("/p", ok)
    app.freeze()
    with pytest.raises(HTTPNotFound):
        await app._handle(request_for(app, "GET", "/missing"))
    with pytest.raises(HTTPMethodNotAllowed) as info:
        await app._handle(request_for(app, "GET", "/p"))
    assert info.value.headers["Allow"] == "POST"


def make_mw(log: list[str], name: str) -> Any:
    async def middleware(request: Request, handler: Any) -> StreamResponse:
        log.append(f"{name} in {request.app[KEY]}")
        response = await handler(request)
        log.append(f"{name} out")
        return response

    return middleware


async def test_middleware_order_with_subapps() -> None:
    log: list[str] = []
    app = Application(middlewares=[make_mw(log, "r1"), make_mw(log, "r2")])
    mid = Application()  # no middlewares of its own
    sub = Application(middlewares=[make_mw(log, "s1")])
    app[KEY], mid[KEY], sub[KEY] = "root", "mid", "sub"

    async def handler(request: Request) -> Response:
        log.append(f"handler in {request.app[KEY]}")
        return Response()

    sub.router.add_get("/x", handler)
    mid.add_subapp("/sub", sub)
    app.add_subapp("/mid", mid)
    app.freeze()
    request = request_for(app, "GET", "/mid/sub/x")
    await app._handle(request)
    assert log == [
        "r1 in root",
        "r2 in root",
        "s1 in sub",
        "handler in sub",
        "s1 out",
        "r2 out",
        "r1 out",
    ]
    assert request.match_info.apps == (app, mid, sub)
    # Restored once the chain is done.
    assert request.app is sub


async def test_handler_sees_own_app_when_only_parent_has_middlewares() -> None:
    log: list[str] = []
    app = Application(middlewares=[make_mw(log, "r")])
    sub = Application()
    app[KEY], sub[KEY] = "root", "sub"

    async def handler(request: Request) -> Response:
        log.append(f"handler in {request.app[KEY]}")
        return Response()

    sub.router.add_get("/x", handler)
    app.add_subapp("/s", sub)
    app.freeze()
    await app._handle(request_for(app, "GET", "/s/x"))
    assert log == ["r in root", "handler in sub", "r out"]


async def test_middleware_sees_404_and_can_replace_it() -> None:
    async def error_page(request: Request, handler: Any) -> StreamResponse:
        try:
            return await handler(request)
        except HTTPNotFound:
            return Response(text="custom 404", status=404)

    app = Application(middlewares=[error_page])
    app.freeze()
    response = await app._handle(request_for(app, "GET", "/nowhere"))
    assert isinstance(response, Response)
    assert response.text == "custom 404"


async def test_subapp_middlewares_apply_to_subapp_404() -> None:
    log: list[str] = []
    app, sub = Application(), Application(middlewares=[make_mw(log, "s")])
    app[KEY], sub[KEY] = "root", "sub"
    app.add_subapp("/s", sub)
    app.freeze()
    with pytest.raises(HTTPNotFound):
        await app._handle(request_for(app, "GET", "/s/missing"))
    assert log == ["s in sub"]
    log.clear()
    with pytest.raises(HTTPNotFound):
        await app._handle(request_for(app, "GET", "/elsewhere"))
    assert log == []


async def test_middleware_decorator_is_optional() -> None:
    from aiohyper.web._middlewares import middleware

    log: list[str] = []

    @middleware
    async def decorated(request: Request, handler: Any) -> StreamResponse:
        log.append("decorated")
        return await handler(request)

    async def plain(request: Request, handler: Any) -> StreamResponse:
        log.append("plain")
        return await handler(request)

    app = Application(middlewares=[decorated, plain])
    app.router.add_get("/", ok)
    app.freeze()
    await app._handle(request_for(app, "GET", "/"))
    assert log == ["decorated", "plain"]


async def test_middleware_chain_is_cached_per_route() -> None:
    app = Application(middlewares=[mw])
    app.router.add_get("/a", ok)
    app.router.add_get("/b/{x}", ok)
    app.freeze()
    for path in ("/a", "/a", "/b/1", "/b/2", "/missing", "/missing"):
        with contextlib.suppress(HTTPNotFound):
            await app._handle(request_for(app, "GET", path))
    # One chain for the one handler and app stack; failed resolutions are not cached.
    assert len(app._chain_cache) == 1


async def test_no_middlewares_calls_handler_directly() -> None:
    app = Application()
    app.router.add_get("/", ok)
    app.freeze()
    await app._handle(request_for(app, "GET", "/"))
    assert app._chain_cache == {}


async def test_unfrozen_app_still_applies_middlewares() -> None:
    log: list[str] = []
    app = Application(middlewares=[make_mw(log, "m")])
    app[KEY] = "root"
    app.router.add_get("/", ok)
    await app._handle(request_for(app, "GET", "/"))
    assert log == ["m in root", "m out"]


async def test_view_through_handle() -> None:
    from aiohyper.web._view import View

    class MyView(View):
        async def get(self) -> Response:
            return Response(text=f"get {self.request.method}")

    app = Application()
    app.router.add_view("/v", MyView)
    app.freeze()
    response = await app._handle(request_for(app, "GET", "/v"))
    assert isinstance(response, Response)
    assert response.text == "get GET"
    with pytest.raises(HTTPMethodNotAllowed):
        await app._handle(request_for(app, "POST", "/v"))


# -- Expect ---------------------------------------------------------------------------------------


async def test_expect_handler_runs_before_middlewares_and_handler() -> None:
    log: list[str] = []

    async def expect(request: Request) -> None:
        log.append("expect")

    app = Application(middlewares=[make_mw(log, "m")])
    app[KEY] = "root"
    app.router.add_post("/", ok, expect_handler=expect)
    app.freeze()
    await app._handle(request_for(app, "POST", "/", headers={"Expect": "100-continue"}))
    assert log == ["expect", "m in root", "m out"]
    log.clear()
    await app._handle(request_for(app, "POST", "/"))
    assert log == ["m in root", "m out"]


async def test_expect_handler_response_short_circuits() -> None:
    called: list[bool] = []

    async def expect(request: Request) -> Response:
        return Response(status=401)

    async def handler(request: Request) -> Response:
        called.append(True)
        return Response()

    app = Application()
    app.router.add_post("/", handler, expect_handler=expect)
    app.freeze()
    response = await app._handle(request_for(app, "POST", "/", headers={"Expect": "100-continue"}))
    assert response.status == 401
    assert called == []


async def test_expect_handler_exception_propagates() -> None:
    async def expect(request: Request) -> None:
        raise HTTPForbidden()

    app = Application()
    app.router.add_post("/", ok, expect_handler=expect)
    app.freeze()
    with pytest.raises(HTTPForbidden):
        await app._handle(request_for(app, "POST", "/", headers={"Expect": "100-continue"}))


async def test_default_expect_handler_writes_continue() -> None:
    app = Application()
    app.router.add_post("/", ok)
    app.freeze()
    request = request_for(app, "POST", "/", headers={"Expect": "100-continue"})
    await app._handle(request)
    request.writer.write.assert_called_once_with(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[attr-defined]


async def test_no_continue_for_unknown_path() -> None:
    app = Application()
    app.freeze()
    request = request_for(app, "POST", "/missing", headers={"Expect": "100-continue"})
    with pytest.raises(HTTPNotFound):
        await app._handle(request)
    request.writer.write.assert_not_called()  # type: ignore[attr-defined]


# -- serving --------------------------------------------------------------------------------------


async def test_make_handler_freezes_and_builds_server() -> None:
    app = Application(handler_args={"keepalive_timeout": 5})
    server = app._make_handler()
    assert isinstance(server, Server)
    assert app.frozen
    assert server.request_factory == app._make_request
    assert server._kwargs["keepalive_timeout"] == 5


async def test_make_handler_checks_access_log_class() -> None:
    with pytest.raises(TypeError):
        Application()._make_handler(access_log_class=object)  # type: ignore[arg-type]

    class Logger(AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            pass

    Application()._make_handler(access_log_class=Logger)


async def test_make_request_uses_client_max_size() -> None:
    app = Application(client_max_size=123)
    template = make_mocked_request("GET", "/")
    request = app._make_request(
        template._message,
        template._payload,
        template._protocol,
        template._payload_writer,
        template._task,
    )
    assert isinstance(request, Request)
    assert request.client_max_size == 123


async def http_exchange(port: int, data: bytes, *, read_until_close: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_serving_end_to_end(tmp_path: pathlib.Path) -> None:
    (tmp_path / "f.txt").write_text("static content")
    app = Application()
    sub = Application()

    async def hello(request: Request) -> Response:
        return Response(text=f"hello {request.match_info['name']}")

    async def echo(request: Request) -> Response:
        return Response(body=await request.read())

    async def on_prepare(request: Request, response: StreamResponse) -> None:
        response.headers["X-Sub"] = "yes"

    app.router.add_get("/hello/{name}", hello)
    app.router.add_post("/echo", echo)
    app.router.add_static("/static", tmp_path)
    sub.router.add_get("/page", hello)
    sub.router.add_get("/x/{name}", hello)
    sub.on_response_prepare.append(on_prepare)
    app.add_subapp("/sub", sub)
    async with TestServer(app) as server:
        port = server.port
        raw = await http_exchange(
            port, b"GET /hello/world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert raw.startswith(b"HTTP/1.1 200 ")
        assert raw.endswith(b"hello world")

        raw = await http_exchange(
            port, b"DELETE /hello/world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert raw.startswith(b"HTTP/1.1 405 ")
        assert b"\r\nAllow: GET,HEAD\r\n" in raw

        raw = await http_exchange(
            port, b"GET /static/f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert raw.startswith(b"HTTP/1.1 200 ")
        assert raw.endswith(b"static content")

        raw = await http_exchange(
            port,
            b"GET /static/%2e%2e/f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        assert raw.startswith(b"HTTP/1.1 404 ")

        raw = await http_exchange(
            port, b"GET /sub/x/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert raw.startswith(b"HTTP/1.1 200 ")
        assert b"\r\nX-Sub: yes\r\n" in raw

        # Expect: 100-continue gets the interim response before the body is sent.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"body")
        await writer.drain()
        final = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert final.startswith(b"HTTP/1.1 200 ")
        assert final.endswith(b"body")
