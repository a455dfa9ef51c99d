"""Cookie headers (RFC 6265): strict parsing of ``Cookie``, strict building of ``Set-Cookie``.

Shared by the server (``request.cookies``, ``response.set_cookie``) and the client.
:mod:`http.cookies` is only used for its public types (``SimpleCookie`` is what
``response.cookies`` is documented to be, ``Morsel`` one cookie in it): its parser is lenient
(it accepts and mangles values the RFC forbids) and its serialiser does not check attribute
values, so a path or domain holding ``;`` would add attributes of its own.

Grammar (RFC 6265 section 4.1.1 and 4.2.1)::

    cookie-string = cookie-pair *( ";" SP cookie-pair )
    cookie-pair   = cookie-name "=" cookie-value
    cookie-name   = token
    cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
    cookie-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
    av-octet      = any CHAR except CTLs or ";"
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime
from http.cookies import Morsel, SimpleCookie
from typing import Any, Final

from ._helpers_dates import format_http_date

__all__ = (
    "COOKIE_EXPIRED",
    "CookieMorsel",
    "format_set_cookie",
    "make_deleted_morsel",
    "make_morsel",
    "parse_cookie_header",
    "populate_set_cookie_headers",
)

#: ``Expires`` of a cookie being deleted: the Unix epoch.
COOKIE_EXPIRED: Final = "Thu, 01 Jan 1970 00:00:00 GMT"

# token = 1*tchar (RFC 9110 section 5.6.2)
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_OCTETS: Final = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
# One cookie-pair between semicolons; OWS at the edges is tolerated (some agents omit the SP
# after ";" or add one more), nothing else is.
_COOKIE_PAIR: Final = re.compile(
    rf"[ \t]*({_TOKEN.pattern})=(?:({_COOKIE_OCTETS})|\"({_COOKIE_OCTETS})\")[ \t]*"
)
_COOKIE_VALUE: Final = re.compile(_COOKIE_OCTETS)
# What SimpleCookie produces for a value outside cookie-octet: a quoted string of printable
# ASCII, with '"' and '\' escaped and ';' and ',' written as octal escapes. Not RFC 6265, but
# every agent reads it and it cannot break out of the header line or the cookie-pair.
_LEGACY_QUOTED: Final = re.compile(r'"(?:[\x20\x21\x23-\x3a\x3c-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"')
# av-octet without CTLs and ";" (and without the DEL control character).
_AV_VALUE: Final = re.compile(r"[\x20-\x3a\x3c-\x7e]*")

# SimpleCookie's encoder, for values outside cookie-octet (what aiohttp has always sent).
_legacy_encode = SimpleCookie().value_encode


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a request's ``Cookie`` header into ``{name: value}``.

    Values in the DQUOTE form are returned without the quotes. A pair that breaks the grammar
    (a name that is not a token, a value with spaces, commas, backslashes or stray quotes, no
    ``=``) is skipped, not the whole header: other applications on the same site may set
    cookies we do not understand. When a name repeats, the first pair wins: user agents send
    the cookie with the most specific path first (RFC 6265 section 5.4).
    """
    cookies: dict[str, str] = {}
    if not header:
        return cookies
    match_pair = _COOKIE_PAIR.fullmatch
    for piece in header.split(";"):
        match = match_pair(piece)
        if match is None:
            continue
        name, plain, quoted = match.groups()
        if name not in cookies:
            cookies[name] = plain if plain is not None else quoted
    return cookies


class CookieMorsel(Morsel[str]):
    """A :class:`http.cookies.Morsel` that also knows the ``Partitioned`` attribute (CHIPS),
    which :mod:`http.cookies` only learns in Python 3.14."""

    _reserved: Final[dict[str, str]] = {
        **vars(Morsel)["_reserved"],
        "partitioned": "Partitioned",
    }
    _flags: Final[set[str]] = {*vars(Morsel)["_flags"], "partitioned"}


def _check_av(name: str, value: str) -> str:
    if _AV_VALUE.fullmatch(value) is None:
        raise ValueError(
            f"Cookie attribute {name} must not contain control characters or ';': {value!r}"
        )
    return value


def _encode_value(value: str) -> str:
    """The value as sent: as is when it is RFC 6265 cookie-octets (or already DQUOTEd ones),
    else quoted as :class:`http.cookies.SimpleCookie` would."""
    if _COOKIE_VALUE.fullmatch(value) is not None:
        return value
    if (
        len(value) >= 2
        and value[0] == value[-1] == '"'
        and _COOKIE_VALUE.fullmatch(value, 1, len(value) - 1) is not None
    ):
        return value
    return _legacy_encode(value)[1]


def make_morsel(
    name: str,
    value: Any,
    *,
    path: str | None = "/",
    expires: str | datetime | int | float | None = None,
    domain: str | None = None,
    max_age: int | str | None = None,
    secure: bool | None = None,
    httponly: bool | None = None,
    samesite: str | None = None,
    partitioned: bool | None = None,
    version: str | None = None,
) -> CookieMorsel:
    """Build the morsel for one ``Set-Cookie``, checking everything that will be sent.

    ``value`` is converted with ``str()``. ``expires`` may be an HTTP date string, an aware or
    UTC ``datetime``, or a Unix timestamp. Raises ``ValueError`` for a name that is not a token
    or an attribute value holding control characters or ``;``.
    """
    if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
        raise ValueError(f"Cookie name must be a token (RFC 6265 section 4.1.1): {name!r}")
    text = str(value)
    coded = _encode_value(text)
    if _COOKIE_VALUE.fullmatch(coded) is None and _LEGACY_QUOTED.fullmatch(coded) is None:
        raise ValueError(f"Cookie {name!r} has a value that cannot be sent: {text!r}")
    morsel = CookieMorsel()
    # What Morsel.__setstate__ does, rather than set(): set() refuses names such as "path" or
    # "expires", which RFC 6265 allows as cookie names.
    morsel.__dict__.update(_key=name, _value=text, _coded_value=coded)
    if expires is not None:
        if isinstance(expires, datetime):
            expires = format_http_date(expires.timestamp())
        elif isinstance(expires, (int, float)):
            expires = format_http_date(expires)
        morsel["expires"] = _check_av("Expires", expires)
    if domain is not None:
        morsel["domain"] = _check_av("Domain", domain)
    if max_age is not None:
        morsel["max-age"] = _check_av("Max-Age", str(max_age))
    if path is not None:
        morsel["path"] = _check_av("Path", path)
    if secure is not None:
        morsel["secure"] = secure
    if httponly is not None:
        morsel["httponly"] = httponly
    if samesite is not None:
        morsel["samesite"] = _check_av("SameSite", samesite)
    if partitioned is not None:
        morsel["partitioned"] = partitioned
    if version is not None:
        morsel["version"] = _check_av("Version", str(version))
    return morsel


def make_deleted_morsel(
    name: str,
    *,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool | None = None,
    httponly: bool | None = None,
    samesite: str | None = None,
    partitioned: bool | None = None,
) -> CookieMorsel:
    """The morsel that tells a user agent to drop cookie ``name``: empty value, ``Max-Age=0``
    and an ``Expires`` in the past. Path and domain must match the ones it was set with."""
    return make_morsel(
        name,
        "",
        path=path,
        expires=COOKIE_EXPIRED,
        domain=domain,
        max_age=0,
        secure=secure,
        httponly=httponly,
        samesite=samesite,
        partitioned=partitioned,
    )


# Attribute names as sent, in the order sent (alphabetical, as Morsel.OutputString does).
_ATTRIBUTES: Final = (
    ("comment", "Comment"),
    ("domain", "Domain"),
    ("expires", "expires"),
    ("httponly", "HttpOnly"),
    ("max-age", "Max-Age"),
    ("partitioned", "Partitioned"),
    ("path", "Path"),
    ("samesite", "SameSite"),
    ("secure", "Secure"),
    ("version", "Version"),
)
_FLAGS: Final = frozenset({"httponly", "partitioned", "secure"})


def format_set_cookie(morsel: Morsel[Any]) -> str:
    """The ``Set-Cookie`` value for ``morsel`` (any ``Morsel``, e.g. from ``response.cookies``).

    Unlike ``Morsel.OutputString`` it refuses, with ``ValueError``, anything that would not
    survive in a header line or would inject extra attributes: a name that is not a token, a
    coded value outside cookie-octet (other than SimpleCookie's quoted form), attribute values
    with control characters or ``;``. An integer ``expires`` counts seconds from now and an
    integer ``max-age`` is a number of seconds, as with ``Morsel``.
    """
    name = morsel.key
    if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
        raise ValueError(f"Cookie name must be a token (RFC 6265 section 4.1.1): {name!r}")
    coded = morsel.coded_value
    if not isinstance(coded, str) or (
        _COOKIE_VALUE.fullmatch(coded) is None and _LEGACY_QUOTED.fullmatch(coded) is None
    ):
        raise ValueError(f"Cookie {name!r} has a value that cannot be sent: {coded!r}")
    parts = [f"{name}={coded}"]
    for key, label in _ATTRIBUTES:
        value = morsel.get(key, "")
        if value == "" or value is None:
            continue
        if key in _FLAGS:
            if value:
                parts.append(label)
            continue
        if key == "expires" and isinstance(value, (int, float)):
            value = format_http_date(time.time() + value)
        elif not isinstance(value, str):
            value = str(value)
        parts.append(f"{label}={_check_av(label, value)}")
    return "; ".join(parts)


def populate_set_cookie_headers(headers: Any, cookies: Mapping[str, Morsel[Any]]) -> None:
    """Add one ``Set-Cookie`` to ``headers`` (a ``CIMultiDict``) per morsel in ``cookies``."""
    for morsel in cookies.values():
        headers.add("Set-Cookie", format_set_cookie(morsel))
