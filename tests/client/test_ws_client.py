"""``ClientSession.ws_connect`` and ``ClientWebSocketResponse`` against scripted servers: a
raw socket server answers the handshake the way each test needs (right, wrong, or not at
all), so that the client's checks, timeouts and errors can be observed."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from multidict import CIMultiDict

from aiohyper import (
    BasicAuth,
    ClientConnectionResetError,
    ClientSession,
    ClientTimeout,
    ClientWebSocketResponse,
    ClientWSTimeout,
    ServerTimeoutError,
    WSCloseCode,
    WSMsgType,
    WSServerHandshakeError,
)
from aiohyper._ws import ws_accept_key
from aiohyper._ws._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    Frame,
    FrameDecoder,
    build_frame as frame,
)


class ServerSide:
    """One accepted connection of the scripted server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.request_line = ""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.decoder = FrameDecoder(masked=True, allow_rsv1=True, max_msg_size=0)
        self.frames: list[Frame] = []

    async def read_head(self) -> None:
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        self.request_line, *lines = head[:-4].split("\r\n")
        for line in lines:
            name, _, value = line.partition(":")
            self.headers.add(name.strip(), value.strip())

    def accept(self, *, extra: dict[str, str] | None = None, accept: str | None = None) -> bytes:
        """The bytes of a 101 answer to the request read."""
        headers = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": accept or ws_accept_key(self.headers["Sec-WebSocket-Key"]),
            **(extra or {}),
        }
        lines = ["HTTP/1.1 101 Switching Protocols", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def frame(self, timeout: float = 5.0) -> Frame:
        """The next frame from the client (raises ``EOFError`` when it hangs up)."""
        async with asyncio.timeout(timeout):
            while not self.frames:
                data = await self.reader.read(65536)
                if not data:
                    raise EOFError
                self.frames.extend(self.decoder.feed_data(data))
        return self.frames.pop(0)

    async def answer_close(self) -> int:
        """Read frames up to the client's Close, answer it, hang up; return its code."""
        while True:
            received = await self.frame()
            if received.opcode == OP_CLOSE:
                self.writer.write(frame(OP_CLOSE, received.payload[:2]))
                self.writer.close()
                return int.from_bytes(received.payload[:2], "big")


Script = Callable[[ServerSide], Awaitable[None]]


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[str]]]:
    """``url = await scripted(script)``: a server running ``script`` for each connection."""
    servers: list[asyncio.Server] = []
    tasks: set[asyncio.Task[None]] = set()

    async def start(script: Script) -> str:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            side = ServerSide(reader, writer)
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await side.read_head()
                await script(side)
            except (EOFError, ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()
                tasks.discard(task)

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/ws"

    yield start
    for task in list(tasks):
        task.cancel()
    for server in servers:
        server.close()


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as s:
        yield s


async def accept_and_echo(side: ServerSide) -> None:
    side.writer.write(side.accept())
    while True:
        received = await side.frame()
        if received.opcode == OP_CLOSE:
            side.writer.write(frame(OP_CLOSE, received.payload[:2]))
            return
        side.writer.write(frame(received.opcode, received.payload))


# -- the handshake request -----------------------------------------------------------------


async def test_handshake_request_carries_the_session_and_ws_settings(
    scripted: Any,
) -> None:
    seen: list[ServerSide] = []

    async def script(side: ServerSide) -> None:
        seen.append(side)
        side.writer.write(side.accept(extra={"Sec-WebSocket-Protocol": "v2"}))
        await side.answer_close()

    url = await scripted(script)
    async with ClientSession(headers={"X-Session": "s"}, cookies={"sid": "42"}) as session:
        session.cookie_jar.update_cookies({"sid": "42"})
        ws = await session.ws_connect(
            url,
            protocols=("v1", "v2"),
            origin="http://example.com",
            headers={"X-Request": "r"},
            auth=BasicAuth("user", "pass"),
            params={"q": "1"},
            compress=15,
        )
        assert ws.protocol == "v2"
        assert ws.compress == 0  # offered, not accepted
        await ws.close()
    side = seen[0]
    assert side.request_line == "GET /ws?q=1 HTTP/1.1"
    h = side.headers
    assert h["Upgrade"] == "websocket"
    assert h["Connection"] == "Upgrade"
    assert h["Sec-WebSocket-Version"] == "13"
    assert len(base64.b64decode(h["Sec-WebSocket-Key"], validate=True)) == 16
    assert h["Sec-WebSocket-Protocol"] == "v1,v2"
    assert h["Sec-WebSocket-Extensions"] == "permessage-deflate; client_max_window_bits"
    assert h["Origin"] == "http://example.com"
    assert h["X-Session"] == "s" and h["X-Request"] == "r"
    assert h["Authorization"] == BasicAuth("user", "pass").encode()
    assert "sid=42" in h["Cookie"]


async def test_defaults_offer_nothing_and_keys_are_fresh(scripted: Any, session: Any) -> None:
    seen: list[ServerSide] = []

    async def script(side: ServerSide) -> None:
        seen.append(side)
        await accept_and_echo(side)

    url = await scripted(script)
    for _ in range(2):
        async with session.ws_connect(url, method="GET") as ws:
            assert ws.protocol is None and ws.compress == 0 and not ws.client_notakeover
    for side in seen:
        for absent in ("Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Origin"):
            assert absent not in side.headers
    assert seen[0].headers["Sec-WebSocket-Key"] != seen[1].headers["Sec-WebSocket-Key"]


async def test_compression_negotiated(scripted: Any, session: Any) -> None:
    async def script(side: ServerSide) -> None:
        side.writer.write(
            side.accept(
                extra={
                    "Sec-WebSocket-Extensions": (
                        "permessage-deflate; client_max_window_bits=10; client_no_context_takeover"
                    )
                }
            )
        )
        received = await side.frame()
        assert received.rsv1  # compressed by the client
        side.writer.write(frame(OP_CLOSE, (1000).to_bytes(2, "big")))
        await side.frame()

    url = await scripted(script)
    ws = await session.ws_connect(url, compress=12)
    assert (ws.compress, ws.client_notakeover) == (10, True)
    await ws.send_str("squeeze me " * 10)
    msg = await ws.receive()
    assert msg.type == WSMsgType.CLOSE
    assert ws.closed


def test_compress_out_of_range_is_refused(session: Any) -> None:
    with pytest.raises(ValueError):
        session.ws_connect("http://127.0.0.1:1/", compress=8).send(None)


# -- refused or botched handshakes ---------------------------------------------------------


@pytest.mark.parametrize(
    "answer, status, message",
    [
        (
            lambda s: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nX-Why: no\r\n\r\nno",
            403,
            "Invalid response status",
        ),
        (lambda s: s.accept(accept="d3Jvbmc="), 101, "Invalid challenge response"),
        (
            lambda s: s.accept(extra={"Sec-WebSocket-Protocol": "v9"}),
            101,
            "subprotocol we did not offer",
        ),
        (
            lambda s: s.accept(extra={"Sec-WebSocket-Extensions": "permessage-deflate"}),
            101,
            "extensions we did not offer",
        ),
        (
            lambda s: s.accept().replace(b"Upgrade: websocket", b"Upgrade: h2c"),
            101,
            "Invalid upgrade header",
        ),
    ],
)
async def test_bad_handshakes_raise_ws_server_handshake_error(
    scripted: Any, session: Any, answer: Callable[[ServerSide], bytes], status: int, message: str
) -> None:
    closed = asyncio.Event()

    async def script(side: ServerSide) -> None:
        side.writer.write(answer(side))
        await side.reader.read()  # until the client hangs up
        closed.set()

    url = await scripted(script)
    with pytest.raises(WSServerHandshakeError) as info:
        await session.ws_connect(url, protocols=("v1",))
    assert info.value.status == status
    assert message in info.value.message
    assert info.value.request_info.url.path == "/ws"
    if status == 403:
        # A complete HTTP answer leaves a reusable HTTP connection.
        assert info.value.headers is not None and info.value.headers["X-Why"] == "no"
    else:
        async with asyncio.timeout(5):
            await closed.wait()  # a switched connection is never pooled


async def test_frame_sent_right_after_the_101_is_received(scripted: Any, session: Any) -> None:
    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept() + frame(OP_TEXT, b"welcome"))
        await side.answer_close()

    url = await scripted(script)
    async with session.ws_connect(url) as ws:
        assert await ws.receive_str() == "welcome"


# -- the connection ------------------------------------------------------------------------


async def test_frames_are_masked_and_masked_server_frames_refused(
    scripted: Any, session: Any
) -> None:
    codes: list[int] = []

    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        received = await side.frame()  # the decoder insists on masked client frames
        assert bytes(received.payload) == b"masked"
        side.writer.write(frame(OP_BINARY, b"x", mask=b"abcd"))  # servers must not mask
        received = await side.frame()
        codes.append(int.from_bytes(received.payload[:2], "big"))

    url = await scripted(script)
    ws = await session.ws_connect(url)
    await ws.send_bytes(b"masked")
    msg = await ws.receive()
    assert msg.type == WSMsgType.ERROR
    assert ws.close_code == WSCloseCode.PROTOCOL_ERROR
    await asyncio.sleep(0.05)
    assert codes == [WSCloseCode.PROTOCOL_ERROR]


async def test_heartbeat_without_answer_times_out(scripted: Any, session: Any) -> None:
    pings: list[Frame] = []

    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        pings.append(await side.frame())  # and never a pong
        await side.reader.read()

    url = await scripted(script)
    ws = await session.ws_connect(url, heartbeat=0.2)
    start = time.monotonic()
    msg = await ws.receive()
    assert 0.25 <= time.monotonic() - start < 3
    assert msg.type == WSMsgType.ERROR
    assert isinstance(msg.data, ServerTimeoutError)
    assert isinstance(ws.exception(), ServerTimeoutError)
    assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert ws.closed
    assert [p.opcode for p in pings] == [OP_PING]
    assert (await ws.receive()).type == WSMsgType.CLOSED


async def test_heartbeat_answered_keeps_the_connection(scripted: Any, session: Any) -> None:
    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        while True:
            received = await side.frame()
            if received.opcode == OP_PING:
                side.writer.write(frame(0xA, received.payload))
            elif received.opcode == OP_CLOSE:
                side.writer.write(frame(OP_CLOSE, received.payload[:2]))
                return

    url = await scripted(script)
    ws = await session.ws_connect(url, heartbeat=0.1)
    await asyncio.sleep(0.5)  # several heartbeats, all answered (pongs wait unread)
    assert not ws.closed and ws.exception() is None
    await ws.close()
    assert ws.close_code == 1000


async def test_receive_timeouts(scripted: Any, session: Any) -> None:
    url = await scripted(accept_and_echo)
    ws = await session.ws_connect(url, timeout=ClientWSTimeout(ws_receive=0.05, ws_close=1))
    with pytest.raises(TimeoutError):
        await ws.receive()
    with pytest.raises(TimeoutError):
        await ws.receive_bytes(timeout=0.01)
    await ws.send_str("still there")
    assert await ws.receive_str(timeout=5) == "still there"
    assert not ws.closed
    await ws.close()

    with pytest.warns(DeprecationWarning, match="receive_timeout"):
        ctx = session.ws_connect(url, receive_timeout=0.05)
    ws = await ctx
    with pytest.raises(TimeoutError):
        await ws.receive()
    await ws.close()


async def test_close_timeout_when_the_server_never_answers(scripted: Any, session: Any) -> None:
    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        await side.reader.read()

    url = await scripted(script)
    for timeout in (ClientWSTimeout(ws_close=0.1), 0.1):
        if isinstance(timeout, float):
            with pytest.warns(DeprecationWarning, match="timeout"):
                ctx = session.ws_connect(url, timeout=timeout)
        else:
            ctx = session.ws_connect(url, timeout=timeout)
        ws = await ctx
        start = time.monotonic()
        assert await ws.close() is True
        assert time.monotonic() - start < 2
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert isinstance(ws.exception(), TimeoutError)
        assert await ws.close() is False


async def test_no_timeouts_at_all(scripted: Any, session: Any) -> None:
    url = await scripted(accept_and_echo)
    async with session.ws_connect(url, timeout=None) as ws:
        assert ws._ws_close_timeout is None and ws._ws_receive_timeout is None


async def test_send_after_close_and_concurrent_receive(scripted: Any, session: Any) -> None:
    url = await scripted(accept_and_echo)
    ws = await session.ws_connect(url)
    reader = asyncio.create_task(ws.receive())
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="Concurrent"):
        await ws.receive()
    await ws.send_str("one")
    assert (await reader).data == "one"
    await ws.close()
    assert ws.closed and ws.close_code == 1000
    for call in (ws.send_str("x"), ws.send_bytes(b"x"), ws.ping(), ws.send_json(1)):
        with pytest.raises(ClientConnectionResetError):
            await call


async def test_server_close_is_answered(scripted: Any, session: Any) -> None:
    answers: list[int] = []

    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        side.writer.write(frame(OP_CLOSE, (4001).to_bytes(2, "big") + b"bye"))
        received = await side.frame()
        answers.append(int.from_bytes(received.payload[:2], "big"))

    url = await scripted(script)
    ws = await session.ws_connect(url)
    assert ws.get_extra_info("peername")[:2] == ("127.0.0.1", int(url.split(":")[2][:-3]))
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4001, "bye")
    assert ws.closed and ws.close_code == 4001
    await asyncio.sleep(0.05)
    assert answers == [4001]


async def test_total_timeout_ends_with_the_handshake(scripted: Any) -> None:
    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        await asyncio.sleep(0.4)
        side.writer.write(frame(OP_TEXT, b"late but fine"))
        await side.answer_close()

    url = await scripted(script)
    async with (
        ClientSession(timeout=ClientTimeout(total=0.2)) as session,
        session.ws_connect(url) as ws,
    ):
        # The total timeout's timer is cancelled, not left to fire on a live WebSocket.
        assert ws._response._done_callbacks == []
        assert await ws.receive_str() == "late but fine"


async def test_custom_response_class(scripted: Any) -> None:
    class Mine(ClientWebSocketResponse):
        __slots__ = ()

    url = await scripted(accept_and_echo)
    async with ClientSession(ws_response_class=Mine) as session:
        async with session.ws_connect(url) as ws:
            assert type(ws) is Mine
            assert "open" in repr(ws)
        assert "closed" in repr(ws)


async def test_connection_lost_reports_closed(scripted: Any, session: Any) -> None:
    async def script(side: ServerSide) -> None:
        side.writer.write(side.accept())
        side.writer.close()

    url = await scripted(script)
    ws = await session.ws_connect(url)
    msg = await ws.receive()
    assert msg.type == WSMsgType.CLOSED
    assert ws.closed and ws.close_code == WSCloseCode.ABNORMAL_CLOSURE


async def test_ws_is_an_async_context_manager(scripted: Any, session: Any) -> None:
    url = await scripted(accept_and_echo)
    ws = await session.ws_connect(url)
    async with ws as same:
        assert same is ws
    assert ws.closed


async def test_http_keep_alive_connection_can_be_upgraded(scripted: Any) -> None:
    async def script(side: ServerSide) -> None:
        if "Sec-WebSocket-Key" not in side.headers:
            side.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await side.read_head()  # the same connection comes back for the upgrade
        await accept_and_echo(side)

    url = await scripted(script)
    async with ClientSession() as session:
        async with session.get(url) as resp:
            assert await resp.text() == "ok"
        async with session.ws_connect(url) as ws:
            await ws.send_str("reused")
            assert await ws.receive_str() == "reused"
