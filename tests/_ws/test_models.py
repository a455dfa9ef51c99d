"""The message model and the public ``aiohyper.http_websocket`` module."""

from __future__ import annotations

import json

import pytest

from aiohyper import http_websocket
from aiohyper._ws import WebSocketError, WSHandshakeError
from aiohyper.http_websocket import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)


def test_msg_type_values() -> None:
    assert [(t.name, t.value) for t in WSMsgType] == [
        ("CONTINUATION", 0),
        ("TEXT", 1),
        ("BINARY", 2),
        ("PING", 9),
        ("PONG", 10),
        ("CLOSE", 8),
        ("CLOSING", 0x100),
        ("CLOSED", 0x101),
        ("ERROR", 0x102),
    ]
    assert WSMsgType.text is WSMsgType.TEXT and WSMsgType.closed is WSMsgType.CLOSED
    assert WSMsgType(1) is WSMsgType.TEXT


def test_close_code_values() -> None:
    assert {c.name: c.value for c in WSCloseCode} == {
        "OK": 1000,
        "GOING_AWAY": 1001,
        "PROTOCOL_ERROR": 1002,
        "UNSUPPORTED_DATA": 1003,
        "ABNORMAL_CLOSURE": 1006,
        "INVALID_TEXT": 1007,
        "POLICY_VIOLATION": 1008,
        "MESSAGE_TOO_BIG": 1009,
        "MANDATORY_EXTENSION": 1010,
        "INTERNAL_ERROR": 1011,
        "SERVICE_RESTART": 1012,
        "TRY_AGAIN_LATER": 1013,
        "BAD_GATEWAY": 1014,
    }


def test_message() -> None:
    msg = WSMessage(WSMsgType.TEXT, '{"a": 1}', None)
    assert msg.type is WSMsgType.TEXT and msg.data == '{"a": 1}' and msg.extra is None
    assert msg.json() == {"a": 1}
    assert msg.json(loads=lambda s: json.loads(s)["a"]) == 1
    assert WSMessage(WSMsgType.BINARY, b"[1]", None).json() == [1]
    assert WS_CLOSED_MESSAGE == (WSMsgType.CLOSED, None, None)
    assert WS_CLOSING_MESSAGE == (WSMsgType.CLOSING, None, None)


def test_errors() -> None:
    exc = WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "too big")
    assert exc.code == 1009 and str(exc) == "too big" and exc.args == (1009, "too big")
    hs = WSHandshakeError("bad", status=405, headers={"Allow": "GET"})
    assert isinstance(hs, ValueError) and hs.status == 405 and hs.headers == {"Allow": "GET"}
    assert WSHandshakeError("x").status == 400


def test_public_module_names() -> None:
    for name in http_websocket.__all__:
        assert getattr(http_websocket, name) is not None
    assert http_websocket.WS_KEY == b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@pytest.mark.parametrize("opcode", [WSMsgType.CLOSE, WSMsgType.PING, WSMsgType.PONG])
def test_control_opcodes_have_the_high_bit(opcode: WSMsgType) -> None:
    # The frame code relies on it to tell control frames apart.
    assert opcode & 0x8
