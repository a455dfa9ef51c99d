"""Frame decoding and building (RFC 6455 §5), from plain bytes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from aiohyper._ws import WebSocketError
from aiohyper._ws._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    FrameDecoder,
    build_frame,
    build_frame_header,
    compressed_wire_limit,
)

MASK = bytes.fromhex("37fa213d")


def decoder(
    *, masked: bool | None = None, allow_rsv1: bool = False, max_msg_size: int = 4 * 2**20
) -> FrameDecoder:
    return FrameDecoder(max_msg_size=max_msg_size, masked=masked, allow_rsv1=allow_rsv1)


def decode(data: bytes, **kwargs: object) -> list[Frame]:
    return decoder(**kwargs).feed_data(data)  # type: ignore[arg-type]


def fails(data: bytes, code: int, **kwargs: object) -> WebSocketError:
    dec = decoder(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(WebSocketError) as info:
        dec.feed_data(data)
    assert info.value.code == code
    # The decoder is dead: the same error again, whatever comes next.
    with pytest.raises(WebSocketError) as again:
        dec.feed_data(b"\x81\x00")
    assert again.value is info.value
    return info.value


# --- RFC 6455 §5.7 examples ---------------------------------------------------------------


def test_rfc_single_frame_unmasked_text() -> None:
    data = bytes.fromhex("810548656c6c6f")
    assert decode(data, masked=False) == [Frame(True, OP_TEXT, False, b"Hello")]
    assert build_frame(OP_TEXT, b"Hello") == data


def test_rfc_single_frame_masked_text() -> None:
    data = bytes.fromhex("818537fa213d7f9f4d5158")
    assert decode(data, masked=True) == [Frame(True, OP_TEXT, False, b"Hello")]
    assert build_frame(OP_TEXT, b"Hello", mask=MASK) == data


def test_rfc_fragmented_unmasked_text() -> None:
    data = bytes.fromhex("010348656c") + bytes.fromhex("80026c6f")
    assert decode(data) == [
        Frame(False, OP_TEXT, False, b"Hel"),
        Frame(True, OP_CONTINUATION, False, b"lo"),
    ]
    assert build_frame(OP_TEXT, b"Hel", fin=False) + build_frame(OP_CONTINUATION, b"lo") == data


def test_rfc_ping_and_masked_pong() -> None:
    ping = bytes.fromhex("890548656c6c6f")
    pong = bytes.fromhex("8a8537fa213d7f9f4d5158")
    assert decode(ping) == [Frame(True, OP_PING, False, b"Hello")]
    assert decode(pong) == [Frame(True, OP_PONG, False, b"Hello")]
    assert build_frame(OP_PING, b"Hello") == ping
    assert build_frame(OP_PONG, b"Hello", mask=MASK) == pong


def test_rfc_256_bytes_binary() -> None:
    payload = bytes(range(256))
    data = b"\x82\x7e\x01\x00" + payload
    assert decode(data) == [Frame(True, OP_BINARY, False, payload)]
    assert build_frame(OP_BINARY, payload) == data


def test_rfc_64k_binary() -> None:
    payload = b"x" * 65536
    data = b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00" + payload
    assert decode(data) == [Frame(True, OP_BINARY, False, payload)]
    assert build_frame(OP_BINARY, payload) == data


# --- lengths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "head_len"),
    [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (100_000, 10)],
)
def test_length_encodings_round_trip(length: int, head_len: int) -> None:
    payload = bytes(length)
    frame = build_frame(OP_BINARY, payload)
    assert len(frame) == head_len + length
    assert decode(frame) == [Frame(True, OP_BINARY, False, payload)]
    assert build_frame_header(OP_BINARY, length) == frame[:head_len]


def test_non_minimal_lengths_are_accepted() -> None:
    # 5 bytes announced on 16 and on 64 bits: the minimal form is the sender's duty only.
    assert decode(b"\x82\x7e\x00\x05hello") == [Frame(True, OP_BINARY, False, b"hello")]
    assert decode(b"\x82\x7f" + struct.pack("!Q", 5) + b"hello") == [
        Frame(True, OP_BINARY, False, b"hello")
    ]


def test_64_bit_length_high_bit_is_refused() -> None:
    exc = fails(b"\x82\x7f" + struct.pack("!Q", 1 << 63), 1002, max_msg_size=0)
    assert "high bit" in str(exc)


# --- reserved bits and opcodes ------------------------------------------------------------


@pytest.mark.parametrize("bits", [0x20, 0x10, 0x30])
def test_rsv2_rsv3_refused(bits: int) -> None:
    fails(bytes((0x81 | bits, 0)), 1002, allow_rsv1=True)


def test_rsv1_needs_negotiated_compression() -> None:
    fails(b"\xc1\x00", 1002)
    assert decode(b"\xc1\x01x", allow_rsv1=True) == [Frame(True, OP_TEXT, True, b"x")]


def test_rsv1_only_on_first_frame() -> None:
    fails(b"\x41\x01a\xc0\x01b", 1002, allow_rsv1=True)


def test_rsv1_on_control_frame_refused() -> None:
    fails(b"\xc9\x00", 1002, allow_rsv1=True)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_refused(opcode: int) -> None:
    fails(bytes((0x80 | opcode, 0)), 1002)


# --- control frames -----------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [OP_CLOSE, OP_PING, OP_PONG])
def test_fragmented_control_frame_refused(opcode: int) -> None:
    fails(bytes((opcode, 0)), 1002)


@pytest.mark.parametrize("opcode", [OP_CLOSE, OP_PING, OP_PONG])
def test_control_frame_over_125_bytes_refused(opcode: int) -> None:
    fails(bytes((0x80 | opcode, 126, 0, 126)) + bytes(126), 1002)
    # Refused from the header alone, before the payload arrives.
    fails(bytes((0x80 | opcode, 126)), 1002)


def test_control_frame_of_125_bytes_accepted() -> None:
    assert decode(b"\x89\x7d" + bytes(125)) == [Frame(True, OP_PING, False, bytes(125))]


def test_control_frames_between_fragments() -> None:
    data = (
        build_frame(OP_TEXT, b"a", fin=False)
        + build_frame(OP_PING, b"p")
        + build_frame(OP_CONTINUATION, b"b", fin=False)
        + build_frame(OP_PONG, b"q")
        + build_frame(OP_CONTINUATION, b"c")
    )
    assert [(f.opcode, f.payload) for f in decode(data)] == [
        (OP_TEXT, b"a"),
        (OP_PING, b"p"),
        (OP_CONTINUATION, b"b"),
        (OP_PONG, b"q"),
        (OP_CONTINUATION, b"c"),
    ]


def test_build_frame_refuses_bad_control_frames() -> None:
    with pytest.raises(ValueError):
        build_frame(OP_PING, bytes(126))
    with pytest.raises(ValueError):
        build_frame(OP_CLOSE, b"", fin=False)
    with pytest.raises(ValueError):
        build_frame(OP_TEXT, b"", mask=b"abc")


# --- fragmentation sequence ---------------------------------------------------------------


def test_continuation_without_message_refused() -> None:
    fails(b"\x80\x01a", 1002)


def test_new_message_inside_fragmented_message_refused() -> None:
    fails(b"\x01\x01a\x81\x01b", 1002)
    fails(b"\x01\x01a\x02\x01b", 1002)


def test_continuation_after_finished_message_refused() -> None:
    fails(b"\x01\x01a\x80\x01b\x80\x01c", 1002)


# --- masking rules ------------------------------------------------------------------------


def test_server_requires_masked_frames() -> None:
    exc = fails(build_frame(OP_TEXT, b"hi"), 1002, masked=True)
    assert "unmasked" in str(exc)


def test_client_refuses_masked_frames() -> None:
    exc = fails(build_frame(OP_TEXT, b"hi", mask=MASK), 1002, masked=False)
    assert "masked" in str(exc)


def test_lenient_mode_accepts_both() -> None:
    data = build_frame(OP_TEXT, b"hi", mask=MASK) + build_frame(OP_TEXT, b"ho")
    assert [f.payload for f in decode(data)] == [b"hi", b"ho"]


def test_control_frames_follow_masking_rules_too() -> None:
    fails(build_frame(OP_PING, b""), 1002, masked=True)


# --- sizes --------------------------------------------------------------------------------


def test_frame_over_limit_refused_from_its_header() -> None:
    # Only the header: the 1 MiB payload is never buffered.
    head = build_frame_header(OP_BINARY, 2**20)
    exc = fails(head, 1009, max_msg_size=1000)
    assert "1000" in str(exc)


def test_frame_at_limit_accepted() -> None:
    assert decode(build_frame(OP_BINARY, bytes(1000)), max_msg_size=1000)[0].payload == bytes(1000)


def test_fragments_over_limit_refused_on_the_header_of_the_last() -> None:
    dec = decoder(max_msg_size=1000)
    dec.feed_data(build_frame(OP_BINARY, bytes(600), fin=False))
    with pytest.raises(WebSocketError) as info:
        dec.feed_data(build_frame_header(OP_CONTINUATION, 401))
    assert info.value.code == 1009


def test_new_message_resets_the_size() -> None:
    dec = decoder(max_msg_size=1000)
    for _ in range(5):
        assert len(dec.feed_data(build_frame(OP_BINARY, bytes(1000)))) == 1


def test_zero_means_unlimited() -> None:
    assert len(decode(build_frame_header(OP_BINARY, 1 << 40), max_msg_size=0)) == 0


def test_compressed_messages_get_deflate_overhead() -> None:
    limit = compressed_wire_limit(1000)
    assert limit > 1000
    ok = build_frame(OP_BINARY, bytes(limit), rsv1=True)
    assert len(decode(ok, allow_rsv1=True, max_msg_size=1000)) == 1
    fails(
        build_frame_header(OP_BINARY, limit + 1, rsv1=True),
        1009,
        allow_rsv1=True,
        max_msg_size=1000,
    )


def test_control_frames_do_not_count_towards_message_size() -> None:
    dec = decoder(max_msg_size=10)
    dec.feed_data(build_frame(OP_BINARY, bytes(10), fin=False)[:-1])
    frames = dec.feed_data(b"\x00" + build_frame(OP_PING, bytes(100)))
    assert [f.opcode for f in frames] == [OP_BINARY, OP_PING]
    assert dec.feed_data(build_frame(OP_CONTINUATION, b""))[0].fin


# --- close --------------------------------------------------------------------------------


def test_bytes_after_close_are_ignored() -> None:
    dec = decoder()
    frames = dec.feed_data(build_frame(OP_CLOSE, b"\x03\xe8") + b"\xff\xff garbage")
    assert [f.opcode for f in frames] == [OP_CLOSE]
    assert dec.closed
    assert dec.feed_data(b"\x81\x01x") == []


def test_frames_before_an_error_are_kept() -> None:
    frames: list[Frame] = []
    with pytest.raises(WebSocketError):
        decoder().feed_data(build_frame(OP_TEXT, b"ok") + b"\x83\x00", frames)
    assert frames == [Frame(True, OP_TEXT, False, b"ok")]


# --- split feeds --------------------------------------------------------------------------

_frame_specs = st.lists(
    st.tuples(
        st.sampled_from([OP_TEXT, OP_BINARY, OP_PING, OP_PONG]),
        st.one_of(st.binary(max_size=130), st.integers(min_value=126, max_value=70_000)),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


def _stream(specs: list[tuple[int, bytes | int, bool]]) -> tuple[bytes, list[Frame]]:
    wire = b""
    expected = []
    for opcode, payload, masked in specs:
        if isinstance(payload, int):
            payload = bytes([payload & 0xFF]) * payload
        if opcode & 0x8:
            payload = payload[:125]
        wire += build_frame(opcode, payload, mask=MASK if masked else None)
        expected.append(Frame(True, opcode, False, payload))
    return wire, expected


@settings(max_examples=60, deadline=None)
@given(specs=_frame_specs, cuts=st.lists(st.integers(min_value=0, max_value=200_000), max_size=8))
def test_split_feeds_give_the_same_frames(
    specs: list[tuple[int, bytes | int, bool]], cuts: list[int]
) -> None:
    wire, expected = _stream(specs)
    points = sorted({c % (len(wire) + 1) for c in cuts})
    dec = decoder()
    frames: list[Frame] = []
    start = 0
    for point in [*points, len(wire)]:
        frames.extend(dec.feed_data(wire[start:point]))
        start = point
    assert [(f.opcode, bytes(f.payload)) for f in frames] == [
        (f.opcode, f.payload) for f in expected
    ]


def test_byte_by_byte_feed() -> None:
    wire, expected = _stream([(OP_TEXT, b"hello", True), (OP_BINARY, 300, False)])
    dec = decoder()
    frames: list[Frame] = []
    for i in range(len(wire)):
        frames.extend(dec.feed_data(wire[i : i + 1]))
    assert [bytes(f.payload) for f in frames] == [f.payload for f in expected]
