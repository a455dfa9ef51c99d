"""HTTP/1.x message writer: heads, bodies (length, chunked, compressed) and back-pressure.

The writer is the one place where a message meets the transport. It keeps what it is given in
a small buffer and hands it to the transport:

* at once when the buffer grows past ``LIMIT`` (64 KiB by default), at ``drain()``,
  ``write_eof()``, ``flush()``/``send_headers()``;
* otherwise at the end of the current event loop iteration (a ``call_soon``), so a handler that
  writes many small pieces without yielding still costs one system call, and a handler that
  writes one piece and then waits still gets it delivered at once.

So ``write_headers()`` followed by ``write_eof(body)`` is a single ``transport.write`` of the
status line, headers and body. Code that writes to the transport itself (sendfile, a WebSocket
writer taking over the connection) must call ``flush()`` (or ``await drain()``) first.
"""

from __future__ import annotations

import abc
import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

from ._compress import Compressor, get_compressor

__all__ = (
    "AbstractStreamWriter",
    "StreamWriter",
    "WriterProtocol",
    "serialize_headers",
)

_ChunkCallback = Callable[[bytes], Awaitable[None]]
_HeadersCallback = Callable[[Any], Awaitable[None]]

# RFC 9110 section 5.6.2:  token = 1*tchar
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
#           / "~" / DIGIT / ALPHA
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# Header names seen valid before; they are few and repeat on every response, so a set lookup
# replaces a regex match. Bounded so that names built from untrusted data cannot grow it forever.
_VALID_NAMES: set[str] = set()
_VALID_NAMES_MAX: Final = 4096

# Writes up to this size are joined into one bytes before going to a transport whose
# writelines() would join anyway; larger parts are written on their own to skip the copy.
_JOIN_MAX: Final = 0x8000

# Transport classes whose writelines() is asyncio's default "join, then write()" (the plain
# selector transport before Python 3.12). Others (3.12+, SSL, uvloop) send the list as is.
_JOINING_WRITELINES: dict[type[Any], bool] = {}


def _writelines_joins(transport: asyncio.WriteTransport) -> bool:
    cls = type(transport)
    joins = _JOINING_WRITELINES.get(cls)
    if joins is None:
        joins = getattr(cls, "writelines", None) is asyncio.WriteTransport.writelines
        _JOINING_WRITELINES[cls] = joins
    return joins


def _check_name(name: object) -> None:
    if name not in _VALID_NAMES:
        if not isinstance(name, str) or _TOKEN_RE.fullmatch(name) is None:
            raise ValueError(
                f"Invalid header name {name!r}: a name must be a token (RFC 9110 5.6.2)"
            )
        if len(_VALID_NAMES) < _VALID_NAMES_MAX:
            _VALID_NAMES.add(name)


def _has_forbidden(text: str) -> bool:
    return "\r" in text or "\n" in text or "\x00" in text


class _HeadLines(dict[object, str]):
    """Serialised head lines, each checked once: a status line (key: the line) maps to
    ``line CRLF``, a header (key: the ``(name, value)`` pair) to ``name: value CRLF``.

    A server or a client sends the same few lines over and over (Date changes once a
    second), so a dict lookup replaces formatting and checking them. A missing key is
    checked and formatted by ``__missing__`` (which raises ``ValueError`` for a line that must
    not be sent). Bounded: emptied when full, so lines built from untrusted data cannot grow it
    forever; long values are not kept.
    """

    __slots__ = ()

    def __missing__(self, key: object) -> str:
        if type(key) is tuple:
            name, value = key
            _check_name(name)
            text = str(value)
            if _has_forbidden(text):
                raise ValueError(f"Value of header {name!r} contains CR, LF or NUL: {text!r}")
            line = f"{name}: {text}\r\n"
            keep = isinstance(value, str) and len(text) <= _LINE_VALUE_MAX
        else:
            text = str(key)
            if _has_forbidden(text):
                raise ValueError(f"Status line {text!r} contains CR, LF or NUL")
            line = f"{text}\r\n"
            keep = isinstance(key, str) and len(text) <= _LINE_VALUE_MAX
        if keep:
            if len(self) >= _LINES_MAX:
                self.clear()
            self[key] = line
        return line


_LINES_MAX: Final = 2048
_LINE_VALUE_MAX: Final = 256
_HEAD_LINES: Final = _HeadLines()


def serialize_headers(status_line: str, headers: Mapping[str, str]) -> bytes:
    """The head of a message: ``status_line CRLF (name: value CRLF)* CRLF``, UTF-8 encoded.

    ``status_line`` is a request line or a status line without its CRLF. Headers go out in
    iteration order, repeated names (a ``CIMultiDict``) as separate lines. Text is encoded as
    UTF-8 (RFC 9110 only promises ASCII; UTF-8 is what aiohttp sends and what browsers read),
    with lone surrogates mapped back to the raw bytes a parser decoded them from.

    Raises ``ValueError`` naming the culprit when a name is not a token, or when the status
    line or a value holds CR, LF or NUL (each would let a value smuggle extra headers).
    """
    lines = _HEAD_LINES
    try:
        parts = [lines[status_line], *map(lines.__getitem__, headers.items()), "\r\n"]
    except TypeError:  # an unhashable value: format and check without the cache
        parts = [_HeadLines.__missing__(lines, status_line)]
        parts += [_HeadLines.__missing__(lines, (k, v)) for k, v in headers.items()]
        parts.append("\r\n")
    return "".join(parts).encode("utf-8", "surrogateescape")


class WriterProtocol(Protocol):
    """What the writer needs from the connection (``aiohyper.base_protocol.BaseProtocol``)."""

    @property
    def transport(self) -> asyncio.Transport | None: ...

    @property
    def writing_paused(self) -> bool: ...

    async def _drain_helper(self) -> None: ...


class AbstractStreamWriter(abc.ABC):
    """The interface a request or response body is written through (``aiohttp.abc``).

    ``buffer_size`` counts bytes accepted since the last ``drain()``, ``output_size`` all bytes
    accepted (head, chunk framing and body, after compression). ``length``, when not ``None``,
    is the Content-Length to honour: bytes past it are dropped.
    """

    __slots__ = ()

    buffer_size: int
    output_size: int
    length: int | None

    @abc.abstractmethod
    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Write a piece of the body."""

    @abc.abstractmethod
    async def write_eof(self, chunk: bytes = b"") -> None:
        """Write the last piece of the body and end the message."""

    @abc.abstractmethod
    async def drain(self) -> None:
        """Send what is buffered and wait while the transport's buffer is too full."""

    @abc.abstractmethod
    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        """Encode the body with the content coding ``encoding`` from now on."""

    @abc.abstractmethod
    def enable_chunking(self) -> None:
        """Frame the body with chunked transfer coding."""

    @abc.abstractmethod
    async def write_headers(self, status_line: str, headers: Mapping[str, str]) -> None:
        """Write the request line or status line and the headers."""

    def send_headers(self) -> None:  # noqa: B027 - optional hook, a no-op unless overridden
        """Send headers that are still buffered now, instead of with the first body piece."""


class StreamWriter(AbstractStreamWriter):
    """Writes one HTTP/1.x message (head and body) to ``protocol.transport``.

    ``on_chunk_sent(chunk)`` and ``on_headers_sent(headers)`` are awaited (tracing hooks) with
    the body pieces as given, before compression, and the headers as given.
    """

    __slots__ = (
        "_compress",
        "_eof",
        "_exc",
        "_flush_handle",
        "_on_chunk_sent",
        "_on_headers_sent",
        "_parts",
        "_pending",
        "_protocol",
        "buffer_size",
        "chunked",
        "length",
        "loop",
        "output_size",
    )

    def __init__(
        self,
        protocol: WriterProtocol,
        loop: asyncio.AbstractEventLoop,
        on_chunk_sent: _ChunkCallback | None = None,
        on_headers_sent: _HeadersCallback | None = None,
    ) -> None:
        self._protocol = protocol
        self.loop = loop
        self.length: int | None = None
        self.chunked = False
        self.buffer_size = 0
        self.output_size = 0
        self._compress: Compressor | None = None
        self._eof = False
        self._exc: BaseException | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._on_chunk_sent = on_chunk_sent
        self._on_headers_sent = on_headers_sent
        # Bytes accepted but not yet handed to the transport, and their total size.
        self._parts: list[bytes] = []
        self._pending = 0

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._protocol.transport

    @property
    def protocol(self) -> WriterProtocol:
        return self._protocol

    @property
    def compression(self) -> str | None:
        """The content coding the body is encoded with, or ``None``."""
        return None if self._compress is None else self._compress.encoding

    def enable_chunking(self) -> None:
        self.chunked = True

    def enable_compression(
        self, encoding: str = "deflate", strategy: int | None = None, *, level: int | None = None
    ) -> None:
        """Raises ``ValueError`` for an unknown coding, ``NotImplementedError`` for br/zstd
        without their library (see ``get_compressor``)."""
        self._compress = get_compressor(encoding, level=level, strategy=strategy)

    async def write_headers(self, status_line: str, headers: Mapping[str, str]) -> None:
        """Serialise the head and keep it to go out with the first body bytes.

        Raises ``ValueError`` for a head that must not be sent (see ``serialize_headers``).
        """
        head = serialize_headers(status_line, headers)
        if self._on_headers_sent is not None:
            await self._on_headers_sent(headers)
        self._accept(head)
        if self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self._flush_soon)

    def send_headers(self) -> None:
        """Hand buffered bytes, the head included, to the transport now."""
        self.flush()

    def can_send_whole(self) -> bool:
        """Whether `send_whole` may be used: nothing written yet, and no content coding,
        chunking or hook that would need to run between head and body."""
        return (
            not self.output_size
            and self._compress is None
            and not self.chunked
            and self._on_headers_sent is None
            and self._on_chunk_sent is None
            and self._exc is None
            and not self._eof
        )

    def send_whole(self, head: bytes, body: bytes) -> None:
        """Send a whole message, ``head`` (from `serialize_headers`) then ``body`` cut to
        ``length``, in one transport write and end it, as ``write_headers()`` +
        ``write_eof(body)`` would, without waiting.

        Only when `can_send_whole` is true. Raises ``ConnectionResetError`` if the transport
        is closing (nothing is written then).
        """
        length = self.length
        if length is not None:
            if len(body) > length:
                body = body[:length]
            self.length = length - len(body)
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        size = len(head) + len(body)
        self.output_size += size
        self.buffer_size += size
        self._eof = True
        if not body:
            transport.write(head)
        elif len(body) <= _JOIN_MAX:
            transport.write(head + body)
        elif not _writelines_joins(transport):
            transport.writelines((head, body))
        else:
            transport.write(head)
            transport.write(body)

    async def write(
        self, chunk: bytes | bytearray | memoryview, *, drain: bool = True, LIMIT: int = 0x10000
    ) -> None:
        """Write a piece of the body (compressed, framed and truncated to ``length`` as set).

        The piece is buffered up to ``LIMIT`` bytes and sent at the end of this loop iteration
        at the latest. With ``drain`` (the default) the call waits while the transport's buffer
        is above its high-water mark. Raises ``ConnectionResetError`` when the transport is
        closing or gone, ``RuntimeError`` after ``write_eof()``.
        """
        if self._eof:
            raise RuntimeError("Cannot write to a message after write_eof()")
        if self._exc is not None:
            raise self._exc
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        if type(chunk) is not bytes:
            # The caller may reuse its buffer once we return; we may not have sent it yet.
            chunk = bytes(chunk)
        if self._on_chunk_sent is not None:
            await self._on_chunk_sent(chunk)
        if self._compress is not None:
            chunk = await self._compress.compress_async(chunk)
        if self.length is not None:
            chunk = self._truncate(chunk)
        if not chunk:
            return
        if self.chunked:
            self._accept(b"%x\r\n" % len(chunk))
            self._accept(chunk)
            self._accept(b"\r\n")
        else:
            self._accept(chunk)
        if self._pending > LIMIT:
            self.flush()
        elif self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self._flush_soon)
        if drain and self._protocol.writing_paused:
            await self.drain()

    async def write_eof(self, chunk: bytes = b"") -> None:
        """Write the last piece, end the body (compressor flush, chunked terminator) and send
        everything buffered in one go. A second call does nothing."""
        if self._eof:
            return
        if self._exc is not None:
            raise self._exc
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        if chunk and self._on_chunk_sent is not None:
            await self._on_chunk_sent(chunk)
        compressor = self._compress
        if compressor is not None:
            self._compress = None
            if chunk:
                chunk = await compressor.compress_async(chunk)
            tail = compressor.flush()
            if tail:
                chunk = chunk + tail if chunk else tail
        if self.length is not None:
            chunk = self._truncate(chunk)
        if self.chunked:
            if chunk:
                self._accept(b"%x\r\n" % len(chunk))
                self._accept(chunk)
                self._accept(b"\r\n0\r\n\r\n")
            else:
                self._accept(b"0\r\n\r\n")
        elif chunk:
            self._accept(chunk)
        self._eof = True
        self._on_chunk_sent = None
        self.flush()
        if self._protocol.writing_paused:
            await self.drain()

    async def drain(self) -> None:
        """Send what is buffered, then wait while the transport's buffer is above its
        high-water mark. Raises ``ConnectionResetError`` if the connection is lost."""
        if self._exc is not None:
            raise self._exc
        if self._parts:
            self.flush()
        self.buffer_size = 0
        protocol = self._protocol
        if protocol.writing_paused:
            await protocol._drain_helper()

    def set_eof(self) -> None:
        """Mark the message complete without writing a terminator (the body went out another
        way, e.g. sendfile). Buffered bytes are still sent if the transport is open."""
        if self._parts:
            try:
                self.flush()
            except ConnectionResetError:
                pass
        self._eof = True
        self._compress = None

    def flush(self) -> None:
        """Hand everything buffered to the transport now.

        Raises ``ConnectionResetError`` if the transport is closing or gone (the buffered bytes
        are dropped: they can no longer be delivered).
        """
        handle = self._flush_handle
        if handle is not None:
            handle.cancel()
            self._flush_handle = None
        parts = self._parts
        if not parts:
            return
        size = self._pending
        self._parts = []
        self._pending = 0
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        if len(parts) == 1:
            transport.write(parts[0])
        elif not _writelines_joins(transport):
            transport.writelines(parts)
        elif size <= _JOIN_MAX:
            transport.write(b"".join(parts))
        else:
            _write_unjoined(transport, parts)

    def _flush_soon(self) -> None:
        self._flush_handle = None
        try:
            self.flush()
        except ConnectionResetError as exc:
            # Nobody to raise to now: report it to the next write(), drain() or write_eof().
            self._exc = exc

    def _accept(self, data: bytes) -> None:
        size = len(data)
        self._parts.append(data)
        self._pending += size
        self.buffer_size += size
        self.output_size += size

    def _truncate(self, chunk: bytes) -> bytes:
        length = self.length
        assert length is not None
        size = len(chunk)
        if size > length:
            chunk = chunk[:length]
            size = length
        self.length = length - size
        return chunk


def _write_unjoined(transport: asyncio.WriteTransport, parts: list[bytes]) -> None:
    """Write ``parts`` to a transport without zero-copy writelines: small neighbours joined,
    large parts on their own so they are not copied just to be sent."""
    small: list[bytes] = []
    for part in parts:
        if len(part) < _JOIN_MAX:
            small.append(part)
            continue
        if small:
            transport.write(small[0] if len(small) == 1 else b"".join(small))
            small = []
        transport.write(part)
    if small:
        transport.write(small[0] if len(small) == 1 else b"".join(small))
