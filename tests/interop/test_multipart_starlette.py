"""Our `FormData` and `MultipartWriter`, sent by our client to starlette (python-multipart) on
uvicorn.

The app (``apps/multipart_app.py``) parses the form with a parser that is not ours and answers
each field: text values, and for files the file name, content type, size and SHA-256. So the
tests check what our writer put on the wire, byte for byte, from the other side of a socket:
binary content full of multipart look-alikes (including near misses of the real boundary),
several files, files from disk, non-ASCII names, chunked bodies of unknown size, urlencoded
forms.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import aiohyper as aiohttp

# Fixtures (conftest.py): peers, tricky_bytes.

pytestmark = pytest.mark.timeout(30)

BOUNDARY = "ourBoundary-0123456789"
NEAR_MISSES = (
    b"\r\n--" + BOUNDARY[:-1].encode(),  # a prefix of the delimiter
    b"\r\n--" + BOUNDARY[:-1].encode() + b"X\r\n",  # the last character differs
    # (Not "\n--boundary": python-multipart leniently takes a bare LF for CRLF there.)
    b"\r--" + BOUNDARY.encode() + b"--\r\n",  # CR alone before it
    b"x--" + BOUNDARY.encode() + b"--",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def starlette_url(peers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("starlette")
    pytest.importorskip("multipart")
    workdir = tmp_path_factory.mktemp("starlette")
    with peers.uvicorn("starlette", workdir=workdir, app="multipart_app:app") as peer:
        yield peer.base_url


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


async def post_form(session: aiohttp.ClientSession, url: str, data: Any) -> dict[str, Any]:
    async with session.post(url + "/form", data=data) as resp:
        text = await resp.text()
        assert resp.status == 200, text
        answer: dict[str, Any] = json.loads(text)
        return answer


def files_of(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(name, filename, content type, size, sha256) per file, (name, value) per text field."""
    out: list[tuple[Any, ...]] = []
    for field in answer["fields"]:
        if "value" in field:
            out.append((field["name"], field["value"]))
        else:
            out.append(
                (
                    field["name"],
                    field["filename"],
                    field["content_type"],
                    field["size"],
                    field["sha256"],
                )
            )
    return out


async def test_formdata_files_and_fields(
    session: aiohttp.ClientSession,
    starlette_url: str,
    tmp_path: Path,
    tricky_bytes: Callable[..., bytes],
) -> None:
    big = tricky_bytes(31, 2_500_000, NEAR_MISSES)
    small = tricky_bytes(32, 4_000, NEAR_MISSES)
    on_disk = tmp_path / "report.xls"
    disk_data = tricky_bytes(33, 700_000, NEAR_MISSES)
    on_disk.write_bytes(disk_data)

    form = aiohttp.FormData(quote_fields=False, boundary=BOUNDARY)
    form.add_field("title", "hello world")
    form.add_field("note", "caf\u00e9 \u2713\r\nline two")
    form.add_field("blob", big)  # bytes: sent as a file named after the field
    form.add_field("files", io.BytesIO(small), filename="small.png", content_type="image/png")
    with on_disk.open("rb") as disk_file:
        form.add_field(
            "files", disk_file, filename="report.xls", content_type="application/vnd.ms-excel"
        )
        form.add_field("named", b"x\r\n--", filename="na\u00efve \u65e5\u672c.bin")
        form.add_field("empty", b"", filename="empty.bin", content_type="text/plain")
        answer = await post_form(session, starlette_url, form)

    assert answer["content_type"] == f"multipart/form-data; boundary={BOUNDARY}"
    assert answer["transfer_encoding"] is None and answer["content_length"] is not None
    assert files_of(answer) == [
        ("title", "hello world"),
        ("note", "caf\u00e9 \u2713\r\nline two"),
        ("blob", "blob", "application/octet-stream", len(big), sha256(big)),
        ("files", "small.png", "image/png", len(small), sha256(small)),
        ("files", "report.xls", "application/vnd.ms-excel", len(disk_data), sha256(disk_data)),
        (
            "named",
            "na\u00efve \u65e5\u672c.bin",
            "application/octet-stream",
            5,
            sha256(b"x\r\n--"),
        ),
        ("empty", "empty.bin", "text/plain", 0, sha256(b"")),
    ]


async def test_formdata_quoted_non_ascii_filename(
    session: aiohttp.ClientSession, starlette_url: str
) -> None:
    # quote_fields=True (the default) sends filename="<percent-encoded>" plus filename*=;
    # python-multipart reads the plain parameter, which decodes back to the name.
    name = "r\u00e9sum\u00e9 \u2713.pdf"
    form = aiohttp.FormData()
    form.add_field("doc", b"%PDF-1.7\r\n", filename=name, content_type="application/pdf")
    answer = await post_form(session, starlette_url, form)
    (field,) = answer["fields"]
    assert unquote(field["filename"]) == name
    disposition = dict(field["headers"])["content-disposition"]
    assert "filename*=utf-8''r%C3%A9sum%C3%A9%20%E2%9C%93.pdf" in disposition
    assert field["size"] == 10 and field["sha256"] == sha256(b"%PDF-1.7\r\n")


async def test_dict_with_an_open_file(
    session: aiohttp.ClientSession, starlette_url: str, tmp_path: Path
) -> None:
    # The quickstart's "files = {'file': open('report.xls', 'rb')}; post(url, data=files)".
    path = tmp_path / "report.xls"
    path.write_bytes(b"\x00\r\n--\xff" * 5000)
    with path.open("rb") as file:
        answer = await post_form(session, starlette_url, {"file": file, "k": "v"})
    fields = files_of(answer)
    assert fields[1] == ("k", "v")
    name, filename, ctype, size, digest = fields[0]
    assert (name, filename, size, digest) == (
        "file",
        "report.xls",
        path.stat().st_size,
        sha256(path.read_bytes()),
    )
    assert ctype == "application/vnd.ms-excel"  # guessed from the file name


async def test_urlencoded_formdata(session: aiohttp.ClientSession, starlette_url: str) -> None:
    form = aiohttp.FormData([("a", "1"), ("b", "caf\u00e9 & co=\u2713"), ("a", "2")])
    assert not form.is_multipart
    answer = await post_form(session, starlette_url, form)
    assert answer["content_type"] == "application/x-www-form-urlencoded"
    assert files_of(answer) == [("a", "1"), ("b", "caf\u00e9 & co=\u2713"), ("a", "2")]


async def test_multipart_writer_with_streamed_parts(
    session: aiohttp.ClientSession, starlette_url: str, tricky_bytes: Callable[..., bytes]
) -> None:
    # A part of unknown size (an async generator) makes the whole body chunked.
    stream_data = tricky_bytes(41, 1_000_000, NEAR_MISSES)
    fixed = tricky_bytes(42, 70_000, NEAR_MISSES)

    async def produce() -> AsyncIterator[bytes]:
        step = 1
        pos = 0
        while pos < len(stream_data):
            yield stream_data[pos : pos + step]
            pos += step
            step = step * 7 % 100_003 + 1

    with aiohttp.MultipartWriter("form-data", boundary=BOUNDARY) as writer:
        part = writer.append(fixed)
        part.set_content_disposition("form-data", name="fixed", filename="fixed.bin")
        part = writer.append(produce(), {"Content-Type": "video/mp4"})
        part.set_content_disposition("form-data", name="stream", filename="movie.mp4")
        part = writer.append("plain \u2713 text")
        part.set_content_disposition("form-data", name="text")
        part = writer.append_json({"k": [1, "\u2713"]})
        part.set_content_disposition("form-data", name="json")
    assert writer.size is None
    answer = await post_form(session, starlette_url, writer)
    assert answer["transfer_encoding"] == "chunked"
    assert files_of(answer) == [
        ("fixed", "fixed.bin", "application/octet-stream", len(fixed), sha256(fixed)),
        ("stream", "movie.mp4", "video/mp4", len(stream_data), sha256(stream_data)),
        ("text", "plain \u2713 text"),
        ("json", '{"k": [1, "\\u2713"]}'),
    ]


async def test_writer_size_matches_the_wire(
    session: aiohttp.ClientSession, starlette_url: str, tricky_bytes: Callable[..., bytes]
) -> None:
    # The declared Content-Length is the exact byte count, and the body is what as_bytes gives.
    form = aiohttp.FormData(boundary=BOUNDARY)
    form.add_field("a", tricky_bytes(51, 10_000, NEAR_MISSES), filename="\u2713.bin")
    form.add_field("b", "text")
    payload = form()
    expected = await payload.as_bytes()
    assert payload.size == len(expected)
    async with session.post(starlette_url + "/raw", data=payload) as resp:
        answer = await resp.json()
    assert answer["size"] == len(expected)
    assert answer["sha256"] == sha256(expected)


async def test_path_values_are_not_documented_form_values() -> None:
    # The documented values are str, bytes-like and file objects; a Path must be opened first.
    form = aiohttp.FormData()
    form.add_field("f", Path(__file__), filename="x.py")
    with pytest.raises(TypeError):
        form()
