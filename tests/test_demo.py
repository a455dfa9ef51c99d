"""The README's demo server, end to end.

The demo is started exactly as the README says (``python -m examples.demo`` from the repository
root, plus ``--port``) in a subprocess, and every page is fetched with a plain HTTP client
(httpx), as a person or a browser would. Stopping it with SIGINT must exit 0 within seconds, even
with a Server-Sent Events stream open.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import httpx
import pytest

import aiohyper as aiohttp

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "examples" / "demo" / "static"
RESPONSE_TIME = re.compile(r"^\d+\.\d{2}ms$")


class Demo:
    """A running demo process and a client bound to it."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
        self.proc = proc
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.client = httpx.Client(base_url=self.base, timeout=5, trust_env=False)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> int:
        """SIGINT, as Ctrl+C does; the exit code (the process is killed after 5 s)."""
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the demo did not stop within 5 s of SIGINT:\n{self.output()}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_demo(tmp_path: Path) -> Demo:
    """Run the README's command with ``--port <free port>``; return once it accepts connections."""
    port = _free_port()
    log = (tmp_path / f"demo-{port}.log").open("w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.demo", "--port", str(port)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    demo = Demo(proc, port, log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the demo exited with {proc.returncode}:\n{demo.output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.05)
        else:
            return demo
    proc.kill()
    proc.wait()
    pytest.fail(f"the demo did not listen on port {port} within 20 s:\n{demo.output()}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    server = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield server
    finally:
        code = server.stop()
        output = server.output()
        server.log.close()
    assert code == 0, output
    assert "Traceback" not in output


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Parse a text/event-stream into ``{field: value}`` dicts, one per event."""
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


# -- pages ------------------------------------------------------------------------------------


def test_index_links_to_every_part(demo: Demo) -> None:
    resp = demo.client.get("/")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert RESPONSE_TIME.match(resp.headers["X-Response-Time"])
    assert "<h1>aiohyper demo</h1>" in resp.text
    links = set(re.findall(r'href="([^"]+)"', resp.text))
    paths = {httpx.URL(link).path for link in links}
    parts = [
        "/api/items",
        "/api/items/1",
        "/upload",
        "/clock",
        "/chat",
        "/admin/",
        "/static/style.css",
    ]
    assert set(parts) <= paths

    # Every link works; the two that demonstrate error pages are 404s.
    for link in links:
        page = demo.client.get(link)
        expected = 404 if link.endswith(("/no/such/page", "/999")) else 200
        assert page.status_code == expected, link


def test_json_api_crud(demo: Demo) -> None:
    client = demo.client
    listed = client.get("/api/items")
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert {"id": 1, "name": "apples", "quantity": 3} in listed.json()["items"]

    created = client.post("/api/items", json={"name": "pears", "quantity": 4})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "pears" and item["quantity"] == 4
    location = created.headers["Location"]
    assert location == f"/api/items/{item['id']}"
    assert client.get(location).json() == item
    assert item in client.get("/api/items").json()["items"]

    updated = client.put(location, json={"name": "plums", "quantity": 9})
    assert updated.status_code == 200
    assert updated.json() == {"id": item["id"], "name": "plums", "quantity": 9}
    assert client.get(location).json()["name"] == "plums"

    bad = client.put(location, json={"name": "", "quantity": -1})
    assert bad.status_code == 400
    assert bad.json()["error"] == "Bad Request"
    assert client.put(location, content=b"not json").status_code == 400

    deleted = client.delete(location)
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = client.get(location)
    assert gone.status_code == 404
    assert gone.json() == {
        "error": "Not Found",
        "status": 404,
        "detail": f"No item with id {item['id']}",
        "path": location,
    }
    assert client.delete(location).status_code == 404
    assert item not in client.get("/api/items").json()["items"]


def test_api_errors_are_json(demo: Demo) -> None:
    not_a_number = demo.client.get("/api/items/abc")
    assert not_a_number.status_code == 404
    assert not_a_number.json()["path"] == "/api/items/abc"

    patch = demo.client.patch("/api/items/1", json={})
    assert patch.status_code == 405
    assert patch.json()["status"] == 405
    assert set(patch.headers["Allow"].split(",")) >= {"GET", "PUT", "DELETE"}


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("style.css", "text/css"), ("logo.svg", "image/svg+xml"), ("hello.txt", "text/plain")],
)
def test_static_files(demo: Demo, name: str, content_type: str) -> None:
    resp = demo.client.get(f"/static/{name}")
    assert resp.status_code == 200
    assert resp.content == (STATIC / name).read_bytes()
    assert resp.headers["Content-Type"].split(";")[0] == content_type
    assert RESPONSE_TIME.match(resp.headers["X-Response-Time"])


def test_upload_form(demo: Demo) -> None:
    form = demo.client.get("/upload")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert 'type="file" name="file"' in form.text

    # Every byte value, CRLFs and boundary look-alikes included, and more than one read's worth.
    data = bytes(range(256)) * 64 + b"\r\n--boundary--\r\n" + os.urandom(200_000)
    resp = demo.client.post(
        "/upload",
        data={"note": "a <b>note</b>"},
        files={"file": ("data <1>.bin", data, "application/octet-stream")},
    )
    assert resp.status_code == 200, resp.text
    assert "<h1>Upload received</h1>" in resp.text
    assert '<dd id="filename">data &lt;1&gt;.bin</dd>' in resp.text
    assert '<dd id="content-type">application/octet-stream</dd>' in resp.text
    assert f'<dd id="size">{len(data)}</dd>' in resp.text
    assert hashlib.sha256(data).hexdigest() in resp.text
    assert '<dd id="note">a &lt;b&gt;note&lt;/b&gt;</dd>' in resp.text

    no_file = demo.client.post("/upload", data={"note": "nothing"})
    assert no_file.status_code == 400
    assert "The form had no file." in no_file.text


def test_admin_subapp_has_its_own_middleware(demo: Demo) -> None:
    page = demo.client.get("/admin/")
    assert page.status_code == 200
    assert "<h1>Admin dashboard</h1>" in page.text
    assert page.headers["Cache-Control"] == "no-store"  # the sub-app's middleware
    assert RESPONSE_TIME.match(page.headers["X-Response-Time"])  # the parent's middleware

    stats = demo.client.get("/admin/stats")
    assert stats.headers["Cache-Control"] == "no-store"
    body = stats.json()
    assert set(body) == {"items", "clock_clients", "requests", "uptime_s"}
    assert body["requests"] >= 2
    assert body["items"] == len(demo.client.get("/api/items").json()["items"])

    # Only the sub-application's responses get it.
    assert "Cache-Control" not in demo.client.get("/").headers


def test_not_found_pages(demo: Demo) -> None:
    page = demo.client.get("/no/such/<page>")
    assert page.status_code == 404
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert RESPONSE_TIME.match(page.headers["X-Response-Time"])
    assert "<h1>404 Not Found</h1>" in page.text
    assert "<code>/no/such/&lt;page&gt;</code>" in page.text

    as_json = demo.client.get("/no/such/page", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json()["error"] == "Not Found"

    admin_missing = demo.client.get("/admin/missing")
    assert admin_missing.status_code == 404
    assert "<h1>404 Not Found</h1>" in admin_missing.text


# -- WebSocket chat ---------------------------------------------------------------------------


async def _event(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    event: dict[str, Any] = await ws.receive_json(timeout=5)
    return event


def _ws_url(demo: Demo, nick: str) -> str:
    return demo.base.replace("http://", "ws://") + "/chat/ws?" + urlencode({"nick": nick})


def test_chat_page(demo: Demo) -> None:
    page = demo.client.get("/chat")
    assert page.status_code == 200
    assert "<h1>WebSocket chat</h1>" in page.text
    assert '<script src="/static/chat.js"></script>' in page.text
    script = demo.client.get("/static/chat.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "innerHTML" not in script.text  # lines are shown with textContent only
    # Not an upgrade: the error page, not a crash.
    assert demo.client.get("/chat/ws?nick=x").status_code == 400


async def test_chat_broadcasts_to_everyone(demo: Demo) -> None:
    async with aiohttp.ClientSession() as session:
        alice = await session.ws_connect(_ws_url(demo, "alice"))
        assert await _event(alice) == {"type": "join", "nick": "alice", "online": ["alice"]}
        bob = await session.ws_connect(_ws_url(demo, " <b>bob</b> "))
        joined = {"type": "join", "nick": "<b>bob</b>", "online": ["alice", "<b>bob</b>"]}
        assert await _event(alice) == joined
        assert await _event(bob) == joined

        # A line reaches everyone, the sender included, exactly as typed (HTML and all).
        line = "<script>alert('hi')</script> & 😀"
        await alice.send_str(f"  {line}  ")
        for ws in (alice, bob):
            event = await _event(ws)
            assert event["type"] == "message"
            assert (event["nick"], event["text"]) == ("alice", line)
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", event["time"])

        # Refused lines get an error for the sender only.
        await bob.send_str("   ")
        assert (await _event(bob))["type"] == "error"
        await bob.send_str("x" * 501)
        assert (await _event(bob))["type"] == "error"
        # Binary is not chat: closed with 1003.
        await bob.send_bytes(b"\x00")
        msg = await bob.receive(timeout=5)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1003)
        assert await _event(alice) == {"type": "leave", "nick": "<b>bob</b>", "online": ["alice"]}

        await alice.close()
        for bad in ("", "   ", "x" * 25, "tab\there"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await session.ws_connect(_ws_url(demo, bad))
            assert info.value.status == 400


def test_chat_sockets_closed_on_shutdown(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)

    async def chat_until_shutdown() -> tuple[Any, ...]:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(_ws_url(demo, "carol"))
            assert (await _event(ws))["type"] == "join"
            demo.proc.send_signal(signal.SIGINT)
            msg = await ws.receive(timeout=5)
            return msg.type, msg.data, msg.extra, await ws.receive(timeout=5)

    try:
        started = time.monotonic()
        msg_type, code, reason, after = asyncio.run(chat_until_shutdown())
        assert (msg_type, code, reason) == (aiohttp.WSMsgType.CLOSE, 1001, "Server shutdown")
        assert after.type == aiohttp.WSMsgType.CLOSED
        assert demo.proc.wait(timeout=5) == 0
        assert time.monotonic() - started < 4, "an open chat held up the shutdown"
        assert "Traceback" not in demo.output()
    finally:
        demo.stop()
        demo.log.close()


# -- Server-Sent Events and shutdown -----------------------------------------------------------


def test_sse_clock_and_clean_shutdown(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)
    try:
        client = demo.client
        with client.stream("GET", "/clock/events") as resp:
            assert resp.status_code == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            assert resp.headers["Cache-Control"] == "no-cache"
            events = sse_events(resp.iter_lines())
            first, second = next(events), next(events)
        assert [first["event"], second["event"]] == ["tick", "tick"]
        assert [first["id"], second["id"]] == ["1", "2"]
        data: dict[str, Any] = json.loads(second["data"])
        assert data["n"] == 2
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", data["time"])

        # The client went away: the stream's handler ends within a tick.
        deadline = time.monotonic() + 3
        while client.get("/admin/stats").json()["clock_clients"] != 0:
            assert time.monotonic() < deadline, "the SSE handler outlived its client"
            time.sleep(0.1)

        # Ctrl+C with a stream open: on_shutdown ends the stream, the process exits 0 at once
        # (not after run_app's 60 s shutdown_timeout).
        with client.stream("GET", "/clock/events") as resp:
            lines = resp.iter_lines()
            assert next(sse_events(lines))["id"] == "1"
            demo.proc.send_signal(signal.SIGINT)
            started = time.monotonic()
            for _ in lines:  # the server ends the stream properly (no read error)
                assert time.monotonic() - started < 4, "SIGINT did not end the SSE stream"
        assert demo.proc.wait(timeout=5) == 0
        output = demo.output()
        assert "Traceback" not in output, output
        assert '"GET /clock/events HTTP/1.1" 200' in output  # the access log is on
    finally:
        demo.stop()
        demo.log.close()
