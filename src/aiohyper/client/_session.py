"""`ClientSession`: the client's entry point, and the module-level `request`.

A session holds what its requests share: a connector (the connection pool), a cookie jar,
default headers, credentials and timeouts. ``session.request(method, url, ...)`` (and
``get``/``post``/...) returns a `_RequestContextManager`, which can be awaited for the response
or used as ``async with``, which also releases the response at the end.

One request goes through these steps (`ClientSession._request`):

1. the URL is built (``base_url`` joined, ``params`` added) and checked;
2. a `ClientRequest` is made with the merged headers, cookies from the jar, credentials;
3. the middleware chain runs around ``connect → send → read the head``;
4. cookies of the response go to the jar; a redirect starts again at 2 with the new URL;
5. ``raise_for_status`` is applied, the response returned.

The ``total`` timeout covers all of it plus reading the body; it ends when the response
lets go of its connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from http.cookies import BaseCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from multidict import CIMultiDict, istr
from yarl import URL

from .. import hdrs, payload as payload_mod
from .._http._message import HttpVersion, HttpVersion11
from ..abc import AbstractCookieJar
from ..helpers import (
    BaseTimerContext,
    BasicAuth,
    Sentinel,
    TimerNoop,
    ceil_timeout,
    get_env_proxy_for_url,
    sentinel,
    strip_auth_from_url,
)
from ..tracing import Trace, TraceConfig
from ..typedefs import DEFAULT_JSON_ENCODER, JSONEncoder, LooseCookies, LooseHeaders, StrOrURL
from ._connector import BaseConnector, TCPConnector
from ._cookiejar import CookieJar, DummyCookieJar
from ._deadlines import Deadlines
from ._exceptions import (
    ClientConnectorError,
    ClientError,
    ClientOSError,
    ConnectionTimeoutError,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    ServerDisconnectedError,
    TooManyRedirects,
)
from ._middlewares import ClientHandlerType, ClientMiddlewareType, build_client_middlewares
from ._redirects import (
    HTTP_AND_WS_SCHEMES,
    REDIRECT_STATUSES,
    drop_body_headers,
    drop_origin_credentials,
    location_of,
    method_after_redirect,
    resolve_location,
)
from ._request import ClientRequest
from ._response import ClientResponse
from ._timeout import DEFAULT_TIMEOUT, DEFAULT_WS_CLIENT_TIMEOUT, ClientTimeout, ClientWSTimeout
from ._tls import SSLParam, merge_ssl_params
from ._ws import ClientWebSocketResponse, connect as ws_connect

if TYPE_CHECKING:
    import ssl as ssl_mod

__all__ = ("ClientSession", "request")

_RetType = TypeVar("_RetType")

#: Methods whose responses have no body whatever their headers say.
_EMPTY_BODY_METHODS: Final = frozenset({hdrs.METH_HEAD, hdrs.METH_CONNECT})
#: Methods a request may be repeated with (RFC 9110 section 9.2.2): a broken pooled connection
#: is retried once for these.
_IDEMPOTENT_METHODS: Final = frozenset(
    {
        hdrs.METH_GET,
        hdrs.METH_HEAD,
        hdrs.METH_OPTIONS,
        hdrs.METH_TRACE,
        hdrs.METH_PUT,
        hdrs.METH_DELETE,
    }
)
_CharsetResolver = Callable[[ClientResponse, bytes], str]
#: Parsed request URLs kept per session (see `ClientSession._build_url`).
_URL_CACHE_SIZE: Final = 256
#: The timer of requests without a total timeout.
_NO_TIMER: Final = TimerNoop()
_RESPONSE_START: Final = ClientResponse.start
_RESPONSE_AENTER: Final = ClientResponse.__aenter__
_RESPONSE_AEXIT: Final = ClientResponse.__aexit__


def _utf8_charset(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


def _current_loop(loop: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop:
    if loop is not None:
        return loop
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        warnings.warn(
            "The object should be created within an async function",
            DeprecationWarning,
            stacklevel=3,
        )
        return asyncio.get_event_loop_policy().get_event_loop()


class ClientSession:
    """A set of requests sharing a connection pool, cookies and settings.

    See the client reference for every argument. Close it with ``await session.close()`` or
    use it as ``async with ClientSession() as session:``; an unclosed session is reported with
    a ``ResourceWarning`` when it is garbage collected.
    """

    __slots__ = (
        "_auto_decompress",
        "_base_url",
        "_base_url_origin",
        "_connector",
        "_connector_owner",
        "_cookie_jar",
        "_deadlines",
        "_default_auth",
        "_default_headers",
        "_default_proxy",
        "_default_proxy_auth",
        "_json_serialize",
        "_loop",
        "_max_field_size",
        "_max_line_size",
        "_middlewares",
        "_raise_for_status",
        "_read_bufsize",
        "_request_class",
        "_requote_redirect_url",
        "_resolve_charset",
        "_response_class",
        "_skip_auto_headers",
        "_source_traceback",
        "_timeout",
        "_trace_configs",
        "_trust_env",
        "_url_cache",
        "_version",
        "_ws_response_class",
    )

    def __init__(
        self,
        base_url: StrOrURL | None = None,
        *,
        connector: BaseConnector | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        cookies: LooseCookies | None = None,
        headers: LooseHeaders | None = None,
        proxy: StrOrURL | None = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: JSONEncoder = DEFAULT_JSON_ENCODER,
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        ws_response_class: type[ClientWebSocketResponse] = ClientWebSocketResponse,
        version: HttpVersion = HttpVersion11,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] = False,
        read_timeout: float | Sentinel | None = sentinel,
        conn_timeout: float | None = None,
        timeout: ClientTimeout | Sentinel | None = sentinel,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[TraceConfig[Any]] | None = None,
        middlewares: Sequence[ClientMiddlewareType] = (),
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        fallback_charset_resolver: _CharsetResolver = _utf8_charset,
        ssl_shutdown_timeout: float | Sentinel = sentinel,
    ) -> None:
        # First: __del__ looks at it even when __init__ fails.
        self._connector: BaseConnector | None = None
        self._source_traceback: traceback.StackSummary | None = None

        if base_url is None or isinstance(base_url, URL):
            self._base_url: URL | None = base_url
        else:
            self._base_url = URL(base_url)
        self._base_url_origin = None if self._base_url is None else self._base_url.origin()
        if self._base_url is not None:
            if not self._base_url.absolute:
                raise ValueError("Only absolute URLs are supported as base_url")
            if self._base_url.path and not self._base_url.path.endswith("/"):
                raise ValueError("base_url must have a trailing '/'")

        self._timeout = _session_timeout(timeout, read_timeout, conn_timeout)

        loop = _current_loop(loop)
        if connector is None:
            if ssl_shutdown_timeout is sentinel:
                connector = TCPConnector(loop=loop)
            else:
                warnings.warn(
                    "The ssl_shutdown_timeout parameter is deprecated "
                    "and will be removed in aiohttp 4.0",
                    DeprecationWarning,
                    stacklevel=2,
                )
                connector = TCPConnector(loop=loop, ssl_shutdown_timeout=ssl_shutdown_timeout)
        self._loop = loop
        self._deadlines = Deadlines(loop)
        self._url_cache: dict[str, URL] = {}
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack(sys._getframe(1))

        if cookie_jar is None:
            cookie_jar = CookieJar(loop=loop)
        self._cookie_jar = cookie_jar
        if cookies:
            self._cookie_jar.update_cookies(cookies)

        self._connector = connector
        self._connector_owner = connector_owner
        self._default_auth = auth
        self._version = version
        self._json_serialize = json_serialize
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._default_headers: CIMultiDict[str] = (
            CIMultiDict(headers) if headers else CIMultiDict()
        )
        self._skip_auto_headers = (
            frozenset(istr(name) for name in skip_auto_headers)
            if skip_auto_headers is not None
            else frozenset()
        )
        self._request_class = request_class
        self._response_class = response_class
        self._ws_response_class = ws_response_class
        self._trace_configs = trace_configs or []
        for trace_config in self._trace_configs:
            trace_config.freeze()
        self._resolve_charset = fallback_charset_resolver
        self._default_proxy = URL(proxy) if proxy is not None else None
        self._default_proxy_auth = proxy_auth
        self._middlewares: tuple[ClientMiddlewareType, ...] = tuple(middlewares)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        warnings.warn(
            f"Inheritance class {cls.__name__} from ClientSession is discouraged",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init_subclass__(**kwargs)

    def __del__(self, _warnings: Any = warnings) -> None:
        if self.closed:
            return
        _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
        context: dict[str, Any] = {"client_session": self, "message": "Unclosed client session"}
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        if not self._loop.is_closed():
            self._loop.call_exception_handler(context)

    # -- requests ----------------------------------------------------------------------------

    def request(self, method: str, url: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """Send a ``method`` request to ``url``; see the client reference for ``kwargs``."""
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(
        self, url: StrOrURL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        """A GET request."""
        return _RequestContextManager(
            self._request(hdrs.METH_GET, url, allow_redirects=allow_redirects, **kwargs)
        )

    def options(
        self, url: StrOrURL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        """An OPTIONS request."""
        return _RequestContextManager(
            self._request(hdrs.METH_OPTIONS, url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(
        self, url: StrOrURL, *, allow_redirects: bool = False, **kwargs: Any
    ) -> _RequestContextManager:
        """A HEAD request (redirects not followed by default)."""
        return _RequestContextManager(
            self._request(hdrs.METH_HEAD, url, allow_redirects=allow_redirects, **kwargs)
        )

    def post(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        """A POST request."""
        return _RequestContextManager(self._request(hdrs.METH_POST, url, data=data, **kwargs))

    def put(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        """A PUT request."""
        return _RequestContextManager(self._request(hdrs.METH_PUT, url, data=data, **kwargs))

    def patch(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        """A PATCH request."""
        return _RequestContextManager(self._request(hdrs.METH_PATCH, url, data=data, **kwargs))

    def delete(self, url: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """A DELETE request."""
        return _RequestContextManager(self._request(hdrs.METH_DELETE, url, **kwargs))

    def ws_connect(
        self,
        url: StrOrURL,
        *,
        method: str = hdrs.METH_GET,
        protocols: Iterable[str] = (),
        timeout: ClientWSTimeout | float | Sentinel | None = sentinel,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        auth: BasicAuth | None = None,
        origin: str | None = None,
        params: Any = None,
        headers: LooseHeaders | None = None,
        proxy: StrOrURL | None = None,
        proxy_auth: BasicAuth | None = None,
        ssl: SSLParam = True,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: ssl_mod.SSLContext | None = None,
        server_hostname: str | None = None,
        proxy_headers: LooseHeaders | None = None,
        compress: int = 0,
        max_msg_size: int = 4 * 1024 * 1024,
    ) -> _WSRequestContextManager:
        """Open a WebSocket to ``url``; await the result, or ``async with`` it to close the
        WebSocket at the end of the block. See the client reference for the arguments.

        ``timeout`` is a `ClientWSTimeout` (default: no receive limit, 10 seconds to close;
        ``None``: no limits; a number is the deprecated spelling of ``ws_close``);
        ``receive_timeout`` is the deprecated spelling of ``ws_receive``. ``compress`` (9..15
        window bits) offers permessage-deflate, 0 does not. Raises `WSServerHandshakeError`
        when the server refuses the upgrade.
        """
        if timeout is sentinel:
            ws_timeout = DEFAULT_WS_CLIENT_TIMEOUT
        elif timeout is None:
            ws_timeout = ClientWSTimeout()
        elif isinstance(timeout, ClientWSTimeout):
            ws_timeout = timeout
        else:
            warnings.warn(
                "parameter 'timeout' of type 'float' is deprecated, "
                "please use 'timeout=ClientWSTimeout(ws_close=...)'",
                DeprecationWarning,
                stacklevel=2,
            )
            ws_timeout = ClientWSTimeout(ws_close=timeout)
        if receive_timeout is not None:
            warnings.warn(
                "parameter 'receive_timeout' is deprecated, "
                "please use 'timeout=ClientWSTimeout(ws_receive=...)'",
                DeprecationWarning,
                stacklevel=2,
            )
            ws_timeout = dataclasses.replace(ws_timeout, ws_receive=receive_timeout)
        return _WSRequestContextManager(
            ws_connect(
                self,
                url,
                method=method,
                protocols=tuple(protocols),
                timeout=ws_timeout,
                autoclose=autoclose,
                autoping=autoping,
                heartbeat=heartbeat,
                auth=auth,
                origin=origin,
                params=params,
                headers=headers,
                proxy=proxy,
                proxy_auth=proxy_auth,
                ssl=ssl,
                verify_ssl=verify_ssl,
                fingerprint=fingerprint,
                ssl_context=ssl_context,
                server_hostname=server_hostname,
                proxy_headers=proxy_headers,
                compress=compress,
                max_msg_size=max_msg_size,
                response_class=self._ws_response_class,
            )
        )

    def _build_url(self, str_or_url: StrOrURL) -> URL:
        """``str_or_url`` as a URL joined to ``base_url``. Strings are parsed once: a client
        asks for the same few URLs over and over, and yarl's parsing is not free."""
        if type(str_or_url) is str:
            cache = self._url_cache
            url = cache.get(str_or_url)
            if url is not None:
                return url
            url = URL(str_or_url)
            if self._base_url is not None and not url.absolute:
                url = self._base_url.join(url)
            if len(cache) >= _URL_CACHE_SIZE:
                cache.clear()
            cache[str_or_url] = url
            return url
        url = URL(str_or_url)
        if self._base_url is not None and not url.absolute:
            return self._base_url.join(url)
        return url

    def _prepare_headers(self, headers: LooseHeaders | None) -> CIMultiDict[str]:
        """The session's default headers, each name replaced by the request's values."""
        result = CIMultiDict(self._default_headers)
        if headers:
            given: CIMultiDict[str] = (
                headers if isinstance(headers, CIMultiDict) else CIMultiDict(headers)
            )
            if not result:
                result.extend(given)
                return result
            replaced: set[str] = set()
            for name, value in given.items():
                folded = name.lower()
                if folded in replaced:
                    result.add(name, value)
                else:
                    result[name] = value
                    replaced.add(folded)
        return result

    async def _request(
        self,
        method: str,
        str_or_url: StrOrURL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: LooseCookies | None = None,
        headers: LooseHeaders | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] | None = None,
        read_until_eof: bool = True,
        proxy: StrOrURL | None = None,
        proxy_auth: BasicAuth | None = None,
        timeout: ClientTimeout | float | Sentinel | None = sentinel,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: ssl_mod.SSLContext | None = None,
        ssl: SSLParam = True,
        server_hostname: str | None = None,
        proxy_headers: LooseHeaders | None = None,
        trace_request_ctx: Any = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        middlewares: Sequence[ClientMiddlewareType] | None = None,
    ) -> ClientResponse:
        # The common case (a plain request with the session's settings) skips every step
        # that has nothing to do: this runs once per request and its cost is the client's.
        connector = self._connector
        if connector is None or connector.closed:
            raise RuntimeError("Session is closed")
        if (
            ssl is not True
            or verify_ssl is not None
            or ssl_context is not None
            or fingerprint is not None
        ):
            ssl = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        if json is not None:
            if data is not None:
                raise ValueError("data and json parameters can not be used at the same time")
            data = payload_mod.JsonPayload(json, dumps=self._json_serialize)

        history: list[ClientResponse] = []
        redirects = 0
        version = self._version
        headers = self._prepare_headers(headers)
        try:
            url = self._build_url(str_or_url)
        except ValueError as exc:
            raise InvalidUrlClientError(str_or_url) from exc
        if url.scheme not in HTTP_AND_WS_SCHEMES:
            raise NonHttpUrlClientError(url)
        # Only session credentials look at the first origin (see _default_auth_applies).
        first_origin = (
            url.origin()
            if self._default_auth is not None
            and self._base_url_origin is None
            and url.absolute
            and url.raw_host
            else None
        )

        skip_headers: set[istr] | frozenset[istr] = self._skip_auto_headers
        if skip_auto_headers is not None:
            skip_headers = set(skip_headers) | {istr(name) for name in skip_auto_headers}

        if proxy is None:
            proxy = self._default_proxy
            if proxy_auth is None:
                proxy_auth = self._default_proxy_auth
        proxy_url = URL(proxy) if proxy is not None else None

        real_timeout = (
            self._timeout if timeout is sentinel else _request_timeout(timeout, self._timeout)
        )
        if read_bufsize is None:
            read_bufsize = self._read_bufsize
        if auto_decompress is None:
            auto_decompress = self._auto_decompress
        if max_line_size is None:
            max_line_size = self._max_line_size
        if max_field_size is None:
            max_field_size = self._max_field_size

        # The total timeout: one deadline for everything, body reading included.
        deadline = self._deadlines.start(real_timeout.total, real_timeout.ceil_threshold)
        timer: BaseTimerContext = _NO_TIMER if deadline is None else deadline.timer

        traces: list[Trace] = []
        if self._trace_configs:
            traces = [
                Trace(self, trace_config, trace_config.trace_config_ctx(trace_request_ctx))
                for trace_config in self._trace_configs
            ]
            trace_url = url.extend_query(params) if params else url
            for trace in traces:
                await trace.send_request_start(method, trace_url, headers)

        connect_timeout = real_timeout.connect
        ceil_threshold = real_timeout.ceil_threshold
        sock_read = real_timeout.sock_read
        last_sent: ClientRequest | None = None

        async def connect_and_send(req: ClientRequest) -> ClientResponse:
            """The innermost handler: a connection, the request written, the head read."""
            nonlocal last_sent
            if req is last_sent:
                # A middleware sends the same request again (a retry, an auth challenge): the
                # response it saw may have set cookies, so the Cookie header is built anew.
                self._refresh_request_cookies(req, headers.get(hdrs.COOKIE), cookies)
            last_sent = req
            try:
                if connect_timeout is None or connect_timeout <= 0:
                    conn = await connector.connect(req, traces, real_timeout)
                else:
                    async with ceil_timeout(connect_timeout, ceil_threshold):
                        conn = await connector.connect(req, traces, real_timeout)
            except TimeoutError as exc:
                raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc
            protocol = conn._protocol
            assert protocol is not None
            protocol.set_response_params(
                timer=timer,
                skip_payload=req.method in _EMPTY_BODY_METHODS,
                read_until_eof=read_until_eof,
                auto_decompress=auto_decompress,
                read_timeout=sock_read,
                read_bufsize=read_bufsize,
                timeout_ceil_threshold=ceil_threshold,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
            )
            try:
                resp = await req.send(conn)
                try:
                    if type(resp).start is _RESPONSE_START:
                        # Already inside the request's timer: no need to enter it again.
                        await resp._read_head(conn)
                    else:
                        await resp.start(conn)
                except BaseException:
                    resp.close()
                    raise
            except BaseException:
                conn.close()
                raise
            if resp._raw_cookie_headers:
                self._cookie_jar.update_cookies_from_headers(
                    list(resp._raw_cookie_headers), resp.url
                )
            return resp

        chain = self._middlewares if middlewares is None else tuple(middlewares)
        handler: ClientHandlerType = (
            build_client_middlewares(connect_and_send, chain) if chain else connect_and_send
        )
        retry_persistent_connection = method.upper() in _IDEMPOTENT_METHODS

        try:
            with timer:
                while True:
                    auth_from_url = None
                    if url.raw_user is not None or url.raw_password is not None:
                        url, auth_from_url = strip_auth_from_url(url)
                    if not url.raw_host:
                        err_cls = (
                            InvalidUrlRedirectClientError if history else InvalidUrlClientError
                        )
                        raise err_cls(url, "URL has no host")
                    if auth is not None and auth_from_url is not None:
                        raise ValueError(
                            "Cannot combine AUTH argument with credentials encoded in URL"
                        )
                    req_auth = auth if auth is not None else auth_from_url
                    if (
                        req_auth is None
                        and self._default_auth is not None
                        and hdrs.AUTHORIZATION not in headers  # an explicit header wins
                        and self._default_auth_applies(url, first_origin)
                    ):
                        req_auth = self._default_auth
                    if req_auth is not None and hdrs.AUTHORIZATION in headers:
                        raise ValueError(
                            "Cannot combine AUTHORIZATION header "
                            "with AUTH argument or credentials encoded in URL"
                        )

                    all_cookies = (
                        None
                        if cookies is None and self._jar_is_empty()
                        else self._cookies_for(url, cookies)
                    )

                    req_proxy, req_proxy_auth = proxy_url, proxy_auth
                    if req_proxy is None and self._trust_env:
                        try:
                            req_proxy, req_proxy_auth = get_env_proxy_for_url(url)
                        except LookupError:
                            req_proxy, req_proxy_auth = None, None

                    req = self._request_class(
                        method,
                        url,
                        params=params,
                        headers=headers,
                        skip_auto_headers=skip_headers,
                        data=data,
                        cookies=all_cookies,
                        auth=req_auth,
                        version=version,
                        compress=compress,
                        chunked=chunked,
                        expect100=expect100,
                        loop=self._loop,
                        response_class=self._response_class,
                        proxy=req_proxy,
                        proxy_auth=req_proxy_auth,
                        timer=timer,
                        session=self,
                        ssl=ssl,
                        server_hostname=server_hostname,
                        proxy_headers=proxy_headers,
                        traces=traces,
                        trust_env=self._trust_env,
                    )

                    try:
                        resp = await handler(req)
                    except (ConnectionTimeoutError, ClientConnectorError):
                        raise  # the connection was never established: nothing to retry
                    except (ClientOSError, ServerDisconnectedError):
                        # Typically a pooled connection the server had closed meanwhile.
                        if retry_persistent_connection and _resendable(req):
                            retry_persistent_connection = False
                            data = req._body
                            continue
                        raise
                    except ClientError:
                        raise
                    except OSError as exc:
                        if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                            raise
                        raise ClientOSError(*exc.args) from exc

                    if not allow_redirects or resp.status not in REDIRECT_STATUSES:
                        break
                    location = location_of(resp)
                    if location is None:
                        break  # nothing to follow: the redirect is the answer
                    new_method = method_after_redirect(resp.status, resp.method)
                    if new_method is None and data is not None and not _resendable(req):
                        # A one-shot body (an async generator...) is gone: hand the redirect
                        # to the caller rather than repeating the request without it.
                        break

                    for trace in traces:
                        await trace.send_request_redirect(
                            method, url.extend_query(params) if params else url, headers, resp
                        )
                    redirects += 1
                    history.append(resp)
                    if max_redirects and redirects > max_redirects:
                        resp.close()
                        raise TooManyRedirects(
                            history[0].request_info,
                            tuple(history),
                            status=resp.status,
                            message=resp.reason or "",
                            headers=resp.headers,
                        )
                    resp.release()
                    redirect_url = resolve_location(
                        location, url, requote=self._requote_redirect_url
                    )

                    if new_method is not None:
                        method = new_method
                        data = None
                        drop_body_headers(headers)
                    elif data is not None:
                        data = req._body  # the same payload, sent again
                    if url.origin() != redirect_url.origin():
                        auth = None
                        cookies = None
                        drop_origin_credentials(headers)
                    url = redirect_url
                    params = None

            # Before raise_for_status: its ClientResponseError carries the history.
            resp._history = tuple(history)
            if raise_for_status is None:
                raise_for_status = self._raise_for_status
            if raise_for_status:
                if callable(raise_for_status):
                    try:
                        await raise_for_status(resp)
                    except BaseException:
                        resp.release()
                        raise
                else:
                    resp.raise_for_status()

            if deadline is not None:
                resp._add_done_callback(deadline.cancel)
            for trace in traces:
                await trace.send_request_end(
                    method, url.extend_query(params) if params else url, headers, resp
                )
            return resp
        except BaseException as exc:
            if deadline is not None:
                deadline.cancel()
            for trace in traces:
                await trace.send_request_exception(
                    method, url.extend_query(params) if params else url, headers, exc
                )
            raise

    def _jar_is_empty(self) -> bool:
        """Whether the session's jar certainly has no cookie to send (our own jars only: a
        custom jar is always asked)."""
        jar = self._cookie_jar
        if type(jar) is CookieJar:
            return not jar._count
        return type(jar) is DummyCookieJar

    def _cookies_for(self, url: URL, cookies: LooseCookies | None) -> BaseCookie[str]:
        """The jar's cookies for ``url`` plus the per-request ``cookies`` (which win)."""
        all_cookies = self._cookie_jar.filter_cookies(url)
        if cookies is not None:
            tmp_jar = CookieJar(quote_cookie=self._cookie_jar.quote_cookie)
            tmp_jar.update_cookies(cookies)
            req_cookies = tmp_jar.filter_cookies(url)
            if req_cookies:
                all_cookies.load(req_cookies)
        return all_cookies

    def _refresh_request_cookies(
        self, req: ClientRequest, explicit_header: str | None, cookies: LooseCookies | None
    ) -> None:
        """Rebuild ``req``'s Cookie header from the jar as it is now."""
        req.headers.popall(hdrs.COOKIE, None)
        if explicit_header is not None:
            req.headers[hdrs.COOKIE] = explicit_header
        req._update_cookies(self._cookies_for(req.url, cookies))

    def _default_auth_applies(self, url: URL, first_origin: URL | None) -> bool:
        """Session credentials go to the base URL's origin when there is a base URL, else to
        the origin the request was made to (not to another one it is redirected to)."""
        origin = url.origin()
        if self._base_url_origin is not None:
            return origin == self._base_url_origin
        return first_origin is None or origin == first_origin

    # -- closing -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connector if the session owns it; the session cannot be used after."""
        if not self.closed:
            if self._connector is not None and self._connector_owner:
                await self._connector.close()
            self._connector = None

    def detach(self) -> None:
        """Forget the connector without closing it; the session is closed afterwards."""
        self._connector = None

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __enter__(self) -> None:
        raise TypeError("Use async with instead")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        pass  # pragma: no cover - __enter__ always raises

    # -- attributes --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the session is closed (its connector gone or closed)."""
        return self._connector is None or self._connector.closed

    @property
    def connector(self) -> BaseConnector | None:
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        return self._cookie_jar

    @property
    def version(self) -> HttpVersion:
        """The HTTP version of the requests."""
        return self._version

    @property
    def requote_redirect_url(self) -> bool:
        """Whether redirect URLs are requoted (``False``: used exactly as received)."""
        return self._requote_redirect_url

    @requote_redirect_url.setter
    def requote_redirect_url(self, val: bool) -> None:
        warnings.warn(
            "session.requote_redirect_url modification is deprecated #2778",
            DeprecationWarning,
            stacklevel=2,
        )
        self._requote_redirect_url = val

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The session's event loop (deprecated)."""
        warnings.warn("client.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def headers(self) -> CIMultiDict[str]:
        """The headers sent with every request."""
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[istr]:
        return self._skip_auto_headers

    @property
    def auth(self) -> BasicAuth | None:
        return self._default_auth

    @property
    def json_serialize(self) -> JSONEncoder:
        return self._json_serialize

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def raise_for_status(self) -> bool | Callable[[ClientResponse], Awaitable[None]]:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def trace_configs(self) -> list[TraceConfig[Any]]:
        return self._trace_configs

    @property
    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        return self._middlewares

    @property
    def base_url(self) -> URL | None:
        return self._base_url


def _session_timeout(
    timeout: ClientTimeout | Sentinel | None,
    read_timeout: float | Sentinel | None,
    conn_timeout: float | None,
) -> ClientTimeout:
    """The session's timeouts from ``timeout`` or the deprecated ``read_timeout`` /
    ``conn_timeout``."""
    if timeout is sentinel or timeout is None:
        result = DEFAULT_TIMEOUT
        if read_timeout is not sentinel:
            warnings.warn(
                "read_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = dataclasses.replace(result, total=read_timeout)
        if conn_timeout is not None:
            warnings.warn(
                "conn_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = dataclasses.replace(result, connect=conn_timeout)
        return result
    if not isinstance(timeout, ClientTimeout):
        raise ValueError(
            f"timeout parameter cannot be of {type(timeout)} type, "
            "please use 'timeout=ClientTimeout(...)'"
        )
    if read_timeout is not sentinel:
        raise ValueError("read_timeout and timeout parameters conflict, please setup timeout.read")
    if conn_timeout is not None:
        raise ValueError(
            "conn_timeout and timeout parameters conflict, please setup timeout.connect"
        )
    return timeout


def _request_timeout(
    timeout: ClientTimeout | float | Sentinel | None, default: ClientTimeout
) -> ClientTimeout:
    if timeout is sentinel:
        return default
    if isinstance(timeout, ClientTimeout):
        return timeout
    # A number (or None) is the total timeout, as in aiohttp 3.2 and before.
    return ClientTimeout(total=timeout)


def _resendable(req: ClientRequest) -> bool:
    """Whether the body of ``req`` can be sent once more."""
    body = req._body
    return body is None or not body.consumed


# --- Awaitable context managers ------------------------------------------------------------


class _BaseRequestContextManager(Coroutine[Any, Any, _RetType], Generic[_RetType]):
    """Wraps the coroutine of a request: ``await`` it for the result, or ``async with`` it."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, _RetType]) -> None:
        self._coro = coro

    def send(self, arg: Any) -> Any:
        return self._coro.send(arg)

    def throw(self, *args: Any, **kwargs: Any) -> Any:
        return self._coro.throw(*args, **kwargs)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, _RetType]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, _RetType]:
        return self.__await__()

    async def __aenter__(self) -> _RetType:
        self._resp: _RetType = await self._coro
        return self._resp


class _RequestContextManager(_BaseRequestContextManager[ClientResponse]):
    """What ``session.request()`` returns; ``async with`` releases the response at the end."""

    __slots__ = ()

    async def __aenter__(self) -> ClientResponse:
        resp = self._resp = await self._coro
        if type(resp).__aenter__ is _RESPONSE_AENTER:
            resp._in_context = True  # what ClientResponse.__aenter__ does, one await less
            return resp
        return await resp.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resp = self._resp
        if type(resp).__aexit__ is _RESPONSE_AEXIT:
            # What ClientResponse.__aexit__ does, one await less when nothing is pending.
            resp._in_context = False
            resp.release()
            writer = resp._writer
            if writer is not None and not writer.done():
                await resp.wait_for_close()
            return
        await resp.__aexit__(exc_type, exc, tb)


class _WSRequestContextManager(_BaseRequestContextManager[ClientWebSocketResponse]):
    """What ``session.ws_connect()`` returns; ``async with`` closes the WebSocket at the end."""

    __slots__ = ()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._resp.close()


class _SessionRequestContextManager:
    """What the module-level `request` returns: the response of a one-off session, which is
    closed when the ``async with`` block ends."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._session = session

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._resp.release()
        await self._session.close()


def request(
    method: str,
    url: StrOrURL,
    *,
    params: Any = None,
    data: Any = None,
    json: Any = None,
    cookies: LooseCookies | None = None,
    headers: LooseHeaders | None = None,
    skip_auto_headers: Iterable[str] | None = None,
    auth: BasicAuth | None = None,
    allow_redirects: bool = True,
    max_redirects: int = 10,
    compress: str | bool | None = False,
    chunked: bool | None = None,
    expect100: bool = False,
    raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] | None = None,
    read_until_eof: bool = True,
    proxy: StrOrURL | None = None,
    proxy_auth: BasicAuth | None = None,
    timeout: ClientTimeout | float | Sentinel | None = sentinel,
    ssl: SSLParam = True,
    server_hostname: str | None = None,
    proxy_headers: LooseHeaders | None = None,
    trace_request_ctx: Any = None,
    read_bufsize: int | None = None,
    auto_decompress: bool | None = None,
    max_line_size: int | None = None,
    max_field_size: int | None = None,
    version: HttpVersion = HttpVersion11,
    connector: BaseConnector | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    middlewares: Sequence[ClientMiddlewareType] = (),
) -> _SessionRequestContextManager:
    """Make one request with a session of its own (no keep-alive), as ``async with``::

    async with aiohyper.request("GET", "http://python.org/") as resp:
        print(await resp.text())
    """
    connector_owner = connector is None
    if connector is None:
        connector = TCPConnector(loop=loop, force_close=True)
    session = ClientSession(
        loop=loop,
        cookies=cookies,
        version=version,
        connector=connector,
        connector_owner=connector_owner,
        middlewares=middlewares,
    )
    return _SessionRequestContextManager(
        session._request(
            method,
            url,
            params=params,
            data=data,
            json=json,
            headers=headers,
            skip_auto_headers=skip_auto_headers,
            auth=auth,
            allow_redirects=allow_redirects,
            max_redirects=max_redirects,
            compress=compress,
            chunked=chunked,
            expect100=expect100,
            raise_for_status=raise_for_status,
            read_until_eof=read_until_eof,
            proxy=proxy,
            proxy_auth=proxy_auth,
            timeout=timeout,
            ssl=ssl,
            server_hostname=server_hostname,
            proxy_headers=proxy_headers,
            trace_request_ctx=trace_request_ctx,
            read_bufsize=read_bufsize,
            auto_decompress=auto_decompress,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
        ),
        session,
    )
