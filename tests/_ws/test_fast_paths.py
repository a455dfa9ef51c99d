"""The speed-ups of the WebSocket codec give the same results as the plain paths.

* the optional C masking accelerator (``websockets.speedups``) against the pure-Python mask,
  and the whole codec run on the pure-Python mask too;
* the decoder's fast path (short, whole, correctly masked text/binary frames) against its
  general path (``masked=None`` never takes the fast path);
* the message queue's synchronous read and its flow control, and ``receive()`` taking queued
  messages without waiting.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from aiohyper._ws import (
    FrameDecoder,
    WebSocketDataQueue,
    WebSocketError,
    WebSocketParser,
    WebSocketReader,
    WebSocketWriter,
    WSMessage,
    WSMsgType,
    _frames,
    _mask,
    _writer,
)
from aiohyper._ws._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    Frame,
    build_frame,
)
from aiohyper.base_protocol import BaseProtocol


def reference_mask(mask: bytes, data: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@pytest.fixture(params=["accelerated", "python"])
def mask_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with the mask the codec picked, then with the pure-Python one."""
    if request.param == "accelerated":
        if not _mask.ACCELERATED:
            pytest.skip("the websockets C accelerator is not installed")
    else:
        monkeypatch.setattr(_frames, "apply_mask", _mask.python_apply_mask)
        monkeypatch.setattr(_writer, "apply_mask", _mask.python_apply_mask)
    yield request.param


# --- masking ----------------------------------------------------------------------------------


_SIZES = st.one_of(st.integers(0, 300), st.integers(4000, 5000), st.just(70_001))


@settings(max_examples=60, deadline=None)
@given(
    mask=st.binary(min_size=4, max_size=4),
    size=_SIZES,
    offset=st.integers(0, 7),
    kind=st.sampled_from([bytes, bytearray, memoryview]),
)
def test_accelerator_matches_python(mask: bytes, size: int, offset: int, kind: type) -> None:
    if not _mask.ACCELERATED:
        pytest.skip("the websockets C accelerator is not installed")
    raw = os.urandom(size + offset)
    data: Any = kind(raw)[offset:]
    expected = _mask.python_apply_mask(raw[offset:], mask)
    assert _mask.apply_mask(data, mask) == expected
    assert _mask.apply_mask(data, bytearray(mask)) == expected
    assert bytes(expected) == reference_mask(mask, raw[offset:])


@pytest.mark.parametrize("size", [0, 1, 5, 4096, 4097, 65_536 + 3])
def test_python_mask_takes_memoryview_slices(size: int) -> None:
    mask = os.urandom(4)
    raw = os.urandom(size + 10)
    view = memoryview(raw)
    got = _mask.python_apply_mask(view[6 : 6 + size], view[2:6])
    assert bytes(got) == reference_mask(raw[2:6], raw[6 : 6 + size])
    assert bytes(_mask.websocket_mask(mask, raw)) == reference_mask(mask, raw)


def test_no_extensions_variable_turns_the_accelerator_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIOHYPER_NO_EXTENSIONS", "1")
    assert _mask._load_accelerator() is None
    monkeypatch.delenv("AIOHYPER_NO_EXTENSIONS")
    accelerator = _mask._load_accelerator()
    if _mask.ACCELERATED:
        assert accelerator is not None
    if accelerator is not None:
        assert accelerator(b"ab", b"\x01\x02\x03\x04") == b"``"


def test_loading_the_accelerator_leaves_the_websockets_package_importable() -> None:
    # The extension is loaded without its package; a later `import websockets` must still
    # see it as its own submodule.
    code = (
        "import sys, aiohyper._ws._mask as m\n"
        "assert 'websockets' not in sys.modules\n"
        "if m.ACCELERATED:\n"
        "    import websockets.speedups\n"
        "    assert websockets.speedups.apply_mask(b'ab', b'\\x01\\x02\\x03\\x04') == b'``'\n"
        "print(m.ACCELERATED)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(_mask.ACCELERATED)


# --- decoder: fast path against general path -------------------------------------------------


def _client_stream(specs: list[tuple[str, int]]) -> bytes:
    """Masked client frames: whole messages, fragmented ones, pings; some oversized."""
    wire = b""
    for kind, size in specs:
        payload = bytes([size & 0xFF]) * size
        key = os.urandom(4)
        if kind == "binary":
            wire += build_frame(OP_BINARY, payload, mask=key)
        elif kind == "text":
            wire += build_frame(OP_TEXT, b"a" * size, mask=key)
        elif kind == "ping":
            wire += build_frame(OP_PING, payload[:125], mask=key)
        elif kind == "fragments":
            wire += build_frame(OP_TEXT, b"x" * size, fin=False, mask=key)
            wire += build_frame(OP_PING, b"p", mask=key)
            wire += build_frame(OP_CONTINUATION, b"y" * size, mask=key)
        elif kind == "unmasked":
            wire += build_frame(OP_BINARY, payload)
        elif kind == "rsv1":
            wire += bytes([0xC2, 0x80 | min(size, 125)]) + key + payload[:125]
    return wire


def _run(decoder: FrameDecoder, wire: bytes, cuts: list[int]) -> tuple[list[Frame], Any]:
    frames: list[Frame] = []
    points = sorted({c % (len(wire) + 1) for c in cuts})
    start = 0
    try:
        for point in [*points, len(wire)]:
            decoder.feed_data(wire[start:point], frames)
            start = point
    except WebSocketError as exc:
        return frames, (exc.code, str(exc))
    return frames, None


@settings(max_examples=80, deadline=None)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(["binary", "binary", "text", "ping", "fragments", "unmasked", "rsv1"]),
            st.one_of(st.integers(0, 130), st.integers(1000, 1100)),
        ),
        min_size=1,
        max_size=8,
    ),
    cuts=st.lists(st.integers(0, 20_000), max_size=4),
    max_size=st.sampled_from([0, 20, 125, 126, 4 * 2**20]),
)
def test_fast_path_agrees_with_the_general_path(
    specs: list[tuple[str, int]], cuts: list[int], max_size: int
) -> None:
    wire = _client_stream(specs)
    fast = FrameDecoder(max_msg_size=max_size, masked=True, allow_rsv1=False)
    general = FrameDecoder(max_msg_size=max_size, masked=None, allow_rsv1=False)
    fast_frames, fast_error = _run(fast, wire, cuts)
    general_frames, general_error = _run(general, wire, cuts)
    if fast_error != general_error:
        # Only the server's decoder refuses unmasked frames: the same frames up to there.
        assert "unmasked" in [kind for kind, _ in specs]
        assert fast_error == (1002, "Received unmasked frame from a client")
        assert general_frames[: len(fast_frames)] == fast_frames
    else:
        assert fast_frames == general_frames


def test_fast_path_keeps_the_rules() -> None:
    key = b"\x01\x02\x03\x04"
    # Unmasked short frame from a client.
    with pytest.raises(WebSocketError, match="unmasked"):
        FrameDecoder(masked=True, allow_rsv1=False).feed_data(build_frame(OP_BINARY, b"x"))
    # Masked short frame from a server.
    with pytest.raises(WebSocketError, match="masked frame from a server"):
        FrameDecoder(masked=False, allow_rsv1=False).feed_data(
            build_frame(OP_BINARY, b"x", mask=key)
        )
    # A short frame over a small size limit.
    with pytest.raises(WebSocketError) as info:
        FrameDecoder(max_msg_size=10, masked=True, allow_rsv1=False).feed_data(
            build_frame(OP_TEXT, bytes(11), mask=key)
        )
    assert info.value.code == 1009
    # A new whole message inside a fragmented one.
    dec = FrameDecoder(masked=True, allow_rsv1=False)
    dec.feed_data(build_frame(OP_TEXT, b"a", fin=False, mask=key))
    with pytest.raises(WebSocketError, match="before the fragmented message ended"):
        dec.feed_data(build_frame(OP_BINARY, b"b", mask=key))


@pytest.mark.parametrize("size", [0, 125, 126, 1023, 1024, 65_535, 65_536, 200_000])
@pytest.mark.parametrize("split", [None, 1, 7, 1500])
def test_payload_sizes_and_splits(mask_impl: str, size: int, split: int | None) -> None:
    payload = os.urandom(size)
    key = os.urandom(4)
    wire = build_frame(OP_BINARY, payload, mask=key) + build_frame(OP_CLOSE, b"\x03\xe8", mask=key)
    chunks = [wire] if split is None else [wire[:split], wire[split:]]
    for masked in (True, None):
        decoder = FrameDecoder(max_msg_size=0, masked=masked, allow_rsv1=False)
        frames: list[Frame] = []
        for chunk in chunks:
            decoder.feed_data(chunk, frames)
        assert [bytes(f.payload) for f in frames] == [payload, b"\x03\xe8"]
    unmasked = build_frame(OP_BINARY, payload)
    chunks = [unmasked] if split is None else [unmasked[:split], unmasked[split:]]
    decoder = FrameDecoder(max_msg_size=0, masked=False, allow_rsv1=False)
    frames = []
    for chunk in chunks:
        decoder.feed_data(chunk, frames)
    assert [bytes(f.payload) for f in frames] == [payload]


def test_bytearray_input_is_not_kept_or_exported() -> None:
    # A large payload is unmasked through a memoryview of the input; the view must be gone
    # afterwards so that the caller (and the decoder's own tail) can resize their buffers.
    data = bytearray(build_frame(OP_BINARY, bytes(5000), mask=b"abcd"))
    decoder = FrameDecoder(masked=True, allow_rsv1=False)
    partial = decoder.feed_data(data[:3000])
    assert partial == []
    data += b"more"
    del data[:10]
    (frame,) = decoder.feed_data(
        build_frame(OP_BINARY, bytes(5000), mask=b"abcd")[3000:]
        + build_frame(OP_BINARY, bytes(2000), mask=b"abcd")[:1500]
    )
    assert frame.payload == bytes(5000)


# --- parser and writer on both masks ---------------------------------------------------------


@pytest.mark.parametrize("size", [0, 16, 125, 126, 5000, 70_000])
async def test_writer_output_parses_back(mask_impl: str, size: int) -> None:
    loop = asyncio.get_running_loop()
    written: list[bytes] = []

    class Sink(asyncio.Transport):
        def write(self, data: Any) -> None:
            written.append(bytes(data))

        def writelines(self, chunks: Any) -> None:
            written.append(b"".join(bytes(c) for c in chunks))

        def is_closing(self) -> bool:
            return False

    protocol = BaseProtocol(loop)
    transport = Sink()
    protocol.connection_made(transport)
    payload = os.urandom(size)
    text = "é" * (size // 2)
    for use_mask in (True, False):
        written.clear()
        writer = WebSocketWriter(protocol, transport, use_mask=use_mask)
        await writer.send_frame(payload, OP_BINARY)
        await writer.send_frame(text.encode(), OP_TEXT)
        await writer.ping(b"p" * min(size, 125))
        parser = WebSocketParser(masked=use_mask, max_msg_size=0)
        messages = parser.feed_data(b"".join(written))
        assert messages == [
            (WSMsgType.BINARY, payload, None),
            (WSMsgType.TEXT, text, None),
            (WSMsgType.PING, b"p" * min(size, 125), None),
        ]
        assert type(messages[0].data) is bytes


# --- queue and receive() ---------------------------------------------------------------------


class CountingProtocol(BaseProtocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def _message(data: bytes | str) -> WSMessage:
    kind = WSMsgType.TEXT if isinstance(data, str) else WSMsgType.BINARY
    return WSMessage(kind, data, None)


async def test_queue_resumes_only_what_it_paused() -> None:
    loop = asyncio.get_running_loop()
    protocol = CountingProtocol(loop)
    queue = WebSocketDataQueue(protocol, 10, loop=loop)
    queue.feed_data(_message(b"12345"))
    assert queue.read_nowait() == _message(b"12345")
    assert protocol.calls == []  # never paused: nothing to resume
    queue.feed_data(_message("123456"))
    queue.feed_data(_message(b"123456"))
    assert protocol.calls == ["pause"]
    assert (await queue.read()).data == "123456"
    assert protocol.calls == ["pause", "resume"]
    assert queue.read_nowait() == _message(b"123456")
    assert queue.read_nowait() is None
    assert protocol.calls == ["pause", "resume"]
    assert queue._size == 0


async def test_receive_takes_queued_messages_in_order(make_pair: Callable[..., Any]) -> None:
    pair = make_pair()
    reader: WebSocketReader = pair.server.frame_reader
    wire = b"".join(
        build_frame(op, data, mask=b"abcd")
        for op, data in [(OP_TEXT, b"one"), (OP_PING, b"hb"), (OP_BINARY, b"two")]
    )
    reader.feed_data(wire)
    assert len(pair.server.queue) == 3
    assert await pair.server.receive() == (WSMsgType.TEXT, "one", None)
    # The ping is answered and skipped; the next message comes straight from the queue.
    assert await pair.server.receive() == (WSMsgType.BINARY, b"two", None)
    assert not pair.server._ws_waiting
    assert len(pair.server.queue) == 0


async def test_receive_waits_when_nothing_is_queued(make_pair: Callable[..., Any]) -> None:
    pair = make_pair()
    receiving = asyncio.ensure_future(pair.server.receive())
    await asyncio.sleep(0)
    assert not receiving.done() and pair.server._ws_waiting
    await pair.client.send_bytes(b"late")
    assert await receiving == (WSMsgType.BINARY, b"late", None)
    assert not pair.server._ws_waiting


# --- input buffers that are reused -----------------------------------------------------------


@pytest.mark.parametrize("masked", [True, False])
@pytest.mark.parametrize("sizes", [[3, 16, 0], [125, 126, 2000, 70_000], [5, 1500]])
def test_reused_receive_buffer(mask_impl: str, masked: bool, sizes: list[int]) -> None:
    # A protocol may hand the reader a memoryview of its receive buffer and overwrite the
    # buffer after the call: no message may change afterwards.
    loop = asyncio.new_event_loop()
    try:
        queue = WebSocketDataQueue(BaseProtocol(loop), 2**30, loop=loop)
        reader = WebSocketReader(queue, 0, False, masked=masked)
        payloads = [os.urandom(size) for size in sizes]
        wire = b"".join(
            build_frame(OP_BINARY, p, mask=os.urandom(4) if masked else None) for p in payloads
        ) + build_frame(OP_TEXT, "fin☃".encode(), mask=b"wxyz" if masked else None)
        receive_buffer = bytearray(len(wire))
        for start in range(0, len(wire), 997):
            chunk = wire[start : start + 997]
            receive_buffer[: len(chunk)] = chunk
            assert reader.feed_data(memoryview(receive_buffer)[: len(chunk)]) == (False, b"")
            receive_buffer[:] = b"\xaa" * len(receive_buffer)  # the next read reuses it
        messages = [queue.read_nowait() for _ in range(len(sizes) + 1)]
        assert [m.data if m else None for m in messages] == [*payloads, "fin☃"]
        assert all(type(m.data) in (bytes, str) for m in messages if m)
    finally:
        loop.close()
