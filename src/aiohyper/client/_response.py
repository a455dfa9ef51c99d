"""`ClientResponse`: the response to one client request.

`ClientResponse.start` reads the head from the connection (skipping ``1xx`` interim responses,
and releasing a waiting ``Expect: 100-continue`` body); the body then streams through
``content``. The connection goes back to the pool as soon as the body has been received in
full; `release` before that closes the connection instead (what is left of the body would
otherwise be read as the next response). The body writer of the request may still be running
when the response arrives; the connection is only handed back once it is done.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Generator
from http.cookies import CookieError, SimpleCookie
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from .. import hdrs
from .._http._message import HttpVersion, RawHeaders
from ..helpers import (
    BaseTimerContext,
    ContentDisposition,
    TimerNoop,
    is_expected_content_type,
    parse_content_type,
    parse_mimetype,
    set_result,
)
from ..http_exceptions import HttpProcessingError
from ..multipart import content_disposition_filename, parse_content_disposition
from ..streams import StreamReader
from ..typedefs import DEFAULT_JSON_DECODER, JSONDecoder
from ._exceptions import ClientConnectionError, ClientResponseError, ContentTypeError

if TYPE_CHECKING:
    from ..tracing import Trace
    from ._connector import Connection
    from ._request import RequestInfo
    from ._session import ClientSession

__all__ = ("ClientResponse",)

_CharsetResolver = Callable[["ClientResponse", bytes], str]

# Link header (RFC 8288): link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
_LINK_SPLIT_RE: Final = re.compile(r",(?=\s*<)")
_LINK_RE: Final = re.compile(r"\s*<(.*)>(.*)", re.DOTALL)
_LINK_PARAM_RE: Final = re.compile(r"""\s*;\s*([^\s=;]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;]*))?""")


def _default_charset(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


class _Released:
    """What `ClientResponse.release` returns: nothing to wait for, but awaitable so that
    ``await resp.release()`` (aiohttp 2 style) keeps working."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


_RELEASED: Final = _Released()


class ClientResponse:
    """The response to a client request (see the module docstring).

    Use it as an async context manager (``async with resp:``) or call `release` when done;
    reading the whole body (`read`, `text`, `json`) also frees the connection.
    """

    __slots__ = (
        "__weakref__",
        "_body",
        "_cache",
        "_closed",
        "_connection",
        "_continue",
        "_cookies",
        "_done_callbacks",
        "_headers",
        "_history",
        "_in_context",
        "_loop",
        "_raw_cookie_headers",
        "_raw_headers",
        "_real_url",
        "_release_pending",
        "_released",
        "_request_info",
        "_resolve_charset",
        "_session",
        "_source_traceback",
        "_timer",
        "_traces",
        "_url",
        "_writer",
        "content",
        "method",
        "reason",
        "status",
        "version",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        writer: asyncio.Task[None] | None,
        continue100: asyncio.Future[bool] | None,
        timer: BaseTimerContext | None,
        request_info: RequestInfo,
        traces: list[Trace],
        loop: asyncio.AbstractEventLoop,
        session: ClientSession | None,
    ) -> None:
        self.method = method
        self._real_url = url
        self._url = url.with_fragment(None) if url.raw_fragment else url
        self.version: HttpVersion | None = None
        self.status: int = None  # type: ignore[assignment]  # set by start()
        self.reason: str | None = None
        self.content: StreamReader = None  # type: ignore[assignment]  # set by start()
        self._headers: CIMultiDictProxy[str] = None  # type: ignore[assignment]
        self._raw_headers: RawHeaders = ()
        self._raw_cookie_headers: tuple[str, ...] = ()
        self._cookies: SimpleCookie | None = None
        self._body: bytes | None = None
        self._history: tuple[ClientResponse, ...] = ()
        self._request_info = request_info
        self._timer: BaseTimerContext = timer if timer is not None else TimerNoop()
        self._traces = traces
        self._loop = loop
        self._session = session
        self._resolve_charset: _CharsetResolver = (
            session._resolve_charset if session is not None else _default_charset
        )
        self._connection: Connection | None = None
        self._continue = continue100
        self._cache: dict[str, Any] = {}
        # Closed until start(): a response that never started holds nothing.
        self._closed = True
        self._released = False
        self._in_context = False
        self._release_pending = False
        # Run once, when the response lets go of its connection (e.g. stop the total timeout).
        self._done_callbacks: list[Callable[[], None]] = []
        self._writer: asyncio.Task[None] | None = None
        if writer is not None and not writer.done():
            self._writer = writer
            writer.add_done_callback(self._on_writer_done)
        self._source_traceback: traceback.StackSummary | None = None
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack(sys._getframe(1))

    # -- reading the head ------------------------------------------------------------------

    async def start(self, connection: Connection) -> ClientResponse:
        """Read the response head from ``connection``.

        Interim ``1xx`` responses are skipped (``100 Continue`` lets the request body go); a
        malformed head raises `ClientResponseError`.
        """
        with self._timer:
            await self._read_head(connection)
        return self

    async def _read_head(self, connection: Connection) -> None:
        """`start` without entering the timer (for a caller already inside it)."""
        self._closed = False
        self._connection = connection
        protocol = connection._protocol
        assert protocol is not None
        while True:
            try:
                message, payload = await protocol.read()
            except HttpProcessingError as exc:
                raise ClientResponseError(
                    self.request_info,
                    self.history,
                    status=exc.code,
                    message=exc.message,
                    headers=exc.headers,
                ) from exc
            code = message.code
            if code < 100 or code > 199 or code == 101:
                break
            if self._continue is not None:
                set_result(self._continue, True)
                self._continue = None
        if self._continue is not None:
            # A final status without 100 Continue: the body is not to be sent.
            set_result(self._continue, False)
            self._continue = None
        self.version = message.version
        self.status = code
        self.reason = message.reason
        headers = self._headers = message.headers
        self._raw_headers = message.raw_headers
        if hdrs.SET_COOKIE in headers:
            self._raw_cookie_headers = tuple(headers.getall(hdrs.SET_COOKIE))
        self.content = payload
        payload.on_eof(self._response_eof)

    # -- attributes --------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The URL of the request (without fragment)."""
        return self._url

    @property
    def url_obj(self) -> URL:
        """Deprecated alias of ``url``."""
        warnings.warn("Deprecated, use .url #1654", DeprecationWarning, stacklevel=2)
        return self._url

    @property
    def real_url(self) -> URL:
        """The URL of the request as given, fragment included."""
        return self._real_url

    @property
    def host(self) -> str:
        assert self._url.host is not None
        return self._url.host

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def raw_headers(self) -> RawHeaders:
        """The headers as received: ``(name, value)`` byte pairs."""
        return self._raw_headers

    @property
    def request_info(self) -> RequestInfo:
        return self._request_info

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        """The redirect responses that led to this one, earliest first."""
        return self._history

    @property
    def connection(self) -> Connection | None:
        """The connection the response is read from, ``None`` once released."""
        return self._connection

    @property
    def closed(self) -> bool:
        """Whether the response is done with its connection (body received, or released)."""
        return self._closed

    @property
    def ok(self) -> bool:
        """``True`` for a status below 400."""
        return self.status < 400

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies set by this response (the last one of each name)."""
        cookies = self._cookies
        if cookies is None:
            cookies = SimpleCookie()
            for header in self._raw_cookie_headers:
                with contextlib.suppress(CookieError):
                    cookies.load(header)
            self._cookies = cookies
        return cookies

    @cookies.setter
    def cookies(self, cookies: SimpleCookie) -> None:
        self._cookies = cookies

    @property
    def content_type(self) -> str:
        """The media type of the body: ``application/octet-stream`` without a Content-Type,
        ``text/plain`` for an invalid one."""
        return self._content_type_params()[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of the Content-Type, if any."""
        return self._content_type_params()[1].get("charset")

    @property
    def content_length(self) -> int | None:
        """The Content-Length header as a number, if present."""
        value = self._headers.get(hdrs.CONTENT_LENGTH) if self._headers is not None else None
        return int(value) if value is not None else None

    def _content_type_params(self) -> tuple[str, dict[str, str]]:
        raw = self._headers.get(hdrs.CONTENT_TYPE) if self._headers is not None else None
        cached = self._cache.get("content_type")
        if cached is not None and cached[0] == raw:
            return cached[1]  # type: ignore[no-any-return]
        parsed = parse_content_type(raw)
        self._cache["content_type"] = (raw, parsed)
        return parsed

    @property
    def content_disposition(self) -> ContentDisposition | None:
        """The parsed Content-Disposition header, or ``None`` without one."""
        try:
            return self._cache["content_disposition"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        raw = self._headers.get(hdrs.CONTENT_DISPOSITION) if self._headers is not None else None
        result: ContentDisposition | None = None
        if raw is not None:
            disposition_type, params = parse_content_disposition(raw)
            result = ContentDisposition(
                disposition_type,
                MappingProxyType(params),
                content_disposition_filename(params),
            )
        self._cache["content_disposition"] = result
        return result

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        """The Link headers: for each link, keyed by its ``rel`` (or its URL), its parameters
        and its ``url`` (resolved against the response URL)."""
        try:
            return self._cache["links"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
        headers = self._headers
        for header in headers.getall(hdrs.LINK, ()) if headers is not None else ():
            for value in _LINK_SPLIT_RE.split(header):
                match = _LINK_RE.match(value)
                if match is None:
                    continue
                target, params_text = match.groups()
                link: MultiDict[str | URL] = MultiDict()
                for param in _LINK_PARAM_RE.finditer(params_text):
                    key, raw = param.group(1), param.group(2) or ""
                    if raw.startswith('"'):
                        raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                    link.add(key, raw.strip())
                key = link.get("rel", target)
                link.add("url", self._url.join(URL(target)))
                links.add(str(key), MultiDictProxy(link))
        result = MultiDictProxy(links)
        self._cache["links"] = result
        return result

    def get_encoding(self) -> str:
        """The charset to decode the body with: the Content-Type's (when Python knows it),
        UTF-8 for JSON, else what the session's ``fallback_charset_resolver`` says."""
        content_type = self._headers.get(hdrs.CONTENT_TYPE, "").lower()
        mimetype = parse_mimetype(content_type)
        encoding = mimetype.parameters.get("charset")
        if encoding:
            with contextlib.suppress(LookupError, ValueError):
                return codecs.lookup(encoding).name
        if mimetype.type == "application" and mimetype.subtype in ("json", "rdap"):
            # RFC 8259 / RFC 9083: JSON is UTF-8.
            return "utf-8"
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._resolve_charset(self, self._body)

    # -- reading the body --------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body. The connection is closed if reading fails."""
        if self._body is None:
            if self._released and not self.content.is_eof():
                raise ClientConnectionError("Connection closed")
            try:
                self._body = await self.content.read()
                for trace in self._traces:
                    await trace.send_response_chunk_received(self.method, self.url, self._body)
            except BaseException:
                self.close()
                raise
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded with ``encoding`` (by default, `get_encoding`)."""
        body = await self.read()
        if encoding is None:
            encoding = self.get_encoding()
        return body.decode(encoding, errors=errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: JSONDecoder = DEFAULT_JSON_DECODER,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body parsed as JSON (``None`` for an empty or blank body).

        Raises `ContentTypeError` when the media type does not match ``content_type``
        (``None`` skips the check).
        """
        body = await self.read()
        if content_type and not is_expected_content_type(self.content_type, content_type):
            raise ContentTypeError(
                self.request_info,
                self.history,
                status=self.status,
                message=f"Attempt to decode JSON with unexpected mimetype: {self.content_type}",
                headers=self.headers,
            )
        stripped = body.strip()
        if not stripped:
            return None
        if encoding is None:
            encoding = self.get_encoding()
        return loads(stripped.decode(encoding))

    def raise_for_status(self) -> None:
        """Raise `ClientResponseError` for a status of 400 or more.

        Outside ``async with resp:`` the response is released first, since the caller will
        not read it.
        """
        if self.ok:
            return
        assert self.reason is not None
        if not self._in_context:
            self.release()
        raise ClientResponseError(
            self.request_info,
            self.history,
            status=self.status,
            message=self.reason,
            headers=self.headers,
        )

    # -- giving back the connection ----------------------------------------------------------

    def release(self) -> Any:
        """Let go of the connection: back to the pool if the body was received in full,
        closed otherwise. Reading the rest of the body is no longer possible."""
        if not self._released:
            self._notify_content()
        self._closed = True
        conn = self._connection
        if conn is not None:
            content = self.content
            protocol = conn.protocol
            upgraded = protocol is not None and protocol.upgraded
            if content is not None and not upgraded and not content.is_eof():
                self._close_connection()
            else:
                self._release_connection()
        else:
            self._run_done_callbacks()
        return _RELEASED

    def close(self) -> None:
        """Close the connection (no keep-alive) and stop writing the request body."""
        if not self._released:
            self._notify_content()
        self._closed = True
        if self._loop.is_closed():
            return
        self._close_connection()

    async def wait_for_close(self) -> None:
        """Wait until the request body is written, then `release`."""
        writer = self._writer
        if writer is not None and not writer.done():
            await asyncio.wait((writer,))
        self.release()

    def _notify_content(self) -> None:
        content = self.content
        if content is not None and content.exception() is None and not content.is_eof():
            content.set_exception(ClientConnectionError("Connection closed"))
        self._released = True

    def _response_eof(self) -> None:
        # The body was received in full: the connection can serve another request.
        if self._closed:
            return
        conn = self._connection
        protocol = conn.protocol if conn is not None else None
        if protocol is not None and protocol.upgraded:
            return  # the connection now belongs to the new protocol (WebSocket)
        self._closed = True
        self._release_connection()

    def _release_connection(self) -> None:
        conn = self._connection
        if conn is None:
            self._run_done_callbacks()
            return
        writer = self._writer
        if writer is not None and not writer.done():
            self._release_pending = True
            return
        self._connection = None
        conn.release()
        self._run_done_callbacks()

    def _close_connection(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None and not writer.done():
            writer.cancel()
        self._release_pending = False
        conn, self._connection = self._connection, None
        if conn is not None:
            conn.close()
        self._run_done_callbacks()

    def _on_writer_done(self, task: asyncio.Task[None]) -> None:
        if self._writer is task:
            self._writer = None
        if self._release_pending:
            self._release_pending = False
            self._release_connection()

    def _add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the response lets go of its connection."""
        if self._closed and self._connection is None and self.content is not None:
            callback()
        else:
            self._done_callbacks.append(callback)

    def _run_done_callbacks(self) -> None:
        callbacks, self._done_callbacks = self._done_callbacks, []
        for callback in callbacks:
            callback()

    # -- protocol ----------------------------------------------------------------------------

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._in_context = False
        # Release before waiting: an unread body closes the connection at once.
        self.release()
        writer = self._writer
        if writer is not None and not writer.done():
            await self.wait_for_close()

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed:
            return
        if self._connection is not None:
            self._connection.release()
            self._connection = None
            if self._loop.get_debug():
                _warnings.warn(f"Unclosed response {self!r}", ResourceWarning, source=self)
                context: dict[str, Any] = {"client_response": self, "message": "Unclosed response"}
                if self._source_traceback:
                    context["source_traceback"] = self._source_traceback
                self._loop.call_exception_handler(context)

    def __repr__(self) -> str:
        reason = self.reason
        reason_text = (
            reason.encode("ascii", "backslashreplace").decode("ascii") if reason else "None"
        )
        url_text = str(self.url).encode("ascii", "backslashreplace").decode("ascii")
        return f"<ClientResponse({url_text}) [{self.status} {reason_text}]>\n{self.headers!r}\n"
