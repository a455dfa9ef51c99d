"""The rules of following a redirect (RFC 9110 section 15.4), apart from the session loop.

* 301/302 turn a POST into a GET without body (what browsers do, now allowed by RFC 9110);
  303 turns anything but HEAD into a GET without body; 307/308 (and 301/302 of other methods)
  repeat the request, body included.
* The ``Location`` is resolved against the URL of the response; only http(s) and ws(s) targets
  are followed.
* Credentials bound to an origin (Authorization, Proxy-Authorization, Cookie) are not carried to
  another origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from multidict import CIMultiDict
from yarl import URL

from .. import hdrs
from ._exceptions import InvalidUrlRedirectClientError, NonHttpUrlRedirectClientError

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = (
    "HTTP_AND_WS_SCHEMES",
    "REDIRECT_STATUSES",
    "drop_body_headers",
    "drop_origin_credentials",
    "location_of",
    "method_after_redirect",
    "resolve_location",
)

#: Schemes the client can fetch (and be redirected to).
HTTP_AND_WS_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
#: Statuses that are followed when ``allow_redirects`` is true.
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})

# Headers that describe a body: they go with it when a redirect drops it.
_BODY_HEADERS: Final = (
    hdrs.CONTENT_LENGTH,
    hdrs.CONTENT_TYPE,
    hdrs.CONTENT_ENCODING,
    hdrs.TRANSFER_ENCODING,
)
_ORIGIN_HEADERS: Final = (hdrs.AUTHORIZATION, hdrs.PROXY_AUTHORIZATION, hdrs.COOKIE)


def location_of(response: ClientResponse) -> str | None:
    """Where a redirect points: its ``Location`` (or the obsolete ``URI``) header."""
    headers = response.headers
    return headers.get(hdrs.LOCATION) or headers.get(hdrs.URI)


def method_after_redirect(status: int, method: str) -> str | None:
    """``GET`` when a redirect with ``status`` of a ``method`` request drops the body and
    changes the method, ``None`` when the request is repeated as it was."""
    if (status == 303 and method != hdrs.METH_HEAD) or (
        status in (301, 302) and method == hdrs.METH_POST
    ):
        return hdrs.METH_GET
    return None


def resolve_location(location: str, base: URL, *, requote: bool) -> URL:
    """The absolute URL a ``Location`` value names, relative ones resolved against ``base``.

    ``requote=False`` keeps the value's percent-encoding exactly as received. Raises
    `InvalidUrlRedirectClientError` for a value that is not a URL or has no host, and
    `NonHttpUrlRedirectClientError` for another scheme than http(s) / ws(s).
    """
    try:
        url = URL(location, encoded=not requote)
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(
            location, "Server attempted redirecting to a location that does not look like a URL"
        ) from exc
    scheme = url.scheme
    if scheme and scheme not in HTTP_AND_WS_SCHEMES:
        raise NonHttpUrlRedirectClientError(location)
    if not scheme:
        url = base.join(url)
    try:
        url.origin()
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(url, "Invalid redirect URL origin") from exc
    if not url.raw_host:
        raise InvalidUrlRedirectClientError(url, "Redirect URL has no host")
    return url


def drop_body_headers(headers: CIMultiDict[str]) -> None:
    """Remove the headers that described a body which is not sent again."""
    for name in _BODY_HEADERS:
        headers.popall(name, None)


def drop_origin_credentials(headers: CIMultiDict[str]) -> None:
    """Remove the credentials that must not follow a redirect to another origin."""
    for name in _ORIGIN_HEADERS:
        headers.popall(name, None)
