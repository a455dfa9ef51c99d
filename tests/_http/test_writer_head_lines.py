"""The cache of checked head lines behind ``serialize_headers`` and the writer's one-write
``send_whole``: caching never lets an invalid line through, and stays bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from multidict import CIMultiDict

from aiohyper._http import _writer
from aiohyper._http._writer import StreamWriter, serialize_headers


def test_a_cached_name_does_not_vouch_for_another_value() -> None:
    assert serialize_headers("HTTP/1.1 200 OK", {"X-A": "fine"}).endswith(b"X-A: fine\r\n\r\n")
    for bad in ("a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\x00b"):
        with pytest.raises(ValueError, match="X-A"):
            serialize_headers("HTTP/1.1 200 OK", {"X-A": bad})
    with pytest.raises(ValueError, match="Status line"):
        serialize_headers("HTTP/1.1 200 OK\r\nX: y", {})
    with pytest.raises(ValueError, match="Invalid header name"):
        serialize_headers("HTTP/1.1 200 OK", {"Bad Name": "v"})


def test_repeated_heads_are_identical() -> None:
    headers = CIMultiDict([("X-B", "1"), ("X-B", "2"), ("Content-Length", "3")])
    first = serialize_headers("HTTP/1.1 200 OK", headers)
    assert first == serialize_headers("HTTP/1.1 200 OK", headers)
    assert first == b"HTTP/1.1 200 OK\r\nX-B: 1\r\nX-B: 2\r\nContent-Length: 3\r\n\r\n"


def test_non_str_and_unhashable_values() -> None:
    assert serialize_headers("HTTP/1.1 200 OK", {"X-N": 5}) == (  # type: ignore[dict-item]
        b"HTTP/1.1 200 OK\r\nX-N: 5\r\n\r\n"
    )
    headers: Any = {"X-L": ["a", "b"]}
    assert serialize_headers("HTTP/1.1 200 OK", headers) == (
        b"HTTP/1.1 200 OK\r\nX-L: ['a', 'b']\r\n\r\n"
    )

    class Sneaky:  # unhashable, and its text holds CRLF
        __hash__ = None  # type: ignore[assignment]

        def __str__(self) -> str:
            return "a\r\nSet-Cookie: x=y"

    with pytest.raises(ValueError, match="X-S"):
        serialize_headers("HTTP/1.1 200 OK", {"X-S": Sneaky()})  # type: ignore[dict-item]


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _writer._HEAD_LINES
    for i in range(_writer._LINES_MAX + 10):
        serialize_headers("HTTP/1.1 200 OK", {"X-Count": str(i)})
    assert len(lines) <= _writer._LINES_MAX
    long_value = "v" * (_writer._LINE_VALUE_MAX + 1)
    serialize_headers("HTTP/1.1 200 OK", {"X-Long": long_value})
    assert ("X-Long", long_value) not in lines


class Transport:
    def __init__(self, *, closing: bool = False) -> None:
        self.written: list[bytes] = []
        self.closing = closing

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def writelines(self, data: Any) -> None:
        self.written.extend(bytes(d) for d in data)

    def is_closing(self) -> bool:
        return self.closing


class Conn:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.writing_paused = False

    async def _drain_helper(self) -> None:
        return


async def test_send_whole_writes_once_and_ends_the_message() -> None:
    transport = Transport()
    writer = StreamWriter(Conn(transport), asyncio.get_running_loop())  # type: ignore[arg-type]
    assert writer.can_send_whole()
    writer.length = 3
    writer.send_whole(b"HEAD\r\n\r\n", b"abcdef")
    assert transport.written == [b"HEAD\r\n\r\nabc"]  # cut to the length
    assert writer.output_size == len(b"HEAD\r\n\r\nabc")
    assert not writer.can_send_whole()
    with pytest.raises(RuntimeError):
        await writer.write(b"more")


async def test_send_whole_large_body_and_closing_transport() -> None:
    transport = Transport()
    writer = StreamWriter(Conn(transport), asyncio.get_running_loop())  # type: ignore[arg-type]
    body = b"x" * (1 << 20)
    writer.send_whole(b"H\r\n\r\n", body)
    assert b"".join(transport.written) == b"H\r\n\r\n" + body
    closed = Transport(closing=True)
    writer2 = StreamWriter(Conn(closed), asyncio.get_running_loop())  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError):
        writer2.send_whole(b"H\r\n\r\n", b"x")
    assert closed.written == []


async def test_a_used_writer_cannot_send_whole() -> None:
    writer = StreamWriter(Conn(Transport()), asyncio.get_running_loop())  # type: ignore[arg-type]
    writer.enable_chunking()
    assert not writer.can_send_whole()
    writer2 = StreamWriter(Conn(Transport()), asyncio.get_running_loop())  # type: ignore[arg-type]
    await writer2.write_headers("HTTP/1.1 200 OK", {})
    writer2.flush()
    assert not writer2.can_send_whole()
