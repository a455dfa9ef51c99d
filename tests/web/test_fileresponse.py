"""FileResponse: preconditions, ranges, pre-compressed siblings, sendfile and its fallback."""

from __future__ import annotations

import asyncio
import gzip
import os
import pathlib
import socket
import zlib
from typing import Any

import pytest
from multidict import CIMultiDict

from aiohyper._http._writer import StreamWriter
from aiohyper.base_protocol import BaseProtocol
from aiohyper.helpers import format_http_date
from aiohyper.test_utils import make_mocked_request
from aiohyper.web import _fileresponse
from aiohyper.web._fileresponse import FileResponse, _parse_range
from aiohyper.web._request import Request
from aiohyper.web._response import ContentCoding

MTIME = 1_700_000_000
CONTENT = b"0123456789abcdefghij"


class FakeTransport(asyncio.Transport):
    """A transport without native sendfile that records what is written."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        super().__init__(extra)
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


class FakeProtocol:
    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writing_paused = False

    async def _drain_helper(self) -> None:
        return None


def make_request(
    method: str = "GET", headers: Any = None, *, extra: dict[str, Any] | None = None
) -> tuple[Request, FakeTransport]:
    transport = FakeTransport(extra)
    protocol = FakeProtocol(transport)
    writer = StreamWriter(protocol, asyncio.get_running_loop())  # type: ignore[arg-type]
    request = make_mocked_request(
        method, "/", headers, writer=writer, protocol=protocol, transport=transport
    )
    return request, transport


def parse(data: bytes) -> tuple[int, CIMultiDict[str], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep
    status_line, *lines = head.decode().split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _, value = line.partition(": ")
        headers.add(name, value)
    return int(status_line.split()[1]), headers, body


def dechunk(body: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        body = rest[size + 2 :]


@pytest.fixture
def text_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "file.txt"
    path.write_bytes(CONTENT)
    os.utime(path, (MTIME, MTIME))
    return path


def etag_of(path: pathlib.Path) -> str:
    st = path.stat()
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


async def serve(
    path: pathlib.Path,
    method: str = "GET",
    headers: Any = None,
    **kwargs: Any,
) -> tuple[int, CIMultiDict[str], bytes, FileResponse]:
    request, transport = make_request(method, headers)
    resp = FileResponse(path, **kwargs)
    await resp.prepare(request)
    await resp.write_eof()  # what the server does next: a no-op here
    status, hdrs, body = parse(transport.data)
    assert status == resp.status
    return status, hdrs, body, resp


# -- plain responses -----------------------------------------------------------------------------


async def test_full_file(text_file: pathlib.Path) -> None:
    status, headers, body, resp = await serve(text_file)
    assert status == 200
    assert body == CONTENT
    assert headers["Content-Length"] == str(len(CONTENT))
    assert headers["Content-Type"] == "text/plain"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Last-Modified"] == format_http_date(MTIME)
    assert headers["ETag"] == f'"{etag_of(text_file)}"'
    assert "Content-Encoding" not in headers
    assert resp.prepared
    assert resp.body_length > len(CONTENT)


async def test_str_path_and_guessed_types(tmp_path: pathlib.Path) -> None:
    for name, expected in [
        ("page.html", "text/html"),
        ("data.unknownext", "application/octet-stream"),
        ("archive.tar.gz", "application/gzip"),
    ]:
        path = tmp_path / name
        path.write_bytes(b"x")
        _, headers, _, _ = await serve(str(path))  # type: ignore[arg-type]
        assert headers["Content-Type"] == expected


async def test_content_type_header_is_kept(text_file: pathlib.Path) -> None:
    request, transport = make_request()
    resp = FileResponse(text_file, headers={"Content-Type": "application/x-custom"})
    await resp.prepare(request)
    assert parse(transport.data)[1]["Content-Type"] == "application/x-custom"


async def test_head(text_file: pathlib.Path) -> None:
    status, headers, body, _ = await serve(text_file, "HEAD")
    assert status == 200
    assert headers["Content-Length"] == str(len(CONTENT))
    assert body == b""


async def test_empty_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    status, headers, body, _ = await serve(path)
    assert (status, headers["Content-Length"], body) == (200, "0", b"")


async def test_missing_file_is_404(tmp_path: pathlib.Path) -> None:
    status, headers, body, _ = await serve(tmp_path / "nope")
    assert status == 404
    assert body == b"404: Not Found"
    assert headers["Content-Length"] == str(len(body))
    status, _, _, _ = await serve(tmp_path / "nope" / "deeper")
    assert status == 404


async def test_directory_is_403(tmp_path: pathlib.Path) -> None:
    status, _, body, _ = await serve(tmp_path)
    assert status == 403 and body == b"403: Forbidden"


async def test_unreadable_file_is_403(
    text_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_fileresponse, "open", refuse, raising=False)
    status, _, _, _ = await serve(text_file)
    assert status == 403


async def test_prepare_is_idempotent(text_file: pathlib.Path) -> None:
    request, transport = make_request()
    resp = FileResponse(text_file)
    assert await resp.prepare(request) is not None
    assert await resp.prepare(request) is None  # eof already sent
    assert parse(transport.data)[2] == CONTENT


async def test_small_chunks(text_file: pathlib.Path) -> None:
    request, transport = make_request()
    resp = FileResponse(text_file, chunk_size=3)
    await resp.prepare(request)
    assert parse(transport.data)[2] == CONTENT


# -- ranges --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-4", (206, 0, 5)),
        ("bytes=5-", (206, 5, 15)),
        ("bytes=-3", (206, 17, 3)),
        ("bytes=-100", (206, 0, 20)),
        ("bytes=10-100", (206, 10, 10)),
        ("bytes=19-19", (206, 19, 1)),
        ("Bytes = 1-2", (206, 1, 2)),
        ("bytes=0-1,4-5", (200, 0, 20)),
        ("bytes= 3-4 ,", (206, 3, 2)),
        ("items=0-1", (200, 0, 20)),
        ("bytes=20-", (416, 0, 0)),
        ("bytes=5-1", (416, 0, 0)),
        ("bytes=-0", (416, 0, 0)),
        ("bytes=-", (416, 0, 0)),
        ("bytes=", (416, 0, 0)),
        ("bytes=a-b", (416, 0, 0)),
        ("bytes=1 -2", (416, 0, 0)),
    ],
)
def test_parse_range(header: str, expected: tuple[int, int, int]) -> None:
    assert _parse_range(header, 20) == expected


def test_parse_range_on_empty_file() -> None:
    assert _parse_range("bytes=0-", 0) == (416, 0, 0)
    assert _parse_range("bytes=-5", 0) == (200, 0, 0)


async def test_range_206(text_file: pathlib.Path) -> None:
    status, headers, body, _ = await serve(text_file, headers={"Range": "bytes=2-5"})
    assert status == 206
    assert body == CONTENT[2:6]
    assert headers["Content-Range"] == f"bytes 2-5/{len(CONTENT)}"
    assert headers["Content-Length"] == "4"


async def test_suffix_range(text_file: pathlib.Path) -> None:
    status, headers, body, _ = await serve(text_file, headers={"Range": "bytes=-4"})
    assert status == 206 and body == CONTENT[-4:]
    assert headers["Content-Range"] == "bytes 16-19/20"


async def test_multiple_ranges_get_the_whole_file(text_file: pathlib.Path) -> None:
    status, headers, body, _ = await serve(text_file, headers={"Range": "bytes=0-1,5-6"})
    assert status == 200 and body == CONTENT and "Content-Range" not in headers


async def test_unsatisfiable_range_416(text_file: pathlib.Path) -> None:
    status, headers, body, _ = await serve(text_file, headers={"Range": "bytes=100-"})
    assert status == 416
    assert headers["Content-Range"] == "bytes */20"
    assert headers["Content-Length"] == "0"
    assert body == b""


async def test_range_ignored_for_head_and_other_statuses(text_file: pathlib.Path) -> None:
    status, headers, _, _ = await serve(text_file, "HEAD", {"Range": "bytes=0-1"})
    assert status == 200 and headers["Content-Length"] == "20"
    status, _, body, _ = await serve(text_file, headers={"Range": "bytes=0-1"}, status=404)
    assert status == 404 and body == CONTENT


async def test_if_range(text_file: pathlib.Path) -> None:
    etag = etag_of(text_file)
    date = format_http_date(MTIME)
    cases = [
        (f'"{etag}"', 206),
        ('"other"', 200),
        (f'W/"{etag}"', 200),
        (date, 206),
        (format_http_date(MTIME + 10), 200),
        ("garbage", 200),
    ]
    for if_range, expected in cases:
        headers = {"Range": "bytes=0-1", "If-Range": if_range}
        status, _, body, _ = await serve(text_file, headers=headers)
        assert status == expected, if_range
        assert body == (CONTENT[:2] if expected == 206 else CONTENT)


# -- preconditions -------------------------------------------------------------------------------


async def test_if_none_match(text_file: pathlib.Path) -> None:
    etag = etag_of(text_file)
    for value in (f'"{etag}"', f'"x", W/"{etag}"', "*"):
        status, headers, body, _ = await serve(text_file, headers={"If-None-Match": value})
        assert status == 304, value
        assert body == b""
        assert headers["ETag"] == f'"{etag}"'
        assert "Content-Length" not in headers
    status, _, body, _ = await serve(text_file, headers={"If-None-Match": '"other"'})
    assert status == 200 and body == CONTENT
    status, _, _, _ = await serve(text_file, "POST", {"If-None-Match": f'"{etag}"'})
    assert status == 412


async def test_if_modified_since(text_file: pathlib.Path) -> None:
    for when, expected in [(MTIME, 304), (MTIME + 100, 304), (MTIME - 1, 200)]:
        headers = {"If-Modified-Since": format_http_date(when)}
        status, _, _, _ = await serve(text_file, headers=headers)
        assert status == expected
    # If-None-Match takes precedence over If-Modified-Since.
    headers = {"If-None-Match": '"other"', "If-Modified-Since": format_http_date(MTIME)}
    assert (await serve(text_file, headers=headers))[0] == 200
    # Only for GET and HEAD.
    headers = {"If-Modified-Since": format_http_date(MTIME)}
    assert (await serve(text_file, "POST", headers))[0] == 200


async def test_if_match(text_file: pathlib.Path) -> None:
    etag = etag_of(text_file)
    assert (await serve(text_file, headers={"If-Match": f'"{etag}"'}))[0] == 200
    assert (await serve(text_file, headers={"If-Match": "*"}))[0] == 200
    status, headers, body, _ = await serve(text_file, headers={"If-Match": '"nope"'})
    assert status == 412 and body == b"" and headers["Content-Length"] == "0"
    # Weak tags never match strongly.
    assert (await serve(text_file, headers={"If-Match": f'W/"{etag}"'}))[0] == 412


async def test_if_unmodified_since(text_file: pathlib.Path) -> None:
    headers = {"If-Unmodified-Since": format_http_date(MTIME - 1)}
    assert (await serve(text_file, headers=headers))[0] == 412
    headers = {"If-Unmodified-Since": format_http_date(MTIME)}
    assert (await serve(text_file, headers=headers))[0] == 200
    # If-Match takes precedence.
    headers = {"If-Match": "*", "If-Unmodified-Since": format_http_date(MTIME - 1)}
    assert (await serve(text_file, headers=headers))[0] == 200


async def test_preconditions_before_range(text_file: pathlib.Path) -> None:
    headers = {"If-None-Match": "*", "Range": "bytes=0-1"}
    assert (await serve(text_file, headers=headers))[0] == 304


# -- pre-compressed siblings ---------------------------------------------------------------------


@pytest.fixture
def compressed_siblings(text_file: pathlib.Path) -> pathlib.Path:
    text_file.with_name("file.txt.gz").write_bytes(gzip.compress(CONTENT))
    text_file.with_name("file.txt.br").write_bytes(b"brotli bytes")
    text_file.with_name("file.txt.zst").write_bytes(b"zstd bytes")
    return text_file


@pytest.mark.parametrize(
    ("accept", "coding", "payload"),
    [
        ("gzip", "gzip", None),
        ("gzip, br", "br", b"brotli bytes"),
        ("gzip, br, zstd", "zstd", b"zstd bytes"),
        ("zstd;q=0, br;q=0.5, gzip", "gzip", None),
        ("deflate", None, CONTENT),
        ("", None, CONTENT),
    ],
)
async def test_precompressed_sibling(
    compressed_siblings: pathlib.Path, accept: str, coding: str | None, payload: bytes | None
) -> None:
    status, headers, body, _ = await serve(
        compressed_siblings, headers={"Accept-Encoding": accept}
    )
    assert status == 200
    assert headers["Content-Type"] == "text/plain"
    if coding is None:
        assert "Content-Encoding" not in headers
        assert body == CONTENT
    else:
        assert headers["Content-Encoding"] == coding
        assert headers["Vary"] == "Accept-Encoding"
        assert headers["Content-Length"] == str(len(body))
        if payload is None:
            assert gzip.decompress(body) == CONTENT
        else:
            assert body == payload


async def test_precompressed_sibling_etag_differs(compressed_siblings: pathlib.Path) -> None:
    _, plain, _, _ = await serve(compressed_siblings)
    _, coded, _, _ = await serve(compressed_siblings, headers={"Accept-Encoding": "gzip"})
    assert plain["ETag"] != coded["ETag"]


async def test_directory_sibling_is_skipped(text_file: pathlib.Path) -> None:
    text_file.with_name("file.txt.gz").mkdir()
    _, headers, body, _ = await serve(text_file, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in headers and body == CONTENT


async def test_on_the_fly_compression_of_a_plain_file(text_file: pathlib.Path) -> None:
    request, transport = make_request(headers={"Accept-Encoding": "deflate"})
    resp = FileResponse(text_file)
    resp.enable_compression()
    await resp.prepare(request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "deflate"
    assert headers["Transfer-Encoding"] == "chunked"
    assert zlib.decompress(dechunk(body)) == CONTENT


async def test_no_recompression_of_a_precompressed_file(
    compressed_siblings: pathlib.Path,
) -> None:
    request, transport = make_request(headers={"Accept-Encoding": "gzip"})
    resp = FileResponse(compressed_siblings)
    resp.enable_compression(ContentCoding.gzip)
    await resp.prepare(request)
    _, headers, body = parse(transport.data)
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == CONTENT


# -- sendfile ------------------------------------------------------------------------------------


class _Conn(BaseProtocol):
    pass


async def _socket_request(
    method: str = "GET", headers: Any = None
) -> tuple[Request, socket.socket, asyncio.Transport]:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    transport, protocol = await loop.connect_accepted_socket(lambda: _Conn(loop), ours)
    writer = StreamWriter(protocol, loop)
    request = make_mocked_request(
        method, "/", headers, writer=writer, protocol=protocol, transport=transport
    )
    return request, theirs, transport


async def _read_all(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    data = bytearray()
    while chunk := await loop.sock_recv(sock, 65536):
        data += chunk
    sock.close()
    return bytes(data)


async def send_over_socket(resp: FileResponse, request: Request, sock: socket.socket) -> bytes:
    """Prepare ``resp`` while the peer reads (a socket buffer holds less than a big file)."""
    assert request.transport is not None
    reading = asyncio.ensure_future(_read_all(sock))
    try:
        await asyncio.wait_for(resp.prepare(request), 10)
    finally:
        request.transport.close()
    return await asyncio.wait_for(reading, 10)


async def test_sendfile_over_a_socket(tmp_path: pathlib.Path) -> None:
    big = os.urandom(300_000)
    path = tmp_path / "big.bin"
    path.write_bytes(big)
    request, sock, _ = await _socket_request(headers={"Range": "bytes=1000-"})
    resp = FileResponse(path)
    status, headers, body = parse(await send_over_socket(resp, request, sock))
    assert status == 206
    assert headers["Content-Length"] == str(len(big) - 1000)
    assert body == big[1000:]
    assert resp._sent_directly == len(body)  # zero-copy path taken
    assert resp.body_length > len(body)


async def test_sendfile_unavailable_falls_back(
    text_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    async def no_sendfile(*args: Any, **kwargs: Any) -> int:
        calls.append(args)
        raise NotImplementedError

    request, sock, _ = await _socket_request()
    monkeypatch.setattr(asyncio.get_running_loop(), "sendfile", no_sendfile)
    resp = FileResponse(text_file, chunk_size=7)
    status, _, body = parse(await send_over_socket(resp, request, sock))
    assert calls
    assert status == 200 and body == CONTENT


async def test_tls_transport_does_not_use_sendfile(
    text_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    async def spy(*args: Any, **kwargs: Any) -> int:
        calls.append(args)
        raise AssertionError("sendfile must not be used")

    request, transport = make_request(extra={"sslcontext": object()})
    monkeypatch.setattr(asyncio.get_running_loop(), "sendfile", spy)
    resp = FileResponse(text_file)
    await resp.prepare(request)
    assert not calls
    assert parse(transport.data)[2] == CONTENT


async def test_file_shrinking_while_sent_closes_connection(
    text_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fileresponse, "_read_at", lambda file, offset, size: b"")
    request, _ = make_request()
    resp = FileResponse(text_file)
    await resp.prepare(request)
    assert resp.keep_alive is False
