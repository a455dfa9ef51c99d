"""Client worker: one framework's HTTP client against a fast local server; prints one JSON line.

``BENCH_FRAMEWORK`` is ``aiohyper``, ``aiohttp`` (same code, ``ClientSession``) or ``httpx``
(``AsyncClient``, for reference). Cases, each bounded by ``--case-timeout``:

* ``seq_get``: ``--requests`` sequential GETs on one keep-alive connection (req/s);
* ``conc_get``: ``--requests`` GETs from 64 tasks through one session (req/s);
* ``download``: GETs of ``--big-size`` bytes, read as they come (MiB/s, median of 5);
* ``upload``: ``--uploads`` sequential POSTs of 1 MiB (MiB/s).

Each case reports a number or ``{"error": "..."}``, so one broken case does not hide the others.
The GET cases also report ``<case>_cpu_us``: this process's CPU time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, load_framework, loop_factory

MiB = 1024 * 1024
CONCURRENCY = 64
UPLOAD_SIZE = MiB
# CPU time of this process per request (µs), by case: what the client itself costs, apart
# from the time spent waiting for the server and for the other core to wake up.
CPU: dict[str, float] = {}
DOWNLOADS = 5


class AiohttpStyle:
    """The cases on ``aiohttp.ClientSession`` (aiohyper or aiohttp: identical code)."""

    def __init__(self, framework: str) -> None:
        self.aiohttp, _ = load_framework(framework)

    def session(self, limit: int) -> Any:
        connector = self.aiohttp.TCPConnector(limit=limit)
        return self.aiohttp.ClientSession(connector=connector)

    async def get(self, session: Any, url: str) -> bytes:
        async with session.get(url) as resp:
            body: bytes = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
            return body

    async def download(self, session: Any, url: str) -> int:
        n = 0
        async with session.get(url) as resp:
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
            async for chunk in resp.content.iter_any():
                n += len(chunk)
        return n

    async def post(self, session: Any, url: str, body: bytes) -> bytes:
        async with session.post(url, data=body) as resp:
            data: bytes = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
            return data


class HttpxStyle:
    """The same cases on ``httpx.AsyncClient`` (HTTP/1.1)."""

    def __init__(self) -> None:
        import httpx

        self.httpx = httpx

    def session(self, limit: int) -> Any:
        limits = self.httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        return self.httpx.AsyncClient(limits=limits, timeout=60)

    async def get(self, session: Any, url: str) -> bytes:
        resp = await session.get(url)
        if resp.status_code != 200:
            raise RuntimeError(f"status {resp.status_code}")
        body: bytes = resp.content
        return body

    async def download(self, session: Any, url: str) -> int:
        n = 0
        async with session.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise RuntimeError(f"status {resp.status_code}")
            async for chunk in resp.aiter_bytes():
                n += len(chunk)
        return n

    async def post(self, session: Any, url: str, body: bytes) -> bytes:
        resp = await session.post(url, content=body)
        if resp.status_code != 200:
            raise RuntimeError(f"status {resp.status_code}")
        data: bytes = resp.content
        return data


async def seq_get(c: Any, args: argparse.Namespace) -> float:
    async with c.session(1) as s:
        body = await c.get(s, args.small)
        if body != b"Hello, World!":
            raise RuntimeError(f"unexpected body {body[:40]!r}")
        for _ in range(max(50, args.requests // 20)):  # warm-up
            await c.get(s, args.small)
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(args.requests):
            await c.get(s, args.small)
        CPU["seq_get"] = (time.process_time() - c0) / args.requests * 1e6
        return float(args.requests / (time.perf_counter() - t0))


async def conc_get(c: Any, args: argparse.Namespace) -> float:
    per_task = args.requests // CONCURRENCY

    async def worker(count: int) -> None:
        for _ in range(count):
            await c.get(s, args.small)

    async with c.session(100) as s:
        await asyncio.gather(*(worker(4) for _ in range(CONCURRENCY)))  # open the connections
        t0 = time.perf_counter()
        c0 = time.process_time()
        await asyncio.gather(*(worker(per_task) for _ in range(CONCURRENCY)))
        CPU["conc_get"] = (time.process_time() - c0) / (per_task * CONCURRENCY) * 1e6
        return float(per_task * CONCURRENCY / (time.perf_counter() - t0))


async def download(c: Any, args: argparse.Namespace) -> float:
    # One 100 MiB transfer takes ~50 ms on loopback, within scheduling noise: the figure is
    # the median of DOWNLOADS transfers on the same connection.
    rates = []
    async with c.session(1) as s:
        await c.get(s, args.small)  # connect first: time only the transfers
        for _ in range(DOWNLOADS):
            t0 = time.perf_counter()
            n = await c.download(s, args.big)
            elapsed = time.perf_counter() - t0
            if n != args.big_size:
                raise RuntimeError(f"downloaded {n} bytes, expected {args.big_size}")
            rates.append(n / MiB / elapsed)
    return float(statistics.median(rates))


async def upload(c: Any, args: argparse.Namespace) -> float:
    body = os.urandom(UPLOAD_SIZE)
    async with c.session(1) as s:
        if await c.post(s, args.upload, body) != b"ok":  # also the warm-up
            raise RuntimeError("unexpected upload answer")
        t0 = time.perf_counter()
        for _ in range(args.uploads):
            await c.post(s, args.upload, body)
        return float(args.uploads * UPLOAD_SIZE / MiB / (time.perf_counter() - t0))


CASES: dict[str, Callable[[Any, argparse.Namespace], Awaitable[float]]] = {
    "seq_get": seq_get,
    "conc_get": conc_get,
    "download": download,
    "upload": upload,
}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    framework = os.environ.get("BENCH_FRAMEWORK", "aiohyper")
    out: dict[str, Any] = {}
    try:
        client = HttpxStyle() if framework == "httpx" else AiohttpStyle(framework)
    except Exception as exc:
        return {name: {"error": f"{type(exc).__name__}: {exc}"} for name in args.cases}
    for name in args.cases:
        try:
            out[name] = await asyncio.wait_for(CASES[name](client, args), args.case_timeout)
        except TimeoutError:
            out[name] = {"error": f"timed out after {args.case_timeout:g}s"}
        except Exception as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        if name in CPU and not isinstance(out[name], dict):
            out[name + "_cpu_us"] = CPU[name]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", required=True)
    ap.add_argument("--big", required=True)
    ap.add_argument("--upload", required=True)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--big-size", type=int, default=100 * MiB)
    ap.add_argument("--uploads", type=int, default=50)
    ap.add_argument("--case-timeout", type=float, default=120)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = ap.parse_args()
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        emit(runner.run(run(args)))


if __name__ == "__main__":
    main()
