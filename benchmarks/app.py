"""The benchmark server: one application, the same code on aiohyper and on aiohttp.

Usage (normally started by a suite, pinned to one core)::

    BENCH_FRAMEWORK=aiohyper python benchmarks/app.py [--loop asyncio|uvloop] [--middleware]
        [--ws] [--static-dir DIR] [--port 0]

Routes: ``GET /plaintext``, ``GET /json``, ``POST /echo`` (returns the body), 100 filler routes
(50 static, 50 dynamic) registered *before* ``GET /user/{id}`` so the router has to get past them,
``/static/...`` (``add_static`` on ``--static-dir``) and, with ``--ws``, ``GET /ws`` (binary and
text echo). ``--middleware`` adds one pass-through middleware. Served through ``web.AppRunner`` +
``web.TCPSite`` with ``access_log=None``; prints ``READY <port>`` when listening and runs until
killed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import load_framework, loop_factory

aiohttp, web = load_framework()

HELLO = b"Hello, World!"
N_FILLER = 100


async def plaintext(request: Any) -> Any:
    return web.Response(body=HELLO, content_type="text/plain")


async def json_handler(request: Any) -> Any:
    return web.json_response({"message": "Hello, World!"})


async def user(request: Any) -> Any:
    return web.Response(text="user " + request.match_info["id"])


async def echo(request: Any) -> Any:
    body = await request.read()
    return web.Response(body=body, content_type="application/octet-stream")


async def filler(request: Any) -> Any:
    return web.Response(text="filler")


async def ws_echo(request: Any) -> Any:
    ws = web.WebSocketResponse(max_msg_size=8 * 1024 * 1024)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
        elif msg.type == aiohttp.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        else:
            break
    return ws


@web.middleware  # type: ignore[untyped-decorator]
async def passthrough(request: Any, handler: Any) -> Any:
    return await handler(request)


def build_app(*, middleware: bool, ws: bool, static_dir: str | None) -> Any:
    app = web.Application(middlewares=[passthrough] if middleware else [])
    r = app.router
    r.add_get("/plaintext", plaintext)
    r.add_get("/json", json_handler)
    r.add_post("/echo", echo)
    for i in range(N_FILLER // 2):
        r.add_get(f"/api/v1/item{i}", filler)
        r.add_get(f"/api/v1/item{i}/{{key}}/detail", filler)
    r.add_get("/user/{id}", user)
    if ws:
        r.add_get("/ws", ws_echo)
    if static_dir:
        r.add_static("/static", static_dir)
    return app


async def serve(args: argparse.Namespace) -> None:
    app = build_app(middleware=args.middleware, ws=args.ws, static_dir=args.static_dir)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=2048)
    await site.start()
    port = runner.addresses[0][1]
    print(f"READY {port}", flush=True)
    try:
        await asyncio.Event().wait()  # until SIGTERM kills the process
    finally:
        await runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--middleware", action="store_true")
    ap.add_argument("--ws", action="store_true")
    ap.add_argument("--static-dir")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        runner.run(serve(args))


if __name__ == "__main__":
    main()
