"""A chat room over WebSockets: ``/chat`` is the page, ``/chat/ws`` the WebSocket.

Wire protocol:

* the page connects to ``/chat/ws?nick=<nickname>`` (1 to 24 printable characters; anything
  else is refused with 400 before the upgrade);
* every text message the browser sends is one chat line (at most `MAX_TEXT` characters);
* the server sends JSON events to everyone in the room, the sender included:
  ``{"type": "join" | "leave", "nick", "online": [nicknames]}`` and
  ``{"type": "message", "nick", "text", "time"}`` (``time``: ISO 8601, UTC); a line it refuses
  gets ``{"type": "error", "detail"}`` back to its sender only. Binary messages close the
  socket with 1003 (unsupported data).

The open sockets live in the application's `ChatRoom` (under the `CHAT` key). On shutdown
`close_all` says goodbye to every one of them with 1001 (going away), at once, so that the
graceful shutdown does not wait on browsers that keep their chat open. The page shows
everything with ``textContent``: nicknames and lines are never parsed as HTML.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any, Final

from aiohyper import WSCloseCode, WSMsgType, web

from .pages import html_page

__all__ = ("CHAT", "MAX_NICK", "MAX_TEXT", "ChatRoom", "close_all", "routes")

#: Longest nickname, in characters.
MAX_NICK: Final = 24
#: Longest chat line, in characters.
MAX_TEXT: Final = 500
# Seconds between pings to a quiet browser (a vanished one is dropped within 1.5 times that).
_HEARTBEAT: Final = 30.0
# Seconds a send to one slow socket may take before that socket is dropped from a broadcast.
_SEND_TIMEOUT: Final = 5.0


class ChatRoom:
    """Who is in the room: every open WebSocket and its nickname."""

    __slots__ = ("closing", "members")

    def __init__(self) -> None:
        self.members: dict[web.WebSocketResponse, str] = {}
        self.closing = False  # shutdown began: no more notices

    def nicknames(self) -> list[str]:
        """The nicknames in the room, in the order they joined."""
        return list(self.members.values())

    async def broadcast(self, event: dict[str, Any]) -> None:
        """Send ``event`` (as JSON) to every member, concurrently; a member whose connection
        fails or stalls is closed instead of holding the others up."""
        data = json.dumps(event)
        sockets = [ws for ws in self.members if not ws.closed]
        await asyncio.gather(*(_send(ws, data) for ws in sockets))


async def _send(ws: web.WebSocketResponse, data: str) -> None:
    try:
        async with asyncio.timeout(_SEND_TIMEOUT):
            await ws.send_str(data)
    except ConnectionError:
        pass  # it is leaving: its handler announces it
    except TimeoutError:
        # A browser that stopped reading: hang up (a close that times out aborts the
        # connection). Its handler then sees the end and announces the leave.
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(_SEND_TIMEOUT):
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Too slow")


CHAT = web.AppKey("chat", ChatRoom)

routes = web.RouteTableDef()

_PAGE = """<p>A chat room: every line is sent over a WebSocket
(<code>/chat/ws</code>) and broadcast to everyone in the room.</p>
<form id="join" class="chat-form">
<label for="nick">Nickname</label>
<input id="nick" name="nick" maxlength="{max_nick}" required autocomplete="nickname">
<button id="join-button">Join</button>
</form>
<p id="status" role="status">Not connected.</p>
<ul id="log" class="chat-log" aria-live="polite"></ul>
<form id="send" class="chat-form" hidden>
<input id="text" maxlength="{max_text}" required autocomplete="off"
 placeholder="Say something…" aria-label="Message">
<button id="send-button">Send</button>
</form>
<script src="/static/chat.js"></script>
"""


@routes.get("/chat", name="chat")
async def chat_page(request: web.Request) -> web.Response:
    """GET /chat: the chat page (``?nick=NAME`` joins at once)."""
    return html_page("WebSocket chat", _PAGE.format(max_nick=MAX_NICK, max_text=MAX_TEXT))


def _nickname(request: web.Request) -> str:
    nick = request.query.get("nick", "").strip()
    if not nick or len(nick) > MAX_NICK or not nick.isprintable():
        raise web.HTTPBadRequest(
            text=f"nick must be 1 to {MAX_NICK} printable characters", content_type="text/plain"
        )
    return nick


@routes.get("/chat/ws", name="chat_ws")
async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    """GET /chat/ws?nick=NAME: one member's WebSocket (see the module docstring)."""
    nick = _nickname(request)
    room = request.app[CHAT]
    # A line is at most MAX_TEXT characters of up to 4 UTF-8 bytes each.
    ws = web.WebSocketResponse(heartbeat=_HEARTBEAT, max_msg_size=4 * MAX_TEXT)
    await ws.prepare(request)
    room.members[ws] = nick
    try:
        await room.broadcast({"type": "join", "nick": nick, "online": room.nicknames()})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await _said(room, ws, nick, msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"Send text")
    finally:
        room.members.pop(ws, None)
    # Not reached when the handler is cancelled; skipped while the server shuts down.
    if not room.closing:
        await room.broadcast({"type": "leave", "nick": nick, "online": room.nicknames()})
    return ws


async def _said(room: ChatRoom, ws: web.WebSocketResponse, nick: str, line: str) -> None:
    text = line.strip()
    if not text or len(text) > MAX_TEXT:
        detail = f"A message is 1 to {MAX_TEXT} characters"
        await ws.send_json({"type": "error", "detail": detail})
        return
    now = datetime.now(UTC).isoformat(timespec="seconds")
    await room.broadcast({"type": "message", "nick": nick, "text": text, "time": now})


async def close_all(app: web.Application) -> None:
    """``on_shutdown``: close every chat socket with 1001, all at once."""
    room = app[CHAT]
    room.closing = True
    sockets = list(room.members)
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown") for ws in sockets),
        return_exceptions=True,
    )
