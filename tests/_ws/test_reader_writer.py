"""The connection glue: WebSocketReader / WebSocketDataQueue and WebSocketWriter."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from aiohyper._ws import (
    FrameDecoder,
    WebSocketDataQueue,
    WebSocketError,
    WebSocketParser,
    WebSocketReader,
    WebSocketWriter,
    WSMsgType,
)
from aiohyper._ws._frames import OP_BINARY, OP_PING, OP_TEXT, build_frame
from aiohyper.base_protocol import BaseProtocol
from aiohyper.client._exceptions import ClientConnectionResetError
from aiohyper.streams import DataQueue, EofStream


class Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []
        self.lines = 0
        self.closing = False

    def write(self, data: Any) -> None:
        self.chunks.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.lines += 1
        self.chunks.append(b"".join(bytes(d) for d in list_of_data))

    def is_closing(self) -> bool:
        return self.closing

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


class FlowProtocol(BaseProtocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.pauses = 0
        self.resumes = 0

    def pause_reading(self) -> None:
        if not self._reading_paused:
            self.pauses += 1
        self._reading_paused = True

    def resume_reading(self) -> None:
        if self._reading_paused:
            self.resumes += 1
        self._reading_paused = False


def _writer(**kwargs: Any) -> tuple[WebSocketWriter, Recorder, BaseProtocol]:
    loop = asyncio.get_running_loop()
    transport = Recorder()
    protocol = BaseProtocol(loop)
    protocol.connection_made(transport)
    return WebSocketWriter(protocol, transport, **kwargs), transport, protocol


# --- reader -------------------------------------------------------------------------------


async def test_reader_feeds_the_queue() -> None:
    queue: DataQueue[Any] = DataQueue(asyncio.get_running_loop())
    reader = WebSocketReader(queue, 2**20, compress=False)
    calls: list[None] = []
    reader.on_data = lambda: calls.append(None)
    frame = build_frame(OP_TEXT, b"hi") + build_frame(OP_BINARY, b"yo")
    assert reader.feed_data(frame[:3]) == (False, b"")
    assert reader.feed_data(frame[3:]) == (False, b"")
    assert len(calls) == 2
    assert await queue.read() == (WSMsgType.TEXT, "hi", None)
    assert await queue.read() == (WSMsgType.BINARY, b"yo", None)
    reader.feed_eof()
    with pytest.raises(EofStream):
        await queue.read()


async def test_reader_error_ends_the_queue_after_earlier_messages() -> None:
    queue: DataQueue[Any] = DataQueue(asyncio.get_running_loop())
    reader = WebSocketReader(queue, 2**20, masked=False)
    data = build_frame(OP_TEXT, b"first") + build_frame(OP_TEXT, b"masked", mask=b"abcd")
    assert reader.feed_data(data) == (True, b"")
    assert reader.feed_data(build_frame(OP_TEXT, b"more")) == (True, b"")
    assert (await queue.read()).data == "first"
    with pytest.raises(WebSocketError) as info:
        await queue.read()
    assert info.value.code == 1002


async def test_reader_compress_flag_enables_rsv1() -> None:
    queue: DataQueue[Any] = DataQueue(asyncio.get_running_loop())
    reader = WebSocketReader(queue, 2**20, compress=15)
    reader.feed_data(bytes.fromhex("c107f248cdc9c90700"))
    assert (await queue.read()).data == "Hello"


async def test_data_queue_flow_control() -> None:
    loop = asyncio.get_running_loop()
    protocol = FlowProtocol(loop)
    queue = WebSocketDataQueue(protocol, 100, loop=loop)
    reader = WebSocketReader(queue, 2**20)
    reader.feed_data(build_frame(OP_BINARY, bytes(60)))
    assert protocol.pauses == 0
    reader.feed_data(build_frame(OP_BINARY, bytes(60)) + build_frame(OP_PING, b""))
    assert protocol.pauses == 1
    await queue.read()
    assert protocol.resumes == 1  # 60 bytes left, under the limit
    await queue.read()
    await queue.read()
    assert (protocol.pauses, protocol.resumes) == (1, 1)


async def test_data_queue_resumes_under_the_limit() -> None:
    loop = asyncio.get_running_loop()
    protocol = FlowProtocol(loop)
    queue = WebSocketDataQueue(protocol, 100, loop=loop)
    for _ in range(3):
        queue.feed_data(WSMsgTypeMessage(bytes(50)))
    assert protocol.pauses == 1
    await queue.read()  # 100 left: still at the limit
    assert protocol.resumes == 0
    await queue.read()  # 50 left
    assert protocol.resumes == 1
    assert (await queue.read()).data == bytes(50)
    waiter = asyncio.create_task(queue.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await queue.read()  # a second reader
    queue.feed_data(WSMsgTypeMessage(b"x"))
    assert (await waiter).data == b"x"
    queue.feed_eof()
    with pytest.raises(EofStream):
        await queue.read()


def WSMsgTypeMessage(data: bytes) -> Any:
    from aiohyper._ws import WSMessage

    return WSMessage(WSMsgType.BINARY, data, None)


# --- writer -------------------------------------------------------------------------------


async def test_writer_frames_and_masks() -> None:
    writer, transport, _ = _writer(use_mask=True, random=random.Random(1))
    await writer.send_frame(b"hello", OP_TEXT)
    await writer.ping(b"p")
    await writer.pong()
    frames = FrameDecoder(masked=True, allow_rsv1=False).feed_data(transport.data)
    assert [(f.opcode, f.payload) for f in frames] == [(1, b"hello"), (9, b"p"), (10, b"")]
    expected_mask = random.Random(1).getrandbits(32).to_bytes(4, "big")
    assert transport.chunks[0][2:6] == expected_mask


async def test_writer_unmasked_and_big_payload_uses_writelines() -> None:
    writer, transport, _ = _writer()
    await writer.send_frame(bytes(100_000), OP_BINARY)
    assert transport.lines == 1
    assert transport.data == build_frame(OP_BINARY, bytes(100_000))


async def test_writer_close_then_refuses() -> None:
    writer, transport, _ = _writer()
    await writer.close(1001, "going")
    assert transport.data == b"\x88\x07\x03\xe9going"
    assert writer.closing
    with pytest.raises(ClientConnectionResetError):
        await writer.send_frame(b"x", OP_TEXT)
    with pytest.raises(ClientConnectionResetError):
        writer.write_control_nowait(b"", OP_PING)


async def test_writer_refuses_on_closing_transport() -> None:
    writer, transport, _ = _writer()
    transport.closing = True
    with pytest.raises(ClientConnectionResetError):
        await writer.send_frame(b"x", OP_TEXT)


async def test_writer_control_frame_size() -> None:
    writer, _, _ = _writer()
    with pytest.raises(ValueError):
        await writer.ping(bytes(126))
    with pytest.raises(ValueError):
        writer.write_control_nowait(bytes(126), OP_PING)
    writer.write_control_nowait(bytes(125), OP_PING)


async def test_writer_waits_for_drain_past_the_limit() -> None:
    writer, transport, protocol = _writer(limit=100)
    protocol.pause_writing()
    await writer.send_frame(bytes(50), OP_BINARY)  # under the limit: no wait
    sending = asyncio.create_task(writer.send_frame(bytes(60), OP_BINARY))
    await asyncio.sleep(0.01)
    assert not sending.done()
    assert len(transport.chunks) == 2  # written, then waiting for the transport
    protocol.resume_writing()
    await sending


async def test_writer_drain_fails_when_connection_lost() -> None:
    writer, _, protocol = _writer(limit=10)
    protocol.pause_writing()
    sending = asyncio.create_task(writer.send_frame(bytes(20), OP_BINARY))
    await asyncio.sleep(0)
    protocol.connection_lost(None)
    with pytest.raises(ConnectionResetError):
        await sending


async def test_writer_compression() -> None:
    writer, transport, _ = _writer(compress=15)
    assert writer._compressor is None  # made on first use
    await writer.send_frame(b"Hello", OP_TEXT)
    await writer.send_frame(b"Hello", OP_TEXT)
    await writer.send_frame(b"Hello", OP_TEXT, compress=0)
    await writer.send_frame(b"ping", OP_PING)  # never compressed
    assert transport.chunks == [
        bytes.fromhex("c107f248cdc9c90700"),
        bytes.fromhex("c105f200110000"),
        b"\x81\x05Hello",
        b"\x89\x04ping",
    ]


async def test_writer_no_context_takeover() -> None:
    writer, transport, _ = _writer(compress=15, notakeover=True)
    await writer.send_frame(b"Hello", OP_TEXT)
    await writer.send_frame(b"Hello", OP_TEXT)
    assert transport.chunks == [bytes.fromhex("c107f248cdc9c90700")] * 2


async def test_writer_small_window() -> None:
    writer, transport, _ = _writer(compress=9)
    message = bytes(range(256)) * 10
    await writer.send_frame(message, OP_BINARY)
    parser = WebSocketParser(compress=True)
    assert parser.feed_data(transport.data)[0].data == message
    with pytest.raises(ValueError):
        _writer(compress=8)


async def test_writer_large_compressed_message_in_a_thread() -> None:
    writer, transport, _ = _writer(compress=15, use_mask=True)
    message = b"".join(i.to_bytes(4, "little") for i in range(50_000))
    await writer.send_frame(message, OP_BINARY)
    await writer.send_frame(b"after", OP_BINARY)
    parser = WebSocketParser(compress=True, masked=True)
    assert [m.data for m in parser.feed_data(transport.data)] == [message, b"after"]


async def test_writer_transport_closed_during_threaded_compression() -> None:
    writer, transport, _ = _writer(compress=15)
    sending = asyncio.create_task(writer.send_frame(bytes(200_000), OP_BINARY))
    await asyncio.sleep(0)
    transport.closing = True
    with pytest.raises(ClientConnectionResetError):
        await sending
    assert transport.chunks == []
