"""The permessage-deflate codec (RFC 7692 §7.2): one message in, one compressed payload out.

A compressed message is a raw DEFLATE stream ended by a sync flush, minus the flush's final
``00 00 ff ff`` (§7.2.1); the receiver appends those four bytes back before inflating (§7.2.2).
With context takeover the LZ77 window carries over from one message to the next; without it,
each message is compressed on its own (we use ``Z_FULL_FLUSH``, which also empties the window,
instead of building a new compressor per message).

Decompression always uses a 32 KiB window: a larger window decodes any smaller one, so the
negotiated ``*_max_window_bits`` only bound what we send. Output is capped per message with
``max_length`` so a small "deflate bomb" cannot allocate more than the message size limit.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

from .._http._zlib import zlib_backend
from ._models import WebSocketError, WSCloseCode

__all__ = ("DEFLATE_TAIL", "MessageCompressor", "MessageDecompressor")

#: The end of every sync flush; stripped from sent messages, appended to received ones.
DEFLATE_TAIL: Final = b"\x00\x00\xff\xff"


class MessageCompressor:
    """Compresses whole messages with a raw DEFLATE stream of ``2**wbits`` bytes of window.

    ``no_context_takeover`` makes every message independent of the previous ones. Not safe
    for concurrent use: one message at a time (the writer serialises calls).
    """

    __slots__ = ("_flush_mode", "_obj", "wbits")

    def __init__(
        self, wbits: int = 15, *, no_context_takeover: bool = False, level: int | None = None
    ) -> None:
        if not 9 <= wbits <= 15:
            raise ValueError(f"Window bits must be in 9..15 (zlib cannot use {wbits})")
        z = zlib_backend.module
        self.wbits = wbits
        self._obj: Any = z.compressobj(
            z.Z_BEST_SPEED if level is None else level, z.DEFLATED, -wbits
        )
        self._flush_mode: int = z.Z_FULL_FLUSH if no_context_takeover else z.Z_SYNC_FLUSH

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """The compressed payload of one message (``00 00 ff ff`` removed)."""
        obj = self._obj
        out: bytes = obj.compress(data) + obj.flush(self._flush_mode)
        # A flush always ends with an empty stored block: 00 00 ff ff.
        return out[:-4]


class MessageDecompressor:
    """Inflates received messages, fragment by fragment, with a cap on the output size.

    Call `decompress` for each fragment and `finish` after the last one. ``limit`` is how
    many more bytes the message may grow to (``None``: no limit); going over raises
    ``WebSocketError(1009)``. Corrupt data raises ``WebSocketError(1007)``.
    """

    __slots__ = ("_obj",)

    def __init__(self) -> None:
        self._obj: Any = zlib_backend.module.decompressobj(-zlib.MAX_WBITS)

    def decompress(self, data: bytes | bytearray, limit: int | None) -> bytes:
        """Inflate one fragment of the current message."""
        obj = self._obj
        try:
            out: bytes = obj.decompress(data) if limit is None else obj.decompress(data, limit + 1)
        except Exception as exc:  # zlib.error, or the backend's equivalent
            raise WebSocketError(
                WSCloseCode.INVALID_TEXT, f"Invalid compressed message: {exc}"
            ) from exc
        if limit is not None and len(out) > limit:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, "Decompressed message exceeds the size limit"
            )
        return out

    def finish(self, limit: int | None) -> bytes:
        """End the current message (feed the stripped ``00 00 ff ff``); return the last bytes."""
        out = self.decompress(DEFLATE_TAIL, limit)
        if self._obj.eof:
            # The peer ended its stream with a final block (RFC 7692 §7.2.3.4); the bytes after
            # it (that example's 0x00 padding block, our tail) are not part of the stream. The
            # next message starts a new stream.
            self._obj = zlib_backend.module.decompressobj(-zlib.MAX_WBITS)
        return out
