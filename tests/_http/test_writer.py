"""StreamWriter and serialize_headers against a transport that records every write."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import brotli
import pytest
import zstandard
from multidict import CIMultiDict

from aiohyper._http._writer import StreamWriter, serialize_headers
from aiohyper.base_protocol import BaseProtocol


class RecordingTransport(asyncio.Transport):
    """Keeps every write; `writelines` is asyncio's default (join, then write)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


class VectorTransport(RecordingTransport):
    """A transport with its own writelines (as on 3.12+, SSL or uvloop)."""

    def __init__(self) -> None:
        super().__init__()
        self.writelines_calls: list[list[bytes]] = []

    def writelines(self, list_of_data: Any) -> None:
        parts = [bytes(p) for p in list_of_data]
        self.writelines_calls.append(parts)
        self.writes.append(b"".join(parts))


def make_writer(
    transport: RecordingTransport | None = None, **kwargs: Any
) -> tuple[StreamWriter, RecordingTransport, BaseProtocol]:
    loop = asyncio.get_running_loop()
    transport = RecordingTransport() if transport is None else transport
    protocol = BaseProtocol(loop)
    protocol.connection_made(transport)
    return StreamWriter(protocol, loop, **kwargs), transport, protocol


def dechunk(data: bytes) -> tuple[list[bytes], bytes]:
    """Split a chunked body into its chunks; returns (chunks, rest after the terminator)."""
    chunks: list[bytes] = []
    while True:
        line, _, data = data.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            assert data.startswith(b"\r\n")
            return chunks, data[2:]
        chunks.append(data[:size])
        assert data[size : size + 2] == b"\r\n"
        data = data[size + 2 :]


# -- serialize_headers -------------------------------------------------------------------------


def test_serialize_headers_exact() -> None:
    headers = CIMultiDict([("Content-Type", "text/plain"), ("Set-Cookie", "a=1")])
    headers.add("Set-Cookie", "b=2")
    assert serialize_headers("HTTP/1.1 200 OK", headers) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n"
        b"Set-Cookie: b=2\r\n\r\n"
    )


def test_serialize_headers_empty_and_plain_dict() -> None:
    assert serialize_headers("GET / HTTP/1.1", {}) == b"GET / HTTP/1.1\r\n\r\n"
    assert (
        serialize_headers("GET / HTTP/1.1", {"Host": "a"}) == b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    )


def test_serialize_headers_utf8_and_surrogates() -> None:
    raw = "caf\xe9 \udcff"  # a decoded byte 0xff comes back as itself
    assert serialize_headers("HTTP/1.1 200 OK", {"X-Name": raw}) == (
        b"HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9 \xff\r\n\r\n"
    )


@pytest.mark.parametrize("bad", ["\r", "\n", "\x00", "\r\n", "a\r\nX-Evil: 1"])
def test_serialize_refuses_bad_value(bad: str) -> None:
    with pytest.raises(ValueError, match="'X-Bad'"):
        serialize_headers("HTTP/1.1 200 OK", {"Host": "ok", "X-Bad": f"v{bad}v"})


@pytest.mark.parametrize("bad", ["\r", "\n", "\x00"])
def test_serialize_refuses_bad_status_line(bad: str) -> None:
    with pytest.raises(ValueError, match="Status line"):
        serialize_headers(f"HTTP/1.1 200 O{bad}K", {"Host": "ok"})


@pytest.mark.parametrize(
    "name", ["X-Bad\r", "X-Bad\n", "X\x00", "X Bad", "X-Bad:", "", "(x)", "caf\xe9", "X\tA"]
)
def test_serialize_refuses_bad_name(name: str) -> None:
    with pytest.raises(ValueError, match="Invalid header name"):
        serialize_headers("HTTP/1.1 200 OK", {name: "v"})


def test_serialize_accepts_all_token_chars() -> None:
    name = "!#$%&'*+-.^_`|~09azAZ"
    assert serialize_headers("X", {name: ""}) == f"X\r\n{name}: \r\n\r\n".encode()


# -- coalescing --------------------------------------------------------------------------------

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"


async def test_small_response_is_one_write() -> None:
    writer, transport, _ = make_writer()
    writer.length = 5
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": "5"})
    await writer.write_eof(b"hello")
    assert transport.writes == [HEAD + b"hello"]
    await asyncio.sleep(0)  # the deferred flush has nothing left to do
    assert transport.writes == [HEAD + b"hello"]
    assert writer.output_size == len(HEAD) + 5


async def test_head_goes_out_with_first_write() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": "5"})
    assert transport.writes == []
    await writer.write(b"he")
    await writer.write(b"llo")
    assert transport.writes == []  # still this loop iteration
    await asyncio.sleep(0)
    assert transport.writes == [HEAD + b"hello"]
    await writer.write_eof()
    assert transport.writes == [HEAD + b"hello"]


async def test_head_alone_is_sent_when_the_task_yields() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": "5"})
    await asyncio.sleep(0)
    assert transport.writes == [HEAD]


async def test_send_headers_and_flush_are_immediate() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": "5"})
    writer.send_headers()
    assert transport.writes == [HEAD]
    await writer.write(b"abc")
    writer.flush()
    assert transport.writes == [HEAD, b"abc"]


async def test_write_over_limit_is_sent_at_once() -> None:
    writer, transport, _ = make_writer()
    await writer.write(b"a" * 10)
    await writer.write(b"b" * 20, LIMIT=25)
    assert transport.writes == [b"a" * 10 + b"b" * 20]


async def test_drain_sends_buffered_bytes() -> None:
    writer, transport, _ = make_writer()
    await writer.write(b"abc")
    assert writer.buffer_size == 3
    await writer.drain()
    assert transport.writes == [b"abc"]
    assert writer.buffer_size == 0
    assert writer.output_size == 3


async def test_large_parts_are_not_joined_on_a_joining_transport() -> None:
    writer, transport, _ = make_writer()
    big = b"x" * 100_000
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": str(len(big))})
    await writer.write_eof(big)
    head = transport.writes[0]
    assert transport.writes == [head, big]
    assert transport.writes[1] is big  # no copy


async def test_writelines_used_when_transport_has_its_own() -> None:
    writer, transport, _ = make_writer(VectorTransport())
    assert isinstance(transport, VectorTransport)
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": "5"})
    await writer.write_eof(b"hello")
    assert transport.writelines_calls == [[HEAD, b"hello"]]


async def test_mutable_buffers_are_copied() -> None:
    writer, transport, _ = make_writer()
    buf = bytearray(b"abc")
    await writer.write(buf)
    buf[:] = b"xyz"
    await writer.write(memoryview(buf))
    await writer.write_eof(bytearray(b"!"))  # type: ignore[arg-type]
    assert transport.data == b"abcxyz!"


# -- framing -----------------------------------------------------------------------------------


async def test_chunked_framing_exact() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write(b"abc")
    await writer.write(b"")  # never a zero-length chunk
    await writer.write(b"0123456789abcdef")
    await writer.write_eof(b"x")
    assert transport.data == b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n"


async def test_chunked_empty_body() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write_headers("HTTP/1.1 200 OK", {"Transfer-Encoding": "chunked"})
    await writer.write_eof()
    assert transport.writes == [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]


async def test_content_length_truncates() -> None:
    writer, transport, _ = make_writer()
    writer.length = 5
    await writer.write(b"abc")
    await writer.write(b"defg")
    await writer.write(b"zz")
    await writer.write_eof(b"more")
    assert transport.data == b"abcde"
    assert writer.length == 0


async def test_empty_writes_send_nothing() -> None:
    writer, transport, _ = make_writer()
    await writer.write(b"")
    await writer.write_eof()
    await asyncio.sleep(0)
    assert transport.writes == []
    assert writer.output_size == 0


# -- compression -------------------------------------------------------------------------------

BODY = b"".join(b"row %d: some repetitive response content\n" % i for i in range(3000))


def decode(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return zlib.decompress(data, wbits=31)
    if encoding == "deflate":
        return zlib.decompress(data)
    if encoding == "br":
        return brotli.decompress(data)  # type: ignore[no-any-return]
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)  # type: ignore[no-any-return,unused-ignore]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
@pytest.mark.parametrize("chunked", [False, True])
async def test_compressed_body_decodes(encoding: str, chunked: bool) -> None:
    writer, transport, _ = make_writer()
    writer.enable_compression(encoding)
    assert writer.compression == encoding
    if chunked:
        writer.enable_chunking()
    for i in range(0, len(BODY) - 5000, 5000):
        await writer.write(BODY[i : i + 5000])
    await writer.write_eof(BODY[i + 5000 :])
    data = transport.data
    if chunked:
        chunks, rest = dechunk(data)
        assert rest == b""
        assert all(chunks)
        data = b"".join(chunks)
    assert len(data) < len(BODY) // 4
    assert decode(encoding, data) == BODY


async def test_compression_strategy() -> None:
    writer, transport, _ = make_writer()
    writer.enable_compression("deflate", zlib.Z_HUFFMAN_ONLY)
    await writer.write_eof(BODY)
    assert decode("deflate", transport.data) == BODY
    assert len(transport.data) > len(zlib.compress(BODY)) * 2


async def test_compressed_empty_body() -> None:
    writer, transport, _ = make_writer()
    writer.enable_compression("gzip")
    await writer.write_eof()
    assert decode("gzip", transport.data) == b""


async def test_unknown_compression() -> None:
    writer, _, _ = make_writer()
    with pytest.raises(ValueError):
        writer.enable_compression("lzma")


# -- back-pressure -----------------------------------------------------------------------------


async def test_write_waits_while_paused() -> None:
    writer, transport, protocol = make_writer()
    protocol.pause_writing()
    task = asyncio.create_task(writer.write(b"data"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()
    assert transport.writes == [b"data"]  # sent before waiting
    protocol.resume_writing()
    await asyncio.wait_for(task, 1)


async def test_write_without_drain_does_not_wait() -> None:
    writer, _, protocol = make_writer()
    protocol.pause_writing()
    await asyncio.wait_for(writer.write(b"data", drain=False), 1)


async def test_drain_and_write_eof_wait_while_paused() -> None:
    writer, _, protocol = make_writer()
    protocol.pause_writing()
    drain = asyncio.create_task(writer.drain())
    eof = asyncio.create_task(writer.write_eof(b"end"))
    await asyncio.sleep(0.01)
    assert not drain.done() and not eof.done()
    protocol.resume_writing()
    await asyncio.wait_for(asyncio.gather(drain, eof), 1)


async def test_drain_raises_when_connection_lost_while_waiting() -> None:
    writer, _, protocol = make_writer()
    protocol.pause_writing()
    drain = asyncio.create_task(writer.drain())
    await asyncio.sleep(0)
    protocol.connection_lost(None)
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(drain, 1)


# -- errors ------------------------------------------------------------------------------------


async def test_write_after_eof_raises() -> None:
    writer, transport, _ = make_writer()
    await writer.write_eof(b"x")
    with pytest.raises(RuntimeError, match="write_eof"):
        await writer.write(b"y")
    await writer.write_eof(b"again")  # a second write_eof does nothing
    assert transport.data == b"x"


async def test_closing_transport_raises() -> None:
    writer, transport, _ = make_writer()
    transport.close()
    with pytest.raises(ConnectionResetError, match="closing transport"):
        await writer.write(b"x")
    with pytest.raises(ConnectionResetError):
        await writer.write_eof(b"x")


async def test_lost_connection_raises() -> None:
    writer, _, protocol = make_writer()
    protocol.connection_lost(None)
    assert writer.transport is None
    with pytest.raises(ConnectionResetError):
        await writer.write(b"x")


async def test_deferred_flush_failure_reported_to_next_call() -> None:
    writer, transport, _ = make_writer()
    await writer.write(b"x")
    transport.close()
    await asyncio.sleep(0)
    assert transport.writes == []
    with pytest.raises(ConnectionResetError):
        await writer.drain()


async def test_write_headers_refuses_bad_header() -> None:
    writer, transport, _ = make_writer()
    with pytest.raises(ValueError, match="'Location'"):
        await writer.write_headers("HTTP/1.1 302 Found", {"Location": "/a\r\nSet-Cookie: x"})
    await asyncio.sleep(0)
    assert transport.writes == []


async def test_set_eof_flushes_and_ends() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write(b"abc")
    writer.set_eof()
    assert transport.data == b"3\r\nabc\r\n"
    await writer.write_eof()  # nothing more: no terminator
    assert transport.data == b"3\r\nabc\r\n"


# -- tracing hooks -----------------------------------------------------------------------------


async def test_callbacks_are_awaited() -> None:
    chunks: list[bytes] = []
    heads: list[Any] = []

    async def on_chunk(chunk: bytes) -> None:
        chunks.append(chunk)

    async def on_headers(headers: Any) -> None:
        heads.append(headers)

    writer, transport, _ = make_writer(on_chunk_sent=on_chunk, on_headers_sent=on_headers)
    writer.enable_compression("gzip")
    hdrs = {"Content-Encoding": "gzip"}
    await writer.write_headers("HTTP/1.1 200 OK", hdrs)
    await writer.write(b"one")
    await writer.write_eof(b"two")
    assert heads == [hdrs]
    assert chunks == [b"one", b"two"]  # as given, before compression
    body = transport.data.partition(b"\r\n\r\n")[2]
    assert decode("gzip", body) == b"onetwo"
