"""Connecting to the first reachable of several addresses: Happy Eyeballs (RFC 8305).

`start_connection` tries the resolved addresses of a host in turn, starting the next attempt
when the previous one fails or has not succeeded within ``happy_eyeballs_delay`` seconds, and
returns the first connected socket; the slower attempts are cancelled and their sockets closed.
With ``interleave`` the addresses alternate between families (IPv6, IPv4, IPv6, ...), so a host
whose IPv6 is broken costs one delay, not one timeout per IPv6 address.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from typing import Any

__all__ = (
    "AddrInfoType",
    "SocketFactoryType",
    "addrinfo_from_host",
    "interleave_addrinfos",
    "start_connection",
)

#: One ``socket.getaddrinfo`` entry: ``(family, type, proto, canonname, sockaddr)``.
AddrInfoType = tuple[
    int | socket.AddressFamily,
    int | socket.SocketKind,
    int,
    str,
    tuple[str, int] | tuple[str, int, int, int],
]
#: Makes the (not yet connected) socket for an address, in lieu of ``socket.socket``.
SocketFactoryType = Callable[[AddrInfoType], socket.socket]


def interleave_addrinfos(
    addr_infos: Sequence[AddrInfoType], first_family_count: int = 1
) -> list[AddrInfoType]:
    """Reorder so that address families alternate (RFC 8305 §4): ``first_family_count``
    addresses of the first family, then one of each family in turn."""
    by_family: dict[int, list[AddrInfoType]] = {}
    for info in addr_infos:
        by_family.setdefault(info[0], []).append(info)
    queues = list(by_family.values())
    if len(queues) < 2:
        return list(addr_infos)
    result: list[AddrInfoType] = []
    first = queues[0]
    if first_family_count > 1:
        result.extend(first[: first_family_count - 1])
        del first[: first_family_count - 1]
    while any(queues):
        result.extend(queue.pop(0) for queue in queues if queue)
    return result


def _default_socket(addr_info: AddrInfoType) -> socket.socket:
    family, type_, proto, _, _ = addr_info
    return socket.socket(family=family, type=type_, proto=proto)


async def _connect_one(
    loop: asyncio.AbstractEventLoop,
    addr_info: AddrInfoType,
    local_addr_infos: Sequence[AddrInfoType] | None,
    socket_factory: SocketFactoryType | None,
) -> socket.socket:
    sock = (socket_factory or _default_socket)(addr_info)
    try:
        sock.setblocking(False)
        if local_addr_infos is not None:
            _bind_local(sock, addr_info, local_addr_infos)
        await loop.sock_connect(sock, addr_info[4])
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_local(
    sock: socket.socket, addr_info: AddrInfoType, local_addr_infos: Sequence[AddrInfoType]
) -> None:
    error: OSError | None = None
    for local in local_addr_infos:
        if local[0] != addr_info[0]:
            continue
        try:
            sock.bind(local[4])
            return
        except OSError as exc:
            error = OSError(
                exc.errno, f"error while attempting to bind on address {local[4]!r}: {exc}"
            )
    raise error or OSError(f"no local address of the family of {addr_info[4]!r} to bind to")


def _close_result(task: asyncio.Task[socket.socket]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().close()


def _combined_error(errors: list[BaseException]) -> BaseException:
    if len(errors) == 1:
        return errors[0]
    messages = {str(exc) for exc in errors}
    if len(messages) == 1:
        return errors[0]
    errnos = {getattr(exc, "errno", None) for exc in errors}
    errno = errnos.pop() if len(errnos) == 1 else None
    text = "Multiple exceptions: " + ", ".join(str(exc) for exc in errors)
    return OSError(errno, text) if errno is not None else OSError(text)


async def start_connection(
    addr_infos: Sequence[AddrInfoType],
    *,
    happy_eyeballs_delay: float | None = None,
    interleave: int | None = None,
    local_addr_infos: Sequence[AddrInfoType] | None = None,
    socket_factory: SocketFactoryType | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> socket.socket:
    """Connect to the first of ``addr_infos`` that answers; return its non-blocking socket.

    ``happy_eyeballs_delay=None`` tries the addresses one after the other. Raises ``OSError``:
    the error of the only attempt, or one naming every attempt's error.
    """
    if not addr_infos:
        raise OSError("no address to connect to")
    if loop is None:
        loop = asyncio.get_running_loop()
    if interleave:
        addr_infos = interleave_addrinfos(addr_infos, interleave)
    errors: list[BaseException] = []
    pending: set[asyncio.Task[socket.socket]] = set()
    todo = iter(addr_infos)
    remaining = len(addr_infos)
    try:
        while True:
            if remaining:
                remaining -= 1
                info = next(todo)
                pending.add(
                    loop.create_task(_connect_one(loop, info, local_addr_infos, socket_factory))
                )
            if not pending:
                raise _combined_error(errors)
            # Wait for an outcome, or the delay after which the next address gets its turn.
            delay = happy_eyeballs_delay if remaining else None
            done, pending = await asyncio.wait(
                pending, timeout=delay, return_when=asyncio.FIRST_COMPLETED
            )
            winner: socket.socket | None = None
            for task in done:
                exc = task.exception()
                if exc is not None:
                    errors.append(exc)
                elif winner is None:
                    winner = task.result()
                else:
                    task.result().close()
            if winner is not None:
                return winner
    finally:
        for task in pending:
            task.cancel()
            # An attempt may have connected just as it was cancelled.
            task.add_done_callback(_close_result)


def addrinfo_from_host(
    family: int, proto: int, host: str, port: int
) -> tuple[int, int, int, str, Any]:
    """A ``getaddrinfo``-style entry for a resolved numeric address."""
    if family == socket.AF_INET6:
        return (family, socket.SOCK_STREAM, proto, "", (host, port, 0, 0))
    return (family, socket.SOCK_STREAM, proto, "", (host, port))
