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
  ``max_field_size`` (`LineTooLong`, 431) - also while httptools is still buffering it; more than
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
"""

from __future__ import annotations

import asyncio
import re
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

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
    RawRequestMessage,
    RawResponseMessage,
)

if TYPE_CHECKING:
    from ..base_protocol import BaseProtocol

__all__ = ("RequestParser", "ResponseParser")

_MsgT = TypeVar("_MsgT", RawRequestMessage, RawResponseMessage)

_VERSIONS: Final[dict[str, HttpVersion]] = {"1.1": HttpVersion11, "1.0": HttpVersion10}
_COMPRESSIONS: Final = {"gzip": "gzip", "deflate": "deflate", "br": "br", "zstd": "zstd"}
# llhttp only knows a fixed set of methods, so this cache stays small.
_METHODS: dict[bytes, str] = {}

# RFC 9110 §7.2: Host = uri-host [ ":" port ]; reg-name, IPv4 and IP-literal characters only.
_HOST_RE: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:%\[\]]*")
# RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
_REASON_CTL_RE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

# Hosts and origin-form targets repeat from request to request; caching what was already
# validated or built saves a regex match and a URL construction per request. Both caches are
# bounded (cleared when full), so hostile variety costs no memory, just the uncached work.
_CACHE_SIZE: Final = 512
_VALID_HOSTS: set[str] = set()
_ORIGIN_URLS: dict[str, URL] = {}

_ASTERISK_URL: Final = URL.build(path="*", encoded=True)

# How the body of the message being parsed ends.
_NO_BODY: Final = 0
_LENGTH: Final = 1
_CHUNKED: Final = 2
_UNTIL_EOF: Final = 3  # response read until the connection closes
_DISCARD: Final = 4  # response with no length that the caller asked not to read

# Room for the ": ", optional whitespace and CR around a header field's name and value.
_LINE_SLACK: Final = 64

_EMPTY_TAIL: Final = b""

_new_tuple = tuple.__new__  # builds the NamedTuple messages without their Python __new__

_Sink = StreamReader | DecompressingSink


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


def _build_headers(raw: list[tuple[bytes, bytes]]) -> CIMultiDict[str]:
    # Names are tokens (ASCII, checked by llhttp); values may hold obs-text, kept losslessly.
    return CIMultiDict(
        [(name.decode("latin-1"), value.decode("utf-8", "surrogateescape")) for name, value in raw]
    )


def _framing(headers: CIMultiDict[str], te: str | None, cl: str | None) -> tuple[bool, int]:
    """Return ``(chunked, content_length)`` (-1 without Content-Length) after checking them."""
    if te is not None:
        if cl is not None:
            raise BadHttpMessage("Both Content-Length and Transfer-Encoding are present")
        if te.lower() != "chunked" or len(headers.getall(hdrs.TRANSFER_ENCODING)) > 1:
            raise BadHttpMessage(
                f"Unsupported Transfer-Encoding {te!r}: only a single 'chunked' is accepted"
            )
        return True, -1
    if cl is None:
        return False, -1
    # llhttp has validated Content-Length already; checking again costs little and keeps the
    # smuggling rules in one readable place.
    if not (cl.isascii() and cl.isdigit()):
        raise BadHttpMessage(f"Invalid Content-Length {cl!r}")
    if len(headers.getall(hdrs.CONTENT_LENGTH)) > 1:
        raise BadHttpMessage("Duplicate Content-Length")
    return False, int(cl)


def _check_host(headers: CIMultiDict[str], version: HttpVersion) -> None:
    hosts = headers.getall(hdrs.HOST, ())
    if len(hosts) == 1:
        host = hosts[0]
        if host not in _VALID_HOSTS:
            if _HOST_RE.fullmatch(host) is None:
                raise InvalidHeader(f"Host: {host}")
            if len(_VALID_HOSTS) >= _CACHE_SIZE:
                _VALID_HOSTS.clear()
            _VALID_HOSTS.add(host)
    elif hosts:
        raise BadHttpMessage("Duplicate Host header")
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
        url = _ORIGIN_URLS.get(target)
        if url is None:
            url = _origin_url(target)
            if len(_ORIGIN_URLS) >= _CACHE_SIZE:
                _ORIGIN_URLS.clear()
            _ORIGIN_URLS[target] = url
        return url
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


def _origin_url(target: str) -> URL:
    path, _, fragment = target.partition("#")
    path, _, query = path.partition("?")
    return URL.build(path=path, query_string=query, fragment=fragment, encoded=True)


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
        "_chunk_open",
        "_closing",
        "_error",
        "_head_began",
        "_in_head",
        "_limit",
        "_loop",
        "_max_decompressed_size",
        "_max_field_size",
        "_max_headers",
        "_max_line_size",
        "_messages",
        "_parser",
        "_partial",
        "_payload",
        "_payload_exception",
        "_protocol",
        "_raw_headers",
        "_should_close",
        "_sink",
        "_target",
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

        # Head being parsed.
        self._in_head = False
        self._head_began = False  # the head began during the current feed_data call
        self._partial = 0  # bytes of the unfinished line httptools is buffering
        self._target = b""  # request target or reason phrase
        # Fields of the head; after the head, the trailer fields of a chunked body.
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._should_close = False

        # Body being parsed.
        self._body = _NO_BODY
        self._payload: StreamReader | None = None
        self._sink: _Sink | None = None
        self._chunk_open = False  # after a chunk-size line, before its data (or in trailers)

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
        messages: list[tuple[_MsgT, StreamReader]] = []
        self._messages = messages
        self._head_began = False
        try:
            self._feed(data)
        except HttpParserUpgrade as exc:
            self._upgraded = True
            return messages, True, data[exc.args[0] :]
        except _UpgradeAt as exc:
            self._upgraded = True
            return messages, True, data[exc.offset :]
        except Exception as exc:
            if self._closing and isinstance(exc, HttpParserError):
                # llhttp refuses data after a message that closes the connection: ignore it.
                return messages, False, _EMPTY_TAIL
            raise self._fail(exc) from None
        if self._in_head or self._chunk_open:
            self._check_unfinished_head(data)
        return messages, False, _EMPTY_TAIL

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

    def _fail(self, exc: BaseException) -> BaseException:
        """Record the first error, fail the body being received, return what to raise."""
        if isinstance(exc, HttpParserCallbackError) and exc.__context__ is not None:
            exc = exc.__context__  # raised by one of our callbacks
        if isinstance(exc, HttpParserError):
            exc = _translate(exc)
        self._error = exc
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
        self._chunk_open = False

    def _begin_head(self) -> None:
        self._in_head = True
        self._head_began = True
        self._partial = 0
        self._target = b""
        self._raw_headers = []

    def _check_unfinished_head(self, data: bytes) -> None:
        """Bound what httptools buffers for a head or trailer section still being received.

        httptools reports a field only once the next one starts, so the line in progress is
        measured here: the bytes after the last LF of ``data``, plus earlier reads if none.
        """
        if len(self._raw_headers) > self._max_headers:
            raise self._fail(_too_many_headers(self._max_headers))
        if self._in_head and self._head_began and not self._raw_headers:
            # Where this head starts in ``data`` is unknown (a body may precede it): count from
            # the next read on. That undercounts by at most one read, all the memory it costs.
            self._partial = 0
            return
        newline = data.rfind(b"\n")
        partial = len(data) - newline - 1 if newline >= 0 else self._partial + len(data)
        self._partial = partial
        limit = self._max_field_size
        if self._in_head and not self._raw_headers:
            # Possibly still the start line; target and reason have their own exact checks.
            limit = max(limit, self._max_line_size)
        if partial > limit + _LINE_SLACK:
            raise self._fail(
                _field_too_long(
                    b"header field" if self._in_head else b"trailer field",
                    self._max_field_size,
                    partial,
                )
            )

    def _start_body(self, msg: _MsgT, body: int, compression: str | None) -> None:
        """Queue ``msg`` with a new body stream (or EMPTY_PAYLOAD when ``body`` is none)."""
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

    def _check_trailers(self) -> None:
        trailers = self._raw_headers
        self._raw_headers = []
        if len(trailers) > self._max_headers:
            raise _too_many_headers(self._max_headers)

    # -- httptools callbacks (the hot path: keep them small) -------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        if size > self._max_field_size:
            raise _field_too_long(name, self._max_field_size, size)
        # llhttp strips whitespace before a value but keeps the whitespace after it.
        self._raw_headers.append((name, value.rstrip(b" \t")))

    def on_body(self, body: bytes) -> None:
        self._chunk_open = False
        sink = self._sink
        if sink is not None:
            sink.feed_data(body)

    def on_chunk_header(self) -> None:
        self._chunk_open = True
        self._partial = 0
        sink = self._sink
        if sink is not None:
            sink.begin_http_chunk_receiving()

    def on_chunk_complete(self) -> None:
        self._chunk_open = False
        sink = self._sink
        if sink is not None:
            sink.end_http_chunk_receiving()

    def on_message_complete(self) -> None:
        if self._raw_headers:
            self._check_trailers()  # accepted, checked against the limits, then dropped
        sink = self._sink
        if sink is not None:
            sink.feed_eof()
            self._end_body()
        else:
            self._body = _NO_BODY
            self._chunk_open = False
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
        return httptools.HttpRequestParser(self)

    # No on_message_begin: the target is the first thing of every request, so on_url starts
    # the head and saves a callback per request.

    def on_url(self, url: bytes) -> None:
        if not self._in_head:
            self._begin_head()
            target = url
        else:
            target = self._target + url  # llhttp reports a target split across reads in pieces
        if len(target) > self._max_line_size:
            raise LineTooLong(target, self._max_line_size, len(target), code=414)
        self._target = target

    def on_headers_complete(self) -> None:
        self._in_head = False
        raw = self._raw_headers
        self._raw_headers = []  # trailers of a chunked body go here
        if len(raw) > self._max_headers:
            raise _too_many_headers(self._max_headers)
        parser = self._parser
        version = _VERSIONS.get(parser.get_http_version())
        if version is None:
            raise BadStatusLine(
                "", f"Unsupported HTTP version {parser.get_http_version()}: expected 1.0 or 1.1"
            )
        raw_method: bytes = parser.get_method()
        method = _METHODS.get(raw_method)
        if method is None:
            method = _METHODS[raw_method] = raw_method.decode("ascii")
        headers = _build_headers(raw)
        _check_host(headers, version)
        te = headers.get(hdrs.TRANSFER_ENCODING)
        cl = headers.get(hdrs.CONTENT_LENGTH)
        chunked = False
        length = 0
        if te is not None or cl is not None:
            if te is not None and version is HttpVersion10:
                raise BadHttpMessage("Transfer-Encoding is not allowed in an HTTP/1.0 request")
            chunked, length = _framing(headers, te, cl)

        path = self._target.decode("latin-1")  # llhttp allows only ASCII in a target
        url = _request_url(method, path)

        compression = None
        encoding = headers.get(hdrs.CONTENT_ENCODING)
        if encoding is not None:
            compression = _COMPRESSIONS.get(encoding.lower())

        upgrade: bool = parser.should_upgrade()
        self._should_close = should_close = not parser.should_keep_alive()
        msg: RawRequestMessage = _new_tuple(
            RawRequestMessage,
            (
                method,
                path,
                version,
                CIMultiDictProxy(headers),
                tuple(raw),
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
            self._start_body(msg, _LENGTH, compression)
        else:
            self._body = _NO_BODY
            self._messages.append((msg, EMPTY_PAYLOAD))


class ResponseParser(_HttpParser[RawResponseMessage]):
    """Parses HTTP/1.x responses received by a client.

    Parameters are those of `RequestParser` (``max_line_size`` bounds the status line's reason
    phrase), plus: ``response_with_body=False`` for responses to HEAD, whose heads announce a body
    that is not sent; ``read_until_eof``: whether a response without ``Content-Length`` or chunked
    coding has a body that lasts until the connection closes (otherwise it gets an empty body and
    the rest of the connection is ignored).
    """

    __slots__ = ("_carry", "_read_until_eof", "_response_with_body")

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
        self._carry = b""
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
        return httptools.HttpResponseParser(self)

    def _feed(self, data: bytes) -> None:
        if self._response_with_body:
            self._parser.feed_data(data)
            return
        # Heads only (responses to HEAD): llhttp cannot be told to skip a body from Python, so it
        # is fed one head at a time and replaced after each. With CRLF line endings enforced, a
        # head ends at the first CRLFCRLF after its start.
        carry = self._carry
        buf = carry + data if carry else data
        pos = len(carry)  # buf[:pos] was already fed
        floor = 0  # where the current head may start
        size = len(buf)
        messages = self._messages
        while pos < size:
            end = buf.find(b"\r\n\r\n", max(pos - 3, floor))
            stop = size if end < 0 else end + 4
            before = len(messages)
            try:
                self._parser.feed_data(buf[pos:stop])
            except HttpParserUpgrade as exc:
                raise _UpgradeAt(pos + exc.args[0] - len(carry)) from None
            pos = stop
            if len(messages) > before:
                if self._should_close:
                    self._closing = True
                    break
                self._parser = self._new_parser()
                floor = pos
        self._carry = buf[max(pos - 3, floor) : pos]

    def on_message_begin(self) -> None:
        # Responses need it: a status line may have no reason phrase, hence no on_status.
        self._begin_head()

    def on_status(self, reason: bytes) -> None:
        target = self._target + reason
        if len(target) > self._max_line_size:
            raise LineTooLong(target, self._max_line_size, len(target), code=400)
        self._target = target

    def on_headers_complete(self) -> None:
        self._in_head = False
        raw = self._raw_headers
        self._raw_headers = []  # trailers of a chunked body go here
        if len(raw) > self._max_headers:
            raise _too_many_headers(self._max_headers)
        parser = self._parser
        version = _VERSIONS.get(parser.get_http_version())
        if version is None:
            raise BadStatusLine(
                "", f"Unsupported HTTP version {parser.get_http_version()}: expected 1.0 or 1.1"
            )
        status: int = parser.get_status_code()
        if status < 100:
            raise BadStatusLine("", f"Invalid status code {status}")
        target = self._target
        if _REASON_CTL_RE.search(target) is not None:
            raise BadStatusLine(repr(target), "Control character in the reason phrase")
        reason = target.decode("utf-8", "surrogateescape")
        headers = _build_headers(raw)

        should_close = not parser.should_keep_alive()
        chunked, length = _framing(
            headers, headers.get(hdrs.TRANSFER_ENCODING), headers.get(hdrs.CONTENT_LENGTH)
        )
        if chunked and version is HttpVersion10:
            # RFC 9112 §6.1: the framing of an HTTP/1.0 message with Transfer-Encoding is
            # suspect; read it, but never reuse the connection.
            should_close = True

        upgrade: bool = parser.should_upgrade()
        if status == 101 and not upgrade:
            raise BadHttpMessage("101 response without 'Connection: upgrade' and 'Upgrade'")

        compression = None
        encoding = headers.get(hdrs.CONTENT_ENCODING)
        if encoding is not None:
            compression = _COMPRESSIONS.get(encoding.lower())

        self._should_close = should_close
        msg: RawResponseMessage = _new_tuple(
            RawResponseMessage,
            (
                version,
                status,
                reason,
                CIMultiDictProxy(headers),
                tuple(raw),
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
        self._start_body(msg, body, compression)
