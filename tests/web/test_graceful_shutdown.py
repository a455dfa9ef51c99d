"""Graceful shutdown through ``runner.cleanup()`` with real sockets.

The documented sequence: sites stop (new connections refused), idle connections close, the
``on_shutdown`` signals run, running handlers get ``shutdown_timeout`` seconds to finish (their
responses go out with ``Connection: close``), stragglers are cancelled, then ``on_cleanup``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from aiohyper import web

H = b"Host: example.com\r\n"


@dataclass(slots=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


async def read_response(reader: asyncio.StreamReader, timeout: float = 5.0) -> RawResponse:
    """One Content-Length framed response (all our handlers send one)."""
    async with asyncio.timeout(timeout):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers["content-length"]))
    return RawResponse(int(lines[0].split(" ")[1]), headers, body)


async def start(app: web.Application, **kwargs: object) -> tuple[web.AppRunner, str, int]:
    runner = web.AppRunner(app, access_log=None, **kwargs)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, host, port


@pytest.fixture
async def runners() -> AsyncIterator[list[web.AppRunner]]:
    """Runners a test started; cleaned up if the test failed before doing it itself."""
    started: list[web.AppRunner] = []
    yield started
    for runner in started:
        if runner.server is not None:
            await runner.cleanup()


async def test_in_flight_requests_finish_during_cleanup(runners: list[web.AppRunner]) -> None:
    count = 100
    shutdown_timeout = 5.0
    in_flight = 0
    finished = 0
    all_started = asyncio.Event()
    signals: list[tuple[str, int, int]] = []

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, finished
        in_flight += 1
        if in_flight == count:
            all_started.set()
        await asyncio.sleep(0.5)
        in_flight -= 1
        finished += 1
        return web.Response(text="done " + request.match_info["n"])

    async def on_shutdown(app: web.Application) -> None:
        signals.append(("shutdown", in_flight, finished))

    async def on_cleanup(app: web.Application) -> None:
        signals.append(("cleanup", in_flight, finished))

    app = web.Application()
    app.router.add_get("/{n}", slow)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    runner, host, port = await start(app, shutdown_timeout=shutdown_timeout)
    runners.append(runner)

    async def client(n: int) -> tuple[RawResponse, bytes]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(b"GET /%d HTTP/1.1\r\n" % n + H + b"\r\n")
            resp = await read_response(reader)
            async with asyncio.timeout(5):
                rest = await reader.read()  # the server closes after the response
            return resp, rest
        finally:
            writer.close()

    clients = [asyncio.create_task(client(n)) for n in range(count)]
    async with asyncio.timeout(5):
        await all_started.wait()

    loop = asyncio.get_running_loop()
    began = loop.time()
    cleanup = asyncio.create_task(runner.cleanup())
    await asyncio.sleep(0.05)
    assert not cleanup.done()
    # Shutdown has begun: the listening socket is gone.
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(host, port)

    results = await asyncio.gather(*clients)
    async with asyncio.timeout(shutdown_timeout + 1):
        await cleanup
    elapsed = loop.time() - began

    for n, (resp, rest) in enumerate(results):
        assert resp.status == 200
        assert resp.body == b"done %d" % n
        assert resp.headers["connection"].lower() == "close"
        assert rest == b""
    assert finished == count
    # The handlers finished on their own (0.5 s), well within shutdown_timeout.
    assert elapsed < shutdown_timeout
    # on_shutdown ran while every handler was still in flight; on_cleanup after them all.
    assert signals == [("shutdown", count, 0), ("cleanup", 0, count)]
    assert runner.server is None


async def test_idle_keep_alive_connections_close_at_once(runners: list[web.AppRunner]) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    runner, host, port = await start(app, shutdown_timeout=5.0)
    runners.append(runner)
    conns = [await asyncio.open_connection(host, port) for _ in range(5)]
    for reader, writer in conns:
        writer.write(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        resp = await read_response(reader)
        assert resp.headers.get("connection", "").lower() != "close"

    loop = asyncio.get_running_loop()
    began = loop.time()
    await runner.cleanup()
    # Nothing was running: no reason to wait for the grace period.
    assert loop.time() - began < 1.0
    for reader, writer in conns:
        async with asyncio.timeout(2):
            assert await reader.read() == b""
        writer.close()


async def test_handlers_over_the_timeout_are_cancelled(runners: list[web.AppRunner]) -> None:
    started = asyncio.Event()
    outcome: list[str] = []

    async def stuck(request: web.Request) -> web.Response:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", stuck)
    runner, host, port = await start(app, shutdown_timeout=0.3)
    runners.append(runner)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
    async with asyncio.timeout(5):
        await started.wait()

    loop = asyncio.get_running_loop()
    began = loop.time()
    await runner.cleanup()
    elapsed = loop.time() - began
    assert outcome == ["cancelled"]
    assert 0.25 <= elapsed < 2.0
    # No response was produced; the connection is closed.
    async with asyncio.timeout(2):
        assert await reader.read() == b""
    writer.close()


async def test_request_body_still_flows_during_shutdown(runners: list[web.AppRunner]) -> None:
    """A handler in the middle of reading its body can finish reading it after cleanup began."""
    started = asyncio.Event()

    async def upload(request: web.Request) -> web.Response:
        started.set()
        body = await request.read()
        return web.Response(text=str(len(body)))

    app = web.Application()
    app.router.add_post("/", upload)
    runner, host, port = await start(app, shutdown_timeout=5.0)
    runners.append(runner)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 10000\r\n\r\n" + b"a" * 100)
    async with asyncio.timeout(5):
        await started.wait()
    cleanup = asyncio.create_task(runner.cleanup())
    await asyncio.sleep(0.1)
    writer.write(b"a" * 9900)
    resp = await read_response(reader)
    assert (resp.status, resp.body) == (200, b"10000")
    assert resp.headers["connection"].lower() == "close"
    async with asyncio.timeout(5):
        await cleanup
    writer.close()
