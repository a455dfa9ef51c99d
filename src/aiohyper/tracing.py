"""Client request tracing (``aiohttp.tracing``): ``TraceConfig`` signals and their parameters.

A ``TraceConfig`` holds one ``aiosignal.Signal`` per phase of a client request (request start,
body chunks, redirects, connection pool, DNS...). A ``ClientSession`` freezes the configs it is
given and, for each request, builds one ``Trace`` per config with a fresh context from
``trace_config_ctx()``; the request code then calls ``await trace.send_xxx(...)`` at each phase.

Every handler is ``async def handler(session, trace_config_ctx, params)``, where ``params`` is
the frozen dataclass documented for its signal. Sending to a signal without handlers builds
nothing, and a session without trace configs creates no ``Trace`` at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Generic, TypeVar, overload

from aiosignal import Signal
from multidict import CIMultiDict
from yarl import URL

__all__ = (
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
)

_T = TypeVar("_T")
_ParamsT = TypeVar("_ParamsT")

# The session and the response are typed ``Any``: this module sits below the client package
# (it is imported by it), so it cannot name ``ClientSession`` or ``ClientResponse``.
#: ``async def handler(session, trace_config_ctx, params)``.
_TraceSignal = Signal[Any, _T, _ParamsT]


@dataclass(frozen=True, slots=True)
class TraceRequestStartParams:
    """Parameters of ``on_request_start``: the request is about to be sent. ``headers`` may
    be mutated by the handler; the changes are sent."""

    method: str
    url: URL
    headers: CIMultiDict[str]


@dataclass(frozen=True, slots=True)
class TraceRequestChunkSentParams:
    """Parameters of ``on_request_chunk_sent``: one chunk of the request body was written."""

    method: str
    url: URL
    chunk: bytes


@dataclass(frozen=True, slots=True)
class TraceResponseChunkReceivedParams:
    """Parameters of ``on_response_chunk_received``: one chunk of the response body was read."""

    method: str
    url: URL
    chunk: bytes


@dataclass(frozen=True, slots=True)
class TraceRequestEndParams:
    """Parameters of ``on_request_end``: the response head arrived (``response`` is the
    ``ClientResponse``)."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: Any


@dataclass(frozen=True, slots=True)
class TraceRequestExceptionParams:
    """Parameters of ``on_request_exception``: the request failed with ``exception``."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    exception: BaseException


@dataclass(frozen=True, slots=True)
class TraceRequestRedirectParams:
    """Parameters of ``on_request_redirect``: ``response`` is a redirect that will be
    followed."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: Any


@dataclass(frozen=True, slots=True)
class TraceConnectionQueuedStartParams:
    """Parameters of ``on_connection_queued_start`` (none): the request waits for a free
    connection in the pool."""


@dataclass(frozen=True, slots=True)
class TraceConnectionQueuedEndParams:
    """Parameters of ``on_connection_queued_end`` (none): the wait for a connection is over."""


@dataclass(frozen=True, slots=True)
class TraceConnectionCreateStartParams:
    """Parameters of ``on_connection_create_start`` (none): a new connection is being opened."""


@dataclass(frozen=True, slots=True)
class TraceConnectionCreateEndParams:
    """Parameters of ``on_connection_create_end`` (none): the new connection is open."""


@dataclass(frozen=True, slots=True)
class TraceConnectionReuseconnParams:
    """Parameters of ``on_connection_reuseconn`` (none): a pooled connection is reused."""


@dataclass(frozen=True, slots=True)
class TraceDnsResolveHostStartParams:
    """Parameters of ``on_dns_resolvehost_start``: ``host`` is about to be resolved."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsResolveHostEndParams:
    """Parameters of ``on_dns_resolvehost_end``: ``host`` has been resolved."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsCacheHitParams:
    """Parameters of ``on_dns_cache_hit``: the addresses of ``host`` came from the cache."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsCacheMissParams:
    """Parameters of ``on_dns_cache_miss``: ``host`` is not in the cache."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceRequestHeadersSentParams:
    """Parameters of ``on_request_headers_sent``: the request head has been written."""

    method: str
    url: URL
    headers: CIMultiDict[str]


# Connection and DNS params without attributes: one shared instance each.
_QUEUED_START: TraceConnectionQueuedStartParams = TraceConnectionQueuedStartParams()
_QUEUED_END: TraceConnectionQueuedEndParams = TraceConnectionQueuedEndParams()
_CREATE_START: TraceConnectionCreateStartParams = TraceConnectionCreateStartParams()
_CREATE_END: TraceConnectionCreateEndParams = TraceConnectionCreateEndParams()
_REUSECONN: TraceConnectionReuseconnParams = TraceConnectionReuseconnParams()


class TraceConfig(Generic[_T]):
    """The signals to trace a session's requests with, and the factory of their contexts.

    ``trace_config_ctx_factory`` is called as ``factory(trace_request_ctx=...)`` once per
    request; the object it returns is the ``context`` every handler of that request receives.
    """

    _on_request_start: _TraceSignal[_T, TraceRequestStartParams]
    _on_request_chunk_sent: _TraceSignal[_T, TraceRequestChunkSentParams]
    _on_response_chunk_received: _TraceSignal[_T, TraceResponseChunkReceivedParams]
    _on_request_end: _TraceSignal[_T, TraceRequestEndParams]
    _on_request_exception: _TraceSignal[_T, TraceRequestExceptionParams]
    _on_request_redirect: _TraceSignal[_T, TraceRequestRedirectParams]
    _on_connection_queued_start: _TraceSignal[_T, TraceConnectionQueuedStartParams]
    _on_connection_queued_end: _TraceSignal[_T, TraceConnectionQueuedEndParams]
    _on_connection_create_start: _TraceSignal[_T, TraceConnectionCreateStartParams]
    _on_connection_create_end: _TraceSignal[_T, TraceConnectionCreateEndParams]
    _on_connection_reuseconn: _TraceSignal[_T, TraceConnectionReuseconnParams]
    _on_dns_resolvehost_start: _TraceSignal[_T, TraceDnsResolveHostStartParams]
    _on_dns_resolvehost_end: _TraceSignal[_T, TraceDnsResolveHostEndParams]
    _on_dns_cache_hit: _TraceSignal[_T, TraceDnsCacheHitParams]
    _on_dns_cache_miss: _TraceSignal[_T, TraceDnsCacheMissParams]
    _on_request_headers_sent: _TraceSignal[_T, TraceRequestHeadersSentParams]

    @overload
    def __init__(self: TraceConfig[SimpleNamespace]) -> None: ...

    @overload
    def __init__(self, trace_config_ctx_factory: Callable[..., _T]) -> None: ...

    def __init__(self, trace_config_ctx_factory: Callable[..., Any] = SimpleNamespace) -> None:
        self._trace_config_ctx_factory = trace_config_ctx_factory
        self._on_request_start = Signal(self)
        self._on_request_chunk_sent = Signal(self)
        self._on_response_chunk_received = Signal(self)
        self._on_request_end = Signal(self)
        self._on_request_exception = Signal(self)
        self._on_request_redirect = Signal(self)
        self._on_connection_queued_start = Signal(self)
        self._on_connection_queued_end = Signal(self)
        self._on_connection_create_start = Signal(self)
        self._on_connection_create_end = Signal(self)
        self._on_connection_reuseconn = Signal(self)
        self._on_dns_resolvehost_start = Signal(self)
        self._on_dns_resolvehost_end = Signal(self)
        self._on_dns_cache_hit = Signal(self)
        self._on_dns_cache_miss = Signal(self)
        self._on_request_headers_sent = Signal(self)

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> _T:
        """A new context for one request; ``trace_request_ctx`` is the ``trace_request_ctx``
        argument the request was made with."""
        ctx: _T = self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)
        return ctx

    def freeze(self) -> None:
        """Freeze every signal: handlers can no longer be added, and signals can be sent."""
        for signal in self._signals():
            signal.freeze()

    @property
    def frozen(self) -> bool:
        """Whether ``freeze()`` was called."""
        return self._on_request_start.frozen

    def _signals(self) -> tuple[Signal[Any, _T, Any], ...]:
        return (
            self._on_request_start,
            self._on_request_chunk_sent,
            self._on_response_chunk_received,
            self._on_request_end,
            self._on_request_exception,
            self._on_request_redirect,
            self._on_connection_queued_start,
            self._on_connection_queued_end,
            self._on_connection_create_start,
            self._on_connection_create_end,
            self._on_connection_reuseconn,
            self._on_dns_resolvehost_start,
            self._on_dns_resolvehost_end,
            self._on_dns_cache_hit,
            self._on_dns_cache_miss,
            self._on_request_headers_sent,
        )

    @property
    def on_request_start(self) -> _TraceSignal[_T, TraceRequestStartParams]:
        """Sent when a request starts (before a connection is acquired)."""
        return self._on_request_start

    @property
    def on_request_chunk_sent(self) -> _TraceSignal[_T, TraceRequestChunkSentParams]:
        """Sent after each chunk of the request body is written."""
        return self._on_request_chunk_sent

    @property
    def on_response_chunk_received(
        self,
    ) -> _TraceSignal[_T, TraceResponseChunkReceivedParams]:
        """Sent for each chunk of the response body read by the application."""
        return self._on_response_chunk_received

    @property
    def on_request_end(self) -> _TraceSignal[_T, TraceRequestEndParams]:
        """Sent when the final response head has been received."""
        return self._on_request_end

    @property
    def on_request_exception(self) -> _TraceSignal[_T, TraceRequestExceptionParams]:
        """Sent when a request fails with an exception."""
        return self._on_request_exception

    @property
    def on_request_redirect(self) -> _TraceSignal[_T, TraceRequestRedirectParams]:
        """Sent for each redirect the session follows."""
        return self._on_request_redirect

    @property
    def on_connection_queued_start(
        self,
    ) -> _TraceSignal[_T, TraceConnectionQueuedStartParams]:
        """Sent when the request starts waiting for a free connection (pool limits)."""
        return self._on_connection_queued_start

    @property
    def on_connection_queued_end(self) -> _TraceSignal[_T, TraceConnectionQueuedEndParams]:
        """Sent when the wait for a free connection is over."""
        return self._on_connection_queued_end

    @property
    def on_connection_create_start(
        self,
    ) -> _TraceSignal[_T, TraceConnectionCreateStartParams]:
        """Sent when a new connection starts being opened."""
        return self._on_connection_create_start

    @property
    def on_connection_create_end(self) -> _TraceSignal[_T, TraceConnectionCreateEndParams]:
        """Sent when the new connection is open."""
        return self._on_connection_create_end

    @property
    def on_connection_reuseconn(self) -> _TraceSignal[_T, TraceConnectionReuseconnParams]:
        """Sent when a pooled connection is reused."""
        return self._on_connection_reuseconn

    @property
    def on_dns_resolvehost_start(self) -> _TraceSignal[_T, TraceDnsResolveHostStartParams]:
        """Sent before the host name is resolved."""
        return self._on_dns_resolvehost_start

    @property
    def on_dns_resolvehost_end(self) -> _TraceSignal[_T, TraceDnsResolveHostEndParams]:
        """Sent after the host name was resolved."""
        return self._on_dns_resolvehost_end

    @property
    def on_dns_cache_hit(self) -> _TraceSignal[_T, TraceDnsCacheHitParams]:
        """Sent when the host's addresses come from the DNS cache."""
        return self._on_dns_cache_hit

    @property
    def on_dns_cache_miss(self) -> _TraceSignal[_T, TraceDnsCacheMissParams]:
        """Sent when the host is not in the DNS cache."""
        return self._on_dns_cache_miss

    @property
    def on_request_headers_sent(self) -> _TraceSignal[_T, TraceRequestHeadersSentParams]:
        """Sent once the request head has been written."""
        return self._on_request_headers_sent


class Trace:
    """One trace config bound to one request: what the client code calls at each phase.

    Built by the session as ``Trace(session, trace_config, trace_config.trace_config_ctx(...))``.
    Each ``send_xxx`` returns at once when its signal has no handler; otherwise it awaits every
    handler in turn. The config must be frozen (``aiosignal`` refuses to send otherwise).
    """

    __slots__ = ("_session", "_trace_config", "_trace_config_ctx")

    def __init__(
        self, session: Any, trace_config: TraceConfig[Any], trace_config_ctx: Any
    ) -> None:
        self._session = session
        self._trace_config = trace_config
        self._trace_config_ctx = trace_config_ctx

    async def send_request_start(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        signal = self._trace_config._on_request_start
        if signal:
            params = TraceRequestStartParams(method, url, headers)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        signal = self._trace_config._on_request_chunk_sent
        if signal:
            params = TraceRequestChunkSentParams(method, url, chunk)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        signal = self._trace_config._on_response_chunk_received
        if signal:
            params = TraceResponseChunkReceivedParams(method, url, chunk)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_request_end(
        self, method: str, url: URL, headers: CIMultiDict[str], response: Any
    ) -> None:
        signal = self._trace_config._on_request_end
        if signal:
            params = TraceRequestEndParams(method, url, headers, response)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_request_exception(
        self, method: str, url: URL, headers: CIMultiDict[str], exception: BaseException
    ) -> None:
        signal = self._trace_config._on_request_exception
        if signal:
            params = TraceRequestExceptionParams(method, url, headers, exception)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_request_redirect(
        self, method: str, url: URL, headers: CIMultiDict[str], response: Any
    ) -> None:
        signal = self._trace_config._on_request_redirect
        if signal:
            params = TraceRequestRedirectParams(method, url, headers, response)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_connection_queued_start(self) -> None:
        signal = self._trace_config._on_connection_queued_start
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _QUEUED_START)

    async def send_connection_queued_end(self) -> None:
        signal = self._trace_config._on_connection_queued_end
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _QUEUED_END)

    async def send_connection_create_start(self) -> None:
        signal = self._trace_config._on_connection_create_start
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _CREATE_START)

    async def send_connection_create_end(self) -> None:
        signal = self._trace_config._on_connection_create_end
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _CREATE_END)

    async def send_connection_reuseconn(self) -> None:
        signal = self._trace_config._on_connection_reuseconn
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _REUSECONN)

    async def send_dns_resolvehost_start(self, host: str) -> None:
        signal = self._trace_config._on_dns_resolvehost_start
        if signal:
            params = TraceDnsResolveHostStartParams(host)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_dns_resolvehost_end(self, host: str) -> None:
        signal = self._trace_config._on_dns_resolvehost_end
        if signal:
            params = TraceDnsResolveHostEndParams(host)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_dns_cache_hit(self, host: str) -> None:
        signal = self._trace_config._on_dns_cache_hit
        if signal:
            await signal.send(self._session, self._trace_config_ctx, TraceDnsCacheHitParams(host))

    async def send_dns_cache_miss(self, host: str) -> None:
        signal = self._trace_config._on_dns_cache_miss
        if signal:
            params = TraceDnsCacheMissParams(host)
            await signal.send(self._session, self._trace_config_ctx, params)

    async def send_request_headers(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        signal = self._trace_config._on_request_headers_sent
        if signal:
            params = TraceRequestHeadersSentParams(method, url, headers)
            await signal.send(self._session, self._trace_config_ctx, params)
