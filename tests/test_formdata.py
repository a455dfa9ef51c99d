"""Tests for aiohyper.formdata.FormData."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from multidict import MultiDict, MultiDictProxy

from aiohyper.formdata import FormData
from aiohyper.multipart import BodyPartReader, MultipartReader, MultipartWriter
from aiohyper.payload import BytesPayload


class Content:
    """The whole body in one piece, for MultipartReader."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def readany(self) -> bytes:
        data, self.data = self.data, b""
        return data

    def at_eof(self) -> bool:
        return not self.data


async def read_back(form: FormData) -> list[tuple[str | None, str | None, dict[str, str], bytes]]:
    """Encode the form and parse it again: (name, filename, headers, data) per field."""
    payload = form()
    assert isinstance(payload, MultipartWriter)
    body = await payload.as_bytes()
    assert payload.size is None or payload.size == len(body)
    reader = MultipartReader(payload.headers, Content(body))
    fields = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        fields.append((part.name, part.filename, dict(part.headers), bytes(await part.read())))
    return fields


# --- urlencoded -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"a": "1", "b": "ф"},
        [("a", "1"), ("b", "ф")],
        (("a", "1"), ("b", "ф")),
        MultiDict([("a", "1"), ("b", "ф")]),
        MultiDictProxy(MultiDict([("a", "1"), ("b", "ф")])),
    ],
)
async def test_urlencoded(fields: Any) -> None:
    form = FormData(fields)
    assert not form.is_multipart
    payload = form()
    assert isinstance(payload, BytesPayload)
    assert payload.content_type == "application/x-www-form-urlencoded"
    assert await payload.as_bytes() == b"a=1&b=%D1%84"
    assert payload.size == len(b"a=1&b=%D1%84")


async def test_urlencoded_repeated_names_and_charset() -> None:
    form = FormData(charset="cp1251")
    form.add_field("a", "ф")
    form.add_field("a", "x y&z")
    payload = form()
    assert payload.content_type == "application/x-www-form-urlencoded; charset=cp1251"
    assert await payload.as_bytes() == b"a=%F4&a=x+y%26z"
    # Calling again gives the same body.
    assert await form().as_bytes() == b"a=%F4&a=x+y%26z"


async def test_empty_form() -> None:
    payload = FormData()()
    assert await payload.as_bytes() == b""


# --- what makes a form multipart ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content_type": "text/html"},
        {"filename": "f.txt"},
        {"content_transfer_encoding": "base64"},
    ],
)
def test_optional_arguments_make_multipart(kwargs: dict[str, str]) -> None:
    form = FormData()
    form.add_field("a", "1")
    assert not form.is_multipart
    form.add_field("b", "2", **kwargs)
    assert form.is_multipart
    assert isinstance(form(), MultipartWriter)


def test_file_object_makes_multipart() -> None:
    assert FormData({"file": io.BytesIO(b"x")}).is_multipart
    assert FormData(default_to_multipart=True).is_multipart


async def test_bytes_value_is_a_file_named_after_the_field() -> None:
    form = FormData()
    form.add_field("blob", b"\x00\x01")
    assert form.is_multipart
    [(name, filename, headers, data)] = await read_back(form)
    assert (name, filename, data) == ("blob", "blob", b"\x00\x01")
    assert headers["Content-Type"] == "application/octet-stream"


async def test_bytes_with_transfer_encoding_has_no_filename() -> None:
    form = FormData()
    form.add_field("blob", b"hi", content_transfer_encoding="base64")
    [(name, filename, headers, data)] = await read_back(form)
    assert (name, filename) == ("blob", None)
    assert headers["Content-Transfer-Encoding"] == "base64"
    assert data == b"aGk=\r\n"


async def test_multipart_fields(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n")
    form = FormData(default_to_multipart=True)
    form.add_field("text", "значение")
    form.add_field("html", "<b>x</b>", content_type="text/html")
    with path.open("rb") as f:
        form.add_field("file", f)
        form.add_field("renamed", io.BytesIO(b"data"), filename="other.bin")
        form.add_field("nameless", io.BytesIO(b"data2"))
        fields = await read_back(form)
    assert fields[0][:2] == ("text", None)
    assert fields[0][2]["Content-Type"] == "text/plain; charset=utf-8"
    assert fields[0][3] == "значение".encode()
    assert fields[1][2]["Content-Type"] == "text/html"
    assert fields[2][:2] == ("file", "report.csv")
    assert fields[2][2]["Content-Type"] == "text/csv"
    assert fields[2][3] == b"a,b\r\n1,2\r\n"
    assert fields[3][:2] == ("renamed", "other.bin")
    assert fields[4][:2] == ("nameless", "nameless")  # no file name: the field name
    for _, _, headers, _ in fields:
        assert "Content-Length" not in headers  # RFC 7578 §4.8
        assert headers["Content-Disposition"].startswith("form-data; ")


async def test_add_fields_variants(tmp_path: Path) -> None:
    path = tmp_path / "up.txt"
    path.write_bytes(b"up")
    with path.open("rb") as f:
        form = FormData()
        form.add_fields(f, MultiDict([("m", "1")]), ("pair", "2"), ["list", "3"])
        fields = await read_back(form)
    assert [(n, fn) for n, fn, _, _ in fields] == [
        ("up.txt", "up.txt"),
        ("m", None),
        ("pair", None),
        ("list", None),
    ]
    form = FormData(io.BytesIO(b"x"))  # a lone file object
    assert [(n, fn) for n, fn, _, _ in await read_back(form)] == [("unknown", "unknown")]


def test_add_fields_rejects_bad_records() -> None:
    with pytest.raises(TypeError):
        FormData().add_fields(("a", "b", "c"))
    with pytest.raises(TypeError):
        FormData().add_fields("ab")
    with pytest.raises(TypeError):
        FormData([object()])


def test_add_field_type_checks() -> None:
    form = FormData()
    with pytest.raises(TypeError):
        form.add_field("a", "b", filename=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        form.add_field("a", "b", content_type=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        form.add_field("a", "b", content_transfer_encoding=1)  # type: ignore[arg-type]


def test_unserializable_value() -> None:
    form = FormData()
    form.add_field("a", object(), content_type="text/plain")
    with pytest.raises(TypeError, match="Can not serialize"):
        form()


@pytest.mark.parametrize("quote_fields", [True, False])
async def test_non_ascii_names(quote_fields: bool) -> None:
    form = FormData(quote_fields=quote_fields)
    form.add_field("поле", io.BytesIO(b"x"), filename="отчёт.txt")
    [(name, filename, headers, _)] = await read_back(form)
    assert (name, filename) == ("поле", "отчёт.txt")
    disposition = headers["Content-Disposition"]
    if quote_fields:
        assert "filename*=utf-8''" in disposition
    else:
        assert disposition == 'form-data; name="поле"; filename="отчёт.txt"'


async def test_charset_applies_to_text_fields() -> None:
    form = FormData(charset="cp1251", default_to_multipart=True)
    form.add_field("t", "ф")
    [(_, _, headers, data)] = await read_back(form)
    assert headers["Content-Type"] == "text/plain; charset=cp1251"
    assert data == "ф".encode("cp1251")


async def test_multipart_is_built_once() -> None:
    form = FormData()
    form.add_field("f", io.BytesIO(b"data"), filename="f.bin")
    first = form()
    assert form() is first  # a redirect re-sends the same body
    assert await first.as_bytes() == await form().as_bytes()
    with pytest.raises(RuntimeError):
        form.add_field("late", "x")


async def test_boundary_argument() -> None:
    form = FormData(boundary="fixed-boundary", default_to_multipart=True)
    form.add_field("a", "1")
    payload = form()
    assert payload.content_type == "multipart/form-data; boundary=fixed-boundary"
    body = await payload.as_bytes()
    assert body.startswith(b"--fixed-boundary\r\n")
    assert body.endswith(b"--fixed-boundary--\r\n")
