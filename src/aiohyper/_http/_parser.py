"""HTTP/1.1 message parsers: httptools (llhttp in strict mode) plus our own checks.

`RequestParser` (server side) and `ResponseParser` (client side) turn received bytes into message
heads (`RawRequestMessage` / `RawResponseMessage`) and feed each body into its own `StreamReader`.
They are sans-I/O: ``feed_data(bytes)`` returns ``(messages, upgraded, tail)`` and never touches a
socket.

llhttp runs with no leniency, so it already rejects bare CR or LF line endings, obs-fold,
control characters in names and values, spaces before the colon, unknown methods, invalid
characters in the target, malformed chunk sizes, bad or duplicate ``Content-Length`` and
``Content-Length`` together with ``Transfer-Encoding``. On top of it we enforce:

* limits: request target or reason phrase longer than ``max_line_size`` (`LineTooLong`, 414 for a
  request target, 400 for a status line); a header field (name + value) longer than
  ``max_field_size`` (`LineTooLong`, 431) - also while a head is still being received; more than
  ``max_headers`` fields (`BadHttpMessage`, 431). Trailer fields obey the same limits.
* versions: only HTTP/1.0 and HTTP/1.1 (llhttp also accepts 0.9 and 2.x framing).
* framing (RFC 9112 §6): ``Transfer-Encoding`` must be exactly ``chunked`` (we implement no
  other transfer coding) and may appear once; in an HTTP/1.0 request it is an error (§6.1); an
  HTTP/1.0 response using it is read but not kept alive.
* requests (RFC 9112 §3.2): exactly one valid ``Host`` for HTTP/1.1 (at most one for 1.0);
  ``CONNECT`` needs an authority-form target, ``*`` is only for ``OPTIONS``, and an absolute-form
  target may not carry userinfo (RFC 9110 §4.2.4: a phishing vector, so we treat it as an error).
* responses: status code 100-999, no control characters in the reason phrase, and a 101 must
  carry ``Connection: upgrade`` and ``Upgrade`` (RFC 9110 §7.8).

Every rejection is an `aiohyper.http_exceptions` subclass carrying the status to answer with.
After one, the parser is dead: every later `feed_data` raises the same error. A body cut by an
error also gets it through ``set_exception`` (wrapped in ``payload_exception`` when given).

Upgrades (``Connection: upgrade`` + ``Upgrade``, ``CONNECT``, or a 101 response) end HTTP
parsing: the message has an empty payload, `feed_data` returns ``upgraded=True`` and the bytes
after the head as ``tail``, and every later `feed_data` hands its bytes back untouched. A server
that does not switch protocols must close the connection after answering. An upgrade request
with a body is rejected: httptools makes llhttp skip such a body, so it would be handed to the new
protocol.

After a message that does not keep the connection alive (``Connection: close``, HTTP/1.0
without keep-alive, a body read until close) further bytes are ignored, as RFC 9112 §9.6 asks of
a server; llhttp would call them an error.

httptools does not expose the protocol token of a start line, so ``RTSP/1.0`` and ``ICE/1.0``
(which llhttp accepts for some methods) are reported as HTTP/1.0 with llhttp's framing.

How heads are read (the hot path). Asking httptools for each header field costs a Python call
per field, so by default no field callback is registered: llhttp validates the whole head and
only says when it is complete (``on_headers_complete``), and we cut the head out of the received
bytes. Because llhttp enforces CRLF line endings and refuses
bare CR and obs-fold, the head is exactly what precedes the first CRLFCRLF, its lines are split
on CRLF and each field on its first colon. To know where a head starts, `_pos` tracks the first
byte of the current read that no callback has accounted for: a head moves it past its CRLFCRLF,
``on_body`` by the body bytes, ``on_chunk_header`` past the chunk-size line and
``on_chunk_complete`` past the CRLF after the chunk data (or the trailer section). Bytes llhttp
consumed but no callback accounted for when a read ends (a head, chunk-size line or trailer
section still arriving) are kept in `_carry` and put in front of the next read for us (llhttp is
only fed new bytes); they get the limit checks llhttp's field reports used to trigger, in the
same order, and a head llhttp refuses is replayed field by field so that the first problem is
the one reported.

Clients and load generators send the same request lines and header sections again and again, so
both are parsed once and memoised in small bounded caches keyed by their exact bytes (parsing is
a pure function of them). A cached header section shares its read-only `CIMultiDictProxy` and
raw-header tuple; the limits and version rules are still checked on every message. A parser whose
heads keep missing the caches (a request id or a date in every head) switches, between two
messages, to "field mode": llhttp reports each field, which is then cheaper than splitting the
section ourselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final, Generic, NamedTuple, TypeVar

import httptools
from httptools import HttpParserCallbackError, HttpParserError, HttpParserUpgrade
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .. import hdrs
from ..http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentLengthError,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)
from ..streams import EMPTY_PAYLOAD, StreamReader
from ._decompress import DEFAULT_MAX_DECOMPRESSED_SIZE, DecompressingSink
from ._message import (
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    RawHeaders,
    RawRequestMessage,
    RawResponseMessage,
)

if TYPE_CHECKING:
    from ..base_protocol import BaseProtocol

__all__ = ("RequestParser", "ResponseParser")

_MsgT = TypeVar("_MsgT", RawRequestMessage, RawResponseMessage)

_VERSIONS: Final[dict[str, HttpVersion]] = {"1.1": HttpVersion11, "1.0": HttpVersion10}
# The protocol token as it starts a status line; anything else asks llhttp (RTSP, ICE, errors).
_STATUS_LINE_VERSIONS: Final[dict[bytes, HttpVersion]] = {
    b"HTTP/1.1": HttpVersion11,
    b"HTTP/1.0": HttpVersion10,
}
# The protocol token as it ends a request line; anything else asks llhttp.
_REQUEST_LINE_VERSIONS: Final[dict[bytes, HttpVersion]] = {
    b"HTTP/1.1": HttpVersion11,
    b"HTTP/1.0": HttpVersion10,
}
# llhttp knows a fixed set of methods, so this cache stays small.
_METHODS: dict[bytes, str] = {}
_COMPRESSIONS: Final = {"gzip": "gzip", "deflate": "deflate", "br": "br", "zstd": "zstd"}

# RFC 9110 §7.2: Host = uri-host [ ":" port ]; reg-name, IPv4 and IP-literal characters only.
_HOST_RE: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:%\[\]]*")
# RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
_REASON_CTL_RE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

_ASTERISK_URL: Final = URL.build(path="*", encoded=True)

# How the body of the message being parsed ends.
_NO_BODY: Final = 0
_LENGTH: Final = 1
_CHUNKED: Final = 2
_UNTIL_EOF: Final = 3  # response read until the connection closes
_DISCARD: Final = 4  # response with no length that the caller asked not to read

# A Content-Length body with at least this many bytes still to come after the read that
# completed its head goes around llhttp (see `_feed_length`).
_BYPASS_MIN: Final = 16384

# Room for the ": ", optional whitespace and CR around a header field's name and value.
_LINE_SLACK: Final = 64

_EMPTY_TAIL: Final = b""
_CRLF: Final = b"\r\n"
_EMPTY_LINE_BYTES: Final = b"\r\n"  # llhttp skips CR and LF before a start line
_OWS: Final = b" \t"
_H2_PREFACE: Final = b"PRI * HTTP/2.0"

_new_tuple = tuple.__new__  # builds the NamedTuple messages without their Python __new__
_decode = bytes.decode  # UTF-8, strict: for ASCII bytes, without parsing codec arguments

_Sink = StreamReader | DecompressingSink


class _Fields(NamedTuple):
    """A header section parsed once: what every head with the same bytes shares.

    Only facts that do not depend on the parser's limits or the message's version are kept; the
    checks that do run per message.
    """

    raw: RawHeaders
    headers: CIMultiDictProxy[str]
    longest: int  # bound on name + value size (llhttp's: value without leading OWS)
    host: int  # requests: 1 one valid Host, 0 none, -1 invalid or repeated; responses: 0
    has_te: bool
    chunked: bool
    length: int  # Content-Length, -1 when absent
    compression: str | None
    framing_error: str | None  # why Content-Length / Transfer-Encoding are refused


# Memo caches, keyed by exact bytes. Each is bounded in entries (cleared when full) and only
# takes keys up to a size, so hostile variety costs parsing work, never memory: at most a few MiB
# in all. A key enters a cache on its second sighting (`_admit`), so unique heads cause no churn.
_CACHE_SIZE: Final = 512  # request lines, reason phrases, valid hosts
_SECTION_CACHE_SIZE: Final = 256  # header sections, per kind
_CACHEABLE_LINE: Final = 1024
_CACHEABLE_SECTION: Final = 2048
_REQUEST_LINES: dict[bytes, tuple[str, str, HttpVersion, URL]] = {}
_REQUEST_SECTIONS: dict[bytes, _Fields] = {}
_RESPONSE_SECTIONS: dict[bytes, _Fields] = {}
_REASONS: dict[bytes, str] = {}
_VALID_HOSTS: set[str] = set()
_SEEN_SIZE: Final = 4096
_SEEN: set[int] = set()  # hashes of request lines and header sections met once

# Heads per window after which a parser whose heads mostly missed the caches goes to field mode.
_MODE_WINDOW: Final = 32

# Below this size, a header section's length is bound enough on its longest field.
_SHORT_SECTION: Final = 1024


def _too_many_headers(limit: int) -> BadHttpMessage:
    exc = BadHttpMessage(f"Too many header fields (limit is {limit})")
    exc.code = 431
    return exc


def _field_too_long(name: bytes, limit: int, size: int) -> LineTooLong:
    return LineTooLong(name, limit, size, code=431)


def _translate(exc: HttpParserError) -> HttpProcessingError:
    """Map an llhttp error to our error classes (httptools exposes the reason, not the code)."""
    reason = str(exc)
    msg = f"Invalid HTTP message: {reason}"
    if isinstance(exc, httptools.HttpParserInvalidMethodError):
        return BadHttpMethod(reason, msg)
    if isinstance(exc, httptools.HttpParserInvalidURLError):
        return InvalidURLError(msg)
    if isinstance(exc, httptools.HttpParserInvalidStatusError):
        return BadStatusLine(reason, msg)
    lower = reason.lower()
    if "chunk" in lower:
        return TransferEncodingError(msg)
    if "content-length" in lower or "transfer-encoding" in lower:
        return BadHttpMessage(msg)
    if "expected cr" in lower or "expected lf" in lower:
        return BadHttpMessage(msg)
    if "header" in lower:
        return InvalidHeader(reason)
    if any(
        word in lower
        for word in (
            "version",
            "http/",
            "method",
            "start line",
            "status",
            "response line",
            "expected space",
            "expected dot",
            "pri",
        )
    ):
        return BadStatusLine(reason, msg)
    return BadHttpMessage(msg)


def _split_fields(section: bytes) -> list[tuple[bytes, bytes, int]]:
    """Split a header (or trailer) section llhttp has validated into ``(name, value, size)``.

    ``value`` has its surrounding whitespace removed; ``size`` is name + value as llhttp counts
    it (leading whitespace skipped, trailing kept), which is what ``max_field_size`` bounds.
    """
    fields = []
    if section:
        for line in section.split(_CRLF):
            name, _, value = line.partition(b":")
            value = value.lstrip(_OWS)
            fields.append((name, value.rstrip(_OWS), len(name) + len(value)))
    return fields


def _framing(headers: CIMultiDict[str], te: str | None, cl: str | None) -> tuple[bool, int, str]:
    """Return ``(chunked, content_length, error)``; -1 without Content-Length, error "" if none."""
    if te is not None:
        if cl is not None:
            return False, -1, "Both Content-Length and Transfer-Encoding are present"
        if te.lower() != "chunked" or len(headers.getall(hdrs.TRANSFER_ENCODING)) > 1:
            return (
                False,
                -1,
                f"Unsupported Transfer-Encoding {te!r}: only a single 'chunked' is accepted",
            )
        return True, -1, ""
    if cl is None:
        return False, -1, ""
    # llhttp has validated Content-Length already; checking again costs little (once per
    # distinct header section) and keeps the smuggling rules in one readable place.
    if not (cl.isascii() and cl.isdigit()):
        return False, -1, f"Invalid Content-Length {cl!r}"
    if len(headers.getall(hdrs.CONTENT_LENGTH)) > 1:
        return False, -1, "Duplicate Content-Length"
    return False, int(cl), ""


def _parse_fields(section: bytes, request: bool) -> _Fields:
    """Parse a validated header section (the bytes between the start line and CRLFCRLF).

    ``request``: whether to assess ``Host`` (a response's is no concern of ours).
    """
    raw_fields = []
    if section:
        for line in section.split(_CRLF):
            name, _, value = line.partition(b":")
            # llhttp skips whitespace before a value; we also drop it after.
            raw_fields.append((name, value.strip(_OWS)))
    # A bound on the longest field (name + value); the exact check runs when it is exceeded.
    longest = (
        len(section) if len(section) <= _SHORT_SECTION else max(map(len, section.split(_CRLF))) - 1
    )
    return _fields_of(tuple(raw_fields), longest, request)


def _fields_of(raw: RawHeaders, longest: int, request: bool) -> _Fields:
    """The `_Fields` of raw header fields (see `_parse_fields`)."""
    try:
        # Names are tokens (ASCII, checked by llhttp); so are most values: the fast codec.
        decoded = [(_decode(name), _decode(value)) for name, value in raw]
    except UnicodeDecodeError:
        # obs-text that is not UTF-8 is kept losslessly
        decoded = [
            (name.decode("latin-1"), value.decode("utf-8", "surrogateescape"))
            for name, value in raw
        ]
    headers = CIMultiDict(decoded)
    host = 0
    if request:
        hosts = headers.getall(hdrs.HOST, ())
        if len(hosts) == 1 and (hosts[0] in _VALID_HOSTS or _valid_host(hosts[0])):
            host = 1
        elif hosts:
            host = -1
    te = headers.get(hdrs.TRANSFER_ENCODING)
    chunked, length, error = _framing(headers, te, headers.get(hdrs.CONTENT_LENGTH))
    compression = None
    encoding = headers.get(hdrs.CONTENT_ENCODING)
    if encoding is not None:
        compression = _COMPRESSIONS.get(encoding.lower())
    fields: _Fields = _new_tuple(
        _Fields,
        (
            raw,
            CIMultiDictProxy(headers),
            longest,
            host,
            te is not None,
            chunked,
            length,
            compression,
            error or None,
        ),
    )
    return fields


def _valid_host(host: str) -> bool:
    if _HOST_RE.fullmatch(host) is None:
        return False
    if len(_VALID_HOSTS) >= _CACHE_SIZE:
        _VALID_HOSTS.clear()
    _VALID_HOSTS.add(host)
    return True


def _new_fields(section: bytes, request: bool) -> _Fields:
    """`_parse_fields` for a section missing from its memo cache; cache it if it recurs."""
    fields = _parse_fields(section, request)
    if len(section) <= _CACHEABLE_SECTION and _admit(section):
        cache = _REQUEST_SECTIONS if request else _RESPONSE_SECTIONS
        if len(cache) >= _SECTION_CACHE_SIZE:
            cache.clear()
        cache[section] = fields
    return fields


def _admit(key: bytes) -> bool:
    """Whether ``key`` was met before: only those enter a memo cache, so unique heads (request
    ids, dates) cause no churn."""
    digest = hash(key)  # cheap: bytes keep the hash the failed cache lookup computed
    if digest in _SEEN:
        return True
    if len(_SEEN) >= _SEEN_SIZE:
        _SEEN.clear()
    _SEEN.add(digest)
    return False


def _first_long_field(section: bytes, limit: int) -> LineTooLong | None:
    """The error for the first field of ``section`` longer than ``limit``, if there is one."""
    for name, _, size in _split_fields(section):
        if size > limit:
            return _field_too_long(name, limit, size)
    return None


def _check_host(headers: CIMultiDictProxy[str], version: HttpVersion) -> None:
    """Raise the error for a request whose Host is missing (HTTP/1.1), repeated or invalid."""
    hosts = headers.getall(hdrs.HOST, ())
    if len(hosts) > 1:
        raise BadHttpMessage("Duplicate Host header")
    if hosts:
        if _HOST_RE.fullmatch(hosts[0]) is None:
            raise InvalidHeader(f"Host: {hosts[0]}")
    elif version is HttpVersion11:
        raise BadHttpMessage("Missing Host header in an HTTP/1.1 request")


def _request_url(method: str, target: str) -> URL:
    """Build the URL of a request target (RFC 9112 §3.2); llhttp has checked its characters."""
    if method == "CONNECT":
        # authority-form only
        if "/" in target or "@" in target:
            raise InvalidURLError(f"CONNECT needs an authority-form target, got {target!r}")
        try:
            return URL.build(authority=target, encoded=True)
        except ValueError as exc:
            raise InvalidURLError(f"Invalid CONNECT target {target!r}: {exc}") from None
    if target[:1] == "/":
        # origin-form (a fragment is not part of it, but llhttp accepts one and so do we)
        path, _, fragment = target.partition("#")
        path, _, query = path.partition("?")
        return URL.build(path=path, query_string=query, fragment=fragment, encoded=True)
    if target == "*":
        if method != "OPTIONS":
            raise InvalidURLError(f"Asterisk-form target is only allowed with OPTIONS: {method}")
        return _ASTERISK_URL
    # absolute-form
    try:
        url = URL(target, encoded=True)
    except ValueError as exc:
        raise InvalidURLError(f"Invalid request target {target!r}: {exc}") from None
    if not url.absolute or not url.raw_host:
        raise InvalidURLError(f"Invalid request target {target!r}")
    if url.raw_user is not None or url.raw_password is not None:
        raise InvalidURLError("Request target must not contain userinfo")
    return url


def _skip_empty_lines(buf: bytes, pos: int) -> int:
    """Skip the CR and LF that llhttp accepts (and ignores) before a start line."""
    while buf[pos] in _EMPTY_LINE_BYTES:
        pos += 1
    return pos


class _HeadReplay:
    """httptools callbacks that apply the line and field limits to a head, field by field."""

    __slots__ = ("_max_field_size", "_max_line_size", "_start", "error")

    def __init__(self, max_line_size: int, max_field_size: int) -> None:
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._start = b""
        # The first limit exceeded (kept here: httptools' own error replaces it as the context
        # of what it raises when we are already handling an exception).
        self.error: HttpProcessingError | None = None

    def _stop(self, error: HttpProcessingError) -> None:
        self.error = error
        raise error

    def on_url(self, url: bytes) -> None:
        target = self._start = self._start + url
        if len(target) > self._max_line_size:
            self._stop(LineTooLong(target, self._max_line_size, len(target), code=414))

    def on_status(self, reason: bytes) -> None:
        reason = self._start = self._start + reason
        if len(reason) > self._max_line_size:
            self._stop(LineTooLong(reason, self._max_line_size, len(reason), code=400))

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        if size > self._max_field_size:
            self._stop(_field_too_long(name, self._max_field_size, size))


class _FieldCallbacks:
    """httptools' view of a parser in field mode: its callbacks, plus one per header field."""

    __slots__ = (
        "on_body",
        "on_chunk_complete",
        "on_chunk_header",
        "on_header",
        "on_headers_complete",
        "on_message_complete",
        "on_status",
    )

    def __init__(self, parser: Any) -> None:
        self.on_header = parser._on_field
        self.on_headers_complete = parser.on_headers_complete
        self.on_body = parser.on_body
        self.on_chunk_header = parser.on_chunk_header
        self.on_chunk_complete = parser.on_chunk_complete
        self.on_message_complete = parser.on_message_complete
        self.on_status = getattr(parser, "on_status", None)


class _BodyFrom(Exception):
    """Raised from ``on_headers_complete`` to stop llhttp at the start of a long body."""


class _UpgradeAt(Exception):
    """Internal: the head ending at ``offset`` of the fed data switched protocols."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _HttpParser(Generic[_MsgT]):
    """What request and response parsing share: httptools callbacks, limits, bodies, errors."""

    __slots__ = (
        "_auto_decompress",
        "_body",
        "_buf",
        "_carry",
        "_checked",
        "_checked_end",
        "_closing",
        "_error",
        "_field_list",
        "_field_mode",
        "_heads",
        "_left",
        "_limit",
        "_lines",
        "_loop",
        "_max_decompressed_size",
        "_max_field_size",
        "_max_headers",
        "_max_line_size",
        "_messages",
        "_misses",
        "_parser",
        "_partial",
        "_payload",
        "_payload_exception",
        "_pos",
        "_protocol",
        "_should_close",
        "_sink",
        "_timer",
        "_upgraded",
    )

    def __init__(
        self,
        protocol: BaseProtocol,
        loop: asyncio.AbstractEventLoop,
        limit: int,
        *,
        max_line_size: int,
        max_field_size: int,
        max_headers: int,
        payload_exception: type[BaseException] | None,
        auto_decompress: bool,
        max_decompressed_size: int | None,
        timer: AbstractContextManager[object] | None,
    ) -> None:
        self._protocol = protocol
        self._loop = loop
        self._limit = limit
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._payload_exception = payload_exception
        self._auto_decompress = auto_decompress
        self._max_decompressed_size = max_decompressed_size
        self._timer = timer

        self._messages: list[tuple[_MsgT, StreamReader]] = []
        self._error: BaseException | None = None
        self._upgraded = False
        self._closing = False  # a message ended the connection; later bytes are ignored

        # Where we are in the bytes (see the module docstring).
        self._buf: bytes | bytearray = b""  # the carry and the current read
        self._pos = 0  # first byte of _buf that no callback has accounted for
        self._carry: bytearray | None = None  # unaccounted bytes kept from earlier reads
        self._lines = 0  # complete lines in _carry
        self._partial = 0  # bytes of the unfinished line at the end of _carry
        self._checked = 0  # lines of _carry whose limits were checked
        self._checked_end = 0  # where the line after them starts
        self._should_close = False

        # Body being parsed.
        self._body = _NO_BODY
        self._left = 0  # bytes still to come of a body that goes around llhttp
        self._payload: StreamReader | None = None
        self._sink: _Sink | None = None

        # Where header fields come from: the memo caches and our own split of the section, or
        # (field mode) one llhttp callback per field, cheaper when heads never repeat.
        self._field_mode = False
        self._field_list: list[tuple[bytes, bytes]] = []  # field mode: the head's fields
        self._heads = 0  # heads parsed in the current window (counted per read)
        self._misses = 0  # of which not found in the memo caches

        self._parser: Any = self._new_parser()

    def _new_parser(self) -> httptools.HttpRequestParser | httptools.HttpResponseParser:
        raise NotImplementedError

    # -- public API ------------------------------------------------------------------------

    def feed_data(self, data: bytes) -> tuple[list[tuple[_MsgT, StreamReader]], bool, bytes]:
        """Parse ``data``; return the messages whose heads completed, each with its body stream.

        ``upgraded`` is true once the connection switched protocols; ``tail`` then holds the
        bytes that followed the head. Raises an `HttpProcessingError` subclass on invalid input.
        """
        if self._error is not None:
            raise self._error
        if self._upgraded:
            return [], True, data
        if self._closing:
            return [], False, _EMPTY_TAIL
        if self._heads >= _MODE_WINDOW:
            self._choose_field_source()
        messages: list[tuple[_MsgT, StreamReader]] = []
        self._messages = messages
        try:
            if self._left:
                rest = self._feed_length(data)
                if not rest or self._closing:
                    return messages, False, _EMPTY_TAIL
                data = bytes(rest)  # a pipelined message after the body (no copy: bytes)
            while True:
                carry = self._carry
                if carry is None:
                    self._buf = data
                else:
                    carry += data  # amortised: a head trickling in is not copied on every read
                    self._buf = carry
                self._pos = 0
                try:
                    self._feed(data)
                except HttpParserCallbackError as exc:
                    if type(exc.__context__) is not _BodyFrom:
                        raise
                    # llhttp stopped after a head whose long body goes around it: the body
                    # starts at _pos; a new llhttp parses whatever follows it.
                    self._parser = self._new_parser()
                    self._carry = None
                    rest = self._feed_length(memoryview(self._buf)[self._pos :])
                    if not rest or self._closing:
                        break
                    data = bytes(rest)
                    continue
                if self._closing:
                    self._carry = None
                elif self._pos < len(self._buf):
                    self._keep_unaccounted(data, carry is not None)
                else:
                    self._carry = None
                break
        except HttpParserUpgrade as exc:
            self._upgraded = True
            return messages, True, data[exc.args[0] :]
        except _UpgradeAt as exc:
            self._upgraded = True
            return messages, True, data[exc.offset :]
        except Exception as exc:
            if self._closing and isinstance(exc, HttpParserError):
                # llhttp refuses data after a message that closes the connection: ignore it.
                self._carry = None
                return messages, False, _EMPTY_TAIL
            raise self._fail(exc) from None
        finally:
            self._buf = _EMPTY_TAIL  # do not keep the read alive while the connection idles
        self._heads += len(messages)
        return messages, False, _EMPTY_TAIL

    @property
    def holds_partial_message(self) -> bool:
        """True when bytes of a message not yet complete (a head, a chunk-size line, trailers)
        are kept for the next read."""
        return bool(self._carry)

    @property
    def in_long_body(self) -> bool:
        """True while a long Content-Length body is received: `feed_body_view` may be used."""
        return self._left > 0

    def feed_body_view(
        self, view: memoryview
    ) -> tuple[list[tuple[_MsgT, StreamReader]], bool, bytes]:
        """`feed_data` for a read that starts with body bytes (`in_long_body`), given as a view
        of a receive buffer: only the body's part is copied out of it."""
        if self._error is not None:
            raise self._error
        self._messages = []  # none complete in this read unless feed_data below finds some
        try:
            rest = self._feed_length(view)
        except Exception as exc:
            raise self._fail(exc) from None
        if rest and not self._closing:
            return self.feed_data(bytes(rest))  # a pipelined message after the body
        return [], False, _EMPTY_TAIL

    def _feed_length(self, data: bytes | memoryview) -> bytes | memoryview:
        """Feed the next bytes of a long Content-Length body straight to its sink (no llhttp
        callbacks, no copy beyond the body's own); return what follows the body."""
        left = self._left
        sink = self._sink
        assert sink is not None
        if len(data) < left:
            self._left = left - len(data)
            sink.feed_data(data if type(data) is bytes else bytes(data))
            return _EMPTY_TAIL
        self._left = 0
        piece = data[:left]
        sink.feed_data(piece if type(piece) is bytes else bytes(piece))
        self.on_message_complete()
        return data[left:]

    @property
    def messages_before_error(self) -> list[tuple[_MsgT, StreamReader]]:
        """The messages whose heads completed in the `feed_data` call that raised.

        A failing read may hold valid pipelined messages ahead of the bad bytes; they are still
        owed an answer (the error belongs to what follows them, or to the last one's body).
        Empty unless the parser failed.
        """
        return self._messages if self._error is not None else []

    def feed_eof(self) -> _MsgT | None:
        """The connection closed: end a read-until-close body, or fail a truncated one.

        Returns None: a head cut short by the close is dropped (it was never a message). Raises
        `ContentLengthError` / `TransferEncodingError` (also set on the body) for a body cut
        short, or the decoder's error for a truncated compressed body.
        """
        if self._error is not None or self._upgraded:
            return None
        sink = self._sink
        if sink is None:
            return None
        body = self._body
        if body == _UNTIL_EOF:
            try:
                sink.feed_eof()
            except Exception as decode_error:
                raise self._fail(decode_error) from None
            self._end_body()
            self._closing = True
            return None
        truncated: HttpProcessingError
        if body == _LENGTH:
            truncated = ContentLengthError(
                "Not enough data to satisfy content length header: the connection closed"
            )
        else:
            truncated = TransferEncodingError(
                "Not enough data to satisfy transfer length header: the connection closed "
                "inside a chunked body"
            )
        raise self._fail(truncated)

    # -- internals -------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def _choose_field_source(self) -> None:
        """End of a window of heads: go to field mode if most missed the memo caches.

        The choice is made between messages (llhttp is replaced) and then kept: the heads of
        one connection tend to stay alike.
        """
        if (
            self._misses * 4 >= self._heads * 3
            and not self._field_mode
            and self._carry is None
            and self._body == _NO_BODY
        ):
            self._field_mode = True
            self._parser = self._new_parser()
        self._heads = self._misses = 0

    def _callbacks(self) -> object:
        """What httptools calls back: this parser, plus a callback per field in field mode."""
        return _FieldCallbacks(self) if self._field_mode else self

    def _on_field(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        if size > self._max_field_size:
            raise _field_too_long(name, self._max_field_size, size)
        # llhttp strips whitespace before a value but keeps the whitespace after it.
        self._field_list.append((name, value.rstrip(_OWS)))

    def _listed_fields(self, request: bool) -> _Fields:
        """Field mode: the `_Fields` of the head just reported field by field."""
        raw = tuple(self._field_list)
        self._field_list = []
        return _fields_of(raw, 0, request)  # (sizes were checked field by field)

    def _missed(self, section: bytes, request: bool) -> _Fields:
        self._misses += 1
        return _new_fields(section, request)

    def _fail(self, exc: BaseException) -> BaseException:
        """Record the first error, fail the body being received, return what to raise."""
        if isinstance(exc, HttpParserCallbackError) and exc.__context__ is not None:
            exc = exc.__context__  # raised by one of our callbacks
        if isinstance(exc, HttpParserError):
            limit_error = self._body == _NO_BODY and self._replay_head()
            exc = limit_error or _translate(exc)
        self._error = exc
        self._carry = None
        payload = self._payload
        if payload is not None:
            self._end_body()
            if self._payload_exception is not None:
                payload.set_exception(self._payload_exception(str(exc)), exc)
            else:
                payload.set_exception(exc)
        return exc

    def _end_body(self) -> None:
        self._payload = None
        self._sink = None
        self._body = _NO_BODY

    def _replay_head(self) -> HttpProcessingError | None:
        """For a head llhttp refused: the limit error met before llhttp's, if any.

        Limits are checked when a head is complete, llhttp's syntax as it goes; so that the
        first problem of a head is reported whatever else is wrong after it, the refused head
        is parsed again with per-field callbacks that apply the limits in order.
        """
        buf = self._buf
        start = self._pos
        while start < len(buf) and buf[start] in _EMPTY_LINE_BYTES:
            start += 1
        replay = _HeadReplay(self._max_line_size, self._max_field_size)
        with contextlib.suppress(HttpParserError):
            self._replay_parser(replay).feed_data(bytes(buf[start:]))
        return replay.error

    def _replay_parser(
        self, replay: _HeadReplay
    ) -> httptools.HttpRequestParser | httptools.HttpResponseParser:
        raise NotImplementedError

    def _no_empty_line(self) -> BadStatusLine:
        # Only an HTTP/0.9 start line ends with a bare LF, or a head without an empty line.
        return BadStatusLine(
            "",
            f"Unsupported HTTP version {self._parser.get_http_version()}: expected 1.0 or 1.1",
        )

    def _keep_unaccounted(self, data: bytes, had_carry: bool) -> None:
        """Keep the bytes after `_pos` for the next read, checking the limits on them.

        They are a head, a chunk-size line or a trailer section still arriving. They get the
        checks llhttp's reports used to trigger, in the same order: the request target as it
        arrives, each field once the next begins, the number of fields, then the unfinished
        line. Only new bytes are scanned, so a head trickling in byte by byte costs linear time.
        """
        buf = self._buf
        pos = self._pos
        in_head = self._body == _NO_BODY
        new: bytes
        if had_carry and pos == 0:
            # The same unfinished part goes on (buf is the carry, data already appended).
            assert isinstance(buf, bytearray)
            carry = buf
            new = data
            unfinished = self._partial  # the line the new bytes continue
            lines = self._lines
        else:
            new = bytes(buf[pos:])
            if in_head:
                new = new.lstrip(_EMPTY_LINE_BYTES)  # empty lines before a start line
                if not new:
                    self._carry = None
                    self._lines = self._partial = 0
                    return
            carry = bytearray(new)
            unfinished = lines = self._checked = self._checked_end = 0
        pieces: list[bytes] = new.split(b"\n")
        longest = 0  # longest line the new bytes complete, LF included
        if len(pieces) > 1:
            longest = max([unfinished + len(pieces[0]), *map(len, pieces[1:-1])]) + 1
            unfinished = 0
        lines += len(pieces) - 1
        partial = unfinished + len(pieces[-1])
        self._carry = carry
        self._lines = lines
        self._partial = partial

        start_lines = 1 if in_head else 0  # a trailer section has no start line
        if in_head and lines == 0:
            self._check_start_line(carry)  # the target so far
        elif in_head and self._checked == 0:
            newline = carry.index(b"\n")
            self._check_start_line(carry[: newline - 1])
            self._checked = 1
            self._checked_end = newline + 1
        # A field is checked once the next begins, as llhttp reports fields (a lone CR may end
        # the section). llhttp holds back one complete head, the HTTP/2 preface (to refuse it
        # once complete): it has no fields.
        next_begun = partial > 1 or (partial == 1 and carry[-1] != 13)
        reported = lines if next_begun else max(lines - 1, start_lines)
        if reported > self._checked and not (in_head and carry.startswith(_H2_PREFACE)):
            self._check_reported_fields(carry, reported)
            if reported - start_lines > self._max_headers:
                raise _too_many_headers(self._max_headers)

        field_limit = self._max_field_size + _LINE_SLACK
        line_limit = max(field_limit, self._max_line_size + _LINE_SLACK)
        if reported <= start_lines:  # maybe still the start line, with its own exact checks
            field_limit = line_limit
        # (A complete line is checked when the next begins; until then it is bounded as the
        # start line is.)
        if partial > field_limit or longest > line_limit:
            error = _field_too_long(
                b"header field" if in_head else b"trailer field",
                self._max_field_size,
                max(partial, longest),
            )
            # Report what the complete head would have shown first (a long target, say).
            raise (self._replay_head() if in_head else None) or error

    def _check_reported_fields(self, carry: bytearray, reported: int) -> None:
        """Check the size of the fields of ``carry`` up to line ``reported``, once each."""
        end = self._checked_end
        limit = self._max_field_size
        for _ in range(reported - self._checked):
            newline = carry.index(b"\n", end)
            name, _, value = bytes(carry[end : newline - 1]).partition(b":")
            size = len(name) + len(value.lstrip(_OWS))
            if size > limit:
                raise _field_too_long(name, limit, size)
            end = newline + 1
        self._checked = reported
        self._checked_end = end

    def _check_start_line(self, line: bytearray) -> None:
        """Bound the start line still being received (requests: the target)."""

    def _start_body(self, msg: _MsgT, body: int, compression: str | None, length: int = 0) -> None:
        """Queue ``msg`` with a new body stream (or EMPTY_PAYLOAD when ``body`` is none).

        A Content-Length body of which at least `_BYPASS_MIN` bytes are still to come after
        this read is not left to llhttp (which would copy every piece into a new ``bytes`` and
        call back for it): llhttp is stopped here, and `feed_data` hands the body's bytes to
        its stream itself, then starts a new llhttp for what follows.
        """
        self._body = body
        if body in (_NO_BODY, _DISCARD):
            self._messages.append((msg, EMPTY_PAYLOAD))
            return
        payload = StreamReader(self._protocol, self._limit, timer=self._timer, loop=self._loop)
        sink: _Sink = payload
        if compression is not None and self._auto_decompress:
            sink = DecompressingSink(payload, compression, self._max_decompressed_size)
        self._payload = payload
        self._sink = sink
        self._messages.append((msg, payload))
        if body == _LENGTH and length - (len(self._buf) - self._pos) >= _BYPASS_MIN:
            self._left = length
            raise _BodyFrom

    def _check_trailers(self, section: bytes) -> None:
        """Trailer fields are accepted, held to the header limits, then dropped."""
        fields = _split_fields(section)
        limit = self._max_field_size
        for name, _, size in fields:
            if size > limit:
                raise _field_too_long(name, limit, size)
        if len(fields) > self._max_headers:
            raise _too_many_headers(self._max_headers)

    # -- httptools callbacks (the hot path: keep them small) -------------------------------

    def on_body(self, body: bytes) -> None:
        self._pos += len(body)
        sink = self._sink
        if sink is not None:
            sink.feed_data(body)

    def on_chunk_header(self) -> None:
        # Called on the LF ending the chunk-size line (no LF can occur inside it).
        self._pos = self._buf.index(b"\n", self._pos) + 1
        sink = self._sink
        if sink is not None:
            sink.begin_http_chunk_receiving()

    def on_chunk_complete(self) -> None:
        # After a chunk's data and its CRLF; for the last (empty) chunk, after the trailers.
        buf = self._buf
        pos = self._pos
        if buf[pos : pos + 2] == _CRLF:
            self._pos = pos + 2
        else:
            end = buf.index(b"\r\n\r\n", pos)
            self._check_trailers(bytes(buf[pos:end]))
            self._pos = end + 4
            self._field_list.clear()  # trailers reported in field mode are dropped
        sink = self._sink
        if sink is not None:
            sink.end_http_chunk_receiving()

    def on_message_complete(self) -> None:
        sink = self._sink
        if sink is not None:
            sink.feed_eof()
            self._end_body()
        else:
            self._body = _NO_BODY
        if self._should_close:
            self._closing = True


class RequestParser(_HttpParser[RawRequestMessage]):
    """Parses HTTP/1.x requests received by a server.

    ``protocol`` and ``loop`` are handed to each body `StreamReader`, with ``limit`` (its
    flow-control low-water mark in bytes) and ``timer``. ``max_line_size`` bounds the request
    target, ``max_field_size`` one header field (name + value) and ``max_headers`` their count.
    With ``auto_decompress`` a body sent with ``Content-Encoding`` gzip/deflate/br/zstd is decoded,
    up to ``max_decompressed_size`` bytes (None: no cap). ``payload_exception``, if given, is the
    exception class set on a body that an error cut short (with the error as its cause).
    """

    __slots__ = ()

    def __init__(
        self,
        protocol: BaseProtocol,
        loop: asyncio.AbstractEventLoop,
        limit: int = 2**16,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        payload_exception: type[BaseException] | None = None,
        auto_decompress: bool = True,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        timer: AbstractContextManager[object] | None = None,
    ) -> None:
        super().__init__(
            protocol,
            loop,
            limit,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            payload_exception=payload_exception,
            auto_decompress=auto_decompress,
            max_decompressed_size=max_decompressed_size,
            timer=timer,
        )

    def _new_parser(self) -> httptools.HttpRequestParser:
        # No on_message_begin / on_url (nor on_header but in field mode): the head is read in
        # on_headers_complete.
        return httptools.HttpRequestParser(self._callbacks())

    def _replay_parser(self, replay: _HeadReplay) -> httptools.HttpRequestParser:
        return httptools.HttpRequestParser(replay)

    def _check_start_line(self, line: bytearray) -> None:
        space = line.find(b" ")
        if space < 0:
            return  # still the method, which llhttp bounds
        target = bytes(line[space + 1 :]).lstrip(b" ")
        end = target.find(b" ")
        if end >= 0:
            target = target[:end]
        if len(target) > self._max_line_size:
            raise LineTooLong(target, self._max_line_size, len(target), code=414)

    def _read_request_line(self, line: bytes) -> tuple[str, str, HttpVersion | None]:
        """``(method, target, version)`` of a start line llhttp accepted (None: bad version)."""
        space = line.find(b" ")
        last = line.rfind(b" ")
        version = _REQUEST_LINE_VERSIONS.get(line[last + 1 :])
        if version is not None and line[space + 1] != 32 and line[last - 1] != 32:
            target = line[space + 1 : last]
        else:
            # llhttp allows several spaces around the target (none inside it), or no version
            # at all (HTTP/0.9, refused below), or another protocol token (RTSP, ICE).
            words = [word for word in line.split(b" ") if word]
            target = words[1] if len(words) > 1 else b""
            version = _VERSIONS.get(self._parser.get_http_version())
        if len(target) > self._max_line_size:
            raise LineTooLong(target, self._max_line_size, len(target), code=414)
        raw_method = line[:space]
        method = _METHODS.get(raw_method)
        if method is None:
            method = self._parser.get_method().decode("ascii")
            if method.encode("ascii") == raw_method:  # llhttp's own spelling, bounded
                _METHODS[raw_method] = method
        # llhttp allows only ASCII in a target.
        return method, target.decode("latin-1"), version

    def on_headers_complete(self) -> None:
        # Locate the head llhttp just completed (inlined: the hottest lines of the parser):
        # buf[start:line_end] is the start line, buf[line_end + 2:end] the header section.
        buf = self._buf
        if type(buf) is not bytes:
            self._buf = buf = bytes(buf)  # the head began in an earlier read: one copy
        start = self._pos
        if buf[start] in _EMPTY_LINE_BYTES:
            start = _skip_empty_lines(buf, start)
        line_end = buf.index(b"\n", start) - 1  # (a bare LF only ends an HTTP/0.9 line)
        end = buf.find(b"\r\n\r\n", line_end)
        if end < 0:
            raise self._no_empty_line()
        self._pos = end + 4
        line = buf[start:line_end]
        known = _REQUEST_LINES.get(line)
        url: URL | None
        version_or_none: HttpVersion | None
        if known is not None:
            method, path, version_or_none, url = known
            if len(path) > self._max_line_size:
                target = path.encode("latin-1")
                raise LineTooLong(target, self._max_line_size, len(target), code=414)
        else:
            if buf[line_end] != 13:  # a bare LF: an HTTP/0.9 request line
                raise self._no_empty_line()
            method, path, version_or_none = self._read_request_line(line)
            url = None

        fields: _Fields | None
        if self._field_mode:
            fields = self._listed_fields(True)
        else:
            section = buf[line_end + 2 : end]
            fields = _REQUEST_SECTIONS.get(section)
            if fields is None:
                fields = self._missed(section, True)
        (
            raw,
            headers,
            longest,
            host,
            has_te,
            chunked,
            length,
            compression,
            framing_error,
        ) = fields
        if longest > self._max_field_size:
            too_long = _first_long_field(buf[line_end + 2 : end], self._max_field_size)
            if too_long is not None:
                raise too_long
        if len(raw) > self._max_headers:
            raise _too_many_headers(self._max_headers)
        if version_or_none is None:
            raise BadStatusLine(
                "",
                f"Unsupported HTTP version {self._parser.get_http_version()}: expected 1.0 or 1.1",
            )
        version: HttpVersion = version_or_none
        if host != 1 and (host or version is HttpVersion11):
            _check_host(headers, version)
        if has_te and version is HttpVersion10:
            raise BadHttpMessage("Transfer-Encoding is not allowed in an HTTP/1.0 request")
        if framing_error is not None:
            raise BadHttpMessage(framing_error)
        if url is None:
            url = _request_url(method, path)
            if len(line) <= _CACHEABLE_LINE and _admit(line):
                if len(_REQUEST_LINES) >= _CACHE_SIZE:
                    _REQUEST_LINES.clear()
                _REQUEST_LINES[line] = (method, path, version, url)

        parser = self._parser
        upgrade: bool = parser.should_upgrade()
        self._should_close = should_close = not parser.should_keep_alive()
        msg: RawRequestMessage = _new_tuple(
            RawRequestMessage,
            (
                method,
                path,
                version,
                headers,
                raw,
                should_close,
                compression,
                upgrade,
                chunked,
                url,
            ),
        )
        if upgrade:
            if chunked or length > 0:
                # httptools makes llhttp skip the body of an upgrade, so its bytes would reach
                # the new protocol as if they came after the switch: refuse the ambiguity.
                raise BadHttpMessage("Upgrade or CONNECT request with a body is not supported")
            # llhttp stops right after the head (HttpParserUpgrade).
            self._start_body(msg, _NO_BODY, None)
        elif chunked:
            self._start_body(msg, _CHUNKED, compression)
        elif length > 0:
            self._start_body(msg, _LENGTH, compression, length)
        else:
            self._messages.append((msg, EMPTY_PAYLOAD))


class ResponseParser(_HttpParser[RawResponseMessage]):
    """Parses HTTP/1.x responses received by a client.

    Parameters are those of `RequestParser` (``max_line_size`` bounds the status line's reason
    phrase), plus: ``response_with_body=False`` for responses to HEAD, whose heads announce a body
    that is not sent; ``read_until_eof``: whether a response without ``Content-Length`` or chunked
    coding has a body that lasts until the connection closes (otherwise it gets an empty body and
    the rest of the connection is ignored).
    """

    __slots__ = ("_read_until_eof", "_reason", "_response_with_body")

    def __init__(
        self,
        protocol: BaseProtocol,
        loop: asyncio.AbstractEventLoop,
        limit: int = 2**16,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        payload_exception: type[BaseException] | None = None,
        response_with_body: bool = True,
        read_until_eof: bool = False,
        auto_decompress: bool = True,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        timer: AbstractContextManager[object] | None = None,
    ) -> None:
        self._response_with_body = response_with_body
        self._read_until_eof = read_until_eof
        self._reason = b""  # reason phrase of the status line being received
        super().__init__(
            protocol,
            loop,
            limit,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            payload_exception=payload_exception,
            auto_decompress=auto_decompress,
            max_decompressed_size=max_decompressed_size,
            timer=timer,
        )

    def _new_parser(self) -> httptools.HttpResponseParser:
        return httptools.HttpResponseParser(self._callbacks())

    def _replay_parser(self, replay: _HeadReplay) -> httptools.HttpResponseParser:
        return httptools.HttpResponseParser(replay)

    def _feed(self, data: bytes) -> None:
        if self._response_with_body:
            self._parser.feed_data(data)
            return
        # Heads only (responses to HEAD): llhttp cannot be told to skip a body from Python, so it
        # is fed one head at a time and replaced after each. With CRLF line endings enforced, a
        # head ends at the first CRLFCRLF after its start.
        buf = self._buf
        size = len(buf)
        fed = size - len(data)  # buf[:fed] was fed to llhttp in earlier reads
        base = fed
        messages = self._messages
        while fed < size:
            end = buf.find(b"\r\n\r\n", max(fed - 3, self._pos))
            stop = size if end < 0 else end + 4
            before = len(messages)
            try:
                self._parser.feed_data(data[fed - base : stop - base])
            except HttpParserUpgrade as exc:
                raise _UpgradeAt(fed - base + exc.args[0]) from None
            fed = stop
            if len(messages) > before:
                if self._should_close:
                    self._closing = True
                    break
                self._parser = self._new_parser()

    def on_status(self, reason: bytes) -> None:
        # llhttp reports a status line split across reads in pieces.
        reason = self._reason + reason
        if len(reason) > self._max_line_size:
            raise LineTooLong(reason, self._max_line_size, len(reason), code=400)
        self._reason = reason

    def on_headers_complete(self) -> None:
        # Locate the head llhttp just completed (inlined: the hottest lines of the parser):
        # buf[start:line_end] is the start line, buf[line_end + 2:end] the header section.
        buf = self._buf
        if type(buf) is not bytes:
            self._buf = buf = bytes(buf)  # the head began in an earlier read: one copy
        start = self._pos
        if buf[start] in _EMPTY_LINE_BYTES:
            start = _skip_empty_lines(buf, start)
        line_end = buf.index(b"\n", start) - 1  # (a bare LF only ends an HTTP/0.9 line)
        end = buf.find(b"\r\n\r\n", line_end)
        if end < 0:
            raise self._no_empty_line()
        if buf[line_end] != 13:  # a bare LF: an HTTP/0.9 status line
            raise self._no_empty_line()
        self._pos = end + 4
        raw_reason = self._reason
        self._reason = b""
        fields: _Fields | None
        if self._field_mode:
            fields = self._listed_fields(False)
        else:
            section = buf[line_end + 2 : end]
            fields = _RESPONSE_SECTIONS.get(section)
            if fields is None:
                fields = self._missed(section, False)
        (
            raw,
            headers,
            longest,
            _host,
            _has_te,
            chunked,
            length,
            compression,
            framing_error,
        ) = fields
        if longest > self._max_field_size:
            too_long = _first_long_field(buf[line_end + 2 : end], self._max_field_size)
            if too_long is not None:
                raise too_long
        if len(raw) > self._max_headers:
            raise _too_many_headers(self._max_headers)
        parser = self._parser
        version = _STATUS_LINE_VERSIONS.get(buf[start : start + 8])
        if version is None:
            version = _VERSIONS.get(parser.get_http_version())
            if version is None:
                raise BadStatusLine(
                    "",
                    f"Unsupported HTTP version {parser.get_http_version()}: expected 1.0 or 1.1",
                )
        status: int = parser.get_status_code()
        if status < 100:
            raise BadStatusLine("", f"Invalid status code {status}")
        reason = _REASONS.get(raw_reason)
        if reason is None:
            if _REASON_CTL_RE.search(raw_reason) is not None:
                raise BadStatusLine(repr(raw_reason), "Control character in the reason phrase")
            reason = raw_reason.decode("utf-8", "surrogateescape")
            if len(raw_reason) <= _CACHEABLE_LINE:
                if len(_REASONS) >= _CACHE_SIZE:
                    _REASONS.clear()
                _REASONS[raw_reason] = reason

        should_close = not parser.should_keep_alive()
        if framing_error is not None:
            raise BadHttpMessage(framing_error)
        if chunked and version is HttpVersion10:
            # RFC 9112 §6.1: the framing of an HTTP/1.0 message with Transfer-Encoding is
            # suspect; read it, but never reuse the connection.
            should_close = True

        upgrade: bool = parser.should_upgrade()
        if status == 101 and not upgrade:
            raise BadHttpMessage("101 response without 'Connection: upgrade' and 'Upgrade'")

        self._should_close = should_close
        msg: RawResponseMessage = _new_tuple(
            RawResponseMessage,
            (
                version,
                status,
                reason,
                headers,
                raw,
                should_close,
                compression,
                upgrade,
                chunked,
            ),
        )
        if (
            upgrade
            or not self._response_with_body
            or status < 200
            or status == 204
            or status == 304
        ):
            # No body by definition (llhttp agrees; for HEAD the head is fed alone).
            body = _NO_BODY
        elif chunked:
            body = _CHUNKED
        elif length >= 0:
            body = _LENGTH if length else _NO_BODY
        elif self._read_until_eof:
            body = _UNTIL_EOF
        else:
            body = _DISCARD
        self._start_body(msg, body, compression, length)
