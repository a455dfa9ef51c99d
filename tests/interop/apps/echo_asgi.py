"""A plain ASGI app (no framework) that uvicorn serves to our client in the interop tests.

Every answer tells what the server saw, so tests check the client from the other side of a real
socket. Routes:

- ``/echo``, ``/echo/<anything>`` and ``<anything>/echo``: JSON with the method, path, query,
  headers (in order), the body's length and SHA-256 (the body itself when small), the number of
  body messages, the scheme, the HTTP version and the client address. With ``?hold=<s>`` the
  last byte of the answer waits ``s`` seconds.
- ``/status/<code>``: an empty response with that status.
- ``/redirect?status=<code>&location=<url>``: that redirect, ``Location`` sent verbatim.
- ``/chain/<c1>-<c2>-...``: a redirect with status ``c1`` to the *relative* URL ``<c2>-...``;
  the last hop goes to ``../echo`` (so a chain checks relative resolution at each step).
- ``/loop``: redirects to itself forever.
- ``/cookies/set``, ``/cookies/delete``: ``Set-Cookie`` headers with attributes.
- ``/chunked?chunks=<n>&size=<bytes>``: a body sent in ``n`` ASGI messages without a length
  (uvicorn frames it with chunked transfer coding); the bytes are `pattern(n * size)`.
- ``/slow?head=<s>&body=<s>``: waits ``head`` seconds before the head, then sends half the body,
  waits ``body`` seconds, and sends the rest.
- ``/whoami?tag=<t>``: answers the client port, and records it under ``tag``;
  ``/seen?tag=<t>`` answers the recorded ports as a JSON list.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Bodies up to this size are echoed back whole; larger ones only by length and hash.
ECHO_BODY_LIMIT = 64 * 1024

# tag -> client ports seen by /whoami (the server's own view of connection reuse).
SEEN: dict[str, list[int]] = {}


def pattern(size: int) -> bytes:
    """Deterministic, non-periodic-looking bytes that both ends can compute."""
    block = hashlib.sha256(b"aiohyper interop").digest() * 8  # 256 bytes
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(block + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:size])


async def _read_body(receive: Receive) -> tuple[bytes, int]:
    """The whole request body and the number of non-empty ``http.request`` messages."""
    parts: list[bytes] = []
    messages = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            parts.append(chunk)
            messages += 1
        if not message.get("more_body", False):
            break
    return b"".join(parts), messages


async def _respond(
    send: Send,
    status: int,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"text/plain",
) -> None:
    head = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    head += headers or []
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, data: Any, status: int = 200, hold: float = 0.0) -> None:
    body = json.dumps(data).encode()
    if not hold:
        await _respond(send, status, body, content_type=b"application/json")
        return
    # Hold the last byte back: the response stays unfinished, its connection busy, meanwhile.
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body[:-1], "more_body": True})
    await asyncio.sleep(hold)
    await send({"type": "http.response.body", "body": body[-1:]})


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    body, messages = await _read_body(receive)
    client = scope.get("client") or ("", 0)
    await _json(
        send,
        {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope.get("raw_path", b"").decode("latin-1"),
            "query": scope.get("query_string", b"").decode("latin-1"),
            "scheme": scope["scheme"],
            "http_version": scope["http_version"],
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body": body.decode("latin-1") if len(body) <= ECHO_BODY_LIMIT else None,
            "body_messages": messages,
            "client": [client[0], client[1]],
        },
        hold=float(_query(scope).get("hold", "0")),
    )


async def _chain(scope: Scope, send: Send) -> None:
    codes = scope["path"].rsplit("/", 1)[-1].split("-")
    status = int(codes[0])
    location = "-".join(codes[1:]) if len(codes) > 1 else "../echo"
    await _respond(send, status, headers=[(b"location", location.encode())])


_SET_COOKIES = [
    b"plain=1; Path=/",
    b"nopath=6",  # default path: /cookies (the directory of /cookies/set)
    b"attrs=2; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax",
    b"scoped=3; Path=/echo/scoped",
    b"sec=4; Path=/; Secure",
    b"expired=5; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    b'quoted="a b"; Path=/',
]


async def _slow(scope: Scope, receive: Receive, send: Send) -> None:
    query = _query(scope)
    await _read_body(receive)
    await asyncio.sleep(float(query.get("head", "0")))
    body = pattern(int(query.get("size", "2000")))
    half = len(body) // 2
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body[:half], "more_body": True})
    await asyncio.sleep(float(query.get("body", "0")))
    await send({"type": "http.response.body", "body": body[half:]})


async def _chunked(scope: Scope, receive: Receive, send: Send) -> None:
    query = _query(scope)
    await _read_body(receive)
    chunks, size = int(query.get("chunks", "10")), int(query.get("size", "100"))
    body = pattern(chunks * size)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for i in range(chunks):
        piece = body[i * size : (i + 1) * size]
        await send({"type": "http.response.body", "body": piece, "more_body": True})
        # Let each piece go out as its own chunk rather than one coalesced write.
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point (``uvicorn echo_asgi:app``)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    if path == "/echo" or path.startswith("/echo/") or path.endswith("/echo"):
        await _echo(scope, receive, send)
        return
    if path not in ("/slow", "/chunked"):  # those two read the body themselves
        await _read_body(receive)
    if path.startswith("/status/"):
        await _respond(send, int(path.rsplit("/", 1)[-1]))
    elif path == "/redirect":
        query = _query(scope)
        location = query["location"].encode("latin-1")
        await _respond(send, int(query.get("status", "302")), headers=[(b"location", location)])
    elif path.startswith("/chain/"):
        await _chain(scope, send)
    elif path == "/loop":
        await _respond(send, 302, headers=[(b"location", b"/loop")])
    elif path == "/cookies/set":
        await _respond(send, 200, b"set", headers=[(b"set-cookie", c) for c in _SET_COOKIES])
    elif path == "/cookies/delete":
        gone = [(b"set-cookie", b"plain=; Path=/; Max-Age=0")]
        await _respond(send, 200, b"deleted", headers=gone)
    elif path == "/slow":
        await _slow(scope, receive, send)
    elif path == "/chunked":
        await _chunked(scope, receive, send)
    elif path == "/whoami":
        port = (scope.get("client") or ("", 0))[1]
        SEEN.setdefault(_query(scope).get("tag", ""), []).append(port)
        await _respond(send, 200, str(port).encode())
    elif path == "/seen":
        await _json(send, SEEN.get(_query(scope).get("tag", ""), []))
    else:
        await _respond(send, 404, b"not found")
