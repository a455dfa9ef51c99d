"""Opening handshake helpers (RFC 6455 §4) and permessage-deflate negotiation (RFC 7692 §5-7)."""

from __future__ import annotations

import base64

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aiohyper._ws import WSHandshakeError
from aiohyper._ws._handshake import (
    accept_deflate_response,
    client_handshake_headers,
    deflate_offer,
    generate_client_key,
    negotiate_deflate,
    parse_extensions,
    parse_protocols,
    select_protocol,
    server_handshake,
    validate_client_key,
    verify_server_handshake,
    ws_accept_key,
    ws_ext_gen,
    ws_ext_parse,
)

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def headers(*pairs: tuple[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(pairs))


def upgrade_request(*extra: tuple[str, str]) -> CIMultiDictProxy[str]:
    return headers(
        ("Host", "example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "keep-alive, Upgrade"),
        ("Sec-WebSocket-Key", RFC_KEY),
        ("Sec-WebSocket-Version", "13"),
        *extra,
    )


# --- keys ---------------------------------------------------------------------------------


def test_accept_key_rfc_example() -> None:
    assert ws_accept_key(RFC_KEY) == RFC_ACCEPT


def test_generated_keys_are_valid_and_fresh() -> None:
    key = generate_client_key()
    assert len(base64.b64decode(key)) == 16
    assert validate_client_key(key) == key
    assert generate_client_key() != key


@pytest.mark.parametrize(
    "key", [None, "", "abc", "dGhlIHNhbXBsZSBub25jZQ", "!!!!IHNhbXBsZSBub25jZQ==", "AAAA" * 8]
)
def test_invalid_client_keys(key: str | None) -> None:
    with pytest.raises(WSHandshakeError) as info:
        validate_client_key(key)
    assert info.value.status == 400


# --- subprotocols -------------------------------------------------------------------------


def test_parse_and_select_protocols() -> None:
    requested = parse_protocols(["chat, superchat", " v2 ,,"])
    assert requested == ["chat", "superchat", "v2"]
    # The client's preference order wins.
    assert select_protocol(requested, ["v2", "superchat"]) == "superchat"
    assert select_protocol(requested, ["other"]) is None
    assert select_protocol([], ["chat"]) is None


# --- extension header grammar -------------------------------------------------------------


def test_parse_extensions() -> None:
    parsed = parse_extensions(
        [
            'permessage-deflate; client_max_window_bits; server_max_window_bits="10", foo',
            "Permessage-Deflate;SERVER_NO_CONTEXT_TAKEOVER",
        ]
    )
    assert parsed == [
        (
            "permessage-deflate",
            [("client_max_window_bits", None), ("server_max_window_bits", "10")],
        ),
        ("foo", []),
        ("permessage-deflate", [("server_no_context_takeover", None)]),
    ]


def test_parse_extensions_quoted_separators() -> None:
    assert parse_extensions(['x; a="b"']) == [("x", [("a", "b")])]
    # A quoted value must still be a token once unquoted.
    with pytest.raises(WSHandshakeError):
        parse_extensions(['x; a="b,c"'])
    with pytest.raises(WSHandshakeError):
        parse_extensions(['x; a="b'])


@pytest.mark.parametrize("bad", ["permessage-deflate; =1", "a b", "x; y=", "x; y=@", "x;;"])
def test_parse_extensions_syntax_errors(bad: str) -> None:
    with pytest.raises(WSHandshakeError):
        parse_extensions([bad])


# --- server negotiation -------------------------------------------------------------------


def test_negotiate_plain_offer() -> None:
    params = negotiate_deflate(["permessage-deflate; client_max_window_bits"])
    assert params is not None
    assert (params.compress, params.notakeover, params.header) == (15, False, "permessage-deflate")


def test_negotiate_server_window_and_no_context_takeover() -> None:
    params = negotiate_deflate(
        ["permessage-deflate; server_max_window_bits=10; server_no_context_takeover"]
    )
    assert params is not None
    assert params.compress == 10 and params.notakeover
    assert params.header == (
        "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
    )


def test_negotiate_server_side_limits() -> None:
    params = negotiate_deflate(
        ["permessage-deflate"], max_window_bits=12, no_context_takeover=True
    )
    assert params is not None
    assert params.compress == 12 and params.notakeover
    assert (
        params.header
        == "permessage-deflate; server_max_window_bits=12; server_no_context_takeover"
    )


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; unknown",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=8",  # zlib cannot
        "permessage-deflate; client_max_window_bits=20",
        "permessage-deflate; client_no_context_takeover=1",
        "x-webkit-deflate-frame",
    ],
)
def test_negotiate_declines_bad_offers(offer: str) -> None:
    assert negotiate_deflate([offer]) is None


def test_negotiate_falls_back_to_a_later_offer() -> None:
    params = negotiate_deflate(
        [
            "permessage-deflate; server_max_window_bits=8, "
            "permessage-deflate; server_max_window_bits=9"
        ]
    )
    assert params is not None and params.compress == 9


# --- client offer and response ------------------------------------------------------------


def test_client_offer() -> None:
    assert deflate_offer() == "permessage-deflate; client_max_window_bits"
    assert deflate_offer(10, server_no_context_takeover=True) == (
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10; "
        "server_no_context_takeover"
    )
    with pytest.raises(ValueError):
        deflate_offer(8)


def test_client_accepts_server_answers() -> None:
    assert accept_deflate_response([]).compress == 0
    plain = accept_deflate_response(["permessage-deflate"])
    assert (plain.compress, plain.notakeover) == (15, False)
    limited = accept_deflate_response(
        ["permessage-deflate; client_max_window_bits=11; client_no_context_takeover"]
    )
    assert (limited.compress, limited.notakeover) == (11, True)


@pytest.mark.parametrize(
    "answer",
    [
        "x-other",
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; client_max_window_bits=8",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; foo",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=x",
    ],
)
def test_client_refuses_bad_answers(answer: str) -> None:
    with pytest.raises(WSHandshakeError):
        accept_deflate_response([answer])


def test_client_refuses_a_larger_server_window_than_asked() -> None:
    with pytest.raises(WSHandshakeError):
        accept_deflate_response(["permessage-deflate; server_max_window_bits=12"], compress=10)
    ok = accept_deflate_response(["permessage-deflate; server_max_window_bits=9"], compress=10)
    assert ok.compress == 15


def test_aiohttp_helpers() -> None:
    assert ws_ext_parse(None) == (0, False)
    assert ws_ext_parse("permessage-deflate; server_no_context_takeover", isserver=True) == (
        15,
        True,
    )
    assert ws_ext_parse("permessage-deflate; unknown", isserver=True) == (0, False)
    assert ws_ext_parse("permessage-deflate; client_max_window_bits=10") == (10, False)
    with pytest.raises(WSHandshakeError):
        ws_ext_parse("permessage-deflate; bogus")
    assert ws_ext_gen() == "permessage-deflate; client_max_window_bits"
    assert ws_ext_gen(11, isserver=True, server_notakeover=True) == (
        "permessage-deflate; server_max_window_bits=11; server_no_context_takeover"
    )
    with pytest.raises(ValueError):
        ws_ext_gen(8)


# --- whole handshakes ---------------------------------------------------------------------


def test_server_handshake_rfc_example() -> None:
    result = server_handshake(
        "GET",
        upgrade_request(
            ("Sec-WebSocket-Protocol", "chat, superchat"),
            ("Origin", "http://example.com"),
            ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
        ),
        protocols=("superchat",),
    )
    assert result.headers == {
        "Upgrade": "websocket",
        "Connection": "upgrade",
        "Sec-WebSocket-Accept": RFC_ACCEPT,
        "Sec-WebSocket-Protocol": "superchat",
        "Sec-WebSocket-Extensions": "permessage-deflate",
    }
    assert result.protocol == "superchat" and result.compress == 15 and not result.notakeover


def test_server_handshake_without_compression() -> None:
    result = server_handshake(
        "GET", upgrade_request(("Sec-WebSocket-Extensions", "permessage-deflate")), compress=False
    )
    assert "Sec-WebSocket-Extensions" not in result.headers and result.compress == 0
    assert result.protocol is None and "Sec-WebSocket-Protocol" not in result.headers


def test_server_handshake_refusals() -> None:
    with pytest.raises(WSHandshakeError) as info:
        server_handshake("POST", upgrade_request())
    assert info.value.status == 405
    bad = [
        headers(("Upgrade", "h2c"), ("Connection", "upgrade")),
        headers(("Upgrade", "websocket"), ("Connection", "close")),
        headers(
            ("Upgrade", "websocket"),
            ("Connection", "upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "short"),
        ),
    ]
    for request in bad:
        with pytest.raises(WSHandshakeError) as info:
            server_handshake("GET", request)
        assert info.value.status == 400
    with pytest.raises(WSHandshakeError) as info:
        server_handshake(
            "GET",
            headers(
                ("Upgrade", "WebSocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "12"),
                ("Sec-WebSocket-Key", RFC_KEY),
            ),
        )
    assert info.value.headers == {"Sec-WebSocket-Version": "13"}


def test_client_side_round_trip() -> None:
    key = generate_client_key()
    request = client_handshake_headers(
        key, protocols=("chat", "v2"), compress=15, origin="http://o.example"
    )
    assert request["Sec-WebSocket-Protocol"] == "chat,v2"
    assert request["Origin"] == "http://o.example"
    server = server_handshake(
        "GET", headers(*request.items()), protocols=("v2",), no_context_takeover=True
    )
    result = verify_server_handshake(
        101, headers(*server.headers.items()), key=key, protocols=("chat", "v2"), compress=15
    )
    assert (result.protocol, result.compress, result.notakeover) == ("v2", 15, False)


def _answer(**changes: str | None) -> CIMultiDictProxy[str]:
    base: dict[str, str | None] = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": RFC_ACCEPT,
    }
    base.update({k.replace("_", "-"): v for k, v in changes.items()})
    return headers(*((k, v) for k, v in base.items() if v is not None))


@pytest.mark.parametrize(
    ("status", "changes", "message"),
    [
        (200, {}, "status"),
        (101, {"Upgrade": None}, "upgrade"),
        (101, {"Connection": "close"}, "connection"),
        (101, {"Sec_WebSocket_Accept": "nope"}, "challenge"),
        (101, {"Sec_WebSocket_Protocol": "other"}, "subprotocol"),
        (101, {"Sec_WebSocket_Extensions": "permessage-deflate"}, "extensions"),
    ],
)
def test_client_refuses_bad_server_answers(
    status: int, changes: dict[str, str | None], message: str
) -> None:
    with pytest.raises(WSHandshakeError) as info:
        verify_server_handshake(status, _answer(**changes), key=RFC_KEY, protocols=("chat",))
    assert message in str(info.value).lower()
    assert info.value.status == status


def test_client_bad_deflate_answer_fails() -> None:
    with pytest.raises(WSHandshakeError):
        verify_server_handshake(
            101,
            _answer(Sec_WebSocket_Extensions="permessage-deflate; client_max_window_bits=8"),
            key=RFC_KEY,
            compress=15,
        )
