"""A fast HTTP/1.1 server with canned responses, for the client suite when nginx is missing and
for uploads (nginx answers a ``return`` location before it has read the request body, so the
client would be timed on less than the whole upload).

Raw ``asyncio.Protocol`` (on uvloop when installed), no framework. Routes:

* ``GET /small`` → ``Hello, World!`` (13 bytes);
* ``GET /big`` → ``--big-size`` bytes of zeros, written with back-pressure;
* ``POST /upload`` → reads the whole ``Content-Length`` body, then answers ``ok``.

Keep-alive always; pipelining is not needed by the benchmarks. Prints ``READY <port>``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

SMALL = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
CHUNK = bytes(256 * 1024)


class Canned(asyncio.Protocol):
    """One connection: parse the head, skip the body, write the canned answer."""

    big_size = 100 * 1024 * 1024

    def __init__(self) -> None:
        self.buf = bytearray()
        self.body_left = 0  # bytes of a request body still to be read
        self.transport: asyncio.Transport | None = None
        self.can_write = asyncio.Event()
        self.can_write.set()
        self.sending: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.can_write.set()
        if self.sending is not None:
            self.sending.cancel()

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def data_received(self, data: bytes) -> None:
        if self.body_left:
            if len(data) <= self.body_left:
                self.body_left -= len(data)
                if not self.body_left:
                    self.reply(OK)
                return
            data = data[self.body_left :]
            self.body_left = 0
            self.reply(OK)
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            del self.buf[: end + 4]
            line, _, fields = head.partition(b"\r\n")
            method, target = line.split(b" ", 2)[:2]
            length = 0
            for field in fields.split(b"\r\n"):
                name, _, value = field.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if method == b"POST":
                have = min(length, len(self.buf))
                del self.buf[:have]
                self.body_left = length - have
                if not self.body_left:
                    self.reply(OK)
            elif target == b"/small":
                self.reply(SMALL)
            elif target == b"/big":
                self.sending = asyncio.ensure_future(self.send_big())
            else:
                self.reply(NOT_FOUND)

    def reply(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def send_big(self) -> None:
        assert self.transport is not None
        left = self.big_size
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % left
        )
        view = memoryview(CHUNK)
        while left > 0 and not self.transport.is_closing():
            n = min(left, len(CHUNK))
            self.transport.write(view[:n])
            left -= n
            if not self.can_write.is_set():
                await self.can_write.wait()


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Canned, "127.0.0.1", port, backlog=1024)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--big-size", type=int, default=Canned.big_size)
    args = ap.parse_args()
    Canned.big_size = args.big_size
    factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(args.port))


if __name__ == "__main__":
    main()
