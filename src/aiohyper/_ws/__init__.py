"""The WebSocket protocol core: frame codec, permessage-deflate, handshake helpers, models,
and the reader/writer/message loop that the server's and the client's WebSocket objects share.

Module map:

* `_models`: ``WSMsgType``, ``WSCloseCode``, ``WSMessage``, ``WebSocketError``,
  ``WSHandshakeError``;
* `_mask`: payload masking; `_frames`: the frame decoder and builder; `_deflate`: the
  permessage-deflate codec; `_parser`: bytes to messages (sans-I/O);
* `_handshake`: keys, subprotocols, extension negotiation, whole handshakes (pure functions);
* `_reader` / `_writer`: the connection glue (a protocol's parser after the upgrade, and the
  frame writer); `_session`: the message loop ``WebSocketResponse`` and
  ``ClientWebSocketResponse`` build on.
"""

from ._deflate import (
    MessageCompressor as MessageCompressor,
    MessageDecompressor as MessageDecompressor,
)
from ._frames import (
    Frame as Frame,
    FrameDecoder as FrameDecoder,
    build_frame as build_frame,
    build_frame_header as build_frame_header,
)
from ._handshake import (
    WS_KEY as WS_KEY,
    ClientHandshake as ClientHandshake,
    DeflateParams as DeflateParams,
    ServerHandshake as ServerHandshake,
    accept_deflate_response as accept_deflate_response,
    client_handshake_headers as client_handshake_headers,
    deflate_offer as deflate_offer,
    generate_client_key as generate_client_key,
    negotiate_deflate as negotiate_deflate,
    parse_extensions as parse_extensions,
    parse_protocols as parse_protocols,
    select_protocol as select_protocol,
    server_handshake as server_handshake,
    validate_client_key as validate_client_key,
    verify_server_handshake as verify_server_handshake,
    ws_accept_key as ws_accept_key,
    ws_ext_gen as ws_ext_gen,
    ws_ext_parse as ws_ext_parse,
)
from ._mask import websocket_mask as websocket_mask
from ._models import (
    WS_CLOSED_MESSAGE as WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE as WS_CLOSING_MESSAGE,
    WebSocketError as WebSocketError,
    WSCloseCode as WSCloseCode,
    WSHandshakeError as WSHandshakeError,
    WSMessage as WSMessage,
    WSMsgType as WSMsgType,
)
from ._parser import WebSocketParser as WebSocketParser, is_valid_close_code as is_valid_close_code
from ._reader import WebSocketDataQueue as WebSocketDataQueue, WebSocketReader as WebSocketReader
from ._session import WebSocketSession as WebSocketSession
from ._writer import DEFAULT_LIMIT as DEFAULT_LIMIT, WebSocketWriter as WebSocketWriter
