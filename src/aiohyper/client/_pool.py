"""The connection pool: `BaseConnector` and the `Connection` it lends out.

A connector keeps idle connections per ``ConnectionKey`` (host, port, TLS settings, proxy) and
lends them out as `Connection` objects. ``limit`` bounds the connections in use at once (all
keys), ``limit_per_host`` those of one key. A request over the limits waits in one FIFO queue;
when a connection is returned its slot goes to the oldest waiter whose key is under its own
limit. A slot is handed over, not merely announced, so a newcomer cannot take it first, and a
waiter cancelled at that moment gives it back. Idle connections expire after
``keepalive_timeout`` seconds.

Subclasses open new connections in `BaseConnector._create_connection`.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import traceback
import warnings
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Protocol, Self

from ..helpers import Sentinel, calculate_timeout_when, sentinel
from ._exceptions import ClientConnectionError
from ._protocol import ResponseHandler

if TYPE_CHECKING:
    from ._request import ClientRequest, ConnectionKey
    from ._timeout import ClientTimeout

__all__ = ("HIGH_LEVEL_SCHEMA_SET", "BaseConnector", "Connection", "TraceLike")

#: URL schemes every connector can serve.
HIGH_LEVEL_SCHEMA_SET: Final = frozenset({"http", "https", "ws", "wss"})

_DEFAULT_KEEPALIVE: Final = 15.0
# asyncio stopped leaking TLS transports that never finish their shutdown in these versions.
_SSL_LEAK_FIXED: Final = sys.version_info >= (3, 12, 7)


class TraceLike(Protocol):
    """The part of ``aiohyper.tracing.Trace`` that connectors call."""

    async def send_connection_queued_start(self) -> None: ...
    async def send_connection_queued_end(self) -> None: ...
    async def send_connection_create_start(self) -> None: ...
    async def send_connection_create_end(self) -> None: ...
    async def send_connection_reuseconn(self) -> None: ...
    async def send_dns_resolvehost_start(self, host: str) -> None: ...
    async def send_dns_resolvehost_end(self, host: str) -> None: ...
    async def send_dns_cache_hit(self, host: str) -> None: ...
    async def send_dns_cache_miss(self, host: str) -> None: ...


class Connection:
    """One connection lent out by a connector, until `release` or `close`.

    `release` hands it back for reuse (when its protocol allows), `close` closes it. Callbacks
    added with `add_callback` run on either. A connection garbage collected without either
    is closed with a ``ResourceWarning``.
    """

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_connector",
        "_key",
        "_loop",
        "_protocol",
        "_source_traceback",
    )

    def __init__(
        self,
        connector: BaseConnector,
        key: ConnectionKey,
        protocol: ResponseHandler,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._connector = connector
        self._key = key
        self._protocol: ResponseHandler | None = protocol
        self._loop = loop
        self._callbacks: list[Any] = []
        self._source_traceback = (
            traceback.extract_stack(sys._getframe(1)) if loop.get_debug() else None
        )

    def __repr__(self) -> str:
        return f"Connection<{self._key}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        protocol = self._protocol
        if protocol is None:
            return
        _warnings.warn(f"Unclosed connection {self!r}", ResourceWarning, source=self)
        if self._loop.is_closed():
            return
        self._connector._release(self._key, protocol, should_close=True)
        context: dict[str, Any] = {"client_connection": self, "message": "Unclosed connection"}
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)

    def __bool__(self) -> bool:
        return True  # a Connection is never falsy, even without a protocol

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop (deprecated)."""
        warnings.warn("connector.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection's transport; ``None`` once released, closed or lost."""
        protocol = self._protocol
        return None if protocol is None else protocol.transport

    @property
    def protocol(self) -> ResponseHandler | None:
        """The connection's `ResponseHandler`; ``None`` once released or closed."""
        return self._protocol

    @property
    def closed(self) -> bool:
        """True once released, closed or lost."""
        protocol = self._protocol
        return protocol is None or not protocol.is_connected()

    def add_callback(self, callback: Any) -> None:
        """Call ``callback()`` when the connection is released or closed."""
        if callback is not None:
            self._callbacks.append(callback)

    def _notify_release(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one callback must not stop the others
                pass

    def close(self) -> None:
        """Close the connection: it is not reused."""
        self._notify_release()
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            self._connector._release(self._key, protocol, should_close=True)

    def release(self) -> None:
        """Give the connection back to the pool (it is closed instead if it cannot be
        reused: the protocol says ``should_close``, or the connector ``force_close``)."""
        if self._callbacks:
            self._notify_release()
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            # _release looks at protocol.should_close itself.
            self._connector._release(self._key, protocol)


def _call_weak(ref: weakref.ref[BaseConnector], method: str) -> None:
    # Timers reference the connector weakly, so a forgotten one can still be collected.
    connector = ref()
    if connector is not None:
        getattr(connector, method)()


class BaseConnector:
    """Base class of connectors: the pool, the limits and the keep-alive of connections.

    ``keepalive_timeout`` (seconds, default 15; ``None`` or ``0``: idle connections never
    expire) cannot be combined with ``force_close=True`` (close every connection when it is
    released). ``limit`` (default 100) and ``limit_per_host`` (default 0) bound the connections
    in use; ``0`` means no limit. ``timeout_ceil_threshold``: timeouts of this many seconds or
    more are rounded up to whole seconds.
    """

    #: URL schemes this connector can serve.
    allowed_protocol_schema_set: frozenset[str] = HIGH_LEVEL_SCHEMA_SET
    # Period of the forced abort of TLS transports that did not finish closing.
    _cleanup_closed_period: float = 2.0
    # Until __init__ completes, so that __del__ of a half-built connector does nothing.
    _closed = True

    def __init__(
        self,
        *,
        keepalive_timeout: float | Sentinel | None = sentinel,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not sentinel:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
            keepalive: float | None = None
        else:
            keepalive = _DEFAULT_KEEPALIVE if keepalive_timeout is sentinel else keepalive_timeout
        if loop is None:
            loop = asyncio.get_running_loop()
        self._loop = loop
        self._keepalive_timeout = keepalive
        self._force_close = force_close
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._source_traceback = (
            traceback.extract_stack(sys._getframe(1)) if loop.get_debug() else None
        )
        self._factory = self._make_protocol

        # Idle connections per key, oldest first, with the loop time they were released.
        self._conns: dict[ConnectionKey, collections.deque[tuple[ResponseHandler, float]]] = {}
        # Connections lent out.
        self._acquired: set[ResponseHandler] = set()
        # Slots: connections lent out plus those being opened or handed to a waiter; per key
        # only with a limit_per_host (nothing else reads them).
        self._slots = 0
        self._slots_per_key: dict[ConnectionKey, int] = {}
        # Requests waiting for a slot, in arrival order.
        self._waiters: dict[asyncio.Future[None], ConnectionKey] = {}

        self._cleanup_handle: asyncio.TimerHandle | None = None
        self._cleanup_closed_disabled = not enable_cleanup_closed or _SSL_LEAK_FIXED
        self._cleanup_closed_transports: list[asyncio.Transport] = []
        self._cleanup_closed_handle: asyncio.TimerHandle | None = None
        self._closed = False
        if not self._cleanup_closed_disabled:
            self._schedule_cleanup_closed()

    def _make_protocol(self) -> ResponseHandler:
        return ResponseHandler(self._loop)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} limit={self._limit} limit_per_host={self._limit_per_host}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed:
            return
        if not self._conns and not self._acquired:
            return
        conns = [repr(c) for c in self._conns.values()]
        self._close_now()
        _warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self)
        context: dict[str, Any] = {
            "connector": self,
            "connections": conns,
            "message": "Unclosed connector",
        }
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        if not self._loop.is_closed():
            self._loop.call_exception_handler(context)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- public properties -----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once `close` was called."""
        return self._closed

    @property
    def force_close(self) -> bool:
        """Whether connections are closed instead of pooled when released."""
        return self._force_close

    @property
    def limit(self) -> int:
        """Connections in use at once, all hosts together (``0``: no limit)."""
        return self._limit

    @property
    def limit_per_host(self) -> int:
        """Connections in use at once to one endpoint (``0``: no limit)."""
        return self._limit_per_host

    # -- lending connections ---------------------------------------------------------------

    async def connect(
        self,
        request: ClientRequest,
        traces: Sequence[TraceLike] = (),
        timeout: ClientTimeout | None = None,
    ) -> Connection:
        """A connection for ``request``: an idle one of its key, or a new one.

        Waits (FIFO) while the limits are reached. Raises ``ClientConnectionError`` once the
        connector is closed, and what `_create_connection` raises. The ``connect`` timeout is
        the caller's to apply around this call; ``sock_connect`` applies to opening a socket.
        """
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        key = request.connection_key
        self._prepare_request(request, key)
        if not traces:
            # The common case, without an await: a free slot and an idle connection.
            limit = self._limit
            if (not limit or self._slots < limit) and not self._limit_per_host:
                idle = self._get_idle(key)
                if idle is not None:
                    self._slots += 1
                    self._acquired.add(idle)
                    return Connection(self, key, idle, self._loop)
        waited = False
        if self._has_slot(key):
            self._take_slot(key)
        else:
            for trace in traces:
                await trace.send_connection_queued_start()
            await self._wait_for_slot(key)
            waited = True
        proto: ResponseHandler | None = None
        try:
            if waited:
                for trace in traces:
                    await trace.send_connection_queued_end()
            proto = self._get_idle(key)
            if proto is not None:
                for trace in traces:
                    await trace.send_connection_reuseconn()
            else:
                for trace in traces:
                    await trace.send_connection_create_start()
                proto = await self._create_connection(request, traces, timeout)
                if self._closed:
                    raise ClientConnectionError("Connector is closed.")
                for trace in traces:
                    await trace.send_connection_create_end()
        except BaseException:
            if proto is not None:
                proto.close()
            self._give_back_slot(key)
            raise
        self._acquired.add(proto)
        return Connection(self, key, proto, self._loop)

    def _prepare_request(self, request: ClientRequest, key: ConnectionKey) -> None:
        """Adjust ``request`` for the connection it is about to get (subclasses)."""

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: Sequence[TraceLike],
        timeout: ClientTimeout | None,
    ) -> ResponseHandler:
        """Open a new connection for ``req`` and return its protocol (subclasses)."""
        raise NotImplementedError

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        """Take back a lent connection: pool it, or close it when it cannot be reused."""
        acquired = self._acquired
        if self._closed or protocol not in acquired:
            return  # closed together with the connector, or released twice
        acquired.remove(protocol)
        self._drop_slot(key)
        if should_close or self._force_close or protocol.should_close:
            self._close_protocol(protocol)
        else:
            now = self._loop.time()
            conns = self._conns.get(key)
            if conns is None:
                conns = self._conns[key] = collections.deque()
            conns.append((protocol, now))
            if self._cleanup_handle is None:
                self._schedule_cleanup(now)
        if self._waiters:
            self._wake_waiters()

    def _get_idle(self, key: ConnectionKey) -> ResponseHandler | None:
        """The most recently released usable idle connection of ``key``, if any."""
        conns = self._conns.get(key)
        if conns is None:
            return None
        keepalive = self._keepalive_timeout
        now = self._loop.time()
        found = None
        while conns:
            proto, released = conns.pop()
            if proto.should_close or (keepalive and now - released >= keepalive):
                # Closed by the server, sent something unasked, or expired.
                self._close_protocol(proto)
                continue
            found = proto
            break
        if not conns:
            del self._conns[key]
        return found

    # -- slots and waiters -----------------------------------------------------------------

    def _has_slot(self, key: ConnectionKey) -> bool:
        limit = self._limit
        if limit and self._slots >= limit:
            return False
        per_host = self._limit_per_host
        return not (per_host and self._slots_per_key.get(key, 0) >= per_host)

    def _take_slot(self, key: ConnectionKey) -> None:
        self._slots += 1
        if self._limit_per_host:
            self._slots_per_key[key] = self._slots_per_key.get(key, 0) + 1

    def _drop_slot(self, key: ConnectionKey) -> None:
        self._slots -= 1
        if not self._limit_per_host:
            return
        left = self._slots_per_key[key] - 1
        if left:
            self._slots_per_key[key] = left
        else:
            del self._slots_per_key[key]

    def _give_back_slot(self, key: ConnectionKey) -> None:
        """Return a slot that did not become a lent connection."""
        if self._closed:
            return  # close() reset the accounting
        self._drop_slot(key)
        self._wake_waiters()

    async def _wait_for_slot(self, key: ConnectionKey) -> None:
        """Wait until a slot for ``key`` is handed to us (it is taken on return)."""
        if self._has_slot(key):  # freed while the trace callbacks ran
            self._take_slot(key)
            return
        fut: asyncio.Future[None] = self._loop.create_future()
        self._waiters[fut] = key
        try:
            await fut
        except BaseException:
            if (
                self._waiters.pop(fut, None) is None
                and fut.done()
                and not fut.cancelled()
                and fut.exception() is None
            ):
                # Handed a slot just as we were cancelled: pass it on.
                self._give_back_slot(key)
            raise

    def _wake_waiters(self) -> None:
        """Hand free slots to the oldest waiters that can use them."""
        waiters = self._waiters
        if not waiters:
            return
        limit = self._limit
        for fut, key in list(waiters.items()):
            if fut.done():
                del waiters[fut]
                continue
            if limit and self._slots >= limit:
                break
            if self._has_slot(key):
                del waiters[fut]
                self._take_slot(key)
                fut.set_result(None)

    # -- keep-alive expiry -----------------------------------------------------------------

    def _schedule_cleanup(self, since: float) -> None:
        keepalive = self._keepalive_timeout
        if not keepalive:
            return
        when = calculate_timeout_when(since, keepalive, self._timeout_ceil_threshold)
        self._cleanup_handle = self._loop.call_at(when, _call_weak, weakref.ref(self), "_cleanup")

    def _cleanup(self) -> None:
        """Close the idle connections that expired; re-arm for the next expiry."""
        self._cleanup_handle = None
        keepalive = self._keepalive_timeout
        if self._closed or not keepalive:
            return
        now = self._loop.time()
        oldest: float | None = None
        for key, conns in list(self._conns.items()):
            alive: collections.deque[tuple[ResponseHandler, float]] = collections.deque()
            for proto, released in conns:
                if proto.should_close or now - released >= keepalive:
                    self._close_protocol(proto)
                else:
                    alive.append((proto, released))
                    if oldest is None or released < oldest:
                        oldest = released
            if alive:
                self._conns[key] = alive
            else:
                del self._conns[key]
        if oldest is not None:
            self._schedule_cleanup(oldest)

    # -- closing ---------------------------------------------------------------------------

    def _close_protocol(self, proto: ResponseHandler) -> None:
        transport = proto.transport
        proto.close()
        if (
            transport is not None
            and not self._cleanup_closed_disabled
            and transport.get_extra_info("sslcontext") is not None
        ):
            self._cleanup_closed_transports.append(transport)

    def _schedule_cleanup_closed(self) -> None:
        when = calculate_timeout_when(
            self._loop.time(), self._cleanup_closed_period, self._timeout_ceil_threshold
        )
        self._cleanup_closed_handle = self._loop.call_at(
            when, _call_weak, weakref.ref(self), "_cleanup_closed"
        )

    def _cleanup_closed(self) -> None:
        """Abort TLS transports that were closed a period ago (asyncio < 3.12.7 may leak them
        when the peer never completes the TLS shutdown)."""
        self._cleanup_closed_handle = None
        transports, self._cleanup_closed_transports = self._cleanup_closed_transports, []
        for transport in transports:
            transport.abort()
        if not self._closed:
            self._schedule_cleanup_closed()

    def _shutdown_protocol(self, proto: ResponseHandler, abort_ssl: bool) -> None:
        """Close ``proto`` as part of closing the connector (subclasses may abort TLS)."""
        if abort_ssl:
            proto.abort()
        else:
            proto.close()

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close every connection, idle or lent out, and refuse new ones.

        Returns once the connections are closed. ``abort_ssl``: drop TLS connections without
        the TLS shutdown exchange.
        """
        waiters = self._close_now(abort_ssl=abort_ssl)
        if waiters:
            await asyncio.wait(waiters)

    def _close_now(self, *, abort_ssl: bool = False) -> list[asyncio.Future[None]]:
        """Close everything without waiting; return the futures that resolve when the
        connections are gone."""
        if self._closed:
            return []
        self._closed = True
        closing: list[asyncio.Future[None]] = []
        try:
            if self._loop.is_closed():
                return closing
            for handle in (self._cleanup_handle, self._cleanup_closed_handle):
                if handle is not None:
                    handle.cancel()
            protos = [proto for conns in self._conns.values() for proto, _ in conns]
            protos.extend(self._acquired)
            for proto in protos:
                self._shutdown_protocol(proto, abort_ssl)
                if not proto.closed.done():
                    closing.append(proto.closed)
            for transport in self._cleanup_closed_transports:
                transport.abort()
            error = ClientConnectionError("Connector is closed.")
            for fut in self._waiters:
                if not fut.done():
                    fut.set_exception(error)
            return closing
        finally:
            self._conns.clear()
            self._acquired.clear()
            self._slots = 0
            self._slots_per_key.clear()
            self._waiters.clear()
            self._cleanup_closed_transports.clear()
            self._cleanup_handle = None
            self._cleanup_closed_handle = None
