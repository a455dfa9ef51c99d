"""Host name resolvers for the client connector (``aiohttp.ThreadedResolver`` & co.).

`ThreadedResolver` asks the system (``getaddrinfo`` in the loop's thread pool); `AsyncResolver`
asks DNS servers directly through c-ares (:term:`aiodns`), without threads. `DefaultResolver` is
`AsyncResolver` when a usable aiodns (3.2 or later: it has ``getaddrinfo``) is installed, else
`ThreadedResolver`. Both return ``ResolveResult`` dicts and raise ``OSError`` for a name that
cannot be resolved.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from typing import TYPE_CHECKING, Any, Final

from ..abc import AbstractResolver, ResolveResult

if TYPE_CHECKING:
    import aiodns

try:
    import aiodns as _aiodns

    _AIODNS_OK = hasattr(_aiodns.DNSResolver, "getaddrinfo")
except ImportError:  # pragma: no cover - aiodns is an optional extra
    _aiodns = None  # type: ignore[assignment]
    _AIODNS_OK = False

__all__ = ("AsyncResolver", "DefaultResolver", "ThreadedResolver")

# Results are addresses, so the connector can connect without another lookup.
_NUMERIC_FLAGS: Final = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_NAMEINFO_FLAGS: Final = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV


class ThreadedResolver(AbstractResolver):
    """Resolves with the system resolver (``loop.getaddrinfo``, run in the default executor).

    It honours ``/etc/hosts``, ``nsswitch.conf`` and the rest of the system's configuration.
    """

    __slots__ = ("_loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop if loop is not None else asyncio.get_running_loop()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await self._loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        hosts: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            address: tuple[Any, ...] = sockaddr
            if fam == socket.AF_INET6:
                if len(address) < 3:
                    # Python built without IPv6 support: such an address cannot be used.
                    continue
                if address[3]:
                    # A scoped (link-local) address: keep the zone as "addr%iface", which
                    # only getnameinfo spells out.
                    node, service = await self._loop.getnameinfo(
                        (address[0].partition("%")[0], address[1], address[2], address[3]),
                        _NAMEINFO_FLAGS,
                    )
                    address = (node, int(service))
            resolved: str = address[0]
            resolved_port = int(address[1])
            hosts.append(
                ResolveResult(
                    hostname=host,
                    host=resolved,
                    port=resolved_port,
                    family=fam,
                    proto=proto,
                    flags=_NUMERIC_FLAGS,
                )
            )
        if not hosts:
            raise OSError(None, f"DNS lookup failed for {host!r}: no usable address")
        return hosts

    async def close(self) -> None:
        """Nothing to release: the executor belongs to the loop."""


class AsyncResolver(AbstractResolver):
    """Resolves through c-ares (``aiodns.DNSResolver``), without a thread per lookup.

    ``args`` and ``kwargs`` go to ``aiodns.DNSResolver`` (``nameservers=[...]``,
    ``timeout=``, ``tries=``...). Raises ``RuntimeError`` if aiodns 3.2+ is not installed.
    """

    __slots__ = ("_closed", "_loop", "_resolver", "_shared")

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, *args: Any, **kwargs: Any
    ) -> None:
        if _aiodns is None or not _AIODNS_OK:
            raise RuntimeError("AsyncResolver requires the aiodns library (3.2 or later)")
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._closed = False
        # A c-ares channel runs a thread: resolvers without their own settings share one per loop.
        self._shared = not args and not kwargs
        self._resolver: aiodns.DNSResolver
        if self._shared:
            self._resolver = _shared_channels.acquire(self._loop)
        else:
            kwargs.setdefault("loop", self._loop)
            self._resolver = _aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            result = await self._resolver.getaddrinfo(
                host,
                port=port,
                type=socket.SOCK_STREAM,
                family=family,
                flags=socket.AI_ADDRCONFIG,
            )
        except _aiodns.error.DNSError as exc:
            msg = exc.args[1] if len(exc.args) > 1 else "DNS lookup failed"
            raise OSError(None, f"{msg} ({host!r})") from exc
        hosts: list[ResolveResult] = []
        for node in result.nodes:
            address: tuple[Any, ...] = node.addr
            fam = node.family
            ip = address[0]
            if isinstance(ip, bytes):
                ip = ip.decode("ascii")
            resolved_port = int(address[1])
            if fam == socket.AF_INET6 and len(address) > 3 and address[3]:
                resolved = await self._scoped_host(ip, resolved_port, address)
            else:
                resolved = ip
            hosts.append(
                ResolveResult(
                    hostname=host,
                    host=resolved,
                    port=resolved_port,
                    family=fam,
                    proto=node.protocol,
                    flags=_NUMERIC_FLAGS,
                )
            )
        if not hosts:
            raise OSError(None, f"DNS lookup failed for {host!r}: no usable address")
        return hosts

    async def _scoped_host(self, ip: str, port: int, address: tuple[Any, ...]) -> str:
        """``ip%zone`` for a link-local IPv6 address, as c-ares' getnameinfo spells it."""
        import pycares

        flags = pycares.ARES_NI_NUMERICHOST | pycares.ARES_NI_NUMERICSERV
        try:
            info = await self._resolver.getnameinfo((ip, port, address[2], address[3]), flags)
        except _aiodns.error.DNSError as exc:
            msg = exc.args[1] if len(exc.args) > 1 else "DNS lookup failed"
            raise OSError(None, msg) from exc
        node: str = info.node
        return node

    async def close(self) -> None:
        """Release the c-ares channel (a shared one when its last user closes); pending lookups
        fail."""
        if self._closed:
            return
        self._closed = True
        if self._shared and not _shared_channels.release(self._loop):
            return
        await _close_channel(self._resolver)


async def _close_channel(resolver: aiodns.DNSResolver) -> None:
    close = getattr(resolver, "close", None)
    if close is not None:
        await close()
    else:  # pragma: no cover - aiodns before 3.3
        resolver.cancel()


class _SharedChannels:
    """One reference-counted ``aiodns.DNSResolver`` per event loop."""

    __slots__ = ("_channels",)

    def __init__(self) -> None:
        self._channels: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, list[Any]  # [resolver, users]
        ] = weakref.WeakKeyDictionary()

    def acquire(self, loop: asyncio.AbstractEventLoop) -> aiodns.DNSResolver:
        entry = self._channels.get(loop)
        if entry is None:
            entry = self._channels[loop] = [_aiodns.DNSResolver(loop=loop), 0]
        entry[1] += 1
        resolver: aiodns.DNSResolver = entry[0]
        return resolver

    def release(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Drop one user; True when it was the last (the caller then closes the channel)."""
        entry = self._channels.get(loop)
        if entry is None:  # pragma: no cover - released more often than acquired
            return False
        entry[1] -= 1
        if entry[1] > 0:
            return False
        del self._channels[loop]
        return True


_shared_channels: Final = _SharedChannels()


#: The resolver a `TCPConnector` creates when none is given.
DefaultResolver: type[AsyncResolver] | type[ThreadedResolver] = (
    AsyncResolver if _AIODNS_OK else ThreadedResolver
)
