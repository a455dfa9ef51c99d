"""Property tests of the multipart reader on damaged bodies, and of writer → reader round trips.

``tests/test_multipart.py`` covers any split of *valid* bodies and random bytes after a
boundary. Here the inputs are valid bodies (nested ones included) damaged by a few edits —
truncation, flipped, inserted or deleted bytes — which reach the reader's deeper states. For
every input:

- reading ends within a time limit (``asyncio.wait_for``): no hang, whatever the damage;
- it ends either with parts or with `MultipartError` (the documented ``ValueError`` subclass),
  never another exception;
- the outcome (the parts, or the error and its message) is the same however the body is split
  into reads;
- through ``request.post()`` the damage becomes ``HTTPBadRequest`` (400), never a 500 (the one
  ``ValueError`` left is aiohttp's for a well-formed nested multipart part, which ``post()``
  does not read).

And whatever names, file names and contents a form has, `MultipartWriter` output read back by
`MultipartReader` (in arbitrary pieces) gives them back exactly.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from aiohyper import FormData, MultipartReader, MultipartWriter, web
from aiohyper.base_protocol import BaseProtocol
from aiohyper.multipart import BodyPartReader, MultipartError
from aiohyper.streams import StreamReader
from aiohyper.test_utils import make_mocked_request

# Damaged Content-Disposition headers are ignored with a warning; that is expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::aiohyper.multipart.BadContentDispositionHeader"),
    pytest.mark.filterwarnings("ignore::aiohyper.multipart.BadContentDispositionParam"),
]

TIME_LIMIT = 2.0  # seconds: far more than any of these small bodies needs

NESTED = (
    b"--in\r\nContent-Type: text/plain\r\n\r\ninner one\r\n--in\r\n\r\ninner\r\ntwo\r\n--in--\r\n"
)
BODIES = [
    # A browser-style form: text field, file with binary look-alikes, empty part.
    (
        "outer",
        b"--outer\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\n'
        b"hello\r\n"
        b"--outer\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\r\n--oute\r\n--outerX\n--outer\r\r\n\x00--\r\n"
        b"--outer\r\n"
        b'Content-Disposition: form-data; name="empty"\r\n\r\n'
        b"\r\n"
        b"--outer--\r\n",
    ),
    # Preamble, padding after a boundary, nested multipart, epilogue.
    (
        "outer",
        b"preamble\r\n--outer \t\r\nX-A: 1\r\n\r\nfirst\r\n"
        b"--outer\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n"
        + NESTED
        + b"\r\n--outer\r\n\r\nlast\r\n--outer--\r\nepilogue",
    ),
]


class PieceContent:
    """A body handed out in exactly the given pieces."""

    def __init__(self, data: bytes, cuts: list[int]) -> None:
        points = sorted({c for c in cuts if 0 < c < len(data)})
        bounds = [0, *points, len(data)]
        self.pieces = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]

    async def readany(self) -> bytes:
        await asyncio.sleep(0)
        return self.pieces.pop(0) if self.pieces else b""

    def at_eof(self) -> bool:
        return not self.pieces


async def collect(reader: MultipartReader) -> list[Any]:
    result: list[Any] = []
    while (part := await reader.next()) is not None:
        if isinstance(part, MultipartReader):
            result.append(await collect(part))
        else:
            assert isinstance(part, BodyPartReader)
            result.append((sorted(part.headers.items()), bytes(await part.read())))
    return result


async def outcome(boundary: str, body: bytes, cuts: list[int]) -> Any:
    """The parts read from ``body`` split at ``cuts``, or ``("error", message)``."""
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    try:
        return await asyncio.wait_for(
            collect(MultipartReader(headers, PieceContent(body, cuts))), TIME_LIMIT
        )
    except MultipartError as exc:
        assert str(exc)
        return ("error", str(exc))


_edit = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "truncate"]),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from([b"\r", b"\n", b"-", b"\x00", b" ", b":", b"o", b"\xff"]),
)


def damage(body: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    for op, pos, byte in edits:
        if not body:
            break
        pos %= len(body)
        if op == "flip":
            body = body[:pos] + bytes([body[pos] ^ byte[0] or 1]) + body[pos + 1 :]
        elif op == "insert":
            body = body[:pos] + byte + body[pos:]
        elif op == "delete":
            body = body[:pos] + body[pos + 1 :]
        else:
            body = body[:pos]
    return body


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(range(len(BODIES))),
    edits=st.lists(_edit, min_size=1, max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=25),
)
def test_damaged_bodies_end_the_same_way_for_any_split(
    which: int, edits: list[tuple[str, int, bytes]], cuts: list[int]
) -> None:
    boundary, body = BODIES[which]
    body = damage(body, edits)

    async def run() -> tuple[Any, Any, Any]:
        whole = await outcome(boundary, body, [])
        split = await outcome(boundary, body, cuts)
        bytewise = await outcome(boundary, body, list(range(len(body))))
        return whole, split, bytewise

    whole, split, bytewise = asyncio.run(run())
    assert split == whole
    assert bytewise == whole


@pytest.mark.parametrize("which", range(len(BODIES)))
async def test_every_truncation_is_an_error(which: int) -> None:
    # Cut anywhere before the closing boundary's end: a MultipartError, not a short result.
    boundary, body = BODIES[which]
    closing = body.index(b"--" + boundary.encode() + b"--") + len(boundary) + 4
    for end in range(closing):
        result = await outcome(boundary, body[:end], [end // 2])
        assert result[0] == "error", (end, result)


async def post_outcome(boundary: str, body: bytes, chunk: int) -> Any:
    """What ``request.post()`` makes of a multipart/form-data ``body`` fed in ``chunk``s."""
    loop = asyncio.get_running_loop()
    payload = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    for pos in range(0, len(body), chunk):
        payload.feed_data(body[pos : pos + chunk])
    payload.feed_eof()
    request = make_mocked_request(
        "POST",
        "/",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        payload=payload,
    )
    try:
        form = await asyncio.wait_for(request.post(), TIME_LIMIT)
    except web.HTTPBadRequest as exc:
        return ("400", exc.text)
    except ValueError as exc:
        if "nested multipart" not in str(exc):
            raise
        return ("nested", str(exc))
    return [(name, value if isinstance(value, str) else "file") for name, value in form.items()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(range(len(BODIES))),
    edits=st.lists(_edit, max_size=3),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_damaged_forms_are_400_not_500(
    which: int, edits: list[tuple[str, int, bytes]], chunk: int
) -> None:
    boundary, body = BODIES[which]
    body = damage(body, edits)

    async def run() -> Any:
        return await post_outcome(boundary, body, chunk)

    # Anything but HTTPBadRequest (a ValueError, a KeyError...) escapes and fails the test.
    asyncio.run(run())


async def test_nested_parts_through_post() -> None:
    # A nested part without a boundary is a malformed body (400); a well-formed one is the
    # ValueError aiohttp raises, since post() does not read nested parts.
    head = b'--o\r\nContent-Disposition: form-data; name="n"\r\n'
    broken = head + b"Content-Type: multipart/mixed\r\n\r\nxx\r\n--o--\r\n"
    assert await post_outcome("o", broken, 5) == (
        "400",
        "Bad multipart/form-data: invalid nested multipart part: "
        "boundary missed for Content-Type: multipart/mixed",
    )
    assert (await outcome("o", broken, []))[0] == "error"
    nested = head + b"Content-Type: multipart/mixed; boundary=in\r\n\r\n" + NESTED
    assert (await post_outcome("o", nested + b"\r\n--o--\r\n", 5))[0] == "nested"


# --- writer → reader round trips ---------------------------------------------------------------

# Names and file names: any text a form may carry in a header (no CR, LF or NUL).
_header_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"),
    min_size=1,
    max_size=20,
)
_content = st.lists(
    st.sampled_from([b"\r\n", b"--", b"\r\n--", b"\r", b"\n", b"x", b"\xff\x00"])
    | st.binary(max_size=30),
    max_size=10,
).map(b"".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.lists(
        st.tuples(_header_text, st.none() | _header_text, _content), min_size=1, max_size=4
    ),
    quote_fields=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=20),
)
def test_form_round_trip(
    fields: list[tuple[str, str | None, bytes]], quote_fields: bool, cuts: list[int]
) -> None:
    form = FormData(quote_fields=quote_fields)
    for name, filename, data in fields:
        form.add_field(name, data, filename=filename or "f", content_type="application/x-y")

    async def run() -> list[tuple[str | None, str | None, bytes]]:
        writer = form()
        assert isinstance(writer, MultipartWriter)
        body = await writer.as_bytes()
        assert writer.size == len(body)
        headers = {"Content-Type": writer.content_type}
        reader = MultipartReader(headers, PieceContent(body, cuts))
        parts = []
        while (part := await asyncio.wait_for(reader.next(), TIME_LIMIT)) is not None:
            assert isinstance(part, BodyPartReader)
            parts.append((part.name, part.filename, bytes(await part.read())))
        return parts

    assert asyncio.run(run()) == [(name, filename or "f", data) for name, filename, data in fields]
