"""httpx multipart and urlencoded uploads (``files=`` / ``data=``) to our server.

httpx writes multipart bodies with its own code (boundary, quoting, streaming of file objects).
The server (``form_echo`` in conftest.py) answers what ``request.post()`` and
``request.multipart()`` read, so the tests check byte-exact arrival from another writer. The
other way round, a multipart response our server writes is read by httpx and parsed by
python-multipart.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import aiohyper as aiohttp
from aiohyper import web

httpx = pytest.importorskip("httpx")

# Fixtures (conftest.py): form_echo, serve_app, tricky_bytes.

pytestmark = pytest.mark.timeout(30)

ENDPOINTS = ["/post", "/multipart"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def described(endpoint: str, answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(name, filename, content type, size, sha256) per file; (name, text) per text field."""
    out: list[tuple[Any, ...]] = []
    for field in answer["fields"]:
        if endpoint == "/post" and "value" in field:
            out.append((field["name"], field["value"]))
        elif endpoint == "/multipart" and field["filename"] is None:
            out.append((field["name"], field["text"]))
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


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_files_and_data(
    form_echo: str, tmp_path: Path, tricky_bytes: Callable[..., bytes], endpoint: str
) -> None:
    big = tricky_bytes(11, 1_200_000, (b"\r\n--", b"\r\n--boundary"))
    small = tricky_bytes(12, 3_000)
    on_disk = tmp_path / "from disk.dat"
    on_disk.write_bytes(tricky_bytes(13, 300_000))
    with on_disk.open("rb") as disk_file:
        files = [
            ("upload", ("big.bin", big, "application/octet-stream")),
            ("upload", ("small.bin", io.BytesIO(small), "image/jpeg")),
            ("disk", ("from disk.dat", disk_file, "application/x-data")),
            ("u", ("\u00fcber \u2713.txt", b"umlaut\r\n", "text/plain")),
            ("empty", ("empty.bin", b"", "application/octet-stream")),
        ]
        data = {"title": "hello", "multi": ["one", "two \u2713"], "crlf": "a\r\nb"}
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.post(form_echo + endpoint, data=data, files=files)
    assert response.status_code == 200, response.text
    fields = described(endpoint, response.json())
    expected_files = [
        ("upload", "big.bin", "application/octet-stream", len(big), sha256(big)),
        ("upload", "small.bin", "image/jpeg", len(small), sha256(small)),
        (
            "disk",
            "from disk.dat",
            "application/x-data",
            300_000,
            sha256(on_disk.read_bytes()),
        ),
        ("u", "\u00fcber \u2713.txt", "text/plain", 8, sha256(b"umlaut\r\n")),
        ("empty", "empty.bin", "application/octet-stream", 0, sha256(b"")),
    ]
    expected_text = [
        ("title", "hello"),
        ("multi", "one"),
        ("multi", "two \u2713"),
        ("crlf", "a\r\nb"),
    ]
    # httpx sends the data= fields before the files.
    assert fields == expected_text + expected_files


async def test_urlencoded_data(form_echo: str) -> None:
    data = {"a": "1", "b": ["x y", "caf\u00e9 & co=\u2713"], "empty": ""}
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(form_echo + "/post", data=data)
    assert response.status_code == 200, response.text
    assert response.json()["fields"] == [
        {"name": "a", "value": "1"},
        {"name": "b", "value": "x y"},
        {"name": "b", "value": "caf\u00e9 & co=\u2713"},
        {"name": "empty", "value": ""},
    ]


async def test_streamed_multipart_body(form_echo: str, tricky_bytes: Callable[..., bytes]) -> None:
    # httpx builds the body itself; we send it chunked (no Content-Length) in uneven pieces.
    content = tricky_bytes(21, 500_000, (b"\r\n--streamed-boundar",))
    request = httpx.Request(
        "POST",
        form_echo + "/multipart",
        files={"f": ("s.bin", content, "application/octet-stream")},
        data={"k": "v"},
        headers={},
    )
    body = request.read()
    ctype = request.headers["Content-Type"]

    async def pieces() -> Any:
        step = 1
        pos = 0
        while pos < len(body):
            yield body[pos : pos + step]
            pos += step
            step = step * 3 % 65_521 + 1

    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            form_echo + "/multipart", content=pieces(), headers={"Content-Type": ctype}
        )
    assert response.status_code == 200, response.text
    assert described("/multipart", response.json()) == [
        ("k", "v"),
        ("f", "s.bin", "application/octet-stream", len(content), sha256(content)),
    ]


def parse_with_python_multipart(
    boundary: bytes, body: bytes
) -> list[tuple[dict[str, str], bytes]]:
    """The parts of ``body`` as python-multipart (starlette's parser) reads them."""
    parser_module = pytest.importorskip("multipart.multipart")
    parts: list[tuple[dict[str, str], bytearray]] = []
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        parts.append(({}, bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        parts[-1][0][header[0].decode("latin-1").lower()] = header[1].decode("latin-1")
        header[:] = [b"", b""]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    parser = parser_module.MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
        },
    )
    parser.write(body)
    parser.finalize()
    return [(headers, bytes(data)) for headers, data in parts]


async def test_multipart_response_read_by_httpx(
    serve_app: Any, tricky_bytes: Callable[..., bytes]
) -> None:
    # The other direction: our MultipartWriter as a response body, checked by a foreign parser
    # (and by our own client reader over the same server).
    blob = tricky_bytes(61, 400_000, (b"\r\n--resp-boundar",))

    async def handler(request: web.Request) -> web.Response:
        writer = aiohttp.MultipartWriter("mixed", boundary="resp-boundary")
        writer.append_json({"k": "\u2713"})
        writer.append(blob, {"Content-Type": "application/octet-stream"})
        writer.append("caf\u00e9\r\n").set_content_disposition("attachment", filename="t.txt")
        return web.Response(body=writer)

    app = web.Application()
    app.router.add_get("/", handler)
    url = await serve_app(app)
    expected = [
        ("application/json", b'{"k": "\\u2713"}'),
        ("application/octet-stream", blob),
        ("text/plain; charset=utf-8", "caf\u00e9\r\n".encode()),
    ]

    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.headers["content-type"] == "multipart/mixed; boundary=resp-boundary"
    assert int(response.headers["content-length"]) == len(response.content)
    parts = parse_with_python_multipart(b"resp-boundary", response.content)
    assert [(headers["content-type"], data) for headers, data in parts] == expected
    assert parts[2][0]["content-disposition"] == 'attachment; filename="t.txt"'

    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        reader = aiohttp.MultipartReader.from_response(resp)
        ours = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            ours.append((part.headers["Content-Type"], bytes(await part.read())))
        assert ours == expected
        assert reader.at_eof()
