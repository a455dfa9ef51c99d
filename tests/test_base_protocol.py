"""Tests for aiohyper.base_protocol.BaseProtocol."""

from __future__ import annotations

import asyncio
import socket

import pytest

from aiohyper.base_protocol import BaseProtocol


class FakeTransport:
    def __init__(self, error: type[BaseException] | None = None) -> None:
        self.calls: list[str] = []
        self.error = error

    def pause_reading(self) -> None:
        self.calls.append("pause")
        if self.error is not None:
            raise self.error("transport closing")

    def resume_reading(self) -> None:
        self.calls.append("resume")
        if self.error is not None:
            raise self.error("transport closing")


def make_protocol(transport: FakeTransport | None = None) -> BaseProtocol:
    proto = BaseProtocol(asyncio.get_running_loop())
    if transport is not None:
        proto.connection_made(transport)  # type: ignore[arg-type]
    return proto


async def test_initial_state() -> None:
    proto = make_protocol()
    assert proto.transport is None
    assert not proto.is_connected()
    assert not proto.connected
    assert not proto.writing_paused
    assert not proto._reading_paused
    assert not hasattr(proto, "__dict__")


async def test_connection_made_and_lost() -> None:
    transport = FakeTransport()
    proto = make_protocol(transport)
    assert proto.transport is transport
    assert proto.is_connected()
    assert proto.connected
    proto.connection_lost(None)
    assert proto.transport is None
    assert not proto.is_connected()


async def test_pause_resume_reading_idempotent() -> None:
    transport = FakeTransport()
    proto = make_protocol(transport)
    proto.resume_reading()  # not paused: nothing to do
    assert transport.calls == []
    proto.pause_reading()
    proto.pause_reading()
    assert proto._reading_paused
    assert transport.calls == ["pause"]
    proto.resume_reading()
    proto.resume_reading()
    assert not proto._reading_paused
    assert transport.calls == ["pause", "resume"]


async def test_pause_reading_without_transport() -> None:
    proto = make_protocol()
    proto.pause_reading()
    assert not proto._reading_paused
    proto.resume_reading()


@pytest.mark.parametrize("error", [RuntimeError, NotImplementedError, AttributeError])
async def test_reading_flow_errors_are_guarded(error: type[BaseException]) -> None:
    transport = FakeTransport(error)
    proto = make_protocol(transport)
    proto.pause_reading()
    assert proto._reading_paused
    proto.resume_reading()
    assert not proto._reading_paused
    assert transport.calls == ["pause", "resume"]


async def test_resume_reading_after_connection_lost() -> None:
    transport = FakeTransport()
    proto = make_protocol(transport)
    proto.pause_reading()
    proto.connection_lost(None)
    assert not proto._reading_paused
    proto.resume_reading()
    assert transport.calls == ["pause"]


async def test_drain_not_paused_returns_immediately() -> None:
    proto = make_protocol(FakeTransport())
    await asyncio.wait_for(proto._drain_helper(), 1)


async def test_drain_waits_until_resume_writing() -> None:
    proto = make_protocol(FakeTransport())
    proto.pause_writing()
    assert proto.writing_paused
    waiters = [asyncio.create_task(proto._drain_helper()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    proto.resume_writing()
    assert not proto.writing_paused
    await asyncio.wait_for(asyncio.gather(*waiters), 1)
    assert not proto._drain_waiters


async def test_drain_connection_lost_with_error() -> None:
    proto = make_protocol(FakeTransport())
    proto.pause_writing()
    waiters = [asyncio.create_task(proto._drain_helper()) for _ in range(2)]
    await asyncio.sleep(0)
    exc = OSError("broken pipe")
    proto.connection_lost(exc)
    for w in waiters:
        with pytest.raises(OSError, match="broken pipe"):
            await w


async def test_drain_connection_lost_without_error() -> None:
    proto = make_protocol(FakeTransport())
    proto.pause_writing()
    waiter = asyncio.create_task(proto._drain_helper())
    await asyncio.sleep(0)
    proto.connection_lost(None)
    with pytest.raises(ConnectionResetError, match="Connection lost"):
        await waiter


async def test_drain_after_connection_lost() -> None:
    proto = make_protocol(FakeTransport())
    proto.connection_lost(None)
    with pytest.raises(ConnectionResetError, match="Connection lost"):
        await proto._drain_helper()


async def test_cancelled_drain_waiter_is_removed() -> None:
    proto = make_protocol(FakeTransport())
    proto.pause_writing()
    cancelled = asyncio.create_task(proto._drain_helper())
    other = asyncio.create_task(proto._drain_helper())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert len(proto._drain_waiters) == 1
    proto.resume_writing()
    await asyncio.wait_for(other, 1)


async def test_real_transport_flow_control() -> None:
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    try:
        transport, proto = await loop.connect_accepted_socket(lambda: BaseProtocol(loop), a)
        assert proto.transport is transport
        assert proto.is_connected()
        proto.pause_reading()
        assert not transport.is_reading()
        proto.resume_reading()
        assert transport.is_reading()
        transport.close()
        for _ in range(100):
            if not proto.is_connected():
                break
            await asyncio.sleep(0.01)
        assert not proto.is_connected()
        # Pausing a closed connection is a no-op, not an error.
        proto.pause_reading()
        proto.resume_reading()
    finally:
        b.close()
