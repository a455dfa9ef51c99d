"""Our client against uvicorn over TLS, with a certificate from a trustme CA.

The CA is trusted only where a test says so: by default the client must refuse the server, with
an explicit context it must verify it (chain and host name), and ``Fingerprint`` pins it.
"""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

import aiohyper as aiohttp

# Fixtures (conftest.py): peers, tls_files.

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(scope="module")
def https_url(
    peers: Any, tls_files: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``https://127.0.0.1:<port>`` of uvicorn serving the echo app over TLS."""
    pytest.importorskip("uvicorn")
    workdir = tmp_path_factory.mktemp("uvicorn-tls")
    with peers.uvicorn("uvicorn-tls", workdir=workdir, tls=tls_files) as peer:
        yield f"https://127.0.0.1:{peer.port}"


async def _get_echo(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> dict[str, Any]:
    async with session.get(f"{url}/echo", **kwargs) as resp:
        assert resp.status == 200
        assert resp.url.scheme == "https"
        data: dict[str, Any] = json.loads(await resp.read())
        return data


async def test_verified_with_context_trusting_the_ca(https_url: str, tls_files: Any) -> None:
    async with aiohttp.ClientSession() as session:
        echo = await _get_echo(session, https_url, ssl=tls_files.client_context())
    assert echo["scheme"] == "https"


async def test_connector_level_context(https_url: str, tls_files: Any) -> None:
    connector = aiohttp.TCPConnector(ssl=tls_files.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        echo = await _get_echo(session, https_url)
    assert echo["scheme"] == "https"


async def test_untrusted_certificate_refused_by_default(https_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as info:
            await session.get(f"{https_url}/echo")
    error = info.value
    assert isinstance(error, aiohttp.ClientSSLError)
    assert isinstance(error.certificate_error, ssl.SSLCertVerificationError)
    assert error.host == "127.0.0.1"
    assert error.port == int(https_url.rsplit(":", 1)[1])


async def test_verification_disabled(https_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        echo = await _get_echo(session, https_url, ssl=False)
    assert echo["scheme"] == "https"
    connector = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        echo = await _get_echo(session, https_url)
    assert echo["scheme"] == "https"


async def test_fingerprint_match(https_url: str, tls_files: Any) -> None:
    fingerprint = aiohttp.Fingerprint(tls_files.cert_der_sha256)
    async with aiohttp.ClientSession() as session:
        echo = await _get_echo(session, https_url, ssl=fingerprint)
    assert echo["scheme"] == "https"


async def test_fingerprint_mismatch(https_url: str, tls_files: Any) -> None:
    wrong = hashlib.sha256(b"another certificate").digest()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerFingerprintMismatch) as info:
            await session.get(f"{https_url}/echo", ssl=aiohttp.Fingerprint(wrong))
    assert info.value.expected == wrong
    assert info.value.got == tls_files.cert_der_sha256
    assert info.value.host == "127.0.0.1"


def test_fingerprint_refuses_weak_digests() -> None:
    for weak in (hashlib.md5(b"x").digest(), hashlib.sha1(b"x").digest()):
        with pytest.raises(ValueError):
            aiohttp.Fingerprint(weak)


async def test_server_hostname_checked_against_certificate(https_url: str, tls_files: Any) -> None:
    ctx = tls_files.client_context()
    # Two sessions: the pool key is (host, port, ssl...), not the name a connection was
    # verified for, so one session would reuse the first connection for the second request.
    async with aiohttp.ClientSession() as session:
        # The certificate names localhost: verifying against that name passes...
        echo = await _get_echo(session, https_url, ssl=ctx, server_hostname="localhost")
        assert echo["scheme"] == "https"
    async with aiohttp.ClientSession() as session:
        # ...and against a name it does not carry fails, though the chain is trusted.
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(f"{https_url}/echo", ssl=ctx, server_hostname="other.example")


async def test_tls_connection_reused(https_url: str, tls_files: Any) -> None:
    connector = aiohttp.TCPConnector(ssl=tls_files.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        ports = {tuple((await _get_echo(session, https_url))["client"]) for _ in range(10)}
    assert len(ports) == 1


async def test_large_bodies_over_tls(https_url: str, tls_files: Any) -> None:
    body = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as session,
        session.post(f"{https_url}/echo", data=body) as resp,
    ):
        echo = json.loads(await resp.read())
    assert echo["body_length"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as session,
        session.get(f"{https_url}/chunked?chunks=32&size=65536") as resp,
    ):
        assert len(await resp.read()) == 32 * 65536
