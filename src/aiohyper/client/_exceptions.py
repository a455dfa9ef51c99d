"""The client's exceptions (``aiohttp.ClientError`` and its family).

The hierarchy is the documented one::

    ClientError
      ClientConnectionError
        ClientConnectionResetError            (+ ConnectionResetError)
        ClientOSError                         (+ OSError)
          ClientConnectorError
            ClientProxyConnectionError
            ClientConnectorDNSError
            ClientSSLError
              ClientConnectorCertificateError (+ ssl.CertificateError)
              ClientConnectorSSLError         (+ ssl.SSLError)
            UnixClientConnectorError
        ServerConnectionError
          ServerDisconnectedError
          ServerFingerprintMismatch
          ServerTimeoutError                  (+ asyncio.TimeoutError)
            ConnectionTimeoutError
            SocketTimeoutError
      ClientPayloadError
      ClientResponseError
        ClientHttpProxyError
        ContentTypeError
        TooManyRedirects
        WSServerHandshakeError
      InvalidURL                              (+ ValueError)
        InvalidUrlClientError
          InvalidUrlRedirectClientError       (+ RedirectClientError)
      NonHttpUrlClientError
        NonHttpUrlRedirectClientError         (+ RedirectClientError)
      RedirectClientError

Mistakes of the caller (a bad argument) are plain ``ValueError`` / ``TypeError`` instead.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from yarl import URL

if TYPE_CHECKING:
    from ._request import ConnectionKey, RequestInfo
    from ._response import ClientResponse

__all__ = (
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "TooManyRedirects",
    "UnixClientConnectorError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
)


class ClientError(Exception):
    """Base class of every client error."""


# --- Responses ------------------------------------------------------------------------------


class ClientResponseError(ClientError):
    """A response was received but cannot be accepted (bad status, bad content...).

    ``status`` and ``message`` are the response's status code and reason, ``headers`` its
    headers (when known), ``history`` the redirect responses that led to it, ``request_info``
    the request that was sent. ``code`` is the deprecated spelling of ``status``.
    """

    def __init__(
        self,
        request_info: RequestInfo,
        history: Sequence[ClientResponse],
        *,
        code: int | None = None,
        status: int | None = None,
        message: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.request_info = request_info
        if code is not None:
            if status is not None:
                raise ValueError(
                    "Both code and status arguments are provided; "
                    "code is deprecated, use status instead"
                )
            warnings.warn(
                "code argument is deprecated, use status instead", DeprecationWarning, stacklevel=2
            )
            status = code
        self.status: int = status if status is not None else 0
        self.message = message
        self.headers = headers
        self.history = tuple(history)
        self.args = (request_info, self.history)

    def __str__(self) -> str:
        url = getattr(self.request_info, "real_url", None)
        return f"{self.status}, message={self.message!r}, url={str(url)!r}"

    def __repr__(self) -> str:
        args = f"{self.request_info!r}, {self.history!r}"
        if self.status != 0:
            args += f", status={self.status!r}"
        if self.message != "":
            args += f", message={self.message!r}"
        if self.headers is not None:
            args += f", headers={self.headers!r}"
        return f"{type(self).__name__}({args})"

    @property
    def code(self) -> int:
        """Deprecated alias of ``status``."""
        warnings.warn("code property is deprecated, use status instead", DeprecationWarning, 2)
        return self.status

    @code.setter
    def code(self, value: int) -> None:
        warnings.warn("code property is deprecated, use status instead", DeprecationWarning, 2)
        self.status = value


class ContentTypeError(ClientResponseError):
    """The response's Content-Type is not the one expected (e.g. by ``json()``)."""


class WSServerHandshakeError(ClientResponseError):
    """The server refused or botched the WebSocket handshake."""


class ClientHttpProxyError(ClientResponseError):
    """The HTTP proxy answered a CONNECT with an error status."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects`` were received."""


class WSMessageTypeError(TypeError):
    """A WebSocket message of another type than the one asked for was received."""


# --- Connections ----------------------------------------------------------------------------


class ClientConnectionError(ClientError):
    """A low-level connection problem."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset (e.g. writing to a closed transport)."""


class ClientOSError(ClientConnectionError, OSError):
    """A connection problem caused by an ``OSError``."""


class ClientConnectorError(ClientOSError):
    """The connector could not open a connection to ``host:port``.

    ``connection_key`` names the pool the connection was for; ``os_error`` is the underlying
    ``OSError`` (its ``errno`` and ``strerror`` are copied onto this exception).
    """

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        return self._os_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> Any:
        """The ``ssl`` setting of the failed connection (``True``, ``False``, context...)."""
        return self._conn_key.ssl

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to host {self.host}:{self.port} ssl:{ssl_text} [{self.strerror}]"

    # Rebuild from ``args`` when unpickled, not through OSError's (errno, strerror) form.
    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved."""


class ClientProxyConnectionError(ClientConnectorError):
    """The connection to the proxy could not be opened."""


class UnixClientConnectorError(ClientConnectorError):
    """The connection to the Unix socket ``path`` could not be opened."""

    def __init__(self, path: str, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)
        self.args = (path, connection_key, os_error)

    @property
    def path(self) -> str:
        return self._path

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to unix socket {self.path} ssl:{ssl_text} [{self.strerror}]"


class ServerConnectionError(ClientConnectionError):
    """The server misbehaved on an open connection."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete.

    ``message`` is a description, or the partially parsed message when there is one.
    """

    def __init__(self, message: Any = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.args = (message,)
        self.message = message


class ServerTimeoutError(ServerConnectionError, asyncio.TimeoutError):
    """A server operation timed out (connect, read). The ``total`` timeout raises a plain
    ``asyncio.TimeoutError``, which this is also an instance of."""


class ConnectionTimeoutError(ServerTimeoutError):
    """The ``connect`` or ``sock_connect`` timeout expired."""


class SocketTimeoutError(ServerTimeoutError):
    """The ``sock_read`` timeout expired: no data was received from the server in time."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server's certificate does not have the pinned SHA-256 fingerprint."""

    def __init__(self, expected: bytes, got: bytes, host: str, port: int) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        self.args = (expected, got, host, port)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} expected={self.expected!r} got={self.got!r} "
            f"host={self.host!r} port={self.port!r}>"
        )


class ClientSSLError(ClientConnectorError):
    """The TLS handshake with the server failed."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS layer failed while connecting."""


class ClientConnectorCertificateError(ClientSSLError, ssl.CertificateError):
    """The server's certificate was rejected; ``certificate_error`` says why."""

    def __init__(self, connection_key: ConnectionKey, certificate_error: Exception) -> None:
        self._conn_key = connection_key
        self._certificate_error = certificate_error
        self._os_error = certificate_error if isinstance(certificate_error, OSError) else OSError()
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        return self._certificate_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> bool:
        """Whether the connection was a TLS one (always, for this error)."""
        return self._conn_key.is_ssl

    def __str__(self) -> str:
        err = self._certificate_error
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl} "
            f"[{type(err).__name__}: {err.args}]"
        )


# --- Bodies and URLs ------------------------------------------------------------------------


class ClientPayloadError(ClientError):
    """The response body is broken: bad compression, bad chunked framing, or fewer bytes
    than its Content-Length."""


class InvalidURL(ClientError, ValueError):
    """A URL that cannot be fetched (no host, bad syntax...): ``url`` and an optional
    ``description`` of what is wrong with it."""

    def __init__(self, url: URL | str, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Any:
        return self._url

    @property
    def description(self) -> str | None:
        return self._description

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)


class InvalidUrlClientError(InvalidURL):
    """A request URL is malformed."""


class RedirectClientError(ClientError):
    """A redirect could not be followed."""


class NonHttpUrlClientError(ClientError):
    """A URL whose scheme is not http(s) or ws(s)."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect ``Location`` is malformed."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect points to a URL whose scheme is not http(s) or ws(s)."""
