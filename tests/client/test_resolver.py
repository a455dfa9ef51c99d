"""Tests for aiohyper.client._resolver (no query leaves the machine: names come from /etc/hosts,
numeric literals, stubs, or a DNS server address on 127.0.0.1 that answers nothing)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import pytest

from aiohyper.client import _resolver
from aiohyper.client._resolver import AsyncResolver, DefaultResolver, ThreadedResolver

aiodns = pytest.importorskip("aiodns")

KEYS = {"hostname", "host", "port", "family", "proto", "flags"}


async def test_threaded_resolves_localhost() -> None:
    resolver = ThreadedResolver()
    hosts = await resolver.resolve("localhost", 8080, family=socket.AF_INET)
    assert hosts
    for entry in hosts:
        assert set(entry) == KEYS
        assert entry["hostname"] == "localhost"
        assert entry["port"] == 8080
        assert entry["family"] == socket.AF_INET
        assert entry["flags"] & socket.AI_NUMERICHOST
    assert "127.0.0.1" in {entry["host"] for entry in hosts}
    await resolver.close()


async def test_threaded_resolves_literal() -> None:
    hosts = await ThreadedResolver().resolve("127.0.0.5", 1, family=socket.AF_UNSPEC)
    assert [(h["host"], h["port"]) for h in hosts] == [("127.0.0.5", 1)]


class StubLoop:
    """Answers getaddrinfo/getnameinfo from canned data."""

    def __init__(self, infos: Any = None, error: BaseException | None = None) -> None:
        self.infos = infos
        self.error = error
        self.nameinfo_calls: list[Any] = []

    async def getaddrinfo(self, host: str, port: int, **kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        return self.infos

    async def getnameinfo(self, sockaddr: Any, flags: int) -> tuple[str, str]:
        self.nameinfo_calls.append((sockaddr, flags))
        return f"{sockaddr[0]}%eth0", str(sockaddr[1])


async def test_threaded_error_is_oserror() -> None:
    loop: Any = StubLoop(error=socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(OSError) as info:
        await ThreadedResolver(loop).resolve("nowhere.test", 80)
    assert info.value.errno == socket.EAI_NONAME


async def test_threaded_no_result_is_oserror() -> None:
    loop: Any = StubLoop(infos=[])
    with pytest.raises(OSError, match="DNS lookup failed"):
        await ThreadedResolver(loop).resolve("nowhere.test", 80)


async def test_threaded_scoped_ipv6() -> None:
    loop: Any = StubLoop(
        infos=[
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1", 80, 0, 3)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::1", 80, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 80)),
        ]
    )
    hosts = await ThreadedResolver(loop).resolve("dual.test", 80, family=socket.AF_UNSPEC)
    assert [h["host"] for h in hosts] == ["fe80::1%eth0", "2001:db8::1", "192.0.2.1"]
    assert [h["family"] for h in hosts] == [socket.AF_INET6, socket.AF_INET6, socket.AF_INET]
    assert loop.nameinfo_calls == [
        (("fe80::1", 80, 0, 3), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    ]


def test_default_resolver_is_async_with_aiodns() -> None:
    assert DefaultResolver is AsyncResolver


async def test_async_resolves_localhost() -> None:
    resolver = AsyncResolver()
    try:
        hosts = await resolver.resolve("localhost", 80, family=socket.AF_INET)
    finally:
        await resolver.close()
    assert [(h["host"], h["port"], h["family"]) for h in hosts] == [
        ("127.0.0.1", 80, socket.AF_INET)
    ]
    assert set(hosts[0]) == KEYS


async def test_async_error_is_oserror() -> None:
    # A DNS server address where nothing listens: the query is refused at once.
    resolver = AsyncResolver(nameservers=["127.0.0.1:9"], timeout=0.2, tries=1)
    try:
        with pytest.raises(OSError) as info:
            await resolver.resolve("nowhere.test", 80)
    finally:
        await resolver.close()
    assert not isinstance(info.value, aiodns.error.DNSError)
    assert isinstance(info.value.__cause__, aiodns.error.DNSError)
    assert "nowhere.test" in str(info.value)


async def test_async_resolvers_share_a_channel() -> None:
    first, second = AsyncResolver(), AsyncResolver()
    assert first._resolver is second._resolver
    own = AsyncResolver(nameservers=["127.0.0.1:9"])
    assert own._resolver is not first._resolver
    await own.close()
    await first.close()
    # The other user keeps a working channel.
    hosts = await second.resolve("localhost", 80, family=socket.AF_INET)
    assert hosts[0]["host"] == "127.0.0.1"
    await second.close()
    await second.close()  # idempotent
    third = AsyncResolver()
    assert third._resolver is not second._resolver  # the closed channel is not reused
    await third.close()


@dataclass
class Node:
    family: int
    protocol: int
    addr: tuple[Any, ...]


@dataclass
class Result:
    nodes: list[Node]


class StubChannel:
    def __init__(self, result: Result) -> None:
        self.result = result

    async def getaddrinfo(self, host: str, **kwargs: Any) -> Result:
        return self.result

    async def getnameinfo(self, sockaddr: Any, flags: int) -> Any:
        @dataclass
        class Info:
            node: str
            service: str

        return Info(f"{sockaddr[0]}%lo", str(sockaddr[1]))

    async def close(self) -> None:
        pass


async def test_async_scoped_ipv6_and_bytes_addresses() -> None:
    resolver = AsyncResolver(nameservers=["127.0.0.1:9"])
    await resolver.close()
    resolver._resolver = StubChannel(  # type: ignore[assignment]
        Result(
            [
                Node(socket.AF_INET6, 6, (b"fe80::1", 443, 0, 1)),
                Node(socket.AF_INET, 6, (b"192.0.2.7", 443)),
            ]
        )
    )
    hosts = await resolver.resolve("x.test", 443, family=socket.AF_UNSPEC)
    assert [(h["host"], h["port"], h["proto"]) for h in hosts] == [
        ("fe80::1%lo", 443, 6),
        ("192.0.2.7", 443, 6),
    ]
    resolver._resolver = StubChannel(Result([]))  # type: ignore[assignment]
    with pytest.raises(OSError, match="DNS lookup failed"):
        await resolver.resolve("x.test", 443)


async def test_async_resolver_without_aiodns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_resolver, "_AIODNS_OK", False)
    with pytest.raises(RuntimeError, match="aiodns"):
        AsyncResolver()


async def test_resolvers_accept_explicit_loop() -> None:
    loop = asyncio.get_running_loop()
    resolver = ThreadedResolver(loop)
    assert (await resolver.resolve("127.0.0.1", 5))[0]["port"] == 5
