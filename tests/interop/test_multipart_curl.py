"""``curl -F`` uploads to our server, read with ``request.post()`` and ``request.multipart()``.

curl is an independent multipart writer: its boundary, header layout and filename quoting are
its own. The server (``form_echo`` in conftest.py) answers what it read for each field (name,
filename, content type, size, SHA-256), so each test checks byte-exact arrival of binary files
full of CR, LF, ``--`` and boundary-looking lines, of several files in one request, of non-ASCII
file names (raw UTF-8 from curl, RFC 5987 ``filename*=`` from a hand-built body) and of text
fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Fixtures (conftest.py): curl, run_command, form_echo, tricky_bytes.

pytestmark = pytest.mark.timeout(30)

ENDPOINTS = ["/post", "/multipart"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def curl_json(run_command: Any, curl: str, *args: str) -> dict[str, Any]:
    result = await run_command(curl, "-sS", "--fail-with-body", *args, timeout=20)
    assert result.returncode == 0, (result.stdout, result.stderr)
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def file_entry(endpoint: str, name: str, filename: str, ctype: str, data: bytes) -> dict[str, Any]:
    """What the server reports for an uploaded file, on either endpoint."""
    entry: dict[str, Any] = {
        "name": name,
        "filename": filename,
        "content_type": ctype,
        "size": len(data),
        "sha256": sha256(data),
    }
    if endpoint == "/multipart":
        entry["text"] = None
    return entry


def text_entry(endpoint: str, name: str, value: str) -> dict[str, Any]:
    if endpoint == "/post":
        return {"name": name, "value": value}
    data = value.encode()
    return {
        "name": name,
        "filename": None,
        "content_type": None,
        "size": len(data),
        "sha256": sha256(data),
        "text": value,
    }


def strip_post_extras(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the ``request.post()``-only keys checked separately (``field_name``, headers)."""
    out = []
    for field in fields:
        field = dict(field)
        if "field_name" in field:
            assert field.pop("field_name") == field["name"]
            headers = dict(field.pop("headers"))
            assert "Content-Disposition" in headers
        out.append(field)
    return out


@pytest.fixture
def upload_files(tmp_path: Path, tricky_bytes: Callable[..., bytes]) -> dict[str, Path]:
    """Files for curl to send: binary ones full of multipart look-alikes (one larger than the
    server's in-memory spool, so it goes to disk), an empty one, CRLF text, and one with a
    non-ASCII name."""
    near_misses = (
        b"\r\n--------------------------",  # curl's boundaries start with 24 dashes
        b"\r\n----------------------------\r\n",
        b"--------------------------abcdef0123456789--\r\n",
    )
    contents = {
        "big.bin": tricky_bytes(1, 700_000, near_misses),
        "small.bin": tricky_bytes(2, 5_000, near_misses),
        "empty.bin": b"",
        "lines.txt": b"first line\r\nsecond line\n\r\n--\r\n-- \r\nlast line without newline",
        "na\u00efve r\u00e9sum\u00e9 \u2713.bin": tricky_bytes(3, 20_000, near_misses),
        "trailing-crlf.bin": b"\x00\x01binary\r\n",
    }
    paths = {}
    for name, data in contents.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths[name] = path
    return paths


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_several_files_and_fields(
    curl: str,
    run_command: Any,
    form_echo: str,
    upload_files: dict[str, Path],
    endpoint: str,
) -> None:
    files = upload_files
    answer = await curl_json(
        run_command,
        curl,
        "-F",
        f"files=@{files['big.bin']};type=application/octet-stream",
        "-F",
        f"files=@{files['small.bin']};type=image/png",
        "-F",
        "title=hello world",
        "-F",
        f"empty=@{files['empty.bin']};type=application/octet-stream",
        "--form-string",
        'note=semi;colon "quoted" caf\u00e9\r\nsecond line',
        "-F",
        f"text=@{files['lines.txt']};type=text/plain",
        "-F",
        f"last=@{files['trailing-crlf.bin']};type=application/x-thing",
        form_echo + endpoint,
    )
    data = {name: path.read_bytes() for name, path in files.items()}
    expected = [
        file_entry(endpoint, "files", "big.bin", "application/octet-stream", data["big.bin"]),
        file_entry(endpoint, "files", "small.bin", "image/png", data["small.bin"]),
        text_entry(endpoint, "title", "hello world"),
        file_entry(endpoint, "empty", "empty.bin", "application/octet-stream", b""),
        text_entry(endpoint, "note", 'semi;colon "quoted" caf\u00e9\r\nsecond line'),
        file_entry(endpoint, "text", "lines.txt", "text/plain", data["lines.txt"]),
        file_entry(
            endpoint, "last", "trailing-crlf.bin", "application/x-thing", data["trailing-crlf.bin"]
        ),
    ]
    assert strip_post_extras(answer["fields"]) == expected


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_non_ascii_filenames_as_raw_utf8(
    curl: str,
    run_command: Any,
    form_echo: str,
    upload_files: dict[str, Path],
    endpoint: str,
) -> None:
    # curl puts the file's base name (or ;filename=) in filename="..." as raw UTF-8 bytes.
    path = upload_files["na\u00efve r\u00e9sum\u00e9 \u2713.bin"]
    answer = await curl_json(
        run_command,
        curl,
        "-F",
        f"doc=@{path};type=application/pdf",
        "-F",
        f"\u0444\u0430\u0439\u043b=@{path};filename=\u65e5\u672c\u8a9e.bin",
        form_echo + endpoint,
    )
    content = path.read_bytes()
    fields = strip_post_extras(answer["fields"])
    assert fields == [
        file_entry(endpoint, "doc", path.name, "application/pdf", content),
        file_entry(
            endpoint,
            "\u0444\u0430\u0439\u043b",
            "\u65e5\u672c\u8a9e.bin",
            "application/octet-stream",
            content,
        ),
    ]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_text_field_with_a_content_type(
    curl: str, run_command: Any, form_echo: str, endpoint: str
) -> None:
    # A field without filename but with a non-text type: post() gives bytes (as aiohttp does).
    answer = await curl_json(
        run_command,
        curl,
        "-F",
        'meta={"k": [1, 2]};type=application/json',
        "-F",
        "plain=x\u00e9;type=text/plain; charset=utf-8",
        form_echo + endpoint,
    )
    meta = b'{"k": [1, 2]}'
    if endpoint == "/post":
        assert answer["fields"] == [
            {"name": "meta", "bytes_size": len(meta), "sha256": sha256(meta)},
            {"name": "plain", "value": "x\u00e9"},
        ]
    else:
        assert [(f["name"], f["content_type"], f["text"]) for f in answer["fields"]] == [
            ("meta", "application/json", meta.decode()),
            ("plain", "text/plain; charset=utf-8", "x\u00e9"),
        ]


def lookalikes(boundary: bytes) -> bytes:
    """Content with the boundary in it, but never right after a CRLF: not a delimiter."""
    return b"".join(
        [
            b"--" + boundary + b"X is not a delimiter without CRLF before it",
            b"\n--" + boundary + b"\r\nnor with a bare LF",
            b"\r--" + boundary + b"--\r\nor a bare CR",
        ]
    )


def hand_built_body(boundary: bytes, payload: bytes) -> bytes:
    parts = [
        (
            b'Content-Disposition: form-data; name="ext"; filename="fallback.bin"; '
            b"filename*=UTF-8''%E2%9C%93%20na%C3%AFve.bin\r\n"
            b"Content-Type: application/octet-stream\r\n",
            payload,
        ),
        (
            b'Content-Disposition: form-data; name="latin"; '
            b"filename*=iso-8859-1''caf%E9.txt\r\nContent-Type: text/plain\r\n",
            b"latin-1 named\r\n",
        ),
        (
            b'Content-Disposition: form-data; name="quoted"; filename="a \\"q\\" b.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n",
            lookalikes(boundary),
        ),
        (b'Content-Disposition: form-data; name="field"\r\n', b"value\r\n\r\n"),
    ]
    out = [b"preamble that parsers must skip\r\n"]
    for headers, data in parts:
        out += [b"--", boundary, b"\r\n", headers, b"\r\n", data, b"\r\n"]
    out += [b"--", boundary, b"--\r\nepilogue"]
    return b"".join(out)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_rfc5987_filenames_from_a_hand_built_body(
    curl: str,
    run_command: Any,
    form_echo: str,
    tmp_path: Path,
    tricky_bytes: Callable[..., bytes],
    endpoint: str,
) -> None:
    boundary = b"hand-made-boundary-1234"
    payload = tricky_bytes(
        7, 30_000, (b"\r\n--hand-made-boundary-123", b"--hand-made-boundary-1234")
    )
    body_path = tmp_path / "body.bin"
    body_path.write_bytes(hand_built_body(boundary, payload))
    answer = await curl_json(
        run_command,
        curl,
        "-H",
        f"Content-Type: multipart/form-data; boundary={boundary.decode()}",
        "--data-binary",
        f"@{body_path}",
        form_echo + endpoint,
    )
    third = lookalikes(boundary)
    assert strip_post_extras(answer["fields"]) == [
        file_entry(endpoint, "ext", "\u2713 na\u00efve.bin", "application/octet-stream", payload),
        file_entry(endpoint, "latin", "caf\u00e9.txt", "text/plain", b"latin-1 named\r\n"),
        file_entry(endpoint, "quoted", 'a "q" b.bin', "application/octet-stream", third),
        text_entry(endpoint, "field", "value\r\n\r\n"),
    ]


async def test_malformed_upload_is_a_400(
    curl: str, run_command: Any, form_echo: str, tmp_path: Path
) -> None:
    # Cut before the closing boundary: request.post() answers 400, not 500 and not a hang.
    body_path = tmp_path / "cut.bin"
    body_path.write_bytes(b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end')
    result = await run_command(
        curl,
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Content-Type: multipart/form-data; boundary=xyz",
        "--data-binary",
        f"@{body_path}",
        form_echo + "/post",
    )
    assert result.stdout == b"400", result.stderr
