"""Timeouts that cancel the work they guard and surface as ``TimeoutError``.

Deadlines of ``ceil_threshold`` seconds or more are rounded up to a whole second of loop time, so
that the many timers of a busy client or server expire together and wake the loop less often
(see the note under ``ClientWSTimeout`` in the client reference).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Final

from .log import internal_logger

__all__ = (
    "BaseTimerContext",
    "TimeoutHandle",
    "TimerContext",
    "TimerNoop",
    "calculate_timeout_when",
    "ceil_timeout",
)

DEFAULT_CEIL_THRESHOLD: Final = 5.0


def calculate_timeout_when(loop_time: float, timeout: float, ceil_threshold: float) -> float:
    """The loop time at which a ``timeout`` started at ``loop_time`` expires, rounded up to the
    next second when ``timeout >= ceil_threshold``."""
    when = loop_time + timeout
    if timeout >= ceil_threshold:
        return math.ceil(when)
    return when


def ceil_timeout(
    delay: float | None, ceil_threshold: float = DEFAULT_CEIL_THRESHOLD
) -> asyncio.Timeout:
    """``async with ceil_timeout(delay):`` an ``asyncio.timeout`` whose deadline is rounded as
    described above. ``None`` or a delay ``<= 0`` means no timeout. Needs a running loop."""
    if delay is None or delay <= 0:
        return asyncio.timeout(None)
    loop = asyncio.get_running_loop()
    return asyncio.timeout_at(calculate_timeout_when(loop.time(), delay, ceil_threshold))


class BaseTimerContext(AbstractContextManager["BaseTimerContext"]):
    """A context manager around a wait that may be interrupted by a timeout."""

    __slots__ = ()

    def assert_timeout(self) -> None:
        """Raise ``TimeoutError`` if the timeout has already fired."""


class TimerNoop(BaseTimerContext):
    """The timer used when no timeout is set: entering and leaving do nothing."""

    __slots__ = ()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        return None


class TimerContext(BaseTimerContext):
    """Cancels the tasks inside it when :meth:`timeout` is called, and turns that cancellation
    into ``TimeoutError`` as it leaves.

    It may be entered several times, nested or by several tasks. Once fired, entering it again
    raises ``TimeoutError`` at once. A cancellation that does not come from the timer (the
    task's ``cancelling()`` count is higher than on entry) propagates as ``CancelledError``.
    """

    __slots__ = ("_entries", "_fired", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # (task, task.cancelling() on entry) per active ``with``, innermost last.
        self._entries: list[tuple[asyncio.Task[Any], int]] = []
        self._fired = False

    def assert_timeout(self) -> None:
        if self._fired:
            raise TimeoutError from None

    def __enter__(self) -> BaseTimerContext:
        task = asyncio.current_task(loop=self._loop)
        if task is None:
            raise RuntimeError("TimerContext must be used inside a task")
        if self._fired:
            raise TimeoutError from None
        self._entries.append((task, task.cancelling()))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        task, cancelling = self._entries.pop()
        if exc_type is asyncio.CancelledError and self._fired:
            if task.uncancel() > cancelling:
                return None  # also cancelled from outside: let CancelledError through
            raise TimeoutError from exc_val
        return None

    def timeout(self) -> None:
        """Fire: cancel every task currently inside the context (each one once)."""
        if self._fired:
            return
        self._fired = True
        for task in {task for task, _ in self._entries}:
            task.cancel()


class TimeoutHandle:
    """One timeout shared by the phases of an operation (e.g. a whole client request).

    :meth:`start` schedules it; when it expires, the callbacks given to :meth:`register` run
    (typically ``TimerContext.timeout`` of the :meth:`timer` contexts handed out).
    """

    __slots__ = ("_callbacks", "_ceil_threshold", "_loop", "_timeout")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        timeout: float | None,
        ceil_threshold: float = DEFAULT_CEIL_THRESHOLD,
    ) -> None:
        self._timeout = timeout
        self._loop = loop
        self._ceil_threshold = ceil_threshold
        self._callbacks: list[tuple[Callable[..., None], tuple[Any, ...], dict[str, Any]]] = []

    def register(self, callback: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Call ``callback(*args, **kwargs)`` when the timeout expires."""
        self._callbacks.append((callback, args, kwargs))

    def close(self) -> None:
        """Forget all callbacks: an expiry after this does nothing."""
        self._callbacks.clear()

    def start(self) -> asyncio.TimerHandle | None:
        """Schedule the expiry; returns the handle (to cancel it) or ``None`` if no timeout."""
        timeout = self._timeout
        if timeout is None or timeout <= 0:
            return None
        when = calculate_timeout_when(self._loop.time(), timeout, self._ceil_threshold)
        return self._loop.call_at(when, self)

    def timer(self) -> BaseTimerContext:
        """A context that raises ``TimeoutError`` in its task when this timeout expires."""
        if self._timeout is None or self._timeout <= 0:
            return TimerNoop()
        timer = TimerContext(self._loop)
        self.register(timer.timeout)
        return timer

    def __call__(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback, args, kwargs in callbacks:
            try:
                callback(*args, **kwargs)
            except Exception:
                # A broken callback must not keep the other timers from firing.
                internal_logger.exception("Error in timeout callback %r", callback)
