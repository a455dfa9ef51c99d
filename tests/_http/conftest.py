"""Fixtures for the HTTP codec tests: parsers wired to a stub protocol, and body readers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aiohyper._http._parser import RequestParser, ResponseParser


class StubProtocol:
    """Stands in for `BaseProtocol`: records the flow-control calls a StreamReader makes."""

    def __init__(self) -> None:
        self._reading_paused = False
        self.pauses = 0
        self.resumes = 0

    def pause_reading(self) -> None:
        self._reading_paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self._reading_paused = False
        self.resumes += 1


@pytest.fixture
def parser_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop for the StreamReaders of synchronous tests (never run)."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def stub_protocol() -> StubProtocol:
    return StubProtocol()


@pytest.fixture
def request_parser_factory(
    parser_loop: asyncio.AbstractEventLoop, stub_protocol: StubProtocol
) -> Callable[..., RequestParser]:
    def make(**kwargs: Any) -> RequestParser:
        return RequestParser(stub_protocol, parser_loop, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def response_parser_factory(
    parser_loop: asyncio.AbstractEventLoop, stub_protocol: StubProtocol
) -> Callable[..., ResponseParser]:
    def make(**kwargs: Any) -> ResponseParser:
        return ResponseParser(stub_protocol, parser_loop, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def request_parser(request_parser_factory: Callable[..., RequestParser]) -> RequestParser:
    return request_parser_factory()


@pytest.fixture
def response_parser(response_parser_factory: Callable[..., ResponseParser]) -> ResponseParser:
    return response_parser_factory(read_until_eof=True)
