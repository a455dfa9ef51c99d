"""httpx (an independent HTTP/1.1 client, h11 underneath) against the aiohyper server."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aiohyper import web

# Fixtures (conftest.py): serve_app.


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


async def test_get_json(client: httpx.AsyncClient, serve_app: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"path": request.path, "q": request.query.get("q")})

    app = web.Application()
    app.router.add_get("/item", handler)
    base = await serve_app(app)
    resp = await client.get(f"{base}/item", params={"q": "café"})
    assert resp.status_code == 200
    assert resp.http_version == "HTTP/1.1"
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert resp.json() == {"path": "/item", "q": "café"}


async def test_post_json_echo(client: httpx.AsyncClient, serve_app: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        payload = await request.json()
        return web.json_response({"got": payload, "ct": request.content_type}, status=201)

    app = web.Application()
    app.router.add_post("/echo", handler)
    base = await serve_app(app)
    doc = {"a": [1, 2, 3], "b": {"c": None, "d": "ü" * 100}}
    resp = await client.post(f"{base}/echo", json=doc)
    assert resp.status_code == 201
    assert resp.json() == {"got": doc, "ct": "application/json"}


async def test_post_form(client: httpx.AsyncClient, serve_app: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response({k: str(v) for k, v in form.items()})

    app = web.Application()
    app.router.add_post("/form", handler)
    base = await serve_app(app)
    resp = await client.post(f"{base}/form", data={"x": "1", "y": "a b&c"})
    assert resp.json() == {"x": "1", "y": "a b&c"}


async def test_streaming_response_arrives_incrementally(
    client: httpx.AsyncClient, serve_app: Any
) -> None:
    """The handler only writes its second chunk after the client has read the first one."""
    first_seen = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/plain"
        await resp.prepare(request)
        await resp.write(b"first;")
        async with asyncio.timeout(5):
            await first_seen.wait()
        for i in range(100):
            await resp.write(b"chunk%d;" % i)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/stream", handler)
    base = await serve_app(app)
    received = bytearray()
    async with client.stream("GET", f"{base}/stream") as resp:
        assert resp.status_code == 200
        assert resp.headers["transfer-encoding"] == "chunked"
        async for piece in resp.aiter_raw():
            received += piece
            if received.startswith(b"first;"):
                first_seen.set()
    assert received == b"first;" + b"".join(b"chunk%d;" % i for i in range(100))


async def test_streaming_upload(client: httpx.AsyncClient, serve_app: Any) -> None:
    """httpx sends an async generator body chunked; the handler reads it as a stream."""
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["te"] = request.headers.get("Transfer-Encoding")
        digest = hashlib.sha256()
        async for chunk in request.content.iter_chunked(4096):
            digest.update(chunk)
        return web.Response(text=digest.hexdigest())

    app = web.Application()
    app.router.add_put("/up", handler)
    base = await serve_app(app)
    parts = [bytes([i]) * 10_000 for i in range(50)]

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    resp = await client.put(f"{base}/up", content=body())
    assert resp.status_code == 200
    assert resp.text == hashlib.sha256(b"".join(parts)).hexdigest()
    assert seen["te"] == "chunked"


async def test_keep_alive_reuses_one_connection(client: httpx.AsyncClient, serve_app: Any) -> None:
    peers: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        body = await request.read()
        return web.Response(body=body or b"empty")

    app = web.Application()
    app.router.add_route("*", "/", handler)
    base = await serve_app(app)
    for i in range(10):
        if i % 2:
            resp = await client.post(f"{base}/", content=b"x" * i)
            assert resp.content == b"x" * i
        else:
            resp = await client.get(f"{base}/")
            assert resp.content == b"empty"
        assert resp.http_version == "HTTP/1.1"
        assert resp.headers.get("connection", "").lower() != "close"
    assert len(peers) == 10
    assert len(set(peers)) == 1, peers


async def test_connection_close_honoured(client: httpx.AsyncClient, serve_app: Any) -> None:
    """``Connection: close`` from the client: the server answers and closes; httpx reconnects."""
    peers: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    base = await serve_app(app)
    for _ in range(3):
        resp = await client.get(f"{base}/", headers={"Connection": "close"})
        assert resp.text == "ok"
        assert resp.headers["connection"].lower() == "close"
    assert len(set(peers)) == 3


async def test_error_statuses(client: httpx.AsyncClient, serve_app: Any) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    async def conflict(request: web.Request) -> web.Response:
        raise web.HTTPConflict(text="busy", headers={"X-Why": "lock"})

    app = web.Application()
    app.router.add_get("/boom", boom)
    app.router.add_get("/conflict", conflict)
    base = await serve_app(app, access_log=None)
    assert (await client.get(f"{base}/missing")).status_code == 404
    assert (await client.post(f"{base}/boom")).status_code == 405
    resp = await client.get(f"{base}/boom")
    assert resp.status_code == 500
    assert "boom" not in resp.text  # no traceback outside debug mode
    resp = await client.get(f"{base}/conflict")
    assert (resp.status_code, resp.text, resp.headers["x-why"]) == (409, "busy", "lock")
    # The connection pool still works after the errors.
    assert (await client.get(f"{base}/missing")).status_code == 404


async def test_many_concurrent_clients(serve_app: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(0.01)
        return web.json_response({"n": int(request.match_info["n"])})

    app = web.Application()
    app.router.add_get("/{n}", handler)
    base = await serve_app(app)
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
        responses = await asyncio.gather(*(client.get(f"{base}/{n}") for n in range(100)))
    assert [json.loads(r.content)["n"] for r in responses] == list(range(100))
