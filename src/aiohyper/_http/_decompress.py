"""Streaming decoders for ``Content-Encoding`` and the sink that applies them to a body.

The HTTP parser pushes the raw (compressed) body bytes into a `DecompressingSink`, which decodes
them and feeds the plain bytes into the message's `StreamReader`. Every decoder produces its
output in bounded pieces (``max_length`` / output-buffer limits), and the sink counts the decoded
bytes of the message: once they would exceed ``max_size`` it raises `DecompressSizeError`, after
producing at most one bounded piece (64 KiB) past what was allowed. A decompression bomb therefore
costs the cap, never the memory of its full expansion. Two backends cannot limit their output per
call: with the ``zstandard`` package the input is sliced so one slice expands to at most a quarter
of the cap, and brotli older than 1.2 is checked only after each call.

Encodings: ``gzip`` (one or more members), ``deflate`` (zlib-wrapped or raw deflate, detected
from the first two bytes, since both are sent in the wild), ``br`` (when ``brotli`` or
``brotlicffi`` is importable) and ``zstd`` (``compression.zstd``, ``backports.zstd`` or
``zstandard``). `SUPPORTED_ENCODINGS` lists what this interpreter can decode and
`accept_encoding_header` builds the matching ``Accept-Encoding`` value.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final, Protocol

from ..http_exceptions import ContentEncodingError, DecompressSizeError
from ._zlib import zlib_backend

if TYPE_CHECKING:
    from ..streams import StreamReader

__all__ = (
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "SUPPORTED_ENCODINGS",
    "Decoder",
    "DecompressingSink",
    "accept_encoding_header",
    "make_decoder",
)

#: Default cap on the decoded size of one message body (32 MiB). Big enough for ordinary API and
#: page payloads, small enough that a bomb cannot exhaust memory; raise it (or pass ``None``)
#: where large compressed downloads are expected.
DEFAULT_MAX_DECOMPRESSED_SIZE: Final = 2**25

# Largest piece of decoded output produced by one decoder call.
_PIECE: Final = 2**16

# Upper bound of zstd's expansion per input byte (a 4-byte RLE block yields 128 KiB); used to
# slice input for the ``zstandard`` package, whose streaming API has no output limit.
_ZSTD_MAX_RATIO: Final = 2**15


def _load_brotli() -> Any:
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _load_zstd() -> tuple[Any, bool]:
    """Return ``(module, has_max_length)``: the stdlib-style API is preferred for its limit."""
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return importlib.import_module(name), True
        except ImportError:
            continue
    try:
        return importlib.import_module("zstandard"), False
    except ImportError:
        return None, False


_brotli: Any = _load_brotli()
_zstd, _zstd_has_max_length = _load_zstd()

#: Content codings this interpreter can decode, in order of preference for Accept-Encoding.
SUPPORTED_ENCODINGS: Final[tuple[str, ...]] = (
    ("gzip", "deflate") + (("br",) if _brotli is not None else ()) + (("zstd",) if _zstd else ())
)


def accept_encoding_header() -> str:
    """The ``Accept-Encoding`` value advertising every coding in `SUPPORTED_ENCODINGS`."""
    return ", ".join(SUPPORTED_ENCODINGS)


class Decoder(Protocol):
    """A streaming decoder for one body.

    `decompress` returns at most about ``max_length`` bytes; input it could not decode yet is
    kept inside, and `pending` tells whether calling ``decompress(b"", ...)`` again yields more.
    `eof` is true once the encoded stream reached its proper end.
    """

    @property
    def pending(self) -> bool: ...

    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int) -> bytes: ...


class _ZlibDecoder:
    """gzip (``wbits=31``, multi-member) or deflate (zlib-wrapped or raw, auto-detected)."""

    __slots__ = ("_d", "_gzip", "_head", "_pending", "_tail")

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._d: Any = zlib_backend.module.decompressobj(wbits=31) if gzip else None
        self._head = b""  # deflate: the first byte, until the second arrives to tell the format
        self._tail = b""  # input the last call left undecoded because of max_length
        self._pending = False

    @property
    def pending(self) -> bool:
        return self._pending

    @property
    def eof(self) -> bool:
        return self._d is not None and bool(self._d.eof) and not self._tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        d = self._d
        if d is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._head = b""
            self._d = d = zlib_backend.module.decompressobj(wbits=_deflate_wbits(data))
        if self._tail:
            data = self._tail + data if data else self._tail
            self._tail = b""
        if d.eof and data:
            if not self._gzip:
                raise ContentEncodingError("deflate: data after the end of the compressed stream")
            if not data.strip(b"\x00"):
                # Zero padding after the last gzip member: tolerated, like the gzip tool does.
                self._pending = False
                return b""
            # RFC 1952 allows several members; each one decodes as its own stream.
            self._d = d = zlib_backend.module.decompressobj(wbits=31)
        if d.eof:
            self._pending = False
            return b""
        out: bytes = d.decompress(data, max_length)
        # Input left over: either cut by max_length, or the start of the next gzip member.
        self._tail = d.unused_data if d.eof else d.unconsumed_tail
        # A full piece may also mean more output is buffered inside zlib with no input left.
        self._pending = bool(self._tail) or len(out) >= max_length
        return out


def _deflate_wbits(head: bytes) -> int:
    # RFC 1950: CM=8 in the low nibble of CMF, and (CMF*256 + FLG) is a multiple of 31.
    cmf, flg = head[0], head[1]
    if cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf * 256 + flg) % 31 == 0:
        return 15
    return -15


class _BrotliDecoder:
    __slots__ = ("_d", "_limited", "_pending")

    def __init__(self) -> None:
        self._d: Any = _brotli.Decompressor()
        self._pending = False
        # brotli >= 1.2 limits its output per call (output_buffer_limit + can_accept_more_data)
        self._limited = hasattr(self._d, "can_accept_more_data")

    @property
    def pending(self) -> bool:
        return self._pending

    @property
    def eof(self) -> bool:
        return bool(self._d.is_finished())

    def decompress(self, data: bytes, max_length: int) -> bytes:
        d = self._d
        if self._limited:
            try:
                out: bytes = d.process(data, output_buffer_limit=max_length)
            except TypeError:
                self._limited = False
            else:
                self._pending = not d.can_accept_more_data()
                return out
        # Old brotli: no output limit, so the cap is only checked after the fact.
        self._pending = False
        result: bytes = d.process(data)
        return result


class _ZstdStdlibDecoder:
    """``compression.zstd`` / ``backports.zstd``: has ``max_length`` like zlib; multi-frame."""

    __slots__ = ("_d", "_pending", "_tail")

    def __init__(self) -> None:
        self._d: Any = _zstd.ZstdDecompressor()
        self._pending = False
        self._tail = b""

    @property
    def pending(self) -> bool:
        return self._pending

    @property
    def eof(self) -> bool:
        return bool(self._d.eof) and not self._tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        d = self._d
        if self._tail:
            data, self._tail = self._tail + data, b""
        if d.eof:
            if not data:
                self._pending = False
                return b""
            # Another frame follows (RFC 8878 allows concatenated frames).
            self._d = d = _zstd.ZstdDecompressor()
        out: bytes = d.decompress(data, max_length)
        if d.eof:
            self._tail = d.unused_data
            self._pending = bool(self._tail)
        else:
            self._pending = not d.needs_input
        return out


class _ZstandardDecoder:
    """The ``zstandard`` package, whose streaming ``decompress`` has no output limit: the input
    is fed in slices small enough that even a maximal expansion of one slice stays below a quarter
    of the size cap (64 KiB slices when there is no cap)."""

    __slots__ = ("_d", "_dctx", "_pending", "_step", "_tail")

    def __init__(self, max_size: int | None) -> None:
        self._dctx: Any = _zstd.ZstdDecompressor()
        self._d: Any = self._dctx.decompressobj()
        self._tail = b""
        self._pending = False
        bound = 2**16 if max_size is None else max_size // _ZSTD_MAX_RATIO // 4
        self._step = min(max(bound, 64), 2**16)

    @property
    def pending(self) -> bool:
        return self._pending

    @property
    def eof(self) -> bool:
        return bool(self._d.eof) and not self._tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._tail:
            data = self._tail + data if data else self._tail
        step = self._step
        piece, self._tail = data[:step], data[step:]
        d = self._d
        if d.eof and piece:
            # Another frame follows (RFC 8878 allows concatenated frames).
            self._d = d = self._dctx.decompressobj()
        out: bytes = d.decompress(piece) if piece else b""
        if d.eof and d.unused_data:
            self._tail = d.unused_data + self._tail
        self._pending = bool(self._tail)
        return out


def make_decoder(encoding: str, max_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE) -> Decoder:
    """Return a fresh decoder for ``encoding`` (``gzip``, ``deflate``, ``br`` or ``zstd``).

    ``max_size`` is the decoded-size cap the caller enforces; decoders that cannot limit their
    output per call use it to size their input slices.

    Raises `ContentEncodingError` (code 415) when the coding is unknown or its library is not
    installed.
    """
    if encoding == "gzip":
        return _ZlibDecoder(gzip=True)
    if encoding == "deflate":
        return _ZlibDecoder(gzip=False)
    if encoding == "br" and _brotli is not None:
        return _BrotliDecoder()
    if encoding == "zstd" and _zstd is not None:
        return _ZstdStdlibDecoder() if _zstd_has_max_length else _ZstandardDecoder(max_size)
    hint = {"br": " (install 'brotli')", "zstd": " (install 'zstandard')"}.get(encoding, "")
    exc = ContentEncodingError(f"Cannot decode Content-Encoding {encoding!r}{hint}")
    exc.code = 415
    raise exc


class DecompressingSink:
    """Decodes a compressed body on its way from the parser into ``out`` (a `StreamReader`).

    It offers the parser the same feeding methods as `StreamReader`. ``max_size`` caps the decoded
    bytes of this body (``None``: no cap); going past it raises `DecompressSizeError`. Corrupt data
    raises `ContentEncodingError`, and so does a stream that ends before its proper end.
    """

    __slots__ = ("_decoder", "_encoding", "_fed", "_max_size", "_out", "_size")

    def __init__(
        self,
        out: StreamReader,
        encoding: str,
        max_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
    ) -> None:
        self._out = out
        self._encoding = encoding
        self._decoder = make_decoder(encoding, max_size)
        self._max_size = max_size
        self._size = 0  # decoded bytes so far
        self._fed = False  # any encoded byte received (an empty body is not a truncated stream)

    def feed_data(self, data: bytes) -> None:
        """Decode ``data`` and feed the result to the output stream, piece by piece."""
        if not data:
            return
        self._fed = True
        self._decode(data)

    def _decode(self, data: bytes) -> None:
        decoder = self._decoder
        out = self._out
        max_size = self._max_size
        while True:
            # One byte more than allowed is enough to detect the overflow.
            want = _PIECE if max_size is None else min(_PIECE, max_size - self._size + 1)
            try:
                chunk = decoder.decompress(data, want)
            except ContentEncodingError:
                raise
            except Exception as exc:
                raise ContentEncodingError(f"Cannot decode {self._encoding} body: {exc}") from exc
            if chunk:
                self._size += len(chunk)
                if max_size is not None and self._size > max_size:
                    raise DecompressSizeError(
                        f"Decompressed {self._encoding} body exceeds the limit of {max_size} bytes"
                    )
                out.feed_data(chunk)
            if not decoder.pending:
                return
            data = b""

    def feed_eof(self) -> None:
        """End the body: drain the decoder, check the stream was complete, end the output."""
        if self._fed:
            self._decode(b"")
            if not self._decoder.eof:
                raise ContentEncodingError(
                    f"Compressed {self._encoding} body ended before the end of its stream"
                )
        self._out.feed_eof()

    def set_exception(self, exc: BaseException) -> None:
        self._out.set_exception(exc)

    def begin_http_chunk_receiving(self) -> None:
        self._out.begin_http_chunk_receiving()

    def end_http_chunk_receiving(self) -> None:
        self._out.end_http_chunk_receiving()
