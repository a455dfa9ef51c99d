"""Message decoding: assembly, UTF-8, close frames, permessage-deflate (RFC 6455, RFC 7692)."""

from __future__ import annotations

import tracemalloc
import zlib

import pytest
from hypothesis import given, settings, strategies as st

from aiohyper._ws import WebSocketError, WebSocketParser, WSMessage, WSMsgType
from aiohyper._ws._deflate import MessageCompressor
from aiohyper._ws._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    build_frame,
)

TEXT, BINARY, CLOSE = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CLOSE


def parse(data: bytes, **kwargs: object) -> list[WSMessage]:
    return WebSocketParser(**kwargs).feed_data(data)  # type: ignore[arg-type]


def fails(data: bytes, code: int, **kwargs: object) -> WebSocketError:
    parser = WebSocketParser(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(WebSocketError) as info:
        parser.feed_data(data)
    assert info.value.code == code
    with pytest.raises(WebSocketError):
        parser.feed_data(build_frame(OP_TEXT, b"after"))
    return info.value


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


# --- plain messages -----------------------------------------------------------------------


def test_text_and_binary() -> None:
    data = build_frame(OP_TEXT, "héllo".encode()) + build_frame(OP_BINARY, b"\x00\xff")
    assert parse(data) == [(TEXT, "héllo", None), (BINARY, b"\x00\xff", None)]


def test_binary_data_is_bytes_even_from_a_split_feed() -> None:
    parser = WebSocketParser()
    frame = build_frame(OP_BINARY, b"abcdef", mask=b"1234")
    assert parser.feed_data(frame[:3]) == []
    (msg,) = parser.feed_data(frame[3:])
    assert type(msg.data) is bytes and msg.data == b"abcdef"


def test_ping_pong_payloads() -> None:
    data = build_frame(OP_PING, b"p1") + build_frame(OP_PONG, b"")
    assert parse(data) == [(WSMsgType.PING, b"p1", None), (WSMsgType.PONG, b"", None)]
    assert all(type(m.data) is bytes for m in parse(data))


def test_fragmented_message_with_interleaved_control_frames() -> None:
    data = (
        build_frame(OP_BINARY, b"ab", fin=False)
        + build_frame(OP_PING, b"1")
        + build_frame(OP_CONTINUATION, b"", fin=False)
        + build_frame(OP_CONTINUATION, b"cd", fin=False)
        + build_frame(OP_PONG, b"2")
        + build_frame(OP_CONTINUATION, b"ef")
    )
    assert parse(data) == [
        (WSMsgType.PING, b"1", None),
        (WSMsgType.PONG, b"2", None),
        (BINARY, b"abcdef", None),
    ]


def test_empty_messages() -> None:
    data = build_frame(OP_TEXT, b"") + build_frame(OP_BINARY, b"")
    data += build_frame(OP_TEXT, b"", fin=False) + build_frame(OP_CONTINUATION, b"")
    assert parse(data) == [(TEXT, "", None), (BINARY, b"", None), (TEXT, "", None)]


def test_messages_before_an_error_are_kept() -> None:
    messages: list[WSMessage] = []
    with pytest.raises(WebSocketError):
        WebSocketParser().feed_data(build_frame(OP_TEXT, b"ok") + b"\x83\x00", messages)
    assert messages == [(TEXT, "ok", None)]


# --- UTF-8 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff",
        b"\xc0\x80",  # overlong NUL
        b"\xed\xa0\x80",  # UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"caf\xc3",  # truncated at the end
    ],
)
def test_invalid_utf8_text(payload: bytes) -> None:
    fails(build_frame(OP_TEXT, payload), 1007)
    # Same, split over fragments.
    fails(
        build_frame(OP_TEXT, payload[:1], fin=False) + build_frame(OP_CONTINUATION, payload[1:]),
        1007,
    )


def test_utf8_character_split_across_fragments() -> None:
    text = "κόσμε €𝄞"
    raw = text.encode()
    for cut in range(len(raw) + 1):
        data = build_frame(OP_TEXT, raw[:cut], fin=False) + build_frame(OP_CONTINUATION, raw[cut:])
        assert parse(data) == [(TEXT, text, None)]


def test_invalid_utf8_fails_fast_on_first_fragment() -> None:
    # "κόσμε" followed by an impossible sequence, in a fragment without FIN.
    parser = WebSocketParser()
    first = build_frame(OP_TEXT, "κόσμε".encode() + b"\xf4\x90", fin=False)
    with pytest.raises(WebSocketError) as info:
        parser.feed_data(first)
    assert info.value.code == 1007


def test_valid_prefix_waits_for_more() -> None:
    parser = WebSocketParser()
    assert parser.feed_data(build_frame(OP_TEXT, b"ok\xe2\x82", fin=False)) == []
    assert parser.feed_data(build_frame(OP_CONTINUATION, b"\xac")) == [(TEXT, "ok€", None)]


# --- close frames -------------------------------------------------------------------------


def test_close_with_code_and_reason() -> None:
    (msg,) = parse(build_frame(OP_CLOSE, b"\x03\xe8" + "bye ☃".encode()))
    assert msg.type is CLOSE and msg.data == 1000 and msg.extra == "bye ☃"


def test_empty_close_is_no_status_received() -> None:
    assert parse(build_frame(OP_CLOSE, b"")) == [(CLOSE, 1005, "")]


def test_one_byte_close_refused() -> None:
    fails(build_frame(OP_CLOSE, b"\x03"), 1002)


@pytest.mark.parametrize(
    "code",
    [
        1000,
        1001,
        1002,
        1003,
        1007,
        1008,
        1009,
        1010,
        1011,
        1012,
        1013,
        1014,
        3000,
        3999,
        4000,
        4999,
    ],
)
def test_valid_close_codes(code: int) -> None:
    assert parse(build_frame(OP_CLOSE, code.to_bytes(2, "big"))) == [(CLOSE, code, "")]


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_invalid_close_codes(code: int) -> None:
    fails(build_frame(OP_CLOSE, code.to_bytes(2, "big")), 1002)


def test_close_reason_must_be_utf8() -> None:
    fails(build_frame(OP_CLOSE, b"\x03\xe8\xff"), 1007)


# --- RFC 7692 §7.2.3 examples, byte for byte ----------------------------------------------


def test_rfc7692_single_compressed_message() -> None:
    # §7.2.3.1: "Hello" in one compressed DEFLATE block.
    wire = bytes.fromhex("c107f248cdc9c90700")
    assert parse(wire, compress=True) == [(TEXT, "Hello", None)]
    assert build_frame(OP_TEXT, MessageCompressor().compress(b"Hello"), rsv1=True) == wire


def test_rfc7692_compressed_message_in_fragments() -> None:
    # §7.2.3.1, fragmented: RSV1 only on the first fragment.
    wire = bytes.fromhex("4103f248cd") + bytes.fromhex("8004c9c90700")
    assert parse(wire, compress=True) == [(TEXT, "Hello", None)]


def test_rfc7692_sliding_window_shared() -> None:
    # §7.2.3.2: the second "Hello" is a back-reference into the first.
    first, second = bytes.fromhex("c107f248cdc9c90700"), bytes.fromhex("c105f200110000")
    parser = WebSocketParser(compress=True)
    assert parser.feed_data(first) == [(TEXT, "Hello", None)]
    assert parser.feed_data(second) == [(TEXT, "Hello", None)]
    compressor = MessageCompressor()
    assert build_frame(OP_TEXT, compressor.compress(b"Hello"), rsv1=True) == first
    assert build_frame(OP_TEXT, compressor.compress(b"Hello"), rsv1=True) == second


def test_rfc7692_no_context_takeover_repeats_the_first_form() -> None:
    compressor = MessageCompressor(no_context_takeover=True)
    assert compressor.compress(b"Hello") == bytes.fromhex("f248cdc9c90700")
    assert compressor.compress(b"Hello") == bytes.fromhex("f248cdc9c90700")


def test_rfc7692_stored_block() -> None:
    # §7.2.3.3: a DEFLATE block with no compression.
    assert parse(bytes.fromhex("c10b000500faff48656c6c6f00"), compress=True) == [
        (TEXT, "Hello", None)
    ]


def test_rfc7692_bfinal_block_then_a_new_stream() -> None:
    # §7.2.3.4: BFINAL set; the next message starts a fresh DEFLATE stream.
    parser = WebSocketParser(compress=True)
    assert parser.feed_data(bytes.fromhex("c108f348cdc9c9070000")) == [(TEXT, "Hello", None)]
    assert parser.feed_data(bytes.fromhex("c107f248cdc9c90700")) == [(TEXT, "Hello", None)]


def test_rfc7692_two_blocks_in_one_message() -> None:
    # §7.2.3.5: "He" then "llo" in two DEFLATE blocks.
    wire = bytes.fromhex("c10df24805000000ffffcac9c90700")
    assert parse(wire, compress=True) == [(TEXT, "Hello", None)]


def test_rfc7692_empty_compressed_message() -> None:
    # §7.2.3.6: an empty message compresses to the single byte 0x00.
    assert MessageCompressor().compress(b"") == b"\x00"
    assert parse(bytes.fromhex("c10100"), compress=True) == [(TEXT, "", None)]
    assert parse(bytes.fromhex("c100"), compress=True) == [(TEXT, "", None)]


def test_uncompressed_message_on_a_compressed_connection() -> None:
    assert parse(build_frame(OP_BINARY, b"raw"), compress=True) == [(BINARY, b"raw", None)]


def test_rsv1_refused_without_negotiation() -> None:
    fails(bytes.fromhex("c107f248cdc9c90700"), 1002)


def test_corrupt_compressed_data() -> None:
    fails(build_frame(OP_BINARY, b"\xff\xff\xff\xff", rsv1=True), 1007, compress=True)


def test_compressed_invalid_utf8() -> None:
    fails(build_frame(OP_TEXT, deflate(b"ok\xff"), rsv1=True), 1007, compress=True)


@settings(max_examples=40, deadline=None)
@given(
    messages=st.lists(st.binary(max_size=3000), min_size=1, max_size=6),
    notakeover=st.booleans(),
    fragment=st.integers(min_value=1, max_value=50),
)
def test_compressed_round_trips(messages: list[bytes], notakeover: bool, fragment: int) -> None:
    compressor = MessageCompressor(no_context_takeover=notakeover)
    parser = WebSocketParser(compress=True)
    for message in messages:
        payload = compressor.compress(message)
        # Fragment the compressed payload: RSV1 on the first frame only.
        parts = [payload[i : i + fragment] for i in range(0, len(payload), fragment)] or [b""]
        wire = b""
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            wire += build_frame(
                OP_BINARY if i == 0 else OP_CONTINUATION, part, fin=last, rsv1=i == 0
            )
        assert parser.feed_data(wire) == [(BINARY, message, None)]


# --- size limits and bombs ----------------------------------------------------------------


def test_decompressed_size_limit_exact() -> None:
    ok = build_frame(OP_BINARY, deflate(bytes(1000)), rsv1=True)
    assert parse(ok, compress=True, max_msg_size=1000) == [(BINARY, bytes(1000), None)]
    over = build_frame(OP_BINARY, deflate(bytes(1001)), rsv1=True)
    fails(over, 1009, compress=True, max_msg_size=1000)


def test_decompressed_size_limit_across_fragments() -> None:
    payload = deflate(bytes(5000))
    wire = build_frame(OP_TEXT, payload[:5], fin=False, rsv1=True) + build_frame(
        OP_CONTINUATION, payload[5:]
    )
    fails(wire, 1009, compress=True, max_msg_size=4999)
    assert parse(wire, compress=True, max_msg_size=5000) == [(TEXT, "\x00" * 5000, None)]


def test_uncompressed_limit() -> None:
    fails(build_frame(OP_TEXT, bytes(11)), 1009, max_msg_size=10)
    assert len(parse(build_frame(OP_TEXT, bytes(10)), max_msg_size=10)) == 1


def test_unlimited() -> None:
    big = build_frame(OP_BINARY, deflate(bytes(5 * 2**20)), rsv1=True)
    assert parse(big, compress=True, max_msg_size=0)[0].data == bytes(5 * 2**20)


def test_deflate_bomb_is_stopped_early() -> None:
    # 64 MiB of zeros deflate to ~64 KiB; with a 1 MiB limit nothing near 64 MiB is allocated.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(64 * 2**20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    wire = build_frame(OP_BINARY, bomb[:-4], rsv1=True)
    assert len(wire) < 128 * 1024
    tracemalloc.start()
    try:
        fails(wire, 1009, compress=True, max_msg_size=2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_fragmented_deflate_bomb() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(16 * 2**20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    payload = bomb[:-4]
    wire = build_frame(OP_BINARY, payload[:100], fin=False, rsv1=True)
    for i in range(100, len(payload), 1000):
        wire += build_frame(OP_CONTINUATION, payload[i : i + 1000], fin=False)
    wire += build_frame(OP_CONTINUATION, b"")
    fails(wire, 1009, compress=True, max_msg_size=2**20)
