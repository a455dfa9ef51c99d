"""The shared message loop, over an in-memory connection (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from aiohyper._ws import (
    WS_CLOSED_MESSAGE,
    WebSocketError,
    WebSocketSession,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from aiohyper._ws._frames import OP_BINARY, OP_TEXT, build_frame
from aiohyper._ws._session import THRESHOLD_CONNLOST_ACCESS
from aiohyper.client._exceptions import ClientConnectionResetError, WSMessageTypeError

# The fixture's Pair (tests/_ws/conftest.py): server, client and their transports.
MakePair = Callable[..., Any]


async def test_round_trips(make_pair: MakePair) -> None:
    pair = make_pair()
    await pair.client.send_str("hello ☃")
    assert await pair.server.receive() == (WSMsgType.TEXT, "hello ☃", None)
    await pair.server.send_bytes(b"\x00\x01")
    assert await pair.client.receive_bytes() == b"\x00\x01"
    await pair.client.send_json({"a": [1, 2]})
    assert await pair.server.receive_json() == {"a": [1, 2]}
    await pair.server.send_bytes(bytearray(b"ba"))
    await pair.server.send_bytes(memoryview(b"mv"))
    assert await pair.client.receive_bytes() == b"ba"
    assert await pair.client.receive_bytes() == b"mv"
    await pair.client.send_frame(b"raw", WSMsgType.BINARY)
    assert await pair.server.receive_bytes() == b"raw"
    # Client frames are masked on the wire, server frames are not.
    assert all(chunk[1] & 0x80 for chunk in pair.client_transport.written)
    assert not any(chunk[1] & 0x80 for chunk in pair.server_transport.written)


async def test_message_json_helper(make_pair: MakePair) -> None:
    pair = make_pair()
    await pair.client.send_str('{"x": 1}')
    msg = await pair.server.receive()
    assert msg.json() == {"x": 1}
    assert msg.json(loads=lambda s: json.loads(s)["x"]) == 1


async def test_send_type_errors(make_pair: MakePair) -> None:
    pair = make_pair()
    with pytest.raises(TypeError):
        await pair.client.send_str(b"bytes")
    with pytest.raises(TypeError):
        await pair.client.send_bytes("text")
    with pytest.raises(TypeError):
        await pair.client.send_json({}, dumps=lambda _: b"{}")
    with pytest.raises(TypeError):  # not serialisable by json.dumps
        await pair.client.send_json(object())


async def test_receive_type_errors(make_pair: MakePair) -> None:
    pair = make_pair()
    await pair.client.send_bytes(b"x")
    with pytest.raises(WSMessageTypeError):
        await pair.server.receive_str()
    await pair.client.send_str("x")
    with pytest.raises(WSMessageTypeError):
        await pair.server.receive_bytes()
    await pair.client.send_bytes(b"{}")
    with pytest.raises(TypeError):
        await pair.server.receive_json()
    await pair.client.send_str("not json")
    with pytest.raises(ValueError):
        await pair.server.receive_json()


async def test_not_started() -> None:
    session = WebSocketSession()
    with pytest.raises(RuntimeError, match="prepare"):
        await session.receive()
    with pytest.raises(RuntimeError, match="prepare"):
        await session.send_str("x")
    with pytest.raises(RuntimeError, match="prepare"):
        await session.ping()
    with pytest.raises(RuntimeError, match="prepare"):
        await session.close()
    assert not session.closed and session.close_code is None and session.exception() is None
    assert session.get_extra_info("peername", "none") == "none"


async def test_get_extra_info(make_pair: MakePair) -> None:
    pair = make_pair()
    assert pair.server.get_extra_info("peername") == ("127.0.0.1", 4242)
    assert pair.server.get_extra_info("nothing", 7) == 7


# --- closing ------------------------------------------------------------------------------


async def test_client_initiated_close(make_pair: MakePair) -> None:
    pair = make_pair()
    closing = asyncio.create_task(pair.client.close(code=4001, message="bye"))
    msg = await pair.server.receive()
    assert msg == (WSMsgType.CLOSE, 4001, "bye")
    assert await closing is True
    # The server echoed the code; both sides agree.
    assert pair.server.close_code == 4001 and pair.client.close_code == 4001
    assert pair.server.closed and pair.client.closed
    assert pair.client_transport.closing and pair.server_transport.closing
    assert await pair.client.close() is False
    assert pair.client.exception() is None and pair.server.exception() is None


async def test_async_iteration_stops_at_close(make_pair: MakePair) -> None:
    pair = make_pair()
    for text in ("a", "b"):
        await pair.client.send_str(text)
    closing = asyncio.create_task(pair.client.close())
    received = [msg.data async for msg in pair.server]
    assert received == ["a", "b"]
    assert await closing
    assert pair.server.close_code == 1000


async def test_receive_after_close(make_pair: MakePair) -> None:
    pair = make_pair(server={"close_timeout": 0.01})
    await pair.server.close(code=1001)
    for _ in range(THRESHOLD_CONNLOST_ACCESS - 1):
        assert await pair.server.receive() is WS_CLOSED_MESSAGE
    with pytest.raises(RuntimeError, match="closed"):
        await pair.server.receive()


async def test_close_while_another_task_receives(make_pair: MakePair) -> None:
    pair = make_pair()
    receiving = asyncio.create_task(pair.server.receive())
    await asyncio.sleep(0)
    client_loop = asyncio.create_task(_drain_messages(pair.client))
    assert await pair.server.close() is True
    assert (await receiving).type is WSMsgType.CLOSING
    assert pair.server.close_code == 1000
    await client_loop
    assert pair.client.close_code == 1000


async def _drain_messages(ws: WebSocketSession) -> list[WSMessage]:
    return [msg async for msg in ws]


async def test_autoclose_off_leaves_closing_to_the_user(make_pair: MakePair) -> None:
    pair = make_pair(server={"autoclose": False}, client={"close_timeout": 0.05})
    closing = asyncio.create_task(pair.client.close())
    assert (await pair.server.receive()).type is WSMsgType.CLOSE
    assert not pair.server.closed
    assert (await pair.server.receive()).type is WSMsgType.CLOSING
    # The client gave up waiting for the server's Close.
    assert await closing is True
    assert pair.client.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert isinstance(pair.client.exception(), TimeoutError)


async def test_user_closes_after_peer_close_without_waiting(make_pair: MakePair) -> None:
    pair = make_pair(server={"autoclose": False})
    closing = asyncio.create_task(pair.client.close(code=3000))
    await pair.server.receive()
    assert await pair.server.close(code=3000) is True
    assert await closing is True
    assert pair.client.close_code == 3000


async def test_close_reason_too_long(make_pair: MakePair) -> None:
    pair = make_pair(client={"close_timeout": 0.01})
    with pytest.raises(ValueError):
        await pair.client.close(message="x" * 124)
    assert not pair.client.closed
    await pair.client.close(message="x" * 123)


async def test_send_after_close(make_pair: MakePair) -> None:
    pair = make_pair(client={"close_timeout": 0.01})
    await pair.client.close()
    for send in (
        pair.client.send_str("x"),
        pair.client.send_bytes(b"x"),
        pair.client.ping(),
        pair.client.pong(),
    ):
        with pytest.raises(ClientConnectionResetError):
            await send


async def test_eof_without_close_frame(make_pair: MakePair) -> None:
    pair = make_pair()
    pair.client_transport.close()
    assert await pair.server.receive() is WS_CLOSED_MESSAGE
    assert pair.server.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert pair.server.closed and pair.server_transport.closing


async def test_empty_close_frame_is_answered_with_1000(make_pair: MakePair) -> None:
    pair = make_pair()
    pair.client_transport.write(build_frame(0x8, b"", mask=b"abcd"))
    msg = await pair.server.receive()
    assert msg == (WSMsgType.CLOSE, 1005, "")
    assert pair.server_transport.written[-1] == b"\x88\x02\x03\xe8"


# --- protocol errors ----------------------------------------------------------------------


async def test_protocol_error_closes_with_1002(make_pair: MakePair) -> None:
    pair = make_pair()
    await pair.client.send_str("before")
    pair.client_transport.write(b"\x83\x80abcd")  # reserved opcode
    assert await pair.server.receive_str() == "before"
    msg = await pair.server.receive()
    assert msg.type is WSMsgType.ERROR
    assert isinstance(msg.data, WebSocketError) and msg.data.code == 1002
    assert pair.server.close_code == 1002 and pair.server.exception() is msg.data
    assert pair.server_transport.written[-1] == b"\x88\x02\x03\xea"
    assert pair.server_transport.closing
    assert await pair.client.receive() == (WSMsgType.CLOSE, 1002, "")


async def test_message_too_big_closes_with_1009(make_pair: MakePair) -> None:
    pair = make_pair(max_msg_size=10)
    await pair.client.send_bytes(bytes(11))
    msg = await pair.server.receive()
    assert msg.type is WSMsgType.ERROR and msg.data.code == 1009
    assert await pair.client.receive() == (WSMsgType.CLOSE, 1009, "")


async def test_invalid_text_closes_with_1007(make_pair: MakePair) -> None:
    pair = make_pair()
    pair.client_transport.write(build_frame(OP_TEXT, b"\xff", mask=b"abcd"))
    msg = await pair.server.receive()
    assert msg.type is WSMsgType.ERROR and msg.data.code == 1007


async def test_unmasked_client_frame_is_refused(make_pair: MakePair) -> None:
    pair = make_pair()
    pair.client_transport.write(build_frame(OP_BINARY, b"x"))
    msg = await pair.server.receive()
    assert msg.type is WSMsgType.ERROR and msg.data.code == 1002


async def test_other_errors_from_the_queue(make_pair: MakePair) -> None:
    pair = make_pair()
    error = ConnectionResetError("gone")
    pair.server.queue.set_exception(error)
    msg = await pair.server.receive()
    assert msg == (WSMsgType.ERROR, error, None)
    assert pair.server.exception() is error
    assert pair.server.close_code == WSCloseCode.ABNORMAL_CLOSURE


# --- ping / pong --------------------------------------------------------------------------


async def test_autoping_answers_and_swallows(make_pair: MakePair) -> None:
    pair = make_pair(client={"autoping": False})
    await pair.client.ping(b"are you there")
    await pair.client.send_str("after")
    assert await pair.server.receive_str() == "after"  # the ping was not returned
    assert await pair.client.receive() == (WSMsgType.PONG, b"are you there", None)
    await pair.server.ping("str payload")
    assert await pair.client.receive() == (WSMsgType.PING, b"str payload", None)
    await pair.server.pong(b"unsolicited")
    await pair.server.send_str("end")
    assert await pair.client.receive() == (WSMsgType.PONG, b"unsolicited", None)
    assert await pair.client.receive_str() == "end"


async def test_control_payload_limit(make_pair: MakePair) -> None:
    pair = make_pair()
    with pytest.raises(ValueError):
        await pair.client.ping(bytes(126))
    await pair.client.ping(bytes(125))


# --- receive contract ---------------------------------------------------------------------


async def test_concurrent_receive(make_pair: MakePair) -> None:
    pair = make_pair()
    first = asyncio.create_task(pair.server.receive())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Concurrent"):
        await pair.server.receive()
    await pair.client.send_str("x")
    assert (await first).data == "x"


async def test_receive_timeout(make_pair: MakePair) -> None:
    pair = make_pair(server={"receive_timeout": 0.02})
    with pytest.raises(TimeoutError):
        await pair.server.receive()
    with pytest.raises(TimeoutError):
        await pair.server.receive_str(timeout=0.01)
    # The connection is still usable.
    await pair.client.send_str("late")
    assert await pair.server.receive_str(timeout=1) == "late"
    assert not pair.server.closed


async def test_cancelled_receive_keeps_the_connection(make_pair: MakePair) -> None:
    pair = make_pair()
    task = asyncio.create_task(pair.server.receive())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await pair.client.send_str("x")
    assert await pair.server.receive_str() == "x"


# --- heartbeat ----------------------------------------------------------------------------


async def test_heartbeat_keeps_a_live_connection(make_pair: MakePair) -> None:
    pair = make_pair(client={"heartbeat": 0.02})
    server_loop = asyncio.create_task(pair.server.receive())  # answers pings meanwhile
    await asyncio.sleep(0.15)
    assert not pair.client.closed
    pings = [c for c in pair.client_transport.written if c[0] == 0x89]
    assert len(pings) >= 2
    await pair.client.close()
    await server_loop


async def test_heartbeat_without_pong_closes_1006(make_pair: MakePair) -> None:
    pair = make_pair(client={"heartbeat": 0.02})
    pair.client.timeout_error = lambda: TimeoutError("custom")
    # The server never reads, so nobody answers the ping.
    msg = await asyncio.wait_for(pair.client.receive(), 1)
    assert msg.type is WSMsgType.ERROR
    assert isinstance(msg.data, TimeoutError) and str(msg.data) == "custom"
    assert pair.client.exception() is msg.data
    assert pair.client.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert pair.client.closed and pair.client_transport.closing
    assert await pair.client.receive() is WS_CLOSED_MESSAGE


async def test_heartbeat_timer_resets_on_received_data(make_pair: MakePair) -> None:
    pair = make_pair(client={"heartbeat": 0.05})
    for _ in range(12):
        await pair.server.send_str("tick")
        await asyncio.sleep(0.01)
    # Data kept arriving more often than the heartbeat: no ping was needed.
    assert not [c for c in pair.client_transport.written if c[0] == 0x89]
    assert not pair.client.closed


async def test_heartbeat_default_error_and_no_reader_hook(make_pair: MakePair) -> None:
    pair = make_pair(client={"heartbeat": 0.02}, start=False)
    loop = asyncio.get_running_loop()
    # Without the frame reader, liveness is tracked on messages read.
    pair.client._ws_start(pair.client.queue, pair.client.writer, loop=loop)
    pair.server._ws_start(pair.server.queue, pair.server.writer, loop=loop)
    msg = await asyncio.wait_for(pair.client.receive(), 1)
    assert msg.type is WSMsgType.ERROR and isinstance(msg.data, TimeoutError)
    assert "PONG" in str(msg.data)


async def test_heartbeat_stops_on_close(make_pair: MakePair) -> None:
    pair = make_pair(client={"heartbeat": 0.01})
    server_loop = asyncio.create_task(_drain_messages(pair.server))
    await pair.client.close()
    await server_loop
    written = len(pair.client_transport.written)
    await asyncio.sleep(0.05)
    assert len(pair.client_transport.written) == written


# --- compression --------------------------------------------------------------------------


async def test_compressed_round_trips(make_pair: MakePair) -> None:
    pair = make_pair(compress=15)
    await pair.client.send_str("hello " * 100)
    await pair.server.send_bytes(b"data " * 100)
    assert await pair.server.receive_str() == "hello " * 100
    assert await pair.client.receive_bytes() == b"data " * 100
    # RSV1 set, and much smaller than the text.
    assert pair.client_transport.written[0][0] == 0xC1
    assert len(pair.client_transport.written[0]) < 100
    # compress=0 for one message sends it uncompressed.
    await pair.client.send_str("plain", compress=0)
    assert pair.client_transport.written[-1][0] == 0x81
    assert await pair.server.receive_str() == "plain"


async def test_compress_override_without_negotiation(make_pair: MakePair) -> None:
    pair = make_pair()
    await pair.client.send_str("x", compress=15)
    assert pair.client_transport.written[-1][0] == 0x81  # no RSV1 without the extension
    assert await pair.server.receive_str() == "x"


async def test_large_compressed_messages_in_order(make_pair: MakePair) -> None:
    pair = make_pair(compress=15, notakeover=True)
    big = bytes(range(256)) * 1000
    await pair.client.send_bytes(big)
    await pair.client.send_bytes(b"small")
    assert await pair.server.receive_bytes() == big
    assert await pair.server.receive_bytes() == b"small"


async def test_cancelled_compressed_send_keeps_the_stream_valid(make_pair: MakePair) -> None:
    pair = make_pair(compress=15)
    big = b"".join(i.to_bytes(4, "big") for i in range(100_000))
    task = asyncio.create_task(pair.client.send_bytes(big))
    await asyncio.sleep(0)  # compression is now running in a thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await pair.client.send_bytes(big[:1000])
    await pair.client.send_str("tail")
    # The shielded send still went out whole, before the later messages.
    assert await pair.server.receive_bytes() == big
    assert await pair.server.receive_bytes() == big[:1000]
    assert await pair.server.receive_str() == "tail"


async def test_concurrent_compressed_sends(make_pair: MakePair) -> None:
    pair = make_pair(compress=15)
    payloads = [bytes([i]) * (50_000 if i % 2 else 10) for i in range(10)]
    await asyncio.gather(*(pair.client.send_bytes(p) for p in payloads))
    received = [await pair.server.receive_bytes() for _ in payloads]
    assert sorted(received) == sorted(payloads)


# --- mixing into a class with its own attributes ------------------------------------------


class _Base:
    """Like StreamResponse: no __slots__, plain instance attributes."""

    def __init__(self) -> None:
        self._closed = "base attribute"
        self._reader = "base attribute"


class _Mixed(_Base, WebSocketSession):
    def __init__(self) -> None:
        _Base.__init__(self)
        WebSocketSession.__init__(self, heartbeat=1.0)


def test_mixes_into_a_response_class() -> None:
    obj = _Mixed()
    assert obj._closed == "base attribute" and obj._reader == "base attribute"
    assert obj.closed is False and obj.close_code is None
