"""Tests for aiohyper.streams: StreamReader, EmptyStreamReader, DataQueue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from aiohyper.streams import (
    EMPTY_PAYLOAD,
    DataQueue,
    EmptyStreamReader,
    EofStream,
    StreamReader,
)


class FakeProtocol:
    """Records flow-control calls made by a StreamReader."""

    def __init__(self) -> None:
        self._reading_paused = False
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")
        self._reading_paused = True

    def resume_reading(self) -> None:
        self.calls.append("resume")
        self._reading_paused = False


class RecordingTimer:
    """A timer context manager counting how often it is entered."""

    def __init__(self) -> None:
        self.entered = 0
        self.exited = 0

    def __enter__(self) -> RecordingTimer:
        self.entered += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited += 1


def make_stream(limit: int = 2**16, **kwargs: Any) -> tuple[StreamReader, FakeProtocol]:
    proto = FakeProtocol()
    stream = StreamReader(proto, limit, loop=asyncio.get_running_loop(), **kwargs)  # type: ignore[arg-type]
    return stream, proto


async def feed_later(stream: StreamReader, *pieces: bytes, eof: bool = False) -> None:
    """Feed pieces one per loop iteration, so a reader is waiting in between."""
    for piece in pieces:
        await asyncio.sleep(0)
        stream.feed_data(piece)
    if eof:
        await asyncio.sleep(0)
        stream.feed_eof()


async def run_with_feeder(
    coro: Any, stream: StreamReader, *pieces: bytes, eof: bool = False
) -> Any:
    task = asyncio.create_task(feed_later(stream, *pieces, eof=eof))
    try:
        return await coro
    finally:
        await task


# -- construction / state -------------------------------------------------------------------------


async def test_initial_state() -> None:
    stream, proto = make_stream(10)
    assert stream.get_read_buffer_limits() == (10, 20)
    assert not stream.is_eof()
    assert not stream.at_eof()
    assert stream.exception() is None
    assert stream.total_bytes == 0
    assert proto.calls == []


async def test_repr() -> None:
    stream, _ = make_stream()
    assert repr(stream) == "<StreamReader>"
    stream.feed_data(b"abc")
    stream.feed_eof()
    assert repr(stream) == "<StreamReader 3 bytes eof>"
    stream2, _ = make_stream(10)
    exc = ValueError("x")
    stream2.set_exception(exc)
    r = repr(stream2)
    assert "low=10 high=20" in r
    assert "e=ValueError('x')" in r


async def test_repr_waiting() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.read())
    await asyncio.sleep(0)
    assert "w=<Future" in repr(stream)
    stream.feed_eof()
    await task


async def test_is_eof_at_eof() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"data")
    stream.feed_eof()
    assert stream.is_eof()
    assert not stream.at_eof()
    assert await stream.read() == b"data"
    assert stream.at_eof()


async def test_total_bytes_counts_fed_bytes() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abc")
    stream.feed_data(b"")
    stream.feed_data(b"de")
    assert stream.total_bytes == 5
    await stream.read(2)
    assert stream.total_bytes == 5


async def test_feed_empty_data_does_not_wake_reader() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.readany())
    await asyncio.sleep(0)
    stream.feed_data(b"")
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"x")
    assert await task == b"x"


# -- read -----------------------------------------------------------------------------------------


async def test_read_all_to_eof_across_feeds() -> None:
    stream, _ = make_stream()
    data = await run_with_feeder(stream.read(), stream, b"ab", b"cd", b"ef", eof=True)
    assert data == b"abcdef"


async def test_read_at_eof_returns_empty() -> None:
    stream, _ = make_stream()
    stream.feed_eof()
    assert await stream.read() == b""
    assert await stream.read(10) == b""
    assert await stream.read() == b""


async def test_read_n_returns_available_data_without_waiting_for_n() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abc")
    assert await stream.read(10) == b"abc"


async def test_read_n_limits_size_and_spans_pieces() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abc")
    stream.feed_data(b"def")
    stream.feed_data(b"ghi")
    assert await stream.read(2) == b"ab"
    assert await stream.read(3) == b"cde"
    assert await stream.read(4) == b"fghi"
    stream.feed_eof()
    assert await stream.read(4) == b""


async def test_read_n_waits_for_data() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.read(5))
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"xy")
    assert await task == b"xy"


async def test_read_zero() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abc")
    assert await stream.read(0) == b""
    assert stream.read_nowait() == b"abc"


async def test_read_zero_does_not_wait() -> None:
    stream, _ = make_stream()
    assert await asyncio.wait_for(stream.read(0), 1) == b""


async def test_read_returns_same_object_for_whole_piece() -> None:
    # No copy when a read takes a whole received piece.
    stream, _ = make_stream()
    piece = b"x" * 1000
    stream.feed_data(piece)
    assert await stream.read(1000) is piece


# -- readany --------------------------------------------------------------------------------------


async def test_readany_returns_whole_buffer() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"ab")
    stream.feed_data(b"cd")
    assert await stream.readany() == b"abcd"


async def test_readany_waits_and_eof() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.readany())
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"x")
    assert await task == b"x"
    stream.feed_eof()
    assert await stream.readany() == b""


async def test_readany_after_partial_read() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abcdef")
    assert await stream.read(2) == b"ab"
    stream.feed_data(b"gh")
    assert await stream.readany() == b"cdefgh"


async def test_readany_not_woken_by_chunk_end_alone() -> None:
    # end_http_chunk_receiving wakes the waiter; readany must keep waiting for data.
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"ab")
    assert await stream.readany() == b"ab"
    task = asyncio.create_task(stream.readany())
    await asyncio.sleep(0)
    stream.end_http_chunk_receiving()
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"cd")
    assert await task == b"cd"


# -- readexactly ----------------------------------------------------------------------------------


async def test_readexactly_buffered() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abcdef")
    assert await stream.readexactly(4) == b"abcd"
    assert await stream.readexactly(2) == b"ef"


async def test_readexactly_across_feeds() -> None:
    stream, _ = make_stream()
    data = await run_with_feeder(stream.readexactly(5), stream, b"a", b"bc", b"defg")
    assert data == b"abcde"
    assert stream.read_nowait() == b"fg"


async def test_readexactly_incomplete() -> None:
    stream, _ = make_stream()
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await run_with_feeder(stream.readexactly(10), stream, b"abc", b"de", eof=True)
    assert info.value.partial == b"abcde"
    assert info.value.expected == 10
    assert stream.at_eof()


async def test_readexactly_at_eof_empty() -> None:
    stream, _ = make_stream()
    stream.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await stream.readexactly(1)
    assert info.value.partial == b""
    assert await stream.readexactly(0) == b""


async def test_readexactly_negative() -> None:
    stream, _ = make_stream()
    with pytest.raises(ValueError):
        await stream.readexactly(-1)


async def test_readexactly_larger_than_high_water_with_flow_control() -> None:
    # Waiting for n buffered bytes would deadlock once reading is paused; the reader must
    # consume as it goes so reading resumes.
    stream, proto = make_stream(4)
    loop = asyncio.get_running_loop()
    data = bytes(range(256)) * 4

    async def producer() -> None:
        pos = 0
        while pos < len(data):
            if proto._reading_paused:
                await asyncio.sleep(0)
                continue
            # Feed until the stream pauses us, as a socket delivering a burst would.
            while pos < len(data) and not proto._reading_paused:
                stream.feed_data(data[pos : pos + 3])
                pos += 3
            await asyncio.sleep(0)

    task = loop.create_task(producer())
    assert await asyncio.wait_for(stream.readexactly(len(data)), 5) == data
    await task
    assert "pause" in proto.calls
    assert "resume" in proto.calls


# -- readline / readuntil -------------------------------------------------------------------------


async def test_readline_several_lines_in_one_piece() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"line1\nline2\nrest")
    stream.feed_eof()
    assert await stream.readline() == b"line1\n"
    assert await stream.readline() == b"line2\n"
    assert await stream.readline() == b"rest"
    assert await stream.readline() == b""


async def test_readline_over_multiple_feeds() -> None:
    stream, _ = make_stream()
    line = await run_with_feeder(stream.readline(), stream, b"he", b"llo", b" wor", b"ld\nnext")
    assert line == b"hello world\n"
    assert stream.read_nowait() == b"next"


async def test_readline_eof_without_newline() -> None:
    stream, _ = make_stream()
    line = await run_with_feeder(stream.readline(), stream, b"par", b"tial", eof=True)
    assert line == b"partial"


async def test_readline_empty_at_eof() -> None:
    stream, _ = make_stream()
    stream.feed_eof()
    assert await stream.readline() == b""


async def test_readuntil_multibyte_separator_split_across_feeds() -> None:
    stream, _ = make_stream()
    data = await run_with_feeder(
        stream.readuntil(b"\r\n\r\n"), stream, b"head\r", b"\n", b"\r", b"\nbody"
    )
    assert data == b"head\r\n\r\n"
    assert stream.read_nowait() == b"body"


async def test_readuntil_false_prefix_matches() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"a\r\n")
    stream.feed_data(b"\rx\r")
    stream.feed_data(b"\n\r")
    stream.feed_data(b"\nz")
    assert await stream.readuntil(b"\r\n\r\n") == b"a\r\n\rx\r\n\r\n"
    assert stream.read_nowait() == b"z"


async def test_readuntil_separator_straddles_partially_consumed_piece() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"xxab")
    assert await stream.read(3) == b"xxa"
    stream.feed_data(b"cd")
    # "b" left of the first piece + "cd": separator "bc" straddles, offset must be respected.
    assert await stream.readuntil(b"bc") == b"bc"
    assert stream.read_nowait() == b"d"


async def test_readuntil_separator_in_tiny_pieces() -> None:
    stream, _ = make_stream()
    pieces = [bytes([c]) for c in b"abc<SEP>def"]
    data = await run_with_feeder(stream.readuntil(b"<SEP>"), stream, *pieces)
    assert data == b"abc<SEP>"
    assert stream.read_nowait() == b"def"


async def test_readuntil_default_separator_is_newline() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"a\nb")
    assert await stream.readuntil() == b"a\n"


async def test_readuntil_empty_separator() -> None:
    stream, _ = make_stream()
    with pytest.raises(ValueError):
        await stream.readuntil(b"")


async def test_readuntil_chunk_too_big_without_separator() -> None:
    stream, _ = make_stream(4)
    stream.feed_data(b"123456789")  # 9 > high water 8
    with pytest.raises(ValueError, match="Chunk too big"):
        await stream.readline()
    # Nothing consumed; the stream is still usable.
    assert stream.read_nowait() == b"123456789"


async def test_readuntil_chunk_too_big_while_waiting() -> None:
    stream, _ = make_stream(4)
    with pytest.raises(ValueError, match="Chunk too big"):
        await run_with_feeder(stream.readline(), stream, b"1234", b"5678", b"9")


async def test_readuntil_line_at_high_water_is_allowed() -> None:
    stream, _ = make_stream(4)
    stream.feed_data(b"1234567\nabc")
    assert await stream.readline() == b"1234567\n"  # exactly 8 bytes


async def test_readuntil_found_line_longer_than_high_water() -> None:
    stream, _ = make_stream(4)
    stream.feed_data(b"12345678\n")
    with pytest.raises(ValueError, match="Chunk too big"):
        await stream.readline()


@settings(max_examples=200, deadline=None)
@given(
    body=st.lists(st.sampled_from([b"a", b"b", b"ab", b"ba", b"x", b"aab"]), max_size=20).map(
        b"".join
    ),
    sep=st.sampled_from([b"ab", b"aab", b"b", b"abab"]),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_readuntil_matches_reference(body: bytes, sep: bytes, cuts: list[int]) -> None:
    """readuntil over arbitrary piece boundaries behaves like splitting the whole body."""

    async def scenario() -> list[bytes]:
        stream, _ = make_stream()
        bounds = sorted({c for c in cuts if 0 < c < len(body)})
        pieces = [body[i:j] for i, j in zip([0, *bounds], [*bounds, len(body)], strict=True)]
        task = asyncio.create_task(feed_later(stream, *pieces, eof=True))
        out = []
        while True:
            part = await stream.readuntil(sep)
            if not part:
                break
            out.append(part)
        await task
        return out

    expected = []
    rest = body
    while rest:
        i = rest.find(sep)
        if i == -1:
            expected.append(rest)
            break
        expected.append(rest[: i + len(sep)])
        rest = rest[i + len(sep) :]
    assert asyncio.run(scenario()) == expected


# -- readchunk ------------------------------------------------------------------------------------


async def test_readchunk_not_chunked_returns_pieces_as_received() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"ab")
    stream.feed_data(b"cd")
    stream.feed_eof()
    assert await stream.readchunk() == (b"ab", False)
    assert await stream.readchunk() == (b"cd", False)
    assert await stream.readchunk() == (b"", False)
    assert await stream.readchunk() == (b"", False)


async def test_readchunk_chunked_boundaries() -> None:
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"hello")
    stream.end_http_chunk_receiving()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"wor")
    stream.feed_data(b"ld")
    stream.end_http_chunk_receiving()
    # Terminating zero-size chunk: no extra boundary.
    stream.begin_http_chunk_receiving()
    stream.end_http_chunk_receiving()
    stream.feed_eof()
    assert await stream.readchunk() == (b"hello", True)
    assert await stream.readchunk() == (b"world", True)
    assert await stream.readchunk() == (b"", False)


async def test_readchunk_unfinished_chunk_then_end() -> None:
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"part1")
    assert await stream.readchunk() == (b"part1", False)
    task = asyncio.create_task(stream.readchunk())
    await asyncio.sleep(0)
    assert not task.done()
    stream.end_http_chunk_receiving()  # wakes the waiting readchunk
    assert await task == (b"", True)


async def test_readchunk_boundary_consumed_exactly_by_read() -> None:
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"abc")
    stream.end_http_chunk_receiving()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"def")
    stream.end_http_chunk_receiving()
    assert await stream.read(3) == b"abc"
    assert await stream.readchunk() == (b"", True)
    assert await stream.readchunk() == (b"def", True)


async def test_readchunk_boundary_consumed_beyond_is_skipped() -> None:
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"abc")
    stream.end_http_chunk_receiving()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"defgh")
    stream.end_http_chunk_receiving()
    assert await stream.read(4) == b"abcd"
    assert await stream.readchunk() == (b"efgh", True)


async def test_readchunk_partial_chunk_before_boundary() -> None:
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"abcdef")
    stream.end_http_chunk_receiving()
    assert await stream.read(2) == b"ab"
    assert await stream.readchunk() == (b"cdef", True)


async def test_chunk_splits_do_not_accumulate_without_readchunk() -> None:
    stream, _ = make_stream()
    for _ in range(1000):
        stream.begin_http_chunk_receiving()
        stream.feed_data(b"xy")
        stream.end_http_chunk_receiving()
        assert await stream.readany() == b"xy"
    splits = stream._http_chunk_splits
    assert splits is not None
    assert len(splits) <= 1


async def test_end_chunk_without_begin() -> None:
    stream, _ = make_stream()
    with pytest.raises(RuntimeError):
        stream.end_http_chunk_receiving()


async def test_readchunk_raises_exception() -> None:
    stream, _ = make_stream()
    stream.set_exception(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        await stream.readchunk()


# -- iterators ------------------------------------------------------------------------------------


async def test_iterate_lines() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"a\nbb\n")
    stream.feed_data(b"ccc")
    stream.feed_eof()
    assert [line async for line in stream] == [b"a\n", b"bb\n", b"ccc"]


async def test_iter_chunked() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(feed_later(stream, b"abcde", b"fg", eof=True))
    chunks = [c async for c in stream.iter_chunked(3)]
    await task
    assert b"".join(chunks) == b"abcdefg"
    assert all(0 < len(c) <= 3 for c in chunks)


async def test_iter_any() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(feed_later(stream, b"ab", b"cd", eof=True))
    chunks = [c async for c in stream.iter_any()]
    await task
    assert chunks == [b"ab", b"cd"]


async def test_iter_chunks() -> None:
    stream, _ = make_stream()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"one")
    stream.end_http_chunk_receiving()
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"tw")
    stream.feed_data(b"o")
    stream.end_http_chunk_receiving()
    stream.feed_eof()
    assert [c async for c in stream.iter_chunks()] == [(b"one", True), (b"two", True)]


async def test_iter_chunks_rebuilds_chunks_when_read_early() -> None:
    stream, _ = make_stream()

    async def produce() -> None:
        await asyncio.sleep(0)
        stream.begin_http_chunk_receiving()
        stream.feed_data(b"he")
        await asyncio.sleep(0)
        stream.feed_data(b"llo")
        await asyncio.sleep(0)
        stream.end_http_chunk_receiving()
        await asyncio.sleep(0)
        stream.feed_eof()

    task = asyncio.create_task(produce())
    out = []
    buf = b""
    async for data, end in stream.iter_chunks():
        buf += data
        if end:
            out.append(buf)
            buf = b""
    await task
    assert out == [b"hello"]
    assert buf == b""


async def test_iterator_propagates_exception() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"a\n")
    stream.set_exception(OSError("lost"))
    with pytest.raises(OSError, match="lost"):
        async for _ in stream.iter_any():
            pass


# -- exceptions -----------------------------------------------------------------------------------


async def test_set_exception_makes_reads_raise() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"data")
    exc = ValueError("bad")
    stream.set_exception(exc)
    assert stream.exception() is exc
    for coro in (
        stream.read(),
        stream.read(1),
        stream.readany(),
        stream.readline(),
        stream.readuntil(b"x"),
        stream.readexactly(1),
        stream.readchunk(),
    ):
        with pytest.raises(ValueError, match="bad"):
            await coro
    with pytest.raises(ValueError):
        stream.read_nowait()


async def test_set_exception_wakes_waiting_reader() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.readline())
    await asyncio.sleep(0)
    stream.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError, match="gone"):
        await task


async def test_set_exception_cause() -> None:
    stream, _ = make_stream()
    cause = OSError("root")
    exc = ValueError("wrapped")
    task = asyncio.create_task(stream.read())
    await asyncio.sleep(0)
    stream.set_exception(exc, cause)
    with pytest.raises(ValueError) as info:
        await task
    assert info.value.__cause__ is cause

    stream2, _ = make_stream()
    exc2 = ValueError("plain")
    stream2.set_exception(exc2)
    assert exc2.__cause__ is None


async def test_set_exception_wakes_wait_eof() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.wait_eof())
    await asyncio.sleep(0)
    stream.set_exception(ValueError("x"))
    with pytest.raises(ValueError):
        await task
    with pytest.raises(ValueError):
        await stream.wait_eof()


async def test_set_exception_drops_eof_callbacks() -> None:
    stream, _ = make_stream()
    called = []
    stream.on_eof(lambda: called.append(1))
    stream.set_exception(ValueError())
    stream.feed_eof()
    assert called == []


# -- EOF ------------------------------------------------------------------------------------------


async def test_wait_eof() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.wait_eof())
    await asyncio.sleep(0)
    stream.feed_data(b"x")
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_eof()
    await task
    assert stream.is_eof()
    assert stream.read_nowait() == b"x"  # data still available
    await asyncio.wait_for(stream.wait_eof(), 1)


async def test_wait_eof_twice_concurrently() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.wait_eof())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await stream.wait_eof()
    stream.feed_eof()
    await task


async def test_feed_eof_wakes_reader() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.read(10))
    await asyncio.sleep(0)
    stream.feed_eof()
    assert await task == b""


async def test_on_eof_callbacks() -> None:
    stream, _ = make_stream()
    called: list[str] = []
    stream.on_eof(lambda: called.append("a"))
    stream.on_eof(lambda: called.append("b"))
    assert called == []
    stream.feed_eof()
    assert called == ["a", "b"]
    stream.feed_eof()  # callbacks run once
    assert called == ["a", "b"]
    stream.on_eof(lambda: called.append("c"))  # after EOF: runs immediately
    assert called == ["a", "b", "c"]


async def test_on_eof_callback_exception_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    stream, _ = make_stream()
    called = []

    def bad() -> None:
        raise RuntimeError("callback failed")

    stream.on_eof(bad)
    stream.on_eof(lambda: called.append(1))
    with caplog.at_level(logging.ERROR, logger="aiohyper.internal"):
        stream.feed_eof()
        stream.on_eof(bad)
    assert called == [1]
    records = [r for r in caplog.records if r.name == "aiohyper.internal"]
    assert len(records) == 2
    assert records[0].exc_info is not None


# -- read_nowait / unread_data --------------------------------------------------------------------


async def test_read_nowait() -> None:
    stream, _ = make_stream()
    assert stream.read_nowait() == b""
    stream.feed_data(b"abc")
    stream.feed_data(b"def")
    assert stream.read_nowait(2) == b"ab"
    assert stream.read_nowait(-1) == b"cdef"
    assert stream.read_nowait() == b""


async def test_read_nowait_while_waiting() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        stream.read_nowait()
    stream.feed_eof()
    await task


async def test_unread_data() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abcdef")
    assert await stream.read(4) == b"abcd"
    with pytest.warns(DeprecationWarning):
        stream.unread_data(b"cd")
    assert await stream.read(3) == b"cde"
    with pytest.warns(DeprecationWarning):
        stream.unread_data(b"")
    assert stream.read_nowait() == b"f"


# -- concurrency / cancellation / timer -----------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["read", "readany", "readline", "readchunk", "readexactly", "readuntil"]
)
async def test_second_concurrent_waiter_raises(method: str) -> None:
    stream, _ = make_stream()
    args = (5,) if method == "readexactly" else ()
    first = asyncio.create_task(stream.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await getattr(stream, method)(*args)
    stream.feed_data(b"ok")
    stream.feed_eof()
    assert await first == b"ok"


async def test_cancelled_read_leaves_stream_usable() -> None:
    stream, _ = make_stream()
    task = asyncio.create_task(stream.readline())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stream.feed_data(b"line\n")
    assert await asyncio.wait_for(stream.readline(), 1) == b"line\n"


async def test_cancelled_readexactly_keeps_unconsumed_data() -> None:
    stream, _ = make_stream()
    stream.feed_data(b"abc")
    task = asyncio.create_task(stream.readexactly(3))
    assert await task == b"abc"
    task = asyncio.create_task(stream.readuntil(b"!"))
    await asyncio.sleep(0)
    stream.feed_data(b"xyz")
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # readuntil consumes nothing until it finds the separator.
    assert stream.read_nowait() == b"xyz"


async def test_timer_entered_around_each_wait() -> None:
    timer = RecordingTimer()
    stream, _ = make_stream(timer=timer)
    stream.feed_data(b"a")
    assert await stream.read(1) == b"a"
    assert timer.entered == 0  # no wait, no timer
    data = await run_with_feeder(stream.readexactly(2), stream, b"b", b"c")
    assert data == b"bc"
    assert timer.entered == 2
    assert timer.exited == 2


async def test_timer_timeout_propagates_and_stream_usable() -> None:
    @contextlib.contextmanager
    def timeout_timer() -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None
        handle = asyncio.get_running_loop().call_later(0.01, task.cancel)
        try:
            yield
        except asyncio.CancelledError:
            raise TimeoutError from None
        finally:
            handle.cancel()

    class Timer:
        def __enter__(self) -> None:
            self._cm = timeout_timer()
            self._cm.__enter__()

        def __exit__(self, *exc: Any) -> bool | None:
            return self._cm.__exit__(*exc)

    stream, _ = make_stream(timer=Timer())
    with pytest.raises(TimeoutError):
        await stream.read()
    stream.feed_data(b"later")
    assert await stream.readany() == b"later"


# -- flow control ---------------------------------------------------------------------------------


async def test_flow_control_pause_threshold() -> None:
    stream, proto = make_stream(10)
    stream.feed_data(b"x" * 20)  # == high water: no pause
    assert proto.calls == []
    stream.feed_data(b"x")  # 21 > 20
    assert proto.calls == ["pause"]
    stream.feed_data(b"x" * 5)  # already paused: no repeated call
    assert proto.calls == ["pause"]


async def test_flow_control_resume_threshold() -> None:
    stream, proto = make_stream(10)
    stream.feed_data(b"x" * 30)
    assert proto.calls == ["pause"]
    await stream.read(20)  # 10 left == low water: still paused
    assert proto.calls == ["pause"]
    await stream.read(1)  # 9 < 10
    assert proto.calls == ["pause", "resume"]
    await stream.read(1)
    assert proto.calls == ["pause", "resume"]


async def test_flow_control_both_ways_repeatedly() -> None:
    stream, proto = make_stream(4)
    for _ in range(3):
        for _ in range(3):
            stream.feed_data(b"abc")
        await stream.readany()
    assert proto.calls == ["pause", "resume"] * 3


@pytest.mark.parametrize(
    "reader", ["read_nowait", "readexactly", "readline", "readchunk", "readany"]
)
async def test_flow_control_resume_from_every_read(reader: str) -> None:
    stream, proto = make_stream(4)
    stream.feed_data(b"0123456789\n")
    assert proto.calls == ["pause"]
    if reader == "read_nowait":
        stream.read_nowait()
    elif reader == "readexactly":
        await stream.readexactly(11)
    else:
        stream._high_water = 100  # let readline accept the line
        await getattr(stream, reader)()
    assert proto.calls == ["pause", "resume"]


async def test_flow_control_real_base_protocol() -> None:
    from aiohyper.base_protocol import BaseProtocol

    class Transport:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def pause_reading(self) -> None:
            self.calls.append("pause")

        def resume_reading(self) -> None:
            self.calls.append("resume")

    loop = asyncio.get_running_loop()
    proto = BaseProtocol(loop)
    transport = Transport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    stream = StreamReader(proto, 2, loop=loop)
    stream.feed_data(b"12345")
    stream.feed_data(b"6")
    assert transport.calls == ["pause"]
    assert stream.read_nowait() == b"123456"
    assert transport.calls == ["pause", "resume"]


# -- large data -----------------------------------------------------------------------------------


async def test_large_data_small_pieces_linear() -> None:
    piece = bytes(range(100))
    n = (1 << 20) // 100
    expected = piece * n

    stream, _ = make_stream(1 << 22)
    start = time.perf_counter()
    for _ in range(n):
        stream.feed_data(piece)
    stream.feed_eof()
    assert await stream.read() == expected

    stream, _ = make_stream(1 << 22)
    for _ in range(n):
        stream.feed_data(piece)
    stream.feed_eof()
    out = []
    while True:
        block = await stream.read(1000)
        if not block:
            break
        out.append(block)
    assert b"".join(out) == expected

    stream, _ = make_stream(1 << 22)
    for _ in range(n):
        stream.feed_data(piece)
    stream.feed_eof()
    assert await stream.readexactly(len(expected)) == expected
    assert time.perf_counter() - start < 3


async def test_large_single_piece_read_in_small_reads_linear() -> None:
    # Reading a big piece in small steps must not copy the remainder each time (that would be
    # ~128 GB of copying here).
    stream, _ = make_stream(1 << 24)
    data = bytes(range(256)) * (1 << 14)  # 4 MiB
    stream.feed_data(data)
    stream.feed_eof()
    start = time.perf_counter()
    blocks = []
    while True:
        block = stream.read_nowait(64)
        if not block:
            break
        blocks.append(block)
    assert len(blocks) == len(data) // 64
    assert b"".join(blocks) == data
    assert time.perf_counter() - start < 1
    assert await stream.read(16) == b""


async def test_long_line_in_small_pieces() -> None:
    stream, _ = make_stream(1 << 20)
    line = b"y" * (512 * 1024) + b"\n"
    pieces = [line[i : i + 100] for i in range(0, len(line), 100)]

    async def produce() -> None:
        for i in range(0, len(pieces), 10):
            for p in pieces[i : i + 10]:
                stream.feed_data(p)
            await asyncio.sleep(0)

    start = time.perf_counter()
    task = asyncio.create_task(produce())
    assert await stream.readline() == line
    await task
    assert time.perf_counter() - start < 3


# -- EmptyStreamReader ----------------------------------------------------------------------------


async def test_empty_stream_reader() -> None:
    empty = EmptyStreamReader()
    assert isinstance(EMPTY_PAYLOAD, EmptyStreamReader)
    assert isinstance(empty, StreamReader)
    assert repr(empty) == "<EmptyStreamReader>"
    assert empty.is_eof()
    assert empty.at_eof()
    assert empty.exception() is None
    assert empty.total_bytes == 0
    assert empty.get_read_buffer_limits() == (0, 0)
    assert await empty.read() == b""
    assert await empty.read(10) == b""
    assert await empty.readany() == b""
    assert await empty.readline() == b""
    assert await empty.readuntil(b"x") == b""
    assert await empty.readchunk() == (b"", False)
    assert await empty.readexactly(0) == b""
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await empty.readexactly(3)
    assert info.value.partial == b""
    assert info.value.expected == 3
    assert empty.read_nowait() == b""
    await empty.wait_eof()
    empty.feed_data(b"ignored")
    empty.feed_eof()
    empty.set_exception(ValueError())
    empty.begin_http_chunk_receiving()
    empty.end_http_chunk_receiving()
    assert empty.exception() is None
    assert await empty.read() == b""
    with pytest.warns(DeprecationWarning):
        empty.unread_data(b"x")
    called = []
    empty.on_eof(lambda: called.append(1))
    assert called == [1]


async def test_empty_stream_reader_iterators_terminate() -> None:
    assert [x async for x in EMPTY_PAYLOAD] == []
    assert [x async for x in EMPTY_PAYLOAD.iter_any()] == []
    assert [x async for x in EMPTY_PAYLOAD.iter_chunked(4)] == []
    assert [x async for x in EMPTY_PAYLOAD.iter_chunks()] == []
    # Still the same after being iterated: the shared instance holds no state.
    assert await EMPTY_PAYLOAD.readchunk() == (b"", False)


# -- DataQueue ------------------------------------------------------------------------------------


async def test_data_queue_basic() -> None:
    q: DataQueue[str] = DataQueue(asyncio.get_running_loop())
    assert not q.is_eof()
    assert not q.at_eof()
    assert q.exception() is None
    q.feed_data("a")
    q.feed_data("b")
    assert len(q) == 2
    assert await q.read() == "a"
    q.feed_eof()
    assert q.is_eof()
    assert not q.at_eof()
    assert await q.read() == "b"
    assert q.at_eof()
    with pytest.raises(EofStream):
        await q.read()


async def test_data_queue_read_waits() -> None:
    q: DataQueue[int] = DataQueue(asyncio.get_running_loop())
    task = asyncio.create_task(q.read())
    await asyncio.sleep(0)
    assert not task.done()
    with pytest.raises(RuntimeError):
        await q.read()
    q.feed_data(1)
    assert await task == 1
    task = asyncio.create_task(q.read())
    await asyncio.sleep(0)
    q.feed_eof()
    with pytest.raises(EofStream):
        await task


async def test_data_queue_exception() -> None:
    q: DataQueue[int] = DataQueue(asyncio.get_running_loop())
    q.feed_data(1)
    exc = ValueError("broken")
    cause = OSError("root")
    q.set_exception(exc, cause)
    assert q.exception() is exc
    assert exc.__cause__ is cause
    assert q.is_eof()
    assert await q.read() == 1  # items before the error are delivered
    with pytest.raises(ValueError):
        await q.read()


async def test_data_queue_exception_wakes_reader() -> None:
    q: DataQueue[int] = DataQueue(asyncio.get_running_loop())
    task = asyncio.create_task(q.read())
    await asyncio.sleep(0)
    q.set_exception(ValueError("x"))
    with pytest.raises(ValueError):
        await task


async def test_data_queue_iteration_and_cancel() -> None:
    q: DataQueue[bytes] = DataQueue(asyncio.get_running_loop())
    task = asyncio.create_task(q.read())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async def produce() -> None:
        for item in (b"x", b"", b"z"):
            await asyncio.sleep(0)
            q.feed_data(item)
        q.feed_eof()

    ptask = asyncio.create_task(produce())
    assert [item async for item in q] == [b"x", b"", b"z"]
    await ptask
