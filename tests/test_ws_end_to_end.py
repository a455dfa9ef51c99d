"""Our WebSocket client against our WebSocket server, over real sockets on 127.0.0.1.

A relay between the two records the bytes each side sends, so that what is negotiated and
what goes on the wire (compression's RSV1 bit, close codes) is checked, not only the API.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from aiohyper import (
    ClientConnectorCertificateError,
    ClientSession,
    ClientWSTimeout,
    ServerTimeoutError,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    WSServerHandshakeError,
    web,
)
from aiohyper._ws._frames import OP_CONTINUATION, OP_TEXT, Frame, FrameDecoder, build_frame
from aiohyper.test_utils import TestClient, TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Relay:
    """Forwards one TCP port to another, keeping a copy of each direction."""

    target: int
    port: int = 0
    to_server: bytearray = field(default_factory=bytearray)
    to_client: bytearray = field(default_factory=bytearray)
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _on_client(self, c_reader: asyncio.StreamReader, c_writer: Any) -> None:
        s_reader, s_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pump(reader: asyncio.StreamReader, writer: Any, copy: bytearray) -> None:
            try:
                while data := await reader.read(65536):
                    copy.extend(data)
                    writer.write(data)
            except ConnectionError:
                pass
            finally:
                writer.close()

        await asyncio.gather(
            pump(c_reader, s_writer, self.to_server), pump(s_reader, c_writer, self.to_client)
        )

    @staticmethod
    def frames(stream: bytearray, *, masked: bool) -> list[Frame]:
        """The frames after the HTTP head in one direction of the recording."""
        head_end = stream.index(b"\r\n\r\n") + 4
        decoder = FrameDecoder(masked=masked, allow_rsv1=True, max_msg_size=0)
        return decoder.feed_data(bytes(stream[head_end:]))


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[tuple[web.AppRunner, str]]]]:
    """``runner, url = await serve(handler, relay=None, **runner_kwargs)``."""
    runners: list[web.AppRunner] = []
    relays: list[Relay] = []

    async def start(
        handler: Handler, *, relay: Relay | None = None, **kwargs: Any
    ) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_get("/ws", handler)
        runner = web.AppRunner(app, access_log=None, **kwargs)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        port = runner.addresses[0][1]
        if relay is not None:
            relay.target = port
            await relay.start()
            relays.append(relay)
            port = relay.port
        return runner, f"http://127.0.0.1:{port}/ws"

    yield start
    for runner in runners:
        if runner.server is not None:
            await runner.cleanup()
    for relay in relays:
        assert relay.server is not None
        relay.server.close()


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as s:
        yield s


def echo_handler(**ws_kwargs: Any) -> tuple[Handler, list[web.WebSocketResponse]]:
    """An echo handler (TEXT and BINARY), and the list its WebSockets are added to."""
    sockets: list[web.WebSocketResponse] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(**ws_kwargs)
        await ws.prepare(request)
        sockets.append(ws)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    return handler, sockets


# -- messages ------------------------------------------------------------------------------


async def test_text_binary_and_json_echo(serve: Any, session: ClientSession) -> None:
    handler, _ = echo_handler()
    _, url = await serve(handler)
    async with session.ws_connect(url.replace("http://", "ws://")) as ws:
        await ws.send_str("héllo ☃")
        assert await ws.receive_str() == "héllo ☃"
        await ws.send_bytes(b"\x00\xff" * 1000)
        assert await ws.receive_bytes() == b"\x00\xff" * 1000
        await ws.send_json({"a": [1, None]})
        assert await ws.receive_json() == {"a": [1, None]}
        await ws.send_str("")
        assert await ws.receive_str() == ""
        await ws.send_bytes(b"again")
        msg = await ws.receive()
        assert msg == WSMessage(WSMsgType.BINARY, b"again", None)


@pytest.mark.parametrize("compress", [0, 15])
async def test_sixteen_mebibytes_each_way(
    serve: Any, session: ClientSession, compress: int
) -> None:
    size = 16 * 2**20
    limit = size + 2**16  # the default is 4 MiB; the wire size of a compressed one may be more
    handler, _ = echo_handler(max_msg_size=limit)
    _, url = await serve(handler)
    async with session.ws_connect(url, max_msg_size=limit, compress=compress) as ws:
        if not compress:  # (deflating 16 MiB of noise is slow and proves nothing more)
            payload = os.urandom(size // 2) * 2
            await ws.send_bytes(payload)
            echoed = await ws.receive_bytes(timeout=30)
            assert len(echoed) == size and echoed == payload
        text = "0123456789abcdef" * (size // 16)
        await ws.send_str(text)
        assert await ws.receive_str(timeout=30) == text


async def test_incompressible_message_at_the_limit_with_compression(
    serve: Any, session: ClientSession
) -> None:
    size = 4 * 2**20
    handler, _ = echo_handler(max_msg_size=size)
    _, url = await serve(handler)
    payload = os.urandom(size)
    async with session.ws_connect(url, max_msg_size=size, compress=15) as ws:
        await ws.send_bytes(payload)
        assert await ws.receive_bytes(timeout=30) == payload


async def test_async_for_ends_on_close(serve: Any, session: ClientSession) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for i in range(3):
            await ws.send_str(str(i))
        await ws.close()
        return ws

    _, url = await serve(handler)
    async with session.ws_connect(url) as ws:
        assert [msg.data async for msg in ws] == ["0", "1", "2"]
        assert ws.close_code == 1000


async def test_fragmented_message_from_the_client(serve: Any, session: ClientSession) -> None:
    handler, _ = echo_handler()
    _, url = await serve(handler)
    async with session.ws_connect(url) as ws:
        transport = ws._ws_writer.transport  # type: ignore[union-attr]
        parts = [(OP_TEXT, b"frag", False), (OP_CONTINUATION, b"men", False)]
        parts.append((OP_CONTINUATION, b"ted", True))
        for opcode, data, fin in parts:
            transport.write(build_frame(opcode, data, fin=fin, mask=os.urandom(4)))
            await asyncio.sleep(0.01)  # separate TCP segments
        assert await ws.receive_str() == "fragmented"


async def test_ping_pong_both_ways(serve: Any, session: ClientSession) -> None:
    pongs: list[WSMessage] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"from server")
        async for msg in ws:
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            else:
                pongs.append(msg)
        return ws

    _, url = await serve(handler)
    async with session.ws_connect(url, autoping=False) as ws:
        msg = await ws.receive()
        assert (msg.type, msg.data) == (WSMsgType.PING, b"from server")
        await ws.pong(msg.data)
        await ws.ping("from client")
        msg = await ws.receive()
        assert (msg.type, msg.data) == (WSMsgType.PONG, b"from client")
    assert [(m.type, m.data) for m in pongs][:1] == [(WSMsgType.PONG, b"from server")]


# -- closing -------------------------------------------------------------------------------


async def test_client_closes_with_code_and_reason(serve: Any, session: ClientSession) -> None:
    received: list[WSMessage] = []
    done = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        received.append(await ws.receive())
        received.append(await ws.receive())
        done.set()
        return ws

    relay = Relay(0)
    _, url = await serve(handler, relay=relay)
    ws = await session.ws_connect(url)
    assert await ws.close(code=4000, message="client leaves") is True
    assert ws.closed and ws.close_code == 4000  # the server echoed it
    await done.wait()
    assert received == [
        WSMessage(WSMsgType.CLOSE, 4000, "client leaves"),
        WSMessage(WSMsgType.CLOSED, None, None),
    ]
    await asyncio.sleep(0.05)
    sent = Relay.frames(relay.to_server, masked=True)
    assert bytes(sent[-1].payload) == (4000).to_bytes(2, "big") + b"client leaves"
    echoed = Relay.frames(relay.to_client, masked=False)
    assert bytes(echoed[-1].payload) == (4000).to_bytes(2, "big")


async def test_server_closes_with_code_and_reason(serve: Any, session: ClientSession) -> None:
    codes: list[int | None] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"busy")
        codes.append(ws.close_code)
        return ws

    _, url = await serve(handler)
    ws = await session.ws_connect(url)
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 1013, "busy")
    assert ws.closed and ws.close_code == 1013
    assert (await ws.receive()).type == WSMsgType.CLOSED
    await asyncio.sleep(0.05)
    assert codes == [1013]


async def test_closing_from_another_task(serve: Any, session: ClientSession) -> None:
    handler, sockets = echo_handler()
    _, url = await serve(handler)
    ws = await session.ws_connect(url)
    receiving = asyncio.create_task(ws.receive())
    await asyncio.sleep(0.01)
    assert await ws.close(code=4002) is True
    assert (await receiving).type == WSMsgType.CLOSING
    assert ws.close_code == 4002
    await asyncio.sleep(0.05)
    assert sockets[0].closed and sockets[0].close_code == 4002


# -- negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "client, server, chosen",
    [
        (("v2", "v1"), ("v1", "v2"), "v2"),
        (("v3", "v1"), ("v1", "v2"), "v1"),
        (("v3",), ("v1",), None),
        ((), ("v1",), None),
    ],
)
async def test_subprotocols(
    serve: Any,
    session: ClientSession,
    client: tuple[str, ...],
    server: tuple[str, ...],
    chosen: str | None,
) -> None:
    handler, sockets = echo_handler(protocols=server)
    _, url = await serve(handler)
    async with session.ws_connect(url, protocols=client) as ws:
        assert ws.protocol == chosen
        await ws.send_str("x")
        await ws.receive()
        assert sockets[0].ws_protocol == chosen


@pytest.mark.parametrize("wbits", [15, 10])
async def test_compression_negotiated_and_on_the_wire(
    serve: Any, session: ClientSession, wbits: int
) -> None:
    handler, sockets = echo_handler()
    relay = Relay(0)
    _, url = await serve(handler, relay=relay)
    text = "compress me, " * 200
    async with session.ws_connect(url, compress=wbits) as ws:
        assert ws.compress == 15  # the server imposes nothing on our window
        assert sockets[0].compress == wbits
        extension = ws._response.headers["Sec-WebSocket-Extensions"]
        assert extension.startswith("permessage-deflate")
        assert (f"server_max_window_bits={wbits}" in extension) == (wbits < 15)
        for _ in range(3):  # context takeover: later messages shrink further
            await ws.send_str(text)
            assert await ws.receive_str() == text
        await ws.send_bytes(b"raw", compress=0)  # per-message opt-out
        assert await ws.receive_bytes() == b"raw"
    await asyncio.sleep(0.05)
    up = Relay.frames(relay.to_server, masked=True)
    down = Relay.frames(relay.to_client, masked=False)
    assert [f.rsv1 for f in up[:4]] == [True, True, True, False]
    assert [f.rsv1 for f in down[:4]] == [True, True, True, True]
    assert all(len(f.payload) < len(text) // 4 for f in up[:3] + down[:3])


async def test_no_compression_unless_offered(serve: Any, session: ClientSession) -> None:
    handler, sockets = echo_handler()
    relay = Relay(0)
    _, url = await serve(handler, relay=relay)
    async with session.ws_connect(url) as ws:
        assert ws.compress == 0
        assert "Sec-WebSocket-Extensions" not in ws._response.headers
        await ws.send_str("plain " * 100)
        await ws.receive()
        assert sockets[0].compress == 0
    await asyncio.sleep(0.05)
    frames = Relay.frames(relay.to_client, masked=False)
    assert not frames[0].rsv1 and bytes(frames[0].payload) == b"plain " * 100


# -- limits and protocol errors ------------------------------------------------------------


async def test_message_too_big_for_the_server(serve: Any, session: ClientSession) -> None:
    handler, sockets = echo_handler(max_msg_size=1024)
    _, url = await serve(handler)
    ws = await session.ws_connect(url)
    await ws.send_bytes(b"x" * 1024)
    assert len(await ws.receive_bytes()) == 1024  # at the limit: fine
    await ws.send_bytes(b"x" * 1025)
    msg = await ws.receive()
    assert (msg.type, msg.data) == (WSMsgType.CLOSE, WSCloseCode.MESSAGE_TOO_BIG)
    assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
    await asyncio.sleep(0.05)
    assert sockets[0].close_code == WSCloseCode.MESSAGE_TOO_BIG
    error = sockets[0].exception()
    assert isinstance(error, WebSocketError) and error.code == WSCloseCode.MESSAGE_TOO_BIG


async def test_message_too_big_for_the_client(serve: Any, session: ClientSession) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_bytes(b"y" * 5000)
        await ws.receive()
        return ws

    _, url = await serve(handler)
    ws = await session.ws_connect(url, max_msg_size=4096)
    msg = await ws.receive()
    assert msg.type == WSMsgType.ERROR
    assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
    await ws.close()


async def test_invalid_utf8_closes_with_1007(serve: Any, session: ClientSession) -> None:
    handler, sockets = echo_handler()
    _, url = await serve(handler)
    ws = await session.ws_connect(url)
    await ws.send_frame(b"ok \xff\xfe", WSMsgType.TEXT)
    msg = await ws.receive()
    assert (msg.type, msg.data) == (WSMsgType.CLOSE, WSCloseCode.INVALID_TEXT)
    await asyncio.sleep(0.05)
    assert sockets[0].close_code == WSCloseCode.INVALID_TEXT


# -- timeouts ------------------------------------------------------------------------------


async def test_client_heartbeat_against_a_server_that_does_not_answer(
    serve: Any, session: ClientSession
) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await asyncio.sleep(2)  # never reads: pings stay unanswered
        return ws

    _, url = await serve(handler, shutdown_timeout=0.5)
    ws = await session.ws_connect(url, heartbeat=0.2)
    start = time.monotonic()
    msg = await ws.receive()
    assert time.monotonic() - start < 2
    assert msg.type == WSMsgType.ERROR and isinstance(msg.data, ServerTimeoutError)
    assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE


async def test_heartbeats_keep_a_quiet_connection(serve: Any, session: ClientSession) -> None:
    handler, _ = echo_handler(heartbeat=0.1)
    _, url = await serve(handler)
    async with session.ws_connect(url, heartbeat=0.1) as ws:
        await asyncio.sleep(0.6)
        await ws.send_str("alive")
        assert await ws.receive_str() == "alive"
        assert ws.exception() is None


async def test_receive_timeout(serve: Any, session: ClientSession) -> None:
    handler, _ = echo_handler()
    _, url = await serve(handler)
    timeout = ClientWSTimeout(ws_receive=0.1, ws_close=5)
    async with session.ws_connect(url, timeout=timeout) as ws:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            await ws.receive()
        assert 0.09 <= time.monotonic() - start < 2
        await ws.send_str("after")
        assert await ws.receive_str() == "after"


# -- handshakes ----------------------------------------------------------------------------


async def test_handshake_refusals_reach_the_client(serve: Any, session: ClientSession) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        if request.query.get("mode") == "plain":
            return web.Response(text="not a websocket")
        if request.query.get("mode") == "forbid":
            raise web.HTTPForbidden()
        if not ws.can_prepare(request):
            return web.Response(status=426, text="upgrade required")
        await ws.prepare(request)
        await ws.close()
        return ws

    _, url = await serve(handler)
    for mode, status in (("plain", 200), ("forbid", 403)):
        with pytest.raises(WSServerHandshakeError) as info:
            await session.ws_connect(url, params={"mode": mode})
        assert info.value.status == status
    # A plain GET (no upgrade headers) meets can_prepare's refusal.
    async with session.get(url) as resp:
        assert resp.status == 426


# -- graceful shutdown ---------------------------------------------------------------------


async def test_graceful_shutdown_sends_going_away(serve: Any, session: ClientSession) -> None:
    handler, sockets = echo_handler()
    runner, url = await serve(handler, shutdown_timeout=30)
    clients = [await session.ws_connect(url) for _ in range(2)]
    receivers = [asyncio.create_task(ws.receive()) for ws in clients]
    start = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - start < 5
    for ws, receiver in zip(clients, receivers, strict=True):
        msg = await receiver
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 1001, "Server shutdown")
        assert ws.close_code == WSCloseCode.GOING_AWAY
    assert [ws.close_code for ws in sockets] == [WSCloseCode.GOING_AWAY] * 2


# -- TLS -----------------------------------------------------------------------------------


async def test_secure_websocket_over_tls() -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    handler, sockets = echo_handler()
    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx).start()
    port = runner.addresses[0][1]
    try:
        async with ClientSession() as session:
            url = f"wss://localhost:{port}/ws"
            async with session.ws_connect(url, ssl=client_ctx, compress=15) as ws:
                assert ws.get_extra_info("sslcontext") is client_ctx
                await ws.send_str("secret")
                assert await ws.receive_str() == "secret"
            with pytest.raises(ClientConnectorCertificateError):
                await session.ws_connect(url)  # the default context does not trust our CA
        assert sockets[0].get_extra_info("sslcontext") is server_ctx
    finally:
        await runner.cleanup()


# -- the test client -----------------------------------------------------------------------


async def test_test_client_ws_connect() -> None:
    handler, sockets = echo_handler()
    app = web.Application()
    app.router.add_get("/ws", handler)
    async with TestClient(TestServer(app)) as client:
        ws = await client.ws_connect("/ws", protocols=("chat",))
        await ws.send_str("through the test client")
        assert await ws.receive_str() == "through the test client"
    assert ws.closed
    assert sockets[0].closed
