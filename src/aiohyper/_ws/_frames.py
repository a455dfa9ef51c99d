"""WebSocket frames (RFC 6455 §5): a sans-I/O decoder and the frame builder.

Base framing (§5.2)::

     0                   1                   2                   3
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               | Masking-key, if MASK set to 1 |
    +-------------------------------+-------------------------------+
    | Masking-key (continued)       |          Payload Data         |
    +-------------------------------- - - - - - - - - - - - - - - - +

Rules `FrameDecoder` enforces, each failing with ``WebSocketError(1002)`` unless noted:

* RSV2/RSV3 must be 0; RSV1 only when permessage-deflate was negotiated, and only on the first
  frame of a data message (RFC 7692 §6.1).
* Opcodes 0x3-0x7 and 0xB-0xF are reserved.
* Control frames (close, ping, pong) have FIN set and at most 125 payload bytes (§5.5).
* A continuation frame needs a started message; a new text/binary frame needs none (§5.4).
* The 64-bit length has its most significant bit clear (§5.2). Non-minimal length encodings
  (e.g. 5 written on 16 bits) are accepted: the minimal form is a sender's duty that does not
  affect safety, and other stacks are lenient there too.
* Frames from a client are masked, frames from a server are not (§5.1), when ``masked`` is
  given.
* The message's wire size is checked against ``max_msg_size`` as soon as a frame header is
  read, before its payload is buffered: ``WebSocketError(1009)``.

After a Close frame the decoder ignores everything (§5.5.1: nothing follows a Close).
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from ._mask import websocket_mask
from ._models import WebSocketError, WSCloseCode

__all__ = (
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "FrameDecoder",
    "build_frame",
    "build_frame_header",
)

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

_FIN: Final = 0x80
_RSV1: Final = 0x40
_RSV23: Final = 0x30
_MASK_BIT: Final = 0x80
_MAX_CONTROL_PAYLOAD: Final = 125
_KNOWN_OPCODES: Final = frozenset(
    (OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG)
)

_U16: Final = struct.Struct("!H")
_U64: Final = struct.Struct("!Q")
_HEAD16: Final = struct.Struct("!BBH")
_HEAD64: Final = struct.Struct("!BBQ")


class Frame(NamedTuple):
    """One decoded frame; ``payload`` is already unmasked (``bytes`` or ``bytearray``)."""

    fin: bool
    opcode: int
    rsv1: bool
    payload: bytes | bytearray


def _protocol_error(message: str) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, message)


def compressed_wire_limit(max_msg_size: int) -> int:
    """Most wire bytes a compressed message may take when its content may be ``max_msg_size``.

    Incompressible data grows a little under deflate (zlib's ``deflateBound``: stored blocks
    and their headers), so a legitimate message at the limit must not be refused for its
    compressed size. The decompressed size is capped separately.
    """
    if not max_msg_size:
        return 0
    return max_msg_size + (max_msg_size >> 12) + (max_msg_size >> 14) + (max_msg_size >> 25) + 64


class FrameDecoder:
    """Turns received bytes into `Frame` objects, enforcing the framing rules of RFC 6455 §5.

    Sans-I/O: call `feed_data` with whatever arrived; it returns the frames completed by it and
    keeps any partial frame. ``masked`` is ``True`` on a server (clients must mask), ``False``
    on a client (servers must not), ``None`` to accept both. ``allow_rsv1`` is true when
    permessage-deflate was negotiated. ``max_msg_size`` bounds the wire size of one message
    (0: no bound). Errors raise `WebSocketError`; the decoder is then dead and raises the same
    error on every later call.
    """

    __slots__ = (
        "_allow_rsv1",
        "_closed",
        "_error",
        "_fragmented",
        "_masked",
        "_max_compressed",
        "_max_size",
        "_msg_compressed",
        "_msg_size",
        "_tail",
    )

    def __init__(
        self, *, max_msg_size: int = 4 * 1024 * 1024, masked: bool | None, allow_rsv1: bool
    ) -> None:
        self._max_size = max_msg_size
        self._max_compressed = compressed_wire_limit(max_msg_size)
        self._masked = masked
        self._allow_rsv1 = allow_rsv1
        self._tail = bytearray()
        # Inside a fragmented data message: its wire size so far, and whether it is compressed.
        self._fragmented = False
        self._msg_size = 0
        self._msg_compressed = False
        self._closed = False
        self._error: WebSocketError | None = None

    @property
    def closed(self) -> bool:
        """True once a Close frame was decoded (later bytes are ignored)."""
        return self._closed

    def feed_data(self, data: bytes | bytearray, frames: list[Frame] | None = None) -> list[Frame]:
        """Decode ``data`` (appended to any partial frame); return the completed frames.

        They are appended to ``frames`` when given, so that a caller catching the
        `WebSocketError` still has the frames that came before the error.
        """
        if self._error is not None:
            raise self._error
        if frames is None:
            frames = []
        if self._closed:
            return frames
        tail = self._tail
        buf: bytes | bytearray
        if tail:
            tail += data
            buf = tail
        else:
            buf = data
        try:
            pos = self._decode(buf, frames)
        except WebSocketError as exc:
            self._error = exc
            self._tail = bytearray()
            raise
        if buf is tail:
            if pos:
                del tail[:pos]
        elif pos < len(buf):
            tail += buf[pos:]
        return frames

    def _decode(self, buf: bytes | bytearray, frames: list[Frame]) -> int:
        """Append the complete frames of ``buf`` to ``frames``; return the bytes used."""
        # Hot loop: constants and attributes in locals, ints rather than enums.
        end = len(buf)
        pos = 0
        masked_rule = self._masked
        mask_bit = -1 if masked_rule is None else (_MASK_BIT if masked_rule else 0)
        max_size = self._max_size
        known = _KNOWN_OPCODES
        new_frame = tuple.__new__
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            opcode = b0 & 0x0F
            fin = b0 > 0x7F
            rsv1 = (b0 & _RSV1) != 0
            if b0 & _RSV23:
                raise _protocol_error("Received frame with non-zero reserved bits RSV2/RSV3")
            if opcode not in known:
                raise _protocol_error(f"Received frame with reserved opcode {opcode:#x}")
            is_masked = b1 > 0x7F
            if mask_bit >= 0 and b1 & _MASK_BIT != mask_bit:
                raise _protocol_error(
                    "Received unmasked frame from a client"
                    if mask_bit
                    else "Received masked frame from a server"
                )
            length = b1 & 0x7F
            head = 2
            if opcode & 0x8:
                # Control frame (§5.5).
                if not fin:
                    raise _protocol_error("Received fragmented control frame")
                if length > _MAX_CONTROL_PAYLOAD:
                    raise _protocol_error("Received control frame with payload over 125 bytes")
                if rsv1:
                    raise _protocol_error("Received control frame with RSV1 set")
            else:
                if opcode == OP_CONTINUATION:
                    if not self._fragmented:
                        raise _protocol_error("Received continuation frame without a message")
                    if rsv1:
                        raise _protocol_error("Received continuation frame with RSV1 set")
                elif self._fragmented:
                    raise _protocol_error(
                        "Received new data frame before the fragmented message ended"
                    )
                elif rsv1 and not self._allow_rsv1:
                    raise _protocol_error(
                        "Received frame with RSV1 set but no compression was negotiated"
                    )
                if length == 126:
                    if end - pos < 4:
                        break
                    length = _U16.unpack_from(buf, pos + 2)[0]
                    head = 4
                elif length == 127:
                    if end - pos < 10:
                        break
                    length = _U64.unpack_from(buf, pos + 2)[0]
                    if length >> 63:
                        raise _protocol_error("Received frame length with the high bit set")
                    head = 10
                if max_size:
                    self._check_size(opcode, rsv1, length)
            mask_at = pos + head
            if is_masked:
                head += 4
            total = head + length
            if end - pos < total:
                break
            start = pos + head
            payload: bytes | bytearray = buf[start : pos + total]
            if is_masked:
                payload = websocket_mask(buf[mask_at:start], payload)
            pos += total
            if opcode & 0x8:
                frames.append(new_frame(Frame, (fin, opcode, rsv1, payload)))
                if opcode == OP_CLOSE:
                    self._closed = True
                    return end  # whatever follows a Close is dropped
                continue
            # Commit the message state only now that the frame is complete.
            if opcode:
                self._msg_compressed = rsv1
                self._msg_size = length
            else:
                self._msg_size += length
            self._fragmented = not fin
            frames.append(new_frame(Frame, (fin, opcode, rsv1, payload)))
        return pos

    def _check_size(self, opcode: int, rsv1: bool, length: int) -> None:
        if opcode == OP_CONTINUATION:
            size = self._msg_size + length
            compressed = self._msg_compressed
        else:
            size = length
            compressed = rsv1
        limit = self._max_compressed if compressed else self._max_size
        if size > limit:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"Message size {size} exceeds limit {self._max_size}",
            )


def build_frame_header(opcode: int, length: int, *, fin: bool = True, rsv1: bool = False) -> bytes:
    """The head of an unmasked frame carrying ``length`` payload bytes (minimal length form)."""
    b0 = opcode | (_FIN if fin else 0) | (_RSV1 if rsv1 else 0)
    if length < 126:
        return bytes((b0, length))
    if length < 65536:
        return _HEAD16.pack(b0, 126, length)
    return _HEAD64.pack(b0, 127, length)


def build_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bytes | None = None,
) -> bytes:
    """Serialise one frame. ``mask`` is the 4-byte masking key (clients), ``None`` for none.

    Control frames must carry at most 125 bytes and FIN: ``ValueError`` otherwise.
    """
    length = len(payload)
    if opcode & 0x8 and (length > _MAX_CONTROL_PAYLOAD or not fin):
        raise ValueError("Control frames carry at most 125 bytes and cannot be fragmented")
    head = build_frame_header(opcode, length, fin=fin, rsv1=rsv1)
    if mask is None:
        return head + payload
    if len(mask) != 4:
        raise ValueError("The masking key is 4 bytes")
    head = bytes((head[0], head[1] | _MASK_BIT)) + head[2:]
    return head + mask + websocket_mask(mask, bytes(payload))
