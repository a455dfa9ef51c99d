"""HTTP Digest authentication (RFC 7616) as a client middleware: `DigestAuthMiddleware`.

The exchange: a request without credentials gets ``401`` with ``WWW-Authenticate: Digest
realm=..., nonce=..., qop=..., algorithm=...``; the middleware computes the response hash from
the login, password, nonce and request, and sends the request again with ``Authorization:
Digest ...``. With ``preemptive=True`` (the default) the last challenge is reused for later
requests to the same protection space (RFC 7616 section 3.6), saving the round trip; a ``401``
with ``stale=true`` (an expired nonce) is answered with the new nonce.

Supported: algorithms MD5, SHA-256, SHA-512-256, SHA-512 and SHA (SHA-1, for old servers), each
with its ``-sess`` variant; qop ``auth`` and ``auth-int`` (the body is hashed; ``auth`` is
chosen when the server offers both, since ``auth-int`` needs the whole body in memory) or no
qop (RFC 2069).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from yarl import URL

from .. import hdrs
from ._exceptions import ClientError
from ._middlewares import ClientHandlerType

if TYPE_CHECKING:
    from ._request import ClientRequest
    from ._response import ClientResponse

__all__ = ("DigestAuthMiddleware",)

_HashFn = Callable[[bytes], str]


def _hasher(name: str) -> _HashFn:
    def digest(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    return digest


def _available(name: str) -> bool:
    try:
        hashlib.new(name)
    except ValueError:
        return False
    return True


# RFC 7616 section 6.1 (and the legacy SHA-1 some servers still offer).
_ALGORITHMS: Final[dict[str, _HashFn]] = {
    name: _hasher(impl)
    for name, impl in (
        ("MD5", "md5"),
        ("SHA", "sha1"),
        ("SHA-256", "sha256"),
        ("SHA-512", "sha512"),
        ("SHA-512-256", "sha512_256"),
    )
    if _available(impl)
}

# auth-param = token BWS "=" BWS ( token / quoted-string )   (RFC 9110 section 11.2)
_PARAM_RE: Final = re.compile(
    r"""\s*,?\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)"""
)
_QUOTED_PAIR_RE: Final = re.compile(r"\\(.)")


def parse_challenge(header: str) -> dict[str, str] | None:
    """The parameters of the ``Digest`` challenge in a ``WWW-Authenticate`` value (names
    lower-cased, quoted strings unquoted), or ``None`` if it holds no Digest challenge."""
    match = re.search(r"(?:^|,)\s*Digest(?:\s+|$)", header, re.IGNORECASE)
    if match is None:
        return None
    params: dict[str, str] = {}
    pos = match.end()
    while pos < len(header):
        param = _PARAM_RE.match(header, pos)
        if param is None:
            break  # the next challenge (another scheme) starts here
        name, value = param.group(1).lower(), param.group(2)
        if value.startswith('"'):
            value = _QUOTED_PAIR_RE.sub(r"\1", value[1:-1])
        params.setdefault(name, value)
        pos = param.end()
    return params


def _new_cnonce() -> str:
    """A fresh client nonce: 128 random bits, hex-encoded."""
    return os.urandom(16).hex()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuthMiddleware:
    """Answers ``401 WWW-Authenticate: Digest`` challenges with ``login`` / ``password``.

    Use it as ``ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),))``. One
    instance keeps one challenge at a time (the last one received), with its nonce count.
    """

    __slots__ = (
        "_challenge",
        "_last_nonce",
        "_login",
        "_nonce_count",
        "_password",
        "_preemptive",
        "_protection_space",
    )

    def __init__(self, login: str, password: str, *, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in username')
        self._login = login
        self._password = password
        self._preemptive = preemptive
        self._challenge: dict[str, str] = {}
        self._last_nonce = ""
        self._nonce_count = 0
        self._protection_space: list[str] = []

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        response: ClientResponse | None = None
        # At most two rounds: the request (with credentials if we have a challenge for its
        # protection space), then once more after a fresh challenge.
        for attempt in range(2):
            if attempt > 0 or (
                self._preemptive and self._challenge and self._in_protection_space(request.url)
            ):
                request.headers[hdrs.AUTHORIZATION] = await self._authorization(request)
            response = await handler(request)
            if attempt > 0 or not self._take_challenge(response):
                break
            response.release()
        assert response is not None
        return response

    def _in_protection_space(self, url: URL) -> bool:
        target = str(url)
        for prefix in self._protection_space:
            if target.startswith(prefix) and (
                len(target) == len(prefix) or prefix.endswith("/") or target[len(prefix)] in "/?"
            ):
                return True
        return False

    def _take_challenge(self, response: ClientResponse) -> bool:
        """Store the Digest challenge of a ``401``; whether the request should be retried."""
        if response.status != 401:
            return False
        for header in response.headers.getall(hdrs.WWW_AUTHENTICATE, ()):
            challenge = parse_challenge(header)
            if challenge is None or not challenge.get("nonce"):
                continue
            self._challenge = challenge
            origin = response.url.origin()
            domain = challenge.get("domain")
            if domain:
                # RFC 7616 section 3.3: space-separated URIs, relative ones on this origin.
                self._protection_space = [
                    str(origin.join(URL(uri))) for uri in domain.split() if uri
                ]
            else:
                self._protection_space = [str(origin)]
            return True
        return False

    async def _authorization(self, request: ClientRequest) -> str:
        """The ``Authorization: Digest`` value for ``request`` under the stored challenge."""
        challenge = self._challenge
        realm = challenge.get("realm", "")
        nonce = challenge["nonce"]
        algorithm = challenge.get("algorithm", "MD5").upper()
        sess = algorithm.endswith("-SESS")
        base_algorithm = algorithm[:-5] if sess else algorithm
        hash_fn = _ALGORITHMS.get(base_algorithm)
        if hash_fn is None:
            raise ClientError(f"Unsupported hash algorithm: {algorithm}")

        qop_options = {q.strip().lower() for q in challenge.get("qop", "").split(",") if q.strip()}
        qop = ""
        if qop_options:
            if "auth" in qop_options:
                qop = "auth"
            elif "auth-int" in qop_options:
                qop = "auth-int"
            else:
                raise ClientError(f"Unsupported quality of protection: {challenge['qop']}")

        uri = request.url.raw_path_qs
        if nonce == self._last_nonce:
            self._nonce_count += 1
        else:
            self._last_nonce = nonce
            self._nonce_count = 1
        nc = f"{self._nonce_count:08x}"
        cnonce = _new_cnonce()

        ha1 = hash_fn(f"{self._login}:{realm}:{self._password}".encode())
        if sess:
            ha1 = hash_fn(f"{ha1}:{nonce}:{cnonce}".encode())
        a2 = f"{request.method}:{uri}"
        if qop == "auth-int":
            body = request.body
            body_bytes = body if isinstance(body, bytes) else await body.as_bytes()
            a2 = f"{a2}:{hash_fn(body_bytes)}"
        ha2 = hash_fn(a2.encode())
        if qop:
            response_hash = hash_fn(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())
        else:
            response_hash = hash_fn(f"{ha1}:{nonce}:{ha2}".encode())

        fields = [
            f"username={_quote(self._login)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"response={_quote(response_hash)}",
            f"algorithm={challenge.get('algorithm', 'MD5')}",
        ]
        if qop:
            fields += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        opaque = challenge.get("opaque")
        if opaque is not None:
            fields.append(f"opaque={_quote(opaque)}")
        return "Digest " + ", ".join(fields)
