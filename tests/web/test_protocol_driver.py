"""How `RequestHandler` runs handlers: eagerly inside ``data_received``, as the connection's
task, moving into that task only when a handler waits (see the ``_protocol`` docstring)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

from aiohyper.web._protocol import RequestHandler
from aiohyper.web._response import Response
from aiohyper.web._server import Server


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def writelines(self, data: Any) -> None:
        self.write(b"".join(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    @property
    def data(self) -> bytes:
        return b"".join(self.written)


def get(path: str = "/", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


def connect(handler: Any, **kwargs: Any) -> tuple[RequestHandler, FakeTransport]:
    kwargs.setdefault("access_log", None)
    protocol = Server(handler, **kwargs)()
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_handler_that_does_not_wait_answers_inside_data_received() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: Any) -> Response:
        task = asyncio.current_task()
        seen["task"] = task
        seen["is_request_task"] = task is request.task
        return Response(text="now")

    protocol, transport = connect(handler)
    protocol.data_received(get())
    # No loop iteration happened, yet the handler ran as a task and its response is out.
    assert transport.data.endswith(b"now")
    assert isinstance(seen["task"], asyncio.Task)
    assert seen["is_request_task"]
    assert not protocol._busy and protocol._task is None
    protocol.connection_lost(None)
    await settle()
    assert seen["task"].done()  # the connection task ends with the connection


async def test_same_task_before_and_after_the_handler_waits() -> None:
    tasks = []

    async def handler(request: Any) -> Response:
        tasks.append(asyncio.current_task())
        await asyncio.sleep(0.01)
        tasks.append(asyncio.current_task())
        return Response(text="later")

    protocol, transport = connect(handler)
    protocol.data_received(get())
    assert transport.written == []
    assert protocol._busy and protocol._task is tasks[0]
    for _ in range(100):
        if transport.written:
            break
        await asyncio.sleep(0.005)
    assert transport.data.endswith(b"later")
    assert tasks[0] is tasks[1]
    assert not protocol._busy and protocol._task is None
    protocol.connection_lost(None)


async def test_asyncio_timeout_works_in_an_eager_handler() -> None:
    async def handler(request: Any) -> Response:
        if request.path == "/fast":
            # Entering a timeout needs a current task; this handler never waits.
            async with asyncio.timeout(1):  # noqa: ASYNC100
                return Response(text="fast")
        async with asyncio.timeout(0.02):
            await asyncio.sleep(5)
        return Response(text="never")

    protocol, transport = connect(handler)
    protocol.data_received(get("/fast"))
    assert transport.data.endswith(b"fast")
    transport.written.clear()
    protocol.data_received(get("/slow"))
    for _ in range(200):
        if transport.written:
            break
        await asyncio.sleep(0.005)
    # The timeout cancelled the handler inside the connection task: TimeoutError, so 504.
    assert transport.data.startswith(b"HTTP/1.1 504 ")
    protocol.connection_lost(None)


async def test_context_is_fresh_for_each_request_whether_or_not_it_waits() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen = []

    async def handler(request: Any) -> Response:
        seen.append(var.get())
        var.set(request.path)
        if request.path == "/wait":
            await asyncio.sleep(0)
            seen.append(var.get())
        return Response(text="ok")

    protocol, transport = connect(handler)
    protocol.data_received(get("/a") + get("/wait") + get("/b"))
    await settle()
    protocol.data_received(get("/c"))
    assert seen == ["unset", "unset", "/wait", "unset", "unset"]
    assert transport.data.count(b"HTTP/1.1 200 OK") == 4
    protocol.connection_lost(None)


async def test_requests_queued_behind_a_waiting_handler_run_in_the_connection_task() -> None:
    order = []

    async def handler(request: Any) -> Response:
        order.append((request.path, asyncio.current_task() is request.task))
        if request.path == "/1":
            await asyncio.sleep(0.01)
        return Response(text=request.path)

    protocol, transport = connect(handler)
    protocol.data_received(get("/1") + get("/2") + get("/3"))
    for _ in range(100):
        if transport.data.count(b"HTTP/1.1 200 OK") == 3:
            break
        await asyncio.sleep(0.005)
    assert order == [("/1", True), ("/2", True), ("/3", True)]
    assert transport.data.endswith(b"/3")
    protocol.connection_lost(None)


async def test_peer_disconnect_cancels_a_waiting_handler_with_handler_cancellation() -> None:
    started = asyncio.Event()
    outcome: list[str] = []

    async def handler(request: Any) -> Response:
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        return Response()

    protocol, _transport = connect(handler, handler_cancellation=True)
    protocol.data_received(get())
    await started.wait()
    protocol.connection_lost(None)
    await settle()
    assert outcome == ["cancelled"]
    assert protocol._conn_task is None  # the connection task ended with the handler


async def test_cancelled_before_the_task_took_the_handler_over() -> None:
    # The handler waits during data_received; the disconnect comes before the connection
    # task ran once: the cancellation must still reach the handler (and its awaited future).
    outcome: list[str] = []
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()

    async def handler(request: Any) -> Response:
        try:
            await fut
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        return Response()

    protocol, _transport = connect(handler, handler_cancellation=True)
    protocol.data_received(get())
    protocol.connection_lost(None)
    await settle()
    assert outcome == ["cancelled"]
    assert fut.cancelled()


async def test_shutdown_waits_for_then_cancels_a_waiting_handler() -> None:
    outcome: list[str] = []

    async def handler(request: Any) -> Response:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        return Response()

    protocol, transport = connect(handler)
    protocol.data_received(get())
    await protocol.shutdown(0.05)
    assert outcome == ["cancelled"]
    assert transport.closed
    assert not protocol._busy


async def test_shutdown_lets_a_handler_finish_within_the_timeout() -> None:
    async def handler(request: Any) -> Response:
        await asyncio.sleep(0.02)
        return Response(text="done")

    protocol, transport = connect(handler)
    protocol.data_received(get())
    await protocol.shutdown(2)
    assert transport.data.endswith(b"done")
    assert b"Connection: close" in transport.data


async def test_handler_raising_cancelled_error_closes_the_connection() -> None:
    async def handler(request: Any) -> Response:
        raise asyncio.CancelledError

    protocol, transport = connect(handler)
    protocol.data_received(get())
    assert transport.closed
    assert transport.written == []
    protocol.connection_lost(None)
    await settle()


def test_event_loop_can_end_with_idle_keep_alive_connections() -> None:
    # asyncio.run() cancels the tasks left when its coroutine returns: an idle connection's
    # task must end then (the connection closes with it), not keep the loop waiting.
    result: dict[str, Any] = {}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = Server(lambda request: _hello(request), access_log=None)
        srv = await loop.create_server(server, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(get())
        result["head"] = await reader.readuntil(b"\r\n\r\n")
        result["writer"] = writer

    def run() -> None:
        asyncio.run(main())
        result["finished"] = True

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert result.get("finished"), "the event loop did not end"
    assert result["head"].startswith(b"HTTP/1.1 200 OK")


async def _hello(request: Any) -> Response:
    return Response(text="hello")


async def test_data_received_from_inside_another_task_runs_eagerly_too() -> None:
    me = asyncio.current_task()
    seen: dict[str, Any] = {}

    async def handler(request: Any) -> Response:
        seen["task"] = asyncio.current_task()
        return Response(text="x")

    protocol, transport = connect(handler)
    protocol.data_received(get())  # called from this test's own task
    assert transport.data.endswith(b"x")
    assert seen["task"] is not me and seen["task"] is not None
    assert asyncio.current_task() is me  # and we are back in our task
    protocol.connection_lost(None)
