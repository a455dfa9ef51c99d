"""Our client against nginx (the Debian binary) serving a static directory.

nginx runs in the foreground as one process (``daemon off; master_process off;``) with every
path (pid, logs, temp dirs) in a temporary directory. Its access log records ``$connection``
and ``$connection_requests``, so keep-alive reuse is checked from the server's side.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import aiohyper as aiohttp

# Fixtures (conftest.py): peers, wait_for.

pytestmark = pytest.mark.timeout(20)

TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(2000))
BINARY = os.urandom(1024 * 1024 + 123)  # not compressible, not periodic, not a round size

_CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 128; }}
http {{
    types {{ text/plain txt; text/html html; application/octet-stream bin; }}
    default_type application/octet-stream;
    log_format interop '$connection $connection_requests $status $request_method '
                       '"$request_uri" $bytes_sent';
    access_log {tmp}/access.log interop;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    keepalive_timeout 30s;
    keepalive_requests 1000;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 100;
    gzip_vary on;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
        location / {{ }}
    }}
}}
"""


@dataclass(frozen=True, slots=True)
class Nginx:
    """A running nginx: its base URL and its access log."""

    base_url: str
    access_log: Path

    def log_lines(self, marker: str) -> list[tuple[int, int, int, str]]:
        """``(connection, connection_requests, status, method)`` of requests whose URI has
        ``marker``, in log order."""
        lines = []
        text = self.access_log.read_text() if self.access_log.exists() else ""
        for line in text.splitlines():
            conn, reqs, status, method, uri, _ = line.split(" ")
            if marker in uri:
                lines.append((int(conn), int(reqs), int(status), method))
        return lines


@pytest.fixture(scope="module")
def nginx(peers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = peers.require_binary("nginx")
    tmp = tmp_path_factory.mktemp("nginx")
    root = tmp / "www"
    (root / "sub").mkdir(parents=True)
    (root / "text.txt").write_text(TEXT)
    (root / "data.bin").write_bytes(BINARY)
    (root / "sub" / "empty.txt").write_bytes(b"")
    port = peers.free_port()
    (tmp / "nginx.conf").write_text(_CONFIG.format(tmp=tmp, port=port, root=root))
    # -e: the error log before the config is read (the default path may not be writable).
    argv = [binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    with peers.run("nginx", argv, port=port, workdir=tmp) as peer:
        yield Nginx(peer.base_url, tmp / "access.log")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session


def _logged(
    nginx: Nginx, marker: str, count: int, wait_for: Callable[..., bool]
) -> list[tuple[int, int, int, str]]:
    # nginx writes the log line right after the response; wait for the last one.
    assert wait_for(lambda: len(nginx.log_lines(marker)) >= count), nginx.log_lines(marker)
    lines = nginx.log_lines(marker)
    assert len(lines) == count
    return lines


# --- static files ----------------------------------------------------------------------------


async def test_static_binary_file_byte_exact(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{nginx.base_url}/data.bin") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/octet-stream"
        assert resp.content_length == len(BINARY)
        assert "Last-Modified" in resp.headers and "ETag" in resp.headers
        body = await resp.read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(BINARY).digest()


async def test_static_file_streamed_in_small_reads(
    nginx: Nginx, session: aiohttp.ClientSession
) -> None:
    got = bytearray()
    async with session.get(f"{nginx.base_url}/data.bin") as resp:
        async for chunk in resp.content.iter_chunked(4096):
            assert 0 < len(chunk) <= 4096
            got += chunk
    assert bytes(got) == BINARY


async def test_empty_file(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{nginx.base_url}/sub/empty.txt") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Length"] == "0"
        assert await resp.read() == b""


async def test_not_found(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{nginx.base_url}/missing.txt") as resp:
        assert resp.status == 404
        assert not resp.ok
        assert b"404 Not Found" in await resp.read()
        with pytest.raises(aiohttp.ClientResponseError) as info:
            resp.raise_for_status()
    assert info.value.status == 404
    with pytest.raises(aiohttp.ClientResponseError):
        await session.get(f"{nginx.base_url}/missing.txt", raise_for_status=True)


async def test_directory_redirect(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    # nginx answers /sub with 301 to an absolute http://localhost:<port>/sub/ URL (its
    # server_name); without following, the client shows the redirect as is.
    async with session.get(f"{nginx.base_url}/sub", allow_redirects=False) as resp:
        assert resp.status == 301
        assert resp.headers["Location"].endswith("/sub/")


# --- keep-alive, seen in nginx's access log --------------------------------------------------


async def test_keep_alive_reuses_one_connection(
    nginx: Nginx, session: aiohttp.ClientSession, wait_for: Callable[..., bool]
) -> None:
    for i in range(20):
        async with session.get(f"{nginx.base_url}/text.txt?t=keepalive-{i}") as resp:
            assert resp.status == 200
            await resp.read()
    lines = _logged(nginx, "keepalive-", 20, wait_for)
    assert len({conn for conn, _, _, _ in lines}) == 1
    requests_on_connection = [reqs for _, reqs, _, _ in lines]
    assert requests_on_connection == list(range(1, 21))


async def test_force_close_uses_new_connections(
    nginx: Nginx, wait_for: Callable[..., bool]
) -> None:
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        for i in range(10):
            async with session.get(f"{nginx.base_url}/text.txt?t=closing-{i}") as resp:
                await resp.read()
    lines = _logged(nginx, "closing-", 10, wait_for)
    assert len({conn for conn, _, _, _ in lines}) == 10
    assert {reqs for _, reqs, _, _ in lines} == {1}


async def test_bodyless_responses_keep_the_connection(
    nginx: Nginx, session: aiohttp.ClientSession, wait_for: Callable[..., bool]
) -> None:
    # HEAD, 304 and 404 answers between GETs: each must end cleanly for the next to reuse it.
    base = nginx.base_url
    async with session.get(f"{base}/text.txt?t=mixed-1") as resp:
        last_modified = resp.headers["Last-Modified"]
        await resp.read()
    async with session.head(f"{base}/data.bin?t=mixed-2") as resp:
        assert resp.status == 200
        assert resp.content_length == len(BINARY)
        assert await resp.read() == b""
    headers = {"If-Modified-Since": last_modified}
    async with session.get(f"{base}/text.txt?t=mixed-3", headers=headers) as resp:
        assert resp.status == 304
        assert await resp.read() == b""
    async with session.get(f"{base}/missing?t=mixed-4") as resp:
        assert resp.status == 404
        await resp.read()
    async with session.get(f"{base}/data.bin?t=mixed-5") as resp:
        assert await resp.read() == BINARY
    lines = _logged(nginx, "mixed-", 5, wait_for)
    assert [(status, method) for _, _, status, method in lines] == [
        (200, "GET"),
        (200, "HEAD"),
        (304, "GET"),
        (404, "GET"),
        (200, "GET"),
    ]
    assert len({conn for conn, _, _, _ in lines}) == 1


async def test_unread_body_is_not_reused_half_read(
    nginx: Nginx, session: aiohttp.ClientSession
) -> None:
    # Releasing a response before reading its large body must not leave the rest of it in
    # front of the next response on a reused connection.
    async with session.get(f"{nginx.base_url}/data.bin") as resp:
        assert resp.status == 200
        await resp.content.read(10)
    async with session.get(f"{nginx.base_url}/text.txt") as resp:
        assert await resp.text() == TEXT


# --- gzip ------------------------------------------------------------------------------------


async def test_gzip_is_decompressed(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{nginx.base_url}/text.txt") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in resp.headers.get("Vary", "")
        assert await resp.text() == TEXT


async def test_gzip_raw_bytes_without_auto_decompress(nginx: Nginx) -> None:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.get(f"{nginx.base_url}/text.txt") as resp,
    ):
        assert resp.headers["Content-Encoding"] == "gzip"
        raw = await resp.read()
    assert raw[:2] == b"\x1f\x8b"
    assert len(raw) < len(TEXT) // 4
    assert gzip.decompress(raw) == TEXT.encode()


async def test_identity_when_gzip_not_accepted(
    nginx: Nginx, session: aiohttp.ClientSession
) -> None:
    headers = {"Accept-Encoding": "identity"}
    async with session.get(f"{nginx.base_url}/text.txt", headers=headers) as resp:
        assert "Content-Encoding" not in resp.headers
        assert resp.content_length == len(TEXT)
        assert await resp.text() == TEXT


# --- ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "start", "stop"),
    [("100-199", 100, 200), ("-10", len(BINARY) - 10, len(BINARY)), ("1048570-", 1048570, None)],
)
async def test_range_request(
    nginx: Nginx, session: aiohttp.ClientSession, spec: str, start: int, stop: int | None
) -> None:
    headers = {"Range": f"bytes={spec}"}
    async with session.get(f"{nginx.base_url}/data.bin", headers=headers) as resp:
        assert resp.status == 206
        expected = BINARY[start:stop]
        end = start + len(expected) - 1
        assert resp.headers["Content-Range"] == f"bytes {start}-{end}/{len(BINARY)}"
        assert await resp.read() == expected


async def test_multiple_ranges_as_multipart(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    headers = {"Range": "bytes=0-9,1000-1099"}
    async with session.get(f"{nginx.base_url}/data.bin", headers=headers) as resp:
        assert resp.status == 206
        assert resp.content_type == "multipart/byteranges"
        reader = aiohttp.MultipartReader.from_response(resp)
        parts = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            parts.append((part.headers["Content-Range"], bytes(await part.read())))
    assert parts == [
        (f"bytes 0-9/{len(BINARY)}", BINARY[0:10]),
        (f"bytes 1000-1099/{len(BINARY)}", BINARY[1000:1100]),
    ]


async def test_unsatisfiable_range(nginx: Nginx, session: aiohttp.ClientSession) -> None:
    headers = {"Range": f"bytes={len(BINARY) + 10}-"}
    async with session.get(f"{nginx.base_url}/data.bin", headers=headers) as resp:
        assert resp.status == 416
        assert re.fullmatch(r"bytes \*/\d+", resp.headers["Content-Range"])
        await resp.read()
