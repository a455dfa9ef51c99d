"""The WebSocket opening handshake (RFC 6455 §4) and permessage-deflate negotiation (RFC 7692).

Pure functions over header values, shared by the server's ``WebSocketResponse`` and the
client's ``ws_connect``:

* keys: `generate_client_key`, `validate_client_key`, `ws_accept_key`;
* subprotocols: `parse_protocols`, `select_protocol`;
* extensions: `parse_extensions` (the ``Sec-WebSocket-Extensions`` grammar), the server's
  `negotiate_deflate` and the client's `deflate_offer` / `accept_deflate_response`, plus
  aiohttp's helpers `ws_ext_parse` / `ws_ext_gen`;
* whole handshakes: `server_handshake` (checks a request, builds the 101 headers) and
  `client_handshake_headers` / `verify_server_handshake` (the client's half).

Every refusal raises `WSHandshakeError` with a message a user can act on and the HTTP status
a server should answer with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from multidict import MultiMapping

from ._models import WSHandshakeError

__all__ = (
    "WS_KEY",
    "ClientHandshake",
    "DeflateParams",
    "ServerHandshake",
    "accept_deflate_response",
    "client_handshake_headers",
    "deflate_offer",
    "generate_client_key",
    "negotiate_deflate",
    "parse_extensions",
    "parse_protocols",
    "select_protocol",
    "server_handshake",
    "validate_client_key",
    "verify_server_handshake",
    "ws_accept_key",
    "ws_ext_gen",
    "ws_ext_parse",
)

#: The GUID appended to the client's key before hashing (RFC 6455 §1.3).
WS_KEY: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_VERSION: Final = "13"
PERMESSAGE_DEFLATE: Final = "permessage-deflate"

# RFC 7230 §3.2.6 token and quoted-string; RFC 6455 §9.1 extension grammar on top:
#   extension       = extension-token *( ";" extension-param )
#   extension-param = token [ "=" (token | quoted-string) ]
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED: Final = r'"(?:[^"\\]|\\.)*"'
_PARAM_RE: Final = re.compile(rf"\s*({_TOKEN})\s*(?:=\s*({_TOKEN}|{_QUOTED}))?\s*")
_TOKEN_RE: Final = re.compile(_TOKEN)
_WINDOW_BITS_RE: Final = re.compile(r"[89]|1[0-5]")


#: A case-insensitive multi-mapping of header values (``CIMultiDictProxy`` and kin).
_Headers = MultiMapping[str]


# --- keys --------------------------------------------------------------------------------------


def generate_client_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes in base64 (§4.1)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def validate_client_key(key: str | None) -> str:
    """Return ``key`` if it is base64 of 16 bytes (§4.2.1), else raise `WSHandshakeError`."""
    if not key:
        raise WSHandshakeError("Handshake error: Sec-WebSocket-Key header is missing")
    try:
        decoded = base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 16:
        raise WSHandshakeError(f"Handshake error: {key!r} is not a valid Sec-WebSocket-Key")
    return key.strip()


def ws_accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value that answers ``key`` (§4.2.2)."""
    digest = hashlib.sha1(key.encode("ascii") + WS_KEY).digest()
    return base64.b64encode(digest).decode("ascii")


# --- subprotocols -----------------------------------------------------------------------------


def parse_protocols(values: Iterable[str]) -> list[str]:
    """The subprotocol names listed in ``Sec-WebSocket-Protocol`` header values, in order."""
    return [name for value in values for part in value.split(",") if (name := part.strip())]


def select_protocol(requested: Sequence[str], supported: Iterable[str]) -> str | None:
    """The first of the client's ``requested`` subprotocols the server ``supported``, if any.

    The client lists subprotocols by preference (§4.1 item 10), so its order wins.
    """
    known = set(supported)
    for name in requested:
        if name in known:
            return name
    return None


# --- extensions -------------------------------------------------------------------------------


def _unquote(value: str) -> str:
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
        # RFC 6455 §9.1: an unquoted value must still be a token.
        if not _TOKEN_RE.fullmatch(value):
            raise WSHandshakeError(f"Invalid extension parameter value {value!r}")
    return value


def parse_extensions(values: Iterable[str]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Parse ``Sec-WebSocket-Extensions`` header values into ``(name, [(param, value)])``.

    Names are lower-cased (tokens compare case-insensitively); a parameter without ``=`` has
    the value ``None``; quoted values are unquoted. Raises `WSHandshakeError` on bad syntax.
    """
    result: list[tuple[str, list[tuple[str, str | None]]]] = []
    for value in values:
        for extension in _split(value, ","):
            if not extension.strip():
                continue  # empty list elements are allowed by the #rule
            name, *params = _split(extension, ";")
            name = name.strip()
            if not _TOKEN_RE.fullmatch(name):
                raise WSHandshakeError(f"Invalid extension name {name!r}")
            parsed: list[tuple[str, str | None]] = []
            for param in params:
                match = _PARAM_RE.fullmatch(param)
                if match is None:
                    raise WSHandshakeError(f"Invalid parameter {param.strip()!r} of {name}")
                pvalue = match.group(2)
                parsed.append(
                    (match.group(1).lower(), None if pvalue is None else _unquote(pvalue))
                )
            result.append((name.lower(), parsed))
    return result


def _split(value: str, sep: str) -> list[str]:
    """Split ``value`` on ``sep`` (``,`` or ``;``) except inside quoted strings."""
    if '"' not in value:
        return value.split(sep)
    parts: list[str] = []
    start = 0
    quoted = escaped = False
    for i, char in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == sep:
            parts.append(value[start:i])
            start = i + 1
    if quoted:
        raise WSHandshakeError(f"Unterminated quoted string in {value!r}")
    parts.append(value[start:])
    return parts


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """What a negotiated permessage-deflate means for our sending side.

    ``compress`` is the window bits our compressor uses (9..15; 0 when not negotiated);
    ``notakeover`` means our compressor must not keep context between messages.
    ``header`` is the ``Sec-WebSocket-Extensions`` value (the server's response, or the
    client's offer).
    """

    compress: int
    notakeover: bool
    header: str = field(default="")


def _window_bits(value: str | None, param: str) -> int:
    if value is None or not _WINDOW_BITS_RE.fullmatch(value):
        raise WSHandshakeError(f"Invalid value {value!r} for {param} (must be 8..15)")
    return int(value)


def _offer_params(params: list[tuple[str, str | None]]) -> dict[str, str | None] | None:
    """The parameters of a client's permessage-deflate offer, or ``None`` if it must be
    declined (unknown or repeated parameter, bad value; RFC 7692 §5.1)."""
    seen: dict[str, str | None] = {}
    for name, value in params:
        if name in seen:
            return None
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                return None
        elif name == "server_max_window_bits":
            if value is None or not _WINDOW_BITS_RE.fullmatch(value):
                return None
        elif name == "client_max_window_bits":
            if value is not None and not _WINDOW_BITS_RE.fullmatch(value):
                return None
        else:
            return None
        seen[name] = value
    return seen


def negotiate_deflate(
    offers: Iterable[str], *, max_window_bits: int = 15, no_context_takeover: bool = False
) -> DeflateParams | None:
    """The server's side: accept the first acceptable permessage-deflate offer, if any.

    ``offers`` are the request's ``Sec-WebSocket-Extensions`` values. ``max_window_bits`` and
    ``no_context_takeover`` are the server's own limits for what it sends. Offers with unknown
    or repeated parameters are declined (RFC 7692 §5.1), as are offers asking the server for
    an 8-bit window, which zlib cannot produce. Malformed header syntax raises
    `WSHandshakeError`. Returns ``None`` when no offer is accepted (no compression).
    """
    for name, params in parse_extensions(offers):
        if name != PERMESSAGE_DEFLATE:
            continue
        offer = _offer_params(params)
        if offer is None:
            continue
        wbits = max_window_bits
        response = [PERMESSAGE_DEFLATE]
        if "server_max_window_bits" in offer:
            requested = int(offer["server_max_window_bits"] or 15)
            if requested < 9:
                continue  # zlib cannot compress with a 256-byte window
            wbits = min(wbits, requested)
        if wbits < 15:
            response.append(f"server_max_window_bits={wbits}")
        notakeover = no_context_takeover or "server_no_context_takeover" in offer
        if notakeover:
            response.append("server_no_context_takeover")
        # client_max_window_bits / client_no_context_takeover constrain the client only: we
        # inflate with the largest window, so we impose nothing and echo nothing.
        return DeflateParams(wbits, notakeover, "; ".join(response))
    return None


def deflate_offer(
    compress: int = 15,
    *,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
) -> str:
    """The client's permessage-deflate offer. ``compress`` (9..15) asks the server to use at
    most that window (``server_max_window_bits``) when below 15."""
    if not 9 <= compress <= 15:
        raise ValueError("compress must be 9..15 window bits (zlib cannot use 8)")
    parts = [PERMESSAGE_DEFLATE, "client_max_window_bits"]
    if compress < 15:
        parts.append(f"server_max_window_bits={compress}")
    if server_no_context_takeover:
        parts.append("server_no_context_takeover")
    if client_no_context_takeover:
        parts.append("client_no_context_takeover")
    return "; ".join(parts)


def accept_deflate_response(
    values: Iterable[str], *, compress: int = 15, client_no_context_takeover: bool = False
) -> DeflateParams:
    """The client's side: check the server's ``Sec-WebSocket-Extensions`` answer to an offer
    made by `deflate_offer` and return how to compress (``compress == 0``: not accepted).

    Raises `WSHandshakeError` when the server names an extension we did not offer, repeats or
    invents a parameter, or asks for a window zlib cannot use (RFC 7692 §5.1: the client must
    fail the connection then).
    """
    accepted: DeflateParams | None = None
    for name, params in parse_extensions(values):
        if name != PERMESSAGE_DEFLATE or accepted is not None:
            raise WSHandshakeError(f"Server answered with an extension we did not offer: {name}")
        seen: set[str] = set()
        wbits = 15
        notakeover = client_no_context_takeover
        for pname, value in params:
            if pname in seen:
                raise WSHandshakeError(f"Server repeated the extension parameter {pname}")
            seen.add(pname)
            if pname == "client_max_window_bits":
                wbits = _window_bits(value, pname)
                if wbits < 9:
                    raise WSHandshakeError("Server asked for an 8-bit window, unsupported")
            elif pname == "server_max_window_bits":
                bits = _window_bits(value, pname)
                if bits > compress:
                    raise WSHandshakeError(
                        f"Server chose server_max_window_bits={bits}, above our {compress}"
                    )
            elif pname == "client_no_context_takeover":
                if value is not None:
                    raise WSHandshakeError("client_no_context_takeover takes no value")
                notakeover = True
            elif pname == "server_no_context_takeover":
                if value is not None:
                    raise WSHandshakeError("server_no_context_takeover takes no value")
            else:
                raise WSHandshakeError(f"Unknown permessage-deflate parameter {pname}")
        accepted = DeflateParams(wbits, notakeover)
    return accepted if accepted is not None else DeflateParams(0, False)


def ws_ext_parse(extstr: str | None, isserver: bool = False) -> tuple[int, bool]:
    """aiohttp's helper: ``(compress, notakeover)`` from a ``Sec-WebSocket-Extensions`` value.

    On a server ``extstr`` is the client's offer (unacceptable offers give ``(0, False)``);
    on a client it is the server's answer (invalid answers raise `WSHandshakeError`).
    """
    if not extstr:
        return 0, False
    if isserver:
        params = negotiate_deflate([extstr])
        return (params.compress, params.notakeover) if params is not None else (0, False)
    accepted = accept_deflate_response([extstr])
    return accepted.compress, accepted.notakeover


def ws_ext_gen(compress: int = 15, isserver: bool = False, server_notakeover: bool = False) -> str:
    """aiohttp's helper: the permessage-deflate header value of a server answer or client offer.

    ``compress`` is the server's window bits (9..15).
    """
    if not 9 <= compress <= 15:
        raise ValueError("compress must be 9..15 window bits (zlib cannot use 8)")
    if not isserver:
        return deflate_offer(compress, server_no_context_takeover=server_notakeover)
    parts = [PERMESSAGE_DEFLATE]
    if compress < 15:
        parts.append(f"server_max_window_bits={compress}")
    if server_notakeover:
        parts.append("server_no_context_takeover")
    return "; ".join(parts)


# --- whole handshakes -------------------------------------------------------------------------


def _has_token(values: Iterable[str], token: str) -> bool:
    return any(part.strip().lower() == token for value in values for part in value.split(","))


@dataclass(frozen=True, slots=True)
class ServerHandshake:
    """An accepted upgrade request: the headers of the 101 answer and what they agreed on."""

    headers: dict[str, str]
    protocol: str | None
    compress: int
    notakeover: bool


def server_handshake(
    method: str,
    headers: _Headers,
    *,
    protocols: Iterable[str] = (),
    compress: bool = True,
    max_window_bits: int = 15,
    no_context_takeover: bool = False,
) -> ServerHandshake:
    """Check a WebSocket upgrade request (§4.2.1) and build the answer's headers (§4.2.2).

    ``protocols`` are the subprotocols the server speaks; ``compress`` enables
    permessage-deflate when the client offers it. Raises `WSHandshakeError` (``status`` 405 for
    a method other than GET, 400 otherwise; a bad version also carries the
    ``Sec-WebSocket-Version`` header to send) when the request is not a valid upgrade.
    """
    if method != "GET":
        raise WSHandshakeError(
            f"Handshake error: method {method} is not allowed, use GET", status=405
        )
    if not _has_token(headers.getall("Upgrade", []), "websocket"):
        raise WSHandshakeError(
            'No WebSocket UPGRADE hdr: {}\n Can "Upgrade" only to "WebSocket".'.format(
                headers.get("Upgrade")
            )
        )
    if not _has_token(headers.getall("Connection", []), "upgrade"):
        raise WSHandshakeError("No CONNECTION upgrade hdr: {}".format(headers.get("Connection")))
    version = headers.get("Sec-WebSocket-Version")
    if version not in ("13", "8", "7"):
        raise WSHandshakeError(
            f"Unsupported version: {version}", headers={"Sec-WebSocket-Version": WS_VERSION}
        )
    key = validate_client_key(headers.get("Sec-WebSocket-Key"))
    protocol = select_protocol(
        parse_protocols(headers.getall("Sec-WebSocket-Protocol", [])), protocols
    )
    answer = {
        "Upgrade": "websocket",
        "Connection": "upgrade",
        "Sec-WebSocket-Accept": ws_accept_key(key),
    }
    if protocol is not None:
        answer["Sec-WebSocket-Protocol"] = protocol
    wbits, notakeover = 0, False
    if compress:
        deflate = negotiate_deflate(
            headers.getall("Sec-WebSocket-Extensions", []),
            max_window_bits=max_window_bits,
            no_context_takeover=no_context_takeover,
        )
        if deflate is not None:
            answer["Sec-WebSocket-Extensions"] = deflate.header
            wbits, notakeover = deflate.compress, deflate.notakeover
    return ServerHandshake(answer, protocol, wbits, notakeover)


@dataclass(frozen=True, slots=True)
class ClientHandshake:
    """What a server's valid 101 answer agreed on, for the client's reader and writer."""

    protocol: str | None
    compress: int
    notakeover: bool


def client_handshake_headers(
    key: str,
    *,
    protocols: Sequence[str] = (),
    compress: int = 0,
    origin: str | None = None,
) -> dict[str, str]:
    """The headers of a client's upgrade request (§4.1). ``compress`` (0 or 9..15) offers
    permessage-deflate; ``origin`` is sent as ``Origin`` when given."""
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": WS_VERSION,
        "Sec-WebSocket-Key": key,
    }
    if protocols:
        headers["Sec-WebSocket-Protocol"] = ",".join(protocols)
    if compress:
        headers["Sec-WebSocket-Extensions"] = deflate_offer(compress)
    if origin is not None:
        headers["Origin"] = origin
    return headers


def verify_server_handshake(
    status: int,
    headers: _Headers,
    *,
    key: str,
    protocols: Sequence[str] = (),
    compress: int = 0,
) -> ClientHandshake:
    """Check the server's answer to our upgrade request (§4.1, items 1-6 of the client's
    checks) and return what it agreed on. Raises `WSHandshakeError` otherwise."""
    if status != 101:
        raise WSHandshakeError(f"Invalid response status {status}", status=status)
    if (headers.get("Upgrade") or "").strip().lower() != "websocket":
        raise WSHandshakeError("Invalid upgrade header", status=status)
    if not _has_token(headers.getall("Connection", []), "upgrade"):
        raise WSHandshakeError("Invalid connection header", status=status)
    if (headers.get("Sec-WebSocket-Accept") or "").strip() != ws_accept_key(key):
        raise WSHandshakeError("Invalid challenge response", status=status)
    protocol: str | None = None
    chosen = parse_protocols(headers.getall("Sec-WebSocket-Protocol", []))
    if chosen:
        if len(chosen) != 1 or chosen[0] not in protocols:
            raise WSHandshakeError(
                f"Server chose a subprotocol we did not offer: {', '.join(chosen)}",
                status=status,
            )
        protocol = chosen[0]
    extensions = headers.getall("Sec-WebSocket-Extensions", [])
    wbits, notakeover = 0, False
    if extensions:
        if not compress:
            raise WSHandshakeError("Server sent extensions we did not offer", status=status)
        try:
            accepted = accept_deflate_response(extensions, compress=compress)
        except WSHandshakeError as exc:
            raise WSHandshakeError(str(exc), status=status) from None
        wbits, notakeover = accepted.compress, accepted.notakeover
    return ClientHandshake(protocol, wbits, notakeover)
