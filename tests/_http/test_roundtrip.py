"""Writer -> parser round trips: what StreamWriter sends, the parsers read back unchanged.

Hypothesis generates requests and responses (token methods and names, visible-ASCII values,
binary bodies; Content-Length, chunked, gzip, read-until-close framing), writes them with
`StreamWriter` to a recording transport and parses the bytes back, fed in random pieces.
"""

from __future__ import annotations

import asyncio
import dataclasses
import zlib
from typing import Any

from hypothesis import given, settings, strategies as st
from multidict import CIMultiDict

from aiohyper._http._message import HttpVersion
from aiohyper._http._parser import RequestParser, ResponseParser
from aiohyper._http._writer import StreamWriter
from aiohyper.base_protocol import BaseProtocol
from aiohyper.streams import StreamReader


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


# -- strategies --------------------------------------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHAR = "".join(map(chr, range(0x21, 0x7F)))
# RFC 3986 pchar without pct-encoded, plus "/" for segments.
PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"

# Only methods llhttp knows; they are all tokens.
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"])
targets = st.builds(
    lambda path, query: "/" + path + ("" if query is None else "?" + query),
    st.text(PCHAR, max_size=30),
    st.none() | st.text(PCHAR + "?", max_size=20),
)
# "X-" keeps generated names clear of the framing headers the test sets itself.
header_names = st.text(TCHAR, min_size=1, max_size=16).map(lambda t: "X-" + t)
header_values = st.text(VCHAR + " \t", max_size=40).map(lambda v: v.strip(" \t"))
header_lists = st.lists(st.tuples(header_names, header_values), max_size=8)
reasons = st.text(VCHAR + " ", max_size=20).map(str.strip)
# A body as the pieces it is written in; the last goes to write_eof().
bodies = st.lists(st.binary(max_size=300), max_size=5)


@dataclasses.dataclass
class Message:
    start_line: str
    version: HttpVersion
    headers: list[tuple[str, str]]
    pieces: list[bytes]
    framing: str  # "none", "length", "chunked", "gzip", "eof"
    method: str = ""
    target: str = ""
    status: int = 0
    reason: str = ""

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)


@st.composite
def requests(draw: st.DrawFn, *, keep_alive: bool = False) -> Message:
    method = draw(methods)
    target = draw(targets)
    minor = 1 if keep_alive else draw(st.sampled_from([0, 1]))
    # HTTP/1.0 requests must not be chunked.
    framing = draw(st.sampled_from(["none", "length"] if minor == 0 else FRAMINGS))
    pieces = [] if framing == "none" else draw(bodies)
    headers = [("Host", "example.com:8080"), *draw(header_lists)]
    return Message(
        f"{method} {target} HTTP/1.{minor}",
        HttpVersion(1, minor),
        headers,
        pieces,
        framing,
        method=method,
        target=target,
    )


FRAMINGS = ["none", "length", "chunked", "gzip"]
STATUSES = st.integers(200, 599).filter(lambda s: s not in (204, 304))


@st.composite
def responses(draw: st.DrawFn, *, last: bool = True, keep_alive: bool = False) -> Message:
    status = draw(STATUSES)
    reason = draw(reasons)
    minor = 1 if keep_alive else draw(st.sampled_from([0, 1]))
    framing = draw(st.sampled_from(FRAMINGS[1:] + (["eof"] if last else [])))
    pieces = draw(bodies)
    return Message(
        f"HTTP/1.{minor} {status} {reason}",
        HttpVersion(1, minor),
        draw(header_lists),
        pieces,
        framing,
        status=status,
        reason=reason,
    )


# -- writing and parsing -----------------------------------------------------------------------


async def write_message(writer: StreamWriter, msg: Message) -> list[tuple[str, str]]:
    """Write ``msg``; return the headers as sent (with the framing ones)."""
    headers = CIMultiDict(msg.headers)
    if msg.framing == "length":
        headers["Content-Length"] = str(len(msg.body))
        writer.length = len(msg.body)
    elif msg.framing in ("chunked", "gzip"):
        headers["Transfer-Encoding"] = "chunked"
        writer.enable_chunking()
        if msg.framing == "gzip":
            headers["Content-Encoding"] = "gzip"
            writer.enable_compression("gzip")
    await writer.write_headers(msg.start_line, headers)
    for piece in msg.pieces[:-1]:
        await writer.write(piece)
    await writer.write_eof(msg.pieces[-1] if msg.pieces else b"")
    return list(headers.items())


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if b > a]


async def serialise(messages: list[Message]) -> tuple[bytes, list[list[tuple[str, str]]]]:
    loop = asyncio.get_running_loop()
    transport = RecordingTransport()
    protocol = BaseProtocol(loop)
    protocol.connection_made(transport)
    sent = [await write_message(StreamWriter(protocol, loop), msg) for msg in messages]
    await asyncio.sleep(0)
    return b"".join(transport.writes), sent


async def parse(
    parser_cls: type[RequestParser] | type[ResponseParser],
    data: bytes,
    cuts: list[int],
    **kwargs: Any,
) -> list[tuple[Any, bytes]]:
    loop = asyncio.get_running_loop()
    protocol = BaseProtocol(loop)
    protocol.connection_made(RecordingTransport())
    parser = parser_cls(protocol, loop, **kwargs)
    got: list[tuple[Any, StreamReader]] = []
    for piece in split(data, cuts):
        messages, upgraded, tail = parser.feed_data(piece)
        assert not upgraded and tail == b""
        got.extend(messages)
    parser.feed_eof()
    return [(head, await payload.read()) for head, payload in got]


def check_request(head: Any, body: bytes, msg: Message, sent: list[tuple[str, str]]) -> None:
    assert head.method == msg.method
    assert head.path == msg.target
    assert head.version == msg.version
    assert list(head.headers.items()) == sent
    assert head.chunked == (msg.framing in ("chunked", "gzip"))
    assert head.compression == ("gzip" if msg.framing == "gzip" else None)
    assert body == msg.body


def check_response(head: Any, body: bytes, msg: Message, sent: list[tuple[str, str]]) -> None:
    assert head.code == msg.status
    assert head.reason == msg.reason
    assert head.version == msg.version
    assert list(head.headers.items()) == sent
    assert body == msg.body


# -- properties --------------------------------------------------------------------------------

cut_lists = st.lists(st.integers(0, 10_000), max_size=6)


@settings(max_examples=150, deadline=None)
@given(msg=requests(), cuts=cut_lists)
def test_request_roundtrip(msg: Message, cuts: list[int]) -> None:
    async def go() -> None:
        data, sent = await serialise([msg])
        [(head, body)] = await parse(RequestParser, data, cuts)
        check_request(head, body, msg, sent[0])

    asyncio.run(go())


@settings(max_examples=150, deadline=None)
@given(msg=responses(), cuts=cut_lists)
def test_response_roundtrip(msg: Message, cuts: list[int]) -> None:
    async def go() -> None:
        data, sent = await serialise([msg])
        [(head, body)] = await parse(ResponseParser, data, cuts, read_until_eof=True)
        check_response(head, body, msg, sent[0])

    asyncio.run(go())


@settings(max_examples=75, deadline=None)
@given(msgs=st.lists(requests(keep_alive=True), min_size=2, max_size=4), cuts=cut_lists)
def test_pipelined_requests(msgs: list[Message], cuts: list[int]) -> None:
    async def go() -> None:
        data, sent = await serialise(msgs)
        got = await parse(RequestParser, data, cuts)
        assert len(got) == len(msgs)
        for (head, body), msg, headers in zip(got, msgs, sent, strict=True):
            check_request(head, body, msg, headers)

    asyncio.run(go())


@settings(max_examples=75, deadline=None)
@given(
    msgs=st.lists(responses(last=False, keep_alive=True), min_size=1, max_size=3),
    last=responses(keep_alive=True),
    cuts=cut_lists,
)
def test_pipelined_responses(msgs: list[Message], last: Message, cuts: list[int]) -> None:
    msgs = [*msgs, last]

    async def go() -> None:
        data, sent = await serialise(msgs)
        got = await parse(ResponseParser, data, cuts, read_until_eof=True)
        assert len(got) == len(msgs)
        for (head, body), msg, headers in zip(got, msgs, sent, strict=True):
            check_response(head, body, msg, headers)

    asyncio.run(go())


def test_gzip_wire_bytes_are_gzip() -> None:
    """The round trip above must not pass just because nothing was compressed."""
    body = b"abc" * 1000
    msg = Message("POST / HTTP/1.1", HttpVersion(1, 1), [("Host", "h")], [body], "gzip")
    msg.method, msg.target = "POST", "/"

    async def go() -> None:
        data, _ = await serialise([msg])
        wire = data.partition(b"\r\n\r\n")[2]
        assert len(wire) < 200
        size, _, rest = wire.partition(b"\r\n")
        assert zlib.decompress(rest[: int(size, 16)], wbits=31) == body
        [(_, got)] = await parse(RequestParser, data, [])
        assert got == body

    asyncio.run(go())


def test_utf8_header_value_roundtrip() -> None:
    headers = [("Host", "h"), ("X-Name", "caf\xe9 \u2603")]
    msg = Message("GET / HTTP/1.1", HttpVersion(1, 1), headers, [], "none")
    msg.method, msg.target = "GET", "/"

    async def go() -> None:
        data, sent = await serialise([msg])
        [(head, body)] = await parse(RequestParser, data, [])
        check_request(head, body, msg, sent[0])

    asyncio.run(go())
