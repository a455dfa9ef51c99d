"""WebSocket protocol names under their aiohttp module (``aiohttp.http_websocket``).

The implementation lives in ``aiohyper._ws``; this module re-exports what aiohttp users import
from here: the message model, the reader and writer, and the handshake helpers.
"""

from ._ws import (
    WS_CLOSED_MESSAGE as WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE as WS_CLOSING_MESSAGE,
    WS_KEY as WS_KEY,
    WebSocketDataQueue as WebSocketDataQueue,
    WebSocketError as WebSocketError,
    WebSocketReader as WebSocketReader,
    WebSocketWriter as WebSocketWriter,
    WSCloseCode as WSCloseCode,
    WSMessage as WSMessage,
    WSMsgType as WSMsgType,
    websocket_mask as websocket_mask,
    ws_ext_gen as ws_ext_gen,
    ws_ext_parse as ws_ext_parse,
)

__all__ = (
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketDataQueue",
    "WebSocketError",
    "WebSocketReader",
    "WebSocketWriter",
    "websocket_mask",
    "ws_ext_gen",
    "ws_ext_parse",
)
