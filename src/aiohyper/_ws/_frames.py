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
from collections.abc import Callable
from typing import Final, NamedTuple

from ._mask import apply_mask
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


#: What `FrameDecoder.decode` calls for each complete frame: ``(fin, opcode, rsv1, payload)``.
FrameSink = Callable[[bool, int, bool, bytes], object]

# Payloads at least this large are unmasked (or copied) through a memoryview of the received
# bytes rather than a slice of them: one copy of the payload instead of two.
_VIEW_MIN: Final = 1024


class FrameDecoder:
    """Turns received bytes into frames, enforcing the framing rules of RFC 6455 §5.

    Sans-I/O: call `decode` (or `feed_data`) with whatever arrived; completed frames go out at
    once and any partial frame is kept for the next call. ``masked`` is ``True`` on a server
    (clients must mask), ``False`` on a client (servers must not), ``None`` to accept both.
    ``allow_rsv1`` is true when permessage-deflate was negotiated. ``max_msg_size`` bounds the
    wire size of one message (0: no bound). Errors raise `WebSocketError`; the decoder is
    then dead and raises the same error on every later call.
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
        "_short_hi",
        "_short_lo",
        "_tail",
    )

    def __init__(
        self, *, max_msg_size: int = 4 * 1024 * 1024, masked: bool | None, allow_rsv1: bool
    ) -> None:
        self._max_size = max_msg_size
        self._max_compressed = compressed_wire_limit(max_msg_size)
        self._masked = masked
        self._allow_rsv1 = allow_rsv1
        # The start of a frame whose end has not arrived yet.
        self._tail = bytearray()
        # Inside a fragmented data message: its wire size so far, and whether it is compressed.
        self._fragmented = False
        self._msg_size = 0
        self._msg_compressed = False
        self._closed = False
        self._error: WebSocketError | None = None
        # The range of the second header byte of a short frame masked as the rule wants
        # (0x80 | length from a client, length from a server) and within the size limit:
        # such frames, when they are whole text/binary messages, take a fast path.
        short_max = min(max_msg_size, 125) if max_msg_size else 125
        if masked is None:
            self._short_lo, self._short_hi = 1, 0  # no fast path
        elif masked:
            self._short_lo, self._short_hi = 0x80, 0x80 | short_max
        else:
            self._short_lo, self._short_hi = 0, short_max

    @property
    def closed(self) -> bool:
        """True once a Close frame was decoded (later bytes are ignored)."""
        return self._closed

    def feed_data(
        self, data: bytes | bytearray | memoryview, frames: list[Frame] | None = None
    ) -> list[Frame]:
        """Decode ``data`` (appended to any partial frame); return the completed frames.

        They are appended to ``frames`` when given, so that a caller catching the
        `WebSocketError` still has the frames that came before the error.
        """
        if frames is None:
            frames = []
        append = frames.append
        new_frame = tuple.__new__

        def collect(fin: bool, opcode: int, rsv1: bool, payload: bytes) -> None:
            append(new_frame(Frame, (fin, opcode, rsv1, payload)))

        self.decode(data, collect)
        return frames

    def decode(self, data: bytes | bytearray | memoryview, on_frame: FrameSink) -> None:
        """Decode ``data`` (appended to any partial frame), calling ``on_frame(fin, opcode,
        rsv1, payload)`` for every frame it completes; ``payload`` is unmasked ``bytes`` (or
        a ``bytearray``). ``data`` may be a view of a buffer that is reused after the call:
        nothing refers to it afterwards.

        An error, from the framing rules or from ``on_frame``, is raised after the frames
        before it were handed over, and leaves the decoder dead.
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            return
        tail = self._tail
        buf: bytes | bytearray | memoryview
        if tail:
            tail += data
            buf = tail
        else:
            buf = data
        # Hot loop: constants and attributes in locals, ints rather than enums.
        end = len(buf)
        pos = 0
        masked_rule = self._masked
        max_size = self._max_size
        fragmented = self._fragmented
        short_lo = self._short_lo
        # Inside a fragmented message a new message is an error: no fast path.
        short_hi = -1 if fragmented else self._short_hi
        unmask = apply_mask
        # Slices of a bytearray or memoryview are copied into bytes: a payload never refers
        # to a buffer that its owner may reuse.
        not_bytes = type(buf) is not bytes
        view: memoryview | None = None
        payload: bytes | bytearray
        try:
            while end - pos >= 2:
                b0 = buf[pos]
                b1 = buf[pos + 1]
                if short_lo <= b1 <= short_hi and (b0 == 0x82 or b0 == 0x81):
                    # The common case: a whole text/binary message in one short frame, FIN
                    # set, no RSV bit, masked as it must be, within the size limit, outside
                    # a fragmented message.
                    if masked_rule:
                        start = pos + 6
                        stop = start + b1 - 0x80
                        if stop > end:
                            break
                        payload = unmask(buf[start:stop], buf[pos + 2 : start])
                    else:
                        start = pos + 2
                        stop = start + b1
                        if stop > end:
                            break
                        part = buf[start:stop]
                        payload = bytes(part) if not_bytes else part  # type: ignore[assignment]
                    pos = stop
                    on_frame(True, b0 - 0x80, False, payload)  # type: ignore[arg-type]
                    continue
                opcode = b0 & 0x0F
                fin = b0 > 0x7F
                rsv1 = (b0 & _RSV1) != 0
                length = b1 & 0x7F
                if b0 & _RSV23:
                    raise _protocol_error("Received frame with non-zero reserved bits RSV2/RSV3")
                if opcode not in _KNOWN_OPCODES:
                    raise _protocol_error(f"Received frame with reserved opcode {opcode:#x}")
                is_masked = b1 > 0x7F
                if masked_rule is not None and is_masked is not masked_rule:
                    raise _protocol_error(
                        "Received unmasked frame from a client"
                        if masked_rule
                        else "Received masked frame from a server"
                    )
                if opcode & 0x8:
                    # Control frame (§5.5).
                    if not fin:
                        raise _protocol_error("Received fragmented control frame")
                    if length > _MAX_CONTROL_PAYLOAD:
                        raise _protocol_error("Received control frame with payload over 125 bytes")
                    if rsv1:
                        raise _protocol_error("Received control frame with RSV1 set")
                elif opcode == OP_CONTINUATION:
                    if not fragmented:
                        raise _protocol_error("Received continuation frame without a message")
                    if rsv1:
                        raise _protocol_error("Received continuation frame with RSV1 set")
                elif fragmented:
                    raise _protocol_error(
                        "Received new data frame before the fragmented message ended"
                    )
                elif rsv1 and not self._allow_rsv1:
                    raise _protocol_error(
                        "Received frame with RSV1 set but no compression was negotiated"
                    )
                start = pos + 2
                if length > 125:
                    if length == 126:
                        if end - pos < 4:
                            break
                        length = (buf[start] << 8) | buf[start + 1]
                        start += 2
                    else:
                        if end - pos < 10:
                            break
                        length = _U64.unpack_from(buf, start)[0]
                        if length >> 63:
                            raise _protocol_error("Received frame length with the high bit set")
                        start += 8
                if max_size and (length > max_size or fragmented or rsv1):
                    self._check_size(opcode, rsv1, length)
                if is_masked:
                    start += 4
                stop = start + length
                if stop > end:
                    break
                if length < _VIEW_MIN:
                    if is_masked:
                        payload = unmask(buf[start:stop], buf[start - 4 : start])
                    else:
                        part = buf[start:stop]
                        payload = bytes(part) if not_bytes else part  # type: ignore[assignment]
                else:
                    # Straight out of the received bytes: one copy of the payload, not two.
                    if view is None:
                        view = memoryview(buf)
                    if is_masked:
                        payload = unmask(view[start:stop], view[start - 4 : start])
                    else:
                        payload = view[start:stop].tobytes()
                pos = stop
                if opcode & 0x8:
                    if opcode == OP_CLOSE:
                        self._closed = True
                        pos = end  # whatever follows a Close is dropped
                        on_frame(fin, opcode, rsv1, payload)  # type: ignore[arg-type]
                        break
                elif opcode:
                    if not fin:
                        # First fragment: the message state is committed only now that the
                        # frame is complete.
                        fragmented = self._fragmented = True
                        short_hi = -1
                        self._msg_compressed = rsv1
                        self._msg_size = length
                elif fin:
                    fragmented = self._fragmented = False
                    short_hi = self._short_hi
                else:
                    self._msg_size += length
                on_frame(fin, opcode, rsv1, payload)  # type: ignore[arg-type]
        except WebSocketError as exc:
            self._error = exc
            self._tail = bytearray()
            raise
        finally:
            if view is not None:
                view.release()
        if buf is tail:
            if pos:
                del tail[:pos]
        elif pos < end:
            tail += memoryview(buf)[pos:]

    def _check_size(self, opcode: int, rsv1: bool, length: int) -> None:
        if opcode == OP_CONTINUATION:
            size = self._msg_size + length
            compressed = self._msg_compressed
        elif opcode & 0x8:
            return
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
    return head + mask + apply_mask(payload, mask)
