"""Client middlewares: order, per-request override, retries, request changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiohyper import web
from aiohyper.client._middlewares import (
    ClientHandlerType,
    ClientMiddlewareType,
    build_client_middlewares,
)
from aiohyper.client._request import ClientRequest
from aiohyper.client._response import ClientResponse
from aiohyper.client._session import ClientSession
from aiohyper.test_utils import TestServer


@pytest.fixture
async def srv() -> AsyncIterator[TestServer]:
    state = {"hits": 0}

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {"path": request.path, "headers": dict(request.headers), "body": body.decode()}
        )

    async def flaky(request: web.Request) -> web.Response:
        # fails twice, then succeeds
        state["hits"] += 1
        if state["hits"] < 3:
            return web.Response(status=503, text="busy")
        return web.Response(text=f"ok after {state['hits']}")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/echo")

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/hop", hop)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


def recorder(log: list[str], name: str) -> ClientMiddlewareType:
    async def middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        log.append(f"{name}:in")
        response = await handler(request)
        log.append(f"{name}:out")
        return response

    return middleware


async def test_build_chain_order() -> None:
    log: list[str] = []

    async def innermost(request: Any) -> Any:
        log.append("handler")
        return "response"

    chain = build_client_middlewares(innermost, [recorder(log, "a"), recorder(log, "b")])
    assert await chain("req") == "response"  # type: ignore[arg-type]
    assert log == ["a:in", "b:in", "handler", "b:out", "a:out"]
    assert build_client_middlewares(innermost, []) is innermost


async def test_session_middlewares_order(srv: TestServer) -> None:
    log: list[str] = []
    middlewares = (recorder(log, "first"), recorder(log, "second"))
    async with (
        ClientSession(middlewares=middlewares) as session,
        session.get(srv.make_url("/echo")) as resp,
    ):
        assert resp.status == 200
    assert log == ["first:in", "second:in", "second:out", "first:out"]


async def test_per_request_middlewares_replace_session_ones(srv: TestServer) -> None:
    log: list[str] = []
    async with ClientSession(middlewares=(recorder(log, "session"),)) as session:
        async with session.get(srv.make_url("/echo"), middlewares=(recorder(log, "req"),)):
            pass
        assert log == ["req:in", "req:out"]
        log.clear()
        async with session.get(srv.make_url("/echo"), middlewares=()):
            pass
        assert log == []
        async with session.get(srv.make_url("/echo")):
            pass
        assert log == ["session:in", "session:out"]


async def test_retry_middleware(srv: TestServer) -> None:
    attempts: list[int] = []

    async def retry(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        for _ in range(5):
            response = await handler(request)
            attempts.append(response.status)
            if response.status < 500:
                return response
            response.release()
        return response

    async with (
        ClientSession(middlewares=(retry,)) as session,
        session.get(srv.make_url("/flaky")) as resp,
    ):
        assert await resp.text() == "ok after 3"
    assert attempts == [503, 503, 200]


async def test_retry_resends_body(srv: TestServer) -> None:
    bodies: list[str] = []

    async def twice(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        first = await handler(request)
        bodies.append((await first.json())["body"])
        return await handler(request)

    async with (
        ClientSession(middlewares=(twice,)) as session,
        session.post(srv.make_url("/echo"), data=b"resent") as resp,
    ):
        bodies.append((await resp.json())["body"])
    assert bodies == ["resent", "resent"]


async def test_middleware_changes_request(srv: TestServer) -> None:
    async def modify(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        request.headers["X-Token"] = "secret"
        await request.update_body(b"replaced body")
        return await handler(request)

    async with (
        ClientSession(middlewares=(modify,)) as session,
        session.post(srv.make_url("/echo"), data=b"original") as resp,
    ):
        seen = await resp.json()
    assert seen["headers"]["X-Token"] == "secret"
    assert seen["body"] == "replaced body"
    assert seen["headers"]["Content-Length"] == str(len(b"replaced body"))


async def test_middleware_sees_session_and_can_short_circuit(srv: TestServer) -> None:
    class Refused(Exception):
        pass

    sessions: list[Any] = []

    async def guard(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        sessions.append(request.session)
        if request.url.path == "/flaky":
            raise Refused(str(request.url))
        return await handler(request)

    async with ClientSession(middlewares=(guard,)) as session:
        with pytest.raises(Refused):
            await session.get(srv.make_url("/flaky"))
        async with session.get(srv.make_url("/echo")) as resp:
            assert resp.status == 200
    assert sessions == [session, session]


async def test_middleware_runs_for_each_redirect_hop(srv: TestServer) -> None:
    paths: list[str] = []

    async def record(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        paths.append(request.url.path)
        return await handler(request)

    async with (
        ClientSession(middlewares=(record,)) as session,
        session.get(srv.make_url("/hop")) as resp,
    ):
        assert resp.status == 200
    assert paths == ["/hop", "/echo"]


async def test_middleware_request_inside_middleware(srv: TestServer) -> None:
    async def side_call(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if request.url.path == "/echo":
            # middlewares=() keeps this inner request from recursing
            async with request.session.get(srv.make_url("/flaky"), middlewares=()) as r:
                request.headers["X-Side"] = str(r.status)
        return await handler(request)

    async with (
        ClientSession(middlewares=(side_call,)) as session,
        session.get(srv.make_url("/echo")) as resp,
    ):
        assert (await resp.json())["headers"]["X-Side"] == "503"
