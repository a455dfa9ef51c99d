"""The WebSocket message model: message types, close codes, messages and errors.

``WSMsgType`` values 0x0..0xA are the RFC 6455 §5.2 opcodes; ``CLOSING``, ``CLOSED`` and
``ERROR`` are not frames but states the message loop reports through `WSMessage`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, Final, NamedTuple

__all__ = (
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WSCloseCode",
    "WSHandshakeError",
    "WSMessage",
    "WSMsgType",
    "WebSocketError",
)


class WSCloseCode(enum.IntEnum):
    """Close status codes (RFC 6455 §7.4.1 and the IANA registry)."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    #: Never sent on the wire: the connection ended without a Close frame.
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMsgType(enum.IntEnum):
    """What a `WSMessage` carries: a frame opcode, or a state of the connection."""

    # RFC 6455 opcodes.
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    # States reported by the message loop, never frames.
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # Lower-case aliases kept from aiohttp's older API.
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSMessage(NamedTuple):
    """One message received from the peer (or a state of the connection).

    ``data`` is ``str`` for TEXT, ``bytes`` for BINARY/PING/PONG, the close code (``int``) for
    CLOSE, the exception for ERROR and ``None`` for CLOSING/CLOSED. ``extra`` is the close
    reason (``str``) of a CLOSE message, ``None`` otherwise.
    """

    type: WSMsgType
    data: Any
    extra: str | None

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Decode ``data`` (a TEXT or BINARY message) as JSON with ``loads``."""
        return loads(self.data)


# Built once: the loop returns them on every receive() after the connection is closing/closed.
WS_CLOSED_MESSAGE: Final = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE: Final = WSMessage(WSMsgType.CLOSING, None, None)


class WebSocketError(Exception):
    """The peer broke the WebSocket protocol; ``code`` is the close code to answer with.

    ``code`` is 1002 (protocol error), 1007 (invalid payload data, e.g. bad UTF-8) or 1009
    (message too big); ``str(exc)`` is the human readable reason.
    """

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])


class WSHandshakeError(ValueError):
    """The opening handshake is invalid (a bad key, version, extension offer or response).

    Raised by the helpers of ``aiohyper._ws._handshake``. ``status`` is the HTTP status a
    server answers with (or, on a client, the status the server answered with); ``headers``
    are headers to add to that answer. The client turns it into ``WSServerHandshakeError``.
    """

    def __init__(
        self, message: str, *, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers if headers is not None else {}
