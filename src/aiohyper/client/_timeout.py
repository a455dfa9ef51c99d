"""Client timeout settings (``aiohttp.ClientTimeout``, ``aiohttp.ClientWSTimeout``).

All values are seconds; ``None`` or ``0`` disables a check. Deadlines of ``ceil_threshold``
seconds or more are rounded up to a whole second of loop time (see ``helpers.ceil_timeout``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = (
    "DEFAULT_TIMEOUT",
    "DEFAULT_WS_CLIENT_TIMEOUT",
    "ClientTimeout",
    "ClientWSTimeout",
)


@dataclass(frozen=True, slots=True)
class ClientTimeout:
    """Timeouts of one request.

    ``total``: the whole operation (connection, sending, reading the body).
    ``connect``: getting a connection, new or from the pool (including waiting for a free one).
    ``sock_connect``: opening a new connection to the peer.
    ``sock_read``: the longest pause between two pieces of data from the peer.
    ``connect`` and ``sock_connect`` raise `ConnectionTimeoutError`, ``sock_read``
    `SocketTimeoutError`, ``total`` ``asyncio.TimeoutError``.
    """

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


@dataclass(frozen=True, slots=True)
class ClientWSTimeout:
    """Timeouts of a client WebSocket: ``ws_receive`` for a whole message to arrive,
    ``ws_close`` for the closing handshake."""

    ws_receive: float | None = None
    ws_close: float | None = None


#: Five minutes for a whole request, 30 seconds to open a connection.
DEFAULT_TIMEOUT: Final = ClientTimeout(total=5 * 60, sock_connect=30)

#: What ``ws_connect`` uses when given no timeout.
DEFAULT_WS_CLIENT_TIMEOUT: Final = ClientWSTimeout(ws_receive=None, ws_close=10.0)
