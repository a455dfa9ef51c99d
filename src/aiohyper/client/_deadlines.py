"""`Deadlines`: the ``total`` timeouts of a session's requests, sharing loop timers.

A ``total`` timeout of ``ceil_threshold`` seconds or more is rounded up to a whole second of
loop time (see ``helpers.calculate_timeout_when``), so the many requests a busy session starts
within one second all expire at the same instant. They share one ``loop.call_at`` timer here:
starting a request's timeout costs a set insertion instead of a timer-heap push, and stopping
it a set removal instead of a cancelled handle left in the heap.
"""

from __future__ import annotations

import asyncio
import math
from typing import Final

from ..helpers import TimerContext
from ..log import internal_logger

__all__ = ("Deadline", "Deadlines")


class Deadline:
    """One request's place in a shared expiry; `cancel` withdraws it (idempotent)."""

    __slots__ = ("_group", "timer")

    def __init__(self, group: set[Deadline], timer: TimerContext) -> None:
        self._group = group
        #: Fired (``timer.timeout()``) when the deadline passes.
        self.timer: Final = timer

    def cancel(self) -> None:
        self._group.discard(self)


class Deadlines:
    """Expiry times of one loop, each with the requests that end then."""

    __slots__ = ("_groups", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # Loop time -> the deadlines expiring then. An emptied group stays until its timer
        # fires (doing nothing): cancelling a timer costs more than letting it run.
        self._groups: dict[float, set[Deadline]] = {}

    def start(self, timeout: float | None, ceil_threshold: float) -> Deadline | None:
        """A deadline ``timeout`` seconds from now whose `Deadline.timer` times out the tasks
        inside it; ``None`` (no deadline) when ``timeout`` is ``None`` or not positive."""
        if timeout is None or timeout <= 0:
            return None
        loop = self._loop
        when = loop.time() + timeout
        if timeout >= ceil_threshold:  # as calculate_timeout_when() rounds
            when = math.ceil(when)
        group = self._groups.get(when)
        if group is None:
            group = self._groups[when] = set()
            loop.call_at(when, self._expire, when)
        deadline = Deadline(group, TimerContext(loop))
        group.add(deadline)
        return deadline

    def _expire(self, when: float) -> None:
        for deadline in list(self._groups.pop(when, ())):
            try:
                deadline.timer.timeout()
            except Exception:
                # One broken timer must not keep the others from firing.
                internal_logger.exception("Error in timeout callback %r", deadline.timer)
