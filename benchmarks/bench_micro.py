"""Micro-benchmarks of one framework (``BENCH_FRAMEWORK``); prints one JSON line of ops/s.

The same operation through the public (or, where there is no public door, the semi-public) API
of each framework:

* ``parse``: HTTP/1.1 request parsing (``bench_parser.py``: pipelined, 10 headers each);
* ``resolve_dynamic`` / ``resolve_static``: ``await app.router.resolve(request)`` for
  ``/user/{id}`` (after 100 other routes) and ``/plaintext``, on ``app.py``'s application;
* ``prepare``: ``web.Response(body=...)``, ``await resp.prepare(request)``, ``await
  resp.write_eof()`` on a ``make_mocked_request`` whose payload writer discards everything;
* ``pipeline``: a whole request through ``AppRunner.server``'s protocol on a fake transport
  (parse, route, handler, serialise; no socket);
* ``cookie_filter``: ``CookieJar.filter_cookies(url)`` on a jar of 250 cookies;
* ``multipart``: ``MultipartReader`` over a 10-field + 256 KiB-file form held in a StreamReader;
* ``ws_mask_16`` / ``ws_mask_64k``: masking a 16 B / 64 KiB payload into a new buffer;
* ``ws_parse_16`` / ``ws_parse_64k``: parsing masked client frames (``WebSocketReader``) and
  reading the messages from its queue.

Each case is calibrated to run about ``--min-time`` seconds, best of 3; a case that fails
reports ``{"error": "..."}``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, load_framework

FW = os.environ.get("BENCH_FRAMEWORK", "aiohyper")
aiohttp, web = load_framework(FW)

SyncBody = Callable[[int], None]
AsyncBody = Callable[[int], Awaitable[None]]


# -- timing -------------------------------------------------------------------------------------


async def measure(body: SyncBody | AsyncBody, min_time: float, is_async: bool) -> float:
    """Ops/s of ``body(n)`` (which performs ``n`` operations): calibrated, best of 3."""

    async def timed(n: int) -> float:
        t0 = time.perf_counter()
        if is_async:
            await body(n)  # type: ignore[misc]
        else:
            body(n)
        return time.perf_counter() - t0

    n = 1
    while True:
        dt = await timed(n)
        if dt >= min_time / 20 or n >= 1 << 24:
            break
        n *= 4
    n = max(1, int(n * (min_time / 3) / max(dt, 1e-9)))
    best = min([await timed(n) for _ in range(3)])
    return n / best


# -- helpers ----------------------------------------------------------------------------------


class NullWriter:
    """A payload writer that discards everything (both frameworks' writer interface)."""

    def __init__(self) -> None:
        self.buffer_size = 0
        self.output_size = 0
        self.length: int | None = None

    def enable_chunking(self) -> None:
        pass

    def enable_compression(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def write_headers(self, status_line: str, headers: Any) -> None:
        pass

    def send_headers(self) -> None:
        pass

    async def write(self, data: Any, *args: Any, **kwargs: Any) -> None:
        self.output_size += len(data)

    async def write_eof(self, data: bytes = b"") -> None:
        self.output_size += len(data)

    async def drain(self) -> None:
        pass

    def set_eof(self) -> None:
        pass


class FakeTransport(asyncio.Transport):
    """Collects writes; resolves ``waiter`` on the first write after it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.waiter: asyncio.Future[None] | None = None
        self.written = 0
        self.closing = False

    def write(self, data: Any) -> None:
        self.written += len(data)
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def writelines(self, chunks: Any) -> None:
        for c in chunks:
            self.write(c)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return True

    def set_write_buffer_limits(self, high: Any = None, low: Any = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def frozen_app() -> Any:
    from app import build_app

    app = build_app(middleware=False, ws=False, static_dir=None)
    app.freeze()
    return app


def mocked_request(path: str, app: Any, writer: Any = None) -> Any:
    kwargs = {"app": app}
    if writer is not None:
        kwargs["writer"] = writer
    test_utils = importlib.import_module(f"{FW}.test_utils")
    return test_utils.make_mocked_request("GET", path, **kwargs)


def cookie_jar_class() -> Any:
    jar = getattr(aiohttp, "CookieJar", None)
    if jar is None and FW == "aiohyper":
        from aiohyper.client._cookiejar import CookieJar as jar
    return jar


def stream_classes() -> tuple[Any, Any]:
    base_protocol = importlib.import_module(f"{FW}.base_protocol")
    streams = importlib.import_module(f"{FW}.streams")
    return base_protocol.BaseProtocol, streams.StreamReader


def mask_function() -> Callable[[bytes, bytes], Any]:
    if FW == "aiohyper":
        from aiohyper._ws._mask import websocket_mask

        return websocket_mask
    from aiohttp._websocket.helpers import websocket_mask as in_place

    def mask(key: bytes, data: bytes) -> bytearray:
        buf = bytearray(data)  # aiohttp masks in place: copy, as ours returns a new buffer
        in_place(key, buf)
        return buf

    return mask


def ws_reader(loop: asyncio.AbstractEventLoop) -> tuple[Any, Any]:
    """``(reader, queue)``: aiohttp's ``http_websocket.WebSocketReader`` and its data queue."""
    BaseProtocol, _ = stream_classes()
    http_websocket = importlib.import_module(f"{FW}.http_websocket")
    if FW == "aiohyper":
        queue_class = http_websocket.WebSocketDataQueue
    else:  # not re-exported by aiohttp.http_websocket
        queue_class = importlib.import_module("aiohttp._websocket.reader").WebSocketDataQueue
    queue = queue_class(BaseProtocol(loop), 2**30, loop=loop)
    return http_websocket.WebSocketReader(queue, 8 * 1024 * 1024, compress=False), queue


def client_frame(payload: bytes, key: bytes = b"\x12\x34\x56\x78") -> bytes:
    """A masked binary frame as a client sends it (RFC 6455 §5.2), built here, not by either."""
    n = len(payload)
    if n < 126:
        head = bytes([0x82, 0x80 | n])
    elif n < 65536:
        head = bytes([0x82, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x82, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


# -- cases ------------------------------------------------------------------------------------


async def case_parse(min_time: float) -> float:
    import bench_parser

    n = max(6400, int(200_000 * min_time))
    return float(bench_parser.run(FW, n)["rps"])  # type: ignore[arg-type]


async def case_resolve(path: str, min_time: float) -> float:
    app = frozen_app()
    req = mocked_request(path, app)
    resolve = app.router.resolve
    info = await resolve(req)
    if info.http_exception is not None:
        raise RuntimeError(f"{path} did not resolve: {info.http_exception!r}")

    async def body(n: int) -> None:
        for _ in range(n):
            await resolve(req)

    return await measure(body, min_time, True)


async def case_prepare(min_time: float) -> float:
    app = frozen_app()
    writer = NullWriter()
    req = mocked_request("/plaintext", app, writer)
    Response = web.Response

    async def body(n: int) -> None:
        for _ in range(n):
            resp = Response(body=b"Hello, World!", content_type="text/plain")
            await resp.prepare(req)
            await resp.write_eof()

    await body(1)
    return await measure(body, min_time, True)


async def case_pipeline(min_time: float) -> float:
    app = frozen_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        proto = runner.server()
        transport = FakeTransport()
        proto.connection_made(transport)
        loop = asyncio.get_running_loop()
        request = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench\r\n\r\n"

        async def body(n: int) -> None:
            for _ in range(n):
                fut = loop.create_future()
                transport.waiter = fut
                proto.data_received(request)
                await fut

        await asyncio.wait_for(body(10), 5)
        if transport.written < 10 * 100:
            raise RuntimeError(f"only {transport.written} bytes written for 10 responses")
        result = await measure(body, min_time, True)
        proto.connection_lost(None)
        return result
    finally:
        await runner.cleanup()


async def case_cookie_filter(min_time: float) -> float:
    from yarl import URL

    jar = cookie_jar_class()()
    for d in range(10):
        host = f"d{d}.example.com"
        url = URL(f"http://{host}/")
        jar.update_cookies({f"h{i}": "v" * 16 for i in range(15)}, url)  # host-only
        c: SimpleCookie = SimpleCookie()
        for i in range(10):
            name = f"p{i}"
            c[name] = "x" * 16
            c[name]["domain"] = "example.com" if i % 2 else host
            c[name]["path"] = "/path" if i % 3 == 0 else "/"
        jar.update_cookies(c, url)
    target = URL("http://d7.example.com/path/x")
    got = jar.filter_cookies(target)
    if len(got) < 15:
        raise RuntimeError(f"filter_cookies gave {len(got)} cookies")
    filter_cookies = jar.filter_cookies

    def body(n: int) -> None:
        for _ in range(n):
            filter_cookies(target)

    return await measure(body, min_time, False)


def multipart_body(boundary: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="field{i}"\r\n\r\n'
        f"value number {i}\r\n".encode()
        for i in range(10)
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="data.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + os.urandom(256 * 1024).replace(b"\r\n", b"\n\n")
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


async def case_multipart(min_time: float) -> float:
    BaseProtocol, StreamReader = stream_classes()
    loop = asyncio.get_running_loop()
    boundary = "----benchBoundary7MA4YWxkTrZu0gW"
    data = multipart_body(boundary)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    proto = BaseProtocol(loop)
    MultipartReader = aiohttp.MultipartReader

    async def parse_one() -> int:
        stream = StreamReader(proto, 2**22, loop=loop)
        stream.feed_data(data)
        stream.feed_eof()
        reader = MultipartReader(headers, stream)
        total = 0
        while True:
            part = await reader.next()
            if part is None:
                return total
            total += len(await part.read())

    got = await parse_one()
    if got != 256 * 1024 + sum(len(f"value number {i}") for i in range(10)):
        raise RuntimeError(f"multipart parsed {got} bytes")

    async def body(n: int) -> None:
        for _ in range(n):
            await parse_one()

    return await measure(body, min_time, True)


async def case_ws_mask(size: int, min_time: float) -> float:
    mask = mask_function()
    key = b"\x01\x02\x03\x04"
    data = os.urandom(size)
    if bytes(mask(key, mask(key, data))) != data:
        raise RuntimeError("mask is not an involution")

    def body(n: int) -> None:
        for _ in range(n):
            mask(key, data)

    return await measure(body, min_time, False)


async def case_ws_parse(size: int, min_time: float) -> float:
    loop = asyncio.get_running_loop()
    reader, queue = ws_reader(loop)
    payload = os.urandom(size)
    batch = 64 if size < 1024 else 1
    chunk = client_frame(payload) * batch
    feed = reader.feed_data
    read = queue.read

    first = None
    feed(chunk)
    for _ in range(batch):
        first = await read()
    if first is None or bytes(first.data) != payload:
        raise RuntimeError("frame did not parse to its payload")

    async def body(n: int) -> None:
        for _ in range(n):
            feed(chunk)
            for _ in range(batch):
                await read()

    return await measure(body, min_time, True) * batch


CASES: dict[str, Callable[[float], Awaitable[float]]] = {
    "parse": case_parse,
    "resolve_dynamic": lambda t: case_resolve("/user/12345", t),
    "resolve_static": lambda t: case_resolve("/plaintext", t),
    "prepare": case_prepare,
    "pipeline": case_pipeline,
    "cookie_filter": case_cookie_filter,
    "multipart": case_multipart,
    "ws_mask_16": lambda t: case_ws_mask(16, t),
    "ws_mask_64k": lambda t: case_ws_mask(65536, t),
    "ws_parse_16": lambda t: case_ws_parse(16, t),
    "ws_parse_64k": lambda t: case_ws_parse(65536, t),
}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in args.cases:
        try:
            out[name] = await asyncio.wait_for(CASES[name](args.min_time), 60)
        except TimeoutError:
            out[name] = {"error": "timed out"}
        except Exception as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per case (about)")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = ap.parse_args()
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
