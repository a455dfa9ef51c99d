"""The client exception hierarchy, attributes and messages."""

from __future__ import annotations

import asyncio
import errno
import pickle
import ssl
import warnings

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aiohyper.client import _exceptions as exc_mod
from aiohyper.client._exceptions import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientError,
    ClientHttpProxyError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientResponseError,
    ClientSSLError,
    ConnectionTimeoutError,
    ContentTypeError,
    InvalidURL,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
    ServerConnectionError,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    ServerTimeoutError,
    SocketTimeoutError,
    TooManyRedirects,
    UnixClientConnectorError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from aiohyper.client._request import ConnectionKey, RequestInfo

# (exception, its documented direct bases)
HIERARCHY = [
    (ClientError, (Exception,)),
    (ClientConnectionError, (ClientError,)),
    (ClientConnectionResetError, (ClientConnectionError, ConnectionResetError)),
    (ClientOSError, (ClientConnectionError, OSError)),
    (ClientConnectorError, (ClientOSError,)),
    (ClientProxyConnectionError, (ClientConnectorError,)),
    (ClientConnectorDNSError, (ClientConnectorError,)),
    (ClientSSLError, (ClientConnectorError,)),
    (ClientConnectorCertificateError, (ClientSSLError, ssl.CertificateError)),
    (ClientConnectorSSLError, (ClientSSLError, ssl.SSLError)),
    (UnixClientConnectorError, (ClientConnectorError,)),
    (ServerConnectionError, (ClientConnectionError,)),
    (ServerDisconnectedError, (ServerConnectionError,)),
    (ServerFingerprintMismatch, (ServerConnectionError,)),
    (ServerTimeoutError, (ServerConnectionError, asyncio.TimeoutError)),
    (ConnectionTimeoutError, (ServerTimeoutError,)),
    (SocketTimeoutError, (ServerTimeoutError,)),
    (ClientPayloadError, (ClientError,)),
    (ClientResponseError, (ClientError,)),
    (ClientHttpProxyError, (ClientResponseError,)),
    (ContentTypeError, (ClientResponseError,)),
    (TooManyRedirects, (ClientResponseError,)),
    (WSServerHandshakeError, (ClientResponseError,)),
    (InvalidURL, (ClientError, ValueError)),
    (InvalidUrlClientError, (InvalidURL,)),
    (InvalidUrlRedirectClientError, (InvalidUrlClientError, RedirectClientError)),
    (NonHttpUrlClientError, (ClientError,)),
    (NonHttpUrlRedirectClientError, (NonHttpUrlClientError, RedirectClientError)),
    (RedirectClientError, (ClientError,)),
    (WSMessageTypeError, (TypeError,)),
]


def key(host: str = "example.com", port: int | None = 443, ssl_: object = True) -> ConnectionKey:
    return ConnectionKey(host, port, True, ssl_, None, None, None)  # type: ignore[arg-type]


def info(url: str = "http://example.com/path#frag") -> RequestInfo:
    real = URL(url)
    return RequestInfo(real.with_fragment(None), "GET", CIMultiDictProxy(CIMultiDict()), real)


@pytest.mark.parametrize(("cls", "bases"), HIERARCHY, ids=lambda v: getattr(v, "__name__", ""))
def test_hierarchy(cls: type[BaseException], bases: tuple[type[BaseException], ...]) -> None:
    for base in bases:
        assert issubclass(cls, base), f"{cls.__name__} must derive from {base.__name__}"


def test_every_public_name_is_listed() -> None:
    listed = {cls.__name__ for cls, _ in HIERARCHY}
    assert set(exc_mod.__all__) == listed


def test_timeouts_are_asyncio_timeouts() -> None:
    # "To catch all timeouts, including the total timeout, use asyncio.TimeoutError".
    with pytest.raises(asyncio.TimeoutError):
        raise SocketTimeoutError("Timeout on reading data from socket")
    assert not issubclass(ServerDisconnectedError, asyncio.TimeoutError)


class TestClientResponseError:
    def test_attributes(self) -> None:
        headers = CIMultiDictProxy(CIMultiDict({"X": "1"}))
        err = ClientResponseError(info(), (), status=404, message="Not Found", headers=headers)
        assert err.status == 404
        assert err.message == "Not Found"
        assert err.headers is headers
        assert err.history == ()
        assert err.request_info.method == "GET"
        assert err.args == (err.request_info, ())

    def test_str_uses_real_url(self) -> None:
        err = ClientResponseError(info(), (), status=400, message="Bad")
        assert str(err) == "400, message='Bad', url='http://example.com/path#frag'"

    def test_repr(self) -> None:
        err = ClientResponseError(info(), (), status=500, message="Oops")
        text = repr(err)
        assert text.startswith("ClientResponseError(RequestInfo(")
        assert "status=500" in text and "message='Oops'" in text
        assert not text.endswith("headers=None)")

    def test_defaults(self) -> None:
        err = ClientResponseError(info(), [])
        assert err.status == 0
        assert err.message == ""
        assert err.headers is None
        assert err.history == ()

    def test_code_is_deprecated(self) -> None:
        with pytest.warns(DeprecationWarning):
            err = ClientResponseError(info(), (), code=418)
        assert err.status == 418
        with pytest.warns(DeprecationWarning):
            assert err.code == 418
        with pytest.warns(DeprecationWarning):
            err.code = 419
        assert err.status == 419

    def test_code_and_status_conflict(self) -> None:
        with pytest.raises(ValueError, match="Both code and status"):
            ClientResponseError(info(), (), code=1, status=2)

    def test_subclass_carries_history(self) -> None:
        err = TooManyRedirects(info(), ("r1", "r2"))  # type: ignore[arg-type]
        assert err.history == ("r1", "r2")


class TestConnectorErrors:
    def test_connector_error(self) -> None:
        os_error = OSError(errno.ECONNREFUSED, "Connection refused")
        err = ClientConnectorError(key("h", 8080), os_error)
        assert err.os_error is os_error
        assert err.errno == errno.ECONNREFUSED
        assert err.strerror == "Connection refused"
        assert (err.host, err.port, err.ssl) == ("h", 8080, True)
        assert str(err) == "Cannot connect to host h:8080 ssl:default [Connection refused]"
        assert err.args == (key("h", 8080), os_error)

    def test_connector_error_ssl_false(self) -> None:
        err = ClientConnectorError(key(ssl_=False), OSError(1, "x"))
        assert "ssl:False" in str(err)

    def test_connector_error_pickles(self) -> None:
        err = ClientConnectorDNSError(key(), OSError(errno.ENOENT, "no such host"))
        clone = pickle.loads(pickle.dumps(err))
        assert type(clone) is ClientConnectorDNSError
        assert clone.host == "example.com"
        assert clone.strerror == "no such host"

    def test_unix_connector_error(self) -> None:
        err = UnixClientConnectorError("/tmp/sock", key(), OSError(2, "No such file"))
        assert err.path == "/tmp/sock"
        assert str(err) == "Cannot connect to unix socket /tmp/sock ssl:default [No such file]"

    def test_certificate_error(self) -> None:
        cert_error = ssl.CertificateError("hostname mismatch")
        err = ClientConnectorCertificateError(key("h", 443), cert_error)
        assert err.certificate_error is cert_error
        assert (err.host, err.port, err.ssl) == ("h", 443, True)
        assert isinstance(err, ssl.CertificateError)
        assert isinstance(err, ClientConnectorError)
        assert "SSLCertVerificationError" in str(err) or "CertificateError" in str(err)
        assert str(err).startswith("Cannot connect to host h:443 ssl:True [")

    def test_ssl_error(self) -> None:
        err = ClientConnectorSSLError(key(), ssl.SSLError(1, "bad handshake"))
        assert isinstance(err, ssl.SSLError)
        assert err.strerror == "bad handshake"

    def test_proxy_connection_error(self) -> None:
        err = ClientProxyConnectionError(key(), OSError(111, "refused"))
        assert isinstance(err, ClientConnectorError)
        assert "refused" in str(err)


class TestServerErrors:
    def test_disconnected_default_message(self) -> None:
        err = ServerDisconnectedError()
        assert err.message == "Server disconnected"
        assert err.args == ("Server disconnected",)
        assert str(err) == "Server disconnected"

    def test_disconnected_custom_message(self) -> None:
        err = ServerDisconnectedError("partial")
        assert err.message == "partial"

    def test_fingerprint_mismatch(self) -> None:
        err = ServerFingerprintMismatch(b"\x01", b"\x02", "h", 443)
        assert (err.expected, err.got, err.host, err.port) == (b"\x01", b"\x02", "h", 443)
        assert (
            repr(err)
            == "<ServerFingerprintMismatch expected=b'\\x01' got=b'\\x02' host='h' port=443>"
        )


class TestInvalidURL:
    def test_url_only(self) -> None:
        err = InvalidURL("http:///x")
        assert err.url == "http:///x"
        assert err.description is None
        assert str(err) == "http:///x"
        assert repr(err) == "<InvalidURL http:///x>"
        assert err.args == ("http:///x",)
        assert isinstance(err, ValueError)

    def test_with_description(self) -> None:
        url = URL("http:///x")
        err = InvalidUrlRedirectClientError(url, "no host")
        assert err.url is url
        assert err.description == "no host"
        assert str(err) == "http:///x - no host"
        assert isinstance(err, RedirectClientError)

    def test_non_http(self) -> None:
        err = NonHttpUrlRedirectClientError("ftp://x/")
        assert str(err) == "ftp://x/"
        assert isinstance(err, NonHttpUrlClientError)


def test_no_warnings_on_plain_construction() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ClientResponseError(info(), (), status=500)
        ContentTypeError(info(), (), status=200, message="bad type")
