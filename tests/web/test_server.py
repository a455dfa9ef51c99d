"""The low-level Server: protocol factory, connection bookkeeping, configuration checks."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest import mock

import pytest

from aiohyper.abc import AbstractAccessLogger
from aiohyper.web._log import AccessLogger
from aiohyper.web._protocol import RequestHandler
from aiohyper.web._request import BaseRequest
from aiohyper.web._response import Response
from aiohyper.web._server import Server


async def handler(request: Any) -> Response:
    return Response(text=type(request).__name__)


async def fetch(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    result = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return result


async def test_protocol_factory_builds_request_handlers() -> None:
    server = Server(handler, keepalive_timeout=5, max_line_size=100)
    protocol = server()
    assert isinstance(protocol, RequestHandler)
    assert protocol.keepalive_timeout == 5
    assert protocol._manager is server
    assert server.connections == []
    assert server.requests_count == 0


async def test_loop_is_taken_from_running_loop() -> None:
    server = Server(handler)
    assert server._loop is asyncio.get_running_loop()


def test_needs_a_loop_outside_of_one() -> None:
    with pytest.raises(RuntimeError):
        Server(handler)
    loop = asyncio.new_event_loop()
    try:
        assert Server(handler, loop=loop)._loop is loop
    finally:
        loop.close()


async def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(TypeError, match="keep_alive_timeout"):
        Server(handler, keep_alive_timeout=3)


async def test_access_log_class_must_be_abstract_access_logger() -> None:
    with pytest.raises(TypeError, match="access_log_class"):
        Server(handler, access_log_class=logging.Logger)
    with pytest.raises(TypeError, match="access_log_class"):
        Server(handler, access_log_class=AccessLogger(logging.getLogger("x")))

    class Custom(AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            pass

    Server(handler, access_log_class=Custom)


async def test_default_request_factory_builds_base_request() -> None:
    server = Server(handler, access_log=None)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(server, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    data = await fetch(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert data.endswith(b"\r\n\r\nBaseRequest")
    assert server.requests_count == 1
    srv.close()
    await server.shutdown(1)


async def test_custom_request_factory_and_handler_cancellation_flag() -> None:
    made: list[Any] = []

    def factory(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> Any:
        request = BaseRequest(message, payload, protocol, writer, task, protocol._loop)
        made.append((request, task))
        return request

    server = Server(handler, request_factory=factory, handler_cancellation=True, access_log=None)
    assert server.handler_cancellation is True
    assert server.request_factory is factory
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(server, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    await fetch(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert len(made) == 1
    assert isinstance(made[0][1], asyncio.Task)
    srv.close()


async def test_connections_are_tracked() -> None:
    server = Server(handler, access_log=None)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(server, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    for _ in range(50):
        if len(server.connections) == 3:
            break
        await asyncio.sleep(0.01)
    assert len(server.connections) == 3
    assert all(isinstance(c, RequestHandler) for c in server.connections)
    conns[0][1].close()
    for _ in range(50):
        if len(server.connections) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(server.connections) == 2

    server.pre_shutdown()  # idle connections close at once
    for reader, writer in conns[1:]:
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    await server.shutdown(1)
    assert server.connections == []
    srv.close()


async def test_shutdown_without_connections() -> None:
    server = Server(handler)
    await server.shutdown()
    await server.shutdown(0)


async def test_connection_lost_of_unknown_handler_is_ignored() -> None:
    server = Server(handler)
    server.connection_lost(mock.Mock(), None)
