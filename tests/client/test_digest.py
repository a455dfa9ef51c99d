"""`DigestAuthMiddleware` (RFC 7616): challenge parsing, hashes, and the full exchange against a
server that checks the answers with its own implementation."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from aiohyper import web
from aiohyper.client import _digest
from aiohyper.client._digest import DigestAuthMiddleware, parse_challenge
from aiohyper.client._exceptions import ClientError
from aiohyper.client._request import ClientRequest
from aiohyper.client._session import ClientSession
from aiohyper.test_utils import TestServer

# --- a digest-checking server ---------------------------------------------------------------

_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512": "sha512", "SHA-512-256": "sha512_256"}


def server_hash(algorithm: str, text: str) -> str:
    return hashlib.new(_HASHES[algorithm.upper().removesuffix("-SESS")], text.encode()).hexdigest()


def parse_authorization(value: str) -> dict[str, str]:
    assert value.startswith("Digest ")
    fields = {}
    for match in re.finditer(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', value[7:]):
        fields[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
    return fields


class DigestServer:
    """Protects every path with Digest auth for user ``user`` / ``pass``."""

    def __init__(
        self,
        *,
        algorithm: str = "MD5",
        qop: str | None = "auth",
        opaque: str | None = "opaque-value",
        domain: str | None = None,
        realm: str = "test realm",
        password: str = "pass",
    ) -> None:
        self.algorithm = algorithm
        self.qop = qop
        self.opaque = opaque
        self.domain = domain
        self.realm = realm
        self.password = password
        self.nonce = "nonce-1"
        self.expire_after: int | None = None  # successes before the nonce goes stale
        self.successes = 0
        self.log: list[tuple[str, int]] = []  # (path, status)
        self.ncs: list[str] = []
        self.fields: list[dict[str, str]] = []

    def challenge(self, stale: bool = False) -> str:
        parts = [f'realm="{self.realm}"', f'nonce="{self.nonce}"', f"algorithm={self.algorithm}"]
        if self.qop is not None:
            parts.append(f'qop="{self.qop}"')
        if self.opaque is not None:
            parts.append(f'opaque="{self.opaque}"')
        if self.domain is not None:
            parts.append(f'domain="{self.domain}"')
        if stale:
            parts.append("stale=true")
        return "Digest " + ", ".join(parts)

    def expected(self, fields: dict[str, str], method: str, body: bytes) -> str:
        alg = self.algorithm
        ha1 = server_hash(alg, f"user:{self.realm}:{self.password}")
        if alg.upper().endswith("-SESS"):
            ha1 = server_hash(alg, f"{ha1}:{fields['nonce']}:{fields['cnonce']}")
        a2 = f"{method}:{fields['uri']}"
        if fields.get("qop") == "auth-int":
            a2 += ":" + hashlib.new(_HASHES[alg.upper().removesuffix("-SESS")], body).hexdigest()
        ha2 = server_hash(alg, a2)
        if "qop" in fields:
            return server_hash(
                alg,
                f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}",
            )
        return server_hash(alg, f"{ha1}:{fields['nonce']}:{ha2}")

    async def handler(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get("Authorization")
        status, stale = 401, False
        if header is not None:
            fields = parse_authorization(header)
            self.fields.append(fields)
            valid = (
                fields.get("username") == "user"
                and fields.get("realm") == self.realm
                and fields.get("uri") == request.raw_path
                and fields.get("algorithm") == self.algorithm
                and fields.get("opaque") == self.opaque
                and fields.get("response") == self.expected(fields, request.method, body)
            )
            if valid and fields.get("nonce") != self.nonce:
                stale = True
            elif valid:
                status = 200
                self.ncs.append(fields.get("nc", ""))
        self.log.append((request.path, status))
        if status == 401:
            return web.Response(
                status=401,
                text="no",
                headers={"WWW-Authenticate": self.challenge(stale)},
            )
        self.successes += 1
        if self.expire_after is not None and self.successes >= self.expire_after:
            self.nonce = f"nonce-{self.successes + 1}"
            self.expire_after = None
        return web.Response(text=f"welcome {body.decode()}")


Start = Callable[..., Awaitable[tuple[DigestServer, TestServer]]]


@pytest.fixture
async def digest_server() -> AsyncIterator[Start]:
    servers: list[TestServer] = []

    async def start(**kwargs: Any) -> tuple[DigestServer, TestServer]:
        digest = DigestServer(**kwargs)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", digest.handler)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return digest, server

    yield start
    for server in servers:
        await server.close()


# --- unit -----------------------------------------------------------------------------------


class TestParseChallenge:
    def test_basic(self) -> None:
        assert parse_challenge(
            'Digest realm="r, with comma", nonce="abc", qop="auth,auth-int", algorithm=SHA-256'
        ) == {
            "realm": "r, with comma",
            "nonce": "abc",
            "qop": "auth,auth-int",
            "algorithm": "SHA-256",
        }

    def test_escapes_and_case(self) -> None:
        assert parse_challenge('digest Realm="a\\"b", NONCE=x') == {"realm": 'a"b', "nonce": "x"}

    def test_among_other_schemes(self) -> None:
        header = 'Basic realm="b", Digest realm="d", nonce="n", Bearer error="x"'
        challenge = parse_challenge(header)
        assert challenge is not None
        assert challenge["realm"] == "d"
        assert challenge["nonce"] == "n"

    def test_not_digest(self) -> None:
        assert parse_challenge('Basic realm="x"') is None
        assert parse_challenge("Digestive biscuit") is None


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        DigestAuthMiddleware(None, "p")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DigestAuthMiddleware("u", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DigestAuthMiddleware("u:x", "p")


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
async def test_rfc7616_example(
    monkeypatch: pytest.MonkeyPatch, algorithm: str, expected: str
) -> None:
    """RFC 7616 section 3.9.1: Mufasa / Circle of Life."""
    monkeypatch.setattr(
        _digest, "_new_cnonce", lambda: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    )
    middleware = DigestAuthMiddleware("Mufasa", "Circle of Life")
    middleware._challenge = {
        "realm": "http-auth@example.org",
        "qop": "auth, auth-int",
        "algorithm": algorithm,
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    }
    request = ClientRequest("GET", URL("http://www.example.org/dir/index.html"))
    value = await middleware._authorization(request)
    fields = parse_authorization(value)
    assert fields["response"] == expected
    assert fields["nc"] == "00000001"
    assert fields["qop"] == "auth"
    assert fields["uri"] == "/dir/index.html"
    assert fields["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert fields["algorithm"] == algorithm
    # Same nonce again: the count goes up.
    assert parse_authorization(await middleware._authorization(request))["nc"] == "00000002"


async def test_unsupported_algorithm_and_qop() -> None:
    middleware = DigestAuthMiddleware("u", "p")
    request = ClientRequest("GET", URL("http://example.org/"))
    middleware._challenge = {"nonce": "n", "algorithm": "SHA3-999"}
    with pytest.raises(ClientError, match="algorithm"):
        await middleware._authorization(request)
    middleware._challenge = {"nonce": "n", "qop": "auth-conf"}
    with pytest.raises(ClientError, match="quality of protection"):
        await middleware._authorization(request)


# --- the exchange -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "algorithm",
    ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512", "SHA-512-sess", "SHA-512-256"],
)
async def test_algorithms(digest_server: Start, algorithm: str) -> None:
    digest, server = await digest_server(algorithm=algorithm)
    async with (
        ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session,
        session.get(server.make_url("/a?x=1")) as resp,
    ):
        assert resp.status == 200
        assert await resp.text() == "welcome "
    assert digest.log == [("/a", 401), ("/a", 200)]


@pytest.mark.parametrize("qop", ["auth", "auth-int", None, "auth-int,auth"])
async def test_qop(digest_server: Start, qop: str | None) -> None:
    digest, server = await digest_server(qop=qop, opaque=None)
    async with (
        ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session,
        session.post(server.make_url("/upload"), data=b"the body") as resp,
    ):
        assert resp.status == 200
        assert await resp.text() == "welcome the body"
    fields = digest.fields[-1]
    assert fields.get("qop") == ("auth" if qop == "auth-int,auth" else qop)
    assert "opaque" not in fields


async def test_preemptive_reuses_challenge(digest_server: Start) -> None:
    digest, server = await digest_server()
    async with ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session:
        for path in ("/one", "/two", "/three"):
            async with session.get(server.make_url(path)) as resp:
                assert resp.status == 200
    assert digest.log == [("/one", 401), ("/one", 200), ("/two", 200), ("/three", 200)]
    assert digest.ncs == ["00000001", "00000002", "00000003"]


async def test_not_preemptive(digest_server: Start) -> None:
    digest, server = await digest_server()
    middleware = DigestAuthMiddleware("user", "pass", preemptive=False)
    async with ClientSession(middlewares=(middleware,)) as session:
        for path in ("/one", "/two"):
            async with session.get(server.make_url(path)) as resp:
                assert resp.status == 200
    assert digest.log == [("/one", 401), ("/one", 200), ("/two", 401), ("/two", 200)]


async def test_stale_nonce_is_renewed(digest_server: Start) -> None:
    digest, server = await digest_server()
    digest.expire_after = 1
    async with ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session:
        for path in ("/one", "/two"):
            async with session.get(server.make_url(path)) as resp:
                assert resp.status == 200
    assert digest.log == [("/one", 401), ("/one", 200), ("/two", 401), ("/two", 200)]
    assert digest.ncs == ["00000001", "00000001"]  # a new nonce restarts the count


async def test_wrong_password_gives_401(digest_server: Start) -> None:
    digest, server = await digest_server(password="other")
    async with ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session:
        async with session.get(server.make_url("/x")) as resp:
            assert resp.status == 401
            assert await resp.text() == "no"
        # The next request tries once preemptively, then once after the new challenge.
        async with session.get(server.make_url("/y")) as resp:
            assert resp.status == 401
    assert digest.log == [("/x", 401), ("/x", 401), ("/y", 401), ("/y", 401)]


async def test_protection_space_from_domain(digest_server: Start) -> None:
    digest, server = await digest_server(domain="/private/")
    async with ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session:
        for path in ("/private/a", "/private/b", "/public"):
            async with session.get(server.make_url(path)) as resp:
                assert resp.status == 200
    # Credentials go preemptively only inside the protection space.
    assert digest.log == [
        ("/private/a", 401),
        ("/private/a", 200),
        ("/private/b", 200),
        ("/public", 401),
        ("/public", 200),
    ]


async def test_non_digest_401_is_returned(digest_server: Start) -> None:
    async def basic_only(request: web.Request) -> web.Response:
        return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="x"'})

    app = web.Application()
    app.router.add_get("/", basic_only)
    server = TestServer(app)
    await server.start_server()
    try:
        async with (
            ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),)) as session,
            session.get(server.make_url("/")) as resp,
        ):
            assert resp.status == 401
            assert "Authorization" not in resp.request_info.headers
    finally:
        await server.close()
