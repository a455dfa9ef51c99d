"""Server requests: ``BaseRequest`` (low-level server), ``Request`` (with routing and the
application) and ``FileField`` (an uploaded file from ``post()``).

A request is built for every message the connection parses, so the constructor only stores
what it is given; everything derived from the head (URL, query, cookies, host, conditional
headers...) is computed on first use and cached in ``_cache`` (``reify``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
import socket
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from .. import hdrs
from .._http._message import HttpVersion, RawRequestMessage
from .._http._writer import AbstractStreamWriter
from ..cookies import parse_cookie_header
from ..helpers import (
    ETAG_ANY,
    ChainMapProxy,
    ETag,
    Sentinel,
    is_expected_content_type,
    parse_content_type,
    parse_etag_list,
    parse_http_date,
    reify,
    sentinel,
)
from ..multipart import BodyPartReader, BodyPartTooLarge, MultipartError, MultipartReader
from ..streams import EmptyStreamReader, StreamReader
from ..typedefs import JSONDecoder, LooseHeaders, RawHeaders, StrOrURL
from ._exceptions import (
    HTTPBadRequest,
    HTTPRequestEntityTooLarge,
    HTTPUnsupportedMediaType,
)
from ._state import LazyStateMapping

if TYPE_CHECKING:
    from ._app import Application
    from ._protocol import RequestHandler
    from ._response import StreamResponse
    from ._urldispatcher import UrlMappingMatchInfo

__all__ = ("BaseRequest", "FileField", "Request", "parse_forwarded")


@dataclasses.dataclass(frozen=True, slots=True)
class FileField:
    """An uploaded file, as a value of ``await request.post()``.

    ``file`` is positioned at the start: an in-memory buffer for small files, an anonymous
    temporary file on disk for large ones.
    """

    name: str
    filename: str
    file: IO[bytes]
    content_type: str
    headers: CIMultiDictProxy[str]


# -- Forwarded (RFC 7239 section 4) --------------------------------------------------------------
#
#   Forwarded         = 1#forwarded-element
#   forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
#   forwarded-pair    = token "=" value
#   value             = token / quoted-string

_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED_STRING: Final = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_FORWARDED_PAIR: Final = re.compile(rf"({_TOKEN})=({_TOKEN}|{_QUOTED_STRING})")
_QUOTED_PAIR: Final = re.compile(r"\\([\t \x21-\x7e\x80-\xff])")
_OWS: Final = " \t"


def _skip_to_next_element(value: str, pos: int) -> int:
    """Index of the next ``,`` outside a quoted string (or the end), after a syntax error."""
    quoted = False
    end = len(value)
    while pos < end:
        char = value[pos]
        if quoted:
            if char == "\\":
                pos += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ",":
            return pos
        pos += 1
    return end


def parse_forwarded(field_values: Iterable[str]) -> tuple[Mapping[str, str], ...]:
    """Parse ``Forwarded`` header values: one read-only mapping per forwarded-element (per
    proxy), in order. Parameter names are lower-cased, quoted-strings unescaped.

    An element that breaks the grammar (bad token, unterminated quote, a parameter twice)
    yields an empty mapping, so positions still match the proxies that added them. Empty list
    members (``a=1, , b=2``) are ignored (RFC 9110 section 5.6.1). The contents of ``for``,
    ``by``, ``host`` and ``proto`` are not validated.
    """
    elements: list[Mapping[str, str]] = []
    for value in field_values:
        pos, end = 0, len(value)
        while True:
            while pos < end and value[pos] in " \t,":
                pos += 1
            if pos >= end:
                break
            element: dict[str, str] = {}
            valid = True
            while True:
                match = _FORWARDED_PAIR.match(value, pos)
                if match is not None:
                    name, param = match.group(1).lower(), match.group(2)
                    if param.startswith('"'):
                        param = _QUOTED_PAIR.sub(r"\1", param[1:-1])
                    if name in element:
                        valid = False
                    element[name] = param
                    pos = match.end()
                if pos < end and value[pos] == ";":
                    pos += 1
                    continue
                after = pos
                while after < end and value[after] in _OWS:
                    after += 1
                if after >= end or value[after] == ",":
                    pos = after
                    break
                valid = False
                pos = _skip_to_next_element(value, pos)
                break
            elements.append(MappingProxyType(element if valid else {}))
    return tuple(elements)


# -- Range (RFC 9110 section 14.1.2), the single-range form of http_range -----------------------

_RANGE: Final = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.ASCII)

# Parts of a form larger than this are spooled to a temporary file, off the event loop.
_SPOOL_THRESHOLD: Final = 256 * 1024
_READ_CHUNK: Final = 2**16

_fqdn: str | None = None


def _getfqdn() -> str:
    # socket.getfqdn() may hit DNS: do it once per process, not per request.
    global _fqdn
    if _fqdn is None:
        _fqdn = socket.getfqdn()
    return _fqdn


class BaseRequest(LazyStateMapping):
    """An incoming HTTP request, as the low-level server hands it to its handler.

    Also a mutable mapping, for middlewares and signals to share per-request data.
    """

    POST_METHODS: Final = frozenset(
        {hdrs.METH_PATCH, hdrs.METH_POST, hdrs.METH_PUT, hdrs.METH_TRACE, hdrs.METH_DELETE}
    )

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_cache",
        "_client_max_size",
        "_headers",
        "_host",
        "_loop",
        "_match_info",
        "_message",
        "_payload",
        "_payload_writer",
        "_post",
        "_prepare_hook_free",
        "_protocol",
        "_read_bytes",
        "_remote",
        "_scheme",
        "_state",
        "_task",
    )

    #: Whether ``method``, ``version``, ``keep_alive``, ``headers`` and ``rel_url`` are those
    #: of ``_message`` and `_prepare_hook` is ours (no subclass overrides them), so that hot
    #: paths may read the message directly and trust `_prepare_hook_free`.
    _plain_head: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_head = cls._plain_head and not any(
            name in cls.__dict__
            for name in (
                "method",
                "version",
                "keep_alive",
                "headers",
                "rel_url",
                "_message",
                "_prepare_hook",
            )
        )

    def __init__(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        payload_writer: AbstractStreamWriter,
        task: asyncio.Task[None],
        loop: asyncio.AbstractEventLoop,
        *,
        client_max_size: int = 1024**2,
        state: dict[str, Any] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
    ) -> None:
        self._message = message
        self._headers = message.headers
        self._payload = payload
        self._protocol = protocol
        self._payload_writer = payload_writer
        self._task = task
        self._loop = loop
        self._client_max_size = client_max_size
        self._state = state
        self._scheme = scheme
        self._host = host
        self._remote = remote
        self._cache: dict[str, Any] = {}
        self._read_bytes: bytes | None = None
        self._post: MultiDictProxy[str | bytes | FileField] | None = None
        # For `Request` (slots here: one __init__ for both classes, no instance dict).
        # Set by the application once the router has resolved the request:
        self._match_info: UrlMappingMatchInfo | None = None
        # True when no on_response_prepare listener can see the response (set by the app):
        self._prepare_hook_free = False

    def clone(
        self,
        *,
        method: str | Sentinel = sentinel,
        rel_url: StrOrURL | Sentinel = sentinel,
        headers: LooseHeaders | Sentinel = sentinel,
        scheme: str | Sentinel = sentinel,
        host: str | Sentinel = sentinel,
        remote: str | Sentinel = sentinel,
        client_max_size: int | Sentinel = sentinel,
    ) -> BaseRequest:
        """A copy of this request with some parts replaced; it shares the body stream.

        Raises ``RuntimeError`` once the body has been read, ``ValueError`` for an absolute
        ``rel_url``.
        """
        if self._read_bytes is not None:
            raise RuntimeError("Cannot clone request after reading its content")
        changes: dict[str, Any] = {}
        if method is not sentinel:
            changes["method"] = method.upper()
        if rel_url is not sentinel:
            new_url = URL(rel_url)
            if new_url.absolute:
                raise ValueError(f"rel_url must be relative, got {rel_url!r}")
            changes["url"] = new_url
            changes["path"] = str(new_url)
        if headers is not sentinel:
            new_headers = CIMultiDictProxy(CIMultiDict(headers))
            changes["headers"] = new_headers
            changes["raw_headers"] = tuple(
                (k.encode("utf-8"), v.encode("utf-8")) for k, v in new_headers.items()
            )
        message = self._message._replace(**changes) if changes else self._message
        kwargs: dict[str, Any] = {}
        if scheme is not sentinel:
            kwargs["scheme"] = scheme
        elif self._scheme is not None:
            kwargs["scheme"] = self._scheme
        if host is not sentinel:
            kwargs["host"] = host
        elif self._host is not None:
            kwargs["host"] = self._host
        if remote is not sentinel:
            kwargs["remote"] = remote
        elif self._remote is not None:
            kwargs["remote"] = self._remote
        if client_max_size is sentinel:
            client_max_size = self._client_max_size
        return self.__class__(
            message,
            self._payload,
            self._protocol,
            self._payload_writer,
            self._task,
            self._loop,
            client_max_size=client_max_size,
            state=None if self._state is None else dict(self._state),
            **kwargs,
        )

    # -- connection ----------------------------------------------------------------------------

    @property
    def task(self) -> asyncio.Task[None]:
        """The task handling this request."""
        return self._task

    @property
    def protocol(self) -> RequestHandler:
        return self._protocol

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection's transport, ``None`` once it is lost."""
        return self._protocol.transport

    @property
    def writer(self) -> AbstractStreamWriter:
        return self._payload_writer

    @property
    def client_max_size(self) -> int:
        """The largest body ``read()``/``post()`` accept, in bytes (0: no limit)."""
        return self._client_max_size

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        warnings.warn("request.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``transport.get_extra_info(name, default)``; ``default`` without a transport."""
        transport = self._protocol.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    @reify
    def scheme(self) -> str:
        """``'https'`` on a TLS connection, else ``'http'`` (unless set by ``clone()``)."""
        if self._scheme is not None:
            return self._scheme
        transport = self._protocol.transport
        if transport is not None and transport.get_extra_info("sslcontext") is not None:
            return "https"
        return "http"

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @reify
    def remote(self) -> str | None:
        """The client's address: the peer IP (or the socket path of a Unix socket), unless
        set by ``clone()``; ``None`` when unknown."""
        if self._remote is not None:
            return self._remote
        transport = self._protocol.transport
        if transport is None:
            return None
        peername = transport.get_extra_info("peername")
        if isinstance(peername, (list, tuple)):
            return str(peername[0])
        return None if peername is None else str(peername)

    @reify
    def host(self) -> str:
        """The host the request is for: set by ``clone()``, else the authority of an
        absolute-form target (RFC 9112 section 3.2.2), else the Host header, else this
        machine's name."""
        if self._host is not None:
            return self._host
        url = self._message.url
        if url.absolute and url.host_port_subcomponent:
            return url.host_port_subcomponent
        host = self._headers.get(hdrs.HOST)
        if host is not None:
            return host
        return _getfqdn()

    @reify
    def forwarded(self) -> tuple[Mapping[str, str], ...]:
        """The ``Forwarded`` headers, one mapping per proxy (see :func:`parse_forwarded`)."""
        return parse_forwarded(self._headers.getall(hdrs.FORWARDED, ()))

    @property
    def keep_alive(self) -> bool:
        """Whether the client allows the connection to be reused after this request."""
        return not self._message.should_close

    # -- request line --------------------------------------------------------------------------

    @property
    def version(self) -> HttpVersion:
        return self._message.version

    @property
    def method(self) -> str:
        return self._message.method

    @reify
    def rel_url(self) -> URL:
        """Path, query and fragment of the request target, as a relative URL."""
        url = self._message.url
        return url.relative() if url.absolute else url

    @reify
    def url(self) -> URL:
        """The absolute URL: ``scheme``, ``host`` and ``rel_url``. Raises ``ValueError`` when
        the host is not valid in a URL."""
        rel = self.rel_url
        authority = URL.build(scheme=self.scheme, authority=self.host).raw_authority
        return URL.build(
            scheme=self.scheme,
            authority=authority,
            path=rel.raw_path,
            query_string=rel.raw_query_string,
            fragment=rel.raw_fragment,
            encoded=True,
        )

    @property
    def path(self) -> str:
        """The decoded path, e.g. ``/app/blog``."""
        return self.rel_url.path

    @property
    def raw_path(self) -> str:
        """The request target exactly as sent (still percent-encoded)."""
        return self._message.path

    @reify
    def path_qs(self) -> str:
        """Path and query string, e.g. ``/app/blog?id=10``."""
        return str(self.rel_url)

    @property
    def query(self) -> MultiDictProxy[str]:
        """The query string's parameters."""
        return self.rel_url.query

    @property
    def query_string(self) -> str:
        return self.rel_url.query_string

    # -- headers -------------------------------------------------------------------------------

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def raw_headers(self) -> RawHeaders:
        return self._message.raw_headers

    @reify
    def cookies(self) -> Mapping[str, str]:
        """The cookies sent (RFC 6265 strict: malformed pairs are left out)."""
        header = "; ".join(self._headers.getall(hdrs.COOKIE, ()))
        return MappingProxyType(parse_cookie_header(header))

    @reify
    def _content_type(self) -> tuple[str, dict[str, str]]:
        return parse_content_type(self._headers.get(hdrs.CONTENT_TYPE))

    @property
    def content_type(self) -> str:
        """The media type of Content-Type; ``application/octet-stream`` when absent."""
        return self._content_type[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type, if any."""
        return self._content_type[1].get("charset")

    @reify
    def content_length(self) -> int | None:
        """Content-Length as an int, ``None`` when absent."""
        raw = self._headers.get(hdrs.CONTENT_LENGTH)
        return int(raw) if raw is not None else None

    @reify
    def http_range(self) -> slice:
        """The ``Range: bytes=first-last`` header as ``slice(first, last + 1, 1)``; a suffix
        range ``-n`` gives ``slice(-n, None, 1)``, no header ``slice(None, None, 1)``.

        Raises ``ValueError`` for any other form (including several ranges).
        """
        raw = self._headers.get(hdrs.RANGE)
        start: int | None = None
        stop: int | None = None
        if raw is not None:
            match = _RANGE.fullmatch(raw.strip(_OWS))
            if match is None:
                raise ValueError("range not in acceptable format")
            first, last = match.groups()
            start = int(first) if first else None
            stop = int(last) if last else None
            if start is None and stop is not None:
                start, stop = -stop, None
            elif start is not None and stop is not None:
                stop += 1
                if start >= stop:
                    raise ValueError("start cannot be after end")
            if start is None and stop is None:
                raise ValueError("No start or end of range specified")
        return slice(start, stop, 1)

    @reify
    def if_modified_since(self) -> datetime | None:
        return parse_http_date(self._headers.get(hdrs.IF_MODIFIED_SINCE))

    @reify
    def if_unmodified_since(self) -> datetime | None:
        return parse_http_date(self._headers.get(hdrs.IF_UNMODIFIED_SINCE))

    @reify
    def if_range(self) -> datetime | None:
        """If-Range as a date; ``None`` when absent or an entity tag."""
        return parse_http_date(self._headers.get(hdrs.IF_RANGE))

    def _etags(self, name: str) -> tuple[ETag, ...] | None:
        raw = self._headers.get(name)
        if raw is None:
            return None
        tags = parse_etag_list(raw)
        if tags == ETAG_ANY:
            return (ETag(ETAG_ANY),)
        return tags

    @reify
    def if_match(self) -> tuple[ETag, ...] | None:
        """If-Match entity tags (``ETag('*')`` for ``*``), ``None`` when absent."""
        return self._etags(hdrs.IF_MATCH)

    @reify
    def if_none_match(self) -> tuple[ETag, ...] | None:
        """If-None-Match entity tags (``ETag('*')`` for ``*``), ``None`` when absent."""
        return self._etags(hdrs.IF_NONE_MATCH)

    # -- body ----------------------------------------------------------------------------------

    @property
    def content(self) -> StreamReader:
        """The body stream (reading it directly bypasses the caching of ``read()``)."""
        return self._payload

    @property
    def body_exists(self) -> bool:
        """Whether the request has a body at all (even if already read)."""
        return type(self._payload) is not EmptyStreamReader

    @property
    def can_read_body(self) -> bool:
        """Whether unread body bytes remain."""
        return not self._payload.at_eof()

    @property
    def has_body(self) -> bool:
        warnings.warn("Deprecated, use .can_read_body #2005", DeprecationWarning, stacklevel=2)
        return not self._payload.at_eof()

    def _check_declared_size(self) -> int:
        max_size = self._client_max_size
        if max_size:
            declared = self.content_length
            if declared is not None and declared > max_size:
                raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=declared)
        return max_size

    async def read(self) -> bytes:
        """The whole body (read once, then cached).

        Raises ``HTTPRequestEntityTooLarge`` (413) past ``client_max_size`` bytes.
        """
        if self._read_bytes is None:
            max_size = self._check_declared_size()
            payload = self._payload
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = await payload.readany()
                if not chunk:
                    break
                size += len(chunk)
                if max_size and size > max_size:
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=size)
                chunks.append(chunk)
            self._read_bytes = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._read_bytes

    async def text(self) -> str:
        """The body decoded with ``charset`` (UTF-8 by default).

        Raises ``HTTPUnsupportedMediaType`` for an unknown charset and ``HTTPBadRequest`` for
        bytes that are not valid in it.
        """
        body = await self.read()
        encoding = self.charset or "utf-8"
        try:
            return body.decode(encoding)
        except LookupError:
            raise HTTPUnsupportedMediaType(text=f"Unknown charset {encoding!r}")
        except UnicodeDecodeError as exc:
            raise HTTPBadRequest(text=f"Request body is not valid {encoding}: {exc.reason}")

    async def json(
        self,
        *,
        loads: JSONDecoder = json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body parsed as JSON with ``loads``. Raises ``HTTPBadRequest`` when the request's
        media type does not match ``content_type`` (``None`` skips the check; ``+json``
        types match ``application/json``)."""
        if content_type and not is_expected_content_type(self.content_type, content_type):
            raise HTTPBadRequest(
                text=f"Attempt to decode JSON with unexpected mimetype: {self.content_type}"
            )
        return loads(await self.text())

    async def multipart(self) -> MultipartReader:
        """A reader over the parts of a multipart body (not cached: the stream is consumed)."""
        return MultipartReader(self._headers, self._payload)

    async def post(self) -> MultiDictProxy[str | bytes | FileField]:
        """The form fields of a urlencoded or multipart/form-data body (read once, cached).

        Empty for other methods than POST, PUT, PATCH, TRACE and DELETE and for other media
        types. Text fields are ``str``, binary fields ``bytes``, uploaded files
        :class:`FileField`. Raises ``HTTPRequestEntityTooLarge`` past ``client_max_size``.
        """
        if self._post is not None:
            return self._post
        if self._message.method not in self.POST_METHODS:
            self._post = MultiDictProxy(MultiDict())
            return self._post
        content_type = self.content_type
        out: MultiDict[str | bytes | FileField] = MultiDict()
        if content_type == "multipart/form-data":
            await self._read_multipart_form(out)
        elif content_type in ("", "application/x-www-form-urlencoded"):
            body = await self.read()
            if body:
                charset = self.charset or "utf-8"
                try:
                    text = body.decode(charset)
                except LookupError:
                    raise HTTPUnsupportedMediaType(text=f"Unknown charset {charset!r}")
                except UnicodeDecodeError as exc:
                    raise HTTPBadRequest(text=f"Form is not valid {charset}: {exc.reason}")
                out.extend(parse_qsl(text.rstrip(), keep_blank_values=True, encoding=charset))
        self._post = MultiDictProxy(out)
        return self._post

    async def _read_multipart_form(self, out: MultiDict[str | bytes | FileField]) -> None:
        max_size = self._check_declared_size()
        try:
            reader = await self.multipart()
        except ValueError as exc:  # no or a bad boundary
            raise HTTPBadRequest(text=f"Bad multipart/form-data: {exc}")
        size = 0
        try:
            while (field := await reader.next()) is not None:
                if not isinstance(field, BodyPartReader):
                    raise ValueError("To decode nested multipart you need to use custom reader")
                size = await self._read_form_field(field, out, size, max_size)
        except BodyPartTooLarge as exc:
            raise HTTPRequestEntityTooLarge(
                max_size=max_size, actual_size=max_size - exc.max_size + exc.actual_size
            )
        except MultipartError as exc:
            raise HTTPBadRequest(text=f"Bad multipart/form-data: {exc}")

    async def _read_form_field(
        self,
        field: BodyPartReader,
        out: MultiDict[str | bytes | FileField],
        size: int,
        max_size: int,
    ) -> int:
        """Add one part to ``out``; return the form's decoded size so far."""
        name = field.name
        if name is None:
            raise HTTPBadRequest(text="A multipart/form-data part has no field name")
        field_ct = field.headers.get(hdrs.CONTENT_TYPE)
        remaining = max_size - size if max_size else None
        filename = field.filename
        if filename and hdrs.CONTENT_TRANSFER_ENCODING not in field.headers:
            file, size = await self._spool_file(field, size, max_size)
            ctype = field_ct or "application/octet-stream"
            out.add(name, FileField(name, filename, file, ctype, field.headers))
            return size
        # Transfer-encoded parts (deprecated by RFC 7578) cannot be decoded piecewise.
        value = await field.read(decode=True, max_size=remaining)
        size += len(value)
        if filename:
            ctype = field_ct or "application/octet-stream"
            file = io.BytesIO(value)
            out.add(name, FileField(name, filename, file, ctype, field.headers))
        elif field_ct is None or field_ct.lower().startswith("text/"):
            charset = field.get_charset(default="utf-8") or "utf-8"
            try:
                out.add(name, value.decode(charset))
            except (LookupError, UnicodeDecodeError):
                raise HTTPBadRequest(text=f"Field {name!r} is not valid {charset}")
        else:
            out.add(name, bytes(value))
        return size

    async def _spool_file(
        self, field: BodyPartReader, size: int, max_size: int
    ) -> tuple[IO[bytes], int]:
        """Copy an uploaded file to memory, or to a temporary file once it grows past
        ``_SPOOL_THRESHOLD``; disk writes run in the executor."""
        loop = self._loop
        buffer = bytearray()
        disk: IO[bytes] | None = None
        try:
            while chunk := await field.read_chunk(_READ_CHUNK):
                size += len(chunk)
                if max_size and size > max_size:
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=size)
                if disk is None:
                    buffer += chunk
                    if len(buffer) <= _SPOOL_THRESHOLD:
                        continue
                    disk = await loop.run_in_executor(None, tempfile.TemporaryFile)
                    chunk, buffer = bytes(buffer), bytearray()
                await loop.run_in_executor(None, disk.write, chunk)
            if disk is None:
                return io.BytesIO(buffer), size
            await loop.run_in_executor(None, disk.seek, 0)
            return disk, size
        except BaseException:
            if disk is not None:
                disk.close()
            raise

    async def release(self) -> None:
        """Read and drop what is left of the body (the server does this when needed)."""
        payload = self._payload
        while not payload.at_eof():
            await payload.readany()

    async def _prepare_hook(self, response: StreamResponse) -> None:
        """Run before a response's head is sent; ``Request`` fires ``on_response_prepare``."""
        return

    def _has_prepare_hook(self) -> bool:
        """Whether `_prepare_hook` has anything to do (else a response may skip it)."""
        return type(self)._prepare_hook is not BaseRequest._prepare_hook

    def __repr__(self) -> str:
        path = self._message.path.encode("ascii", "backslashreplace").decode("ascii")
        return f"<{type(self).__name__} {self._message.method} {path} >"


class Request(BaseRequest):
    """A request routed by an :class:`Application`: adds ``match_info``, ``app`` and
    ``config_dict``, and fires ``on_response_prepare`` of the applications it went through."""

    __slots__ = ()

    def clone(
        self,
        *,
        method: str | Sentinel = sentinel,
        rel_url: StrOrURL | Sentinel = sentinel,
        headers: LooseHeaders | Sentinel = sentinel,
        scheme: str | Sentinel = sentinel,
        host: str | Sentinel = sentinel,
        remote: str | Sentinel = sentinel,
        client_max_size: int | Sentinel = sentinel,
    ) -> Request:
        new_request = super().clone(
            method=method,
            rel_url=rel_url,
            headers=headers,
            scheme=scheme,
            host=host,
            remote=remote,
            client_max_size=client_max_size,
        )
        assert isinstance(new_request, Request)
        new_request._match_info = self._match_info
        return new_request

    @property
    def match_info(self) -> UrlMappingMatchInfo:
        """The router's result for this request (route, URL parameters, applications)."""
        match_info = self._match_info
        assert match_info is not None, "The request has not been routed yet"
        return match_info

    @property
    def app(self) -> Application:
        """The application whose route handles this request (a sub-application if nested)."""
        return self.match_info.current_app

    @property
    def config_dict(self) -> ChainMapProxy:
        """The items of ``app`` and of every parent application, the innermost first."""
        match_info = self.match_info
        apps = match_info.apps
        app = match_info.current_app
        index = apps.index(app)
        return ChainMapProxy(reversed(apps[: index + 1]))

    async def _prepare_hook(self, response: StreamResponse) -> None:
        match_info = self._match_info
        if match_info is None:
            return
        for app in match_info.apps:
            signal = app.on_response_prepare
            if signal:
                await signal.send(self, response)

    def _has_prepare_hook(self) -> bool:
        if type(self)._prepare_hook is not Request._prepare_hook:
            return True
        match_info = self._match_info
        if match_info is None:
            return False
        apps = match_info.apps
        if len(apps) == 1:
            return bool(apps[0]._on_response_prepare)
        return any(app._on_response_prepare for app in apps)


# Request's own _prepare_hook fires the signals `_prepare_hook_free` accounts for.
Request._plain_head = True
