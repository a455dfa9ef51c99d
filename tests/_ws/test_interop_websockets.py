"""Interoperability with an independent implementation: the ``websockets`` package, over real
TCP on 127.0.0.1, with permessage-deflate on both sides."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aiohyper._ws import (
    WebSocketDataQueue,
    WebSocketReader,
    WebSocketSession,
    WebSocketWriter,
    WSMsgType,
    client_handshake_headers,
    generate_client_key,
    server_handshake,
    verify_server_handshake,
)
from aiohyper.base_protocol import BaseProtocol

websockets = pytest.importorskip("websockets")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import serve  # noqa: E402

BIG = b"".join(i.to_bytes(4, "big") for i in range(20_000))  # compressed in a thread


def _parse_head(head: bytes) -> tuple[str, CIMultiDictProxy[str]]:
    first, *lines = head.decode("latin-1").split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    return first, CIMultiDictProxy(headers)


class Session(WebSocketSession):
    __slots__ = ("transport",)

    def __init__(self, transport: asyncio.Transport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = transport

    def _close_transport(self) -> None:
        self.transport.close()


class HandshakeProtocol(BaseProtocol):
    """Reads an HTTP head, then hands the connection to a WebSocketReader."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.buffer = b""
        self.head: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        self.reader: WebSocketReader | None = None

    def data_received(self, data: bytes) -> None:
        if self.reader is not None:
            self.reader.feed_data(data)
            return
        self.buffer += data
        if b"\r\n\r\n" in self.buffer and not self.head.done():
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            self.head.set_result((head, rest))

    def start(self, reader: WebSocketReader, rest: bytes) -> None:
        self.reader = reader
        if rest:
            reader.feed_data(rest)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if self.reader is not None:
            self.reader.feed_eof()


def _attach(
    protocol: HandshakeProtocol, rest: bytes, *, client: bool, compress: int, notakeover: bool
) -> Session:
    loop = asyncio.get_running_loop()
    transport = protocol.transport
    assert transport is not None
    queue = WebSocketDataQueue(protocol, 2**16, loop=loop)
    reader = WebSocketReader(queue, 2**22, compress=compress, masked=not client)
    writer = WebSocketWriter(
        protocol, transport, use_mask=client, compress=compress, notakeover=notakeover
    )
    session = Session(transport, close_timeout=5)
    session._ws_start(queue, writer, loop=loop, frame_reader=reader)
    protocol.start(reader, rest)
    return session


@pytest.fixture
async def echo_server() -> AsyncIterator[int]:
    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


async def test_our_client_against_websockets_server(echo_server: int) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(
        lambda: HandshakeProtocol(loop), "127.0.0.1", echo_server
    )
    key = generate_client_key()
    request = client_handshake_headers(key, compress=15)
    head = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{echo_server}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.items()) + "\r\n"
    transport.write(head.encode())
    raw, rest = await asyncio.wait_for(protocol.head, 5)
    status_line, headers = _parse_head(raw)
    agreed = verify_server_handshake(int(status_line.split()[1]), headers, key=key, compress=15)
    assert agreed.compress  # the server accepted permessage-deflate
    ws = _attach(
        protocol, rest, client=True, compress=agreed.compress, notakeover=agreed.notakeover
    )

    for text in ("Hello", "Hello", "κόσμε " * 50):
        await ws.send_str(text)
        assert await asyncio.wait_for(ws.receive_str(), 5) == text
    await ws.send_bytes(BIG)
    await ws.send_bytes(b"after", compress=0)
    assert await asyncio.wait_for(ws.receive_bytes(), 5) == BIG
    assert await asyncio.wait_for(ws.receive_bytes(), 5) == b"after"
    await ws.ping(b"hb")
    await ws.send_str("still here")
    assert await asyncio.wait_for(ws.receive_str(), 5) == "still here"
    assert await asyncio.wait_for(ws.close(code=1000), 5)
    assert ws.close_code == 1000 and ws.exception() is None


async def test_websockets_client_against_our_server() -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Session] = loop.create_future()

    async def handle(protocol: HandshakeProtocol) -> None:
        raw, rest = await protocol.head
        request_line, headers = _parse_head(raw)
        result = server_handshake(request_line.split()[0], headers, protocols=("chat",))
        answer = "HTTP/1.1 101 Switching Protocols\r\n"
        answer += "".join(f"{k}: {v}\r\n" for k, v in result.headers.items()) + "\r\n"
        assert protocol.transport is not None
        protocol.transport.write(answer.encode())
        ws = _attach(
            protocol, rest, client=False, compress=result.compress, notakeover=result.notakeover
        )
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await ws.send_str(msg.data)
            else:
                await ws.send_bytes(msg.data)
        done.set_result(ws)

    tasks: list[asyncio.Task[None]] = []

    def factory() -> HandshakeProtocol:
        protocol = HandshakeProtocol(loop)
        tasks.append(loop.create_task(handle(protocol)))
        return protocol

    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with connect(f"ws://127.0.0.1:{port}/", subprotocols=["chat"]) as client:
            assert client.subprotocol == "chat"
            assert "permessage-deflate" in client.response.headers["Sec-WebSocket-Extensions"]
            for message in ("Hello", "Hello", "x" * 70_000, BIG, b""):
                await client.send(message)
                assert await asyncio.wait_for(client.recv(), 5) == message
            # A fragmented message from the peer.
            await client.send(["frag", "mented"])
            assert await asyncio.wait_for(client.recv(), 5) == "fragmented"
            await client.ping(b"x")
        ws = await asyncio.wait_for(done, 5)
        assert ws.close_code == 1000
        await asyncio.gather(*tasks)
    finally:
        server.close()
        await server.wait_closed()
