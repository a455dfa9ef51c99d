"""Streaming multipart reader and writer (``aiohttp.multipart``, RFC 2046 and RFC 7578).

Reading: `MultipartReader(headers, content)` reads the body ``content`` (a `StreamReader` or
anything with ``readany()``/``read(n)`` and ``at_eof()``) part by part. ``next()`` returns a
`BodyPartReader` for a plain part, another `MultipartReader` for a nested ``multipart/*`` part,
and ``None`` after the closing boundary. Parts stream: nothing is kept in memory unless asked for
with ``read()``/``text()``/``json()``/``form()``, and moving on to the next part skips whatever
was left of the previous one.

How a part ends: each part body is scanned for the delimiter ``CRLF--boundary`` (RFC 2046 §5.1.1:
the CRLF before a boundary line belongs to the boundary). A per-part ``Content-Length`` header is
ignored; the boundary alone decides, so a lying length cannot desynchronise the reader. The scan
keeps at most ``len(delimiter) - 1`` bytes back between reads, so a delimiter split across
network reads is found, and any bytes merely resembling it (a CR, LF, ``--`` or a boundary
prefix) inside binary content pass through untouched. The reader and its parts share one cursor
over the piece of body last received, so the bytes after a delimiter stay where they are for the
next reader (``StreamReader.unread_data`` is not used) and are never copied.

Errors: a malformed body (no boundary, end of data before the closing boundary, a broken boundary
or header line, too many or too long part headers) raises `MultipartError`, a ``ValueError``.
A server maps it to 400. ``BodyPartReader.read(max_size=...)`` raises `BodyPartTooLarge` (also a
``ValueError``; a server maps it to 413) when a part (or its decoded form) is larger.

Writing: `MultipartWriter` is a `Payload` made of other payloads, so it can be sent as a request
or response body, nested in another writer, and re-sent when all its parts can be.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import codecs
import json
import re
import uuid
import warnings
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, unquote_to_bytes, urlencode

from multidict import CIMultiDict, CIMultiDictProxy

from ._http._writer import AbstractStreamWriter
from .hdrs import (
    CONTENT_DISPOSITION,
    CONTENT_ENCODING,
    CONTENT_LENGTH,
    CONTENT_TRANSFER_ENCODING,
    CONTENT_TYPE,
)
from .helpers import is_token, parse_mimetype
from .payload import (
    JsonPayload,
    LookupError,
    Payload,
    StringPayload,
    get_payload,
)
from .typedefs import LooseHeaders

__all__ = (
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BodyPartReader",
    "BodyPartTooLarge",
    "MultipartError",
    "MultipartReader",
    "MultipartResponseWrapper",
    "MultipartWriter",
    "content_disposition_filename",
    "parse_content_disposition",
)

#: Longest boundary RFC 2046 §5.1.1 allows.
_MAX_BOUNDARY: Final = 70
#: Longest transport padding accepted after a boundary (RFC 2046 §5.1.1 LWSP before CRLF).
_MAX_PADDING: Final = 1024


class BadContentDispositionHeader(RuntimeWarning):
    """Warned when a Content-Disposition header cannot be parsed; it is then ignored."""


class BadContentDispositionParam(RuntimeWarning):
    """Warned when a Content-Disposition parameter is malformed."""


class MultipartError(ValueError):
    """The multipart body is malformed (boundary missing or broken, truncated, bad headers)."""


class BodyPartTooLarge(ValueError):
    """A body part is larger than the ``max_size`` its reader was given."""

    def __init__(self, max_size: int, actual_size: int) -> None:
        super().__init__(f"body part is larger than {max_size} bytes (got {actual_size})")
        self.max_size = max_size
        self.actual_size = actual_size


# --- Content-Disposition (RFC 6266, RFC 5987/8187, RFC 2231 continuations) ----------------------

# The parts of one parameter: name, then a quoted string or a bare value up to the next ";".
_CD_PARAM: Final = re.compile(
    r'[ \t]*(?P<key>[^\s;=]+)[ \t]*(?:=[ \t]*(?P<value>"(?:[^"\\]|\\.)*"|[^;"]*))?[ \t]*(?:;|$)',
    re.DOTALL,
)
_QUOTED_PAIR: Final = re.compile(r"\\(.)", re.DOTALL)
# ext-value = charset "'" [ language ] "'" value-chars (RFC 8187 §3.2)
_EXT_VALUE: Final = re.compile(r"([!#$%&+\-^_`{}~0-9A-Za-z]*)'([A-Za-z0-9\-]*)'(.*)", re.DOTALL)
# A continuation section: name*N or name*N* (RFC 2231 §3), N without leading zeros.
_SECTION: Final = re.compile(r"(0|[1-9][0-9]{0,2})(\*?)")


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """Split a Content-Disposition value into the lower-cased type and its parameters.

    Parameter names are lower-cased, quoted strings unquoted. An RFC 5987 ``name*`` value is
    decoded and stored under ``name*``; RFC 2231 continuation sections (``name*0``,
    ``name*1*``...) are stored as they are, for `content_disposition_filename` to join. A header
    that does not parse gives ``(None, {})`` with a `BadContentDispositionHeader` warning (a
    malformed parameter, with `BadContentDispositionParam`); an ``name*`` value that cannot be
    decoded is dropped with a `BadContentDispositionParam` warning.
    """
    if not header:
        return None, {}
    disptype, _, rest = header.partition(";")
    disptype = disptype.strip(" \t")
    if not is_token(disptype):
        warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
        return None, {}
    params: dict[str, str] = {}
    pos, end = 0, len(rest)
    while pos < end:
        if rest[pos] in " \t;":  # empty list members are tolerated
            pos += 1
            continue
        match = _CD_PARAM.match(rest, pos)
        if match is None:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        pos = match.end()
        key, value = match.group("key"), match.group("value")
        if value is None or not is_token(key):
            warnings.warn(BadContentDispositionParam(match.group(0)), stacklevel=2)
            return None, {}
        key = key.lower()
        if key in params:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        if value.startswith('"'):
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        else:
            value = value.rstrip(" \t")
            if key.endswith("*") and key.count("*") == 1:
                # name*=charset'lang'pct-encoded; continuation sections (name*0*) stay raw.
                decoded = _decode_ext_value(value)
                if decoded is None:
                    warnings.warn(BadContentDispositionParam(match.group(0)), stacklevel=2)
                    continue
                value = decoded
            elif not is_token(value):
                warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
                return None, {}
        if key in ("filename", "filename*"):
            # Old browsers send full client-side paths; never hand out an absolute one.
            value = value.lstrip("\\/")
        params[key] = value
    return disptype.lower(), params


def _decode_ext_value(value: str) -> str | None:
    """Decode ``charset'lang'pct-encoded`` (RFC 8187), or ``None`` if it is not one."""
    match = _EXT_VALUE.fullmatch(value)
    if match is None:
        return None
    charset = match.group(1) or "utf-8"
    try:
        codecs.lookup(charset)
        return unquote(match.group(3), charset, "strict")
    except (UnicodeDecodeError, builtins.LookupError):  # bad bytes or unknown charset
        return None


def content_disposition_filename(params: Mapping[str, str], name: str = "filename") -> str | None:
    """The value of parameter ``name`` from `parse_content_disposition` results.

    Prefers the RFC 5987 ``name*`` form, then plain ``name``, then joins RFC 2231 continuation
    sections ``name*0``, ``name*1``... (``*N*`` sections percent-decoded with the charset of
    the first one). ``None`` if the parameter is missing.
    """
    if not params:
        return None
    ext = name + "*"
    if ext in params:
        return params[ext]
    if name in params:
        return params[name]
    sections: dict[int, tuple[bool, str]] = {}
    for key, value in params.items():
        if not key.startswith(ext):
            continue
        match = _SECTION.fullmatch(key[len(ext) :])
        if match is not None:
            sections[int(match.group(1))] = (match.group(2) == "*", value)
    if 0 not in sections:
        return None
    charset = "utf-8"
    chunks: list[bytes] = []
    for index in range(len(sections)):
        if index not in sections:
            break
        encoded, value = sections[index]
        if encoded:
            if index == 0:
                parts = value.split("'", 2)
                if len(parts) == 3:
                    charset = parts[0] or "utf-8"
                    value = parts[2]
            chunks.append(unquote_to_bytes(value))
        else:
            chunks.append(value.encode("utf-8"))
    try:
        return b"".join(chunks).decode(charset)
    except (UnicodeDecodeError, builtins.LookupError):
        return b"".join(chunks).decode("utf-8", "replace")


# --- Reading ----------------------------------------------------------------------------------


class _BodySource:
    """The body being read, as a cursor over its current piece: ``_buf[_pos:]`` are the bytes
    received but not read yet. The multipart reader, its parts and their part streams share one
    source and move the cursor; a part that finds its delimiter just leaves the cursor there, so
    nothing is copied or pushed back."""

    __slots__ = ("_buf", "_content", "_pos", "_readany")

    def __init__(self, content: Any) -> None:
        self._content = content
        self._buf = b""
        self._pos = 0
        readany = getattr(content, "readany", None)
        if readany is None:

            async def readany() -> bytes:
                data: bytes = await content.read(2**16)
                return data

        self._readany = readany

    def at_eof(self) -> bool:
        return self._pos >= len(self._buf) and bool(self._content.at_eof())

    async def fill(self) -> bool:
        """Make sure there are unread bytes in ``_buf``; False at the end of the body."""
        if self._pos < len(self._buf):
            return True
        data = await self._readany()
        self._buf = data if type(data) is bytes else bytes(data)
        self._pos = 0
        return bool(data)

    async def readexactly(self, n: int) -> bytes:
        """``n`` bytes, or fewer at the end of the body."""
        parts: list[bytes] = []
        while n > 0 and await self.fill():
            pos = self._pos
            end = min(len(self._buf), pos + n)
            parts.append(self._buf[pos:end])
            self._pos = end
            n -= end - pos
        return b"".join(parts)

    async def readline(self, limit: int, what: str) -> bytes:
        """A line with its LF (without, at the end of the body). Raises `MultipartError` when
        the line is longer than ``limit`` bytes."""
        parts: list[bytes] = []
        size = 0
        while await self.fill():
            buf, pos = self._buf, self._pos
            idx = buf.find(b"\n", pos, pos + limit - size + 1)
            end = len(buf) if idx < 0 else idx + 1
            size += end - pos
            if size > limit:
                raise MultipartError(f"{what} is longer than {limit} bytes")
            parts.append(buf[pos:end])
            self._pos = end
            if idx >= 0:
                break
        return b"".join(parts)


def _partial_delimiter(buf: bytes, delim: bytes, start: int) -> int:
    """Length of the longest end of ``buf[start:]`` that is a proper prefix of ``delim`` (which
    starts with CR): those bytes may be the start of a delimiter split across reads."""
    pos = buf.find(b"\r", max(start, len(buf) - len(delim) + 1))
    while pos >= 0:
        if delim.startswith(buf[pos:]):
            return len(buf) - pos
        pos = buf.find(b"\r", pos + 1)
    return 0


class _PartStream:
    """The body of one part, read from a `_BodySource` up to the delimiter ``CRLF--boundary``.

    At the delimiter the source's cursor is left on ``--boundary``, for the multipart reader to
    read the boundary line. With ``preamble``, the stream is the preamble before the first
    boundary, which may also start right at the beginning of the body.

    It offers the ``StreamReader`` reading methods, so a nested `MultipartReader` reads from it.
    """

    __slots__ = ("_buf", "_delim", "_done", "_pos", "_source", "_tail")

    def __init__(self, source: _BodySource, boundary: bytes, *, preamble: bool = False) -> None:
        self._source = source
        self._delim = b"\r\n" + boundary
        # Bytes scanned at the end of a piece that may begin a delimiter; a virtual CRLF lets
        # the preamble match a boundary at the very start of the body.
        self._tail = b"\r\n" if preamble else b""
        self._buf = b""  # scanned body bytes not yet returned, from ``_pos``
        self._pos = 0
        self._done = False  # delimiter found

    def at_eof(self) -> bool:
        return self._done and self._pos >= len(self._buf)

    async def _fill(self) -> bool:
        """Scan on until some body bytes are in ``_buf``; False at the delimiter."""
        source, delim = self._source, self._delim
        while not self._done:
            if not await source.fill():
                raise MultipartError(
                    "multipart body ended before the closing boundary "
                    f"{delim[2:].decode('latin-1')!r}--"
                )
            buf, pos = source._buf, source._pos
            if self._tail:
                # Rare: the last piece ended with what may be the start of a delimiter.
                buf = self._tail + buf[pos:]
                pos = 0
                source._buf, source._pos = buf, 0
                self._tail = b""
            idx = buf.find(delim, pos)
            if idx >= 0:
                source._pos = idx + 2
                self._done = True
                data = buf[pos:idx]
            else:
                end = len(buf) - _partial_delimiter(buf, delim, pos)
                data = buf[pos:end]
                self._tail = buf[end:]
                source._pos = len(buf)
            if data:
                self._buf = data
                self._pos = 0
                return True
        return False

    async def readany(self) -> bytes:
        if self._pos >= len(self._buf) and not await self._fill():
            return b""
        data = self._buf[self._pos :] if self._pos else self._buf
        self._buf = b""
        self._pos = 0
        return data

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            parts = []
            while chunk := await self.readany():
                parts.append(chunk)
            return b"".join(parts)
        if n == 0 or (self._pos >= len(self._buf) and not await self._fill()):
            return b""
        start = self._pos
        # Hand out the scanned bytes without a copy when all of them are wanted.
        whole = start == 0 and n >= len(self._buf)
        data = self._buf if whole else self._buf[start : start + n]
        self._pos = start + len(data)
        return data

    async def readline(self) -> bytes:
        parts = []
        while self._pos < len(self._buf) or await self._fill():
            idx = self._buf.find(b"\n", self._pos)
            if idx >= 0:
                parts.append(self._buf[self._pos : idx + 1])
                self._pos = idx + 1
                break
            parts.append(self._buf[self._pos :] if self._pos else self._buf)
            self._buf = b""
            self._pos = 0
        return b"".join(parts)

    async def release(self) -> None:
        """Skip the rest of the part."""
        self._buf = b""
        self._pos = 0
        while await self._fill():
            self._buf = b""


def _decompress(data: bytes, encoding: str, max_size: int | None) -> bytes:
    if encoding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0:
        wbits = zlib.MAX_WBITS  # zlib-wrapped deflate, what RFC 9110 calls "deflate"
    else:
        wbits = -zlib.MAX_WBITS  # raw deflate, what many senders (aiohttp included) produce
    decompressor = zlib.decompressobj(wbits)
    try:
        if max_size is None:
            result = decompressor.decompress(data)
        else:
            result = decompressor.decompress(data, max_size + 1)
            if len(result) > max_size:
                raise BodyPartTooLarge(max_size, len(result))
        result += decompressor.flush()
    except zlib.error as exc:
        raise MultipartError(f"cannot decode {encoding} body part: {exc}") from exc
    if not decompressor.eof:
        raise MultipartError(f"cannot decode {encoding} body part: truncated data")
    return result


class BodyPartReader:
    """Reads one part of a multipart body.

    ``boundary`` is the boundary line as bytes (``b"--" + boundary``), ``headers`` the part's
    headers, ``content`` the body it is read from. ``subtype`` is the multipart subtype
    (``form-data`` parts ignore Content-Encoding, RFC 7578 §4.8) and ``default_charset`` the
    charset of text parts without one (the form's ``_charset_`` field, RFC 7578 §4.6).
    """

    chunk_size = 8192

    __slots__ = ("_default_charset", "_disposition", "_is_form_data", "_stream", "headers")

    def __init__(
        self,
        boundary: bytes,
        headers: CIMultiDictProxy[str],
        content: Any,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
    ) -> None:
        self.headers = headers
        source = content if isinstance(content, _BodySource) else _BodySource(content)
        self._stream = _PartStream(source, boundary)
        self._is_form_data = subtype == "form-data"
        self._default_charset = default_charset
        self._disposition: tuple[str | None, dict[str, str]] | None = None

    def __aiter__(self) -> AsyncIterator[bytearray]:
        return self

    async def __anext__(self) -> bytearray:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def next(self) -> bytearray | None:
        """The whole (remaining) part, or ``None`` once it was read."""
        data = await self.read()
        return data or None

    async def read(self, *, decode: bool = False, max_size: int | None = None) -> bytearray:
        """Read the rest of the part (a ``bytearray``); with ``decode``, undo its
        Content-Transfer-Encoding and Content-Encoding (see `decode`).

        ``max_size`` limits the part (raw and decoded) to that many bytes: past it,
        `BodyPartTooLarge` is raised.
        """
        data = bytearray()
        stream = self._stream
        while chunk := await stream.readany():
            data += chunk
            if max_size is not None and len(data) > max_size:
                raise BodyPartTooLarge(max_size, len(data))
        if decode:
            decoded = self._decode(data, max_size)
            return data if decoded is data else bytearray(decoded)
        return data

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Up to ``size`` bytes of the part (raw), ``b""`` at its end."""
        return await self._stream.read(size)

    async def readline(self) -> bytes:
        """The next line of the part (raw, with its LF), ``b""`` at its end."""
        return await self._stream.readline()

    async def release(self) -> None:
        """Skip the rest of the part."""
        await self._stream.release()

    async def text(self, *, encoding: str | None = None) -> str:
        """The decoded part as text, in ``encoding`` or its charset (default UTF-8)."""
        data = await self.read(decode=True)
        return data.decode(encoding or self.get_charset() or "utf-8")

    async def json(self, *, encoding: str | None = None) -> Any:
        """The decoded part parsed as JSON; ``None`` for an empty part."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset() or "utf-8"))

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """The decoded part parsed as ``application/x-www-form-urlencoded`` pairs."""
        data = await self.read(decode=True)
        if not data:
            return []
        real_encoding = encoding or self.get_charset() or "utf-8"
        try:
            text = data.rstrip().decode(real_encoding)
        except UnicodeDecodeError:
            raise ValueError(f"data cannot be decoded with {real_encoding} encoding")
        return parse_qsl(text, keep_blank_values=True, encoding=real_encoding)

    def at_eof(self) -> bool:
        """True once the whole part was read."""
        return self._stream.at_eof()

    def decode(self, data: bytes | bytearray) -> bytes | bytearray:
        """Undo the part's Content-Transfer-Encoding (base64, quoted-printable, binary, 7bit,
        8bit) and then its Content-Encoding (gzip, deflate, identity; not for form-data).

        Raises ``RuntimeError`` for an unknown encoding, `MultipartError` for corrupt data.
        """
        return self._decode(data, None)

    def _decode(self, data: bytes | bytearray, max_size: int | None) -> bytes | bytearray:
        if CONTENT_TRANSFER_ENCODING in self.headers:
            data = self._decode_content_transfer(data)
        if not self._is_form_data and CONTENT_ENCODING in self.headers:
            encoding = self.headers[CONTENT_ENCODING].strip().lower()
            if encoding in ("gzip", "deflate"):
                return _decompress(bytes(data), encoding, max_size)
            if encoding != "identity":
                raise RuntimeError(f"unknown content encoding: {encoding}")
        if max_size is not None and len(data) > max_size:
            raise BodyPartTooLarge(max_size, len(data))
        return data

    def _decode_content_transfer(self, data: bytes | bytearray) -> bytes | bytearray:
        encoding = self.headers[CONTENT_TRANSFER_ENCODING].strip().lower()
        if encoding == "base64":
            try:
                return base64.b64decode(data)
            except binascii.Error as exc:
                raise MultipartError(f"cannot decode base64 body part: {exc}") from exc
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
        if encoding in ("binary", "8bit", "7bit"):
            return data
        raise RuntimeError(f"unknown content transfer encoding: {encoding}")

    def get_charset(self, default: str | None = None) -> str | None:
        """The ``charset`` of the part's Content-Type, else the form's default, else
        ``default``."""
        mimetype = parse_mimetype(self.headers.get(CONTENT_TYPE, ""))
        return mimetype.parameters.get("charset", self._default_charset or default)

    def _disposition_params(self) -> dict[str, str]:
        if self._disposition is None:
            self._disposition = parse_content_disposition(self.headers.get(CONTENT_DISPOSITION))
        return self._disposition[1]

    @property
    def name(self) -> str | None:
        """The ``name`` of the part's Content-Disposition (the form field name)."""
        return content_disposition_filename(self._disposition_params(), "name")

    @property
    def filename(self) -> str | None:
        """The ``filename`` of the part's Content-Disposition."""
        return content_disposition_filename(self._disposition_params(), "filename")


class MultipartResponseWrapper:
    """A `MultipartReader` over a client response: releases the connection once the body has
    been read to its end."""

    __slots__ = ("resp", "stream")

    def __init__(self, resp: Any, stream: MultipartReader) -> None:
        self.resp = resp
        self.stream = stream

    def __aiter__(self) -> MultipartResponseWrapper:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True when the whole response body has been read."""
        return bool(self.resp.content.at_eof())

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part; the response is released after the last one."""
        item = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return item

    async def release(self) -> None:
        """Release the connection, reading the rest of the body to the void."""
        await self.resp.release()


class MultipartReader:
    """Reads a multipart body part by part (see the module docstring).

    ``headers`` must have a ``multipart/*`` Content-Type with a ``boundary``; ``ValueError``
    otherwise. Nested ``multipart/*`` parts are read with ``multipart_reader_cls`` (this class
    when ``None``), other parts with ``part_reader_cls``. ``max_header_size`` and
    ``max_headers`` bound each part's header lines.
    """

    response_wrapper_cls: type[MultipartResponseWrapper] = MultipartResponseWrapper
    multipart_reader_cls: type[MultipartReader] | None = None
    part_reader_cls: type[BodyPartReader] = BodyPartReader
    max_header_size: int = 8190
    max_headers: int = 128

    def __init__(self, headers: Mapping[str, str], content: Any) -> None:
        self.headers = headers
        ctype = headers.get(CONTENT_TYPE)
        self._mimetype = parse_mimetype(ctype or "")
        if self._mimetype.type != "multipart":
            raise ValueError(f"multipart/* content type expected, got {ctype!r}")
        boundary = self._mimetype.parameters.get("boundary")
        if not boundary:
            raise ValueError(f"boundary missed for Content-Type: {ctype}")
        if len(boundary) > _MAX_BOUNDARY:
            raise ValueError(f"boundary {boundary!r} is too long ({_MAX_BOUNDARY} chars max)")
        try:
            self._boundary = b"--" + boundary.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"boundary {boundary!r} is not ASCII")
        self._content = content
        self._source = _BodySource(content)
        self._default_charset: str | None = None
        self._last_part: MultipartReader | BodyPartReader | None = None
        self._last_stream: _PartStream | None = None
        self._at_eof = False
        self._at_bof = True

    @classmethod
    def from_response(cls, response: Any) -> MultipartResponseWrapper:
        """A reader over a client response's body, wrapped to release the connection."""
        return cls.response_wrapper_cls(response, cls(response.headers, response.content))

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True once the closing boundary was read."""
        return self._at_eof

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part (the rest of the previous one is skipped), ``None`` after the last."""
        if self._at_eof:
            return None
        if self._at_bof:
            await _PartStream(self._source, self._boundary, preamble=True).release()
            self._at_bof = False
        elif self._last_stream is not None:
            await self._last_stream.release()
            self._last_stream = None
        if await self._read_boundary():
            return None
        part = await self.fetch_next_part()
        if (
            self._last_part is None
            and self._mimetype.subtype == "form-data"
            and isinstance(part, BodyPartReader)
            and part.name == "_charset_"
        ):
            # RFC 7578 §4.6: a first "_charset_" field gives the charset of the text fields.
            charset = await part.read_chunk(32)
            if len(charset) > 31 or not charset.strip():
                raise MultipartError("invalid _charset_ form field")
            self._default_charset = charset.strip().decode("ascii", "replace")
            return await self.next()
        self._last_part = part
        return part

    async def release(self) -> None:
        """Read all remaining parts to the void, up to the closing boundary."""
        while not self._at_eof:
            item = await self.next()
            if item is None:
                break
            await item.release()

    async def fetch_next_part(self) -> MultipartReader | BodyPartReader:
        """Read the next part's headers and return its reader (the boundary line before them
        must have been read)."""
        headers = await self._read_headers()
        return self._get_part_reader(headers)

    def _get_part_reader(self, headers: CIMultiDictProxy[str]) -> MultipartReader | BodyPartReader:
        mimetype = parse_mimetype(headers.get(CONTENT_TYPE, ""))
        if mimetype.type == "multipart":
            stream = _PartStream(self._source, self._boundary)
            self._last_stream = stream
            cls = self.multipart_reader_cls or type(self)
            try:
                return cls(headers, stream)
            except MultipartError:
                raise
            except ValueError as exc:  # no usable boundary: the body is malformed
                raise MultipartError(f"invalid nested multipart part: {exc}") from exc
        part = self.part_reader_cls(
            self._boundary,
            headers,
            self._source,
            subtype=self._mimetype.subtype,
            default_charset=self._default_charset,
        )
        self._last_stream = part._stream
        return part

    async def _read_boundary(self) -> bool:
        """Read a boundary line; True (and ``at_eof()``) for the closing one."""
        boundary = self._boundary
        line = await self._source.readexactly(len(boundary) + 2)
        if not line.startswith(boundary):
            if len(line) < len(boundary):
                raise MultipartError(
                    "multipart body ended before the closing boundary "
                    f"{boundary[2:].decode('latin-1')!r}--"
                )
            raise MultipartError(f"invalid boundary {line!r}, expected {boundary!r}")
        end = line[len(boundary) :]
        if end == b"--":
            self._at_eof = True  # the epilogue after it is not read
            return True
        if end == b"\r\n":
            return False
        # Transport padding (RFC 2046 §5.1.1): spaces and tabs before the CRLF.
        rest = end + await self._source.readline(_MAX_PADDING, "boundary line")
        if rest.endswith(b"\r\n") and not rest[:-2].strip(b" \t"):
            return False
        if not rest.endswith(b"\n"):
            raise MultipartError(
                "multipart body ended before the closing boundary "
                f"{boundary[2:].decode('latin-1')!r}--"
            )
        raise MultipartError(f"invalid boundary line {boundary + rest!r}")

    async def _read_headers(self) -> CIMultiDictProxy[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        last: tuple[str, str] | None = None
        count = 0
        while True:
            line = await self._source.readline(self.max_header_size, "part header line")
            if not line.endswith(b"\n"):
                raise MultipartError("multipart body ended inside part headers")
            line = line.rstrip(b"\r\n")
            if not line:
                break
            count += 1
            if count > self.max_headers:
                raise MultipartError(f"more than {self.max_headers} headers in a body part")
            text = _decode_header_line(line)
            if text[0] in " \t":
                if last is None:
                    raise MultipartError(f"invalid part header line {line!r}")
                # obs-fold (RFC 5322 §2.2.3): the line continues the previous header's value.
                last = (last[0], last[1] + " " + text.strip(" \t"))
                continue
            if last is not None:
                headers.add(*last)
            name, sep, value = text.partition(":")
            if not sep or not is_token(name):
                raise MultipartError(f"invalid part header line {line!r}")
            last = (name, value.strip(" \t"))
        if last is not None:
            headers.add(*last)
        return CIMultiDictProxy(headers)


def _decode_header_line(line: bytes) -> str:
    # Browsers send non-ASCII file names as raw UTF-8 (RFC 7578 §4.2); anything else is kept
    # byte for byte as Latin-1.
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


# --- Writing ----------------------------------------------------------------------------------

# RFC 9110 tchar: a boundary made only of these needs no quotes in Content-Type.
_TOKEN_BOUNDARY: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# What may not appear in a quoted-string at all (controls other than HTAB, DEL).
_INVALID_QDTEXT: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class _PartEncoder(AbstractStreamWriter):
    """Applies a part's Content-Encoding (gzip/deflate) and then its Content-Transfer-Encoding
    (base64/quoted-printable) on the way to the real writer."""

    __slots__ = (
        "_b64_rest",
        "_compress",
        "_te",
        "_writer",
        "buffer_size",
        "length",
        "output_size",
    )

    def __init__(
        self, writer: AbstractStreamWriter, encoding: str | None, te_encoding: str | None
    ) -> None:
        self._writer = writer
        self._compress: Any = None
        if encoding is not None:
            # Raw deflate for "deflate", as aiohttp peers expect; our reader takes both forms.
            wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else -zlib.MAX_WBITS
            self._compress = zlib.compressobj(wbits=wbits)
        self._te = te_encoding
        self._b64_rest = b""  # input not yet base64-encoded (less than one 57-byte line)
        self.buffer_size = 0
        self.output_size = 0
        self.length = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        data = bytes(chunk)
        if self._compress is not None:
            data = self._compress.compress(data)
        await self._emit(data, final=False)

    async def write_eof(self, chunk: bytes = b"") -> None:
        data = chunk
        if self._compress is not None:
            data = self._compress.compress(data) + self._compress.flush()
        await self._emit(data, final=True)

    async def _emit(self, data: bytes, *, final: bool) -> None:
        if self._te == "base64":
            data = self._b64_rest + data
            # 57 input bytes make one 76-character line (RFC 2045 §6.8).
            cut = len(data) if final else len(data) - len(data) % 57
            self._b64_rest = data[cut:]
            data = base64.encodebytes(data[:cut]).replace(b"\n", b"\r\n") if cut else b""
        elif self._te == "quoted-printable" and data:
            encoded = binascii.b2a_qp(data, istext=False)
            # Literal CR/LF are encoded, so the only line breaks are soft ones; make them CRLF,
            # and end each piece with one so lines stay short across pieces.
            encoded = encoded.replace(b"=\r\n", b"=\n").replace(b"=\n", b"=\r\n")
            data = encoded + b"=\r\n"
        if data:
            await self._writer.write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise RuntimeError("set the Content-Encoding header of the part instead")

    def enable_chunking(self) -> None:
        pass

    async def write_headers(self, status_line: str, headers: Any) -> None:
        raise RuntimeError("a body part has no head")


_Part = tuple[Payload, str | None, str | None]


class MultipartWriter(Payload):
    """Builds a multipart body from payloads (see "Sending Multipart Requests" in the docs).

    ``boundary`` defaults to a random one; it must be ASCII, at most 70 characters, without
    control characters. With ``close_boundary=False`` the closing ``--boundary--`` is never
    written (for ``multipart/x-mixed-replace`` streams).
    """

    __slots__ = ("_boundary", "_close_boundary", "_is_form_data", "_parts")

    _value: None

    def __init__(
        self,
        subtype: str = "mixed",
        boundary: str | None = None,
        close_boundary: bool = True,
    ) -> None:
        boundary = boundary if boundary is not None else uuid.uuid4().hex
        try:
            self._boundary = boundary.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("boundary should contain ASCII only chars") from None
        if not self._boundary or len(boundary) > _MAX_BOUNDARY:
            raise ValueError(f"boundary {boundary!r} must be 1 to {_MAX_BOUNDARY} chars long")
        if _INVALID_QDTEXT.search(self._boundary):
            raise ValueError(f"boundary {boundary!r} contains invalid characters")
        super().__init__(
            None, content_type=f"multipart/{subtype}; boundary={self._boundary_value}"
        )
        self._parts: list[_Part] = []
        self._is_form_data = subtype == "form-data"
        self._close_boundary = close_boundary

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        pass

    def __iter__(self) -> Iterator[Payload]:
        """The part payloads, in order."""
        return (part for part, _, _ in self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    @property
    def _boundary_value(self) -> str:
        """The boundary as a Content-Type parameter value: a token, or else a quoted string."""
        value = self._boundary
        if _TOKEN_BOUNDARY.fullmatch(value):
            return value.decode("ascii")
        quoted = value.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        return '"' + quoted.decode("ascii") + '"'

    @property
    def boundary(self) -> str:
        """The boundary string."""
        return self._boundary.decode("ascii")

    def append(self, obj: Any, headers: LooseHeaders | None = None) -> Payload:
        """Add ``obj`` as a part (through `get_payload`); returns its payload, whose headers
        can still be changed before the body is written."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        try:
            payload = get_payload(obj, headers=headers)
        except LookupError:
            raise TypeError(f"Cannot create payload from {obj!r}") from None
        return self.append_payload(payload)

    def append_payload(self, payload: Payload) -> Payload:
        """Add a payload as a part.

        Its Content-Encoding (gzip, deflate, identity) and Content-Transfer-Encoding (base64,
        quoted-printable, binary, 7bit, 8bit) are applied when the body is written. Outside
        ``form-data``, a part of known size without encodings gets a Content-Length header; a
        ``form-data`` part gets ``Content-Disposition: form-data; name="section-N"`` when it has
        none, and may not have a Content-Encoding (RFC 7578 §4.8).
        """
        headers = payload.headers
        encoding: str | None = headers.get(CONTENT_ENCODING, "").strip().lower() or None
        if encoding is not None and encoding not in ("deflate", "gzip", "identity"):
            raise RuntimeError(f"unknown content encoding: {encoding}")
        if encoding == "identity":
            encoding = None
        te_encoding: str | None = (
            headers.get(CONTENT_TRANSFER_ENCODING, "").strip().lower() or None
        )
        if te_encoding is not None and te_encoding not in (
            "base64",
            "quoted-printable",
            "binary",
            "7bit",
            "8bit",
        ):
            raise RuntimeError(f"unknown content transfer encoding: {te_encoding}")
        if te_encoding in ("binary", "7bit", "8bit"):
            te_encoding = None
        if self._is_form_data:
            if encoding is not None:
                raise ValueError("multipart/form-data parts cannot have a Content-Encoding")
            if CONTENT_DISPOSITION not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        else:
            size = payload.size
            if size is not None and encoding is None and te_encoding is None:
                headers[CONTENT_LENGTH] = str(size)
        self._parts.append((payload, encoding, te_encoding))
        return payload

    def append_json(self, obj: Any, headers: LooseHeaders | None = None) -> Payload:
        """Add ``obj`` as an ``application/json`` part."""
        return self.append_payload(JsonPayload(obj, headers=headers))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: LooseHeaders | None = None,
    ) -> Payload:
        """Add ``obj`` (pairs or a mapping) as an ``application/x-www-form-urlencoded`` part."""
        if isinstance(obj, Mapping):
            obj = list(obj.items())
        data = urlencode(obj, doseq=True)
        return self.append_payload(
            StringPayload(data, headers=headers, content_type="application/x-www-form-urlencoded")
        )

    @property
    def size(self) -> int | None:
        """Size of the whole body, ``None`` if a part's size is unknown or it is encoded."""
        boundary_len = len(self._boundary)
        total = 0
        for part, encoding, te_encoding in self._parts:
            part_size = part.size
            if encoding or te_encoding or part_size is None:
                return None
            # "--" boundary CRLF, headers (with the blank line), body, CRLF
            total += 2 + boundary_len + 2 + len(part._binary_headers) + part_size + 2
        if self._close_boundary:
            total += 2 + boundary_len + 4  # "--" boundary "--" CRLF
        return total

    @property
    def consumed(self) -> bool:
        return self._consumed or any(part.consumed for part, _, _ in self._parts)

    @property
    def autoclose(self) -> bool:
        return all(part.autoclose for part, _, _ in self._parts)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text; parts with a Content-Encoding or Content-Transfer-Encoding are
        not supported here (use ``await as_bytes()``)."""
        pieces = []
        boundary = self.boundary
        for part, part_encoding, te_encoding in self._parts:
            if part_encoding or te_encoding:
                raise TypeError("Unable to decode an encoded part; use await as_bytes()")
            pieces.append(f"--{boundary}\r\n")
            pieces.append(part._binary_headers.decode(encoding, errors))
            pieces.append(part.decode(encoding, errors))
            pieces.append("\r\n")
        if self._close_boundary:
            pieces.append(f"--{boundary}--\r\n")
        return "".join(pieces)

    async def write(self, writer: AbstractStreamWriter, close_boundary: bool = True) -> None:
        """Write the body; ``close_boundary=False`` leaves out the closing boundary (it is
        also left out when the writer was made with ``close_boundary=False``)."""
        boundary = self._boundary
        for part, encoding, te_encoding in self._parts:
            await writer.write(b"--" + boundary + b"\r\n" + part._binary_headers)
            if encoding is None and te_encoding is None:
                await part.write(writer)
            else:
                encoder = _PartEncoder(writer, encoding, te_encoding)
                await part.write(encoder)
                await encoder.write_eof()
            await writer.write(b"\r\n")
        if close_boundary and self._close_boundary:
            await writer.write(b"--" + boundary + b"--\r\n")

    def _close(self) -> None:
        self._consumed = True
        for part, _, _ in self._parts:
            part._close()

    async def close(self) -> None:
        self._consumed = True
        for part, _, _ in self._parts:
            await part.close()
