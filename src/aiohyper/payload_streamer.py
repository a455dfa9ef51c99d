"""The deprecated ``@streamer`` decorator (``aiohttp.streamer``).

Before async generators, a body producer was written as a coroutine that takes the writer::

    @aiohyper.streamer
    async def file_sender(writer, file_name=None):
        with open(file_name, "rb") as f:
            chunk = f.read(2**16)
            while chunk:
                await writer.write(chunk)
                chunk = f.read(2**16)

    await session.post(url, data=file_sender(file_name="huge_file"))

Calling the decorated function binds its arguments; the result is turned into a payload that
awaits the coroutine with the writer when the body is sent. New code should pass an async
generator as ``data`` instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from ._http._writer import AbstractStreamWriter
from .payload import Payload, payload_type

__all__ = ("streamer",)

_Producer = Callable[..., Awaitable[None]]


class _stream_wrapper:
    """A producer coroutine function with its arguments bound, waiting for a writer."""

    __slots__ = ("args", "coro", "kwargs")

    def __init__(self, coro: _Producer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.coro = coro
        self.args = args
        self.kwargs = kwargs

    async def __call__(self, writer: AbstractStreamWriter) -> None:
        await self.coro(writer, *self.args, **self.kwargs)


class streamer:
    """Deprecated decorator making a ``coro(writer, *args, **kwargs)`` usable as a body."""

    __slots__ = ("coro",)

    def __init__(self, coro: _Producer) -> None:
        warnings.warn(
            "@streamer is deprecated, use async generators instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self.coro = coro

    def __call__(self, *args: Any, **kwargs: Any) -> _stream_wrapper:
        return _stream_wrapper(self.coro, args, kwargs)


@payload_type(_stream_wrapper)
class StreamWrapperPayload(Payload):
    """Sends a bound producer: the body is whatever it writes. It can be sent once."""

    __slots__ = ()

    _value: _stream_wrapper

    async def write(self, writer: AbstractStreamWriter) -> None:
        if self._consumed:
            raise RuntimeError("a @streamer body can be sent once")
        self._consumed = True
        await self._value(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode a @streamer body")


@payload_type(streamer)
class StreamPayload(StreamWrapperPayload):
    """A decorated producer passed without calling it: called with no arguments."""

    __slots__ = ()

    def __init__(self, value: streamer, *args: Any, **kwargs: Any) -> None:
        super().__init__(value(), *args, **kwargs)
