"""Masking (RFC 6455 §5.3) against a byte-by-byte reference."""

from __future__ import annotations

import os

from hypothesis import given, settings, strategies as st

from aiohyper._ws._mask import _INT_PATH_MAX, websocket_mask


def reference_mask(mask: bytes, data: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def test_rfc_example() -> None:
    # RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
    assert websocket_mask(bytes.fromhex("37fa213d"), b"Hello") == bytes.fromhex("7f9f4d5158")


def test_empty() -> None:
    assert websocket_mask(b"abcd", b"") == b""


@given(mask=st.binary(min_size=4, max_size=4), data=st.binary(max_size=300))
def test_matches_reference_small(mask: bytes, data: bytes) -> None:
    assert websocket_mask(mask, data) == reference_mask(mask, data)


@settings(max_examples=30)
@given(
    mask=st.binary(min_size=4, max_size=4),
    size=st.integers(min_value=_INT_PATH_MAX - 8, max_value=_INT_PATH_MAX * 3),
)
def test_matches_reference_large(mask: bytes, size: int) -> None:
    # Both sides of the size switch between the integer and the translate paths.
    data = os.urandom(size)
    assert bytes(websocket_mask(mask, data)) == reference_mask(mask, data)


def test_bytearray_input_and_involution() -> None:
    mask = os.urandom(4)
    for size in (1, 3, 4, 5, 1000, _INT_PATH_MAX, _INT_PATH_MAX + 1, 100_003):
        data = bytearray(os.urandom(size))
        masked = websocket_mask(mask, data)
        assert len(masked) == size
        assert bytes(websocket_mask(mask, bytes(masked))) == data


def test_leading_zero_bytes_are_kept() -> None:
    # The integer path must not drop the high zero bytes of the result.
    mask = b"\x00\x00\x00\x00"
    assert websocket_mask(mask, b"\x00" * 10) == b"\x00" * 10
    assert websocket_mask(b"\x01\x02\x03\x04", b"\x01\x02\x03\x04") == b"\x00" * 4
