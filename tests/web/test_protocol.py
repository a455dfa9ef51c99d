"""End-to-end tests of RequestHandler over real sockets on 127.0.0.1.

The client side is raw asyncio streams, so every byte the server sends is visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiohyper.web._exceptions import HTTPNotFound
from aiohyper.web._log import AccessLogger
from aiohyper.web._protocol import RequestHandler
from aiohyper.web._response import Response, StreamResponse
from aiohyper.web._server import Server

Handler = Callable[[Any], Awaitable[Any]]


@contextlib.asynccontextmanager
async def serving(handler: Handler, **kwargs: Any) -> AsyncIterator[tuple[Server, int]]:
    loop = asyncio.get_running_loop()
    kwargs.setdefault("access_log", None)
    server = Server(handler, **kwargs)
    srv = await loop.create_server(server, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield server, port
    finally:
        srv.close()
        await server.shutdown(0.5)
        await srv.wait_closed()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def read_response(
    reader: asyncio.StreamReader,
) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.x response (Content-Length, chunked or until EOF)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            parts.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(parts)
    else:
        body = await asyncio.wait_for(reader.read(), 5)
    return status, headers, body


async def assert_closed(reader: asyncio.StreamReader) -> None:
    assert await asyncio.wait_for(reader.read(), 5) == b""


def get(path: str = "/", *, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


async def hello(request: Any) -> Response:
    return Response(text=f"hello {request.path}")


# -- keep-alive and pipelining ----------------------------------------------------------------


async def test_keep_alive_reuses_the_connection() -> None:
    async with serving(hello) as (server, port):
        reader, writer = await connect(port)
        for path in ("/a", "/b", "/c"):
            writer.write(get(path))
            status, headers, body = await read_response(reader)
            assert status == 200
            assert body == f"hello {path}".encode()
            assert "connection" not in headers
        assert len(server.connections) == 1
        assert server.connections[0].request_count == 3
        assert server.requests_count == 3
        writer.close()


async def test_pipelined_requests_are_answered_in_order() -> None:
    async def handler(request: Any) -> Response:
        # The first request is the slowest: answers must still come in request order.
        await asyncio.sleep({"/1": 0.05, "/2": 0.02}.get(request.path, 0))
        return Response(text=request.path)

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"".join(get(f"/{i}") for i in range(1, 7)))
        bodies = [(await read_response(reader))[2] for _ in range(6)]
        assert bodies == [f"/{i}".encode() for i in range(1, 7)]
        writer.close()


async def test_many_pipelined_requests_pause_and_resume() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"".join(get(f"/{i}") for i in range(200)))
        for i in range(200):
            assert (await read_response(reader))[2] == f"hello /{i}".encode()
        writer.close()


async def test_pipelined_request_bodies() -> None:
    async def echo(request: Any) -> Response:
        return Response(body=await request.read())

    async with serving(echo) as (_server, port):
        reader, writer = await connect(port)
        writer.write(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"
        )
        assert (await read_response(reader))[2] == b"abc"
        assert (await read_response(reader))[2] == b"def"
        writer.close()


async def test_http10_closes_after_response() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"GET /old HTTP/1.0\r\n\r\n")
        status, _headers, body = await read_response(reader)
        assert status == 200
        assert body == b"hello /old"
        await assert_closed(reader)
        writer.close()


async def test_http10_keep_alive_is_honoured() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        for _ in range(2):
            writer.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = await read_response(reader)
            assert status == 200
            assert headers["connection"].lower() == "keep-alive"
        writer.close()


async def test_connection_close_request_header() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get("/x", extra="Connection: close\r\n") + get("/ignored"))
        status, headers, _ = await read_response(reader)
        assert status == 200
        assert headers["connection"] == "close"
        await assert_closed(reader)
        writer.close()


async def test_context_variables_do_not_leak_between_requests() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen = []

    async def handler(request: Any) -> Response:
        seen.append(var.get())
        var.set(request.path)
        return Response(text="ok")

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get("/a") + get("/b"))  # pipelined
        await read_response(reader)
        await read_response(reader)
        writer.write(get("/c"))  # keep-alive
        await read_response(reader)
        writer.close()
    assert seen == ["unset", "unset", "unset"]


# -- keep-alive timeout -----------------------------------------------------------------------


async def test_keepalive_timeout_closes_idle_connection() -> None:
    async with serving(hello, keepalive_timeout=0.2) as (server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await read_response(reader)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await assert_closed(reader)
        assert 0.1 < loop.time() - start < 2
        assert server.connections == []
        writer.close()


async def test_zero_keepalive_timeout_disables_keep_alive() -> None:
    async with serving(hello, keepalive_timeout=0) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        status, headers, _ = await read_response(reader)
        assert status == 200
        assert headers["connection"] == "close"
        await assert_closed(reader)
        writer.close()


async def test_keepalive_timer_is_pushed_back_by_activity() -> None:
    async with serving(hello, keepalive_timeout=0.3) as (_server, port):
        reader, writer = await connect(port)
        for _ in range(4):  # 0.6 s of activity, longer than the timeout
            writer.write(get())
            assert (await read_response(reader))[0] == 200
            await asyncio.sleep(0.15)
        await assert_closed(reader)
        writer.close()


async def test_silent_new_connection_is_closed_after_keepalive_timeout() -> None:
    async with serving(hello, keepalive_timeout=0.2) as (_server, port):
        reader, writer = await connect(port)
        await assert_closed(reader)
        writer.close()


async def test_slow_handler_is_not_cut_by_keepalive_timeout() -> None:
    async def slow(request: Any) -> Response:
        await asyncio.sleep(0.4)
        return Response(text="done")

    async with serving(slow, keepalive_timeout=0.1) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        assert (await read_response(reader))[2] == b"done"
        writer.close()


# -- Expect: 100-continue ---------------------------------------------------------------------


async def test_expect_continue_low_level_server() -> None:
    async def echo(request: Any) -> Response:
        return Response(body=await request.read())

    async with serving(echo) as (_server, port):
        reader, writer = await connect(port)
        writer.write(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == (
            b"HTTP/1.1 100 Continue\r\n\r\n"
        )
        writer.write(b"hello")
        status, _, body = await read_response(reader)
        assert (status, body) == (200, b"hello")
        writer.close()


async def test_expect_continue_not_sent_for_http10() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")
        status, _, _ = await read_response(reader)
        assert status == 200
        writer.close()


async def test_expect_continue_left_to_custom_request_factory() -> None:
    from aiohyper.web._request import BaseRequest

    def factory(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> Any:
        return BaseRequest(message, payload, protocol, writer, task, asyncio.get_running_loop())

    async with serving(hello, request_factory=factory) as (_server, port):
        reader, writer = await connect(port)
        writer.write(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n"
        )
        status, _, _ = await read_response(reader)
        assert status == 200  # no 100 Continue: the application decides
        writer.close()


# -- malformed requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 10000 + b"\r\n\r\n", 431),
        (
            b"GET / HTTP/1.1\r\nHost: t\r\n"
            + b"".join(b"X-%d: 1\r\n" % i for i in range(200))
            + b"\r\n",
            431,
        ),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            400,
        ),
    ],
)
async def test_malformed_request_gets_error_and_close(request_bytes: bytes, status: int) -> None:
    async with serving(hello) as (_server, port):
        other_reader, other_writer = await connect(port)
        reader, writer = await connect(port)
        writer.write(request_bytes)
        got, headers, body = await read_response(reader)
        assert got == status
        assert headers["connection"] == "close"
        assert body.startswith(str(status).encode())
        await assert_closed(reader)
        writer.close()
        # The server keeps serving other connections.
        other_writer.write(get("/still"))
        assert (await read_response(other_reader))[2] == b"hello /still"
        other_writer.close()


async def test_malformed_request_after_valid_one() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get("/ok"))
        assert (await read_response(reader))[0] == 200
        writer.write(b"BAD REQUEST\r\n\r\n")
        assert (await read_response(reader))[0] == 400
        await assert_closed(reader)
        writer.close()


async def test_malformed_request_while_handler_runs_waits_for_it() -> None:
    async def slow(request: Any) -> Response:
        await asyncio.sleep(0.1)
        return Response(text="slow")

    async with serving(slow) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await asyncio.sleep(0.02)
        writer.write(b"\x00\x01\x02\r\n\r\n")
        assert (await read_response(reader))[2] == b"slow"
        assert (await read_response(reader))[0] == 400
        await assert_closed(reader)
        writer.close()


# -- handler errors ---------------------------------------------------------------------------


async def test_handler_exception_gives_500(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Any) -> Response:
        raise ValueError("secret detail")

    async with serving(broken) as (_server, port):
        reader, writer = await connect(port)
        with caplog.at_level(logging.ERROR, logger="aiohyper.server"):
            writer.write(get())
            status, headers, body = await read_response(reader)
        assert status == 500
        assert headers["connection"] == "close"
        assert b"secret detail" not in body
        assert b"500 Internal Server Error" in body
        await assert_closed(reader)
        writer.close()
    assert any("Error handling request" in r.message for r in caplog.records)


async def test_handler_exception_traceback_in_debug() -> None:
    async def broken(request: Any) -> Response:
        raise ValueError("secret detail")

    async with serving(broken, debug=True) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get(extra="Accept: text/html\r\n"))
        status, headers, body = await read_response(reader)
        assert status == 500
        assert headers["content-type"].startswith("text/html")
        assert b"ValueError: secret detail" in body
        assert b"<pre>" in body
        writer.close()


async def test_request_factory_failure_gives_500(caplog: pytest.LogCaptureFixture) -> None:
    def factory(*args: Any) -> Any:
        raise RuntimeError("factory broke")

    async with serving(hello, request_factory=factory) as (_server, port):
        reader, writer = await connect(port)
        with caplog.at_level(logging.ERROR, logger="aiohyper.server"):
            writer.write(get())
            status, headers, body = await read_response(reader)
        assert status == 500
        assert headers["connection"] == "close"
        assert b"factory broke" not in body
        await assert_closed(reader)
        writer.close()
    assert "Error creating the request object" in caplog.text


async def test_handler_timeout_error_gives_504() -> None:
    async def times_out(request: Any) -> Response:
        raise TimeoutError

    async with serving(times_out) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        assert (await read_response(reader))[0] == 504
        writer.close()


async def test_handler_returning_none_gives_500() -> None:
    async def no_return(request: Any) -> None:
        return None

    async with serving(no_return, debug=True) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        status, _, body = await read_response(reader)
        assert status == 500
        assert b"Missing return statement" in body
        writer.close()


async def test_handler_failing_after_headers_closes_connection() -> None:
    async def half(request: Any) -> StreamResponse:
        resp = StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b"partial")
        raise RuntimeError("boom")

    async with serving(half) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 OK")
        rest = await asyncio.wait_for(reader.read(), 5)  # until the server closes
        assert b"partial" in rest
        assert b"500" not in rest
        writer.close()


async def test_raised_http_exception_is_sent() -> None:
    async def handler(request: Any) -> Response:
        raise HTTPNotFound(text="nothing here", headers={"X-Why": "because"})

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        for _ in range(2):  # the connection stays usable
            writer.write(get())
            status, headers, body = await read_response(reader)
            assert (status, body) == (404, b"nothing here")
            assert headers["x-why"] == "because"
        writer.close()


async def test_shared_http_exception_instance_can_be_raised_twice() -> None:
    not_found = HTTPNotFound(text="shared")

    async def handler(request: Any) -> Response:
        raise not_found

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get() + get())
        assert (await read_response(reader))[::2] == (404, b"shared")
        assert (await read_response(reader))[::2] == (404, b"shared")
        writer.close()


async def test_returned_http_exception_warns_and_is_sent() -> None:
    async def handler(request: Any) -> Any:
        return HTTPNotFound()

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        with pytest.warns(DeprecationWarning, match="returning HTTPException"):
            writer.write(get())
            assert (await read_response(reader))[0] == 404
        writer.close()


# -- request bodies ---------------------------------------------------------------------------


async def test_unread_small_body_is_drained_and_connection_reused() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        assert (await read_response(reader))[0] == 200
        writer.write(b"x" * 1000 + get("/next"))
        assert (await read_response(reader))[2] == b"hello /next"
        writer.close()


async def test_unread_large_body_closes_connection() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n")
        assert (await read_response(reader))[0] == 200
        await assert_closed(reader)
        writer.close()


async def test_unread_body_not_arriving_within_lingering_time_closes() -> None:
    async with serving(hello, lingering_time=0.2) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        assert (await read_response(reader))[0] == 200
        await assert_closed(reader)
        writer.close()


async def test_unread_body_without_lingering_closes() -> None:
    async with serving(hello, lingering_time=0) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nab")
        assert (await read_response(reader))[0] == 200
        await assert_closed(reader)
        writer.close()


async def test_large_body_streams_with_flow_control() -> None:
    size = 5 * 1024 * 1024

    async def count(request: Any) -> Response:
        total = 0
        async for chunk in request.content.iter_any():
            total += len(chunk)
        return Response(text=str(total))

    async with serving(count, read_bufsize=2**14) as (_server, port):
        reader, writer = await connect(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
        chunk = b"z" * 65536
        for _ in range(size // len(chunk)):
            writer.write(chunk)
            await writer.drain()
        assert (await read_response(reader))[2] == str(size).encode()
        writer.close()


# -- disconnection ----------------------------------------------------------------------------


async def test_disconnect_does_not_cancel_handler_by_default() -> None:
    started = asyncio.Event()
    finished = asyncio.Event()

    async def handler(request: Any) -> Response:
        started.set()
        await asyncio.sleep(0.2)
        finished.set()
        return Response(text="late")

    async with serving(handler) as (_server, port):
        _reader, writer = await connect(port)
        writer.write(get())
        await started.wait()
        writer.close()
        await asyncio.wait_for(finished.wait(), 5)


async def test_disconnect_cancels_handler_with_handler_cancellation() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def handler(request: Any) -> Response:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Response()

    async with serving(handler, handler_cancellation=True) as (_server, port):
        _reader, writer = await connect(port)
        writer.write(get())
        await started.wait()
        writer.close()
        await asyncio.wait_for(cancelled.wait(), 5)


async def test_disconnect_while_reading_body_raises_oserror() -> None:
    errors: list[BaseException] = []
    done = asyncio.Event()

    async def handler(request: Any) -> Response:
        try:
            await request.read()
        except Exception as exc:
            errors.append(exc)
        done.set()
        return Response()

    async with serving(handler) as (_server, port):
        _reader, writer = await connect(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        await asyncio.sleep(0.05)
        writer.close()
        await asyncio.wait_for(done.wait(), 5)
    assert len(errors) == 1
    assert isinstance(errors[0], ConnectionResetError)


# -- shutdown and close -----------------------------------------------------------------------


async def test_shutdown_waits_for_running_handler() -> None:
    started = asyncio.Event()

    async def slow(request: Any) -> Response:
        started.set()
        await asyncio.sleep(0.2)
        return Response(text="finished")

    async with serving(slow) as (server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await started.wait()
        await server.shutdown(2)
        status, _headers, body = await read_response(reader)
        assert (status, body) == (200, b"finished")
        await assert_closed(reader)
        writer.close()


async def test_shutdown_cancels_handler_after_timeout() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(request: Any) -> Response:
        started.set()
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Response()

    async with serving(stuck) as (server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await started.wait()
        await server.shutdown(0.1)
        assert cancelled.is_set()
        await assert_closed(reader)
        writer.close()


async def test_pre_shutdown_closes_idle_and_finishes_busy() -> None:
    started = asyncio.Event()

    async def handler(request: Any) -> Response:
        if request.path == "/slow":
            started.set()
            await asyncio.sleep(0.2)
        return Response(text=request.path)

    async with serving(handler) as (server, port):
        idle_reader, idle_writer = await connect(port)
        idle_writer.write(get("/fast"))
        await read_response(idle_reader)
        busy_reader, busy_writer = await connect(port)
        busy_writer.write(get("/slow"))
        await started.wait()
        server.pre_shutdown()
        await assert_closed(idle_reader)
        _, headers, body = await read_response(busy_reader)
        assert body == b"/slow"
        assert headers["connection"] == "close"
        await assert_closed(busy_reader)
        idle_writer.close()
        busy_writer.close()


async def test_force_close() -> None:
    async with serving(hello) as (server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await read_response(reader)
        server.connections[0].force_close()
        await assert_closed(reader)
        writer.close()


# -- upgrade hand-over ------------------------------------------------------------------------


class EchoReader:
    """A stand-in for an upgraded protocol's reader: echoes lines in upper case."""

    def __init__(self, protocol: RequestHandler, done: asyncio.Event) -> None:
        self.protocol = protocol
        self.done = done
        self.eof = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        transport = self.protocol.transport
        assert transport is not None
        transport.write(data.upper())
        if b"QUIT" in data.upper():
            self.done.set()
            return True, b""
        return False, b""

    def feed_eof(self) -> None:
        self.eof = True
        self.done.set()


async def test_upgrade_hands_connection_over() -> None:
    async def handler(request: Any) -> StreamResponse:
        done = asyncio.Event()
        resp = StreamResponse(status=101, headers={"Upgrade": "echo", "Connection": "Upgrade"})
        await resp.prepare(request)
        request._payload_writer.flush()
        request.protocol.set_parser(EchoReader(request.protocol, done))
        await done.wait()
        return resp

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get(extra="Connection: Upgrade\r\nUpgrade: echo\r\n") + b"early,")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101")
        assert await asyncio.wait_for(reader.readexactly(6), 5) == b"EARLY,"
        writer.write(b"more")
        assert await asyncio.wait_for(reader.readexactly(4), 5) == b"MORE"
        writer.write(b"quit")
        assert await asyncio.wait_for(reader.readexactly(4), 5) == b"QUIT"
        await assert_closed(reader)
        writer.close()


async def test_upgrade_request_answered_normally_closes() -> None:
    async with serving(hello) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get(extra="Connection: Upgrade\r\nUpgrade: h2c\r\n") + get("/never"))
        assert (await read_response(reader))[0] == 200
        await assert_closed(reader)
        writer.close()


# -- access log -------------------------------------------------------------------------------


async def test_access_log_written(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access.protocol")
    async with serving(
        hello, access_log=logger, access_log_format='%r %s "%{X-Req}i" "%{Content-Type}o"'
    ) as (_server, port):
        reader, writer = await connect(port)
        with caplog.at_level(logging.INFO, logger="test.access.protocol"):
            writer.write(get("/logged?q=1", extra="X-Req: abc\r\n"))
            await read_response(reader)
            await asyncio.sleep(0)
        writer.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "test.access.protocol"]
    assert messages == ['GET /logged?q=1 HTTP/1.1 200 "abc" "text/plain; charset=utf-8"']


async def test_access_log_disabled_costs_nothing() -> None:
    async with serving(hello, access_log=None) as (server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await read_response(reader)
        assert server.connections[0]._access_logger is None
        writer.close()


async def test_access_log_disabled_by_level(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("test.access.quiet")
    logger.setLevel(logging.WARNING)
    calls = []
    monkeypatch.setattr(AccessLogger, "log", lambda *args: calls.append(args))
    async with serving(hello, access_log=logger) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await read_response(reader)
        logger.setLevel(logging.INFO)  # takes effect at once, even on this connection
        writer.write(get())
        await read_response(reader)
        writer.close()
    assert len(calls) == 1


# -- with a scripted transport ---------------------------------------------------------------


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False
        self.paused = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def writelines(self, data: Any) -> None:
        for part in data:
            self.write(part)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def test_long_pipelining_backlog_pauses_reading() -> None:
    async def yielding(request: Any) -> Response:
        await asyncio.sleep(0)
        return Response(text=f"hello {request.path}")

    server = Server(yielding, access_log=None)
    protocol = server()
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(get() * 100)
    assert transport.paused
    for _ in range(1000):
        if b"".join(transport.written).count(b"hello /") == 100:
            break
        await asyncio.sleep(0)
    assert b"".join(transport.written).count(b"HTTP/1.1 200 OK") == 100
    assert not transport.paused
    assert not transport.closed
    protocol.connection_lost(None)


async def test_body_flow_control_is_not_overridden_by_short_queue() -> None:
    release = asyncio.Event()

    async def handler(request: Any) -> Response:
        await release.wait()
        return Response(body=await request.read())

    server = Server(handler, access_log=None, read_bufsize=4)
    protocol = server()
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n" + b"x" * 10)
    await asyncio.sleep(0)
    assert transport.paused  # the body buffer is above its high-water mark
    protocol.data_received(b"y" * 10 + get())
    await asyncio.sleep(0)
    assert transport.paused  # a queued request does not resume reading
    release.set()
    for _ in range(100):
        if b"".join(transport.written).count(b"HTTP/1.1 200 OK") == 2:
            break
        await asyncio.sleep(0)
    assert b"xxxxxxxxxxyyyyyyyyyy" in b"".join(transport.written)
    protocol.connection_lost(None)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks need Python 3.12")
async def test_simple_handler_answers_inside_data_received() -> None:
    server = Server(hello, access_log=None)
    protocol = server()
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(get("/now"))
    # No loop iteration happened: the eager task ran the handler and wrote the response.
    assert b"".join(transport.written).endswith(b"hello /now")
    assert protocol._task is None and not protocol._busy
    protocol.connection_lost(None)


async def test_response_written_after_one_loop_iteration() -> None:
    server = Server(hello, access_log=None)
    protocol = server()
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(get("/soon"))
    await asyncio.sleep(0)
    assert b"".join(transport.written).endswith(b"hello /soon")
    protocol.connection_lost(None)


async def test_data_after_connection_lost_is_ignored() -> None:
    server = Server(hello, access_log=None)
    protocol = server()
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.connection_lost(None)
    protocol.data_received(get())
    await asyncio.sleep(0)
    assert transport.written == []


# -- misc -------------------------------------------------------------------------------------


async def test_request_handler_properties() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: Any) -> Response:
        protocol = request.protocol
        seen["peer"] = protocol.peername
        seen["ssl"] = protocol.ssl_context
        seen["keepalive"] = protocol.keepalive_timeout
        seen["task"] = request.task is asyncio.current_task()
        seen["repr"] = repr(protocol)
        return Response()

    async with serving(handler, keepalive_timeout=12) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        await read_response(reader)
        writer.close()
    assert seen["peer"][0] == "127.0.0.1"
    assert seen["ssl"] is None
    assert seen["keepalive"] == 12
    assert seen["task"] is True
    assert "connected" in seen["repr"]


async def test_keep_alive_false_closes_after_response() -> None:
    async def handler(request: Any) -> Response:
        request.protocol.keep_alive(False)
        return Response(text="bye")

    async with serving(handler) as (_server, port):
        reader, writer = await connect(port)
        writer.write(get())
        assert (await read_response(reader))[2] == b"bye"
        await assert_closed(reader)
        writer.close()
