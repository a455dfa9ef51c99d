"""`Response._send_now` (the server's synchronous one-write path) against the general path
(``prepare()`` + ``write_eof()``): the same bytes, the same headers left on the response, the
same keep-alive decision, for every kind of response either can send."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from typing import Any

import pytest
from multidict import CIMultiDict

from aiohyper import web
from aiohyper._http._message import HttpVersion10, HttpVersion11
from aiohyper._http._writer import StreamWriter
from aiohyper.test_utils import make_mocked_request


class RecordingTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def writelines(self, data: Any) -> None:
        self.write(b"".join(data))

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class Connection:
    """What a StreamWriter needs from its protocol."""

    def __init__(self) -> None:
        self.transport = RecordingTransport()
        self.writing_paused = False

    async def _drain_helper(self) -> None:
        return


_DATE_LINE = re.compile(rb"\r\nDate: [^\r]*\r\n")


def normalised(data: bytes) -> bytes:
    # The two paths may run in different seconds.
    return _DATE_LINE.sub(b"\r\nDate: <now>\r\n", data)


def request_for(
    method: str, version: Any, closing: bool, app: web.Application
) -> tuple[web.Request, Connection]:
    conn = Connection()
    writer = StreamWriter(conn, asyncio.get_running_loop())
    req = make_mocked_request(
        method, "/x", version=version, closing=closing, app=app, writer=writer
    )
    req._prepare_hook_free = True
    return req, conn


def build(kind: str, status: int, reason: str | None, headers: Any) -> web.Response:
    if kind == "text":
        return web.Response(text="héllo", status=status, reason=reason, headers=headers)
    if kind == "json":
        return web.json_response({"a": [1, 2]}, status=status, reason=reason, headers=headers)
    body = {"bytes": b"hello", "empty": b"", "none": None, "bytearray": bytearray(b"abc")}[kind]
    return web.Response(body=body, status=status, reason=reason, headers=headers)


HEADER_SETS: list[Any] = [
    None,
    {"X-A": "1"},
    [("X-B", "1"), ("X-B", "2")],
    {"Content-Type": "application/x-thing"},
    {"content-type": "text/x-lower"},
    {"Date": "Mon, 01 Jan 2001 00:00:00 GMT"},
    {"Server": "mine"},
    {"Connection": "keep-alive"},
    {"Content-Length": "3"},
    {"Transfer-Encoding": "identity"},
]


# Every combination would take seconds: a fixed sample of them (each dimension is covered).
CASES = random.Random(0).sample(
    list(
        itertools.product(
            ["GET", "HEAD", "POST", "CONNECT"],
            [
                (200, None),
                (201, None),
                (204, None),
                (304, None),
                (404, "Custom Reason"),
                (500, None),
            ],
            ["bytes", "empty", "none", "bytearray", "text", "json"],
            range(len(HEADER_SETS)),
            [(HttpVersion11, False), (HttpVersion11, True), (HttpVersion10, False)],
            [False, True],
        )
    ),
    1200,
)


async def test_send_now_matches_prepare_and_write_eof() -> None:
    app = web.Application()
    app.freeze()
    mismatches = []
    for method, (status, reason), kind, headers_index, (version, closing), force in CASES:
        headers = HEADER_SETS[headers_index]
        if kind in ("text", "json") and headers and "content-type" in CIMultiDict(headers):
            continue  # not a valid combination: both set a Content-Type
        fast_req, fast_conn = request_for(method, version, closing, app)
        fast = build(kind, status, reason, headers)
        slow_req, slow_conn = request_for(method, version, closing, app)
        slow = build(kind, status, reason, headers)
        if force:
            fast.force_close()
            slow.force_close()
        assert fast._send_now(fast_req)
        await slow.prepare(slow_req)
        await slow.write_eof()
        fast_bytes = normalised(b"".join(fast_conn.transport.written))
        slow_bytes = normalised(b"".join(slow_conn.transport.written))
        state_fast = (
            fast.keep_alive,
            fast.prepared,
            fast.body_length,
            [(k, v) for k, v in fast.headers.items() if k.lower() != "date"],
            len(fast_conn.transport.written),
        )
        state_slow = (
            slow.keep_alive,
            slow.prepared,
            slow.body_length,
            [(k, v) for k, v in slow.headers.items() if k.lower() != "date"],
            len(slow_conn.transport.written),
        )
        case = (method, status, reason, kind, headers, version, closing, force)
        if fast_bytes != slow_bytes or state_fast != state_slow:
            mismatches.append((case, fast_bytes, slow_bytes, state_fast, state_slow))
    assert not mismatches, mismatches[:3]


async def test_send_now_declines_what_needs_the_general_path() -> None:
    app = web.Application()
    app.freeze()
    req, conn = request_for("GET", HttpVersion11, False, app)
    for resp in (
        web.Response(body=b"x", headers={"Content-Type": "a/b"}),
        web.Response(text="x"),
    ):
        resp.enable_compression()
        assert not resp._send_now(req)
    with_cookie = web.Response(text="x")
    with_cookie.set_cookie("a", "b")
    assert not with_cookie._send_now(req)
    chunked = web.Response(text="x")
    chunked.enable_chunked_encoding()
    assert not chunked._send_now(req)
    payload_body = web.Response(body="a str becomes a payload")
    assert not payload_body._send_now(req)
    assert conn.transport.written == []

    # An on_response_prepare listener must see the response before its head goes out.
    async def listener(request: Any, response: Any) -> None:
        response.headers["X-Seen"] = "1"

    app2 = web.Application()
    app2.on_response_prepare.append(listener)
    app2.freeze()
    req2, _ = request_for("GET", HttpVersion11, False, app2)
    req2._prepare_hook_free = False
    assert not web.Response(text="x")._send_now(req2)

    # A writer that already sent something (the handler wrote to it) is not fresh.
    req3, _conn3 = request_for("GET", HttpVersion11, False, app)
    await req3._payload_writer.write(b"early")
    req3._payload_writer.flush()
    assert not web.Response(text="x")._send_now(req3)


async def test_send_now_rejects_a_header_value_with_crlf() -> None:
    app = web.Application()
    app.freeze()
    req, conn = request_for("GET", HttpVersion11, False, app)
    resp = web.Response(text="x", headers={"X-Evil": "a\r\nSet-Cookie: b=c"})
    with pytest.raises(ValueError, match="X-Evil"):
        resp._send_now(req)
    assert conn.transport.written == []


async def test_send_now_sends_one_write() -> None:
    app = web.Application()
    app.freeze()
    req, conn = request_for("GET", HttpVersion11, False, app)
    assert web.Response(body=b"x" * 100, content_type="text/plain")._send_now(req)
    [data] = conn.transport.written
    assert data.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
    assert data.endswith(b"\r\n\r\n" + b"x" * 100)
