"""Connectors that open connections: `TCPConnector` (TCP, TLS, proxies), `UnixConnector`,
`NamedPipeConnector`. The pool they share is `BaseConnector` (``_pool.py``).

Opening a TCP connection: resolve the host (through the DNS cache, one lookup at a time per
host), connect to the first reachable address (Happy Eyeballs), then the TLS handshake, then
the certificate pin check. Through a proxy the connection goes to the proxy instead; for an
``https://`` target a CONNECT tunnel is opened and TLS runs inside it.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..abc import AbstractResolver, ResolveResult
from ..helpers import Sentinel, ceil_timeout, sentinel
from ._dns_cache import DNSCache, HostKey
from ._exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientProxyConnectionError,
    ConnectionTimeoutError,
    UnixClientConnectorError,
)
from ._happy_eyeballs import (
    AddrInfoType,
    SocketFactoryType,
    addrinfo_from_host,
    start_connection,
)
from ._pool import HIGH_LEVEL_SCHEMA_SET, BaseConnector, Connection, TraceLike
from ._protocol import ResponseHandler
from ._proxy import apply_forward_proxy_headers, open_tunnel
from ._request import ConnectionKey
from ._resolver import DefaultResolver
from ._tls import (
    CERT_ERRORS,
    SSL_ERRORS,
    Fingerprint,
    SSLParam,
    fingerprint_for,
    merge_ssl_params,
    ssl_context_for,
)

if TYPE_CHECKING:
    from ._request import ClientRequest
    from ._timeout import ClientTimeout

__all__ = (
    "AddrInfoType",
    "BaseConnector",
    "Connection",
    "NamedPipeConnector",
    "SocketFactoryType",
    "TCPConnector",
    "UnixConnector",
)

_NO_TIMEOUT_THRESHOLD: Final = 5.0


@functools.lru_cache(maxsize=256)
def _ip_family(host: str) -> int | None:
    """The address family of an IP literal, ``None`` for a host name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return socket.AF_INET6 if address.version == 6 else socket.AF_INET


def _local_addr_infos(local_addr: tuple[str, int] | None) -> list[AddrInfoType] | None:
    if local_addr is None:
        return None
    host, port = local_addr[0], local_addr[1]
    if ":" in host:
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0))]
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


def _connect_error(
    exc: OSError, key: ConnectionKey, client_error: type[ClientConnectorError]
) -> Exception:
    """The client error for a failure to open a connection (``exc``) to ``key``."""
    if isinstance(exc, CERT_ERRORS):
        return ClientConnectorCertificateError(key, exc)
    if isinstance(exc, SSL_ERRORS):
        return ClientConnectorSSLError(key, exc)
    if exc.errno is None and isinstance(exc, TimeoutError):
        return ConnectionTimeoutError(f"Connection timeout to host {key.host}:{key.port}")
    return client_error(key, exc)


class TCPConnector(BaseConnector):
    """Connects over TCP, with TLS for ``https``/``wss``, directly or through HTTP proxies.

    ``ssl``: the default TLS verification of its requests (see ``aiohyper.Fingerprint``);
    ``verify_ssl``, ``fingerprint`` and ``ssl_context`` are its deprecated forms.
    ``use_dns_cache`` / ``ttl_dns_cache`` (seconds, ``None``: forever): cache resolved hosts.
    ``family``: ``0`` for IPv4 and IPv6, or ``socket.AF_INET`` / ``AF_INET6`` only.
    ``local_addr``: ``(host, port)`` to bind outgoing sockets to. ``resolver``: an
    ``AbstractResolver`` (default: a ``DefaultResolver`` owned and closed by the connector).
    ``happy_eyeballs_delay`` (``None``: try addresses one by one) and ``interleave``: RFC 8305.
    ``socket_factory``: makes the sockets. ``ssl_shutdown_timeout`` (deprecated): seconds of
    graceful TLS shutdown when the connector closes (``0``: abort TLS connections at once).
    The remaining arguments are those of ``BaseConnector``.
    """

    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET | frozenset({"tcp"})

    def __init__(
        self,
        *,
        ssl: SSLParam = True,
        verify_ssl: bool = True,
        fingerprint: bytes | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        family: socket.AddressFamily | int = 0,
        ssl_context: ssl.SSLContext | None = None,
        local_addr: tuple[str, int] | None = None,
        resolver: AbstractResolver | None = None,
        keepalive_timeout: float | Sentinel | None = sentinel,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        socket_factory: SocketFactoryType | None = None,
        ssl_shutdown_timeout: float | Sentinel = sentinel,
    ) -> None:
        # Before the pool exists: a refused argument must not leave a connector behind.
        self._ssl = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._resolver: AbstractResolver | None = resolver
        self._resolver_owner = resolver is None
        self._use_dns_cache = use_dns_cache
        self._cached_hosts = DNSCache(ttl=ttl_dns_cache)
        self._resolve_tasks: dict[HostKey, asyncio.Task[list[ResolveResult]]] = {}
        self._family = family
        self._local_addr_infos = _local_addr_infos(local_addr)
        self._happy_eyeballs_delay = happy_eyeballs_delay
        if interleave is None:
            interleave = 1 if happy_eyeballs_delay is not None else 0
        self._interleave = interleave
        self._socket_factory = socket_factory
        if ssl_shutdown_timeout is sentinel:
            self._ssl_shutdown_timeout = 0.0
        else:
            warnings.warn(
                "ssl_shutdown_timeout is deprecated and will be removed in aiohttp 4.0",
                DeprecationWarning,
                stacklevel=2,
            )
            self._ssl_shutdown_timeout = ssl_shutdown_timeout

    # -- public properties -----------------------------------------------------------------

    @property
    def family(self) -> int:
        """The address family connections use (``0``: any)."""
        return self._family

    @property
    def dns_cache(self) -> bool:
        """Whether resolved hosts are cached."""
        return self._use_dns_cache

    @property
    def cached_hosts(self) -> Mapping[HostKey, list[ResolveResult]]:
        """A read-only view of the DNS cache: ``(host, port)`` -> addresses."""
        return self._cached_hosts.view

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget the cached addresses of ``(host, port)``, or of every host when neither is
        given (``ValueError`` if only one is)."""
        if host is not None and port is not None:
            self._cached_hosts.remove((host, port))
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._cached_hosts.clear()

    def _prepare_request(self, request: ClientRequest, key: ConnectionKey) -> None:
        if request.proxy is not None and not key.is_ssl:
            # Forwarded requests carry the proxy's headers themselves, pooled connection or not.
            apply_forward_proxy_headers(request)

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close the connections, cancel lookups in progress and close the resolver the
        connector created."""
        for task in self._resolve_tasks.values():
            task.cancel()
        self._resolve_tasks.clear()
        try:
            await super().close(abort_ssl=abort_ssl)
        finally:
            resolver = self._resolver
            if resolver is not None and self._resolver_owner:
                self._resolver = None
                await resolver.close()

    def _shutdown_protocol(self, proto: ResponseHandler, abort_ssl: bool) -> None:
        transport = proto.transport
        is_tls = transport is not None and transport.get_extra_info("sslcontext") is not None
        if is_tls and (abort_ssl or not self._ssl_shutdown_timeout):
            proto.abort()
        else:
            proto.close()

    # -- resolving -------------------------------------------------------------------------

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[TraceLike] | None = None
    ) -> list[ResolveResult]:
        """The addresses of ``host``; concurrent lookups of one host share one query.

        Subclasses may override it to check or rewrite the addresses (the cookbook's
        ``SSRFConnector``); ``traces`` may be ``None`` there, as in aiohttp.
        """
        if traces is None:
            traces = ()
        family = _ip_family(host)
        if family is not None:
            return [
                ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
            ]
        if not self._use_dns_cache:
            for trace in traces:
                await trace.send_dns_resolvehost_start(host)
            addrs = await self._lookup(host, port)
            for trace in traces:
                await trace.send_dns_resolvehost_end(host)
            return addrs

        key = (host, port)
        cache = self._cached_hosts
        if key in cache and not cache.expired(key):
            for trace in traces:
                await trace.send_dns_cache_hit(host)
            return cache.next_addrs(key)
        for trace in traces:
            await trace.send_dns_cache_miss(host)
        task = self._resolve_tasks.get(key)
        started = task is None
        if task is None:
            for trace in traces:
                await trace.send_dns_resolvehost_start(host)
            task = self._resolve_tasks.get(key)  # another caller may have started meanwhile
            if task is None:
                task = self._loop.create_task(self._lookup_and_cache(key))
                self._resolve_tasks[key] = task
                task.add_done_callback(functools.partial(self._lookup_done, key))
        # Shielded: one caller giving up must not cancel the lookup the others wait for.
        addrs = await asyncio.shield(task)
        if started:
            for trace in traces:
                await trace.send_dns_resolvehost_end(host)
        return cache.next_addrs(key) if key in cache else addrs

    async def _lookup(self, host: str, port: int) -> list[ResolveResult]:
        resolver = self._resolver
        if resolver is None:
            # Created on first use: connectors that only see IP literals need no resolver.
            resolver = self._resolver = DefaultResolver(loop=self._loop)
        return await resolver.resolve(host, port, family=socket.AddressFamily(self._family))

    async def _lookup_and_cache(self, key: HostKey) -> list[ResolveResult]:
        addrs = await self._lookup(*key)
        self._cached_hosts.add(key, addrs)
        return addrs

    def _lookup_done(self, key: HostKey, task: asyncio.Task[list[ResolveResult]]) -> None:
        if self._resolve_tasks.get(key) is task:
            del self._resolve_tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved here when every waiter gave up

    # -- connecting ------------------------------------------------------------------------

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: Sequence[TraceLike],
        timeout: ClientTimeout | None,
    ) -> ResponseHandler:
        if req.proxy is not None:
            return await self._create_proxy_connection(req, traces, timeout)
        key = req.connection_key
        sslcontext = ssl_context_for(req.ssl, self._ssl, key.is_ssl)
        host = req.host
        if host.endswith(".."):
            host = host.rstrip(".") + "."
        server_hostname = None
        fingerprint = None
        if sslcontext is not None:
            # SNI and certificate names never end with a dot.
            server_hostname = (req.server_hostname or host).rstrip(".")
            fingerprint = fingerprint_for(req.ssl, self._ssl)
        port = req.port if req.port is not None else (443 if key.is_ssl else 80)
        return await self._open(
            host, port, key, sslcontext, server_hostname, fingerprint, traces, timeout
        )

    async def _open(
        self,
        host: str,
        port: int,
        key: ConnectionKey,
        sslcontext: ssl.SSLContext | None,
        server_hostname: str | None,
        fingerprint: Fingerprint | None,
        traces: Sequence[TraceLike],
        timeout: ClientTimeout | None,
        client_error: type[ClientConnectorError] = ClientConnectorError,
    ) -> ResponseHandler:
        """Resolve, connect, handshake and check the pin; errors become client errors."""
        try:
            addrs = await self._resolve_host(host, port, traces)
        except OSError as exc:
            if exc.errno is None and isinstance(exc, TimeoutError):
                raise
            raise ClientConnectorDNSError(key, exc) from exc
        addr_infos = [
            addrinfo_from_host(a["family"], a["proto"], a["host"], a["port"]) for a in addrs
        ]
        sock_connect = timeout.sock_connect if timeout is not None else None
        threshold = timeout.ceil_threshold if timeout is not None else _NO_TIMEOUT_THRESHOLD
        kwargs: dict[str, Any] = {}
        if sslcontext is not None:
            kwargs["ssl"] = sslcontext
            kwargs["server_hostname"] = server_hostname
            if timeout is not None and timeout.total:
                kwargs["ssl_handshake_timeout"] = timeout.total
            if self._ssl_shutdown_timeout:
                kwargs["ssl_shutdown_timeout"] = self._ssl_shutdown_timeout
        try:
            async with ceil_timeout(sock_connect, threshold):
                sock = await start_connection(
                    addr_infos,
                    happy_eyeballs_delay=self._happy_eyeballs_delay,
                    interleave=self._interleave,
                    local_addr_infos=self._local_addr_infos,
                    socket_factory=self._socket_factory,
                    loop=self._loop,
                )
                try:
                    transport, proto = await self._loop.create_connection(
                        self._factory, sock=sock, **kwargs
                    )
                except BaseException:
                    sock.close()
                    raise
        except OSError as exc:
            raise _connect_error(exc, key, client_error) from exc
        if fingerprint is not None:
            try:
                fingerprint.check(transport)
            except BaseException:
                proto.abort()
                raise
        return proto

    async def _create_proxy_connection(
        self,
        req: ClientRequest,
        traces: Sequence[TraceLike],
        timeout: ClientTimeout | None,
    ) -> ResponseHandler:
        proxy = req.proxy
        assert proxy is not None
        proxy_host = proxy.raw_host
        if proxy_host is None:
            raise ValueError(f"Proxy URL has no host: {proxy}")
        proxy_tls = proxy.scheme == "https"
        proxy_port = proxy.port if proxy.port is not None else (443 if proxy_tls else 80)
        proxy_key = ConnectionKey(proxy_host, proxy_port, proxy_tls, True, None, None, None)
        proxy_ssl = ssl_context_for(True, self._ssl, proxy_tls)
        proto = await self._open(
            proxy_host,
            proxy_port,
            proxy_key,
            proxy_ssl,
            proxy_host.rstrip(".") if proxy_ssl is not None else None,
            None,
            traces,
            timeout,
            client_error=ClientProxyConnectionError,
        )
        key = req.connection_key
        if not key.is_ssl:
            return proto  # a forward proxy: the request itself goes to the proxy
        try:
            await open_tunnel(proto, req, timeout)
            return await self._start_tls_in_tunnel(proto, req, key, timeout)
        except BaseException:
            proto.abort()
            raise

    async def _start_tls_in_tunnel(
        self,
        proto: ResponseHandler,
        req: ClientRequest,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
    ) -> ResponseHandler:
        """TLS with the target over the tunnel ``proto`` leads to; returns the protocol that
        now owns the connection."""
        sslcontext = ssl_context_for(req.ssl, self._ssl, True)
        assert sslcontext is not None
        server_hostname = (req.server_hostname or req.host).rstrip(".")
        raw_transport = proto.transport
        if raw_transport is None:
            raise ClientConnectionError("The proxy closed the tunnel")
        tls_proto = self._factory()
        sock_connect = timeout.sock_connect if timeout is not None else None
        threshold = timeout.ceil_threshold if timeout is not None else _NO_TIMEOUT_THRESHOLD
        kwargs: dict[str, Any] = {"server_hostname": server_hostname}
        if timeout is not None and timeout.total:
            kwargs["ssl_handshake_timeout"] = timeout.total
        try:
            async with ceil_timeout(sock_connect, threshold):
                tls_transport = await self._loop.start_tls(
                    raw_transport, tls_proto, sslcontext, **kwargs
                )
        except OSError as exc:
            raise _connect_error(exc, key, ClientConnectorError) from exc
        if tls_transport is None:  # pragma: no cover - only if the loop closed meanwhile
            raise ClientConnectionError("TLS over the proxy tunnel failed")
        tls_proto.connection_made(tls_transport)
        fingerprint = fingerprint_for(req.ssl, self._ssl)
        if fingerprint is not None:
            try:
                fingerprint.check(tls_transport)
            except BaseException:
                tls_proto.abort()
                raise
        return tls_proto


class UnixConnector(BaseConnector):
    """Connects to an HTTP server listening on the Unix domain socket ``path``; the URL's
    host only fills the ``Host`` header. Other arguments are those of ``BaseConnector``
    (``conn_timeout`` is accepted for compatibility; use ``ClientTimeout`` instead)."""

    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET | frozenset({"unix"})

    def __init__(
        self,
        path: str,
        *,
        conn_timeout: float | None = None,
        keepalive_timeout: float | Sentinel | None = sentinel,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if conn_timeout is not None:
            warnings.warn(
                "conn_timeout is deprecated, use ClientTimeout(sock_connect=...)",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._path = path

    @property
    def path(self) -> str:
        """The path of the Unix socket."""
        return self._path

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: Sequence[TraceLike],
        timeout: ClientTimeout | None,
    ) -> ResponseHandler:
        key = req.connection_key
        sock_connect = timeout.sock_connect if timeout is not None else None
        threshold = timeout.ceil_threshold if timeout is not None else _NO_TIMEOUT_THRESHOLD
        try:
            async with ceil_timeout(sock_connect, threshold):
                _, proto = await self._loop.create_unix_connection(self._factory, self._path)
        except OSError as exc:
            if exc.errno is None and isinstance(exc, TimeoutError):
                raise ConnectionTimeoutError(
                    f"Connection timeout to unix socket {self._path}"
                ) from exc
            raise UnixClientConnectorError(self._path, key, exc) from exc
        return proto


class NamedPipeConnector(BaseConnector):
    """Connects through the Windows named pipe ``path`` (needs the proactor event loop;
    ``RuntimeError`` elsewhere)."""

    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET | frozenset({"npipe"})

    def __init__(
        self,
        path: str,
        *,
        keepalive_timeout: float | Sentinel | None = sentinel,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        running = loop if loop is not None else asyncio.get_running_loop()
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is None or not isinstance(running, proactor):
            raise RuntimeError(
                "Named Pipes are only available in the proactor event loop under Windows"
            )
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=running,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._path = path

    @property
    def path(self) -> str:
        """The path of the named pipe."""
        return self._path

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: Sequence[TraceLike],
        timeout: ClientTimeout | None,
    ) -> ResponseHandler:  # pragma: no cover - Windows only
        key = req.connection_key
        sock_connect = timeout.sock_connect if timeout is not None else None
        threshold = timeout.ceil_threshold if timeout is not None else _NO_TIMEOUT_THRESHOLD
        try:
            async with ceil_timeout(sock_connect, threshold):
                create: Any = self._loop.create_pipe_connection  # type: ignore[attr-defined]
                _, proto = await create(self._factory, self._path)
                # The proactor calls connection_made a loop iteration later.
                await asyncio.sleep(0)
        except OSError as exc:
            if exc.errno is None and isinstance(exc, TimeoutError):
                raise ConnectionTimeoutError(
                    f"Connection timeout to named pipe {self._path}"
                ) from exc
            raise ClientConnectorError(key, exc) from exc
        result: ResponseHandler = proto
        return result
