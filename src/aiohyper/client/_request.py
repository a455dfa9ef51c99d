"""`ClientRequest`: one HTTP request as the client sends it.

A request is built from the session's and the caller's arguments: the URL (with ``params``
merged into its query, the fragment stripped), the headers (the caller's, then the automatic
ones: Host, Accept, Accept-Encoding, User-Agent, unless skipped), cookies, credentials and the
body (a `Payload`, with its Content-Type and either a Content-Length or chunked framing).

``await request.send(conn)`` writes the head to the connection and starts writing the body, in
a task when it may block (a large or streamed body, or ``Expect: 100-continue``), and returns
the `ClientResponse` whose ``start()`` then reads the response head. A request may be sent more
than once (by a retrying middleware, a 307/308 redirect); its payload is re-sent, which works
for every re-sendable payload (bytes, text, seekable files).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl as _ssl
import sys
from collections.abc import Iterable, Mapping
from functools import partial
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from .. import hdrs, payload as payload_mod
from .._http._decompress import accept_encoding_header
from .._http._message import HttpVersion, HttpVersion10, HttpVersion11
from .._http._writer import StreamWriter, serialize_headers
from .._version import __version__
from ..formdata import FormData
from ..helpers import (
    BaseTimerContext,
    BasicAuth,
    Sentinel,
    TimerNoop,
    basicauth_from_netrc as _basicauth_from_netrc,
    netrc_from_env,
    sentinel,
)
from ..typedefs import LooseCookies, LooseHeaders, Query
from ._exceptions import (
    ClientConnectionError,
    ClientOSError,
    InvalidUrlClientError,
)
from ._response import ClientResponse
from ._tls import Fingerprint, SSLParam

if TYPE_CHECKING:
    from ..tracing import Trace
    from ._connector import Connection
    from ._session import ClientSession

__all__ = ("ClientRequest", "ConnectionKey", "Fingerprint", "RequestInfo")

# RFC 9110 section 9.1: method = token
_METHOD_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: User-Agent sent unless the caller sets one or skips it.
USER_AGENT: Final = (
    f"Python/{sys.version_info.major}.{sys.version_info.minor} aiohyper/{__version__}"
)

# Bodies up to this size, known in advance and in memory, are written by send() itself: they
# go out with the head in one write and need no task.
_INLINE_BODY_MAX: Final = 2**16

# Method tokens seen valid before (a set lookup instead of a regex match); bounded so that
# methods built from untrusted data cannot grow it forever.
_VALID_METHODS: set[str] = set()
_VALID_METHODS_MAX: Final = 256

# Serialised heads of recent requests: a client sends the same head (same URL, same headers)
# again and again, and serialising and checking one costs more than looking it up.
_HEADS: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}
_HEADS_MAX: Final = 512

_NO_TIMER: Final = TimerNoop()
_TLS_SCHEMES: Final = frozenset({"https", "wss"})


class ConnectionKey(NamedTuple):
    """Names a connection pool: requests with equal keys may share connections."""

    host: str
    port: int | None
    is_ssl: bool
    ssl: SSLParam
    proxy: URL | None
    proxy_auth: BasicAuth | None
    proxy_headers_hash: int | None


class _RequestInfoFields(NamedTuple):
    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class RequestInfo(_RequestInfoFields):
    """What a response and its errors remember of the request: ``url`` (without fragment),
    ``method``, ``headers`` and ``real_url`` (as given, fragment included; ``url`` if omitted).
    """

    __slots__ = ()

    def __new__(
        cls,
        url: URL,
        method: str,
        headers: CIMultiDictProxy[str],
        real_url: URL | Sentinel = sentinel,
    ) -> RequestInfo:
        return tuple.__new__(
            cls, (url, method, headers, url if real_url is sentinel else real_url)
        )


class ClientRequest:
    """An HTTP request to send (see the module docstring).

    Middlewares receive it and may change ``headers``, ``url`` and (with `update_body` only)
    the body before passing it on.
    """

    GET_METHODS: Final = frozenset(
        {hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS, hdrs.METH_TRACE}
    )
    POST_METHODS: Final = frozenset({hdrs.METH_PATCH, hdrs.METH_POST, hdrs.METH_PUT})
    ALL_METHODS: Final = GET_METHODS.union(POST_METHODS).union({hdrs.METH_DELETE})

    DEFAULT_HEADERS: Final[Mapping[istr, str]] = {
        hdrs.ACCEPT: "*/*",
        hdrs.ACCEPT_ENCODING: accept_encoding_header(),
    }

    __slots__ = (
        "_body",
        "_body_headers",
        "_continue",
        "_expect100",
        "_session",
        "_skip_auto_headers",
        "_timer",
        "_traces",
        "_writer",
        "auth",
        "chunked",
        "compress",
        "headers",
        "loop",
        "method",
        "original_url",
        "proxy",
        "proxy_auth",
        "proxy_headers",
        "response",
        "response_class",
        "server_hostname",
        "ssl",
        "url",
        "version",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        params: Query = None,
        headers: LooseHeaders | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        data: Any = None,
        cookies: LooseCookies | None = None,
        auth: BasicAuth | None = None,
        version: HttpVersion = HttpVersion11,
        compress: str | bool | None = False,
        chunked: bool | None = None,
        expect100: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        response_class: type[ClientResponse] | None = None,
        proxy: URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timer: BaseTimerContext | None = None,
        session: ClientSession | None = None,
        ssl: SSLParam = True,
        proxy_headers: LooseHeaders | None = None,
        traces: list[Trace] | None = None,
        trust_env: bool = False,
        server_hostname: str | None = None,
    ) -> None:
        if type(url) is not URL and not isinstance(url, URL):
            raise TypeError(f"url should be yarl.URL instance, got {type(url)!r}")
        if method not in _VALID_METHODS:
            if _METHOD_RE.fullmatch(method) is None:
                raise ValueError(f"Method {method!r} is not a valid HTTP method token")
            if len(_VALID_METHODS) < _VALID_METHODS_MAX:
                _VALID_METHODS.add(method)
        if not url.raw_host:
            raise InvalidUrlClientError(url, "URL has no host")
        if (
            ssl is not True
            and not isinstance(ssl, (bool, Fingerprint))
            and not _is_ssl_context(ssl)
        ):
            raise TypeError(
                f"ssl should be SSLContext, Fingerprint, or bool, got {ssl!r} instead."
            )
        self.loop = loop
        self.method = method.upper()
        if params:
            url = url.extend_query(params)
        self.original_url = url
        self.url = url.with_fragment(None) if url.raw_fragment else url
        self.version = version
        self.response_class: type[ClientResponse] = response_class or ClientResponse
        self._session = session
        self._timer: BaseTimerContext = timer if timer is not None else _NO_TIMER
        self._traces: list[Trace] = traces if traces is not None else []
        self.ssl: SSLParam = ssl
        self.server_hostname = server_hostname
        self.chunked = chunked
        self.compress: str | None = None
        self._expect100 = expect100
        self._continue: asyncio.Future[bool] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._body: payload_mod.Payload | None = None
        self._body_headers: list[str] = []
        self.response: ClientResponse | None = None
        self.auth: BasicAuth | None = None
        self.proxy: URL | None = None
        self.proxy_auth: BasicAuth | None = None
        self.proxy_headers: CIMultiDict[str] | None = None

        # Each step is skipped when it has nothing to do: most requests need only the first.
        self._update_headers(headers, skip_auto_headers)
        if cookies:
            self._update_cookies(cookies)
        if (
            auth is not None
            or trust_env
            or url.raw_user is not None
            or url.raw_password is not None
        ):
            self._update_auth(auth, trust_env)
        if proxy is not None:
            self._update_proxy(proxy, proxy_auth, proxy_headers)
        if data is not None and compress:
            self._update_content_encoding(data, compress)
        if self.chunked or hdrs.TRANSFER_ENCODING in self.headers:
            self._check_transfer_encoding()
        if data is not None or self.chunked or self.method in self.POST_METHODS:
            self._set_body(data)
        if expect100 or hdrs.EXPECT in self.headers:
            self._update_expect_continue(expect100)

    # -- documented attributes -------------------------------------------------------------

    @property
    def body(self) -> payload_mod.Payload | bytes:
        """The body payload, or ``b""`` for none. Change it with `update_body` only."""
        return b"" if self._body is None else self._body

    @body.setter
    def body(self, value: Any) -> None:
        # Kept for compatibility; `update_body` also closes the previous payload.
        self._remove_body_headers()
        self._set_body(value)

    @property
    def session(self) -> ClientSession:
        """The session that made this request."""
        if self._session is None:
            raise RuntimeError("This request does not belong to a session")
        return self._session

    @property
    def skip_auto_headers(self) -> CIMultiDict[None]:
        """Names of the headers that are not generated automatically."""
        return self._skip_auto_headers

    @property
    def host(self) -> str:
        """The host to connect to (IDNA-encoded, without IPv6 brackets)."""
        host = self.url.raw_host
        assert host is not None
        return host

    @property
    def port(self) -> int | None:
        return self.url.port

    def is_ssl(self) -> bool:
        """Whether the request goes over TLS (https or wss)."""
        return self.url.scheme in _TLS_SCHEMES

    @property
    def connection_key(self) -> ConnectionKey:
        """The pool this request takes its connection from."""
        proxy_headers = self.proxy_headers
        headers_hash = hash(tuple(proxy_headers.items())) if proxy_headers else None
        url = self.url
        host = url.raw_host
        assert host is not None
        # tuple.__new__: what ConnectionKey(...) does, without its Python-level __new__.
        return tuple.__new__(
            ConnectionKey,
            (
                host,
                url.port,
                url.scheme in _TLS_SCHEMES,
                self.ssl,
                self.proxy,
                self.proxy_auth,
                headers_hash,
            ),
        )

    @property
    def request_info(self) -> RequestInfo:
        # tuple.__new__: what RequestInfo(...) does, without its Python-level __new__.
        return tuple.__new__(
            RequestInfo, (self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)
        )

    def keep_alive(self) -> bool:
        """Whether the connection may be reused after this request (by its version and
        Connection header)."""
        connection = self.headers.get(hdrs.CONNECTION, "").lower()
        if self.version >= HttpVersion11:
            return "close" not in connection
        if self.version == HttpVersion10:
            return "keep-alive" in connection
        return False

    # -- building ----------------------------------------------------------------------------

    def _update_headers(
        self, headers: LooseHeaders | None, skip_auto_headers: Iterable[str] | None
    ) -> None:
        skip: CIMultiDict[None] = CIMultiDict()
        if skip_auto_headers:
            for name in skip_auto_headers:
                skip.add(istr(name), None)
        self._skip_auto_headers = skip
        result: CIMultiDict[str] = CIMultiDict()
        # Host first: it is what servers and proxies look at before anything else.
        if not headers:
            if not skip and self.DEFAULT_HEADERS is _DEFAULT_HEADERS:
                result[hdrs.HOST] = self.url.host_port_subcomponent or self.host
                result.extend(self.DEFAULT_HEADERS)
                result[hdrs.USER_AGENT] = USER_AGENT
                self.headers: CIMultiDict[str] = result
                return
            given: CIMultiDict[str] = CIMultiDict()
        else:
            given = CIMultiDict(headers)
        if hdrs.HOST not in given and hdrs.HOST not in skip:
            result[hdrs.HOST] = self.url.host_port_subcomponent or self.host
        result.extend(given)
        for name, value in self.DEFAULT_HEADERS.items():
            if name not in skip and name not in result:
                result[name] = value
        if hdrs.USER_AGENT not in skip and hdrs.USER_AGENT not in result:
            result[hdrs.USER_AGENT] = USER_AGENT
        self.headers = result

    def _update_cookies(self, cookies: LooseCookies | None) -> None:
        if not cookies:
            return
        pairs: list[str] = []
        existing = self.headers.get(hdrs.COOKIE)
        if existing:
            pairs.append(existing)
        items: Iterable[tuple[str, Any]] = (
            cookies.items() if isinstance(cookies, (BaseCookie, Mapping)) else cookies
        )
        for name, value in items:
            if isinstance(value, Morsel):
                pairs.append(f"{value.key}={value.coded_value}")
            elif isinstance(value, BaseCookie):
                pairs.extend(f"{m.key}={m.coded_value}" for m in value.values())
            else:
                # Quoted as SimpleCookie would, so spaces and separators survive.
                pairs.append(f"{name}={_COOKIE_ENCODER.value_encode(str(value))[1]}")
        self.headers[hdrs.COOKIE] = "; ".join(pairs)

    def _update_auth(self, auth: BasicAuth | None, trust_env: bool) -> None:
        if auth is None:
            auth = BasicAuth.from_url(self.original_url)
        if (
            auth is None
            and trust_env
            and self.url.host is not None
            and hdrs.AUTHORIZATION not in self.headers
        ):
            with contextlib.suppress(LookupError):
                auth = _basicauth_from_netrc(netrc_from_env(), self.url.host)
        if auth is None:
            return
        if not isinstance(auth, BasicAuth):
            raise TypeError("BasicAuth() tuple is required instead")
        self.auth = auth
        self.headers[hdrs.AUTHORIZATION] = auth.encode()

    def _update_proxy(
        self,
        proxy: URL | None,
        proxy_auth: BasicAuth | None,
        proxy_headers: LooseHeaders | None,
    ) -> None:
        if proxy is None:
            return
        if proxy_auth is not None and not isinstance(proxy_auth, BasicAuth):
            raise ValueError("proxy_auth must be None or BasicAuth() tuple")
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        if proxy_headers is not None and not isinstance(proxy_headers, CIMultiDict):
            proxy_headers = CIMultiDict(proxy_headers)
        self.proxy_headers = proxy_headers

    def _update_content_encoding(self, data: Any, compress: str | bool | None) -> None:
        if data is None or not compress:
            return
        if self.headers.get(hdrs.CONTENT_ENCODING):
            raise ValueError("compress can not be set if Content-Encoding header is set")
        # The compressed size is not known in advance.
        self.compress = compress if isinstance(compress, str) else "deflate"
        self.headers[hdrs.CONTENT_ENCODING] = self.compress
        if hdrs.CONTENT_LENGTH in self.headers:
            raise ValueError("compress can not be combined with a Content-Length header")
        self.chunked = True

    def _check_transfer_encoding(self) -> None:
        te = self.headers.get(hdrs.TRANSFER_ENCODING, "").lower()
        if "chunked" in te:
            if self.chunked and self.compress is None:
                raise ValueError(
                    "chunked can not be set if 'Transfer-Encoding: chunked' header is set"
                )
            # The caller framed the body themselves by header: honour it.
            self.chunked = True
        elif self.chunked and hdrs.CONTENT_LENGTH in self.headers:
            raise ValueError("chunked can not be set if Content-Length header is set")

    def _set_body(self, data: Any) -> None:
        """Make ``data`` the body and describe it in the headers (framing, Content-Type and
        the payload's own headers), remembering which headers were added for it."""
        headers = self.headers
        added = self._body_headers
        if data is None:
            self._body = None
            if self.chunked:
                # send() ends a chunked body with its last-chunk: the head must announce it.
                if hdrs.TRANSFER_ENCODING not in headers:
                    headers[hdrs.TRANSFER_ENCODING] = "chunked"
                    added.append(hdrs.TRANSFER_ENCODING)
            elif (
                self.method in self.POST_METHODS
                and hdrs.CONTENT_LENGTH not in headers
                and hdrs.TRANSFER_ENCODING not in headers
            ):
                headers[hdrs.CONTENT_LENGTH] = "0"
                added.append(hdrs.CONTENT_LENGTH)
            return
        if isinstance(data, FormData):
            body = data()
        elif type(data) is str and hdrs.CONTENT_TYPE in headers:
            body = _text_payload(data, headers[hdrs.CONTENT_TYPE])
        else:
            try:
                body = payload_mod.get_payload(data, disposition=None)
            except payload_mod.LookupError:
                # dicts and lists of pairs are form fields
                body = FormData(data)()
        self._body = body
        if not self.chunked and hdrs.CONTENT_LENGTH not in headers:
            size = body.size
            if size is None:
                self.chunked = True
            else:
                headers[hdrs.CONTENT_LENGTH] = str(size)
                added.append(hdrs.CONTENT_LENGTH)
        if self.chunked and hdrs.TRANSFER_ENCODING not in headers:
            headers[hdrs.TRANSFER_ENCODING] = "chunked"
            added.append(hdrs.TRANSFER_ENCODING)
        skip = self._skip_auto_headers
        for name, value in body.headers.items():
            if name in headers or name in skip:
                continue
            headers[name] = value
            added.append(name)

    def _remove_body_headers(self) -> None:
        for name in self._body_headers:
            self.headers.popall(name, None)
        if hdrs.TRANSFER_ENCODING in self._body_headers:
            # The framing goes with the body it was chosen for.
            self.chunked = None if self.compress is None else True
        self._body_headers = []

    def _update_expect_continue(self, expect: bool) -> None:
        if expect:
            self.headers[hdrs.EXPECT] = "100-continue"
        elif self.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
            expect = True
        self._expect100 = expect

    async def update_body(self, body: Any) -> None:
        """Replace the body with ``body`` (anything ``data=`` accepts, ``None`` for none),
        closing the previous payload and updating Content-Length / Content-Type."""
        old = self._body
        if old is not None and old is not body:
            await old.close()
        self._remove_body_headers()
        self._set_body(body)

    # -- sending -----------------------------------------------------------------------------

    def _request_target(self) -> str:
        if self.method == hdrs.METH_CONNECT:
            host = self.url.raw_host or ""
            if ":" in host:
                host = f"[{host}]"
            return f"{host}:{self.url.port}"
        if self.proxy is not None and not self.is_ssl():
            # Absolute form: a plain HTTP proxy forwards by the URL in the request line.
            return str(self.url)
        return self.url.raw_path_qs

    async def send(self, conn: Connection) -> ClientResponse:
        """Write the request to ``conn`` and return the response (whose head is not read yet).

        The body goes out in a background task when it may block; its errors reach the reader
        of the response through the connection's protocol.
        """
        loop = self.loop
        if loop is None:
            loop = self.loop = asyncio.get_running_loop()
        protocol = conn.protocol
        assert protocol is not None

        headers = self.headers
        version = self.version
        # Without a Connection header only HTTP/1.0 (or a keep_alive() override) adds one.
        if hdrs.CONNECTION not in headers and (
            version != HttpVersion11 or type(self).keep_alive is not _KEEP_ALIVE
        ):
            if self.keep_alive():
                if version == HttpVersion10:
                    headers[hdrs.CONNECTION] = "keep-alive"
            elif version == HttpVersion11:
                headers[hdrs.CONNECTION] = "close"

        method = self.method
        if method != hdrs.METH_CONNECT and self.proxy is None:
            target = self.url.raw_path_qs
        else:
            target = self._request_target()
        status_line = f"{method} {target} {_VERSION_TEXT.get(version) or _version_text(version)}"

        body = self._body
        task: asyncio.Task[None] | None = None
        self._continue = None
        if (
            not self._traces
            and not self.compress
            and not self.chunked
            and not self._expect100
            and not protocol.writing_paused
            and (body is None or _inline_bytes(body))
        ):
            # Head and body in one write, no writer object, no task: the common request.
            head = _serialize_head(status_line, headers)
            try:
                transport = protocol.transport
                if transport is None or transport.is_closing():
                    raise ConnectionResetError("Cannot write to closing transport")
                if body is None:
                    transport.write(head)
                else:
                    transport.write(b"".join((head, body._value)))
            except OSError as exc:
                raise _write_error(exc, self.url) from exc
        else:
            on_chunk = on_headers = None
            if self._traces:
                on_chunk = partial(self._on_chunk_request_sent, method, self.url)
                on_headers = partial(self._on_headers_request_sent, method, self.url)
            writer = StreamWriter(
                protocol, loop, on_chunk_sent=on_chunk, on_headers_sent=on_headers
            )
            if self.compress:
                writer.enable_compression(self.compress)
            if self.chunked:
                writer.enable_chunking()
            try:
                await writer.write_headers(status_line, headers)
            except OSError as exc:
                raise _write_error(exc, self.url) from exc

            self._continue = loop.create_future() if self._expect100 else None
            if self._continue is None and (
                body is None
                or (
                    isinstance(body, payload_mod.BytesPayload)
                    and (body.size or 0) <= _INLINE_BODY_MAX
                    and not protocol.writing_paused
                )
            ):
                # Small in-memory bodies go out with the head, without a task.
                try:
                    if body is not None:
                        await body.write(writer)
                    await writer.write_eof()
                except OSError as exc:
                    raise _write_error(exc, self.url) from exc
            else:
                task = loop.create_task(self._write_bytes(writer, conn, body, self._continue))
        self._writer = task

        response = self.response_class(
            method,
            self.original_url,
            writer=task,
            continue100=self._continue,
            timer=self._timer,
            request_info=self.request_info,
            traces=self._traces,
            loop=loop,
            session=self._session,
        )
        self.response = response
        return response

    async def _write_bytes(
        self,
        writer: StreamWriter,
        conn: Connection,
        body: payload_mod.Payload | None,
        continue100: asyncio.Future[bool] | None,
    ) -> None:
        """Write the body (after the server's ``100 Continue`` if one is expected)."""
        protocol = conn.protocol
        assert protocol is not None
        try:
            if continue100 is not None:
                await writer.drain()
                if not await continue100:
                    # A final response came instead of 100: the body is not sent, so the
                    # connection cannot carry another request.
                    protocol.force_close()
                    return
            if body is not None:
                await body.write(writer)
            await writer.write_eof()
        except OSError as exc:
            protocol.set_exception(_write_error(exc, self.url), exc)
        except asyncio.CancelledError:
            # The body was cut short: the server would read the next request as body.
            protocol.force_close()
            raise
        except Exception as exc:
            protocol.set_exception(
                ClientConnectionError(f"Failed to send the request body to {self.url}: {exc!r}"),
                exc,
            )
        finally:
            self._writer = None

    async def _on_chunk_request_sent(self, method: str, url: URL, chunk: bytes) -> None:
        for trace in self._traces:
            await trace.send_request_chunk_sent(method, url, chunk)

    async def _on_headers_request_sent(
        self, method: str, url: URL, headers: CIMultiDict[str]
    ) -> None:
        for trace in self._traces:
            await trace.send_request_headers(method, url, headers)

    async def close(self) -> None:
        """Wait for the body to be written."""
        writer = self._writer
        if writer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def terminate(self) -> None:
        """Stop writing the body."""
        writer = self._writer
        if writer is not None:
            if self.loop is not None and not self.loop.is_closed():
                writer.cancel()
            self._writer = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.method} {self.url})>"


_COOKIE_ENCODER: Final = SimpleCookie()
_KEEP_ALIVE: Final = ClientRequest.keep_alive
_BYTES_WRITE: Final = payload_mod.BytesPayload.write
_VERSION_TEXT: Final = {HttpVersion11: "HTTP/1.1", HttpVersion10: "HTTP/1.0"}


def _version_text(version: HttpVersion) -> str:
    return f"HTTP/{version.major}.{version.minor}"


def _inline_bytes(body: payload_mod.Payload) -> bool:
    """Whether ``body`` is a small in-memory payload that writes its ``_value`` as is (so
    send() may put those bytes in the same write as the head)."""
    return (
        isinstance(body, payload_mod.BytesPayload)
        and type(body).write is _BYTES_WRITE
        and (body.size or 0) <= _INLINE_BODY_MAX
    )


def _serialize_head(status_line: str, headers: CIMultiDict[str]) -> bytes:
    """``serialize_headers(status_line, headers)``, from `_HEADS` when the same head was sent
    before. Only heads made of ``str`` are kept: a value that merely compares equal to a
    string (none of the builtin types does) could otherwise hit another head's bytes."""
    items = tuple(headers.items())
    key = (status_line, items)
    try:
        head = _HEADS.get(key)
    except TypeError:  # an unhashable value: serialised as its text, never kept
        return serialize_headers(status_line, headers)
    if head is not None:
        return head
    head = serialize_headers(status_line, headers)
    if all(type(value) is str for _, value in items):
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[key] = head
    return head


def _text_payload(text: str, content_type: str) -> payload_mod.Payload:
    """A ``str`` body encoded with the charset of the caller's Content-Type (the reference:
    "Text data (encoded using charset from Content-Type)"), UTF-8 when it names none, one
    Python does not know, or one that cannot encode the text (aiohttp code that always got
    UTF-8 keeps working)."""
    try:
        return payload_mod.StringPayload(text, content_type=content_type)
    except (LookupError, UnicodeEncodeError):
        return payload_mod.StringPayload(text)


def _is_ssl_context(value: object) -> bool:
    return isinstance(value, _ssl.SSLContext)


def _write_error(exc: OSError, url: URL) -> OSError:
    """The error a failed body write is reported as: a timeout as is, otherwise a
    `ClientOSError` naming the URL."""
    if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
        return exc
    if isinstance(exc, ClientOSError):
        return exc
    return ClientOSError(exc.errno, f"Can not write request body for {url}")


_DEFAULT_HEADERS: Final = ClientRequest.DEFAULT_HEADERS
