"""TLS for client connections: default SSL contexts, the ``ssl=`` argument, certificate pins.

A request's ``ssl`` is ``True`` (verify with the connector's setting, by default
``ssl.create_default_context()``), ``False`` (encrypt, do not verify), an ``ssl.SSLContext``
(used as is) or a `Fingerprint` (do not verify the chain, but require the server certificate to
have this SHA-256 digest). `ssl_context_for` turns a request's and a connector's settings into the
context to connect with; `merge_ssl_params` folds the deprecated ``verify_ssl`` /
``ssl_context`` / ``fingerprint`` arguments into one ``ssl`` value.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import warnings
from functools import cache
from typing import Final

from ._exceptions import ServerFingerprintMismatch

__all__ = (
    "CERT_ERRORS",
    "SSL_ERRORS",
    "Fingerprint",
    "SSLParam",
    "default_ssl_context",
    "fingerprint_for",
    "merge_ssl_params",
    "ssl_context_for",
)

#: Errors that mean "the peer's certificate was not accepted" (checked before `SSL_ERRORS`:
#: ``ssl.SSLCertVerificationError`` is both).
CERT_ERRORS: Final = (ssl.CertificateError,)
#: Any other failure of the TLS layer.
SSL_ERRORS: Final = (ssl.SSLError,)

# Digest length -> name of the broken hash functions aiohttp once accepted.
_INSECURE_DIGESTS: Final = {16: "md5", 20: "sha1"}
_SHA256_SIZE: Final = 32
_ALPN: Final = ("http/1.1",)


class Fingerprint:
    """Pins the server certificate: its SHA-256 digest (DER form) must equal ``digest``.

    Given as ``ssl=Fingerprint(digest)``, it replaces chain and host name verification. MD5 and
    SHA-1 digests are refused with ``ValueError``; so is any other length than 32 bytes.
    """

    __slots__ = ("_fingerprint",)

    def __init__(self, digest: bytes) -> None:
        size = len(digest)
        if size in _INSECURE_DIGESTS:
            raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
        if size != _SHA256_SIZE:
            raise ValueError(f"fingerprint has invalid length: {size} bytes, expected 32 (sha256)")
        self._fingerprint = bytes(digest)

    @property
    def fingerprint(self) -> bytes:
        """The expected SHA-256 digest."""
        return self._fingerprint

    def check(self, transport: asyncio.BaseTransport) -> None:
        """Raise `ServerFingerprintMismatch` unless the TLS peer of ``transport`` is pinned.

        A transport without TLS is not checked.
        """
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        cert = ssl_object.getpeercert(binary_form=True)
        got = hashlib.sha256(cert or b"").digest()
        if got != self._fingerprint:
            peer = transport.get_extra_info("peername") or ("", 0)
            raise ServerFingerprintMismatch(self._fingerprint, got, peer[0], peer[1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self._fingerprint == other._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return f"<Fingerprint sha256={self._fingerprint.hex()}>"


#: What may be given as ``ssl=``.
SSLParam = ssl.SSLContext | bool | Fingerprint


@cache
def default_ssl_context(verified: bool = True) -> ssl.SSLContext:
    """The shared context for ``ssl=True`` (``verified``) or ``ssl=False``.

    Built on first use (loading the system CA store costs milliseconds) and shared by every
    connector, as each context caches sessions and certificates.
    """
    if verified:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.options |= ssl.OP_NO_COMPRESSION
        context.set_default_verify_paths()
    context.set_alpn_protocols(_ALPN)
    return context


def ssl_context_for(
    request_ssl: SSLParam, connector_ssl: SSLParam, is_ssl: bool
) -> ssl.SSLContext | None:
    """The context to connect with: ``None`` for plain TCP, else the request's own setting
    unless it is the default ``True``, in which case the connector's setting decides."""
    if not is_ssl:
        return None
    if isinstance(request_ssl, ssl.SSLContext):
        return request_ssl
    if request_ssl is not True:  # False or a Fingerprint: no chain verification
        return default_ssl_context(False)
    if isinstance(connector_ssl, ssl.SSLContext):
        return connector_ssl
    return default_ssl_context(connector_ssl is True)


def fingerprint_for(request_ssl: SSLParam, connector_ssl: SSLParam) -> Fingerprint | None:
    """The pin to check after the handshake, if the request or the connector set one."""
    if isinstance(request_ssl, Fingerprint):
        return request_ssl
    if isinstance(connector_ssl, Fingerprint):
        return connector_ssl
    return None


def merge_ssl_params(
    ssl_param: SSLParam | None,
    verify_ssl: bool | None,
    ssl_context: ssl.SSLContext | None,
    fingerprint: bytes | None,
) -> SSLParam:
    """Fold the deprecated ``verify_ssl``, ``ssl_context`` and ``fingerprint`` arguments into
    one ``ssl`` value (with a ``DeprecationWarning`` each). They may not be combined with each
    other or with a non-default ``ssl`` (``ValueError``); an ``ssl`` of another type is a
    ``TypeError``."""
    if ssl_param is None:
        ssl_param = True
    exclusive = "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"
    if verify_ssl is not None and not verify_ssl:
        warnings.warn(
            "verify_ssl is deprecated, use ssl=False instead", DeprecationWarning, stacklevel=3
        )
        if ssl_param is not True:
            raise ValueError(exclusive)
        ssl_param = False
    if ssl_context is not None:
        warnings.warn(
            "ssl_context is deprecated, use ssl=context instead", DeprecationWarning, stacklevel=3
        )
        if ssl_param is not True:
            raise ValueError(exclusive)
        ssl_param = ssl_context
    if fingerprint is not None:
        warnings.warn(
            "fingerprint is deprecated, use ssl=Fingerprint(fingerprint) instead",
            DeprecationWarning,
            stacklevel=3,
        )
        if ssl_param is not True:
            raise ValueError(exclusive)
        ssl_param = Fingerprint(fingerprint)
    if not isinstance(ssl_param, ssl.SSLContext | bool | Fingerprint):
        raise TypeError(
            f"ssl should be SSLContext, Fingerprint, or bool, got {ssl_param!r} instead."
        )
    return ssl_param
