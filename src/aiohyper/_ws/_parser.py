"""The sans-I/O WebSocket message decoder: received bytes in, `WSMessage` objects out.

`WebSocketParser` stacks message assembly on `FrameDecoder` (which enforces the framing rules):

* fragments of a text/binary message are joined (RFC 6455 §5.4); control frames may arrive
  between them and come out at once, before the message they interrupt;
* compressed messages (RSV1, RFC 7692) are inflated fragment by fragment;
* text is validated as UTF-8 fragment by fragment, so an invalid prefix fails at once instead
  of after the whole message (§8.1): ``WebSocketError(1007)``;
* the message size limit applies to the decompressed size too: ``WebSocketError(1009)``;
* a Close payload is a 2-byte code plus a UTF-8 reason (§5.5.1); the code must be one a peer
  may send (§7.4): 1000-1003, 1007-1014 or 3000-4999, else ``WebSocketError(1002)``. An empty
  Close yields code 1005 ("no status received", §7.1.5).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Final

from ._deflate import MessageDecompressor
from ._frames import OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, FrameDecoder
from ._models import WebSocketError, WSCloseCode, WSMessage, WSMsgType

__all__ = ("NO_STATUS_RECEIVED", "WebSocketParser", "is_valid_close_code")

#: The close code reported for a Close frame without a payload (RFC 6455 §7.1.5).
NO_STATUS_RECEIVED: Final = 1005

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
_CLOSE: Final = WSMsgType.CLOSE
_Utf8Decoder: Final = codecs.getincrementaldecoder("utf-8")


def is_valid_close_code(code: int) -> bool:
    """Whether a peer may send ``code`` in a Close frame (RFC 6455 §7.4.1-§7.4.2)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _ignore(message: WSMessage) -> None:
    pass


def _invalid_utf8(exc: UnicodeDecodeError) -> WebSocketError:
    return WebSocketError(WSCloseCode.INVALID_TEXT, f"Invalid UTF-8 text message: {exc}")


class WebSocketParser:
    """Decodes the bytes a peer sends into messages (see the module docstring for the rules).

    ``masked``: ``True`` when parsing what a client sends (server side), ``False`` for what a
    server sends, ``None`` to accept both. ``compress``: permessage-deflate was negotiated.
    ``max_msg_size``: largest message, after decompression, in bytes (0: unlimited).
    `feed_data` raises `WebSocketError` with the close code to send; the parser is then dead.
    """

    __slots__ = (
        "_compressed",
        "_decompressor",
        "_max_size",
        "_opcode",
        "_parts",
        "_size",
        "_utf8",
        "deliver",
        "frames",
    )

    def __init__(
        self,
        *,
        max_msg_size: int = 4 * 1024 * 1024,
        masked: bool | None = None,
        compress: bool = False,
    ) -> None:
        self.frames = FrameDecoder(max_msg_size=max_msg_size, masked=masked, allow_rsv1=compress)
        self._max_size = max_msg_size
        self._decompressor: MessageDecompressor | None = (
            MessageDecompressor() if compress else None
        )
        #: Where `on_frame` hands the messages (set by `feed`; or set it once and drive
        #: ``frames.decode(data, on_frame)`` directly, as the connection's reader does).
        self.deliver: Callable[[WSMessage], object] = _ignore
        # The fragmented message being assembled: its opcode, compression, parts and size.
        self._opcode = 0
        self._compressed = False
        self._parts: list[bytes | bytearray] | list[str] = []
        self._size = 0
        self._utf8: codecs.IncrementalDecoder | None = None

    def feed_data(
        self, data: bytes | bytearray | memoryview, messages: list[WSMessage] | None = None
    ) -> list[WSMessage]:
        """Decode ``data``; return the messages it completed (possibly none).

        They are appended to ``messages`` when given, so that a caller catching the
        `WebSocketError` still has the messages that came before the error.
        """
        if messages is None:
            messages = []
        self.feed(data, messages.append)
        return messages

    def feed(
        self, data: bytes | bytearray | memoryview, deliver: Callable[[WSMessage], object]
    ) -> None:
        """Decode ``data``, calling ``deliver(message)`` for each message it completes, in
        order; a `WebSocketError` is raised after the messages that came before it."""
        self.deliver = deliver
        # Every error is raised inside decode(), which then stays dead: no state of our own.
        self.frames.decode(data, self.on_frame)

    def on_frame(self, fin: bool, opcode: int, rsv1: bool, payload: bytes | bytearray) -> None:
        """Take one frame from `frames` (which checked the framing rules); hand the
        message it completes, if any, to `deliver`."""
        if fin and not rsv1:
            # The common case: a whole uncompressed message in one frame.
            if opcode == OP_BINARY:
                if type(payload) is not bytes:
                    payload = bytes(payload)
                self.deliver(tuple.__new__(WSMessage, (_BINARY, payload, None)))
                return
            if opcode == OP_TEXT:
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _invalid_utf8(exc) from None
                self.deliver(tuple.__new__(WSMessage, (_TEXT, text, None)))
                return
        if opcode & 0x8:
            self.deliver(self._control(opcode, payload))
        elif fin and opcode:
            self.deliver(self._single(opcode, rsv1, payload))
        else:
            message = self._fragment(fin, opcode, rsv1, payload)
            if message is not None:
                self.deliver(message)

    def _single(self, opcode: int, compressed: bool, payload: bytes | bytearray) -> WSMessage:
        if compressed:
            decompressor = self._decompressor
            assert decompressor is not None  # FrameDecoder refuses RSV1 without compression
            limit = self._max_size
            data = decompressor.decompress(payload, limit or None)
            end = decompressor.finish(limit - len(data) if limit else None)
            payload = data + end if end else data
        if opcode == OP_TEXT:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _invalid_utf8(exc) from None
            return tuple.__new__(WSMessage, (_TEXT, text, None))
        if type(payload) is not bytes:
            payload = bytes(payload)
        return tuple.__new__(WSMessage, (_BINARY, payload, None))

    def _fragment(
        self, fin: bool, opcode: int, compressed: bool, payload: bytes | bytearray
    ) -> WSMessage | None:
        if opcode:
            # First fragment (FrameDecoder checked the fragmentation sequence).
            self._opcode = opcode
            self._compressed = compressed
            self._parts = []
            self._size = 0
            self._utf8 = _Utf8Decoder() if opcode == OP_TEXT else None
        if self._compressed:
            decompressor = self._decompressor
            assert decompressor is not None
            limit = self._max_size
            out = decompressor.decompress(payload, limit - self._size if limit else None)
            if fin:
                end = decompressor.finish(limit - self._size - len(out) if limit else None)
                if end:
                    out += end
            payload = out
        self._size += len(payload)
        utf8 = self._utf8
        if utf8 is not None:
            try:
                text = utf8.decode(payload, fin)
            except UnicodeDecodeError as exc:
                self._parts = []
                raise _invalid_utf8(exc) from None
            parts_s: list[str] = self._parts  # type: ignore[assignment]
            if text:
                parts_s.append(text)
            if not fin:
                return None
            self._parts = []
            self._utf8 = None
            return tuple.__new__(WSMessage, (_TEXT, "".join(parts_s), None))
        parts_b: list[bytes | bytearray] = self._parts  # type: ignore[assignment]
        if payload:
            parts_b.append(payload)
        if not fin:
            return None
        self._parts = []
        return tuple.__new__(WSMessage, (_BINARY, b"".join(parts_b), None))

    def _control(self, opcode: int, payload: bytes | bytearray) -> WSMessage:
        if type(payload) is not bytes:
            payload = bytes(payload)
        if opcode == OP_PING:
            return tuple.__new__(WSMessage, (_PING, payload, None))
        if opcode != OP_CLOSE:
            return tuple.__new__(WSMessage, (_PONG, payload, None))
        if not payload:
            return tuple.__new__(WSMessage, (_CLOSE, NO_STATUS_RECEIVED, ""))
        if len(payload) == 1:
            raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Invalid close frame: 1 byte long")
        code = int.from_bytes(payload[:2], "big")
        if not is_valid_close_code(code):
            raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Invalid close code: {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebSocketError(
                WSCloseCode.INVALID_TEXT, f"Invalid UTF-8 in close reason: {exc}"
            ) from None
        return tuple.__new__(WSMessage, (_CLOSE, code, reason))
