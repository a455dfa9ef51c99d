"""Tests for aiohyper.client._protocol.ResponseHandler, driven with bytes on a fake transport."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aiohyper.client._exceptions import (
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from aiohyper.client._protocol import ResponseHandler
from aiohyper.http_exceptions import HttpProcessingError
from aiohyper.streams import EMPTY_PAYLOAD


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.aborted = False
        self.paused = False

    def write(self, data: Any) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_reading(self) -> bool:
        return not self.paused


def make_proto(**params: Any) -> tuple[ResponseHandler, FakeTransport]:
    proto = ResponseHandler(asyncio.get_running_loop())
    transport = FakeTransport()
    proto.connection_made(transport)
    proto.set_response_params(**params)
    return proto, transport


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


async def test_reads_message_and_body() -> None:
    proto, _ = make_proto()
    proto.data_received(OK)
    message, payload = await proto.read()
    assert message.code == 200
    assert message.reason == "OK"
    assert await payload.read() == b"hello"
    assert not proto.should_close


async def test_read_waits_for_data() -> None:
    proto, _ = make_proto()
    task = asyncio.create_task(proto.read())
    await asyncio.sleep(0)
    assert not task.done()
    proto.data_received(OK[:20])
    await asyncio.sleep(0)
    assert not task.done()
    proto.data_received(OK[20:])
    message, payload = await task
    assert message.code == 200
    assert await payload.read() == b"hello"


async def test_bytes_before_params_are_kept() -> None:
    proto = ResponseHandler(asyncio.get_running_loop())
    proto.connection_made(FakeTransport())
    proto.data_received(OK)
    assert proto.should_close  # unexpected bytes: not reusable as is
    proto.set_response_params()
    message, payload = await proto.read()
    assert message.code == 200
    assert await payload.read() == b"hello"
    assert not proto.should_close


async def test_two_responses_in_sequence() -> None:
    proto, _ = make_proto()
    proto.data_received(OK)
    _, payload = await proto.read()
    await payload.read()
    proto.set_response_params()
    proto.data_received(b"HTTP/1.1 204 No Content\r\n\r\n")
    message, payload = await proto.read()
    assert message.code == 204
    assert payload is EMPTY_PAYLOAD
    assert not proto.should_close


async def test_informational_then_final() -> None:
    proto, _ = make_proto()
    proto.data_received(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    first, _ = await proto.read()
    second, payload = await proto.read()
    assert (first.code, second.code) == (100, 200)
    assert await payload.read() == b"hello"


async def test_skip_payload_for_head() -> None:
    proto, _ = make_proto(skip_payload=True)
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    message, payload = await proto.read()
    assert message.code == 200
    assert payload is EMPTY_PAYLOAD
    assert not proto.should_close


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
)
async def test_should_close_when_server_says_so(response: bytes) -> None:
    proto, _ = make_proto()
    proto.data_received(response)
    _, payload = await proto.read()
    assert await payload.read() == b"ok"
    assert proto.should_close


async def test_should_close_with_unread_body() -> None:
    proto, _ = make_proto()
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
    _, payload = await proto.read()
    assert proto.should_close  # half the body is still on the wire
    proto.data_received(b"world")
    assert await payload.read() == b"helloworld"
    assert not proto.should_close


async def test_should_close_with_unread_message() -> None:
    proto, _ = make_proto()
    proto.data_received(OK)
    assert proto.should_close
    await proto.read()
    assert not proto.should_close


async def test_force_close() -> None:
    proto, _ = make_proto()
    proto.force_close()
    assert proto.should_close


async def test_read_until_eof_body() -> None:
    proto, _ = make_proto(read_until_eof=True)
    proto.data_received(b"HTTP/1.1 200 OK\r\n\r\nsome ")
    _, payload = await proto.read()
    proto.data_received(b"data")
    proto.connection_lost(None)
    assert await payload.read() == b"some data"
    assert proto.should_close


async def test_disconnect_before_response() -> None:
    proto, _ = make_proto()
    task = asyncio.create_task(proto.read())
    await asyncio.sleep(0)
    proto.connection_lost(None)
    with pytest.raises(ServerDisconnectedError):
        await task
    assert proto.closed.done()
    assert proto.should_close
    with pytest.raises(ServerDisconnectedError):
        await proto.read()


async def test_disconnect_with_error_gives_client_os_error() -> None:
    proto, _ = make_proto()
    proto.connection_lost(ConnectionResetError(104, "reset by peer"))
    with pytest.raises(ClientOSError) as info:
        await proto.read()
    assert info.value.errno == 104
    assert isinstance(info.value.__cause__, ConnectionResetError)


async def test_disconnect_mid_body_fails_payload() -> None:
    proto, _ = make_proto()
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
    _, payload = await proto.read()
    proto.connection_lost(None)
    with pytest.raises(ClientPayloadError):
        await payload.read()


async def test_disconnect_mid_chunked_body_fails_payload() -> None:
    proto, _ = make_proto()
    proto.data_received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    _, payload = await proto.read()
    proto.connection_lost(ConnectionResetError())
    with pytest.raises(ClientPayloadError):
        await payload.read()


async def test_malformed_head() -> None:
    proto, transport = make_proto()
    proto.data_received(b"HTTP/1.1 abc nope\r\n\r\n")
    with pytest.raises(HttpProcessingError):
        await proto.read()
    assert transport.closed
    assert proto.should_close


async def test_malformed_body_fails_payload() -> None:
    proto, transport = make_proto()
    proto.data_received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    _, payload = await proto.read()
    proto.data_received(b"zz\r\n")
    with pytest.raises(ClientPayloadError):
        await payload.read()
    assert transport.closed


async def test_read_timeout_without_data() -> None:
    proto, _ = make_proto(read_timeout=0.05)
    with pytest.raises(SocketTimeoutError):
        await proto.read()
    assert proto.should_close


async def test_read_timeout_reset_by_data() -> None:
    proto, _ = make_proto(read_timeout=0.1)
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
    _, payload = await proto.read()
    for piece in (b"a", b"b", b"c"):
        await asyncio.sleep(0.05)  # each pause shorter than the timeout, all longer
        proto.data_received(piece)
    await asyncio.sleep(0.05)
    proto.data_received(b"d")
    assert await payload.read() == b"abcd"


async def test_read_timeout_fails_body() -> None:
    proto, _ = make_proto(read_timeout=0.05)
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
    _, payload = await proto.read()
    with pytest.raises(SocketTimeoutError):
        await payload.read()


async def test_read_timeout_stops_after_complete_response() -> None:
    proto, _ = make_proto(read_timeout=0.03)
    proto.data_received(OK)
    _, payload = await proto.read()
    assert await payload.read() == b"hello"
    await asyncio.sleep(0.08)
    assert proto.exception() is None
    assert not proto.should_close


async def test_upgrade_keeps_tail() -> None:
    proto, _ = make_proto()
    proto.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"\x81\x02hi"
    )
    message, payload = await proto.read()
    assert message.code == 101
    assert payload is EMPTY_PAYLOAD
    assert proto.upgraded
    assert proto.should_close
    assert proto.tail == b"\x81\x02hi"
    proto.data_received(b"more")
    assert proto.tail == b"\x81\x02himore"

    class Reader:
        def __init__(self) -> None:
            self.fed: list[bytes] = []
            self.eof = False

        def feed_data(self, data: bytes) -> tuple[bool, bytes]:
            self.fed.append(data)
            return False, b""

        def feed_eof(self) -> None:
            self.eof = True

    class Sink:
        def __init__(self) -> None:
            self.exc: BaseException | None = None
            self.eof = False

        def set_exception(self, exc: BaseException) -> None:
            self.exc = exc

        def feed_eof(self) -> None:
            self.eof = True

    reader, sink = Reader(), Sink()
    proto.set_parser(reader, sink)
    assert reader.fed == [b"\x81\x02himore"]
    assert proto.tail == b""
    proto.data_received(b"next")
    assert reader.fed[-1] == b"next"
    proto.connection_lost(None)
    assert sink.eof


async def test_closed_future_and_close() -> None:
    proto, transport = make_proto()
    assert not proto.closed.done()
    proto.close()
    assert transport.closed
    assert not proto.is_connected()
    proto.connection_lost(None)
    assert proto.closed.done()
    assert proto.closed.result() is None


async def test_concurrent_read_refused() -> None:
    proto, _ = make_proto()
    task = asyncio.create_task(proto.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await proto.read()
    task.cancel()


async def test_set_exception_wakes_reader() -> None:
    proto, _ = make_proto()
    task = asyncio.create_task(proto.read())
    await asyncio.sleep(0)
    err = ValueError("boom")
    proto.set_exception(err)
    with pytest.raises(ValueError):
        await task
    assert proto.exception() is err
    assert proto.should_close


async def test_unasked_bytes_are_bounded() -> None:
    proto = ResponseHandler(asyncio.get_running_loop())
    transport = FakeTransport()
    proto.connection_made(transport)
    proto.data_received(b"x" * 70000)
    assert transport.closed
    assert proto.should_close


async def test_upgraded_tail_pauses_reading_until_handed_over() -> None:
    proto, transport = make_proto()
    proto.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n"
    )
    await proto.read()
    proto.data_received(b"y" * 70000)
    assert not transport.is_reading()
    assert not transport.closed

    class Reader:
        def feed_data(self, data: bytes) -> tuple[bool, bytes]:
            return False, b""

        def feed_eof(self) -> None:
            pass

    class Sink:
        def set_exception(self, exc: BaseException) -> None:
            pass

        def feed_eof(self) -> None:
            pass

    proto.set_parser(Reader(), Sink())
    assert transport.is_reading()
    assert proto.tail == b""


# -- one parser for the responses of many requests; reads into a lent buffer ----------------


class RecordingTimer:
    """A timer that counts how often a body wait entered it."""

    def __init__(self) -> None:
        self.entered = 0

    def __enter__(self) -> RecordingTimer:
        self.entered += 1
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None


async def test_parser_kept_while_the_params_do_not_change() -> None:
    proto, _ = make_proto()
    parser = proto._parser
    proto.data_received(OK)
    _, payload = await proto.read()
    assert await payload.read() == b"hello"
    proto.set_response_params()
    assert proto._parser is parser
    proto.data_received(OK)
    _, payload = await proto.read()
    assert await payload.read() == b"hello"


async def test_parser_replaced_when_the_params_change() -> None:
    proto, _ = make_proto()
    parser = proto._parser
    proto.data_received(OK)
    await proto.read()
    proto.set_response_params(skip_payload=True)  # a HEAD: the body announced is not sent
    assert proto._parser is not parser
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    message, payload = await proto.read()
    assert message.code == 200 and payload is EMPTY_PAYLOAD
    assert not proto.should_close


async def test_body_waits_enter_the_timer_of_the_current_request() -> None:
    first, second = RecordingTimer(), RecordingTimer()
    proto, _ = make_proto(timer=first)
    proto.data_received(OK)
    _, payload = await proto.read()
    assert await payload.read() == b"hello"
    proto.set_response_params(timer=second)
    proto.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
    _, payload = await proto.read()
    asyncio.get_running_loop().call_soon(proto.data_received, b"ab")
    assert await payload.read() == b"ab"  # waited once for the body
    assert (first.entered, second.entered) == (0, 1)


async def test_reads_go_through_a_lent_buffer() -> None:
    proto, _ = make_proto()
    assert isinstance(proto, asyncio.BufferedProtocol)
    buf = proto.get_buffer(-1)
    assert len(buf) >= 2**16
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"
    buf[: len(head)] = head
    proto.buffer_updated(len(head))
    _, payload = await proto.read()
    # The buffer is lent again for the next read: what was received must have been copied.
    buf = proto.get_buffer(-1)
    buf[:5] = b"world"
    buf[5:10] = b"XXXXX"
    proto.buffer_updated(5)
    assert await payload.read() == b"helloworld"


async def test_partial_head_after_a_response_is_not_pooled() -> None:
    proto, _ = make_proto()
    proto.data_received(OK + b"HTTP/1.1 200 OK\r\n")  # the start of a head nobody asked for
    _, payload = await proto.read()
    assert await payload.read() == b"hello"
    assert proto.should_close


def feed_buffered(proto: ResponseHandler, data: bytes) -> None:
    """Deliver ``data`` as a BufferedProtocol transport does: into the lent buffer."""
    while data:
        buf = proto.get_buffer(-1)
        n = min(len(buf), len(data))
        buf[:n] = data[:n]
        proto.buffer_updated(n)
        data = data[n:]


async def test_long_body_through_the_receive_buffer() -> None:
    """A long Content-Length body arrives as views of the shared receive buffer: every chunk
    the reader gets must be its own bytes (the buffer is overwritten by the next read)."""
    body = bytes(range(256)) * 2048  # 512 KiB: two reads past the head's
    proto, _ = make_proto()
    feed_buffered(proto, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:7])
    msg, payload = await proto.read()
    assert msg.code == 200
    chunks = [payload.read_nowait()]
    feed_buffered(proto, body[7:300_000])
    chunks.append(payload.read_nowait())
    feed_buffered(proto, body[300_000:] + b"HTTP/1.1 204 No Content\r\n\r\n")
    chunks.append(payload.read_nowait())
    assert all(type(c) is bytes for c in chunks)
    assert b"".join(chunks) == body
    assert payload.is_eof()
    nxt, nxt_payload = await proto.read()
    assert nxt.code == 204 and nxt_payload is EMPTY_PAYLOAD


async def test_corrupt_long_gzip_body_is_answered_once() -> None:
    junk = b"\x1f\x8b" + bytes(100_000)
    proto, transport = make_proto()
    feed_buffered(
        proto,
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(junk),
    )
    _, payload = await proto.read()
    feed_buffered(proto, junk)
    with pytest.raises(ClientPayloadError):
        await payload.read()
    assert transport.closed
    # The failed read completed no new head: nothing else is queued for the next reader.
    with pytest.raises(Exception) as info:
        await asyncio.wait_for(proto.read(), 1)
    assert not isinstance(info.value, TimeoutError)
