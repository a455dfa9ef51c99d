"""HTTP Basic credentials (RFC 7617) and where the client finds them: the URL's userinfo,
``~/.netrc`` and the ``*_proxy`` environment variables."""

from __future__ import annotations

import base64
import binascii
import contextlib
import netrc
import os
from pathlib import Path
from typing import NamedTuple
from urllib.request import getproxies, proxy_bypass

from yarl import URL

from .log import client_logger

__all__ = (
    "BasicAuth",
    "ProxyInfo",
    "basicauth_from_netrc",
    "get_env_proxy_for_url",
    "netrc_from_env",
    "proxies_from_env",
    "strip_auth_from_url",
)


class _BasicAuthFields(NamedTuple):
    login: str
    password: str
    encoding: str


class BasicAuth(_BasicAuthFields):
    """Credentials for ``Authorization: Basic``: a ``(login, password, encoding)`` tuple.

    ``encoding`` is the charset the credentials are encoded with (``latin1`` by default; RFC 7617
    lets a server ask for ``utf-8``). A ``:`` in the login cannot be represented, so it is
    rejected with ``ValueError``, as are ``None`` values.
    """

    __slots__ = ()

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse an ``Authorization: Basic <base64>`` value; ``ValueError`` if it is not one."""
        scheme, _, credentials = auth_header.strip().partition(" ")
        if scheme.lower() != "basic":
            raise ValueError(f"Unknown authorization method {scheme!r}")
        try:
            raw = base64.b64decode(credentials.strip(), validate=True)
        except binascii.Error:
            raise ValueError("Invalid base64 encoding in Basic credentials")
        try:
            decoded = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ValueError(f"Basic credentials are not valid {encoding}")
        login, sep, password = decoded.partition(":")
        if not sep:
            raise ValueError('Invalid Basic credentials: no ":" between login and password')
        return cls(login, password, encoding=encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> BasicAuth | None:
        """The credentials in ``url``'s userinfo (percent-decoded), or ``None`` if it has none."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.raw_user is None and url.raw_password is None:
            return None
        return cls(url.user or "", url.password or "", encoding=encoding)

    def encode(self) -> str:
        """The ``Authorization`` header value: ``Basic <base64(login:password)>``."""
        creds = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(creds).decode("ascii")


def strip_auth_from_url(url: URL) -> tuple[URL, BasicAuth | None]:
    """Split ``url`` into the URL without userinfo and the credentials it carried."""
    auth = BasicAuth.from_url(url)
    if auth is None:
        return url, None
    return url.with_user(None), auth


def netrc_from_env() -> netrc.netrc | None:
    """Load the file named by ``$NETRC``, else ``~/.netrc`` (``~/_netrc`` on Windows).

    Returns ``None`` when there is none; a file that exists but cannot be read or parsed is
    logged as a warning on the client logger, not raised.
    """
    env = os.environ.get("NETRC")
    if env is not None:
        path = Path(env)
    else:
        try:
            home = Path.home()
        except RuntimeError as exc:  # no HOME and no passwd entry
            client_logger.debug("Could not find the home directory for .netrc: %s", exc)
            return None
        path = home / ("_netrc" if os.name == "nt" else ".netrc")
    try:
        return netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        client_logger.warning("Could not parse .netrc file: %s", exc)
    except OSError as exc:
        exists = False
        with contextlib.suppress(OSError):
            exists = path.is_file()
        # A missing default file is normal; one the user pointed at is worth a warning.
        if env or exists:
            client_logger.warning("Could not read .netrc file: %s", exc)
    return None


def basicauth_from_netrc(netrc_obj: netrc.netrc | None, host: str) -> BasicAuth:
    """The credentials ``netrc_obj`` has for ``host`` (or its ``default`` entry).

    Raises ``LookupError`` when there is no file or no entry. The login falls back to the
    ``account`` field when ``login`` is empty.
    """
    if netrc_obj is None:
        raise LookupError("No .netrc file found")
    entry = netrc_obj.authenticators(host)
    if entry is None:
        raise LookupError(f"No entry for {host!s} found in the .netrc file")
    login, account, password = entry
    username = login if (login or account is None) else account
    return BasicAuth(username or "", password or "")


class ProxyInfo(NamedTuple):
    """A proxy from the environment and the credentials to send to it."""

    proxy: URL
    proxy_auth: BasicAuth | None


_PROXY_SCHEMES = frozenset({"http", "https", "ws", "wss"})


def proxies_from_env() -> dict[str, ProxyInfo]:
    """Proxies from ``http_proxy``, ``https_proxy``, ``ws_proxy``, ``wss_proxy`` (any case),
    keyed by the scheme they serve.

    Credentials come from the proxy URL's userinfo, else from ``.netrc`` for the proxy host.
    """
    proxies = {
        scheme: URL(value)
        for scheme, value in getproxies().items()
        if scheme in _PROXY_SCHEMES and value
    }
    if not proxies:
        return {}
    netrc_obj = netrc_from_env()
    result: dict[str, ProxyInfo] = {}
    for scheme, url in proxies.items():
        proxy, auth = strip_auth_from_url(url)
        if auth is None and netrc_obj is not None and proxy.host is not None:
            with contextlib.suppress(LookupError):
                auth = basicauth_from_netrc(netrc_obj, proxy.host)
        result[scheme] = ProxyInfo(proxy, auth)
    return result


def get_env_proxy_for_url(url: URL) -> tuple[URL, BasicAuth | None]:
    """The proxy the environment sets for ``url`` and its credentials.

    Raises ``LookupError`` when ``no_proxy`` excludes the host or no proxy is set for the
    URL's scheme.
    """
    if url.host is not None and proxy_bypass(url.host):
        raise LookupError(f"Proxying is disallowed for {url.host!r}")
    try:
        info = proxies_from_env()[url.scheme]
    except KeyError:
        raise LookupError(f"No proxies found for {url!s} in the env")
    return info.proxy, info.proxy_auth
