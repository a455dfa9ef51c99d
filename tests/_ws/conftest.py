"""An in-memory WebSocket connection: two endpoints whose transports feed each other."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from aiohyper._ws import (
    WebSocketDataQueue,
    WebSocketReader,
    WebSocketSession,
    WebSocketWriter,
)
from aiohyper.base_protocol import BaseProtocol


class MemoryTransport(asyncio.Transport):
    """Records writes and hands them to the peer's reader on the next loop iteration."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.written: list[bytes] = []
        self.closing = False
        self.close_calls = 0
        self.peer: MemoryTransport | None = None
        self.protocol: BaseProtocol | None = None
        self.reader: WebSocketReader | None = None
        self.deliver = True

    def write(self, data: Any) -> None:
        if self.closing:
            return
        data = bytes(data)
        self.written.append(data)
        peer = self.peer
        if self.deliver and peer is not None and peer.reader is not None and not peer.closing:
            self.loop.call_soon(peer.receive, data)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(bytes(d) for d in list_of_data))

    def receive(self, data: bytes) -> None:
        if not self.closing and self.reader is not None:
            # Like the real protocols, an ``eof`` from the reader does not close the
            # transport: the message loop sends its Close first, then closes.
            self.reader.feed_data(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.close_calls += 1
        if self.closing:
            return
        self.closing = True
        self.loop.call_soon(self._lost)
        peer = self.peer
        if peer is not None and not peer.closing:
            self.loop.call_soon(peer.close)

    def _lost(self) -> None:
        if self.reader is not None:
            self.reader.feed_eof()
        if self.protocol is not None:
            self.protocol.connection_lost(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 4242)}.get(name, default)


class Endpoint(WebSocketSession):
    """A minimal user of the message loop, as the server/client classes will be."""

    __slots__ = ("frame_reader", "queue", "timeout_error", "transport", "writer")

    def __init__(self, transport: MemoryTransport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = transport
        self.timeout_error: Callable[[], BaseException] | None = None
        self.queue: WebSocketDataQueue
        self.writer: WebSocketWriter
        self.frame_reader: WebSocketReader

    def _close_transport(self) -> None:
        self.transport.close()

    def _heartbeat_timeout_error(self) -> BaseException:
        if self.timeout_error is not None:
            return self.timeout_error()
        return super()._heartbeat_timeout_error()


@dataclass
class Pair:
    server: Endpoint
    client: Endpoint
    server_transport: MemoryTransport
    client_transport: MemoryTransport
    server_protocol: BaseProtocol
    client_protocol: BaseProtocol
    extras: dict[str, Any] = field(default_factory=dict)


def _side(
    loop: asyncio.AbstractEventLoop,
    *,
    is_client: bool,
    compress: int,
    notakeover: bool,
    max_msg_size: int,
    limit: int,
    session: dict[str, Any],
    start: bool,
) -> tuple[Endpoint, MemoryTransport, BaseProtocol]:
    transport = MemoryTransport(loop)
    protocol = BaseProtocol(loop)
    protocol.connection_made(transport)
    transport.protocol = protocol
    queue = WebSocketDataQueue(protocol, limit, loop=loop)
    reader = WebSocketReader(queue, max_msg_size, compress=compress, masked=not is_client)
    transport.reader = reader
    writer = WebSocketWriter(
        protocol, transport, use_mask=is_client, compress=compress, notakeover=notakeover
    )
    endpoint = Endpoint(transport, **session)
    endpoint.queue = queue
    endpoint.writer = writer
    endpoint.frame_reader = reader
    if start:
        endpoint._ws_start(queue, writer, loop=loop, frame_reader=reader)
    return endpoint, transport, protocol


@pytest.fixture
def make_pair() -> Callable[..., Pair]:
    def factory(
        *,
        compress: int = 0,
        notakeover: bool = False,
        max_msg_size: int = 4 * 2**20,
        limit: int = 2**16,
        server: dict[str, Any] | None = None,
        client: dict[str, Any] | None = None,
        start: bool = True,
    ) -> Pair:
        loop = asyncio.get_running_loop()
        common = {
            "compress": compress,
            "notakeover": notakeover,
            "max_msg_size": max_msg_size,
            "limit": limit,
            "start": start,
        }
        srv, st, sp = _side(loop, is_client=False, session=server or {}, **common)  # type: ignore[arg-type]
        cli, ct, cp = _side(loop, is_client=True, session=client or {}, **common)  # type: ignore[arg-type]
        st.peer, ct.peer = ct, st
        return Pair(srv, cli, st, ct, sp, cp)

    return factory
