"""TLS in the TCP connector: verification, ssl=False, custom contexts, fingerprints, SNI."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import sys
from typing import Any

import pytest

from aiohyper.client._connector import TCPConnector
from aiohyper.client._exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientSSLError,
    ServerFingerprintMismatch,
)
from aiohyper.client._tls import (
    Fingerprint,
    default_ssl_context,
    merge_ssl_params,
    ssl_context_for,
)


@pytest.fixture
def digest(server_cert: Any) -> bytes:
    der = ssl.PEM_cert_to_DER_cert(server_cert.cert_chain_pems[0].bytes().decode())
    return hashlib.sha256(der).digest()


async def test_verified_with_connector_context(
    tls_server: Any, client_context: ssl.SSLContext, make_request: Any, fetch_on: Any
) -> None:
    async with TCPConnector(ssl=client_context) as connector:
        conn = await connector.connect(make_request(tls_server.url(scheme="https")))
        assert conn.transport is not None
        assert conn.transport.get_extra_info("sslcontext") is client_context
        message, body = await fetch_on(conn)
        assert (message.code, body) == (200, b"ok")
        conn.release()
        # TLS connections are pooled like any other.
        conn = await connector.connect(make_request(tls_server.url(scheme="https")))
        await fetch_on(conn)
        conn.release()
    assert len(tls_server.peers) == 1


async def test_verified_with_request_context(
    tls_server: Any, client_context: ssl.SSLContext, make_request: Any, fetch_on: Any
) -> None:
    async with TCPConnector() as connector:
        req = make_request(tls_server.url(scheme="https"), ssl=client_context)
        conn = await connector.connect(req)
        message, _ = await fetch_on(conn)
        assert message.code == 200
        conn.release()


async def test_unknown_ca_refused_by_default(tls_server: Any, make_request: Any) -> None:
    async with TCPConnector() as connector:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await connector.connect(make_request(tls_server.url(scheme="https")))
        assert connector._slots == 0
    err = info.value
    assert isinstance(err, ClientSSLError)
    assert isinstance(err, ssl.CertificateError)
    assert isinstance(err.certificate_error, ssl.SSLCertVerificationError)
    assert err.host == "127.0.0.1"
    assert err.port == tls_server.port


async def test_ssl_false_skips_verification(
    tls_server: Any, make_request: Any, fetch_on: Any
) -> None:
    async with TCPConnector() as connector:
        conn = await connector.connect(make_request(tls_server.url(scheme="https"), ssl=False))
        message, _ = await fetch_on(conn)
        assert message.code == 200
        conn.release()
    async with TCPConnector(ssl=False) as connector:
        conn = await connector.connect(make_request(tls_server.url(scheme="https")))
        conn.release()


async def test_fingerprint_match(
    tls_server: Any, digest: bytes, make_request: Any, fetch_on: Any
) -> None:
    async with TCPConnector() as connector:
        req = make_request(tls_server.url(scheme="https"), ssl=Fingerprint(digest))
        conn = await connector.connect(req)
        message, _ = await fetch_on(conn)
        assert message.code == 200
        conn.release()
    # Set on the connector, it applies to every request.
    async with TCPConnector(ssl=Fingerprint(digest)) as connector:
        (await connector.connect(make_request(tls_server.url(scheme="https")))).release()


async def test_fingerprint_mismatch(tls_server: Any, make_request: Any) -> None:
    wrong = hashlib.sha256(b"another certificate").digest()
    async with TCPConnector() as connector:
        req = make_request(tls_server.url(scheme="https"), ssl=Fingerprint(wrong))
        with pytest.raises(ServerFingerprintMismatch) as info:
            await connector.connect(req)
        assert connector._slots == 0
    assert info.value.expected == wrong
    assert info.value.got != wrong
    assert info.value.port == tls_server.port


async def test_server_hostname_override(
    start_server: Any, ca: Any, client_context: ssl.SSLContext, make_request: Any
) -> None:
    only_name = ca.issue_cert("service.internal")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    only_name.configure_cert(context)
    srv = await start_server(ssl_context=context)
    async with TCPConnector(ssl=client_context) as connector:
        url = srv.url(scheme="https")
        with pytest.raises(ClientConnectorCertificateError):
            await connector.connect(make_request(url))
        req = make_request(url, server_hostname="service.internal")
        conn = await connector.connect(req)
        conn.release()


async def test_tls_to_plain_server_is_ssl_error(make_request: Any) -> None:
    async def answer_in_plain_text(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    plain = await asyncio.start_server(answer_in_plain_text, "127.0.0.1", 0)
    port = plain.sockets[0].getsockname()[1]
    try:
        async with TCPConnector() as connector:
            with pytest.raises(ClientConnectorSSLError) as info:
                await connector.connect(make_request(f"https://127.0.0.1:{port}/"))
    finally:
        plain.close()
        await plain.wait_closed()
    assert isinstance(info.value, ssl.SSLError)


def test_fingerprint_rejects_weak_digests() -> None:
    with pytest.raises(ValueError, match="insecure"):
        Fingerprint(hashlib.md5(b"x").digest())
    with pytest.raises(ValueError, match="insecure"):
        Fingerprint(hashlib.sha1(b"x").digest())
    with pytest.raises(ValueError, match="invalid length"):
        Fingerprint(b"short")
    fp = Fingerprint(hashlib.sha256(b"x").digest())
    assert fp.fingerprint == hashlib.sha256(b"x").digest()
    assert fp == Fingerprint(hashlib.sha256(b"x").digest())
    assert len({fp, Fingerprint(hashlib.sha256(b"x").digest())}) == 1


def test_ssl_context_selection(client_context: ssl.SSLContext) -> None:
    fp = Fingerprint(hashlib.sha256(b"x").digest())
    verified, unverified = default_ssl_context(True), default_ssl_context(False)
    assert verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname
    assert unverified.verify_mode == ssl.CERT_NONE and not unverified.check_hostname
    assert default_ssl_context(True) is verified  # shared
    assert ssl_context_for(True, True, False) is None
    assert ssl_context_for(True, True, True) is verified
    assert ssl_context_for(False, True, True) is unverified
    assert ssl_context_for(fp, True, True) is unverified
    assert ssl_context_for(client_context, False, True) is client_context
    assert ssl_context_for(True, client_context, True) is client_context
    assert ssl_context_for(True, False, True) is unverified
    assert ssl_context_for(True, fp, True) is unverified


def test_merge_ssl_params(client_context: ssl.SSLContext) -> None:
    assert merge_ssl_params(True, None, None, None) is True
    assert merge_ssl_params(None, None, None, None) is True
    assert merge_ssl_params(True, True, None, None) is True
    with pytest.warns(DeprecationWarning):
        assert merge_ssl_params(True, False, None, None) is False
    with pytest.warns(DeprecationWarning):
        assert merge_ssl_params(True, None, client_context, None) is client_context
    digest = hashlib.sha256(b"x").digest()
    with pytest.warns(DeprecationWarning):
        assert merge_ssl_params(True, None, None, digest) == Fingerprint(digest)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError):
        merge_ssl_params(False, None, client_context, None)
    with pytest.raises(TypeError):
        merge_ssl_params("yes", None, None, None)  # type: ignore[arg-type]


async def test_connector_deprecated_ssl_arguments(digest: bytes) -> None:
    with pytest.warns(DeprecationWarning):
        connector = TCPConnector(verify_ssl=False)
    assert connector._ssl is False
    await connector.close()
    with pytest.warns(DeprecationWarning):
        connector = TCPConnector(fingerprint=digest)
    assert connector._ssl == Fingerprint(digest)
    await connector.close()
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError):
        TCPConnector(ssl=False, fingerprint=digest)


@pytest.mark.skipif(sys.version_info >= (3, 12, 7), reason="asyncio no longer leaks there")
async def test_cleanup_closed_aborts_tls_transports(
    tls_server: Any, client_context: ssl.SSLContext, make_request: Any, fetch_on: Any
) -> None:
    async with TCPConnector(
        ssl=client_context, enable_cleanup_closed=True, force_close=True
    ) as connector:
        assert connector._cleanup_closed_handle is not None
        conn = await connector.connect(make_request(tls_server.url(scheme="https")))
        await fetch_on(conn)
        transport = conn.transport
        conn.release()
        assert connector._cleanup_closed_transports == [transport]
        connector._cleanup_closed()
        assert connector._cleanup_closed_transports == []
        assert connector._cleanup_closed_handle is not None  # periodic


async def test_no_cleanup_closed_by_default() -> None:
    async with TCPConnector() as connector:
        assert connector._cleanup_closed_handle is None
