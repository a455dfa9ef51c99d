"""Tests for aiohyper.client._deadlines: total timeouts sharing loop timers."""

from __future__ import annotations

import asyncio

import pytest

from aiohyper.client._deadlines import Deadlines


async def test_no_deadline_without_a_positive_timeout() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    assert deadlines.start(None, 5) is None
    assert deadlines.start(0, 5) is None
    assert deadlines.start(-1, 5) is None


async def test_rounded_deadlines_share_one_timer() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop)
    before = len(loop._scheduled)  # type: ignore[attr-defined]
    first = deadlines.start(300, 5)
    second = deadlines.start(300, 5)
    assert first is not None and second is not None
    assert first is not second and first.timer is not second.timer
    # Both rounded up to the same whole second: one loop timer for the two.
    assert len(loop._scheduled) == before + 1  # type: ignore[attr-defined]
    first.cancel()
    second.cancel()


async def test_expiry_times_out_the_tasks_inside() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    deadline = deadlines.start(0.01, 5)  # below the threshold: not rounded
    assert deadline is not None
    with pytest.raises(asyncio.TimeoutError), deadline.timer:
        await asyncio.sleep(1)


async def test_cancelled_deadline_does_not_fire() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    kept = deadlines.start(0.02, 5)
    dropped = deadlines.start(0.02, 5)
    assert kept is not None and dropped is not None
    dropped.cancel()
    dropped.cancel()  # idempotent

    async def inside(deadline_timer: object) -> str:
        with deadline_timer:  # type: ignore[attr-defined]
            await asyncio.sleep(0.1)
        return "done"

    kept_task = asyncio.ensure_future(inside(kept.timer))
    dropped_task = asyncio.ensure_future(inside(dropped.timer))
    with pytest.raises(asyncio.TimeoutError):
        await kept_task
    assert await dropped_task == "done"


async def test_a_broken_timer_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    broken = deadlines.start(0.01, 5)
    fine = deadlines.start(0.01, 5)
    assert broken is not None and fine is not None

    def explode() -> None:
        raise RuntimeError("boom")

    broken.timer.timeout = explode  # type: ignore[method-assign]
    with pytest.raises(asyncio.TimeoutError), fine.timer:
        await asyncio.sleep(1)
    assert "Error in timeout callback" in caplog.text
