"""Tests for aiohyper.multipart: reader, writer, Content-Disposition parsing."""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import itertools
import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from multidict import CIMultiDict

from aiohyper._http._writer import AbstractStreamWriter
from aiohyper.base_protocol import BaseProtocol
from aiohyper.multipart import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    BodyPartReader,
    BodyPartTooLarge,
    MultipartError,
    MultipartReader,
    MultipartResponseWrapper,
    MultipartWriter,
    content_disposition_filename,
    parse_content_disposition,
)
from aiohyper.payload import BytesPayload, StringPayload
from aiohyper.streams import StreamReader

T = TypeVar("T")

BOUNDARY = "b0und"
CTYPE = {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}


class FakeWriter(AbstractStreamWriter):
    """Collects what a payload writes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.buffer_size = 0
        self.output_size = 0
        self.length = None

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.chunks.append(chunk)

    async def drain(self) -> None:
        pass

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise NotImplementedError

    def enable_chunking(self) -> None:
        pass

    async def write_headers(self, status_line: str, headers: Any) -> None:
        raise NotImplementedError


class ChunkedContent:
    """A body handed out in exactly the given pieces (``readany`` returns one at a time)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = [p for p in pieces if p]
        self.reads = 0

    @classmethod
    def split(cls, data: bytes, cuts: list[int]) -> ChunkedContent:
        points = sorted({c for c in cuts if 0 < c < len(data)})
        bounds = [0, *points, len(data)]
        return cls([data[a:b] for a, b in itertools.pairwise(bounds)])

    async def readany(self) -> bytes:
        self.reads += 1
        await asyncio.sleep(0)
        return self.pieces.pop(0) if self.pieces else b""

    def at_eof(self) -> bool:
        return not self.pieces


async def guarded(coro: Awaitable[T]) -> T:
    """Fail instead of hanging."""
    return await asyncio.wait_for(coro, 2)


async def serialize(writer: MultipartWriter) -> bytes:
    out = FakeWriter()
    await writer.write(out)
    return out.data


def reader_for(body: bytes, *, boundary: str = BOUNDARY, split: int = 0) -> MultipartReader:
    pieces = [body] if not split else [body[i : i + split] for i in range(0, len(body), split)]
    return MultipartReader(
        {"Content-Type": f"multipart/mixed; boundary={boundary}"}, ChunkedContent(pieces)
    )


async def collect(reader: MultipartReader, *, decode: bool = False) -> list[Any]:
    """Every part as (headers dict, bytes); nested readers as lists."""
    result: list[Any] = []
    while True:
        part = await reader.next()
        if part is None:
            return result
        if isinstance(part, MultipartReader):
            result.append(await collect(part, decode=decode))
        else:
            result.append((dict(part.headers), bytes(await part.read(decode=decode))))


# --- Reader: well-formed bodies ---------------------------------------------------------------


SIMPLE = (
    b"--b0und\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b'Content-Disposition: form-data; name="greeting"\r\n'
    b"\r\n"
    b"hello\r\n"
    b"world\r\n"
    b"--b0und\r\n"
    b"Content-Type: application/json\r\n"
    b"\r\n"
    b'{"a": 1}\r\n'
    b"--b0und--\r\n"
)


@pytest.mark.parametrize("split", [0, 1, 2, 3, 5, 11])
async def test_read_simple(split: int) -> None:
    reader = reader_for(SIMPLE, split=split)
    part = await guarded(reader.next())
    assert isinstance(part, BodyPartReader)
    assert part.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert part.name == "greeting"
    assert part.filename is None
    assert await part.text() == "hello\r\nworld"
    assert part.at_eof()
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.json() == {"a": 1}
    assert await reader.next() is None
    assert reader.at_eof()
    assert await reader.next() is None


async def test_async_iteration_and_skipping() -> None:
    reader = reader_for(SIMPLE, split=3)
    names = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        names.append(part.headers.get("Content-Type"))  # parts are skipped unread
    assert names == ["text/plain; charset=utf-8", "application/json"]


async def test_read_chunk_and_readline() -> None:
    reader = reader_for(SIMPLE, split=4)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.readline() == b"hello\r\n"
    chunk = await part.read_chunk(3)
    assert 0 < len(chunk) <= 3
    rest = bytearray(chunk)
    while chunk := await part.read_chunk():  # read_chunk returns what is available, up to size
        rest += chunk
    assert rest == b"world"
    assert await part.read_chunk() == b""
    assert await part.readline() == b""
    assert await part.read() == b""
    assert part.at_eof()


async def test_partially_read_part_is_released_by_next() -> None:
    reader = reader_for(SIMPLE)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.read_chunk(2) == b"he"
    part2 = await reader.next()
    assert isinstance(part2, BodyPartReader)
    assert await part2.read() == b'{"a": 1}'


async def test_body_part_iteration() -> None:
    reader = reader_for(SIMPLE)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    chunks = [chunk async for chunk in part]
    assert chunks == [b"hello\r\nworld"]


async def test_release_reads_to_the_end() -> None:
    body = b"--b0und\r\n\r\nA\r\n--b0und\r\n\r\nB\r\n--b0und--\r\nepilogue"
    content = ChunkedContent([body])
    reader = MultipartReader(CTYPE, content)
    await guarded(reader.release())
    assert reader.at_eof()


async def test_preamble_epilogue_and_padding() -> None:
    body = (
        b"This is a preamble --b0und not at line start\r\n"
        b"--b0und-not-a-boundary? no, it is one (prefix match) \r\n"
    )
    # A line starting with the boundary followed by other text is a broken boundary line.
    with pytest.raises(MultipartError):
        await guarded(collect(reader_for(body + b"--b0und--")))
    body = (
        b"preamble line 1\r\npreamble --b0und\r\n"
        b"--b0und  \t\r\n"  # transport padding
        b"X-Part: 1\r\n\r\n"
        b"data\r\n"
        b"--b0und--   \r\n"
        b"epilogue with --b0und inside\r\n"
    )
    for split in (0, 1, 7):
        parts = await guarded(collect(reader_for(body, split=split)))
        assert parts == [({"X-Part": "1"}, b"data")]


async def test_boundary_at_very_start_and_empty_parts() -> None:
    body = (
        b"--b0und\r\n"
        b"\r\n"  # no headers
        b"\r\n"  # empty body
        b"--b0und\r\n"
        b"A: 1\r\n"
        b"\r\n"
        b"\r\n"  # empty body again
        b"--b0und\r\n"
        b"\r\n"
        b"\r\n\r\n"  # a body that is one CRLF
        b"--b0und--"
    )
    for split in (0, 1, 2, 3):
        assert await guarded(collect(reader_for(body, split=split))) == [
            ({}, b""),
            ({"A": "1"}, b""),
            ({}, b"\r\n"),
        ]


async def test_binary_content_resembling_the_boundary() -> None:
    tricky = (
        b"\r\n--b0un\r\n--b0\r"
        b"\n-b0und\r\n-\r\n--B0UND\r\r\n\n--"  # near misses
        b"\x00\xff\r\n"
    )
    body = b"--b0und\r\n\r\n" + tricky + b"\r\n--b0und--\r\n"
    for split in range(12):
        assert await guarded(collect(reader_for(body, split=split))) == [({}, tricky)]


async def test_part_content_length_is_ignored() -> None:
    body = (
        b"--b0und\r\nContent-Length: 2\r\n\r\nlonger than two\r\n"
        b"--b0und\r\nContent-Length: 999\r\n\r\nshort\r\n--b0und--\r\n"
    )
    parts = await guarded(collect(reader_for(body)))
    assert [p[1] for p in parts] == [b"longer than two", b"short"]


async def test_header_parsing() -> None:
    body = (
        b"--b0und\r\n"
        b"X-A: 1\r\n"
        b"X-A: 2\r\n"
        b"X-Folded: first\r\n"
        b"\t second\r\n"
        b'Content-Disposition: form-data; name="f"; filename="\xd1\x84.txt"\r\n'
        b"X-Latin: \xe9\r\n"
        b"\r\n"
        b"x\r\n--b0und--"
    )
    reader = reader_for(body)
    part = await guarded(reader.next())
    assert isinstance(part, BodyPartReader)
    assert part.headers.getall("X-A") == ["1", "2"]
    assert part.headers["X-Folded"] == "first second"
    assert part.filename == "ф.txt"
    assert part.headers["X-Latin"] == "é"


async def test_nested_multipart() -> None:
    body = (
        b"--b0und\r\n"
        b"Content-Type: application/json\r\n\r\n"
        b'{"_id": "foo"}\r\n'
        b"--b0und\r\n"
        b"Content-Type: multipart/related; boundary=inner\r\n\r\n"
        b"inner preamble\r\n"
        b"--inner\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"bar! bar!\r\n"
        b"--inner\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"unread part\r\n"
        b"--inner--\r\n"
        b"inner epilogue\r\n"
        b"--b0und\r\n"
        b"Content-Type: application/json\r\n\r\n"
        b'{"_id": "boo"}\r\n'
        b"--b0und--\r\n"
    )
    for split in (0, 1, 5):
        reader = reader_for(body, split=split)
        part = await guarded(reader.next())
        assert isinstance(part, BodyPartReader)
        assert await part.json() == {"_id": "foo"}
        nested = await guarded(reader.next())
        assert isinstance(nested, MultipartReader)
        assert nested.headers["Content-Type"].startswith("multipart/related")
        inner = await guarded(nested.next())
        assert isinstance(inner, BodyPartReader)
        assert await inner.text() == "bar! bar!"
        # The rest of the nested body is skipped by the outer reader.
        part = await guarded(reader.next())
        assert isinstance(part, BodyPartReader)
        assert await part.json() == {"_id": "boo"}
        assert await reader.next() is None

    assert await guarded(collect(reader_for(body))) == [
        ({"Content-Type": "application/json"}, b'{"_id": "foo"}'),
        [
            ({"Content-Type": "text/plain"}, b"bar! bar!"),
            ({"Content-Type": "text/plain"}, b"unread part"),
        ],
        ({"Content-Type": "application/json"}, b'{"_id": "boo"}'),
    ]


async def test_custom_reader_classes() -> None:
    class MyPart(BodyPartReader):
        pass

    class MyReader(MultipartReader):
        part_reader_cls = MyPart
        multipart_reader_cls = MultipartReader

    body = (
        b"--b0und\r\n\r\nplain\r\n"
        b"--b0und\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n"
        b"--b0und--"
    )
    reader = MyReader(CTYPE, ChunkedContent([body]))
    assert type(await reader.next()) is MyPart
    assert type(await reader.next()) is MultipartReader


async def test_form_data_charset_field() -> None:
    body = (
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="_charset_"\r\n\r\n'
        b"cp1251\r\n"
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="field"\r\n\r\n'
        + "привет".encode("cp1251")
        + b"\r\n--b0und--\r\n"
    )
    reader = MultipartReader(
        {"Content-Type": "multipart/form-data; boundary=b0und"}, ChunkedContent([body])
    )
    part = await guarded(reader.next())
    assert isinstance(part, BodyPartReader)
    assert part.name == "field"
    assert part.get_charset() == "cp1251"
    assert await part.text() == "привет"
    assert await part.text() == ""  # already read


async def test_stream_reader_content() -> None:
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)

    async def feed() -> None:
        for i in range(0, len(SIMPLE), 7):
            stream.feed_data(SIMPLE[i : i + 7])
            await asyncio.sleep(0)
        stream.feed_eof()

    feeder = asyncio.create_task(feed())
    reader = MultipartReader(CTYPE, stream)
    parts = await guarded(collect(reader))
    await feeder
    assert [p[1] for p in parts] == [b"hello\r\nworld", b'{"a": 1}']


async def test_content_with_read_only() -> None:
    class ReadOnly:
        def __init__(self, data: bytes) -> None:
            self.data = data

        async def read(self, n: int = -1) -> bytes:
            chunk, self.data = self.data[:3], self.data[3:]
            return chunk

        def at_eof(self) -> bool:
            return not self.data

    parts = await guarded(collect(MultipartReader(CTYPE, ReadOnly(SIMPLE))))
    assert len(parts) == 2


async def test_body_part_reader_direct_use() -> None:
    content = ChunkedContent([b"Hello, world!\r\n--:\r\n"])
    part = BodyPartReader(b"--:", CIMultiDict[str](), content)  # type: ignore[arg-type]
    assert await guarded(part.read()) == b"Hello, world!"
    assert part.at_eof()


# --- Reader: decoding -----------------------------------------------------------------------


def part_reader(body: bytes, **headers: str) -> BodyPartReader:
    hdrs = CIMultiDict[str]({k.replace("_", "-"): v for k, v in headers.items()})
    return BodyPartReader(b"--b0und", hdrs, ChunkedContent([body + b"\r\n--b0und--"]))  # type: ignore[arg-type]


async def test_decode_base64() -> None:
    data = bytes(range(256)) * 3
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    part = part_reader(encoded, Content_Transfer_Encoding="base64")
    assert await part.read(decode=True) == data
    assert part.decode(base64.b64encode(b"x")) == b"x"


async def test_decode_quoted_printable() -> None:
    text = "Привет, мир = 100%".encode()
    encoded = binascii.b2a_qp(text)
    part = part_reader(encoded, Content_Transfer_Encoding="Quoted-Printable")
    assert await part.read(decode=True) == text
    part = part_reader(b"caf=C3=A9=\r\n soft", Content_Transfer_Encoding="quoted-printable")
    assert await part.text() == "café soft"


@pytest.mark.parametrize("cte", ["binary", "8bit", "7bit"])
async def test_decode_identity_transfer_encodings(cte: str) -> None:
    part = part_reader(b"raw=41", Content_Transfer_Encoding=cte)
    assert await part.read(decode=True) == b"raw=41"


async def test_decode_unknown_transfer_encoding() -> None:
    part = part_reader(b"x", Content_Transfer_Encoding="x-uuencode")
    with pytest.raises(RuntimeError, match="unknown content transfer encoding"):
        await part.read(decode=True)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped (RFC 9110)
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate
        ("identity", lambda d: d),
    ],
)
async def test_decode_content_encoding(encoding: str, compress: Callable[[bytes], bytes]) -> None:
    data = b"compressed text " * 100
    part = part_reader(compress(data), Content_Encoding=encoding)
    assert await part.read(decode=True) == data
    # raw read leaves the data as sent
    part = part_reader(compress(data), Content_Encoding=encoding)
    raw = await part.read()
    assert raw == compress(data)
    assert part.decode(raw) == data


async def test_decode_transfer_then_content_encoding() -> None:
    data = "текст".encode()
    body = base64.b64encode(gzip.compress(data))
    part = part_reader(body, Content_Encoding="gzip", Content_Transfer_Encoding="base64")
    assert await part.text() == "текст"


async def test_decode_errors() -> None:
    part = part_reader(b"x", Content_Encoding="br")
    with pytest.raises(RuntimeError, match="unknown content encoding"):
        await part.read(decode=True)
    part = part_reader(b"not gzip", Content_Encoding="gzip")
    with pytest.raises(MultipartError):
        await part.read(decode=True)
    part = part_reader(gzip.compress(b"x" * 100)[:-10], Content_Encoding="gzip")
    with pytest.raises(MultipartError, match="truncated"):
        await part.read(decode=True)
    part = part_reader(b"a", Content_Transfer_Encoding="base64")
    with pytest.raises(ValueError):
        await part.read(decode=True)


async def test_form_data_ignores_content_encoding() -> None:
    hdrs = CIMultiDict[str]({"Content-Encoding": "gzip"})
    part = BodyPartReader(
        b"--b0und",
        hdrs,  # type: ignore[arg-type]
        ChunkedContent([b"plain\r\n--b0und--"]),
        subtype="form-data",
    )
    assert await part.read(decode=True) == b"plain"


async def test_max_size() -> None:
    part = part_reader(b"x" * 100)
    with pytest.raises(BodyPartTooLarge) as info:
        await part.read(max_size=10)
    assert info.value.max_size == 10
    assert isinstance(info.value, ValueError)
    part = part_reader(b"x" * 100)
    assert await part.read(max_size=100) == b"x" * 100
    bomb = gzip.compress(b"\0" * 1_000_000)
    part = part_reader(bomb, Content_Encoding="gzip")
    with pytest.raises(BodyPartTooLarge):
        await part.read(decode=True, max_size=10_000)


async def test_text_json_form_helpers() -> None:
    part = part_reader("é".encode("latin-1"), Content_Type="text/plain; charset=latin-1")
    assert await part.text() == "é"
    part = part_reader("é".encode("utf-16"))
    assert await part.text(encoding="utf-16") == "é"
    part = part_reader(b"")
    assert await part.json() is None
    part = part_reader(b"a=1&b=%D1%84&c=")
    assert await part.form() == [("a", "1"), ("b", "ф"), ("c", "")]
    part = part_reader(b"")
    assert await part.form() == []
    part = part_reader(b"\xff\xfe", Content_Type="application/x-www-form-urlencoded")
    with pytest.raises(ValueError, match="cannot be decoded"):
        await part.form()
    part = part_reader(b"x")
    assert part.get_charset() is None
    assert part.get_charset("ascii") == "ascii"


# --- Reader: malformed bodies ---------------------------------------------------------------


MALFORMED = {
    "empty body": b"",
    "no boundary at all": b"just some text\r\nwithout any delimiter",
    "ends inside a part": b"--b0und\r\n\r\ndata without end",
    "ends inside headers": b"--b0und\r\nX-A: 1\r\n",
    "ends after a boundary": b"--b0und\r\n\r\ndata\r\n--b0und",
    "ends after a boundary line": b"--b0und\r\n\r\ndata\r\n--b0und\r\n",
    "garbage after boundary": b"--b0und\r\n\r\ndata\r\n--b0undX\r\n\r\n--b0und--",
    "bare LF after boundary": b"--b0und\n\r\ndata\r\n--b0und--",
    "header without colon": b"--b0und\r\nnot a header\r\n\r\ndata\r\n--b0und--",
    "header bad name": b"--b0und\r\nBad Name: x\r\n\r\ndata\r\n--b0und--",
    "continuation first": b"--b0und\r\n  folded\r\n\r\ndata\r\n--b0und--",
    "too many headers": b"--b0und\r\n" + b"X: 1\r\n" * 200 + b"\r\n\r\n--b0und--",
    "header too long": b"--b0und\r\nX: " + b"a" * 10_000 + b"\r\n\r\n\r\n--b0und--",
    "nested unterminated": (
        b"--b0und\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n"
        b"--in\r\n\r\ninner data\r\n--b0und--"
    ),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("split", [0, 1, 4])
async def test_malformed_body_raises(body: bytes, split: int) -> None:
    with pytest.raises(MultipartError) as info:
        await guarded(collect(reader_for(body, split=split)))
    assert isinstance(info.value, ValueError)
    assert str(info.value)


async def test_malformed_error_messages() -> None:
    with pytest.raises(MultipartError, match="ended before the closing boundary"):
        await guarded(collect(reader_for(MALFORMED["ends inside a part"])))
    with pytest.raises(MultipartError, match="invalid boundary line"):
        await guarded(collect(reader_for(MALFORMED["garbage after boundary"])))
    with pytest.raises(MultipartError, match="ended inside part headers"):
        await guarded(collect(reader_for(MALFORMED["ends inside headers"])))
    with pytest.raises(MultipartError, match="more than 128 headers"):
        await guarded(collect(reader_for(MALFORMED["too many headers"])))


async def test_header_limits_are_settable() -> None:
    class Strict(MultipartReader):
        max_headers = 1
        max_header_size = 20

    body = b"--b0und\r\nX: 1\r\nY: 2\r\n\r\n\r\n--b0und--"
    with pytest.raises(MultipartError):
        await guarded(collect(Strict(CTYPE, ChunkedContent([body]))))
    body = b"--b0und\r\nX: 1234567890123456789\r\n\r\n\r\n--b0und--"
    with pytest.raises(MultipartError, match="longer than 20"):
        await guarded(collect(Strict(CTYPE, ChunkedContent([body]))))


async def test_stream_exception_propagates() -> None:
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    stream.feed_data(b"--b0und\r\n\r\npartial")
    stream.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await guarded(collect(MultipartReader(CTYPE, stream)))


@pytest.mark.parametrize(
    "ctype",
    [
        "text/plain; boundary=x",
        "multipart/mixed",
        "multipart/mixed; boundary=",
        "multipart/mixed; boundary=" + "a" * 71,
        "multipart/mixed; boundary=\u00e9",
    ],
)
def test_bad_content_type(ctype: str) -> None:
    with pytest.raises(ValueError):
        MultipartReader({"Content-Type": ctype}, ChunkedContent([]))


def test_missing_content_type() -> None:
    with pytest.raises(ValueError):
        MultipartReader({}, ChunkedContent([]))


async def test_quoted_boundary_parameter() -> None:
    body = b'--a "b"\r\n\r\nx\r\n--a "b"--'
    reader = MultipartReader(
        {"Content-Type": 'multipart/mixed; boundary="a \\"b\\""'}, ChunkedContent([body])
    )
    assert await guarded(collect(reader)) == [({}, b"x")]


# --- Reader: any split of the body gives the same parts (property test) -------------------------


def build_body(parts: list[bytes], boundary: bytes) -> bytes:
    out = [b"preamble\r\n"]
    for i, data in enumerate(parts):
        out.append(b"--" + boundary + b"\r\nX-Index: " + str(i).encode() + b"\r\n\r\n")
        out.append(data + b"\r\n")
    out.append(b"--" + boundary + b"--\r\nepilogue")
    return b"".join(out)


# Content made of pieces that look like bits of the delimiter.
_tricky_bytes = st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b"-", b"--", b"b0un", b"b0und", b"x", b"\x00"])
    | st.binary(max_size=8),
    max_size=12,
).map(b"".join)


def _valid_content(data: bytes) -> bool:
    return b"\r\n--b0und" not in data + b"\r\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_tricky_bytes.filter(_valid_content), max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30),
)
def test_any_split_gives_same_parts(parts: list[bytes], cuts: list[int]) -> None:
    body = build_body(parts, b"b0und")

    async def run() -> list[Any]:
        content = ChunkedContent.split(body, cuts)
        return await guarded(collect(MultipartReader(CTYPE, content)))

    result = asyncio.run(run())
    assert result == [({"X-Index": str(i)}, data) for i, data in enumerate(parts)]


@settings(max_examples=40, deadline=None)
@given(
    parts=st.lists(_tricky_bytes.filter(_valid_content), min_size=1, max_size=3),
    sizes=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=10),
)
def test_stream_reader_random_feeding(parts: list[bytes], sizes: list[int]) -> None:
    body = build_body(parts, b"b0und")

    async def run() -> list[Any]:
        loop = asyncio.get_running_loop()
        stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)

        async def feed() -> None:
            pos, i = 0, 0
            while pos < len(body):
                size = sizes[i % len(sizes)]
                stream.feed_data(body[pos : pos + size])
                pos += size
                i += 1
                for _ in range(size % 3):
                    await asyncio.sleep(0)
            stream.feed_eof()

        feeder = asyncio.create_task(feed())
        try:
            return await guarded(collect(MultipartReader(CTYPE, stream)))
        finally:
            await feeder

    result = asyncio.run(run())
    assert [data for _, data in result] == parts


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=60).map(lambda b: b"--b0und\r\n" + b),
    cuts=st.lists(st.integers(min_value=0, max_value=70), max_size=8),
)
def test_garbage_never_hangs(body: bytes, cuts: list[int]) -> None:
    async def run() -> None:
        content = ChunkedContent.split(body, cuts)
        try:
            await guarded(collect(MultipartReader(CTYPE, content)))
        except MultipartError:
            pass

    asyncio.run(run())


# --- Writer -----------------------------------------------------------------------------------


async def test_writer_basic_serialization() -> None:
    writer = MultipartWriter("mixed", boundary=":")
    assert writer.boundary == ":"
    assert writer.content_type == 'multipart/mixed; boundary=":"'
    writer.append("text")
    writer.append(b"bin", {"X-Extra": "1"})
    data = await serialize(writer)
    assert data == (
        b"--:\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 4\r\n\r\n"
        b"text\r\n"
        b"--:\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"X-Extra: 1\r\n"
        b"Content-Length: 3\r\n\r\n"
        b"bin\r\n"
        b"--:--\r\n"
    )
    assert writer.size == len(data)


def test_writer_boundary_validation() -> None:
    assert MultipartWriter(boundary="abc-DEF_1.2").content_type.endswith("boundary=abc-DEF_1.2")
    assert MultipartWriter(boundary='a"b').content_type.endswith('boundary="a\\"b"')
    assert len(MultipartWriter().boundary) == 32  # random default
    assert MultipartWriter().boundary != MultipartWriter().boundary
    with pytest.raises(ValueError):
        MultipartWriter(boundary="é")
    with pytest.raises(ValueError):
        MultipartWriter(boundary="a" * 71)
    with pytest.raises(ValueError):
        MultipartWriter(boundary="a\r\nb")
    with pytest.raises(ValueError):
        MultipartWriter(boundary="")


async def test_writer_close_boundary() -> None:
    writer = MultipartWriter("x-mixed-replace", boundary="frame")
    writer.append(b"jpeg", {"Content-Type": "image/jpeg"})
    out = FakeWriter()
    await writer.write(out, close_boundary=False)
    assert out.data.endswith(b"jpeg\r\n")
    assert b"--frame--" not in out.data
    writer = MultipartWriter("mixed", boundary="frame", close_boundary=False)
    writer.append(b"x")
    data = await serialize(writer)
    assert not data.endswith(b"--frame--\r\n")
    assert writer.size == len(data)


async def test_writer_iteration_len_and_headers() -> None:
    with MultipartWriter("form-data") as writer:
        p1 = writer.append("a")
        p2 = writer.append_json({"b": 2})
        p3 = writer.append_form([("c", "3"), ("d", "ф")])
        p4 = writer.append_form({"e": "5"})
    assert list(writer) == [p1, p2, p3, p4]
    assert len(writer) == 4
    assert bool(MultipartWriter())
    assert p2.content_type == "application/json"
    assert p3.content_type == "application/x-www-form-urlencoded"
    assert await p3.as_bytes() == b"c=3&d=%D1%84"
    # form-data parts get a default name and no Content-Length
    assert p1.headers["Content-Disposition"] == 'form-data; name="section-0"'
    assert "Content-Length" not in p1.headers
    for part in writer:  # the documented "hacking" loop
        part.headers.pop("Content-Length", None)


async def test_writer_rejects_bad_parts() -> None:
    writer = MultipartWriter()
    with pytest.raises(TypeError):
        writer.append(object())
    with pytest.raises(RuntimeError, match="unknown content encoding"):
        writer.append(b"x", {"Content-Encoding": "br"})
    with pytest.raises(RuntimeError, match="unknown content transfer encoding"):
        writer.append(b"x", {"Content-Transfer-Encoding": "uu"})
    form = MultipartWriter("form-data")
    with pytest.raises(ValueError):
        form.append(b"x", {"Content-Encoding": "gzip"})


async def test_writer_is_resendable() -> None:
    writer = MultipartWriter(boundary="r")
    writer.append(b"bytes")
    writer.append("text")
    first = await serialize(writer)
    assert await serialize(writer) == first
    assert await writer.as_bytes() == first
    assert writer.decode() == first.decode()
    assert not writer.consumed
    assert writer.autoclose
    truncated = FakeWriter()
    await writer.write_with_length(truncated, 10)
    assert truncated.data == first[:10]


async def test_writer_consumed_and_close() -> None:
    async def gen() -> Any:
        yield b"x"

    writer = MultipartWriter()
    writer.append(gen())
    assert writer.size is None
    assert not writer.consumed
    await serialize(writer)
    assert writer.consumed
    writer2 = MultipartWriter()
    writer2.append(b"x")
    await writer2.close()
    assert writer2.consumed


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Transfer-Encoding": "base64"},
        {"Content-Transfer-Encoding": "quoted-printable"},
        {"Content-Encoding": "gzip"},
        {"Content-Encoding": "deflate"},
        {"Content-Encoding": "gzip", "Content-Transfer-Encoding": "base64"},
        {"Content-Encoding": "deflate", "Content-Transfer-Encoding": "quoted-printable"},
        {"Content-Encoding": "identity", "Content-Transfer-Encoding": "binary"},
    ],
)
async def test_writer_encodings_round_trip(headers: dict[str, str]) -> None:
    te = headers.get("Content-Transfer-Encoding", "binary")
    encoded = te != "binary" or headers.get("Content-Encoding", "identity") != "identity"
    # Encoded content may even contain the delimiter itself.
    delimiter_like = b"\r\n--abc \t\r\n" if encoded else b"\r\n--ab \t\r\n"
    data = bytes(range(256)) * 300 + delimiter_like + "тест".encode() + b"tail "

    async def pieces() -> Any:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    writer = MultipartWriter(boundary="abc")
    writer.append(pieces(), headers)
    body = await serialize(writer)
    if te != "binary":
        # RFC 2045 line length limit (76 characters plus a soft-break "=")
        for line in body.split(b"\r\n"):
            assert len(line) <= 77 or line.startswith(b"Content-")
    reader = MultipartReader(writer.headers, ChunkedContent([body]))
    part = await guarded(reader.next())
    assert isinstance(part, BodyPartReader)
    assert await part.read(decode=True) == data
    assert await reader.next() is None


async def test_writer_decode_rejects_encoded_parts() -> None:
    writer = MultipartWriter()
    writer.append(b"x", {"Content-Transfer-Encoding": "base64"})
    with pytest.raises(TypeError):
        writer.decode()
    assert writer.size is None
    assert b"eA==" in await writer.as_bytes()


# --- Round trips ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    contents=st.lists(st.binary(max_size=300) | _tricky_bytes, min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=20),
)
def test_round_trip_byte_exact(contents: list[bytes], cuts: list[int]) -> None:
    async def run() -> None:
        writer = MultipartWriter("mixed")
        boundary = writer.boundary.encode()
        for data in contents:
            # Content that almost contains the delimiter.
            writer.append(data + b"\r\n--" + boundary[:-1] + b"\r\n--" + data)
        body = await serialize(writer)
        assert writer.size == len(body)
        reader = MultipartReader(writer.headers, ChunkedContent.split(body, cuts))
        parts = await guarded(collect(reader))
        assert [data for _, data in parts] == [
            data + b"\r\n--" + boundary[:-1] + b"\r\n--" + data for data in contents
        ]
        for (headers, data), _ in zip(parts, contents, strict=True):
            assert headers["Content-Length"] == str(len(data))

    asyncio.run(run())


@pytest.mark.parametrize("quote_fields", [True, False])
async def test_round_trip_non_ascii_filenames(quote_fields: bool) -> None:
    writer = MultipartWriter("form-data")
    names = ["отчёт 2024.xls", 'quote"d.txt', "日本語.txt", "plain.txt", "back\\slash"]
    for i, name in enumerate(names):
        part = writer.append(b"data%d" % i)
        part.set_content_disposition(
            "form-data", quote_fields=quote_fields, name=f"поле{i}", filename=name
        )
    body = await serialize(writer)
    reader = MultipartReader(writer.headers, ChunkedContent([body]))
    i = 0
    async for received in reader:
        assert isinstance(received, BodyPartReader)
        assert received.filename == names[i]
        assert received.name == f"поле{i}"
        assert await received.read() == b"data%d" % i
        i += 1
    assert i == len(names)


async def test_round_trip_nested_writers() -> None:
    root = MultipartWriter("mixed")
    root.append_json({"doc": 1})
    sub = MultipartWriter("related")
    sub.append(b"attachment one")
    subsub = MultipartWriter("alternative")
    subsub.append("plain")
    subsub.append("<b>html</b>", {"Content-Type": "text/html"})
    sub.append(subsub)
    root.append(sub)
    root.append(b"after")
    body = await serialize(root)
    assert root.size == len(body)
    for split in (0, 1, 13):
        pieces = [body] if not split else [body[i : i + split] for i in range(0, len(body), split)]
        reader = MultipartReader(root.headers, ChunkedContent(pieces))
        parts = await guarded(collect(reader))
        assert parts[0][1] == b'{"doc": 1}'
        assert parts[1][0][1] == b"attachment one"
        assert [p[1] for p in parts[1][1]] == [b"plain", b"<b>html</b>"]
        assert parts[2][1] == b"after"


# --- Content-Disposition ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("inline", ("inline", {})),
        ("ATTACHMENT", ("attachment", {})),
        ('attachment; filename="foo.html"', ("attachment", {"filename": "foo.html"})),
        ("attachment; filename=foo.html", ("attachment", {"filename": "foo.html"})),
        ("attachment; filename = foo.html ;", ("attachment", {"filename": "foo.html"})),
        ('attachment; filename="f\\"oo\\\\.html"', ("attachment", {"filename": 'f"oo\\.html'})),
        ('attachment; filename="foo;bar.html"', ("attachment", {"filename": "foo;bar.html"})),
        ('attachment; FileName="Foo"', ("attachment", {"filename": "Foo"})),
        ('attachment; filename="/etc/passwd"', ("attachment", {"filename": "etc/passwd"})),
        (
            "attachment; filename*=UTF-8''foo-%c3%a4-%e2%82%ac.html",
            ("attachment", {"filename*": "foo-ä-€.html"}),
        ),
        (
            "attachment; filename*=iso-8859-1'en'%A3%20rates",
            ("attachment", {"filename*": "£ rates"}),
        ),
        ("attachment; filename*=''plain", ("attachment", {"filename*": "plain"})),
        ("attachment; filename*=utf-8''%2Fetc%2Fx", ("attachment", {"filename*": "etc/x"})),
        (
            'form-data; name="field"; filename="a.txt"',
            ("form-data", {"name": "field", "filename": "a.txt"}),
        ),
        (
            'attachment; filename*0="foo."; filename*1="html"',
            ("attachment", {"filename*0": "foo.", "filename*1": "html"}),
        ),
    ],
)
def test_parse_content_disposition(header: str, expected: Any) -> None:
    assert parse_content_disposition(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        '"inline"',
        "attachment; filename=foo bar.html",
        'attachment; filename="foo.html"; filename="bar.html"',
        'attachment; filename="foo.html"garbage',
        "attachment; filename=foo,bar.html",
        "attachment; filename=",
    ],
)
def test_parse_bad_content_disposition_header(header: str) -> None:
    with pytest.warns(BadContentDispositionHeader):
        assert parse_content_disposition(header) == (None, {})


def test_parse_bad_content_disposition_param() -> None:
    with pytest.warns(BadContentDispositionParam):
        assert parse_content_disposition("attachment; filename") == (None, {})
    # An undecodable ext value is dropped, the rest is kept.
    with pytest.warns(BadContentDispositionParam):
        result = parse_content_disposition("attachment; filename*=bogus-charset''x; name=a")
    assert result == ("attachment", {"name": "a"})
    with pytest.warns(BadContentDispositionParam):
        result = parse_content_disposition("attachment; filename*=no-quotes")
    assert result == ("attachment", {})


def test_parse_empty() -> None:
    assert parse_content_disposition(None) == (None, {})
    assert parse_content_disposition("") == (None, {})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, None),
        ({"name": "n"}, None),
        ({"filename": "a.txt"}, "a.txt"),
        ({"filename": "fallback.txt", "filename*": "ф.txt"}, "ф.txt"),
        ({"filename*0": "foo.", "filename*1": "html"}, "foo.html"),
        (
            {"filename*0*": "UTF-8''%D1%84", "filename*1*": "%D0%B0", "filename*2": ".txt"},
            "фа.txt",
        ),
        ({"filename*0*": "iso-8859-1'en'%A3", "filename*1": " rates"}, "£ rates"),
        ({"filename*1": "no-start"}, None),
        ({"filename*0": "a", "filename*2": "c"}, "a"),  # a gap ends the value
        ({"filename*0": "a", "filename*01": "x"}, "a"),  # leading zeros do not count
        ({f"filename*{i}": chr(97 + i) for i in range(12)}, "abcdefghijkl"),  # numeric order
    ],
)
def test_content_disposition_filename(params: dict[str, str], expected: str | None) -> None:
    assert content_disposition_filename(params) == expected


def test_content_disposition_name() -> None:
    _, params = parse_content_disposition("form-data; name*=utf-8''%D0%BF%D0%BE%D0%BB%D0%B5")
    assert content_disposition_filename(params, "name") == "поле"


async def test_part_with_malformed_disposition_has_no_name() -> None:
    body = b"--b0und\r\nContent-Disposition: form-data; name=a b\r\n\r\nx\r\n--b0und--"
    reader = reader_for(body)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    with pytest.warns(BadContentDispositionHeader):
        assert part.name is None
    assert part.filename is None


# --- Response wrapper ---------------------------------------------------------------------------


async def test_from_response_wrapper() -> None:
    class FakeResponse:
        def __init__(self) -> None:
            self.headers = CTYPE
            self.content = ChunkedContent([SIMPLE])
            self.released = False

        async def release(self) -> None:
            self.released = True

    resp = FakeResponse()
    wrapper = MultipartReader.from_response(resp)
    assert isinstance(wrapper, MultipartResponseWrapper)
    parts = []
    async for part in wrapper:
        assert isinstance(part, BodyPartReader)
        parts.append(await part.read())
        assert not resp.released
    assert parts == [b"hello\r\nworld", b'{"a": 1}']
    assert resp.released
    assert wrapper.at_eof()


async def test_payload_types_in_writer() -> None:
    writer = MultipartWriter(boundary="p")
    payload = writer.append(BytesPayload(b"x"), {"X-A": "1"})
    assert payload.headers["X-A"] == "1"
    text = writer.append(StringPayload("y"))
    assert text.headers["Content-Length"] == "1"
    assert json.loads((await writer.append_json([1]).as_bytes()).decode()) == [1]
