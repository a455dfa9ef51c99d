"""Server responses: ``StreamResponse`` (head, then streamed body), ``Response`` (whole body),
``json_response`` and ``ContentCoding``.

A response is a small state machine: headers, status and cookies may change until
``prepare(request)`` sends the head through ``request._payload_writer``; after that only body
bytes may be written, and after ``write_eof()`` nothing. ``keep_alive`` tells the connection
whether it may serve another request once this one is finished.
"""

from __future__ import annotations

import enum
import functools
import json
import math
import re
import sys
import warnings
from concurrent.futures import Executor
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder as _c_make_encoder,
    encode_basestring_ascii as _encode_basestring_ascii,
)
from time import time as _time
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from .. import hdrs
from .._http._compress import DEFAULT_MAX_SYNC_CHUNK_SIZE, available_encodings, get_compressor
from .._http._message import HttpVersion, HttpVersion10, HttpVersion11
from .._http._writer import _HEAD_LINES, AbstractStreamWriter, StreamWriter, serialize_headers
from .._version import __version__
from ..cookies import format_set_cookie, make_deleted_morsel, make_morsel
from ..helpers import (
    ETAG_ANY,
    ETag,
    format_http_date,
    is_token,
    must_be_empty_body,
    parse_content_type,
    parse_http_date,
    quoted_string,
    rfc822_formatted_time,
    sentinel,
    should_remove_content_length,
    validate_etag_value,
)
from ..payload import Payload, get_payload
from ..typedefs import JSONEncoder, LooseHeaders
from ._state import LazyStateMapping

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ("ContentCoding", "Response", "StreamResponse", "json_response")

#: What the ``Server`` header says unless the application sets its own.
SERVER_SOFTWARE: Final = (
    f"Python/{sys.version_info.major}.{sys.version_info.minor} aiohyper/{__version__}"
)

_REASONS: Final[dict[int, str]] = {status.value: status.phrase for status in HTTPStatus}

_CONTENT_TYPE: Final = hdrs.CONTENT_TYPE
_CONTENT_LENGTH: Final = hdrs.CONTENT_LENGTH
_TRANSFER_ENCODING: Final = hdrs.TRANSFER_ENCODING
_DATE_HEADER: Final = hdrs.DATE
_SERVER: Final = hdrs.SERVER
_CONNECTION: Final = hdrs.CONNECTION
_SERVER_LINE: Final = f"Server: {SERVER_SOFTWARE}\r\n"

# The Date header of the current second: (start, end, value, line). Replaced whole, once a
# second, so a reader never sees a value and a line of different seconds.
_DATE: tuple[float, float, str, str] = (0.0, 0.0, "", "")


def _refresh_date(now: float) -> tuple[float, float, str, str]:
    """The `_DATE` of the second ``now`` (``time.time()``) falls in."""
    global _DATE
    second = int(now // 1)
    value = format_http_date(second)
    _DATE = (float(second), float(second + 1), value, f"Date: {value}\r\n")
    return _DATE


# Status lines with their CRLF, by (version, status, reason); bounded like the header lines.
_STATUS_LINES: dict[tuple[HttpVersion, int, str], str] = {}
_STATUS_LINES_MAX: Final = 256


def _status_line(key: tuple[HttpVersion, int, str]) -> str:
    """The status line of ``key`` with its CRLF (checked: the reason cannot hold CR or LF)."""
    version, status, reason = key
    line = _HEAD_LINES[f"HTTP/{version.major}.{version.minor} {status} {reason}"]
    if len(_STATUS_LINES) >= _STATUS_LINES_MAX:
        _STATUS_LINES.clear()
    _STATUS_LINES[key] = line
    return line


class ContentCoding(enum.Enum):
    """Content codings a response body can be compressed with (RFC 9110 section 8.4.1).

    ``br`` and ``zstd`` need the ``brotli`` / ``zstandard`` packages; negotiation only picks
    the ones that are installed.
    """

    deflate = "deflate"
    gzip = "gzip"
    identity = "identity"
    br = "br"
    zstd = "zstd"


# Server preference when the client likes several codings equally.
_CODING_PREFERENCE: Final = tuple(
    coding
    for coding in (ContentCoding.zstd, ContentCoding.br, ContentCoding.gzip, ContentCoding.deflate)
    if coding.value in available_encodings()
)


@functools.lru_cache(maxsize=64)
def parse_accept_encoding(value: str) -> dict[str, float]:
    """Parse ``Accept-Encoding`` into ``{coding: qvalue}`` (lower-cased; ``x-gzip`` counts as
    ``gzip``). Malformed members are skipped; a malformed qvalue makes its member unacceptable.
    """
    result: dict[str, float] = {}
    for member in value.split(","):
        coding, _, params = member.partition(";")
        coding = coding.strip(" \t").lower()
        if not coding or not (coding == "*" or is_token(coding)):
            continue
        q = 1.0
        for param in params.split(";") if params else ():
            name, _, arg = param.partition("=")
            if name.strip(" \t").lower() == "q":
                try:
                    q = float(arg.strip(" \t"))
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        if coding == "x-gzip":
            coding = "gzip"
        result.setdefault(coding, q)
    return result


def acceptable_codings(
    accept_encoding: str, preference: tuple[ContentCoding, ...] = _CODING_PREFERENCE
) -> list[ContentCoding]:
    """The codings of ``preference`` (by default: those we can produce, zstd, br, gzip,
    deflate) that ``accept_encoding`` allows, best first: highest qvalue, then preference."""
    if not accept_encoding:
        return []
    accepted = parse_accept_encoding(accept_encoding)
    star = accepted.get("*", 0.0)
    ranked = []
    for rank, coding in enumerate(preference):
        q = accepted.get(coding.value, star)
        if q > 0.0:
            ranked.append((-q, rank, coding))
    ranked.sort()
    return [coding for _, _, coding in ranked]


def _format_param(name: str, value: str) -> str:
    return f"{name}={value}" if is_token(value) else f"{name}={quoted_string(value)}"


# entity-tag = [ weak ] opaque-tag  (RFC 9110 section 8.8.3)
_ETAG_RE: Final = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')


class StreamResponse(LazyStateMapping):
    """A response whose body is written piece by piece after ``prepare()``.

    It is also a mutable mapping, for middlewares and signals to share per-response data.
    No ``__slots__``: ``HTTPException`` inherits from both a response and ``Exception``, and
    slots would clash with ``BaseException``'s layout.
    """

    # WebSocketResponse turns this off: its body is not framed by Content-Length or chunking.
    _length_check = True

    # Rarely changed state lives on the class; what the send path reads on every response is
    # set per instance (an instance attribute reads faster than a class one). Response.__init__
    # sets the same per-instance attributes: keep both in step.
    _compression_strategy: int | None = None
    _compression_force: ContentCoding | None = None
    _req: BaseRequest | None = None
    _must_be_empty_body: bool | None = None
    _body_length: int = 0
    _state: dict[str, Any] | None = None

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
        _real_headers: CIMultiDict[str] | None = None,
    ) -> None:
        if _real_headers is not None:
            self._headers = _real_headers
        elif headers is not None:
            self._headers = CIMultiDict(headers)
        else:
            self._headers = CIMultiDict()
        self._body: Any = None
        self._keep_alive: bool | None = None
        self._chunked = False
        self._compression = False
        self._cookies: SimpleCookie | None = None
        self._payload_writer: AbstractStreamWriter | None = None
        self._eof_sent = False
        self._status = 200
        self._reason = "OK"
        if status != 200 or reason is not None:
            self._set_status(status, reason)

    # -- status --------------------------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        """Whether the head has been sent (``prepare()`` was called)."""
        return self._eof_sent or self._payload_writer is not None

    @property
    def task(self) -> Any:
        """The task handling the request this response answers, while it is being sent."""
        return self._req.task if self._req is not None else None

    @property
    def status(self) -> int:
        return self._status

    @property
    def reason(self) -> str:
        return self._reason

    def set_status(self, status: int, reason: str | None = None) -> None:
        """Set the status code and reason (the standard phrase when ``reason`` is ``None``).

        Raises ``RuntimeError`` once the head is sent, ``ValueError`` for a status outside
        100..999 or a reason containing CR or LF.
        """
        if self.prepared:
            raise RuntimeError(
                "Cannot change the response status code after the headers have been sent"
            )
        self._set_status(status, reason)

    def _set_status(self, status: int, reason: str | None) -> None:
        status = int(status)
        if not 100 <= status <= 999:
            raise ValueError(f"Invalid status code {status}: it must be in 100..999")
        self._status = status
        if reason is None:
            reason = _REASONS.get(status, "")
        elif "\r" in reason or "\n" in reason:
            raise ValueError("Reason cannot contain CR or LF")
        self._reason = reason

    # -- connection ----------------------------------------------------------------------------

    @property
    def keep_alive(self) -> bool | None:
        """Whether the connection stays open after this response; the request's keep-alive
        until ``prepare()`` decides (``None`` before), ``False`` after ``force_close()``."""
        return self._keep_alive

    def force_close(self) -> None:
        """Close the connection after this response. Cannot be undone."""
        self._keep_alive = False

    @property
    def body_length(self) -> int:
        """Bytes sent for this response (head included), known after ``write_eof()``."""
        return self._body_length

    @property
    def chunked(self) -> bool:
        return self._chunked

    def enable_chunked_encoding(self) -> None:
        """Send the body with chunked transfer coding (HTTP/1.1 only). Raises
        ``RuntimeError`` if a Content-Length is set."""
        if _CONTENT_LENGTH in self._headers:
            raise RuntimeError("You can't enable chunked encoding when a content length is set")
        self._chunked = True

    @property
    def compression(self) -> bool:
        return self._compression

    def enable_compression(
        self, force: ContentCoding | bool | None = None, strategy: int | None = None
    ) -> None:
        """Compress the body: with the ``force`` coding, or with the best coding the request's
        Accept-Encoding allows (zstd, br, gzip, deflate, when installed). ``strategy`` is a
        zlib strategy for gzip/deflate."""
        if isinstance(force, bool):
            warnings.warn(
                "Using boolean for force is deprecated, use ContentCoding",
                DeprecationWarning,
                stacklevel=2,
            )
            force = ContentCoding.deflate if force else ContentCoding.identity
        elif force is not None and not isinstance(force, ContentCoding):
            raise TypeError(f"force must be a ContentCoding, not {force!r}")
        self._compression = True
        self._compression_force = force
        self._compression_strategy = strategy

    # -- headers -------------------------------------------------------------------------------

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def cookies(self) -> SimpleCookie:
        """Outgoing cookies; each becomes a ``Set-Cookie`` header at ``prepare()``."""
        if self._cookies is None:
            self._cookies = SimpleCookie()
        return self._cookies

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | datetime | int | float | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Set a cookie (replacing one of the same name). Raises ``ValueError`` for a name
        that is not a token or attribute values that could not be sent safely."""
        self.cookies[name] = make_morsel(
            name,
            value,
            path=path,
            expires=expires,
            domain=domain,
            max_age=max_age,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
            version=version,
        )

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Tell the client to delete cookie ``name`` (``Max-Age=0``, expired date)."""
        self.cookies[name] = make_deleted_morsel(
            name, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
        )

    @property
    def content_length(self) -> int | None:
        """Content-Length as an int, ``None`` when not set."""
        raw = self._headers.get(_CONTENT_LENGTH)
        return int(raw) if raw is not None else None

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self._headers.popall(_CONTENT_LENGTH, None)
            return
        value = int(value)
        if value < 0:
            raise ValueError(f"Content length must not be negative: {value}")
        if self._chunked:
            raise RuntimeError("You can't set content length when chunked encoding is enabled")
        self._headers[_CONTENT_LENGTH] = str(value)

    @property
    def content_type(self) -> str:
        """The media type of Content-Type, ``application/octet-stream`` when unset."""
        return parse_content_type(self._headers.get(_CONTENT_TYPE))[0]

    @content_type.setter
    def content_type(self, value: str) -> None:
        _, params = parse_content_type(self._headers.get(_CONTENT_TYPE))
        self._set_content_type(str(value), params)

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type (lower-cased when assigned)."""
        return parse_content_type(self._headers.get(_CONTENT_TYPE))[1].get("charset")

    @charset.setter
    def charset(self, value: str | None) -> None:
        ctype, params = parse_content_type(self._headers.get(_CONTENT_TYPE))
        if ctype == "application/octet-stream":
            raise RuntimeError(
                "Setting charset for application/octet-stream "
                "doesn't make sense, setup content_type first"
            )
        if value is None:
            params.pop("charset", None)
        else:
            params["charset"] = str(value).lower()
        self._set_content_type(ctype, params)

    def _set_content_type(self, ctype: str, params: dict[str, str]) -> None:
        if params:
            ctype = "; ".join([ctype, *(_format_param(k, v) for k, v in params.items())])
        self._headers[_CONTENT_TYPE] = ctype

    @property
    def last_modified(self) -> datetime | None:
        """Last-Modified as an aware UTC datetime. Accepts a datetime (naive means UTC), a
        Unix timestamp (rounded up to the second), an HTTP date string or ``None``."""
        return parse_http_date(self._headers.get(hdrs.LAST_MODIFIED))

    @last_modified.setter
    def last_modified(self, value: datetime | float | str | None) -> None:
        if value is None:
            self._headers.popall(hdrs.LAST_MODIFIED, None)
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            self._headers[hdrs.LAST_MODIFIED] = format_http_date(value.timestamp())
        elif isinstance(value, (int, float)):
            self._headers[hdrs.LAST_MODIFIED] = format_http_date(math.ceil(value))
        elif isinstance(value, str):
            self._headers[hdrs.LAST_MODIFIED] = value
        else:
            raise TypeError(f"Unsupported type for last_modified: {type(value).__name__}")

    @property
    def etag(self) -> ETag | None:
        """ETag as an :class:`ETag`; assign an ``ETag``, a ``str`` (a strong tag, without
        quotes) or ``None``. Raises ``ValueError`` for characters an etag cannot hold."""
        raw = self._headers.get(hdrs.ETAG)
        if raw is None:
            return None
        if raw == ETAG_ANY:
            return ETag(ETAG_ANY)
        match = _ETAG_RE.fullmatch(raw)
        if match is None:
            return None
        return ETag(match.group(2), is_weak=match.group(1) is not None)

    @etag.setter
    def etag(self, value: ETag | str | None) -> None:
        if value is None:
            self._headers.popall(hdrs.ETAG, None)
        elif isinstance(value, str):
            if value == ETAG_ANY:
                self._headers[hdrs.ETAG] = ETAG_ANY
            else:
                validate_etag_value(value)
                self._headers[hdrs.ETAG] = f'"{value}"'
        elif isinstance(value, ETag) and isinstance(value.value, str):
            if value.value == ETAG_ANY:
                self._headers[hdrs.ETAG] = ETAG_ANY
            else:
                validate_etag_value(value.value)
                prefix = "W/" if value.is_weak else ""
                self._headers[hdrs.ETAG] = f'{prefix}"{value.value}"'
        else:
            raise ValueError(
                f"Unsupported etag type: {type(value).__name__}. etag must be str, ETag or None"
            )

    def _add_vary(self, field: str) -> None:
        current = self._headers.get(hdrs.VARY)
        if current is None:
            self._headers[hdrs.VARY] = field
            return
        names = {name.strip(" \t").lower() for name in current.split(",")}
        if "*" not in names and field.lower() not in names:
            self._headers[hdrs.VARY] = f"{current}, {field}"

    # -- sending -------------------------------------------------------------------------------

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        """Send the status line and headers (after the request's ``on_response_prepare``
        signal). Calling it again does nothing; returns the body writer, ``None`` after EOF."""
        if self._eof_sent:
            return None
        if self._payload_writer is not None:
            return self._payload_writer
        self._must_be_empty_body = must_be_empty_body(request.method, self._status)
        return await self._start(request)

    async def _start(self, request: BaseRequest) -> AbstractStreamWriter:
        self._req = request
        writer = self._payload_writer = request._payload_writer
        await self._prepare_headers()
        await request._prepare_hook(self)
        await self._write_headers()
        return writer

    async def _prepare_headers(self) -> None:
        request = self._req
        writer = self._payload_writer
        assert request is not None and writer is not None
        if self._cookies:
            self._add_cookie_headers()
        if self._compression:
            await self._start_compression(request)
        self._finish_headers(request, writer)

    def _add_cookie_headers(self) -> None:
        assert self._cookies is not None
        headers = self._headers
        for morsel in self._cookies.values():
            headers.add(hdrs.SET_COOKIE, format_set_cookie(morsel))

    def _finish_headers(self, request: BaseRequest, writer: AbstractStreamWriter) -> None:
        """Framing, Content-Type, Date, Server and Connection headers; the writer's framing;
        the final keep-alive decision. Synchronous: compression is already set up."""
        keep_alive = self._keep_alive
        if keep_alive is None:
            keep_alive = request.keep_alive
        version = request.version
        headers = self._headers
        empty_body = self._must_be_empty_body
        status = self._status
        if self._chunked:
            if version != HttpVersion11:
                raise RuntimeError(
                    f"Using chunked encoding is forbidden for HTTP/{version.major}.{version.minor}"
                )
            if not empty_body:
                writer.enable_chunking()
                headers[_TRANSFER_ENCODING] = "chunked"
        elif self._length_check:
            length = self.content_length
            # AbstractStreamWriter declares `length` but its empty __slots__ confuses mypy.
            writer.length = length  # type: ignore[misc]
            if length is None and not empty_body:
                if version >= HttpVersion11:
                    writer.enable_chunking()
                    headers[_TRANSFER_ENCODING] = "chunked"
                else:
                    # HTTP/1.0 cannot chunk: the end of the body is the end of the connection.
                    keep_alive = False
        if empty_body:
            if _CONTENT_LENGTH in headers and should_remove_content_length(request.method, status):
                del headers[_CONTENT_LENGTH]
            if headers.get(_TRANSFER_ENCODING, "").lower() == "chunked":
                del headers[_TRANSFER_ENCODING]
            if not (status < 200 or status == 204 or status == 304):
                headers.setdefault(_CONTENT_TYPE, "application/octet-stream")
        elif _CONTENT_TYPE not in headers:
            headers[_CONTENT_TYPE] = "application/octet-stream"
        if _DATE_HEADER not in headers:
            headers[_DATE_HEADER] = rfc822_formatted_time()
        if _SERVER not in headers:
            headers[_SERVER] = SERVER_SOFTWARE
        if _CONNECTION not in headers:
            if keep_alive:
                if version == HttpVersion10:
                    headers[_CONNECTION] = "keep-alive"
            else:
                headers[_CONNECTION] = "close"
        self._keep_alive = keep_alive

    async def _start_compression(self, request: BaseRequest) -> None:
        encoding = self._headers.get(hdrs.CONTENT_ENCODING)
        if encoding is not None and encoding.strip().lower() != "identity":
            return  # the body is already encoded by the application
        force = self._compression_force
        if force is not None:
            if force is not ContentCoding.identity:
                await self._do_start_compression(force)
            return
        self._add_vary("Accept-Encoding")
        codings = acceptable_codings(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
        if codings:
            await self._do_start_compression(codings[0])

    async def _do_start_compression(self, coding: ContentCoding) -> None:
        self._headers[hdrs.CONTENT_ENCODING] = coding.value
        # The length of the coded body is not known in advance.
        self._headers.popall(_CONTENT_LENGTH, None)
        if not self._must_be_empty_body:
            assert self._payload_writer is not None
            self._payload_writer.enable_compression(coding.value, self._compression_strategy)

    async def _write_headers(self) -> None:
        request = self._req
        writer = self._payload_writer
        assert request is not None and writer is not None
        version = request.version
        status_line = f"HTTP/{version.major}.{version.minor} {self._status} {self._reason}"
        await writer.write_headers(status_line, self._headers)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send a piece of the body (nothing is sent for responses that have no body, e.g.
        to HEAD). Raises ``TypeError`` for non-bytes data, ``RuntimeError`` before
        ``prepare()`` or after ``write_eof()``."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Cannot call write() before prepare()")
        if self._must_be_empty_body:
            return
        await writer.write(data)

    async def drain(self) -> None:
        """Deprecated: ``await write()`` already waits for the transport."""
        assert not self._eof_sent, "EOF has already been sent"
        assert self._payload_writer is not None, "Response has not been started"
        warnings.warn(
            "drain method is deprecated, use await resp.write()",
            DeprecationWarning,
            stacklevel=2,
        )
        await self._payload_writer.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        """Finish the body (with ``data`` as its last piece). Further calls do nothing."""
        if self._eof_sent:
            return
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        if self._must_be_empty_body:
            data = b""
        await writer.write_eof(bytes(data) if type(data) is not bytes else data)
        self._eof_sent = True
        self._req = None
        self._body_length = writer.output_size
        self._payload_writer = None

    def __repr__(self) -> str:
        if self._eof_sent:
            info = "eof"
        elif self._req is not None:
            info = f"{self._req.method} {self._req.path} "
        else:
            info = "not prepared"
        return f"<{type(self).__name__} {self._reason} {info}>"


class Response(StreamResponse):
    """A response with its whole body known up front (``body`` bytes or a payload, or
    ``text``), sent with a Content-Length, compressed in one go when compression is on."""

    _compressed_body: bytes | None = None
    _zlib_executor_size: int | None = None
    _zlib_executor: Executor | None = None

    def __init__(
        self,
        *,
        body: Any = None,
        status: int = 200,
        reason: str | None = None,
        text: str | None = None,
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        zlib_executor_size: int | None = None,
        zlib_executor: Executor | None = None,
    ) -> None:
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        real_headers: CIMultiDict[str] = CIMultiDict() if headers is None else CIMultiDict(headers)
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")
        if text is not None:
            if headers is not None and _CONTENT_TYPE in real_headers:
                if content_type or charset:
                    raise ValueError(
                        "passing both Content-Type header and "
                        "content_type or charset params is forbidden"
                    )
            else:
                if not isinstance(text, str):
                    raise TypeError(f"text argument must be str ({type(text)!r})")
                if content_type is None:
                    content_type = "text/plain"
                if charset is None:
                    charset = "utf-8"
                real_headers[_CONTENT_TYPE] = f"{content_type}; charset={charset}"
                body = text.encode(charset)
                text = None
        elif headers is not None and _CONTENT_TYPE in real_headers:
            if content_type is not None or charset is not None:
                raise ValueError(
                    "passing both Content-Type header and "
                    "content_type or charset params is forbidden"
                )
        elif content_type is not None:
            if charset is not None:
                content_type += f"; charset={charset}"
            real_headers[_CONTENT_TYPE] = content_type

        # StreamResponse.__init__, inlined (this runs once per request).
        self._headers = real_headers
        self._body = None
        self._keep_alive = None
        self._chunked = False
        self._compression = False
        self._cookies = None
        self._payload_writer = None
        self._eof_sent = False
        self._status = 200
        self._reason = "OK"
        if status != 200 or reason is not None:
            self._set_status(status, reason)
        if zlib_executor_size is not None:
            self._zlib_executor_size = zlib_executor_size
        if zlib_executor is not None:
            self._zlib_executor = zlib_executor
        if text is not None:
            self.text = text
        elif body is not None:
            if type(body) is bytes:
                self._body = body
            else:
                self.body = body

    @property
    def body(self) -> Any:
        """The body: ``bytes``/``bytearray``, a :class:`~aiohyper.payload.Payload` or
        ``None``. Other assigned values (str, file objects, ...) become payloads; ``ValueError``
        for types no payload handles."""
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        if value is None or isinstance(value, (bytes, bytearray)):
            self._body = value
        else:
            try:
                payload = value if isinstance(value, Payload) else get_payload(value)
            except LookupError:
                raise ValueError(f"Unsupported body type {type(value)!r}")
            self._body = payload
            headers = self._headers
            if _CONTENT_TYPE not in headers:
                headers[_CONTENT_TYPE] = payload.content_type
            if payload.headers:
                for key, val in payload.headers.items():
                    if key not in headers:
                        headers[key] = val
        self._compressed_body = None

    @property
    def text(self) -> str | None:
        """The body decoded with ``charset`` (UTF-8 by default), ``None`` without a body.
        Assigning text sets ``text/plain; charset=utf-8`` unless a type is already set."""
        body = self._body
        if body is None:
            return None
        encoding = self.charset or "utf-8"
        if isinstance(body, Payload):
            return body.decode(encoding)
        return bytes(body).decode(encoding)

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str ({type(text)!r})")
        if self.content_type == "application/octet-stream":
            self.content_type = "text/plain"
        if self.charset is None:
            self.charset = "utf-8"
        self._body = text.encode(self.charset or "utf-8")
        self._compressed_body = None

    @property
    def content_length(self) -> int | None:
        """The Content-Length to send: from the header if set, else the body's length.
        Set automatically: assigning raises ``RuntimeError``."""
        if self._chunked:
            return None
        raw = self._headers.get(_CONTENT_LENGTH)
        if raw is not None:
            return int(raw)
        if self._compressed_body is not None:
            return len(self._compressed_body)
        body = self._body
        if body is None:
            return 0
        if isinstance(body, Payload):
            return body.size
        return len(body)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("Content length is set automatically")

    async def _start(self, request: BaseRequest) -> AbstractStreamWriter:
        self._set_length_header(request.method)
        return await super()._start(request)

    def _set_length_header(self, method: str) -> None:
        headers = self._headers
        if _CONTENT_LENGTH in headers:
            if should_remove_content_length(method, self._status):
                del headers[_CONTENT_LENGTH]
        elif not self._chunked:
            body = self._body
            if type(body) is bytes and body:
                headers[_CONTENT_LENGTH] = str(len(body))
            elif isinstance(body, Payload):
                if body.size is not None:
                    headers[_CONTENT_LENGTH] = str(body.size)
            elif body:
                headers[_CONTENT_LENGTH] = str(len(body))
            elif not self._must_be_empty_body:
                # An empty body. Not for HEAD: the GET length is unknown there.
                headers[_CONTENT_LENGTH] = "0"

    def _send_now(self, request: BaseRequest) -> bool:
        """``prepare(request)`` and ``write_eof()`` in one synchronous step, the whole response
        in one transport write, when neither would have to wait: a bytes body, no
        compression, no ``on_response_prepare`` listener, a fresh server writer. Returns
        ``False``, having done nothing, otherwise. Raises what ``prepare()`` would.

        The common case (a body to send, none of the headers the server computes already
        set) builds the head from cached lines instead of the general header code; both give
        the same headers, in the same order (tests/web/test_response_send_now.py).
        """
        if (
            self._payload_writer is not None
            or self._eof_sent
            or self._compression
            or self._chunked
            or self._cookies
        ):
            return False
        body = self._body
        if body is None:
            data = b""
        elif type(body) is bytes:
            data = body
        elif type(body) is bytearray:
            data = bytes(body)
        else:
            return False
        writer = request._payload_writer
        if type(writer) is not StreamWriter or not writer.can_send_whole():
            return False
        if not (request._prepare_hook_free and request._plain_head) and (
            request._has_prepare_hook()
        ):
            return False
        if request._plain_head:
            message = request._message
            method = message.method
            version = message.version
            keep_alive = self._keep_alive
            if keep_alive is None:
                keep_alive = not message.should_close
        else:
            method = request.method
            version = request.version
            keep_alive = self._keep_alive
            if keep_alive is None:
                keep_alive = request.keep_alive
        status = self._status
        headers = self._headers
        if (
            status < 200
            or status == 204
            or status == 304
            or (method != "GET" and must_be_empty_body(method, status))
            or _CONTENT_LENGTH in headers
            or _TRANSFER_ENCODING in headers
            or _CONNECTION in headers
            or _DATE_HEADER in headers
            or _SERVER in headers
        ):
            self._send_now_general(request, writer, data)
            return True
        reason = self._reason
        status_line: str | None
        if status == 200 and version is HttpVersion11 and reason == "OK":
            status_line = "HTTP/1.1 200 OK\r\n"
        else:
            line_key = (version, status, reason)
            status_line = _STATUS_LINES.get(line_key)
            if status_line is None:
                status_line = _status_line(line_key)
        lines = _HEAD_LINES
        parts = [status_line]
        try:
            for pair in headers.items():
                parts.append(lines[pair])  # noqa: PERF401 (measured: faster than extend here)
        except TypeError:  # an unhashable header value
            self._send_now_general(request, writer, data)
            return True
        length = len(data)
        length_text = str(length)
        headers[_CONTENT_LENGTH] = length_text
        parts.append(f"Content-Length: {length_text}\r\n")
        if _CONTENT_TYPE not in headers:
            headers[_CONTENT_TYPE] = "application/octet-stream"
            parts.append("Content-Type: application/octet-stream\r\n")
        now = _time()
        date = _DATE
        if not date[0] <= now < date[1]:
            date = _refresh_date(now)
        headers[_DATE_HEADER] = date[2]
        parts.append(date[3])
        headers[_SERVER] = SERVER_SOFTWARE
        parts.append(_SERVER_LINE)
        if not keep_alive:
            headers[_CONNECTION] = "close"
            parts.append("Connection: close\r\n")
        elif version == HttpVersion10:
            headers[_CONNECTION] = "keep-alive"
            parts.append("Connection: keep-alive\r\n")
        parts.append("\r\n")
        self._keep_alive = keep_alive
        self._must_be_empty_body = False
        writer.length = length
        writer.send_whole("".join(parts).encode("utf-8", "surrogateescape"), data)
        self._eof_sent = True
        self._body_length = writer.output_size
        return True

    def _send_now_general(self, request: BaseRequest, writer: StreamWriter, data: bytes) -> None:
        """`_send_now` through the general header code (empty bodies, preset framing or
        server headers...)."""
        method = request.method
        empty_body = self._must_be_empty_body = must_be_empty_body(method, self._status)
        self._set_length_header(method)
        self._req = request
        self._payload_writer = writer
        self._finish_headers(request, writer)
        version = request.version
        status_line = f"HTTP/{version.major}.{version.minor} {self._status} {self._reason}"
        head = serialize_headers(status_line, self._headers)
        writer.send_whole(head, b"" if empty_body else data)
        self._eof_sent = True
        self._req = None
        self._body_length = writer.output_size
        self._payload_writer = None

    async def _do_start_compression(self, coding: ContentCoding) -> None:
        body = self._body
        if self._chunked or isinstance(body, Payload):
            await super()._do_start_compression(coding)
            return
        if not body:
            return  # nothing to compress; a coded empty body would only be longer
        size = self._zlib_executor_size
        compressor = get_compressor(
            coding.value,
            strategy=self._compression_strategy,
            max_sync_chunk_size=DEFAULT_MAX_SYNC_CHUNK_SIZE if size is None else size,
            executor=self._zlib_executor,
        )
        compressed = await compressor.compress_async(bytes(body))
        compressed += compressor.flush()
        self._compressed_body = compressed
        self._headers[hdrs.CONTENT_ENCODING] = coding.value
        self._headers[_CONTENT_LENGTH] = str(len(compressed))

    async def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        if data:
            raise RuntimeError("Response.write_eof() takes no data: set body instead")
        body = self._body if self._compressed_body is None else self._compressed_body
        if body is None or self._must_be_empty_body:
            await super().write_eof()
        elif isinstance(body, Payload):
            writer = self._payload_writer
            if writer is None:
                raise RuntimeError("Response has not been started")
            try:
                await body.write(writer)
            finally:
                await body.close()
            await super().write_eof()
        else:
            await super().write_eof(body)


_JSON_DUMPS: Final = json.dumps


def _json_default(obj: Any) -> Any:
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


# Idle C encoders for _dumps. Each is used by one call at a time (list.pop/append are atomic),
# and only goes back after a call that succeeded, which leaves its circular-reference markers
# empty again.
_ENCODERS: list[Any] = []


def _dumps(obj: Any) -> str:
    """``json.dumps(obj)`` with its default settings, straight through the C encoder that
    ``json.dumps`` ends up in (same text, same errors), without the Python layers above it."""
    if _c_make_encoder is None or type(obj) is str:
        return json.dumps(obj)
    encoders = _ENCODERS
    if encoders:
        encoder = encoders.pop()
    else:
        encoder = _c_make_encoder(
            {}, _json_default, _encode_basestring_ascii, None, ": ", ", ", False, False, True
        )
    text = "".join(encoder(obj, 0))
    if len(encoders) < 4:
        encoders.append(encoder)
    return text


def json_response(
    data: Any = sentinel,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
    dumps: JSONEncoder = json.dumps,
) -> Response:
    """A :class:`Response` with ``data`` serialised by ``dumps`` (or the given ``text`` /
    ``body``) and ``application/json`` content type."""
    if data is not sentinel:
        if text or body:
            raise ValueError("only one of data, text, or body should be specified")
        text = _dumps(data) if dumps is _JSON_DUMPS else dumps(data)
    return Response(
        text=text,
        body=body,
        status=status,
        reason=reason,
        headers=headers,
        content_type=content_type,
    )
