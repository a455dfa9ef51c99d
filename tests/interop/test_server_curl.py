"""curl (the Debian binary) against the aiohyper server.

Each test checks both ends: what curl reports (exit status, ``--write-out`` variables, the
verbose trace) and what the server saw (peer ports, request headers, body hashes).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from aiohyper import web

# Fixtures (conftest.py): curl, run_command, serve_app.


def _body(size: int) -> bytes:
    # Not compressible and not periodic: a misplaced byte is always caught.
    return os.urandom(size)


def _headers(dump: bytes) -> dict[str, str]:
    """The header fields of the last response in a ``curl -D`` dump (lower-case names)."""
    blocks = [b for b in dump.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
    fields: dict[str, str] = {}
    for line in blocks[-1].decode("latin-1").split("\n")[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return fields


# --- keep-alive -----------------------------------------------------------------------------


async def test_keep_alive_one_connection_serves_every_url(
    curl: str, run_command: Any, serve_app: Any
) -> None:
    peers: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(text=request.match_info["n"] + "\n")

    app = web.Application()
    app.router.add_get("/n/{n}", handler)
    base = await serve_app(app)

    urls = [f"{base}/n/{i}" for i in range(6)]
    result = await run_command(curl, "-sS", "--fail", "-w", "connects=%{num_connects}\n", *urls)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    # Bodies in order, and curl opened a connection for the first URL only.
    expected = "".join(f"{i}\nconnects={1 if i == 0 else 0}\n" for i in range(6))
    assert out == expected
    # The server side agrees: one peer (one client port) sent all six requests.
    assert len(peers) == 6
    assert len(set(peers)) == 1, peers


async def test_keep_alive_mixed_methods_and_bodies(
    curl: str, run_command: Any, serve_app: Any
) -> None:
    """A POST with a body, then GETs: the body is consumed and the connection reused."""
    peers: list[Any] = []

    async def echo(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    base = await serve_app(app)

    result = await run_command(
        curl,
        "-sS",
        "--fail",
        "--data-binary",
        "hello",
        f"{base}/echo",
        "--next",
        "-sS",
        "--fail",
        f"{base}/echo",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello"
    assert len(peers) == 2 and peers[0] == peers[1]


# --- request bodies -------------------------------------------------------------------------


async def test_chunked_upload(curl: str, run_command: Any, serve_app: Any, tmp_path: Path) -> None:
    data = _body(300_000)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(data)
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["te"] = request.headers.get("Transfer-Encoding")
        seen["content_length"] = request.content_length
        body = await request.read()
        return web.Response(text=f"{len(body)} {hashlib.sha256(body).hexdigest()}")

    app = web.Application(client_max_size=1024**2)
    app.router.add_post("/upload", handler)
    base = await serve_app(app)

    result = await run_command(
        curl,
        "-sS",
        "--fail",
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Expect:",  # no 100-continue here: plain chunked streaming
        "--data-binary",
        f"@{upload}",
        f"{base}/upload",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}"
    assert seen == {"te": "chunked", "content_length": None}


async def test_expect_100_continue_large_body(
    curl: str, run_command: Any, serve_app: Any, tmp_path: Path
) -> None:
    """curl asks ``Expect: 100-continue`` for a large body and waits for the interim 100."""
    data = _body(2 * 1024 * 1024)  # above curl's threshold for sending Expect (1 KiB / 1 MiB)
    upload = tmp_path / "big.bin"
    upload.write_bytes(data)
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["expect"] = request.headers.get("Expect")
        body = await request.read()
        return web.Response(text=hashlib.sha256(body).hexdigest())

    app = web.Application(client_max_size=4 * 1024**2)
    app.router.add_post("/upload", handler)
    base = await serve_app(app)

    result = await run_command(
        curl,
        "-sS",
        "-v",
        "--fail",
        # Long enough that curl never gives up waiting and sends the body anyway: the
        # trace below must show the server's own 100 Continue.
        "--expect100-timeout",
        "8",
        "--data-binary",
        f"@{upload}",
        f"{base}/upload",
        timeout=15,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == hashlib.sha256(data).hexdigest()
    assert seen["expect"] == "100-continue"
    trace = result.stderr.decode("latin-1")
    assert "> Expect: 100-continue" in trace
    assert "< HTTP/1.1 100 Continue" in trace


async def test_expect_100_continue_refused_by_expect_handler(
    curl: str, run_command: Any, serve_app: Any, tmp_path: Path
) -> None:
    """An expect handler may refuse the body: curl gets the final status, not a 100."""
    upload = tmp_path / "big.bin"
    upload.write_bytes(_body(2 * 1024 * 1024))
    handled: list[bool] = []

    async def refuse(request: web.Request) -> None:
        raise web.HTTPRequestEntityTooLarge(max_size=10, actual_size=2 * 1024 * 1024)

    async def handler(request: web.Request) -> web.Response:
        handled.append(True)
        return web.Response(text="unreachable")

    app = web.Application()
    app.router.add_post("/upload", handler, expect_handler=refuse)
    base = await serve_app(app)

    result = await run_command(
        curl,
        "-sS",
        "-v",
        "-o",
        os.devnull,
        "-w",
        "%{http_code}",
        "--expect100-timeout",
        "8",
        "--data-binary",
        f"@{upload}",
        f"{base}/upload",
        timeout=15,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"413"
    assert handled == []
    assert "< HTTP/1.1 100 Continue" not in result.stderr.decode("latin-1")


# --- ranges ---------------------------------------------------------------------------------


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    root = tmp_path / "static"
    root.mkdir()
    data = _body(1000)
    path = root / "data.bin"
    path.write_bytes(data)
    return path, data


@pytest.fixture(params=["static", "fileresponse"])
async def file_url(request: Any, data_file: tuple[Path, bytes], serve_app: Any) -> str:
    """The URL of ``data_file`` served by ``add_static`` or by a `FileResponse` handler."""
    path, _ = data_file
    app = web.Application()
    if request.param == "static":
        app.router.add_static("/static", path.parent)
        suffix = "/static/data.bin"
    else:

        async def handler(req: web.Request) -> web.FileResponse:
            return web.FileResponse(path)

        app.router.add_get("/file", handler)
        suffix = "/file"
    return str(await serve_app(app)) + suffix


async def _fetch_range(
    curl: str, run_command: Any, url: str, tmp_path: Path, *range_args: str
) -> tuple[int, dict[str, str], bytes]:
    body = tmp_path / "body.out"
    dump = tmp_path / "head.out"
    result = await run_command(
        curl, "-sS", *range_args, "-o", str(body), "-D", str(dump), "-w", "%{http_code}", url
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout), _headers(dump.read_bytes()), body.read_bytes()


async def test_range_206_exact_bytes(
    curl: str, run_command: Any, file_url: str, data_file: tuple[Path, bytes], tmp_path: Path
) -> None:
    _, data = data_file
    status, headers, body = await _fetch_range(
        curl, run_command, file_url, tmp_path, "-r", "10-99"
    )
    assert status == 206
    assert body == data[10:100]
    assert headers["content-range"] == "bytes 10-99/1000"
    assert headers["content-length"] == "90"


async def test_range_suffix_and_open_ended(
    curl: str, run_command: Any, file_url: str, data_file: tuple[Path, bytes], tmp_path: Path
) -> None:
    _, data = data_file
    status, headers, body = await _fetch_range(curl, run_command, file_url, tmp_path, "-r", "-50")
    assert (status, body) == (206, data[-50:])
    assert headers["content-range"] == "bytes 950-999/1000"
    status, headers, body = await _fetch_range(curl, run_command, file_url, tmp_path, "-r", "990-")
    assert (status, body) == (206, data[990:])
    assert headers["content-range"] == "bytes 990-999/1000"


async def test_range_unsatisfiable_416(
    curl: str, run_command: Any, file_url: str, tmp_path: Path
) -> None:
    status, headers, _ = await _fetch_range(
        curl, run_command, file_url, tmp_path, "-r", "5000-6000"
    )
    assert status == 416
    assert headers["content-range"] == "bytes */1000"


async def test_range_then_full_on_one_connection(
    curl: str, run_command: Any, file_url: str, data_file: tuple[Path, bytes], tmp_path: Path
) -> None:
    """A 206 leaves the connection reusable for a full 200 of the same file."""
    _, data = data_file
    part, whole = tmp_path / "part", tmp_path / "whole"
    result = await run_command(
        curl,
        "-sS",
        "-r",
        "0-9",
        "-o",
        str(part),
        "-w",
        "%{http_code} %{num_connects}\n",
        file_url,
        "--next",
        "-sS",
        "-o",
        str(whole),
        "-w",
        "%{http_code} %{num_connects}\n",
        file_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"206 1\n200 0\n"
    assert part.read_bytes() == data[:10]
    assert whole.read_bytes() == data


# --- misc -----------------------------------------------------------------------------------


async def test_http10_client(curl: str, run_command: Any, serve_app: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=f"{request.version.major}.{request.version.minor}")

    app = web.Application()
    app.router.add_get("/", handler)
    base = await serve_app(app)
    result = await run_command(curl, "-sS", "--fail", "--http1.0", f"{base}/", f"{base}/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"1.01.0"


async def test_head_and_compressed(curl: str, run_command: Any, serve_app: Any) -> None:
    text = "aiohyper " * 2000

    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(text=text)
        resp.enable_compression()
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    base = await serve_app(app)
    result = await run_command(curl, "-sS", "--fail", "--compressed", f"{base}/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == text
    head = await run_command(curl, "-sS", "--fail", "-I", f"{base}/")
    assert head.returncode == 0, head.stderr
    assert head.stdout.startswith(b"HTTP/1.1 200 OK\r\n")


def test_missing_peer_skips_locally_and_fails_under_ci(
    require_binary: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = "aiohyper-no-such-peer-binary"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_binary(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require_binary(missing)
    assert require_binary("sh").endswith("sh")
