"""The connector's cache of resolved host names, with a time to live and round-robin order."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType

from ..abc import ResolveResult

__all__ = ("DNSCache",)

HostKey = tuple[str, int]


class DNSCache:
    """Addresses per ``(host, port)``.

    Entries older than ``ttl`` seconds are `expired` (``None``: never). Each `next_addrs`
    starts one address further into the list, so new connections spread over the addresses
    of a host.
    """

    __slots__ = ("_addrs", "_next", "_stamps", "_ttl")

    def __init__(self, ttl: float | None = None) -> None:
        self._addrs: dict[HostKey, list[ResolveResult]] = {}
        self._next: dict[HostKey, int] = {}
        self._stamps: dict[HostKey, float] = {}
        self._ttl = ttl

    def __contains__(self, key: object) -> bool:
        return key in self._addrs

    def add(self, key: HostKey, addrs: list[ResolveResult]) -> None:
        self._addrs[key] = addrs
        self._next[key] = 0
        if self._ttl is not None:
            self._stamps[key] = time.monotonic()

    def remove(self, key: HostKey) -> None:
        self._addrs.pop(key, None)
        self._next.pop(key, None)
        self._stamps.pop(key, None)

    def clear(self) -> None:
        self._addrs.clear()
        self._next.clear()
        self._stamps.clear()

    def next_addrs(self, key: HostKey) -> list[ResolveResult]:
        """The addresses of ``key``, rotated by one more place than last time."""
        addrs = self._addrs[key]
        start = self._next[key]
        self._next[key] = (start + 1) % len(addrs) if addrs else 0
        return addrs[start:] + addrs[:start] if start else list(addrs)

    def expired(self, key: HostKey) -> bool:
        if self._ttl is None:
            return False
        return self._stamps[key] + self._ttl < time.monotonic()

    @property
    def view(self) -> Mapping[HostKey, list[ResolveResult]]:
        """A read-only view of the entries (``TCPConnector.cached_hosts``)."""
        return MappingProxyType(self._addrs)
