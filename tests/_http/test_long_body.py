"""Long Content-Length bodies go around llhttp (``_HttpParser._feed_length``).

Past `_BYPASS_MIN` bytes still to come after the read that completed the head, llhttp is stopped
at the head and the parser hands the body's bytes to the stream itself; a new llhttp parses what
follows. These tests hold that path to the same results as llhttp's: every split, pipelined
messages after the body, truncation, decompression, errors, and the buffer-view entry point the
client uses (`feed_body_view`).
"""

from __future__ import annotations

import gzip
import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from aiohyper._http._parser import _BYPASS_MIN, RequestParser, ResponseParser
from aiohyper.http_exceptions import ContentLengthError
from aiohyper.streams import StreamReader

RequestFactory = Callable[..., RequestParser]
ResponseFactory = Callable[..., ResponseParser]

BODY = os.urandom(3 * _BYPASS_MIN + 123)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY)
NEXT = b"HTTP/1.1 204 No Content\r\n\r\n"


class BodyError(Exception):
    """What the parser fails a body with (``payload_exception``)."""


def drain(payload: StreamReader) -> bytes:
    out = bytearray()
    while True:
        chunk = payload.read_nowait()
        if not chunk:
            return bytes(out)
        out += chunk


def feed_split(
    parser: ResponseParser | RequestParser, data: bytes, cuts: list[int], *, view: bool = False
) -> list[tuple[object, StreamReader]]:
    """Feed ``data`` cut at ``cuts``; reads that start inside a long body go in as views."""
    messages: list[tuple[object, StreamReader]] = []
    bounds = [0, *sorted(set(cuts)), len(data)]
    for start, end in itertools.pairwise(bounds):
        piece = data[start:end]
        if not piece:
            continue
        if view and parser.in_long_body:
            got, upgraded, _ = parser.feed_body_view(memoryview(bytearray(piece)))
        else:
            got, upgraded, _ = parser.feed_data(piece)
        assert not upgraded
        messages.extend(got)
    return messages


def test_long_body_goes_around_llhttp(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory()
    messages, _, _ = parser.feed_data(HEAD + BODY[:100])
    ((msg, payload),) = messages
    assert msg.code == 200
    assert parser.in_long_body
    assert drain(payload) == BODY[:100]
    assert parser.feed_data(BODY[100:5000]) == ([], False, b"")
    assert parser.in_long_body and not payload.is_eof()
    messages, _, _ = parser.feed_data(BODY[5000:] + NEXT)
    assert not parser.in_long_body
    assert payload.is_eof()
    assert drain(payload) == BODY[100:]
    ((nxt, nxt_payload),) = messages
    assert nxt.code == 204
    assert nxt_payload.at_eof()


def test_short_body_stays_with_llhttp(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory()
    small = b"x" * (_BYPASS_MIN - 1)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(small)
    ((_, payload),), _, _ = parser.feed_data(head)
    assert not parser.in_long_body
    parser.feed_data(small)
    assert payload.is_eof() and drain(payload) == small


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.integers(0, len(HEAD) + len(BODY) + 2 * len(NEXT)), max_size=6),
    view=st.booleans(),
)
def test_any_split_gives_the_same_messages(
    response_parser_factory: ResponseFactory, cuts: list[int], view: bool
) -> None:
    parser = response_parser_factory()
    messages = feed_split(parser, HEAD + BODY + NEXT + NEXT, cuts, view=view)
    assert [m.code for m, _ in messages] == [200, 204, 204]  # type: ignore[attr-defined]
    first = messages[0][1]
    assert first.is_eof() and drain(first) == BODY
    assert not parser.in_long_body


def test_view_is_copied_out(response_parser_factory: ResponseFactory) -> None:
    """The client lends its receive buffer: the stream must not keep a view of it."""
    parser = response_parser_factory()
    ((_, payload),), _, _ = parser.feed_data(HEAD)
    assert parser.in_long_body
    buf = bytearray(BODY[:4096])
    parser.feed_body_view(memoryview(buf))
    buf[:] = bytes(len(buf))  # the next read overwrites the buffer
    assert drain(payload) == BODY[:4096]


def test_view_ending_the_body_then_pipelined(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory()
    ((_, payload),), _, _ = parser.feed_data(HEAD)
    messages, upgraded, tail = parser.feed_body_view(memoryview(BODY + NEXT + NEXT[:5]))
    assert (upgraded, tail) == (False, b"")
    assert [m.code for m, _ in messages] == [204]
    assert drain(payload) == BODY
    messages, _, _ = parser.feed_data(NEXT[5:])
    assert [m.code for m, _ in messages] == [204]


def test_eof_inside_long_body(response_parser_factory: ResponseFactory) -> None:
    parser = response_parser_factory()
    ((_, payload),), _, _ = parser.feed_data(HEAD + BODY[:10])
    parser.feed_body_view(memoryview(BODY[10:20000]))
    with pytest.raises(ContentLengthError) as info:
        parser.feed_eof()
    assert payload.exception() is info.value


def test_long_gzip_body_decompressed(response_parser_factory: ResponseFactory) -> None:
    plain = os.urandom(4 * _BYPASS_MIN)
    packed = gzip.compress(plain)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed)
    parser = response_parser_factory()
    ((_, payload),), _, _ = parser.feed_data(head + packed[:7])
    assert parser.in_long_body
    parser.feed_body_view(memoryview(packed[7:30000]))
    parser.feed_data(packed[30000:])
    assert payload.is_eof() and drain(payload) == plain


def test_corrupt_long_gzip_body_fails(response_parser_factory: ResponseFactory) -> None:
    junk = b"\x1f\x8b" + os.urandom(3 * _BYPASS_MIN)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(junk)
    parser = response_parser_factory(payload_exception=BodyError)
    ((_, payload),), _, _ = parser.feed_data(head)
    with pytest.raises(Exception) as info:
        parser.feed_body_view(memoryview(junk))
    assert isinstance(payload.exception(), BodyError)
    # The head came in an earlier read: nothing is owed an answer from this one (a client
    # would otherwise queue the response a second time).
    assert parser.messages_before_error == []
    # The parser stays failed: the next read raises the same error.
    with pytest.raises(type(info.value)):
        parser.feed_data(b"more")


def test_request_with_long_body_then_pipelined(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory()
    post = b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(BODY)
    get = b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
    messages, _, _ = parser.feed_data(post + BODY[:50])
    ((msg, payload),) = messages
    assert msg.method == "POST" and parser.in_long_body
    messages, _, _ = parser.feed_data(BODY[50:] + get)
    assert payload.is_eof() and drain(payload) == BODY
    assert [m.path for m, _ in messages] == ["/next"]


def test_request_connection_close_ignores_the_rest(request_parser_factory: RequestFactory) -> None:
    parser = request_parser_factory()
    post = b"POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(
        BODY
    )
    ((_, payload),), _, _ = parser.feed_data(post)
    assert parser.feed_data(BODY + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") == ([], False, b"")
    assert drain(payload) == BODY


def test_flow_control_still_pauses(
    response_parser_factory: ResponseFactory, stub_protocol: Any
) -> None:
    big = os.urandom(4 * 2**16)
    parser = response_parser_factory()  # StreamReader limit 64 KiB: pauses past 128 KiB
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big))
    parser.feed_body_view(memoryview(big[: 2**16]))
    assert stub_protocol.pauses == 0
    parser.feed_body_view(memoryview(big[2**16 : 3 * 2**16]))
    assert stub_protocol.pauses == 1 and stub_protocol._reading_paused
