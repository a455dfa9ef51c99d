"""Flow control shared by the client and server connection protocols.

`BaseProtocol` is the `asyncio.Protocol` base for one connection. It tracks the transport, pauses
and resumes reading on behalf of body streams (`aiohyper.streams.StreamReader` calls
`pause_reading` / `resume_reading` as its buffer crosses its water marks), and turns the
transport's write back-pressure (`pause_writing` / `resume_writing`) into an awaitable
`_drain_helper` for writers.
"""

from __future__ import annotations

import asyncio
import collections
from typing import cast

__all__ = ("BaseProtocol",)

# What a transport may raise from pause_reading()/resume_reading() when it is closing or does
# not support it (e.g. some TLS or third-party loop transports).
_TRANSPORT_FLOW_ERRORS = (AttributeError, NotImplementedError, RuntimeError)


class BaseProtocol(asyncio.Protocol):
    """One connection's transport plus read and write flow control."""

    __slots__ = (
        "_connection_lost",
        "_drain_waiters",
        "_loop",
        "_paused",
        "_reading_paused",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._paused = False  # writing paused by the transport
        self._reading_paused = False
        self._connection_lost = False
        self._drain_waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.transport: asyncio.Transport | None = None

    @property
    def writing_paused(self) -> bool:
        """True while the transport's write buffer is above its high-water mark."""
        return self._paused

    @property
    def connected(self) -> bool:
        """Same as `is_connected`, as a property."""
        return self.transport is not None

    def is_connected(self) -> bool:
        """True between `connection_made` and `connection_lost`."""
        return self.transport is not None

    # -- reading ---------------------------------------------------------------------------

    def pause_reading(self) -> None:
        """Stop reading from the transport (idempotent; a no-op without a transport)."""
        if not self._reading_paused and self.transport is not None:
            try:
                self.transport.pause_reading()
            except _TRANSPORT_FLOW_ERRORS:
                pass
            self._reading_paused = True

    def resume_reading(self) -> None:
        """Resume reading from the transport (idempotent)."""
        if self._reading_paused:
            if self.transport is not None:
                try:
                    self.transport.resume_reading()
                except _TRANSPORT_FLOW_ERRORS:
                    pass
            self._reading_paused = False

    # -- writing ---------------------------------------------------------------------------

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _drain_helper(self) -> None:
        """Wait until the transport accepts more data.

        Returns at once unless writing is paused. Raises `ConnectionResetError` if the
        connection is (or gets) lost, or the error the connection was lost with. Any number of
        writers may wait at the same time.
        """
        if self._connection_lost:
            raise ConnectionResetError("Connection lost")
        if not self._paused:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            self._drain_waiters.remove(waiter)

    # -- connection lifecycle --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connection_lost = True
        self.transport = None
        # Nothing can be paused on a transport that is gone.
        self._reading_paused = False
        if self._drain_waiters:
            err = exc if exc is not None else ConnectionResetError("Connection lost")
            for waiter in self._drain_waiters:
                if not waiter.done():
                    waiter.set_exception(err)
