"""Client-side WebSockets: `ClientWebSocketResponse` and the opening handshake of
``ClientSession.ws_connect`` (`connect`).

The handshake is an ordinary request made through the session, so it gets everything a
request gets: the connector and its pool, proxies, TLS settings, cookies, credentials,
default headers, middlewares, redirects and tracing. The codec (`aiohyper._ws`) builds the
upgrade headers and checks the server's ``101`` answer (accept key, subprotocol,
permessage-deflate parameters); a refusal raises `WSServerHandshakeError`. The connection is
then taken out of HTTP: its protocol feeds a `WebSocketReader` (``ResponseHandler.set_parser``)
and a masking `WebSocketWriter` writes to its transport. The message loop is the one the
server shares, `WebSocketSession`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from .._ws import (
    WebSocketDataQueue,
    WebSocketReader,
    WebSocketSession,
    WebSocketWriter,
    WSHandshakeError,
    WSMessage,
)
from .._ws._handshake import client_handshake_headers, generate_client_key, verify_server_handshake
from ..http_exceptions import HttpProcessingError
from ..streams import DataQueue
from ._exceptions import (
    ClientResponseError,
    ServerDisconnectedError,
    ServerTimeoutError,
    WSServerHandshakeError,
)
from ._timeout import ClientWSTimeout

if TYPE_CHECKING:
    from ..helpers import BasicAuth
    from ..typedefs import LooseHeaders, StrOrURL
    from ._response import ClientResponse
    from ._session import ClientSession
    from ._tls import SSLParam

__all__ = ("ClientWebSocketResponse", "connect")

#: Bytes of received messages buffered before reading from the server pauses.
_READ_LIMIT: Final = 2**16
# Handshake headers a caller may set to other values (the key and offers are ours to make).
_OVERRIDABLE: Final = frozenset({"Upgrade", "Connection", "Sec-WebSocket-Version"})


class ClientWebSocketResponse(WebSocketSession):
    """The client's end of a WebSocket, made by ``ClientSession.ws_connect`` (do not
    instantiate it yourself).

    ``reader`` is the message queue the connection's `WebSocketReader` feeds, ``writer`` the
    frame writer, ``protocol`` the negotiated subprotocol, ``response`` the ``101`` response
    that owns the connection. ``timeout``: ``ws_receive`` is the default limit of `receive`,
    ``ws_close`` how long `close` waits for the server's Close. ``heartbeat``: ping after this
    many idle seconds; no data within half of it closes the connection with code 1006 and
    `exception` is a ``ServerTimeoutError``. ``compress`` / ``client_notakeover``: the
    negotiated permessage-deflate window bits (0: none) and context takeover of our side.
    ``frame_reader``: the `WebSocketReader`, so that the heartbeat sees every frame arrive.
    """

    __slots__ = ("__weakref__", "_client_notakeover", "_compress", "_protocol", "_response")

    def __init__(
        self,
        reader: DataQueue[WSMessage],
        writer: WebSocketWriter,
        protocol: str | None,
        response: ClientResponse,
        timeout: ClientWSTimeout,
        autoclose: bool,
        autoping: bool,
        loop: asyncio.AbstractEventLoop,
        *,
        heartbeat: float | None = None,
        compress: int = 0,
        client_notakeover: bool = False,
        frame_reader: WebSocketReader | None = None,
    ) -> None:
        super().__init__(
            close_timeout=timeout.ws_close,
            receive_timeout=timeout.ws_receive,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
        )
        self._protocol = protocol
        self._response = response
        self._compress = compress
        self._client_notakeover = client_notakeover
        self._ws_start(reader, writer, loop=loop, frame_reader=frame_reader)

    # -- seams of the message loop ---------------------------------------------------------

    def _close_transport(self) -> None:
        # Closing the response closes its connection (an upgraded one is never pooled).
        self._response.close()

    def _heartbeat_timeout_error(self) -> BaseException:
        wait = (self._ws_heartbeat or 0) / 2
        return ServerTimeoutError(f"No PONG received after {wait} seconds")

    # -- state -----------------------------------------------------------------------------

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server chose (``None``: none)."""
        return self._protocol

    @property
    def compress(self) -> int:
        """The negotiated permessage-deflate window bits (0: no compression)."""
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        """Whether our compressor resets its context after every message."""
        return self._client_notakeover

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._ws_closed else "open"
        return f"<{type(self).__name__} {self._response.url} {state}>"


async def connect(
    session: ClientSession,
    url: StrOrURL,
    *,
    method: str,
    protocols: Sequence[str],
    timeout: ClientWSTimeout,
    autoclose: bool,
    autoping: bool,
    heartbeat: float | None,
    auth: BasicAuth | None,
    origin: str | None,
    params: Any,
    headers: LooseHeaders | None,
    proxy: StrOrURL | None,
    proxy_auth: BasicAuth | None,
    ssl: SSLParam,
    verify_ssl: bool | None,
    fingerprint: bytes | None,
    ssl_context: Any,
    server_hostname: str | None,
    proxy_headers: LooseHeaders | None,
    compress: int,
    max_msg_size: int,
    response_class: type[ClientWebSocketResponse],
) -> ClientWebSocketResponse:
    """Open a WebSocket to ``url`` through ``session`` (see ``ClientSession.ws_connect``).

    Raises `WSServerHandshakeError` when the server does not accept the upgrade, or accepts
    it wrongly (bad accept key, a subprotocol or extension parameters we did not offer);
    ``ValueError`` for ``compress`` outside 0 and 9..15.
    """
    protocols = tuple(protocols)
    key = generate_client_key()
    real_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
    ours = client_handshake_headers(key, protocols=protocols, compress=compress, origin=origin)
    for name, value in ours.items():
        if name in _OVERRIDABLE:
            real_headers.setdefault(name, value)
        else:
            real_headers[name] = value

    try:
        resp = await session._request(
            method,
            url,
            params=params,
            headers=real_headers,
            read_until_eof=False,
            auth=auth,
            proxy=proxy,
            proxy_auth=proxy_auth,
            ssl=ssl,
            verify_ssl=verify_ssl,
            fingerprint=fingerprint,
            ssl_context=ssl_context,
            server_hostname=server_hostname,
            proxy_headers=proxy_headers,
        )
    except ClientResponseError as exc:
        if not isinstance(exc.__cause__, HttpProcessingError):
            raise
        # The answer to the handshake could not be parsed (e.g. a 101 without Upgrade or
        # Connection headers): for ws_connect that is a refused handshake.
        raise WSServerHandshakeError(
            exc.request_info,
            exc.history,
            message=f"Invalid response to the WebSocket handshake: {exc.message}",
            status=exc.status,
            headers=exc.headers,
        ) from exc
    try:
        try:
            handshake = verify_server_handshake(
                resp.status, resp.headers, key=key, protocols=protocols, compress=compress
            )
        except WSHandshakeError as exc:
            raise WSServerHandshakeError(
                resp.request_info,
                resp.history,
                message=exc.message,
                status=resp.status,
                headers=resp.headers,
            ) from None
        conn = resp.connection
        conn_protocol = conn.protocol if conn is not None else None
        transport = conn.transport if conn is not None else None
        if conn_protocol is None or transport is None:
            raise ServerDisconnectedError("Connection lost right after the WebSocket handshake")
        loop = asyncio.get_running_loop()
        queue = WebSocketDataQueue(conn_protocol, _READ_LIMIT, loop=loop)
        reader = WebSocketReader(queue, max_msg_size, handshake.compress, masked=False)
        conn_protocol.set_parser(reader, queue)
        writer = WebSocketWriter(
            conn_protocol,
            transport,
            use_mask=True,
            compress=handshake.compress,
            notakeover=handshake.notakeover,
        )
        ws = response_class(
            queue,
            writer,
            handshake.protocol,
            resp,
            timeout,
            autoclose,
            autoping,
            loop,
            heartbeat=heartbeat,
            compress=handshake.compress,
            client_notakeover=handshake.notakeover,
            frame_reader=reader,
        )
    except BaseException:
        resp.close()
        raise
    # The request's ``total`` timeout ends with the handshake, not with the WebSocket.
    resp._run_done_callbacks()
    return ws
