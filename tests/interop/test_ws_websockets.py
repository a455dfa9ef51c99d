"""WebSocket interop with the `websockets` library as the real peer, in both directions.

* our server (``web.WebSocketResponse`` behind ``AppRunner``/``TCPSite``) against the
  ``websockets`` asyncio client;
* the ``websockets`` asyncio server against our client (``ClientSession.ws_connect``).

Each direction covers: text and binary echo up to 16 MiB, fragmented messages (``websockets``
sends an async iterable as fragments), ping/pong, close codes and reasons started by either
side, protocol errors, subprotocols, permessage-deflate (negotiated, with parameters, and seen
to be *used*: the peer's extension object records the RSV1 bit of every frame), and heartbeats
against a peer whose automatic pong is switched off.

Both peers run in the test's event loop over real loopback sockets.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect as ws_client
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol

import aiohyper as aiohttp
from aiohyper import WSCloseCode, WSMsgType, web

# Fixtures (conftest.py): serve_app.

pytestmark = pytest.mark.timeout(60)

MiB = 1024 * 1024
BIG = 32 * MiB  # the size limit on both ends: room for the 16 MiB messages
SIZES = [0, 1, 125, 126, 65535, 65536, 1 * MiB, 16 * MiB]


def _text(size: int) -> str:
    """``size`` bytes of UTF-8 text with multi-byte characters (split across fragments)."""
    unit = "aé€😀"  # 1 + 2 + 3 + 4 bytes
    text = unit * (size // 10) + "z" * (size % 10)
    assert len(text.encode()) == size
    return text


async def _fragments(parts: list[Any]) -> AsyncIterator[Any]:
    """An async iterable: ``websockets`` sends each item as one fragment of a message."""
    for part in parts:
        yield part
        await asyncio.sleep(0)


def _record_deflate(connection: ClientConnection | ServerConnection) -> dict[str, list[bool]]:
    """Wrap the connection's permessage-deflate extension to record the RSV1 bit of every data
    frame it decodes (``"received"``) and encodes (``"sent"``). Fails when not negotiated."""
    extensions = connection.protocol.extensions
    assert len(extensions) == 1 and isinstance(extensions[0], PerMessageDeflate), extensions
    extension = extensions[0]
    seen: dict[str, list[bool]] = {"received": [], "sent": []}
    decode, encode = extension.decode, extension.encode

    def recording_decode(frame: Frame, *, max_size: int | None = None) -> Frame:
        if frame.opcode < 0x8:
            seen["received"].append(frame.rsv1)
        return decode(frame, max_size=max_size)

    def recording_encode(frame: Frame) -> Frame:
        out = encode(frame)
        if out.opcode < 0x8:
            seen["sent"].append(out.rsv1)
        return out

    extension.decode = recording_decode  # type: ignore[method-assign]
    extension.encode = recording_encode  # type: ignore[method-assign]
    return seen


async def _until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` is true: the peer's handler may finish a moment after us."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def _disable_auto_pong(protocol: Protocol) -> list[bytes]:
    """Make a ``websockets`` connection ignore pings (no automatic pong); returns the list of
    ping payloads it swallowed."""
    swallowed: list[bytes] = []
    recv_frame = protocol.recv_frame

    def recv_frame_without_pong(frame: Frame) -> None:
        if frame.opcode is Opcode.PING:
            swallowed.append(bytes(frame.data))
            return
        recv_frame(frame)

    protocol.recv_frame = recv_frame_without_pong  # type: ignore[method-assign]
    return swallowed


# ==============================================================================================
# Our server, the websockets client
# ==============================================================================================

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
def serve_ws(serve_app: Any) -> Callable[[Handler], Awaitable[str]]:
    """``url = await serve_ws(handler)``: our server with ``handler`` at ``/ws``."""

    async def serve_handler(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/ws", handler)
        base: str = await serve_app(app)
        return base.replace("http://", "ws://") + "/ws"

    return serve_handler


async def _echo_handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=BIG, protocols=("chat.v1", "chat.v2"))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_server_echo_up_to_16_mib(serve_ws: Any, compression: str | None) -> None:
    url = await serve_ws(_echo_handler)
    async with ws_client(url, max_size=BIG, compression=compression, ping_interval=None) as ws:
        for size in SIZES:
            if compression and size == 16 * MiB:
                continue  # deflating 16 MiB twice per message is slow: 1 MiB covers it
            data = os.urandom(size)
            await ws.send(data)
            assert await ws.recv() == data, size
            text = _text(size)
            await ws.send(text)
            assert await ws.recv() == text, size


async def test_server_compressed_16_mib(serve_ws: Any) -> None:
    url = await serve_ws(_echo_handler)
    async with ws_client(url, max_size=BIG, ping_interval=None) as ws:
        seen = _record_deflate(ws)
        data = (b"0123456789abcdef" * 1024 + os.urandom(1024)) * 960  # ~16.6 MB, compressible
        await ws.send(data)
        assert await ws.recv() == data
        assert seen == {"sent": [True], "received": [True]}


async def test_server_receives_fragmented_messages(serve_ws: Any) -> None:
    url = await serve_ws(_echo_handler)
    async with ws_client(url, max_size=BIG, ping_interval=None) as ws:
        text = _text(100_000)
        # Fragment boundaries inside multi-byte characters are fine for UTF-8 *bytes*, but
        # websockets sends str fragments: cut the text itself.
        parts = [text[:1], text[1:5000], "", text[5000:70000], text[70000:]]
        await ws.send(_fragments(parts))
        assert await ws.recv() == text
        blob = os.urandom(3 * MiB)
        await ws.send(_fragments([blob[:10], blob[10 : 2 * MiB], blob[2 * MiB :]]))
        assert await ws.recv() == blob
        # A synchronous iterable is sent as fragments too.
        await ws.send([b"ab", b"", b"cd"])
        assert await ws.recv() == b"abcd"


async def test_server_fragmented_and_compressed(serve_ws: Any) -> None:
    url = await serve_ws(_echo_handler)
    async with ws_client(url, max_size=BIG, ping_interval=None) as ws:
        seen = _record_deflate(ws)
        parts = ["héllo " * 5000, "wörld " * 5000, "!" * 10]
        await ws.send(_fragments(parts))
        assert await ws.recv() == "".join(parts)
        # RSV1 is set on the first frame of a compressed message only (websockets ends an
        # async iterable with an empty final frame).
        assert seen["sent"] == [True, False, False, False]
        assert seen["received"] == [True]


async def test_server_answers_pings_and_pings_back(serve_ws: Any) -> None:
    pongs: list[bytes] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"from-server")
        async for msg in ws:
            if msg.type == WSMsgType.PONG:
                pongs.append(msg.data)
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)  # autoping is off: answer by hand
            elif msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    url = await serve_ws(handler)
    async with ws_client(url, ping_interval=None) as ws:
        latency = await asyncio.wait_for(await ws.ping(b"from-client"), 5)
        assert latency >= 0
        await ws.send("after the ping")
        assert await ws.recv() == "after the ping"
    assert pongs == [b"from-server"]  # websockets answered our ping with its payload

    async def autoping_handler(request: web.Request) -> web.WebSocketResponse:
        return await _echo_handler(request)

    url = await serve_ws(autoping_handler)
    async with ws_client(url, ping_interval=None) as ws:
        for payload in (b"", b"x" * 125, "text ping"):
            await asyncio.wait_for(await ws.ping(payload), 5)


async def test_server_receives_close_code_and_reason(serve_ws: Any) -> None:
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        seen.append((msg.type, msg.data, msg.extra))
        seen.append(ws.close_code)
        return ws

    url = await serve_ws(handler)
    async with ws_client(url, ping_interval=None) as ws:
        await ws.close(code=4001, reason="client says bye ✓")
        assert ws.close_code == 4001  # our server echoed the code
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == 4001
    assert seen == [(WSMsgType.CLOSE, 4001, "client says bye ✓"), 4001]


async def test_server_closes_with_code_and_reason(serve_ws: Any) -> None:
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        seen.append(await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message="server bye ✓"))
        seen.append(ws.close_code)
        return ws

    url = await serve_ws(handler)
    async with ws_client(url, ping_interval=None) as ws:
        await ws.send("hello")
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (1013, "server bye ✓")
        assert info.value.sent is not None and info.value.sent.code == 1013  # echoed
    assert seen == [True, 1013]


async def test_server_closes_on_protocol_errors(serve_ws: Any) -> None:
    results: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1024)
        await ws.prepare(request)
        msg = await ws.receive()
        results.append((msg.type, ws.close_code))
        return ws

    url = await serve_ws(handler)
    # Invalid UTF-8 in a text frame: 1007.
    async with ws_client(url, ping_interval=None) as ws:
        await ws.send(b"\xff\xfe not utf-8", text=True)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1007
    # A message over max_msg_size: 1009.
    async with ws_client(url, ping_interval=None, compression=None) as ws:
        await ws.send(b"x" * 1025)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    assert results == [(WSMsgType.ERROR, 1007), (WSMsgType.ERROR, 1009)]


async def test_server_subprotocols(serve_ws: Any) -> None:
    chosen: list[str | None] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat.v1", "chat.v2"))
        await ws.prepare(request)
        chosen.append(ws.ws_protocol)
        await ws.close()
        return ws

    url = await serve_ws(handler)
    async with ws_client(url, subprotocols=["chat.v3", "chat.v2", "chat.v1"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat.v2"  # the client's first choice we speak
        assert ws.response is not None
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "chat.v2"
        await ws.wait_closed()
    async with ws_client(url, subprotocols=["other"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        assert ws.response is not None
        assert "Sec-WebSocket-Protocol" not in ws.response.headers
        await ws.wait_closed()
    assert chosen == ["chat.v2", None]


async def test_server_permessage_deflate_negotiation(serve_ws: Any) -> None:
    compress: list[int | bool] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        compress.append(ws.compress)
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    url = await serve_ws(handler)
    # The default offer: "permessage-deflate; client_max_window_bits".
    async with ws_client(url, ping_interval=None) as ws:
        assert ws.response is not None
        assert ws.response.headers["Sec-WebSocket-Extensions"] == "permessage-deflate"
        seen = _record_deflate(ws)
        for i in range(20):  # context takeover: the later messages compress better
            await ws.send("the same sentence, again and again " * 20 + str(i))
            assert (await ws.recv()).endswith(str(i))
        assert seen == {"sent": [True] * 20, "received": [True] * 20}

    # An offer with every parameter: we honour the window and context takeover asked of us.
    factory = ClientPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=10,
        client_max_window_bits=11,
    )
    async with ws_client(url, compression=None, extensions=[factory], ping_interval=None) as ws:
        assert ws.response is not None
        answer = ws.response.headers["Sec-WebSocket-Extensions"]
        assert answer == (
            "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
        )
        seen = _record_deflate(ws)
        for i in range(20):
            text = _text(40_000) + str(i)
            await ws.send(text)
            assert await ws.recv() == text
        assert seen == {"sent": [True] * 20, "received": [True] * 20}

    # No offer, no compression.
    async with ws_client(url, compression=None, ping_interval=None) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        assert ws.protocol.extensions == []
        await ws.send("plain")
        assert await ws.recv() == "plain"
    assert compress == [15, 10, 0]


async def test_server_heartbeat_against_a_peer_without_pongs(serve_ws: Any) -> None:
    outcome: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=0.2)
        await ws.prepare(request)
        loop = asyncio.get_running_loop()
        started = loop.time()
        msg = await ws.receive()
        outcome.append((msg.type, ws.close_code, type(ws.exception()), loop.time() - started))
        return ws

    url = await serve_ws(handler)
    # A peer that answers pings keeps the connection alive past many heartbeats.
    async with ws_client(url, ping_interval=None) as ws:
        await asyncio.sleep(1.0)
        assert outcome == []
        await ws.close()
    assert outcome[0][:2] == (WSMsgType.CLOSE, 1000)

    # A peer that swallows pings is dropped after heartbeat + heartbeat / 2.
    outcome.clear()
    async with ws_client(url, ping_interval=None) as ws:
        swallowed = _disable_auto_pong(ws.protocol)
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
        assert info.value.rcvd is None  # dropped, no Close frame
        assert swallowed == [b""]
    msg_type, code, exc_type, elapsed = outcome[0]
    assert (msg_type, code) == (WSMsgType.ERROR, WSCloseCode.ABNORMAL_CLOSURE)
    assert issubclass(exc_type, TimeoutError)
    assert 0.25 <= elapsed < 2.0


async def test_server_refuses_a_plain_request(serve_app: Any) -> None:
    app = web.Application()
    app.router.add_get("/ws", _echo_handler)
    app.router.add_get("/page", _page)
    base = (await serve_app(app)).replace("http://", "ws://")
    with pytest.raises(InvalidStatus) as info:
        async with ws_client(base + "/page"):
            pass
    assert info.value.response.status_code == 200
    with pytest.raises(InvalidStatus) as info:
        async with ws_client(base + "/missing"):
            pass
    assert info.value.response.status_code == 404


async def _page(request: web.Request) -> web.Response:
    return web.Response(text="not a websocket")


# ==============================================================================================
# The websockets server, our client
# ==============================================================================================

ServerHandler = Callable[[ServerConnection], Awaitable[None]]


@pytest.fixture
async def ws_server() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """``url = await ws_server(handler, **serve_kwargs)``: a ``websockets`` server on a free
    port, closed after the test."""
    servers: list[Server] = []

    async def start(handler: ServerHandler, **kwargs: Any) -> str:
        kwargs.setdefault("ping_interval", None)
        server = await serve(handler, "127.0.0.1", 0, **kwargs)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _ws_echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


@pytest.mark.parametrize("compress", [0, 15])
async def test_client_echo_up_to_16_mib(
    ws_server: Any, session: aiohttp.ClientSession, compress: int
) -> None:
    url = await ws_server(_ws_echo, max_size=BIG)
    async with session.ws_connect(url, max_msg_size=BIG, compress=compress) as ws:
        # websockets asks clients for a 4 KiB window (client_max_window_bits=12) by default.
        assert ws.compress == (12 if compress else 0)
        for size in SIZES:
            if compress and size == 16 * MiB:
                continue
            data = os.urandom(size)
            await ws.send_bytes(data)
            assert await ws.receive_bytes(timeout=20) == data, size
            text = _text(size)
            await ws.send_str(text)
            assert await ws.receive_str(timeout=20) == text, size
        await ws.close()
        assert ws.close_code == 1000


async def test_client_receives_fragmented_messages(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    text = _text(200_000)
    blob = os.urandom(2 * MiB + 3)

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(_fragments([text[:1], text[1:99_999], "", text[99_999:]]))
        await ws.send(_fragments([blob[:1], blob[1 : MiB + 1], blob[MiB + 1 :]]))
        await ws.send(["ping", "-", "pong"])  # a sync iterable: fragments too
        await ws.wait_closed()

    for compress in (0, 15):
        url = await ws_server(handler, max_size=BIG)
        async with session.ws_connect(url, max_msg_size=BIG, compress=compress) as ws:
            await ws.send_str("go")
            assert await ws.receive_str() == text
            assert await ws.receive_bytes() == blob
            assert await ws.receive_str() == "ping-pong"


async def test_client_pings_and_answers_pings(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    latencies: list[float] = []

    async def handler(ws: ServerConnection) -> None:
        # Our client answers pings while it is receiving.
        for payload in (b"", b"p" * 125):
            pong_waiter = await ws.ping(payload)
            latencies.append(await asyncio.wait_for(pong_waiter, 5))
        await ws.send("pinged")
        await _ws_echo(ws)

    url = await ws_server(handler)
    async with session.ws_connect(url, autoping=False) as ws:
        msg = await ws.receive()
        assert (msg.type, msg.data) == (WSMsgType.PING, b"")
        await ws.pong(msg.data)
        msg = await ws.receive()
        assert (msg.type, msg.data) == (WSMsgType.PING, b"p" * 125)
        await ws.pong(msg.data)
        assert await ws.receive_str() == "pinged"
        await ws.ping(b"from-client")
        msg = await ws.receive()
        assert (msg.type, msg.data) == (WSMsgType.PONG, b"from-client")
    assert len(latencies) == 2

    latencies.clear()
    async with session.ws_connect(url) as ws:  # autoping: pongs are automatic and hidden
        assert await ws.receive_str() == "pinged"
        await ws.ping("text payload")
        await ws.send_str("echo")
        assert await ws.receive_str() == "echo"
    assert len(latencies) == 2


async def test_client_closes_with_code_and_reason(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    seen: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        try:
            await ws.recv()
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            seen.append((exc.rcvd.code, exc.rcvd.reason))

    url = await ws_server(handler)
    async with session.ws_connect(url) as ws:
        assert await ws.close(code=4002, message="client bye ✓") is True
        assert ws.closed
        assert ws.close_code == 4002  # websockets echoed it
        assert await ws.close() is False
    await _until(lambda: seen)
    assert seen == [(4002, "client bye ✓")]


async def test_client_sees_server_close_code_and_reason(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    seen: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.close(code=1008, reason="policy ✗")
        assert ws.protocol.close_rcvd is not None
        seen.append(ws.protocol.close_rcvd.code)

    url = await ws_server(handler)
    async with session.ws_connect(url) as ws:
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 1008, "policy ✗")
        assert ws.close_code == 1008
        msg = await ws.receive()
        assert msg.type == WSMsgType.CLOSED
    await _until(lambda: seen)
    assert seen == [1008]  # we answered with the same code


async def test_client_fails_on_protocol_errors(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    seen: list[int | None] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(b"\xc3\x28 invalid", text=True)
        await ws.wait_closed()
        seen.append(ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None)

    url = await ws_server(handler)
    async with session.ws_connect(url) as ws:
        msg = await ws.receive()
        assert msg.type == WSMsgType.ERROR
        assert ws.close_code == 1007
    await _until(lambda: seen)

    async def too_big(ws: ServerConnection) -> None:
        await ws.send(b"x" * 2048)
        await ws.wait_closed()
        seen.append(ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None)

    url = await ws_server(too_big, compression=None)
    async with session.ws_connect(url, max_msg_size=1024) as ws:
        msg = await ws.receive()
        assert msg.type == WSMsgType.ERROR
        assert ws.close_code == 1009
    await _until(lambda: len(seen) == 2)
    assert seen == [1007, 1009]


async def test_client_subprotocols(ws_server: Any, session: aiohttp.ClientSession) -> None:
    offered: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        offered.append((ws.request.headers.get("Sec-WebSocket-Protocol"), ws.subprotocol))
        await ws.close()

    url = await ws_server(handler, subprotocols=["chat.v1", "chat.v2"])
    async with session.ws_connect(url, protocols=("chat.v2", "chat.v1")) as ws:
        assert ws.protocol == "chat.v1"  # websockets goes by its own order of preference
        await ws.receive()
    url = await ws_server(handler)  # a server without subprotocols chooses none
    async with session.ws_connect(url, protocols=("chat.v2",)) as ws:
        assert ws.protocol is None
        await ws.receive()
    await _until(lambda: len(offered) == 2)
    assert offered == [("chat.v2,chat.v1", "chat.v1"), ("chat.v2", None)]


async def test_client_refused_without_common_subprotocol(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    url = await ws_server(_ws_echo, subprotocols=["chat.v1"])
    for protocols in [("chat.v9",), ()]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url, protocols=protocols)
        assert info.value.status == 400


async def test_client_permessage_deflate(ws_server: Any, session: aiohttp.ClientSession) -> None:
    log: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None and ws.response is not None
        log.append(ws.request.headers.get("Sec-WebSocket-Extensions"))
        log.append(ws.response.headers.get("Sec-WebSocket-Extensions"))
        if ws.protocol.extensions:
            log.append(_record_deflate(ws))
        await _ws_echo(ws)

    url = await ws_server(handler)

    # Our default offer; websockets limits our window to 4 KiB.
    async with session.ws_connect(url, compress=15) as ws:
        assert ws.compress == 12 and not ws.client_notakeover
        for i in range(20):
            await ws.send_str("a sentence we keep sending " * 30 + str(i))
            assert (await ws.receive_str()).endswith(str(i))
        await ws.send_bytes(b"\x00" * 100_000)  # above the in-loop compression threshold
        assert await ws.receive_bytes() == b"\x00" * 100_000
    offer, answer, seen = log
    assert offer == "permessage-deflate; client_max_window_bits"
    assert answer == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    assert seen == {"received": [True] * 21, "sent": [True] * 21}

    # A server that limits our window and forbids context takeover.
    log.clear()
    factory = ServerPerMessageDeflateFactory(
        client_max_window_bits=9,
        client_no_context_takeover=True,
        require_client_max_window_bits=True,
    )
    url = await ws_server(handler, compression=None, extensions=[factory])
    async with session.ws_connect(url, compress=15) as ws:
        assert ws.compress == 9 and ws.client_notakeover
        for i in range(20):
            text = _text(30_000) + str(i)
            await ws.send_str(text)
            assert await ws.receive_str() == text
    offer, answer, seen = log
    assert answer == "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"
    assert seen == {"received": [True] * 20, "sent": [True] * 20}

    # We ask for a smaller server window.
    log.clear()
    url = await ws_server(handler)
    async with session.ws_connect(url, compress=10) as ws:
        await ws.send_str("x" * 5000)
        assert await ws.receive_str() == "x" * 5000
    offer, answer, seen = log
    assert offer == "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
    assert "server_max_window_bits=10" in answer

    # Compression off on our side: no offer, no extension.
    log.clear()
    async with session.ws_connect(url, compress=0) as ws:
        assert ws.compress == 0
        await ws.send_str("plain")
        assert await ws.receive_str() == "plain"
    assert log == [None, None]


async def test_client_heartbeat_against_a_peer_without_pongs(
    ws_server: Any, session: aiohttp.ClientSession
) -> None:
    swallowed: list[list[bytes]] = []

    async def deaf(ws: ServerConnection) -> None:
        swallowed.append(_disable_auto_pong(ws.protocol))
        await ws.wait_closed()

    # A peer that answers pings: alive after many heartbeats.
    url = await ws_server(_ws_echo)
    async with session.ws_connect(url, heartbeat=0.2) as ws:
        await asyncio.sleep(1.0)
        assert not ws.closed
        await ws.send_str("still there")
        assert await ws.receive_str() == "still there"

    url = await ws_server(deaf)
    loop = asyncio.get_running_loop()
    async with session.ws_connect(url, heartbeat=0.2) as ws:
        started = loop.time()
        msg = await ws.receive(timeout=5)
        elapsed = loop.time() - started
        assert msg.type == WSMsgType.ERROR
        assert isinstance(msg.data, aiohttp.ServerTimeoutError)
        assert isinstance(ws.exception(), aiohttp.ServerTimeoutError)
        assert ws.closed and ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert 0.25 <= elapsed < 2.0
    assert swallowed == [[b""]]


async def test_client_handshake_refused(ws_server: Any, session: aiohttp.ClientSession) -> None:
    def refuse(connection: ServerConnection, request: Any) -> Any:
        return connection.respond(403, "go away\n")

    url = await ws_server(_ws_echo, process_request=refuse)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await session.ws_connect(url)
    assert info.value.status == 403
