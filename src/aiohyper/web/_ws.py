"""Server-side WebSockets: `WebSocketResponse` and `WebSocketReady`.

A handler upgrades its request with ``ws = WebSocketResponse(); await ws.prepare(request)``:

1. the request is checked and the ``101 Switching Protocols`` head built by the shared codec
   (`aiohyper._ws.server_handshake`): subprotocol and permessage-deflate negotiation included;
   a request that is no valid upgrade raises ``HTTPBadRequest`` (``HTTPMethodNotAllowed`` for
   a method other than GET) with the reason in its text;
2. the head goes out like any response's (``on_response_prepare`` runs first);
3. the connection is handed over: every further byte from the peer goes to a
   `WebSocketReader` (``RequestHandler.set_parser``), and frames are written by a
   `WebSocketWriter` straight to the transport;
4. the message loop (receive, send, ping/pong, closing, heartbeat) is the one the client
   shares, `WebSocketSession`.

When the handler returns the response, the server calls `WebSocketResponse.write_eof`, which
closes the WebSocket (Close 1000) if the handler did not; the connection is never reused.
A graceful server shutdown closes WebSockets still open with 1001 (Going Away), through the
connection's `RequestHandler.set_upgrade_closer` hook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, NamedTuple

from .._ws import (
    WebSocketDataQueue,
    WebSocketReader,
    WebSocketSession,
    WebSocketWriter,
    WSCloseCode,
    WSHandshakeError,
)
from .._ws._handshake import ServerHandshake, server_handshake
from .._ws._writer import DEFAULT_LIMIT
from ..abc import AbstractStreamWriter
from ..helpers import set_result
from ._exceptions import HTTPBadRequest, HTTPMethodNotAllowed
from ._response import StreamResponse

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ("WebSocketReady", "WebSocketResponse")

#: Bytes of received messages buffered before reading from the peer pauses.
_READ_LIMIT: Final = 2**16
_SHUTDOWN_REASON: Final = b"Server shutdown"


class WebSocketReady(NamedTuple):
    """What `WebSocketResponse.can_prepare` found: ``ok`` if the request can be upgraded,
    and the subprotocol that would be chosen (``None`` if none in common). True when ok."""

    ok: bool
    protocol: str | None

    def __bool__(self) -> bool:
        return self.ok


class WebSocketResponse(StreamResponse, WebSocketSession):
    """The server's end of a WebSocket, answering the upgrade request it is prepared for.

    ``timeout``: seconds `close` waits for the peer's Close. ``receive_timeout``: default
    limit of `receive` (``None``: none). ``autoclose``: answer the peer's Close at once.
    ``autoping``: answer pings and swallow pongs. ``heartbeat``: ping after this many idle
    seconds; no data within half of it closes the connection (code 1006).
    ``protocols``: the subprotocols we speak, by preference of the client. ``compress``:
    accept permessage-deflate. ``max_msg_size``: largest message accepted in bytes (0: no
    limit; above it the connection closes with 1009). ``writer_limit``: bytes written
    between two waits for the peer to drain.
    """

    _length_check = False

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        protocols: Iterable[str] = (),
        compress: bool = True,
        max_msg_size: int = 4 * 1024 * 1024,
        writer_limit: int = DEFAULT_LIMIT,
    ) -> None:
        StreamResponse.__init__(self, status=101)
        WebSocketSession.__init__(
            self,
            close_timeout=timeout,
            receive_timeout=receive_timeout,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
        )
        self._protocols = tuple(protocols)
        self._ws_protocol: str | None = None
        self._compress: bool | int = compress
        self._max_msg_size = max_msg_size
        self._writer_limit = writer_limit
        # Resolved when a close() started from another task is over (see write_eof).
        self._close_done: asyncio.Future[None] | None = None

    # -- negotiation -----------------------------------------------------------------------

    def _handshake(self, request: BaseRequest) -> ServerHandshake:
        """Check ``request`` and negotiate; raise the HTTP error to answer a bad one with."""
        try:
            return server_handshake(
                request.method,
                request.headers,
                protocols=self._protocols,
                compress=bool(self._compress),
            )
        except WSHandshakeError as exc:
            if exc.status == 405:
                raise HTTPMethodNotAllowed(
                    request.method, ["GET"], text=exc.message, headers=exc.headers
                ) from None
            raise HTTPBadRequest(text=exc.message, headers=exc.headers) from None

    def can_prepare(self, request: BaseRequest) -> WebSocketReady:
        """Whether `prepare` would succeed for ``request``, and the subprotocol it would
        choose. Never raises for a bad request (``RuntimeError`` once started)."""
        if self._ws_writer is not None:
            raise RuntimeError("Already started")
        try:
            handshake = self._handshake(request)
        except (HTTPBadRequest, HTTPMethodNotAllowed):
            return WebSocketReady(False, None)
        return WebSocketReady(True, handshake.protocol)

    # -- starting --------------------------------------------------------------------------

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        """Answer ``request`` with 101 and take the connection over (see the module
        docstring). Raises ``HTTPBadRequest`` / ``HTTPMethodNotAllowed`` for a request
        that is not a valid upgrade. Calling it again does nothing."""
        if self._eof_sent:
            return None
        if self._payload_writer is not None:
            return self._payload_writer
        handshake = self._handshake(request)
        self.set_status(101)
        self._headers.update(handshake.headers)
        self.force_close()
        self._compress = handshake.compress
        self._ws_protocol = handshake.protocol
        writer = await super().prepare(request)
        assert writer is not None
        # Frames go straight to the transport: the head must be out before any of them.
        await writer.drain()
        protocol = request.protocol
        transport = protocol.transport
        if transport is None:
            raise ConnectionResetError("Connection lost before the WebSocket started")
        loop = asyncio.get_running_loop()
        queue = WebSocketDataQueue(protocol, _READ_LIMIT, loop=loop)
        reader = WebSocketReader(queue, self._max_msg_size, handshake.compress, masked=True)
        ws_writer = WebSocketWriter(
            protocol,
            transport,
            limit=self._writer_limit,
            compress=handshake.compress,
            notakeover=handshake.notakeover,
        )
        self._ws_start(queue, ws_writer, loop=loop, frame_reader=reader)
        protocol.keep_alive(False)
        protocol.set_parser(reader)
        protocol.set_upgrade_closer(self._close_going_away)
        return writer

    # -- state -----------------------------------------------------------------------------

    @property
    def ws_protocol(self) -> str | None:
        """The subprotocol chosen by the handshake (``None``: none in common)."""
        return self._ws_protocol

    @property
    def compress(self) -> bool | int:
        """Before `prepare`: whether compression is accepted; after: the negotiated
        permessage-deflate window bits (0: not negotiated)."""
        return self._compress

    # -- closing ---------------------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Send a Close with ``code`` and ``message`` and wait up to ``timeout`` seconds for
        the peer's; ``False`` if already closed. Safe to call from another task."""
        if self._ws_writer is None or self._ws_closed:
            return await super().close(code=code, message=message, drain=drain)
        done = self._close_done = asyncio.get_running_loop().create_future()
        try:
            return await super().close(code=code, message=message, drain=drain)
        finally:
            set_result(done, None)

    async def _close_going_away(self) -> None:
        """The graceful shutdown's goodbye (registered with the connection)."""
        if self._ws_writer is not None and not self._ws_closed:
            await self.close(code=WSCloseCode.GOING_AWAY, message=_SHUTDOWN_REASON)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Not available: use `send_str`, `send_bytes`, `send_json` or `send_frame`."""
        raise RuntimeError("Cannot call .write() for websocket")

    async def write_eof(self, data: bytes = b"") -> None:
        """Finish the response: close the WebSocket if it is still open (the server calls
        this when the handler returns). Waits for a close begun by another task. ``data``
        is ignored (a WebSocket has no HTTP body)."""
        if self._eof_sent:
            return
        if self._payload_writer is None:
            raise RuntimeError("Response has not been started")
        await self.close()
        done = self._close_done
        if done is not None and not done.done():
            await asyncio.shield(done)
        self._eof_sent = True

    def __repr__(self) -> str:
        state = "closed" if self._ws_closed else "open" if self._ws_writer else "not prepared"
        return f"<{type(self).__name__} {state}>"
