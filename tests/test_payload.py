"""Tests for aiohyper.payload and aiohyper.payload_streamer."""

from __future__ import annotations

import asyncio
import builtins
import io
import json
import os
import threading
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aiohyper import payload
from aiohyper._http._writer import AbstractStreamWriter
from aiohyper.base_protocol import BaseProtocol
from aiohyper.payload import (
    PAYLOAD_REGISTRY,
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonPayload,
    Order,
    Payload,
    PayloadRegistry,
    StreamReaderPayload,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    get_payload,
    payload_type,
)
from aiohyper.streams import StreamReader


class FakeWriter(AbstractStreamWriter):
    """Collects what a payload writes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.buffer_size = 0
        self.output_size = 0
        self.length = None

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.chunks.append(chunk)

    async def drain(self) -> None:
        pass

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise NotImplementedError

    def enable_chunking(self) -> None:
        pass

    async def write_headers(self, status_line: str, headers: Any) -> None:
        raise NotImplementedError


async def written(p: Payload) -> bytes:
    writer = FakeWriter()
    await p.write(writer)
    return writer.data


# --- Payload basics -----------------------------------------------------------------------------


async def test_bytes_payload() -> None:
    p = BytesPayload(b"hello")
    assert p.size == 5
    assert p.content_type == "application/octet-stream"
    assert p.headers["Content-Type"] == "application/octet-stream"
    assert p.encoding is None
    assert p.filename is None
    assert p.decode() == "hello"
    assert await p.as_bytes() == b"hello"
    assert await written(p) == b"hello"
    # Re-sendable, never consumed.
    assert await written(p) == b"hello"
    assert not p.consumed
    assert p.autoclose


async def test_bytes_payload_bytearray_and_memoryview() -> None:
    assert BytesPayload(bytearray(b"abc")).size == 3
    view = memoryview(b"abcdef").cast("B")[1:4]
    p = BytesPayload(view)
    assert p.size == 3
    assert await p.as_bytes() == b"bcd"
    assert p.decode() == "bcd"
    wide = memoryview(bytes(8)).cast("I")  # two 4-byte items
    assert BytesPayload(wide).size == 8


def test_bytes_payload_rejects_text() -> None:
    with pytest.raises(TypeError):
        BytesPayload("text")  # type: ignore[arg-type]


async def test_write_with_length_truncates() -> None:
    p = BytesPayload(b"0123456789")
    writer = FakeWriter()
    await p.write_with_length(writer, 4)
    assert writer.data == b"0123"
    writer = FakeWriter()
    await p.write_with_length(writer, None)
    assert writer.data == b"0123456789"


async def test_base_write_with_length_uses_limiting_writer() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    writer = FakeWriter()
    await AsyncIterablePayload(gen()).write_with_length(writer, 4)
    assert writer.data == b"abcd"


def test_headers_and_content_type_arguments() -> None:
    p = BytesPayload(b"x", content_type="image/png", headers={"X-Test": "1"})
    assert p.content_type == "image/png"
    assert p.headers["X-Test"] == "1"
    # headers win over content_type
    p = BytesPayload(b"x", content_type="image/png", headers={"Content-Type": "text/html"})
    assert p.content_type == "text/html"


def test_content_type_guessed_from_filename() -> None:
    class Raw(Payload):
        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return ""

        async def write(self, writer: AbstractStreamWriter) -> None:
            pass

    assert Raw(None, filename="a.html").content_type == "text/html"
    assert Raw(None, filename="noext").content_type == "application/octet-stream"
    assert Raw(None).content_type == "application/octet-stream"
    assert Raw(None, content_type=None).content_type == "application/octet-stream"


def test_set_content_disposition() -> None:
    p = BytesPayload(b"x")
    p.set_content_disposition("attachment", filename="a.txt")
    assert p.headers["Content-Disposition"] == 'attachment; filename="a.txt"'
    p.set_content_disposition("attachment", filename="файл.txt")
    value = p.headers["Content-Disposition"]
    assert "filename*=utf-8''%D1%84%D0%B0%D0%B9%D0%BB.txt" in value
    p.set_content_disposition("form-data", quote_fields=False, name="n", filename="файл.txt")
    assert p.headers["Content-Disposition"] == 'form-data; name="n"; filename="файл.txt"'
    with pytest.raises(ValueError):
        p.set_content_disposition("bad type")


def test_binary_headers() -> None:
    p = BytesPayload(b"x", headers={"X-A": "1"})
    assert p._binary_headers == (b"Content-Type: application/octet-stream\r\nX-A: 1\r\n\r\n")
    p.headers["X-Evil"] = "a\r\n--boundary"
    with pytest.raises(ValueError):
        p._binary_headers  # noqa: B018


# --- Text -----------------------------------------------------------------------------------


async def test_string_payload_defaults() -> None:
    p = StringPayload("привет")
    assert p.encoding == "utf-8"
    assert p.content_type == "text/plain; charset=utf-8"
    assert p.size == len("привет".encode())
    assert await written(p) == "привет".encode()
    assert p.decode() == "привет"


async def test_string_payload_encoding_argument() -> None:
    p = StringPayload("привет", encoding="cp1251")
    assert p.content_type == "text/plain; charset=cp1251"
    assert await written(p) == "привет".encode("cp1251")
    assert p.size == 6


async def test_string_payload_charset_from_content_type() -> None:
    p = StringPayload("é", content_type="text/html; charset=latin-1")
    assert p.encoding == "latin-1"
    assert p.content_type == "text/html; charset=latin-1"
    assert await written(p) == b"\xe9"
    p = StringPayload("é", content_type="text/html")
    assert p.encoding == "utf-8"
    assert await written(p) == "é".encode()


async def test_string_io_payload() -> None:
    buf = io.StringIO("skip ünïcode")
    buf.seek(5)
    p = get_payload(buf)
    assert isinstance(p, StringIOPayload)
    assert await written(p) == "ünïcode".encode()
    assert p.size == len("ünïcode".encode())


async def test_json_payload() -> None:
    p = JsonPayload({"a": [1, "é"]})
    assert p.content_type == "application/json"
    assert json.loads(await written(p)) == {"a": [1, "é"]}
    p = JsonPayload([1], dumps=lambda v: "custom", content_type="application/x+json")
    assert await written(p) == b"custom"
    assert p.content_type == "application/x+json"
    assert JsonPayload("é", encoding="utf-16").size == len(json.dumps("é").encode("utf-16"))


# --- Files ----------------------------------------------------------------------------------


@pytest.fixture
def big_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(3 * payload.READ_SIZE + 123)
    path = tmp_path / "report.txt"
    path.write_bytes(data)
    return path, data


async def test_file_payload_reads_in_chunks_in_executor(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    threads: set[int] = set()

    class Recording(BufferedReaderPayload):
        def _read(self, size: int) -> bytes:
            threads.add(threading.get_ident())
            return super()._read(size)

    with path.open("rb") as f:
        p = Recording(f)
        assert p.size == len(data)
        writer = FakeWriter()
        await p.write(writer)
    assert writer.data == data
    assert max(len(c) for c in writer.chunks) <= payload.READ_SIZE
    assert len(writer.chunks) == 4
    assert threading.get_ident() not in threads  # never read on the loop's thread


async def test_file_payload_headers(big_file: tuple[Path, bytes]) -> None:
    path, _ = big_file
    with path.open("rb") as f:
        p = get_payload(f)
        assert isinstance(p, BufferedReaderPayload)
        assert p.filename == "report.txt"
        assert p.content_type == "text/plain"
        assert p.headers["Content-Disposition"] == 'attachment; filename="report.txt"'
        assert not p.autoclose
    with path.open("rb") as f:
        p = get_payload(f, disposition=None, content_type="application/x-foo")
        assert "Content-Disposition" not in p.headers
        assert p.content_type == "application/x-foo"
    with path.open("rb") as f:
        p = get_payload(f, filename="other.json")
        assert p.filename == "other.json"
        assert p.content_type == "application/json"


async def test_file_payload_resend_from_start_position(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    with path.open("rb") as f:
        f.seek(100)
        p = get_payload(f)
        assert p.size == len(data) - 100
        assert await written(p) == data[100:]
        # A 307/308 redirect sends the same body again.
        assert await written(p) == data[100:]
        assert not p.consumed
        assert await p.as_bytes() == data[100:]
        assert p.decode("latin-1") == data[100:].decode("latin-1")


async def test_file_payload_sends_only_its_size(tmp_path: Path) -> None:
    path = tmp_path / "growing.bin"
    path.write_bytes(b"a" * 10)
    with path.open("rb") as f:
        p = get_payload(f)
        assert p.size == 10
        with path.open("ab") as appender:
            appender.write(b"b" * 10)
        assert await written(p) == b"a" * 10
        writer = FakeWriter()
        await p.write_with_length(writer, 3)
        assert writer.data == b"aaa"


async def test_file_payload_close(big_file: tuple[Path, bytes]) -> None:
    path, _ = big_file
    f = path.open("rb")
    p = get_payload(f)
    await p.close()
    assert f.closed
    assert p.consumed
    with pytest.raises(RuntimeError):
        await written(p)
    await p.close()  # idempotent


async def test_pipe_payload_is_one_shot() -> None:
    rfd, wfd = os.pipe()
    os.write(wfd, b"pipe data")
    os.close(wfd)
    with open(rfd, "rb") as reader:
        p = get_payload(reader)
        assert p.size is None
        assert p.filename is None  # name is an int
        assert await written(p) == b"pipe data"
        assert p.consumed
        with pytest.raises(RuntimeError):
            await written(p)


async def test_pipe_payload_as_bytes_then_write() -> None:
    rfd, wfd = os.pipe()
    os.write(wfd, b"cached")
    os.close(wfd)
    with open(rfd, "rb") as reader:
        p = get_payload(reader)
        assert await p.as_bytes() == b"cached"
        # The bytes read by as_bytes() are what gets sent, any number of times.
        assert await written(p) == b"cached"
        assert await written(p) == b"cached"
        assert p.decode() == "cached"


async def test_bytes_io_payload() -> None:
    buf = io.BytesIO(b"0123456789")
    buf.seek(2)
    p = get_payload(buf)
    assert isinstance(p, BytesIOPayload)
    assert p.size == 8
    assert p.filename is None
    assert "Content-Disposition" not in p.headers
    assert await written(p) == b"23456789"
    assert await written(p) == b"23456789"
    writer = FakeWriter()
    await p.write_with_length(writer, 3)
    assert writer.data == b"234"
    assert await p.as_bytes() == b"23456789"
    assert p.decode() == "23456789"
    await p.close()
    assert buf.closed


async def test_bytes_io_large_is_chunked() -> None:
    data = os.urandom(payload.READ_SIZE * 2 + 1)
    writer = FakeWriter()
    await get_payload(io.BytesIO(data)).write(writer)
    assert writer.data == data
    assert [len(c) for c in writer.chunks] == [payload.READ_SIZE, payload.READ_SIZE, 1]


async def test_text_io_payload(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("строка\nline\n", encoding="utf-8")
    with path.open("r", encoding="utf-8") as f:
        p = get_payload(f)
        assert isinstance(p, TextIOPayload)
        assert p.size is None  # newline translation / re-encoding make the size unknown
        assert p.content_type == "text/plain; charset=utf-8"
        assert p.filename == "notes.txt"
        assert await written(p) == "строка\nline\n".encode()
        assert await written(p) == "строка\nline\n".encode()
        assert p.decode() == "строка\nline\n"
    with path.open("r", encoding="utf-8") as f:
        p = get_payload(f, encoding="cp1251")
        assert p.content_type == "text/plain; charset=cp1251"
        assert await written(p) == "строка\nline\n".encode("cp1251")
        assert await p.as_bytes() == "строка\nline\n".encode("cp1251")
    with path.open("r", encoding="utf-8") as f:
        writer = FakeWriter()
        await get_payload(f).write_with_length(writer, 5)
        assert writer.data == "строка".encode()[:5]
    with path.open("r", encoding="utf-8") as f:
        p = get_payload(f, content_type="text/csv; charset=utf-16")
        assert p.encoding == "utf-16"


async def test_generic_io_base_payload() -> None:
    class Reader(io.RawIOBase):
        def __init__(self) -> None:
            self.parts = [b"ab", b"cd"]

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            if not self.parts:
                return 0
            part = self.parts.pop(0)
            b[: len(part)] = part
            return len(part)

    p = get_payload(Reader())
    assert type(p) is IOBasePayload
    assert p.size is None
    assert await written(p) == b"abcd"


# --- Async iterables and streams ------------------------------------------------------------


async def test_async_iterable_payload_is_one_shot() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"bc"

    p = get_payload(gen())
    assert isinstance(p, AsyncIterablePayload)
    assert p.size is None
    assert p.content_type == "application/octet-stream"
    assert not p.consumed
    assert await written(p) == b"abc"
    assert p.consumed
    with pytest.raises(RuntimeError):
        await written(p)
    with pytest.raises(TypeError):
        p.decode()


async def test_async_iterable_payload_as_bytes_caches() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"bc"

    p = AsyncIterablePayload(gen())
    assert await p.as_bytes() == b"abc"
    assert await p.as_bytes() == b"abc"
    assert await written(p) == b"abc"
    assert await written(p) == b"abc"
    assert p.decode() == "abc"


def test_async_iterable_payload_type_check() -> None:
    with pytest.raises(TypeError):
        AsyncIterablePayload([b"x"])  # type: ignore[arg-type]


async def test_stream_reader_payload() -> None:
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    stream.feed_data(b"one ")
    stream.feed_data(b"two")
    stream.feed_eof()
    p = get_payload(stream)
    assert isinstance(p, StreamReaderPayload)
    assert p.size is None
    assert await written(p) == b"one two"


async def test_close_async_iterable() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    p = AsyncIterablePayload(gen())
    await p.close()
    assert p.consumed
    with pytest.raises(RuntimeError):
        await written(p)


# --- Registry -------------------------------------------------------------------------------


def test_get_payload_dispatch() -> None:
    assert type(get_payload(b"x")) is BytesPayload
    assert type(get_payload(bytearray(b"x"))) is BytesPayload
    assert type(get_payload(memoryview(b"x"))) is BytesPayload
    assert type(get_payload("x")) is StringPayload
    assert type(get_payload(io.StringIO("x"))) is StringIOPayload
    assert type(get_payload(io.BytesIO(b"x"))) is BytesIOPayload
    p = BytesPayload(b"x")
    assert get_payload(p) is p
    assert get_payload("x", content_type="text/html").content_type == "text/html"


def test_get_payload_unknown_type() -> None:
    with pytest.raises(payload.LookupError) as info:
        get_payload(object())
    assert isinstance(info.value, builtins.LookupError)
    with pytest.raises(payload.LookupError):
        get_payload(12)


def test_payload_type_decorator() -> None:
    class Custom:
        pass

    @payload_type(Custom)
    class CustomPayload(BytesPayload):
        def __init__(self, value: Custom, *args: Any, **kwargs: Any) -> None:
            super().__init__(b"custom", *args, **kwargs)

    assert type(get_payload(Custom())) is CustomPayload


def test_registry_order() -> None:
    class Base:
        pass

    class Sub(Base):
        pass

    def factory(tag: str) -> Any:
        def make(value: Any, *args: Any, **kwargs: Any) -> Payload:
            return BytesPayload(tag.encode())

        return make

    registry = PayloadRegistry()
    registry.register(factory("last"), object, order=Order.try_last)
    registry.register(factory("base"), Base)
    registry.register(factory("sub"), Sub)
    assert registry.get(Sub())._value == b"base"  # the first normal match wins
    assert registry.get(1)._value == b"last"
    # Registering clears the per-type cache.
    registry.register(factory("first"), Sub, order=Order.try_first)
    assert registry.get(Sub())._value == b"first"
    assert registry.get(Base())._value == b"base"
    with pytest.raises(ValueError):
        registry.register(factory("x"), Sub, order="bogus")  # type: ignore[arg-type]


def test_global_registry_prefers_specific_io_types() -> None:
    # StringIO is a TextIOBase and BytesIO an IOBase: the specific factories must win.
    assert PAYLOAD_REGISTRY.get(io.StringIO("x")).__class__ is StringIOPayload
    assert PAYLOAD_REGISTRY.get(io.BytesIO(b"x")).__class__ is BytesIOPayload


# --- streamer -------------------------------------------------------------------------------


async def test_streamer_decorator() -> None:
    from aiohyper.payload_streamer import StreamPayload, StreamWrapperPayload, streamer

    with pytest.warns(DeprecationWarning):

        @streamer
        async def sender(writer: AbstractStreamWriter, count: int = 1) -> None:
            for i in range(count):
                await writer.write(b"%d" % i)

    p = get_payload(sender(count=3))
    assert isinstance(p, StreamWrapperPayload)
    assert p.size is None
    assert await written(p) == b"012"
    assert p.consumed
    with pytest.raises(RuntimeError):
        await written(p)
    with pytest.raises(TypeError):
        p.decode()

    p = get_payload(sender)  # not called: called with no arguments
    assert isinstance(p, StreamPayload)
    assert await written(p) == b"0"


def test_no_warnings_on_plain_use() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_payload(b"x" * 10)
        get_payload("x")
