"""Request and response bodies as objects (``aiohttp.payload``).

A `Payload` wraps one body value (bytes, text, a file, an async iterable...) together with the
headers that describe it (Content-Type, Content-Disposition) and its size when it is known. The
client and the server send a body with ``await payload.write(writer)``, where ``writer`` is an
``AbstractStreamWriter``; a ``size`` of ``None`` means "unknown", and the sender then uses
chunked transfer coding.

`get_payload` turns a plain value into a payload through `PAYLOAD_REGISTRY`: the first
registered factory whose type matches wins (``Order.try_first`` factories before the normal ones,
``Order.try_last`` ones after). Applications add their own types with `payload_type` or
`register_payload`.

Re-sending: bytes, text and seekable files can be written any number of times (a seekable file
remembers its position at creation and goes back to it before each write), so a 307/308 redirect
can send the same body again. Non-seekable files and async iterables can be written once;
``consumed`` tells which is the case. Whoever sends a payload closes it (``await close()``) when
it will not be sent again; this releases file handles.

Files are read in 64 KiB chunks in the loop's default executor so a slow disk never blocks the
event loop.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import io
import json
import mimetypes
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable
from itertools import chain
from pathlib import Path
from typing import IO, Any, Final, TextIO

from multidict import CIMultiDict

from . import hdrs
from ._http._writer import AbstractStreamWriter
from .helpers import Sentinel, content_disposition_header, parse_mimetype, sentinel
from .streams import StreamReader
from .typedefs import JSONEncoder, LooseHeaders

__all__ = (
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonPayload",
    "LookupError",
    "Order",
    "Payload",
    "PayloadRegistry",
    "StreamReaderPayload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "get_payload",
    "payload_type",
    "register_payload",
)

#: Size of the pieces files are read and sent in.
READ_SIZE: Final = 2**16


class LookupError(builtins.LookupError):
    """No payload factory is registered for the type of the given value."""


class Order(enum.StrEnum):
    """Where a factory goes in the registry's search order."""

    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """Wrap ``data`` in a payload (``data`` itself if it already is one).

    Extra arguments go to the payload factory (``content_type=``, ``headers=``, ...). Raises
    `LookupError` when no factory is registered for the type of ``data``.
    """
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


def register_payload(
    factory: Callable[..., Payload],
    type: type[Any] | tuple[type[Any], ...],
    *,
    order: Order = Order.normal,
) -> None:
    """Register ``factory`` in `PAYLOAD_REGISTRY` for values of ``type``."""
    PAYLOAD_REGISTRY.register(factory, type, order=order)


class payload_type:
    """Class decorator registering a `Payload` subclass as the factory for ``type``::

    @payload_type(MyData)
    class MyDataPayload(Payload): ...
    """

    __slots__ = ("order", "type")

    def __init__(
        self,
        type: type[Any] | tuple[type[Any], ...],
        *,
        order: Order = Order.normal,
    ) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: type[Payload]) -> type[Payload]:
        register_payload(factory, self.type, order=self.order)
        return factory


_Entry = tuple[Callable[..., "Payload"], "type[Any] | tuple[type[Any], ...]"]


class PayloadRegistry:
    """Maps value types to payload factories.

    Lookups are cached by the exact type of the value, so the linear search over registered
    types runs once per type; registering a factory clears the cache.
    """

    __slots__ = ("_by_type", "_first", "_last", "_normal")

    def __init__(self) -> None:
        self._first: list[_Entry] = []
        self._normal: list[_Entry] = []
        self._last: list[_Entry] = []
        self._by_type: dict[type[Any], Callable[..., Payload] | None] = {}

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        """Return ``data`` as a payload; raises `LookupError` for an unregistered type."""
        if isinstance(data, Payload):
            return data
        data_type = type(data)
        try:
            factory = self._by_type[data_type]
        except KeyError:
            factory = self._find(data)
            self._by_type[data_type] = factory
        if factory is None:
            raise LookupError(f"no payload factory for {data_type.__qualname__} objects")
        return factory(data, *args, **kwargs)

    def _find(self, data: Any) -> Callable[..., Payload] | None:
        for factory, type_ in chain(self._first, self._normal, self._last):
            if isinstance(data, type_):
                return factory
        return None

    def register(
        self,
        factory: Callable[..., Payload],
        type: type[Any] | tuple[type[Any], ...],
        *,
        order: Order = Order.normal,
    ) -> None:
        """Add ``factory`` for values of ``type`` (a type or a tuple of types)."""
        if order is Order.try_first:
            self._first.append((factory, type))
        elif order is Order.normal:
            self._normal.append((factory, type))
        elif order is Order.try_last:
            self._last.append((factory, type))
        else:
            raise ValueError(f"Unsupported order {order!r}")
        self._by_type.clear()


def guess_filename(obj: Any, default: str | None = None) -> str | None:
    """The base name of a file object's ``name``, or ``default`` (pseudo names like ``<stdin>``
    and integer file descriptors do not count)."""
    name = getattr(obj, "name", None)
    if name and isinstance(name, str) and name[0] != "<" and name[-1] != ">":
        return Path(name).name
    return default


def _check_header_value(name: str, value: str) -> None:
    # A part header is written inside the body: a CR or LF would let a value forge headers or
    # even a boundary line.
    for ch in "\r\n\x00":
        if ch in name or ch in value:
            raise ValueError(f"part header {name!r}: {value!r} contains a forbidden character")


class Payload(ABC):
    """A body to send: a value, its headers and (when known) its size in bytes.

    ``content_type`` defaults to the class's ``_default_content_type``, or to a guess from
    ``filename`` when one is given. ``headers`` are added last and win over both.
    """

    __slots__ = ("_consumed", "_encoding", "_filename", "_headers", "_size", "_value")

    _default_content_type: str = "application/octet-stream"

    def __init__(
        self,
        value: Any,
        headers: LooseHeaders | None = None,
        content_type: str | Sentinel | None = sentinel,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._value = value
        self._size: int | None = None
        self._consumed = False
        if content_type is not sentinel and content_type is not None:
            self._headers[hdrs.CONTENT_TYPE] = content_type
        elif filename is not None:
            guessed = mimetypes.guess_type(filename)[0]
            self._headers[hdrs.CONTENT_TYPE] = guessed or self._default_content_type
        else:
            self._headers[hdrs.CONTENT_TYPE] = self._default_content_type
        if headers:
            self._headers.update(headers)

    @property
    def size(self) -> int | None:
        """Size of the body in bytes, or ``None`` when it is not known in advance."""
        return self._size

    @property
    def filename(self) -> str | None:
        """File name of the body, if it has one."""
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        """Headers describing the body (Content-Type, Content-Disposition...)."""
        return self._headers

    @property
    def _binary_headers(self) -> bytes:
        """The headers as written at the start of a multipart part (with the blank line)."""
        lines = []
        for name, value in self._headers.items():
            _check_header_value(name, value)
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("utf-8")

    @property
    def encoding(self) -> str | None:
        """Character encoding of a text body."""
        return self._encoding

    @property
    def content_type(self) -> str:
        """The Content-Type header value."""
        return self._headers[hdrs.CONTENT_TYPE]

    @property
    def consumed(self) -> bool:
        """True once the body cannot be written (again): closed, or a one-shot stream used."""
        return self._consumed

    @property
    def autoclose(self) -> bool:
        """True when the payload holds no resource (file handle...) needing ``close()``."""
        return True

    def set_content_disposition(
        self,
        disptype: str,
        quote_fields: bool = True,
        _charset: str = "utf-8",
        **params: str,
    ) -> None:
        """Set the Content-Disposition header, e.g. ``("attachment", filename="a.txt")``.

        Non-ASCII values are sent as RFC 5987 ``name*=utf-8''...`` parameters when
        ``quote_fields`` is true (``filename`` also gets a plain fallback).
        """
        self._headers[hdrs.CONTENT_DISPOSITION] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, params=params
        )

    @abstractmethod
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Return the body as text (for logging and inspection)."""

    @abstractmethod
    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body to ``writer``."""

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Write the body, at most ``content_length`` bytes of it (all of it for ``None``)."""
        if content_length is None:
            await self.write(writer)
        else:
            await self.write(_LimitedWriter(writer, content_length))

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Return the whole body as bytes (the same bytes ``write`` would send)."""
        collector = _CollectingWriter()
        await self.write(collector)
        return bytes(collector.buffer)

    def _close(self) -> None:
        """Release what the payload holds, without waiting (see `close`)."""
        self._consumed = True

    async def close(self) -> None:
        """Release what the payload holds (closes files); it cannot be written afterwards."""
        self._close()


class _CollectingWriter(AbstractStreamWriter):
    """A writer that keeps everything written to it in memory (for ``as_bytes``)."""

    __slots__ = ("buffer", "buffer_size", "length", "output_size")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.buffer_size = 0
        self.output_size = 0
        self.length = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.buffer += chunk

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.buffer += chunk

    async def drain(self) -> None:
        pass

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise RuntimeError("an in-memory payload collector does not compress")

    def enable_chunking(self) -> None:
        pass

    async def write_headers(self, status_line: str, headers: Any) -> None:
        raise RuntimeError("an in-memory payload collector has no head")


class _LimitedWriter(AbstractStreamWriter):
    """Passes at most ``limit`` bytes on to ``writer`` and drops the rest."""

    __slots__ = ("_remaining", "_writer", "buffer_size", "length", "output_size")

    def __init__(self, writer: AbstractStreamWriter, limit: int) -> None:
        self._writer = writer
        self._remaining = limit
        self.buffer_size = 0
        self.output_size = 0
        self.length = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._remaining <= 0:
            return
        if len(chunk) > self._remaining:
            chunk = chunk[: self._remaining]
        self._remaining -= len(chunk)
        await self._writer.write(chunk)

    async def write_eof(self, chunk: bytes = b"") -> None:
        await self.write(chunk)

    async def drain(self) -> None:
        await self._writer.drain()

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        self._writer.enable_compression(encoding, strategy)

    def enable_chunking(self) -> None:
        self._writer.enable_chunking()

    async def write_headers(self, status_line: str, headers: Any) -> None:
        await self._writer.write_headers(status_line, headers)


# --- In-memory bodies -------------------------------------------------------------------------


class BytesPayload(Payload):
    """A ``bytes``, ``bytearray`` or ``memoryview`` body; re-sendable."""

    __slots__ = ()

    _value: bytes | bytearray | memoryview

    def __init__(self, value: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        if "content_type" not in kwargs:
            kwargs["content_type"] = "application/octet-stream"
        super().__init__(value, *args, **kwargs)
        self._size = value.nbytes if isinstance(value, memoryview) else len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(self._value)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        value = self._value
        if content_length is not None and content_length < len(value):
            value = value[:content_length]
        await writer.write(value)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        value = self._value
        return value if type(value) is bytes else bytes(value)


class StringPayload(BytesPayload):
    """A ``str`` body, encoded with ``encoding``, or the charset of ``content_type``, or UTF-8.

    The default Content-Type is ``text/plain; charset=<encoding>``.
    """

    __slots__ = ()

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            if content_type is None:
                real_encoding = "utf-8"
                content_type = "text/plain; charset=utf-8"
            else:
                mimetype = parse_mimetype(content_type)
                real_encoding = mimetype.parameters.get("charset", "utf-8")
        else:
            if content_type is None:
                content_type = f"text/plain; charset={encoding}"
            real_encoding = encoding
        super().__init__(
            value.encode(real_encoding),
            *args,
            encoding=real_encoding,
            content_type=content_type,
            **kwargs,
        )


class StringIOPayload(StringPayload):
    """An ``io.StringIO`` body: its remaining text, read at once."""

    __slots__ = ()

    def __init__(self, value: IO[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class JsonPayload(BytesPayload):
    """A JSON document made from ``value`` with ``dumps``."""

    __slots__ = ()

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: JSONEncoder = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding),
            *args,
            content_type=content_type,
            encoding=encoding,
            **kwargs,
        )


# --- Files ------------------------------------------------------------------------------------


class IOBasePayload(Payload):
    """A binary file object body, read in 64 KiB chunks in the default executor.

    The file's position when the payload is made is where the body starts; if the file is
    seekable every write starts there again. ``size`` is what remains from that position (from
    ``fstat`` for regular files, by seeking otherwise), or ``None`` for pipes and sockets. When
    the payload has a ``filename`` (given, or the base name of the file's ``name``) and no
    Content-Disposition header, one is set with ``disposition`` (``None`` for none).
    """

    __slots__ = ("_cached", "_start")

    _value: IO[Any]

    def __init__(
        self, value: IO[Any], disposition: str | None = "attachment", *args: Any, **kwargs: Any
    ) -> None:
        if "filename" not in kwargs:
            kwargs["filename"] = guess_filename(value)
        super().__init__(value, *args, **kwargs)
        # Bytes read from a non-seekable file by as_bytes()/decode(), so it can still be sent.
        self._cached: bytes | None = None
        self._start: int | None = _tell(value)
        self._size = self._measure()
        if (
            self._filename is not None
            and disposition is not None
            and hdrs.CONTENT_DISPOSITION not in self._headers
        ):
            self.set_content_disposition(disposition, filename=self._filename)

    def _measure(self) -> int | None:
        value, start = self._value, self._start
        if start is None:
            return None
        try:
            st = os.fstat(value.fileno())
        except (AttributeError, OSError, ValueError):
            pass
        else:
            if stat.S_ISREG(st.st_mode):
                return max(st.st_size - start, 0)
            return None
        try:
            end = value.seek(0, os.SEEK_END)
            value.seek(start)
        except (AttributeError, OSError, ValueError):
            return None
        return max(end - start, 0)

    @property
    def autoclose(self) -> bool:
        return False

    def _rewind(self) -> None:
        """Go back to the start of the body before a write (runs in the executor)."""
        if self._start is not None:
            self._value.seek(self._start)

    def _begin_write(self) -> bool:
        """Check the body can be written now; False means "send the cached bytes"."""
        if self._consumed:
            raise RuntimeError(f"{type(self).__name__} was closed or already sent")
        if self._cached is not None:
            return False
        if self._start is None:
            # One pass only: a pipe or socket cannot be read twice.
            self._consumed = True
        return True

    def _read_first(self, size: int) -> bytes:
        self._rewind()
        return self._read(size)

    def _read(self, size: int) -> bytes:
        data = self._value.read(size)
        return data if isinstance(data, bytes) else bytes(data)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        if not self._begin_write():
            assert self._cached is not None
            data = self._cached
            await writer.write(data if content_length is None else data[:content_length])
            return
        remaining = self._size
        if content_length is not None and (remaining is None or content_length < remaining):
            remaining = content_length
        loop = asyncio.get_running_loop()
        read_size = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
        chunk = await loop.run_in_executor(None, self._read_first, read_size)
        while chunk:
            if remaining is not None:
                if len(chunk) > remaining:  # text read by characters may encode longer
                    chunk = chunk[:remaining]
                remaining -= len(chunk)
            await writer.write(chunk)
            if remaining is not None:
                if remaining <= 0:
                    break
                read_size = min(READ_SIZE, remaining)
            chunk = await loop.run_in_executor(None, self._read, read_size)

    def _read_all(self) -> bytes:
        """The whole body, from its start; keeps it when the file cannot be read again."""
        if self._cached is not None:
            return self._cached
        if self._consumed:
            raise RuntimeError(f"{type(self).__name__} was closed or already sent")
        self._rewind()
        data = self._value.read() if self._size is None else self._value.read(self._size)
        if not isinstance(data, bytes):
            data = bytes(data)
        if self._start is None:
            self._cached = data
        return data

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._read_all().decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._read_all)

    def _close(self) -> None:
        self._consumed = True
        self._value.close()

    async def close(self) -> None:
        if self._value.closed:
            self._consumed = True
            return
        self._consumed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._value.close)


def _tell(value: IO[Any]) -> int | None:
    """The current position of a seekable file, ``None`` for one that cannot seek."""
    try:
        if not value.seekable():
            return None
        return value.tell()
    except (AttributeError, OSError, ValueError):
        return None


class TextIOPayload(IOBasePayload):
    """A text file object body, encoded with ``encoding`` (or the Content-Type's charset, or
    UTF-8). Its size is not known in advance: newline translation and the encoding change the
    byte count, so it is sent chunked."""

    __slots__ = ()

    _value: TextIO

    def __init__(
        self,
        value: TextIO,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            if content_type is None:
                encoding = "utf-8"
                content_type = "text/plain; charset=utf-8"
            else:
                mimetype = parse_mimetype(content_type)
                encoding = mimetype.parameters.get("charset", "utf-8")
        elif content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value, *args, content_type=content_type, encoding=encoding, **kwargs)

    def _measure(self) -> int | None:
        return None

    def _read(self, size: int) -> bytes:
        assert self._encoding is not None
        return self._value.read(size).encode(self._encoding)

    def _read_all(self) -> bytes:
        assert self._encoding is not None
        return self._read_text().encode(self._encoding)

    def _read_text(self) -> str:
        if self._cached is not None:
            assert self._encoding is not None
            return self._cached.decode(self._encoding)
        if self._consumed:
            raise RuntimeError(f"{type(self).__name__} was closed or already sent")
        self._rewind()
        text = self._value.read()
        if self._start is None:
            assert self._encoding is not None
            self._cached = text.encode(self._encoding)
        return text

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._read_text()


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO`` body: sent from memory, without the executor."""

    __slots__ = ()

    _value: io.BytesIO

    def _measure(self) -> int | None:
        if self._start is None:
            return None
        with self._value.getbuffer() as buf:
            return max(len(buf) - self._start, 0)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        if self._size is None:  # a closed BytesIO: let the base class report it
            await super().write_with_length(writer, content_length)
            return
        self._begin_write()
        value = self._value
        remaining = self._size if content_length is None else min(self._size, content_length)
        self._rewind()
        while remaining > 0:
            chunk = value.read(min(READ_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await writer.write(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._read_all()

    async def close(self) -> None:
        self._close()


class BufferedReaderPayload(IOBasePayload):
    """An ``io.BufferedReader`` / ``io.BufferedRandom`` body (a file opened with ``"rb"``)."""

    __slots__ = ()


# --- Streams ----------------------------------------------------------------------------------


class AsyncIterablePayload(Payload):
    """A body produced by an async iterable of bytes (an async generator...), sent chunked.

    It can be written once. ``as_bytes()`` reads it all and keeps the chunks, after which the
    payload can be written any number of times.
    """

    __slots__ = ("_cached_chunks", "_iter")

    _value: AsyncIterable[bytes]

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                f"value argument must support collections.abc.AsyncIterable interface, "
                f"got {type(value)!r}"
            )
        if "content_type" not in kwargs:
            kwargs["content_type"] = "application/octet-stream"
        super().__init__(value, *args, **kwargs)
        self._iter: AsyncIterator[bytes] | None = value.__aiter__()
        self._cached_chunks: list[bytes] | None = None

    async def write(self, writer: AbstractStreamWriter) -> None:
        if self._cached_chunks is not None:
            for chunk in self._cached_chunks:
                await writer.write(chunk)
            return
        if self._iter is None or self._consumed:
            raise RuntimeError(f"{type(self).__name__} was already sent and cannot be re-sent")
        iterator, self._iter = self._iter, None
        self._consumed = True
        async for chunk in iterator:
            await writer.write(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if self._cached_chunks is None:
            if self._iter is None or self._consumed:
                raise RuntimeError(f"{type(self).__name__} was already sent")
            iterator, self._iter = self._iter, None
            self._cached_chunks = [chunk async for chunk in iterator]
        return b"".join(self._cached_chunks)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self._cached_chunks is not None:
            return b"".join(self._cached_chunks).decode(encoding, errors)
        raise TypeError("Unable to decode: read the payload with as_bytes() first")

    def _close(self) -> None:
        self._consumed = True
        self._iter = None


class StreamReaderPayload(AsyncIterablePayload):
    """A body forwarded from a `StreamReader` (e.g. another response's ``content``)."""

    __slots__ = ()

    def __init__(self, value: StreamReader, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.iter_any(), *args, **kwargs)


PAYLOAD_REGISTRY: Final = PayloadRegistry()
PAYLOAD_REGISTRY.register(BytesPayload, (bytes, bytearray, memoryview))
PAYLOAD_REGISTRY.register(StringPayload, str)
# Specific IO classes before their bases: StringIO is a TextIOBase, BytesIO an IOBase.
PAYLOAD_REGISTRY.register(StringIOPayload, io.StringIO)
PAYLOAD_REGISTRY.register(TextIOPayload, io.TextIOBase)
PAYLOAD_REGISTRY.register(BytesIOPayload, io.BytesIO)
PAYLOAD_REGISTRY.register(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
PAYLOAD_REGISTRY.register(IOBasePayload, io.IOBase)
PAYLOAD_REGISTRY.register(StreamReaderPayload, StreamReader)
# Last, so more specific async iterables (a StreamReader, a user type) get their own factory.
PAYLOAD_REGISTRY.register(AsyncIterablePayload, AsyncIterable, order=Order.try_last)
