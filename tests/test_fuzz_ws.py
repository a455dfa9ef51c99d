"""WebSockets against hostile peers: generated and mutated frames over real sockets.

After a valid opening handshake a raw peer sends a valid text frame (``"first"``) and then
frames hypothesis made: valid frames (text, binary, fragmented, control, compressed, over the
size limit) damaged by byte flips, inserted or deleted bytes, truncation, flipped
FIN/RSV/MASK bits, random opcodes, hostile lengths, invalid UTF-8 and close codes; then it
half-closes. Both to our server (``web.WebSocketResponse``) and to our client
(``ClientSession.ws_connect``). For every input the receiving side:

- returns ``"first"`` first (nothing before the damage is lost);
- ends, within a time limit, with a CLOSE, CLOSING or CLOSED message, or an ERROR message
  carrying a ``WebSocketError`` whose code is 1002, 1007 or 1009 (and that code is the one
  in the Close frame it sends back); ``receive()`` itself never raises;
- leaves the process healthy: the server still serves other HTTP and WebSocket clients, the
  client session still connects and talks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import aiohyper as aiohttp
from aiohyper import WebSocketError, WSMsgType, web

TIME_LIMIT = 5.0  # seconds for one exchange: far more than these small inputs need
MAX_MSG = 1024  # max_msg_size on both sides, small so "too big" (1009) is cheap to reach
TERMINAL = {WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR}
ERROR_CODES = {1002, 1007, 1009}

# FUZZ_SCALE=10 runs ten times as many examples (for a bug hunt; the default keeps it fast).
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))

# One server and one session serve every example of a test on purpose (the point is that
# they stay healthy), so hypothesis' warning about function-scoped fixtures does not apply.
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- frames, written and read by the test itself (independent of the codec under test) -----


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
) -> bytes:
    """One frame (RFC 6455 §5.2); masked with a fixed key when ``mask``."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head = bytes([first, bit | n])
    elif n < 2**16:
        head = bytes([first, bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = b"\x12\x34\x56\x78"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def deflate(data: bytes) -> bytes:
    """A permessage-deflate payload (RFC 7692 §7.2.1)."""
    obj = zlib.compressobj(wbits=-15)
    return (obj.compress(data) + obj.flush(zlib.Z_SYNC_FLUSH))[:-4]


def read_frames(data: bytes, *, masked: bool) -> list[tuple[int, bytes]]:
    """``(opcode, payload)`` of the whole frames in ``data`` (what our side sent back)."""
    frames = []
    pos = 0
    while len(data) - pos >= 2:
        opcode = data[pos] & 0x0F
        has_mask = bool(data[pos + 1] & 0x80)
        assert has_mask == masked, "masking is wrong for the direction"
        n = data[pos + 1] & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack("!H", data[pos : pos + 2])
            pos += 2
        elif n == 127:
            (n,) = struct.unpack("!Q", data[pos : pos + 8])
            pos += 8
        key = data[pos : pos + 4] if has_mask else b"\0\0\0\0"
        pos += 4 if has_mask else 0
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(data[pos : pos + n]))
        pos += n
        frames.append((opcode, payload))
    return frames


def close_codes(data: bytes, *, masked: bool) -> list[int]:
    return [
        int.from_bytes(payload[:2], "big")
        for opcode, payload in read_frames(data, masked=masked)
        if opcode == 0x8 and len(payload) >= 2
    ]


def base_frames(*, mask: bool, compressed: bool) -> list[bytes]:
    """Valid frames (and one valid frame over the size limit) to damage."""
    frames = [
        frame(0x1, "héllo wörld".encode(), mask=mask),
        frame(0x2, bytes(range(40)), mask=mask),
        frame(0x1, b"frag", fin=False, mask=mask) + frame(0x0, b"ment", mask=mask),
        frame(0x2, b"a", fin=False, mask=mask)
        + frame(0x9, b"ping in between", mask=mask)
        + frame(0x0, b"b", mask=mask),
        frame(0x9, b"ping", mask=mask),
        frame(0xA, b"pong", mask=mask),
        frame(0x2, b"x" * 300, mask=mask),  # 16-bit length
        frame(0x2, b"y" * (MAX_MSG + 1), mask=mask),  # over max_msg_size: 1009
        frame(0x8, b"\x03\xe8bye", mask=mask),
        frame(0x1, "\u20ac".encode()[:2], fin=False, mask=mask)
        + frame(0x0, "\u20ac".encode()[2:], mask=mask),  # UTF-8 split across fragments
    ]
    if compressed:
        frames += [
            frame(0x1, deflate(b"compressed text"), rsv=4, mask=mask),
            frame(0x2, deflate(b"z" * 5000), rsv=4, mask=mask),  # small, inflates past the limit
            frame(0x1, deflate(b"part one ")[:3], rsv=4, fin=False, mask=mask)
            + frame(0x0, deflate(b"part one ")[3:], mask=mask),
        ]
    return frames


@st.composite
def damaged_streams(draw: st.DrawFn, *, mask: bool, compressed: bool) -> bytes:
    """A few valid frames, with a few edits applied."""
    frames = draw(
        st.lists(
            st.sampled_from(base_frames(mask=mask, compressed=compressed)), min_size=1, max_size=3
        )
    )
    data = bytearray(b"".join(frames))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(
                ["flip", "insert", "delete", "truncate", "bits", "opcode", "length", "append"]
            )
        )
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 6))]
        elif kind == "truncate":
            del data[at:]
        elif kind in ("bits", "opcode", "length") and data:
            # Aim at the first frame's head: the bytes that steer the decoder.
            if kind == "bits":
                data[0] ^= draw(st.sampled_from([0x80, 0x40, 0x20, 0x10]))
            elif kind == "opcode":
                data[0] = (data[0] & 0xF0) | draw(st.integers(0, 15))
            elif len(data) >= 2:
                kind_of_length = draw(st.sampled_from([125, 126, 127]))
                data[1] = (data[1] & 0x80) | kind_of_length
                if kind_of_length == 126:
                    data[2:2] = struct.pack("!H", draw(st.integers(0, 2**16 - 1)))
                elif kind_of_length == 127:
                    data[2:2] = struct.pack("!Q", draw(st.integers(0, 2**64 - 1)))
        elif kind == "append":
            opcode = draw(st.integers(0, 15))
            payload = draw(
                st.binary(max_size=130)
                | st.sampled_from(
                    [b"\xff\xfe", b"\x03", b"\x03\xed", b"\x03\xe8\xff", b"\x0b\xb8ok", b"\xc3"]
                )
            )
            data += frame(
                opcode,
                payload,
                fin=draw(st.booleans()),
                rsv=draw(st.sampled_from([0, 0, 4, 2, 1])),
                mask=mask if draw(st.integers(0, 9)) else not mask,
            )
    return bytes(data)


def check_messages(messages: list[Any]) -> None:
    """The receiving side's view of one damaged stream (see the module docstring)."""
    assert messages, "nothing received"
    assert (messages[0].type, messages[0].data) == (WSMsgType.TEXT, "first"), messages
    last = messages[-1]
    assert last.type in TERMINAL, messages
    for msg in messages[:-1]:
        assert msg.type not in TERMINAL, messages
    if last.type == WSMsgType.ERROR:
        assert isinstance(last.data, WebSocketError), repr(last.data)
        assert last.data.code in ERROR_CODES, repr(last.data)


def check_close_sent(messages: list[Any], codes: list[int]) -> None:
    """A protocol error is answered with a Close frame carrying the error's code."""
    last = messages[-1]
    if last.type == WSMsgType.ERROR:
        assert codes == [last.data.code], (codes, last)
    for code in codes:
        assert 1000 <= code <= 1014 or 3000 <= code <= 4999, codes


# --- our server, a raw client ------------------------------------------------------------------


@dataclass(slots=True)
class Seen:
    """What one server-side WebSocket received, and how it ended."""

    messages: list[Any] = field(default_factory=list)
    crash: BaseException | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class WSServer:
    port: int
    seen: list[Seen] = field(default_factory=list)


def make_app(state: list[WSServer]) -> web.Application:
    async def record(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MSG, compress=True)
        await ws.prepare(request)
        seen = Seen()
        state[0].seen.append(seen)
        try:
            while True:
                msg = await ws.receive()
                seen.messages.append(msg)
                if msg.type in TERMINAL:
                    break
        except BaseException as exc:  # the property: receive() never raises
            seen.crash = exc
        finally:
            seen.done.set()
        return ws

    async def echo(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ws", record)
    app.router.add_get("/echo", echo)
    app.router.add_get("/health", ok)
    return app


@pytest.fixture
async def ws_server() -> AsyncIterator[WSServer]:
    state: list[WSServer] = []
    runner = web.AppRunner(make_app(state), access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.append(WSServer(runner.addresses[0][1]))
    yield state[0]
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def raw_upgrade(
    port: int, *, deflate_offer: bool
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """A raw client connection upgraded to a WebSocket; returns the 101 head too."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16))
    head = (
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n"
    )
    if deflate_offer:
        head += b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
    writer.write(head + b"\r\n")
    response = await reader.readuntil(b"\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 101 "), response
    return reader, writer, response


async def assert_server_healthy(server: WSServer, session: aiohttp.ClientSession) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        async with session.get(f"http://127.0.0.1:{server.port}/health") as resp:
            assert (resp.status, await resp.read()) == (200, b"ok")
        async with session.ws_connect(f"http://127.0.0.1:{server.port}/echo") as ws:
            await ws.send_str("still here")
            assert (await ws.receive()).data == "still here"


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "deflate"])
@settings(FUZZ, max_examples=120 * SCALE)
@given(data=st.data())
async def test_server_survives_damaged_frames(
    ws_server: WSServer, session: aiohttp.ClientSession, compressed: bool, data: st.DataObject
) -> None:
    stream = data.draw(damaged_streams(mask=True, compressed=compressed))
    reader, writer, response = await raw_upgrade(ws_server.port, deflate_offer=compressed)
    assert (b"permessage-deflate" in response) == compressed
    try:
        async with asyncio.timeout(TIME_LIMIT):
            with contextlib.suppress(OSError):
                writer.write(frame(0x1, b"first") + stream)
                await writer.drain()
                writer.write_eof()
            sent_back = bytearray()
            with contextlib.suppress(OSError):
                while chunk := await reader.read(65536):
                    sent_back += chunk
            seen = ws_server.seen[-1]
            await seen.done.wait()
    finally:
        writer.close()
    assert seen.crash is None, repr(seen.crash)
    check_messages(seen.messages)
    check_close_sent(seen.messages, close_codes(bytes(sent_back), masked=False))
    await assert_server_healthy(ws_server, session)


async def test_server_many_aborted_websockets_leave_it_healthy(
    ws_server: WSServer, session: aiohttp.ClientSession
) -> None:
    for i in range(100):
        _reader, writer, _ = await raw_upgrade(ws_server.port, deflate_offer=bool(i % 2))
        writer.write(frame(0x1, b"first") + frame(0x2, b"cut", mask=True)[: i % 5])
        writer.close()
    async with asyncio.timeout(TIME_LIMIT):
        while len(ws_server.seen) < 100 or not all(s.done.is_set() for s in ws_server.seen):
            await asyncio.sleep(0.01)
    for seen in ws_server.seen:
        assert seen.crash is None
        check_messages(seen.messages)
    await assert_server_healthy(ws_server, session)


EXTENSION_OFFERS = [
    b"permessage-deflate",
    b"permessage-deflate; client_max_window_bits",
    b"permessage-deflate; server_max_window_bits=8",
    b"permessage-deflate; server_max_window_bits=99",
    b"permessage-deflate; client_max_window_bits=abc",
    b"permessage-deflate; server_no_context_takeover=1",
    b"permessage-deflate; permessage-deflate",
    b"permessage-deflate;;",
    b"x-webkit-deflate-frame",
    b"permessage-deflate; bogus, permessage-deflate",
    b"\xff\xfe",
    b"",
]


@st.composite
def handshakes(draw: st.DrawFn) -> bytes:
    key = draw(
        st.sampled_from([base64.b64encode(b"k" * 16), b"", b"short", b"!!!!", b"a" * 200])
        | st.binary(max_size=24).filter(lambda b: b"\r" not in b and b"\n" not in b)
    )
    lines = [
        draw(st.sampled_from([b"GET /ws HTTP/1.1", b"POST /ws HTTP/1.1", b"GET /ws HTTP/1.0"])),
        b"Host: h",
        b"Upgrade: " + draw(st.sampled_from([b"websocket", b"WebSocket", b"h2c", b""])),
        b"Connection: " + draw(st.sampled_from([b"Upgrade", b"keep-alive, upgrade", b"close"])),
        b"Sec-WebSocket-Key: " + key,
        b"Sec-WebSocket-Version: " + draw(st.sampled_from([b"13", b"8", b"", b"13, 8", b"x"])),
    ]
    if draw(st.booleans()):
        lines.append(b"Sec-WebSocket-Extensions: " + draw(st.sampled_from(EXTENSION_OFFERS)))
    if draw(st.booleans()):
        lines.append(b"Sec-WebSocket-Protocol: " + draw(st.sampled_from([b"chat", b",,", b""])))
    first, rest = lines[0], lines[1:]
    if draw(st.booleans()):
        rest = draw(st.permutations(rest))
    return first + b"\r\n" + b"\r\n".join(rest) + b"\r\n\r\n"


@settings(FUZZ, max_examples=100 * SCALE)
@given(raw=handshakes())
async def test_server_handshake_variants_get_101_or_4xx(
    ws_server: WSServer, session: aiohttp.ClientSession, raw: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", ws_server.port)
    try:
        async with asyncio.timeout(TIME_LIMIT):
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            assert status == 101 or 400 <= status < 500, head
            if status == 101:
                writer.write(frame(0x1, b"first") + frame(0x8, b"\x03\xe8"))
                await writer.drain()
                while await reader.read(65536):
                    pass
                seen = ws_server.seen[-1]
                await seen.done.wait()
                assert seen.crash is None
                check_messages(seen.messages)
    finally:
        writer.close()
    await assert_server_healthy(ws_server, session)


# --- a raw server, our client ------------------------------------------------------------------


@dataclass(slots=True)
class RawWSServer:
    """Accepts the upgrade (with permessage-deflate when offered), writes ``stream``,
    half-closes, and records what the client sent back."""

    stream: bytes = b""
    #: A replacement for the 101 head (``ACCEPT`` stands for the right accept value).
    handshake: bytes | None = None
    port: int = 0
    server: asyncio.Server | None = None
    received: list[bytes] = field(default_factory=list)

    async def start(self) -> RawWSServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        back = bytearray()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"(?i)sec-websocket-key: *([^\r]+)", head)
            assert m is not None
            guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
            accept = base64.b64encode(hashlib.sha1(m.group(1).strip() + guid).digest())
            extension = b""
            if b"permessage-deflate" in head:
                extension = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
            response = (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + accept
                + b"\r\n"
                + extension
                + b"\r\n"
            )
            if self.handshake is not None:
                response = self.handshake.replace(b"ACCEPT", accept)
            writer.write(response + frame(0x1, b"first", mask=False) + self.stream)
            await writer.drain()
            writer.write_eof()
            async with asyncio.timeout(TIME_LIMIT):
                while chunk := await reader.read(65536):
                    back += chunk
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.received.append(bytes(back))
            writer.close()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def raw_ws_server() -> AsyncIterator[RawWSServer]:
    server = await RawWSServer().start()
    yield server
    await server.close()


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "deflate"])
@settings(FUZZ, max_examples=120 * SCALE)
@given(data=st.data())
async def test_client_survives_damaged_frames(
    raw_ws_server: RawWSServer,
    ws_server: WSServer,
    session: aiohttp.ClientSession,
    compressed: bool,
    data: st.DataObject,
) -> None:
    raw_ws_server.stream = data.draw(damaged_streams(mask=False, compressed=compressed))
    messages: list[Any] = []
    async with asyncio.timeout(TIME_LIMIT):
        ws = await session.ws_connect(
            f"http://127.0.0.1:{raw_ws_server.port}/",
            max_msg_size=MAX_MSG,
            compress=15 if compressed else 0,
        )
        try:
            while True:
                msg = await ws.receive()  # the property: never raises
                messages.append(msg)
                if msg.type in TERMINAL:
                    break
        finally:
            await ws.close()
        # The raw server records what the client sent once the client closed.
        while not raw_ws_server.received:
            await asyncio.sleep(0.005)
    check_messages(messages)
    check_close_sent(messages, close_codes(raw_ws_server.received.pop(), masked=True))
    await assert_server_healthy(ws_server, session)


SERVER_EXTENSIONS = [
    b"permessage-deflate",
    b"permessage-deflate; server_max_window_bits=99",
    b"permessage-deflate; client_max_window_bits=8",
    b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    b"permessage-deflate; bogus",
    b"x-unknown",
    b"permessage-deflate, permessage-deflate",
    b"\xff",
]


@st.composite
def handshake_responses(draw: st.DrawFn) -> bytes:
    status = draw(
        st.sampled_from(
            [b"101 Switching Protocols", b"200 OK", b"404 Not Found", b"101", b"301 Moved"]
        )
    )
    lines = [b"HTTP/1.1 " + status]
    if draw(st.integers(0, 4)):
        lines.append(b"Upgrade: " + draw(st.sampled_from([b"websocket", b"h2c", b""])))
    if draw(st.integers(0, 4)):
        lines.append(b"Connection: " + draw(st.sampled_from([b"Upgrade", b"close", b""])))
    if draw(st.integers(0, 4)):
        lines.append(
            b"Sec-WebSocket-Accept: "
            + draw(st.sampled_from([b"ACCEPT", b"wrong", b"", b"ACCEPTx"]))
        )
    if draw(st.booleans()):
        lines.append(b"Sec-WebSocket-Extensions: " + draw(st.sampled_from(SERVER_EXTENSIONS)))
    if draw(st.booleans()):
        lines.append(b"Sec-WebSocket-Protocol: " + draw(st.sampled_from([b"chat", b"other"])))
    if draw(st.booleans()):
        lines.append(b"Content-Length: " + draw(st.sampled_from([b"0", b"5", b"x"])))
    return b"\r\n".join(lines) + b"\r\n\r\n"


@settings(FUZZ, max_examples=100 * SCALE)
@given(handshake=handshake_responses(), compressed=st.booleans(), protocols=st.booleans())
async def test_client_handshake_variants_raise_documented_errors(
    raw_ws_server: RawWSServer,
    ws_server: WSServer,
    session: aiohttp.ClientSession,
    handshake: bytes,
    compressed: bool,
    protocols: bool,
) -> None:
    raw_ws_server.handshake = handshake
    raw_ws_server.stream = frame(0x8, b"\x03\xe8", mask=False)
    async with asyncio.timeout(TIME_LIMIT):
        try:
            ws = await session.ws_connect(
                f"http://127.0.0.1:{raw_ws_server.port}/",
                compress=15 if compressed else 0,
                protocols=("chat",) if protocols else (),
                max_msg_size=MAX_MSG,
            )
        except aiohttp.ClientError:
            pass
        else:
            try:
                messages = [await ws.receive()]
                while messages[-1].type not in TERMINAL:
                    messages.append(await ws.receive())
            finally:
                await ws.close()
            check_messages(messages)
    await assert_server_healthy(ws_server, session)


@pytest.mark.parametrize(
    "handshake",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: wrong\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: ACCEPT\r\n\r\n",
        # An extension the client did not offer (RFC 6455 §4.1: the client must fail).
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: ACCEPT\r\nSec-WebSocket-Extensions: x-unknown\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: ACCEPT\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n\r\n",
    ],
)
async def test_client_rejects_bad_handshake_responses(
    raw_ws_server: RawWSServer, session: aiohttp.ClientSession, handshake: bytes
) -> None:
    raw_ws_server.handshake = handshake
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(f"http://127.0.0.1:{raw_ws_server.port}/", compress=15)


# --- KNOWN BUGS ----------------------------------------------------------------------------------
# Failing on purpose until fixed in src/.


@pytest.mark.parametrize(
    "handshake",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: ACCEPT\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Accept: ACCEPT\r\n\r\n",
    ],
    ids=["no-upgrade-header", "no-connection-header"],
)
async def test_known_bug_101_without_upgrade_headers_is_handshake_error(
    raw_ws_server: RawWSServer, session: aiohttp.ClientSession, handshake: bytes
) -> None:
    """``client/_ws.py`` ``connect`` (with ``_http/_parser.py`` ``ResponseParser``, which
    rejects a 101 lacking ``Upgrade`` or ``Connection: upgrade`` as ``BadHttpMessage``):
    ``ws_connect`` raises a plain ``ClientResponseError(400, "101 response without
    'Connection: upgrade' and 'Upgrade'")`` instead of the documented
    ``WSServerHandshakeError`` (aiohttp: "Invalid upgrade header" / "Invalid connection
    header"), so ``except WSServerHandshakeError`` misses these refusals."""
    raw_ws_server.handshake = handshake
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(f"http://127.0.0.1:{raw_ws_server.port}/")
