"""The floor: the same exchanges with no framework at all, on bare asyncio ``Protocol``s.

A reference column (``raw asyncio``), not in the ratio. It shows what the event loop, the
kernel and the peer cost on their own: a framework can only add to it. Where aiohttp already
sits close to this floor (one request or one WebSocket message at a time, each side waiting for
the other), no framework can be much faster than aiohttp, whatever it does.

* client cases (``--small`` / ``--big``, same servers as ``bench_client.py``): ``seq_get``
  (requests on one connection, one at a time), ``conc_get`` (64 connections, one request at a
  time on each), ``download`` (median of 5 transfers); responses are parsed just enough to
  find their end (the head's ``Content-Length``). The GET cases also report their CPU time per
  request (``<case>_cpu_us``);
* ``--serve-echo``: a TCP echo server (prints ``READY <port>``), and ``--ws-url host:port``:
  a client sending a masked WebSocket frame of each ``--sizes`` payload and waiting for the
  same number of bytes back, for ``--duration`` seconds (round trips/s, and ``<size>_cpu_us``:
  the CPU time per round trip of the client plus, with ``--server-pid``, the server's).

Prints one JSON line, like the other workers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import struct
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, timed_round_trips

MiB = 1024 * 1024
CONCURRENCY = 64
DOWNLOADS = 5
CPU: dict[str, float] = {}  # CPU time per request (µs), by case


class HttpClient(asyncio.Protocol):
    """One keep-alive connection; `get` sends a request and waits for the end of its answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.left = -1  # body bytes still to come, -1 while the head is incomplete
        self.done: asyncio.Future[int] | None = None
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.left < 0:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            start = head.index(b"content-length:") + 15
            line_end = head.find(b"\r\n", start)
            length = int(head[start : line_end if line_end >= 0 else None])
            self.size = length
            self.left = length - (len(self.buf) - end - 4)
            self.buf.clear()
        else:
            self.left -= len(data)
        if self.left <= 0 and self.done is not None:
            self.left = -1
            self.done.set_result(self.size)

    async def get(self, request: bytes) -> int:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.done


async def connect(url: str) -> tuple[HttpClient, bytes]:
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(HttpClient, host, int(port))
    return proto, f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode()


async def seq_get(args: argparse.Namespace) -> float:
    client, request = await connect(args.small)
    for _ in range(max(50, args.requests // 20)):
        await client.get(request)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(args.requests):
        await client.get(request)
    CPU["seq_get"] = (time.process_time() - c0) / args.requests * 1e6
    return args.requests / (time.perf_counter() - t0)


async def conc_get(args: argparse.Namespace) -> float:
    per_task = args.requests // CONCURRENCY
    clients = [await connect(args.small) for _ in range(CONCURRENCY)]

    async def worker(client: HttpClient, request: bytes, count: int) -> None:
        for _ in range(count):
            await client.get(request)

    await asyncio.gather(*(worker(c, r, 4) for c, r in clients))
    t0 = time.perf_counter()
    c0 = time.process_time()
    await asyncio.gather(*(worker(c, r, per_task) for c, r in clients))
    CPU["conc_get"] = (time.process_time() - c0) / (per_task * CONCURRENCY) * 1e6
    return per_task * CONCURRENCY / (time.perf_counter() - t0)


async def download(args: argparse.Namespace) -> float:
    client, request = await connect(args.big)
    rates = []
    for _ in range(DOWNLOADS):
        t0 = time.perf_counter()
        n = await client.get(request)
        rates.append(n / MiB / (time.perf_counter() - t0))
        if n != args.big_size:
            raise RuntimeError(f"downloaded {n} bytes, expected {args.big_size}")
    return statistics.median(rates)


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class EchoClient(asyncio.Protocol):
    def __init__(self) -> None:
        self.left = 0
        self.done: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self.left -= len(data)
        if self.left <= 0 and self.done is not None:
            self.done.set_result(None)


def masked_frame(size: int) -> bytes:
    if size < 126:
        head = struct.pack("!BB", 0x82, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x82, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x82, 0x80 | 127, size)
    return head + os.urandom(4) + os.urandom(size)


async def ws_round_trips(
    url: str, size: int, duration: float, server_pid: int
) -> tuple[float, float]:
    host, _, port = url.partition(":")
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(EchoClient, host, int(port))
    frame = masked_frame(size)

    async def round_trip() -> None:
        proto.left = len(frame)
        proto.done = loop.create_future()
        transport.write(frame)
        await proto.done

    try:
        return await timed_round_trips(round_trip, duration, server_pid)
    finally:
        transport.close()


async def serve_echo() -> None:
    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0, backlog=128)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    jobs: dict[str, Any] = {}
    if args.ws_url:
        for size in args.sizes:
            try:
                out[str(size)], out[f"{size}_cpu_us"] = await asyncio.wait_for(
                    ws_round_trips(args.ws_url, size, args.duration, args.server_pid),
                    args.case_timeout,
                )
            except Exception as exc:
                out[str(size)] = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        jobs = {"seq_get": seq_get(args), "conc_get": conc_get(args), "download": download(args)}
    for name, job in jobs.items():
        try:
            out[name] = await asyncio.wait_for(job, args.case_timeout)
        except Exception as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        if name in CPU and not isinstance(out[name], dict):
            out[name + "_cpu_us"] = CPU[name]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small")
    ap.add_argument("--big")
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--big-size", type=int, default=100 * MiB)
    ap.add_argument("--serve-echo", action="store_true")
    ap.add_argument("--ws-url")
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 65536])
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--case-timeout", type=float, default=120)
    args = ap.parse_args()
    if args.serve_echo:
        asyncio.run(serve_echo())
    else:
        emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
