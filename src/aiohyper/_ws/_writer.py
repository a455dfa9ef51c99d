"""The sending half of a WebSocket connection: messages into frames on a transport.

`WebSocketWriter` frames each message (masking it on a client), compresses data messages when
permessage-deflate was negotiated, writes the frame with one ``transport.write`` and applies
the transport's back-pressure every ``limit`` bytes.

Compression and cancellation: the compressor's LZ77 window must stay in step with the peer's
decompressor, so a message that was compressed must be written, whole and in order. Small
messages are compressed and written with no ``await`` in between, which makes them atomic.
Large ones are compressed in a worker thread; that step, and the write after it, run shielded
under a lock, so cancelling the sender neither skips a compressed frame nor lets another
message through the compressor first.
"""

from __future__ import annotations

import asyncio
import random as _random
import struct
from typing import Final

from ..base_protocol import BaseProtocol
from ._deflate import MessageCompressor
from ._frames import OP_BINARY, OP_CLOSE, OP_TEXT
from ._mask import apply_mask

__all__ = ("DEFAULT_LIMIT", "MAX_SYNC_COMPRESS_SIZE", "WebSocketWriter")

#: Bytes written between two back-pressure checks.
DEFAULT_LIMIT: Final = 2**16
#: Messages above this size are compressed in a worker thread, not on the event loop.
MAX_SYNC_COMPRESS_SIZE: Final = 32 * 1024
# Above this size the header and payload go to the transport as two buffers (no join copy
# on transports that support scatter writes).
_JOIN_MAX: Final = 16 * 1024
_MAX_CONTROL_PAYLOAD: Final = 125
_HEAD16: Final = struct.Struct("!BBH")
_HEAD64: Final = struct.Struct("!BBQ")
# Two-byte heads of short frames, by (first byte << 8 | second byte): made once each.
_SHORT_HEADS: Final[dict[int, bytes]] = {}


def _short_head(key: int) -> bytes:
    """The head of a frame with a 7-bit length; ``key`` is its two bytes as an integer."""
    head = _SHORT_HEADS[key] = key.to_bytes(2, "big")
    return head


def _closing_error() -> ConnectionResetError:
    # Imported on this error path only: aiohyper.client's package may import this module.
    from ..client._exceptions import ClientConnectionResetError

    return ClientConnectionResetError("Cannot write to closing transport")


class WebSocketWriter:
    """Writes WebSocket frames to one connection.

    ``use_mask``: mask every frame (the client side must, RFC 6455 §5.3) with keys drawn from
    ``random``. ``limit``: bytes written between two waits for the transport to drain.
    ``compress``: the negotiated permessage-deflate window bits (9..15), 0 when not negotiated;
    ``notakeover``: compress every message independently (``*_no_context_takeover``).

    After `close` has sent a Close frame, every send raises ``ClientConnectionResetError``, as
    do sends on a closing transport.
    """

    __slots__ = (
        "_closing",
        "_compress",
        "_compress_lock",
        "_compressor",
        "_getrandbits",
        "_limit",
        "_notakeover",
        "_output_size",
        "_use_mask",
        "protocol",
        "transport",
    )

    def __init__(
        self,
        protocol: BaseProtocol,
        transport: asyncio.Transport,
        *,
        use_mask: bool = False,
        limit: int = DEFAULT_LIMIT,
        random: _random.Random = _random.Random(),  # noqa: B008 - one shared generator
        compress: int = 0,
        notakeover: bool = False,
    ) -> None:
        if compress and not 9 <= compress <= 15:
            raise ValueError("compress must be 0 or 9..15 window bits")
        self.protocol = protocol
        self.transport = transport
        self._use_mask = use_mask
        self._getrandbits = random.getrandbits
        self._limit = limit
        self._output_size = 0
        self._closing = False
        self._compress = compress
        self._notakeover = notakeover
        # Made on first use: a deflate context costs ~300 KiB, many connections never send.
        self._compressor: MessageCompressor | None = None
        self._compress_lock: asyncio.Lock | None = None

    @property
    def closing(self) -> bool:
        """True once a Close frame was sent."""
        return self._closing

    async def send_frame(
        self, message: bytes | bytearray | memoryview, opcode: int, compress: int | None = None
    ) -> None:
        """Send ``message`` as one frame with ``opcode`` (a `WSMsgType` value).

        ``compress`` overrides compression for this message: ``None`` follows the connection
        setting, 0 sends it uncompressed, any other value compresses it (with the negotiated
        window: per-message windows would desynchronise the peer's shared window). Nothing is
        compressed when permessage-deflate was not negotiated. Control frames are never
        compressed and carry at most 125 bytes (``ValueError``).
        """
        if self._closing or self.transport.is_closing():
            raise _closing_error()
        if self._compress and (opcode in (OP_TEXT, OP_BINARY)) and (compress is None or compress):
            compressor = self._compressor
            if compressor is None:
                compressor = self._compressor = MessageCompressor(
                    self._compress, no_context_takeover=self._notakeover
                )
            lock = self._compress_lock
            if len(message) <= MAX_SYNC_COMPRESS_SIZE and (lock is None or not lock.locked()):
                # No await between compressing and writing: atomic under cancellation.
                size = self._write_frame(compressor.compress(message), opcode, True)
            else:
                size = await asyncio.shield(self._send_compressed(compressor, message, opcode))
        else:
            if opcode & 0x8 and len(message) > _MAX_CONTROL_PAYLOAD:
                raise ValueError("Control frame payload cannot exceed 125 bytes")
            size = self._write_frame(message, opcode, False)
        self._output_size += size
        if self._output_size > self._limit:
            self._output_size = 0
            await self.drain()

    async def _send_compressed(
        self, compressor: MessageCompressor, message: bytes | bytearray | memoryview, opcode: int
    ) -> int:
        """Compress (in a thread when large) and write one message; run shielded."""
        lock = self._compress_lock
        if lock is None:
            lock = self._compress_lock = asyncio.Lock()
        async with lock:
            if len(message) > MAX_SYNC_COMPRESS_SIZE:
                loop = asyncio.get_running_loop()
                payload = await loop.run_in_executor(None, compressor.compress, message)
            else:
                payload = compressor.compress(message)
            if self._closing or self.transport.is_closing():
                raise _closing_error()
            return self._write_frame(payload, opcode, True)

    def _write_frame(
        self, payload: bytes | bytearray | memoryview, opcode: int, rsv1: bool
    ) -> int:
        """Frame and write ``payload`` now; return the bytes written."""
        length = len(payload)
        b0 = opcode | 0xC0 if rsv1 else opcode | 0x80  # FIN (and RSV1)
        if self._use_mask:
            mask = self._getrandbits(32).to_bytes(4, "big")
            if length < 126:
                key = (b0 << 8) | 0x80 | length
                header = (_SHORT_HEADS.get(key) or _short_head(key)) + mask
            elif length < 65536:
                header = _HEAD16.pack(b0, 0xFE, length) + mask
            else:
                header = _HEAD64.pack(b0, 0xFF, length) + mask
            payload = apply_mask(payload, mask)
        elif length < 126:
            key = (b0 << 8) | length
            header = _SHORT_HEADS.get(key) or _short_head(key)
        elif length < 65536:
            header = _HEAD16.pack(b0, 126, length)
        else:
            header = _HEAD64.pack(b0, 127, length)
        if length > _JOIN_MAX:
            self.transport.writelines((header, payload))
        else:
            self.transport.write(header + payload)
        return len(header) + length

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        protocol = self.protocol
        if protocol.transport is not None and protocol.writing_paused:
            await protocol._drain_helper()

    async def ping(self, message: bytes = b"") -> None:
        """Send a Ping with ``message`` (at most 125 bytes)."""
        await self.send_frame(message, 0x9)

    async def pong(self, message: bytes = b"") -> None:
        """Send a Pong with ``message`` (at most 125 bytes)."""
        await self.send_frame(message, 0xA)

    def write_control_nowait(self, message: bytes, opcode: int) -> None:
        """Write a control frame at once, without back-pressure (for timers: heartbeats)."""
        if self._closing or self.transport.is_closing():
            raise _closing_error()
        if len(message) > _MAX_CONTROL_PAYLOAD:
            raise ValueError("Control frame payload cannot exceed 125 bytes")
        self._output_size += self._write_frame(message, opcode, False)

    async def close(self, code: int = 1000, message: bytes | str = b"") -> None:
        """Send a Close frame with ``code`` and the reason ``message`` (at most 123 bytes
        once encoded); no frame can be sent after it."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        try:
            await self.send_frame(code.to_bytes(2, "big") + message, OP_CLOSE)
        finally:
            self._closing = True
