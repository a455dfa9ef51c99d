"""``web.WebSocketResponse`` on its own: the handshake, the connection hand-over, closing when
the handler returns, heartbeats and graceful shutdown. The peer is a raw socket speaking
frames built by the codec, so what the server puts on the wire is checked byte for byte."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from multidict import CIMultiDict

from aiohyper import WSCloseCode, WSMsgType, web
from aiohyper._ws import WSMessage, ws_accept_key
from aiohyper._ws._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    FrameDecoder,
    build_frame,
)
from aiohyper.test_utils import make_mocked_request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def ws_headers(key: str | None = None, **extra: str) -> dict[str, str]:
    headers = {
        "Host": "example.com",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key or base64.b64encode(os.urandom(16)).decode(),
    }
    for name, value in extra.items():
        headers[name.replace("_", "-")] = value
    return headers


class RawPeer:
    """A WebSocket client on a bare socket: sends masked frames, decodes the server's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = FrameDecoder(masked=False, allow_rsv1=True, max_msg_size=0)
        self.frames: list[Frame] = []
        self.status = 0
        self.head = ""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.body = b""

    @classmethod
    async def open(
        cls, port: int, headers: dict[str, str], *, method: str = "GET", path: str = "/ws"
    ) -> RawPeer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        async with asyncio.timeout(5):
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        peer.head = head
        first, *rest = head[:-4].split("\r\n")
        peer.status = int(first.split(" ")[1])
        for line in rest:
            name, _, value = line.partition(":")
            peer.headers.add(name.strip(), value.strip())
        length = peer.headers.get("Content-Length")
        if length is not None:
            peer.body = await reader.readexactly(int(length))
        return peer

    def send(self, opcode: int, payload: bytes, *, fin: bool = True) -> None:
        self.writer.write(build_frame(opcode, payload, fin=fin, mask=os.urandom(4)))

    async def frame(self, timeout: float = 5.0) -> Frame:
        async with asyncio.timeout(timeout):
            while not self.frames:
                data = await self.reader.read(65536)
                if not data:
                    self.close()
                    raise EOFError("connection closed")
                self.frames.extend(self.decoder.feed_data(data))
        return self.frames.pop(0)

    async def eof(self, timeout: float = 5.0) -> bool:
        """Whether the server closes the connection (within ``timeout``), ignoring data."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        self.close()
        return True

    def close(self) -> None:
        self.writer.close()


def close_payload(frame: Frame) -> tuple[int, bytes]:
    assert frame.opcode == OP_CLOSE
    return int.from_bytes(frame.payload[:2], "big"), bytes(frame.payload[2:])


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[tuple[web.AppRunner, int]]]]:
    """``await serve(handler, **runner_kwargs)`` serves ``handler`` at ``/ws``."""
    runners: list[web.AppRunner] = []

    async def start(
        handler: Handler, *, app: web.Application | None = None, **kwargs: Any
    ) -> tuple[web.AppRunner, int]:
        if app is None:
            app = web.Application()
        app.router.add_route("*", "/ws", handler)
        runner = web.AppRunner(app, access_log=None, **kwargs)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return runner, runner.addresses[0][1]

    yield start
    for runner in runners:
        if runner.server is not None:
            await runner.cleanup()


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("v1", "v2"))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


# -- without a connection ------------------------------------------------------------------


def test_websocket_ready_is_truthy_when_ok() -> None:
    ready = web.WebSocketReady(True, "chat")
    assert ready and ready.ok and ready.protocol == "chat"
    assert ready == (True, "chat")
    assert not web.WebSocketReady(False, None)


def test_can_prepare_negotiates_without_raising() -> None:
    ws = web.WebSocketResponse(protocols=("v1", "v2"))
    request = make_mocked_request("GET", "/", ws_headers(Sec_WebSocket_Protocol="v3, v2, v1"))
    assert ws.can_prepare(request) == (True, "v2")  # the client's preference wins
    request = make_mocked_request("GET", "/", ws_headers(Sec_WebSocket_Protocol="other"))
    assert ws.can_prepare(request) == (True, None)


@pytest.mark.parametrize(
    "method, headers",
    [
        ("GET", {"Host": "x"}),
        ("GET", ws_headers(Upgrade="h2c")),
        ("GET", ws_headers(Connection="keep-alive")),
        ("GET", ws_headers(Sec_WebSocket_Version="12")),
        ("GET", ws_headers(key="c2hvcnQ=")),
        ("POST", ws_headers()),
    ],
)
def test_can_prepare_refuses_bad_requests(method: str, headers: dict[str, str]) -> None:
    ws = web.WebSocketResponse()
    ready = ws.can_prepare(make_mocked_request(method, "/", headers))
    assert ready == (False, None)
    assert not ready


async def test_prepare_raises_http_errors_with_the_reason() -> None:
    ws = web.WebSocketResponse()
    headers = ws_headers()
    del headers["Sec-WebSocket-Key"]
    with pytest.raises(web.HTTPBadRequest) as bad:
        await ws.prepare(make_mocked_request("GET", "/", headers))
    assert "Sec-WebSocket-Key" in (bad.value.text or "")
    with pytest.raises(web.HTTPBadRequest) as version:
        await ws.prepare(make_mocked_request("GET", "/", ws_headers(Sec_WebSocket_Version="9")))
    assert version.value.headers["Sec-WebSocket-Version"] == "13"
    with pytest.raises(web.HTTPMethodNotAllowed) as method:
        await ws.prepare(make_mocked_request("PUT", "/", ws_headers()))
    assert method.value.headers["Allow"] == "GET"
    assert not ws.prepared


async def test_methods_need_prepare() -> None:
    ws = web.WebSocketResponse()
    assert not ws.closed and ws.close_code is None and ws.exception() is None
    assert ws.ws_protocol is None
    assert ws.compress is True
    assert ws.get_extra_info("peername", "nobody") == "nobody"
    for call in (
        ws.send_str("x"),
        ws.send_bytes(b"x"),
        ws.send_json({}),
        ws.ping(),
        ws.pong(),
        ws.receive(),
        ws.close(),
    ):
        with pytest.raises(RuntimeError, match="prepare"):
            await call
    with pytest.raises(RuntimeError):
        await ws.write_eof()


# -- the handshake on the wire -------------------------------------------------------------


async def test_switching_protocols_head(serve: Any) -> None:
    _, port = await serve(echo)
    key = base64.b64encode(os.urandom(16)).decode()
    peer = await RawPeer.open(
        port,
        ws_headers(
            key,
            Sec_WebSocket_Protocol="v2",
            Sec_WebSocket_Extensions="permessage-deflate; client_max_window_bits",
        ),
    )
    assert peer.status == 101
    assert peer.head.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert peer.headers["Upgrade"] == "websocket"
    assert peer.headers["Connection"].lower() == "upgrade"
    assert peer.headers["Sec-WebSocket-Accept"] == ws_accept_key(key)
    assert peer.headers["Sec-WebSocket-Protocol"] == "v2"
    assert peer.headers["Sec-WebSocket-Extensions"] == "permessage-deflate"
    for absent in ("Content-Type", "Content-Length", "Transfer-Encoding"):
        assert absent not in peer.headers
    peer.send(OP_TEXT, b"hello")
    frame = await peer.frame()
    assert frame.opcode == OP_TEXT and frame.rsv1  # compressed, as negotiated
    peer.close()


async def test_compression_can_be_refused(serve: Any) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        assert ws.compress is False
        await ws.prepare(request)
        assert ws.compress == 0
        await ws.close()
        return ws

    _, port = await serve(handler)
    peer = await RawPeer.open(port, ws_headers(Sec_WebSocket_Extensions="permessage-deflate"))
    assert peer.status == 101
    assert "Sec-WebSocket-Extensions" not in peer.headers
    assert "Sec-WebSocket-Protocol" not in peer.headers
    peer.close()


@pytest.mark.parametrize(
    "method, headers, status, reason",
    [
        ("GET", {"Host": "x"}, 400, "No WebSocket UPGRADE hdr"),
        ("GET", ws_headers(Connection="keep-alive"), 400, "No CONNECTION upgrade hdr"),
        ("GET", ws_headers(key="bm90IDE2IGJ5dGVz"), 400, "Sec-WebSocket-Key"),
        ("GET", ws_headers(Sec_WebSocket_Version="8a"), 400, "Unsupported version"),
        ("POST", ws_headers(), 405, "GET"),
    ],
)
async def test_bad_handshakes_are_answered_and_closed(
    serve: Any, method: str, headers: dict[str, str], status: int, reason: str
) -> None:
    _, port = await serve(echo)
    peer = await RawPeer.open(port, headers, method=method)
    assert peer.status == status
    assert reason in peer.body.decode()
    if "Sec-WebSocket-Version" in headers and headers["Sec-WebSocket-Version"] != "13":
        assert peer.headers["Sec-WebSocket-Version"] == "13"
    peer.close()


async def test_on_response_prepare_sees_the_upgrade(serve: Any) -> None:
    app = web.Application()

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Seen"] = str(response.status)

    app.on_response_prepare.append(on_prepare)
    _, port = await serve(echo, app=app)
    peer = await RawPeer.open(port, ws_headers())
    assert peer.headers["X-Seen"] == "101"
    peer.close()


# -- frames, after the hand-over -----------------------------------------------------------


async def test_frames_sent_with_the_handshake_are_not_lost(serve: Any) -> None:
    _, port = await serve(echo)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "GET /ws HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in ws_headers().items())
    # The first frame rides in the same packet as the request head.
    writer.write(head.encode() + b"\r\n" + build_frame(OP_TEXT, b"early", mask=b"abcd"))
    peer = RawPeer(reader, writer)
    await reader.readuntil(b"\r\n\r\n")
    frame = await peer.frame()
    assert (frame.opcode, bytes(frame.payload)) == (OP_TEXT, b"early")
    peer.close()


async def test_fragments_pings_and_server_frames_unmasked(serve: Any) -> None:
    _, port = await serve(echo)
    peer = await RawPeer.open(port, ws_headers())
    peer.send(OP_TEXT, "hé".encode()[:2], fin=False)  # splits the UTF-8 sequence of é
    peer.send(OP_PING, b"in between")  # control frames may interleave with fragments
    peer.send(OP_CONTINUATION, "hé".encode()[2:], fin=False)
    peer.send(OP_CONTINUATION, b"llo", fin=True)
    pong = await peer.frame()
    assert (pong.opcode, bytes(pong.payload)) == (OP_PONG, b"in between")
    text = await peer.frame()
    assert (text.opcode, bytes(text.payload)) == (OP_TEXT, "héllo".encode())
    peer.send(OP_BINARY, b"\x00\xff")
    binary = await peer.frame()
    assert (binary.opcode, bytes(binary.payload)) == (OP_BINARY, b"\x00\xff")
    # The decoder was built with masked=False: an unmasked server frame is what passed.
    peer.send(OP_CLOSE, (4000).to_bytes(2, "big") + b"done")
    assert close_payload(await peer.frame()) == (4000, b"")
    assert await peer.eof()


async def test_handler_returning_an_open_websocket_closes_it(serve: Any) -> None:
    states: list[tuple[bool, int | None]] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        assert await ws.prepare(request) is not None  # a second prepare does nothing
        await ws.send_str("bye")
        return ws

    async def recording(request: web.Request) -> web.StreamResponse:
        resp = await handler(request)
        assert isinstance(resp, web.WebSocketResponse)
        states.append((resp.closed, resp.close_code))
        return resp

    _, port = await serve(recording)
    peer = await RawPeer.open(port, ws_headers())
    text = await peer.frame()
    assert bytes(text.payload) == b"bye"
    assert close_payload(await peer.frame()) == (1000, b"")
    peer.send(OP_CLOSE, (1000).to_bytes(2, "big"))
    assert await peer.eof()  # the connection is not kept alive for another request
    assert states == [(False, None)]


async def test_write_is_refused_and_write_eof_closes(serve: Any) -> None:
    result: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=0.2)
        await ws.prepare(request)
        with pytest.raises(RuntimeError, match="write"):
            await ws.write(b"raw")
        await ws.write_eof()  # sends Close, waits up to `timeout` for the peer's
        await ws.write_eof()
        result.append((ws.closed, ws.close_code))
        with pytest.raises(ConnectionResetError):
            await ws.send_str("too late")
        return ws

    _, port = await serve(handler)
    peer = await RawPeer.open(port, ws_headers())
    assert close_payload(await peer.frame()) == (1000, b"")
    assert await peer.eof()
    assert result == [(True, WSCloseCode.ABNORMAL_CLOSURE)]  # no Close came back in time


async def test_handler_failing_after_prepare_just_closes(serve: Any) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        raise ValueError("boom")

    _, port = await serve(handler)
    peer = await RawPeer.open(port, ws_headers())
    assert peer.status == 101
    rest = await peer.reader.read()
    assert b"HTTP/1.1 500" not in rest  # no HTTP answer in the middle of a WebSocket
    peer.close()


async def test_server_heartbeat_closes_a_silent_peer(serve: Any) -> None:
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=0.2)
        await ws.prepare(request)
        msg = await ws.receive()
        seen.extend((msg.type, type(msg.data), ws.close_code, ws.closed))
        return ws

    _, port = await serve(handler)
    peer = await RawPeer.open(port, ws_headers())
    start = time.monotonic()
    ping = await peer.frame()
    assert ping.opcode == OP_PING
    assert await peer.eof()  # no pong: the server hangs up
    assert 0.2 <= time.monotonic() - start < 3
    await asyncio.sleep(0.05)
    assert seen == [WSMsgType.ERROR, TimeoutError, WSCloseCode.ABNORMAL_CLOSURE, True]


async def test_server_receive_timeout(serve: Any) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(receive_timeout=0.05)
        await ws.prepare(request)
        with pytest.raises(TimeoutError):
            await ws.receive()
        with pytest.raises(TimeoutError):
            await ws.receive_str(timeout=0.01)
        seen.append("timed out")
        msg = await ws.receive(timeout=5)
        seen.append(msg.data)
        return ws

    _, port = await serve(handler)
    peer = await RawPeer.open(port, ws_headers())
    await asyncio.sleep(0.2)
    peer.send(OP_TEXT, b"late")
    assert close_payload(await peer.frame())[0] == 1000
    assert seen == ["timed out", "late"]
    peer.close()


# -- graceful shutdown ---------------------------------------------------------------------


async def test_shutdown_closes_open_websockets_with_going_away(serve: Any) -> None:
    sockets: list[web.WebSocketResponse] = []

    async def reading(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.append(ws)
        async for _ in ws:
            pass
        return ws

    runner, port = await serve(reading, shutdown_timeout=30)
    peers = [await RawPeer.open(port, ws_headers()) for _ in range(3)]

    async def answer(peer: RawPeer) -> tuple[int, bytes]:
        frame = await peer.frame()
        peer.send(OP_CLOSE, bytes(frame.payload[:2]))
        return close_payload(frame)

    start = time.monotonic()
    cleanup = asyncio.create_task(runner.cleanup())
    closes = await asyncio.gather(*(answer(peer) for peer in peers))
    await cleanup
    assert time.monotonic() - start < 5  # not the 30 seconds of shutdown_timeout
    assert closes == [(WSCloseCode.GOING_AWAY, b"Server shutdown")] * 3
    # Each handler returned once its closing handshake was complete: the peer's code is in.
    assert [ws.close_code for ws in sockets] == [WSCloseCode.GOING_AWAY] * 3
    for peer in peers:
        assert await peer.eof()


async def test_shutdown_also_ends_a_handler_that_only_sends(serve: Any) -> None:
    ended = asyncio.Event()

    async def pushing(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=0.2)
        await ws.prepare(request)
        try:
            while True:
                await ws.send_str("tick")
                await asyncio.sleep(0.02)
        except ConnectionResetError:
            pass
        finally:
            ended.set()
        return ws

    runner, port = await serve(pushing, shutdown_timeout=30)
    peer = await RawPeer.open(port, ws_headers())
    assert (await peer.frame()).opcode == OP_TEXT
    start = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - start < 5
    assert ended.is_set()
    frames = [peer.frames.pop(0) for _ in range(len(peer.frames))]
    while True:
        try:
            frames.append(await peer.frame(timeout=1))
        except EOFError:
            break
    assert frames and close_payload(frames[-1]) == (WSCloseCode.GOING_AWAY, b"Server shutdown")


async def test_on_shutdown_close_wins(serve: Any) -> None:
    app = web.Application()
    sockets: list[web.WebSocketResponse] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=0.2)
        await ws.prepare(request)
        sockets.append(ws)
        async for _ in ws:
            pass
        return ws

    async def on_shutdown(app: web.Application) -> None:
        for ws in sockets:
            await ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"restart")

    app.on_shutdown.append(on_shutdown)
    runner, port = await serve(handler, app=app)
    peer = await RawPeer.open(port, ws_headers())
    while not sockets:
        await asyncio.sleep(0.01)
    await runner.cleanup()
    assert close_payload(await peer.frame()) == (WSCloseCode.SERVICE_RESTART, b"restart")
    assert await peer.eof()


def test_repr() -> None:
    assert "not prepared" in repr(web.WebSocketResponse())
    assert isinstance(WSMessage(WSMsgType.TEXT, "x", None), tuple)
