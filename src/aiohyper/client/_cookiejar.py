"""The client's cookie storage (RFC 6265): ``CookieJar`` and ``DummyCookieJar``.

What the session does with a jar: after each response it hands over the cookies the server set
(``update_cookies_from_headers(set_cookie_values, response.url)``, or ``update_cookies`` with
``response.cookies``), and before each request it asks ``filter_cookies(url)`` for the cookies
to send. ``update_cookies(cookies)`` without a URL stores *shared* cookies, sent with every
request (that is how ``ClientSession(cookies=...)`` is implemented).

The rules applied (RFC 6265 section 5):

- Set-Cookie parsing (5.2) is lenient, as user agents must be, but never fatal: a header that
  cannot be understood (no ``=``, empty name, control characters, name and value longer than
  4096 octets) is skipped and the others are kept. Unknown or malformed attributes are ignored.
- Domain (5.3 step 6): without a ``Domain`` attribute a cookie is *host-only* (sent to that exact
  host only). With one (a leading dot is dropped), it is sent to that domain and its subdomains,
  and it is rejected unless the response host domain-matches it, or when it names a single label
  such as ``com`` (a minimal public-suffix rule). IP addresses only domain-match themselves,
  and cookies from or to IP hosts are only accepted when the jar is ``unsafe``.
- Path (5.1.4): a missing or relative ``Path`` becomes the directory of the response path; a
  cookie is sent when its path is the request path, or a prefix of it ending at a ``/``.
- Expiry (5.2.1, 5.2.2, 5.3 step 3): ``Max-Age`` wins over ``Expires``; zero or negative
  ``Max-Age`` and past dates delete the cookie. Due cookies are dropped through a heap ordered by
  expiry time, so the per-request path only looks at the heap's head.
- Secure cookies are only sent to secure origins: ``https``, ``wss`` and the origins listed in
  ``treat_as_secure_origin``. ``HttpOnly`` is kept (it only concerns script access in browsers).
- Sending order (5.4): longer paths first, then older cookies first; when two cookies share a
  name only the first of them is returned (``BaseCookie`` is keyed by name).

``filter_cookies`` looks up the request host and each of its parent domains in a dict of
cookies per domain, so its cost does not grow with the number of other sites in the jar.
"""

from __future__ import annotations

import calendar
import datetime
import heapq
import ipaddress
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from http.cookies import BaseCookie, Morsel, SimpleCookie
from operator import attrgetter
from typing import Any, Final

from yarl import URL

from ..abc import AbstractCookieJar
from ..cookies import CookieMorsel
from ..typedefs import LooseCookies, PathLike

__all__ = ("CookieJar", "DummyCookieJar", "parse_cookie_date", "parse_set_cookie_headers")

# The latest expiry kept: 9999-12-31T23:59:59Z (RFC 6265 5.2.1: clamp to the latest date the
# agent can represent; this one still formats as an HTTP date).
_MAX_TIME: Final = 253402300799.0
# RFC 6265bis 5.6: ignore cookies whose name and value together exceed 4096 octets, and
# attribute values over 1024 octets.
_MAX_NAME_VALUE_SIZE: Final = 4096
_MAX_ATTRIBUTE_VALUE_SIZE: Final = 1024

_SECURE_SCHEMES: Final = frozenset({"https", "wss"})
# Control characters other than HTAB: never let them into a stored cookie (they would end up in
# a Cookie header; RFC 6265bis 5.6 step 2 drops such cookies).
_CONTROL_CHARS: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_NAME_CHARS: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f;=]")
_BAD_CODED_CHARS: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f;]")
# cookie-octet (RFC 6265 4.1.1): values made only of these are sent as they are.
_COOKIE_OCTETS: Final = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# The escapes SimpleCookie writes inside a quoted value: \ooo octal, or \ before one character.
_QUOTED_ESCAPE: Final = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)
# max-age-av (RFC 6265 5.2.2): a DIGIT or "-" and then DIGITs.
_MAX_AGE: Final = re.compile(r"-?[0-9]+")

_simple_cookie_encode = SimpleCookie().value_encode
_NO_URL: Final = URL()


# --- cookie-date (RFC 6265 5.1.1) --------------------------------------------------------
# delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E ; tokens are the runs in between.
_DATE_DELIMITERS: Final = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
# hms-time = time-field ":" time-field ":" time-field, time-field = 1*2DIGIT, then a non-digit.
_DATE_TIME: Final = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?![0-9])")
# day-of-month = 1*2DIGIT ( non-digit *OCTET )
_DATE_DAY: Final = re.compile(r"([0-9]{1,2})(?![0-9])")
# month = ( "jan" / "feb" / ... ) *OCTET, case-insensitive
_DATE_MONTH: Final = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.I)
# year = 2*4DIGIT ( non-digit *OCTET )
_DATE_YEAR: Final = re.compile(r"([0-9]{2,4})(?![0-9])")
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


@lru_cache(maxsize=256)
def parse_cookie_date(text: str) -> float | None:
    """The Unix time of a cookie ``Expires`` value, or ``None`` when it is not a date.

    This is the RFC 6265 section 5.1.1 algorithm, which reads whatever servers actually send
    (``Wed, 09-Jun-2021 10:18:14 GMT``, two-digit years, missing weekday...). Dates past the
    year 9999 are clamped to its end.
    """
    hms: tuple[int, int, int] | None = None
    day = month = year = -1
    for token in _DATE_DELIMITERS.split(text):
        if not token:
            continue
        if hms is None and (match := _DATE_TIME.match(token)):
            hms = (int(match[1]), int(match[2]), int(match[3]))
        elif day < 0 and (match := _DATE_DAY.match(token)):
            day = int(match[1])
        elif month < 0 and (match := _DATE_MONTH.match(token)):
            month = _MONTHS[match[1].lower()]
        elif year < 0 and (match := _DATE_YEAR.match(token)):
            year = int(match[1])
    if hms is None or day < 0 or month < 0 or year < 0:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = hms
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        datetime.date(year, month, day)  # rejects the 31st of a 30-day month, Feb 29...
    except ValueError:
        return None
    return min(float(calendar.timegm((year, month, day, hour, minute, second))), _MAX_TIME)


# --- Set-Cookie parsing (RFC 6265 5.2) ---------------------------------------------------
class _ParsedCookie:
    """One cookie as received, before the jar applies the domain and path rules.

    ``domain`` and ``path`` are the attribute values (``None`` when absent or ignored),
    ``max_age`` the Max-Age in seconds, ``expires`` the Unix time of Expires; ``expires_raw``
    and ``max_age_raw`` keep the text for the morsel the jar stores.
    """

    __slots__ = (
        "coded_value",
        "domain",
        "expires",
        "expires_raw",
        "httponly",
        "max_age",
        "max_age_raw",
        "name",
        "partitioned",
        "path",
        "samesite",
        "secure",
        "value",
    )

    def __init__(self, name: str, value: str, coded_value: str) -> None:
        self.name = name
        self.value = value
        self.coded_value = coded_value
        self.domain: str | None = None
        self.path: str | None = None
        self.max_age: int | None = None
        self.max_age_raw = ""
        self.expires: float | None = None
        self.expires_raw = ""
        self.secure = False
        self.httponly = False
        self.samesite = ""
        self.partitioned = False


def _unquote(text: str) -> str:
    """The value inside DQUOTEs, with SimpleCookie's backslash and octal escapes undone."""
    if "\\" not in text:
        return text
    return _QUOTED_ESCAPE.sub(
        lambda m: chr(int(m[1], 8)) if m[1] is not None else m[2],
        text,
    )


def _split_value(raw: str) -> tuple[str, str]:
    """``(value, coded_value)`` of a received cookie value: a DQUOTEd value is read without
    its quotes, and sent back exactly as received."""
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        return _unquote(raw[1:-1]), raw
    return raw, raw


def _parse_max_age(text: str) -> int | None:
    if _MAX_AGE.fullmatch(text) is None:
        return None
    # Cap the digit count: int() of a huge string is slow, and the result is clamped anyway.
    if len(text) > 18:
        return -1 if text[0] == "-" else 10**18
    return int(text)


def _parse_set_cookie(header: str) -> _ParsedCookie | None:
    """Parse one ``Set-Cookie`` value; ``None`` when the cookie must be ignored."""
    if _CONTROL_CHARS.search(header) is not None:
        return None
    pair, _, attributes = header.partition(";")
    name, equals, raw_value = pair.partition("=")
    if not equals:
        return None
    name = name.strip(" \t")
    raw_value = raw_value.strip(" \t")
    if not name or len(name) + len(raw_value) > _MAX_NAME_VALUE_SIZE:
        return None
    cookie = _ParsedCookie(name, *_split_value(raw_value))
    if not attributes:
        return cookie
    # When an attribute repeats, the last one wins (RFC 6265 5.3 step 3 and others).
    for attribute in attributes.split(";"):
        key, _, value = attribute.partition("=")
        key = key.strip(" \t").lower()
        value = value.strip(" \t")
        if len(value) > _MAX_ATTRIBUTE_VALUE_SIZE:
            continue
        if key == "expires":
            expires = parse_cookie_date(value)
            if expires is not None:
                cookie.expires = expires
                cookie.expires_raw = value
        elif key == "max-age":
            max_age = _parse_max_age(value)
            if max_age is not None:
                cookie.max_age = max_age
                cookie.max_age_raw = value
        elif key == "domain":
            if value:
                cookie.domain = value
        elif key == "path":
            cookie.path = value if value[:1] == "/" else None
        elif key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.httponly = True
        elif key == "samesite":
            cookie.samesite = value
        elif key == "partitioned":
            cookie.partitioned = True
    return cookie


def _new_morsel(name: str, value: str, coded_value: str) -> CookieMorsel:
    morsel = CookieMorsel()
    # Morsel.set() refuses names such as "path" or "expires" that RFC 6265 allows as cookie
    # names; this is what Morsel.__setstate__ does.
    morsel.__dict__.update(_key=name, _value=value, _coded_value=coded_value)
    return morsel


def _parsed_to_morsel(cookie: _ParsedCookie) -> CookieMorsel:
    """The morsel of a received cookie, with its attributes as the server sent them."""
    morsel = _new_morsel(cookie.name, cookie.value, cookie.coded_value)
    if cookie.domain is not None:
        morsel["domain"] = cookie.domain
    if cookie.path is not None:
        morsel["path"] = cookie.path
    if cookie.expires_raw:
        morsel["expires"] = cookie.expires_raw
    if cookie.max_age_raw:
        morsel["max-age"] = cookie.max_age_raw
    if cookie.secure:
        morsel["secure"] = True
    if cookie.httponly:
        morsel["httponly"] = True
    if cookie.samesite:
        morsel["samesite"] = cookie.samesite
    if cookie.partitioned:
        morsel["partitioned"] = True
    return morsel


def parse_set_cookie_headers(headers: Iterable[str]) -> list[tuple[str, Morsel[str]]]:
    """``(name, morsel)`` for each ``Set-Cookie`` value that can be understood, in order.

    Malformed values are skipped. Duplicated names are all kept (unlike in a ``SimpleCookie``),
    so that cookies with the same name for different paths or domains all reach the jar.
    """
    result: list[tuple[str, Morsel[str]]] = []
    for header in headers:
        cookie = _parse_set_cookie(header)
        if cookie is not None:
            result.append((cookie.name, _parsed_to_morsel(cookie)))
    return result


def _encode_value(value: str) -> str:
    """The value as sent: as is when it is RFC 6265 cookie-octets, else quoted the way
    ``SimpleCookie`` quotes (which also escapes control characters and ``;``)."""
    if _COOKIE_OCTETS.fullmatch(value) is not None:
        return value
    return _simple_cookie_encode(value)[1]


def _from_morsel(name: str, morsel: Morsel[Any], now: float) -> _ParsedCookie | None:
    """A cookie given as a ``Morsel`` (``response.cookies``, or built by the application)."""
    value = morsel.value
    if not isinstance(value, str):
        value = str(value)
    coded = morsel.coded_value
    if not isinstance(coded, str) or not coded:
        coded = _encode_value(value)
    if _BAD_CODED_CHARS.search(coded) is not None or _CONTROL_CHARS.search(value) is not None:
        return None
    cookie = _ParsedCookie(name, value, coded)
    domain = morsel.get("domain")
    if domain and isinstance(domain, str):
        cookie.domain = domain
    path = morsel.get("path")
    if path and isinstance(path, str) and path[0] == "/":
        cookie.path = path
    max_age = morsel.get("max-age")
    if isinstance(max_age, int) and not isinstance(max_age, bool):
        cookie.max_age = max_age
        cookie.max_age_raw = str(max_age)
    elif max_age and isinstance(max_age, str):
        cookie.max_age = _parse_max_age(max_age.strip())
        if cookie.max_age is not None:
            cookie.max_age_raw = max_age
    expires = morsel.get("expires")
    if isinstance(expires, (int, float)) and not isinstance(expires, bool):
        # A number in a Morsel's expires counts seconds from now (as Morsel.OutputString reads it).
        cookie.expires = min(now + expires, _MAX_TIME)
    elif expires and isinstance(expires, str):
        cookie.expires = parse_cookie_date(expires)
        if cookie.expires is not None:
            cookie.expires_raw = expires
    cookie.secure = bool(morsel.get("secure"))
    cookie.httponly = bool(morsel.get("httponly"))
    samesite = morsel.get("samesite")
    if samesite and isinstance(samesite, str):
        cookie.samesite = samesite
    cookie.partitioned = bool(morsel.get("partitioned"))
    return cookie


def _from_value(name: str, value: object) -> _ParsedCookie | None:
    """A cookie given as a plain value (``{"name": "value"}``)."""
    text = value if isinstance(value, str) else str(value)
    if _CONTROL_CHARS.search(text) is not None:
        return None
    return _ParsedCookie(name, text, _encode_value(text))


# --- helpers of the RFC rules --------------------------------------------------------------
@lru_cache(maxsize=512)
def _is_ip_address(host: str) -> bool:
    if not host or (not host[-1].isdigit() and ":" not in host):
        return False  # cheap reject of host names (an IPv4 ends with a digit, IPv6 has ':')
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _default_path(path: str) -> str:
    """RFC 6265 5.1.4: the directory of the request path, ``/`` at the top."""
    if not path or path[0] != "/":
        return "/"
    last_slash = path.rfind("/")
    return "/" if last_slash == 0 else path[:last_slash]


def _path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4: ``cookie_path`` is the request path or a prefix of it ending at ``/``."""
    if not request_path.startswith(cookie_path):
        return False
    return (
        len(request_path) == len(cookie_path)
        or cookie_path[-1] == "/"
        or request_path[len(cookie_path)] == "/"
    )


def _domain_match(host: str, domain: str) -> bool:
    """RFC 6265 5.1.3: ``host`` is ``domain`` or a host name ending in ``.domain``."""
    if host == domain:
        return True
    return host.endswith(domain) and host[-len(domain) - 1] == "." and not _is_ip_address(host)


def _secure_origin_key(origin: str | URL) -> tuple[str, str, int | None]:
    url = URL(origin) if isinstance(origin, str) else origin
    if not url.absolute or not url.raw_host:
        raise ValueError(f"treat_as_secure_origin needs absolute URLs, got {str(origin)!r}")
    return (url.scheme, url.raw_host, url.port)


class _StoredCookie:
    """One cookie in the jar: its morsel (what iteration yields), the index keys, and the bare
    morsel handed out by ``filter_cookies`` (built once, on first use)."""

    __slots__ = (
        "domain",
        "expires_at",
        "host_only",
        "morsel",
        "name",
        "order",
        "outgoing",
        "path",
        "secure",
    )

    def __init__(
        self,
        morsel: CookieMorsel,
        domain: str,
        path: str,
        host_only: bool,
        secure: bool,
        expires_at: float | None,
        sequence: int,
    ) -> None:
        self.morsel = morsel
        self.name = morsel.key
        self.domain = domain
        self.path = path
        self.host_only = host_only
        self.secure = secure
        self.expires_at = expires_at
        # RFC 6265 5.4 step 2: longer paths first, then earlier creation times first.
        self.order = (-len(path), sequence)
        self.outgoing: Morsel[str] | None = None


_by_send_order = attrgetter("order")


class CookieJar(AbstractCookieJar):
    """Cookie storage following RFC 6265 (see the module documentation for the rules).

    ``unsafe``: accept cookies from, and send cookies to, hosts given as IP addresses.
    ``quote_cookie``: send values as received (or quoted like ``SimpleCookie`` when they hold
    characters outside RFC 6265 cookie-octets); when false, values are sent unquoted (for
    servers that do not understand quotes), unless they hold ``;`` or control characters.
    ``treat_as_secure_origin``: a URL, or a list of them, whose origins receive ``Secure``
    cookies although they are not https, e.g. ``"http://127.0.0.1:8080"`` in tests.

    ``save()``/``load()`` use a JSON file, not pickle: loading a pickle can run arbitrary
    code. The format: ``{"format": "aiohyper-cookiejar", "version": 1, "cookies": [...]}``,
    each cookie an object with ``name``, ``value``, ``coded_value``, ``domain``, ``path``,
    ``host_only``, ``secure``, ``httponly``, ``samesite``, ``partitioned``, ``expires`` and
    ``max_age`` (the attribute texts as received) and ``expires_at`` (Unix time or ``null``
    for session cookies), in creation order.
    """

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: str | URL | Sequence[str | URL] | None = None,
        loop: Any = None,
    ) -> None:
        super().__init__(loop=loop)
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        if treat_as_secure_origin is None:
            origins: Sequence[str | URL] = ()
        elif isinstance(treat_as_secure_origin, (str, URL)):
            origins = (treat_as_secure_origin,)
        else:
            origins = treat_as_secure_origin
        self._secure_origins = frozenset(_secure_origin_key(origin) for origin in origins)
        # domain -> {(path, name): cookie}; shared cookies live under the domain "".
        self._cookies: dict[str, dict[tuple[str, str], _StoredCookie]] = {}
        self._count = 0
        # (expires_at, tie-breaker, cookie); entries of replaced cookies go stale and are
        # skipped when popped (the identity check in _expire).
        self._expiry_heap: list[tuple[float, int, _StoredCookie]] = []
        self._sequence = itertools.count()
        #: Wall clock, in Unix seconds (replaceable in tests).
        self._clock: Callable[[], float] = time.time

    @property
    def unsafe(self) -> bool:
        """Whether cookies of IP-address hosts are accepted."""
        return self._unsafe

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        self._expire_due()
        return self._count

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._expire_due()
        for bucket in list(self._cookies.values()):
            for cookie in list(bucket.values()):
                yield cookie.morsel

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """The cookies to send with a request to ``request_url``, in RFC 6265 5.4 order."""
        filtered: BaseCookie[str] = SimpleCookie() if self._quote_cookie else BaseCookie()
        if not self._count:
            return filtered
        heap = self._expiry_heap
        if heap and heap[0][0] <= self._clock():
            self._expire_due()
        cookies = self._cookies
        host = request_url.raw_host
        is_secure = request_url.scheme in _SECURE_SCHEMES or (
            bool(self._secure_origins)
            and (request_url.scheme, host, request_url.port) in self._secure_origins
        )
        request_path = request_url.raw_path or "/"
        matches: list[_StoredCookie] = []

        def collect(bucket: dict[tuple[str, str], _StoredCookie], exact_host: bool) -> None:
            matches.extend(
                cookie
                for cookie in bucket.values()
                if (exact_host or not cookie.host_only)
                and (is_secure or not cookie.secure)
                and _path_match(request_path, cookie.path)
            )

        shared = cookies.get("")
        if shared:
            collect(shared, True)
        if host:
            if _is_ip_address(host):
                if self._unsafe and (bucket := cookies.get(host)):
                    collect(bucket, True)
            else:
                # The host, then each parent domain: "a.b.example.com", "b.example.com", ...
                domain = host
                exact_host = True
                while domain:
                    if bucket := cookies.get(domain):
                        collect(bucket, exact_host)
                    dot = domain.find(".")
                    if dot < 0:
                        break
                    domain = domain[dot + 1 :]
                    exact_host = False
        if len(matches) > 1:
            matches.sort(key=_by_send_order)
        set_morsel = dict.__setitem__
        for cookie in matches:
            if cookie.name not in filtered:
                outgoing = cookie.outgoing
                if outgoing is None:
                    outgoing = cookie.outgoing = self._outgoing_morsel(cookie.morsel)
                set_morsel(filtered, cookie.name, outgoing)
        return filtered

    def _outgoing_morsel(self, stored: Morsel[str]) -> Morsel[str]:
        """A morsel with only the name and value, the way they go into a Cookie header."""
        coded = stored.coded_value
        if not self._quote_cookie:
            value = stored.value
            # Unquoted, unless that would break the header or add a cookie of its own.
            if ";" not in value and _CONTROL_CHARS.search(value) is None:
                coded = value
        return _new_morsel(stored.key, stored.value, coded)

    # -- writing ---------------------------------------------------------------------------
    def update_cookies(self, cookies: LooseCookies, response_url: URL | None = _NO_URL) -> None:
        """Store ``cookies`` received from ``response_url``; without a URL they are shared
        (sent with every request). Accepts a mapping, a ``BaseCookie`` or ``(name, value)``
        pairs, values being strings or ``Morsel`` objects. Entries that break the rules
        (see the module documentation) are skipped."""
        now = self._clock()
        host, default_path = self._origin_of(response_url)
        if host is None and response_url is not None and response_url.raw_host:
            return  # an IP address host, and the jar is not unsafe
        items: Iterable[tuple[str, Any]]
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, BaseCookie):
                for morsel_name, morsel in value.items():
                    self._ingest(_from_morsel(morsel_name, morsel, now), host, default_path, now)
                continue
            if not isinstance(name, str) or not name or _BAD_NAME_CHARS.search(name):
                continue
            if isinstance(value, Morsel):
                parsed = _from_morsel(name, value, now)
            else:
                parsed = _from_value(name, value)
            self._ingest(parsed, host, default_path, now)

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values received from ``response_url``,
        each one parsed on its own: duplicated names are all kept, malformed ones skipped."""
        if not headers:
            return
        host, default_path = self._origin_of(response_url)
        if host is None and response_url.raw_host:
            return
        now = self._clock()
        for header in headers:
            self._ingest(_parse_set_cookie(header), host, default_path, now)

    def _origin_of(self, response_url: URL | None) -> tuple[str | None, str]:
        """``(host, default path)`` of a response; host ``None`` for shared cookies, and for
        IP address hosts when the jar is not unsafe (the callers then store nothing)."""
        if response_url is None:
            return None, "/"
        host = response_url.raw_host
        if not host:
            return None, "/"
        if not self._unsafe and _is_ip_address(host):
            return None, "/"
        return host, _default_path(response_url.raw_path)

    def _ingest(
        self, cookie: _ParsedCookie | None, host: str | None, default_path: str, now: float
    ) -> None:
        """Apply RFC 6265 5.3 to one received cookie and store it (or drop the one it
        replaces, when it is already expired)."""
        if cookie is None or len(cookie.name) + len(cookie.value) > _MAX_NAME_VALUE_SIZE:
            return
        domain = cookie.domain
        if domain:
            domain = domain.lower()
            if domain[0] == ".":
                domain = domain[1:]
        if domain:
            if host is None:
                # Shared cookies for a domain: never a bare top-level domain, an IP only when
                # the jar is unsafe.
                if "." not in domain.strip(".") or (not self._unsafe and _is_ip_address(domain)):
                    return
                host_only = False
            elif "." not in domain.strip(".") or _is_ip_address(domain):
                # A single label ("com") or an IP: only as a host-only cookie of that host.
                if domain != host:
                    return
                host_only = True
            elif _domain_match(host, domain):
                host_only = False
            else:
                return
        elif host is None:
            domain, host_only = "", True
        else:
            domain, host_only = host, True
        path = cookie.path or default_path

        if cookie.max_age is not None:
            expires_at: float | None = (
                float("-inf") if cookie.max_age <= 0 else min(now + cookie.max_age, _MAX_TIME)
            )
        else:
            expires_at = cookie.expires

        bucket = self._cookies.get(domain)
        key = (path, cookie.name)
        old = bucket.get(key) if bucket is not None else None
        if expires_at is not None and expires_at <= now:
            if old is not None:
                self._remove(old)
            return

        morsel = _parsed_to_morsel(cookie)
        morsel["domain"] = domain
        morsel["path"] = path
        # RFC 6265 5.3 step 11.3: a replaced cookie keeps its creation time (its send order).
        sequence = old.order[1] if old is not None else next(self._sequence)
        stored = _StoredCookie(
            morsel, domain, path, host_only, cookie.secure, expires_at, sequence
        )
        if bucket is None:
            bucket = self._cookies[domain] = {}
        if old is None:
            self._count += 1
        bucket[key] = stored
        if expires_at is not None:
            self._schedule(stored, expires_at)

    def _schedule(self, cookie: _StoredCookie, expires_at: float) -> None:
        heap = self._expiry_heap
        heapq.heappush(heap, (expires_at, next(self._sequence), cookie))
        # Cookies refreshed on every response leave stale entries: rebuild when they dominate.
        if len(heap) > 2 * self._count + 64:
            heap[:] = [entry for entry in heap if self._is_stored(entry[2])]
            heapq.heapify(heap)

    def _is_stored(self, cookie: _StoredCookie) -> bool:
        bucket = self._cookies.get(cookie.domain)
        return bucket is not None and bucket.get((cookie.path, cookie.name)) is cookie

    def _remove(self, cookie: _StoredCookie) -> None:
        bucket = self._cookies.get(cookie.domain)
        if bucket is None or bucket.get((cookie.path, cookie.name)) is not cookie:
            return
        del bucket[(cookie.path, cookie.name)]
        if not bucket:
            del self._cookies[cookie.domain]
        self._count -= 1

    def _expire_due(self) -> None:
        heap = self._expiry_heap
        if not heap:
            return
        now = self._clock()
        while heap and heap[0][0] <= now:
            self._remove(heapq.heappop(heap)[2])

    # -- clearing --------------------------------------------------------------------------
    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Remove every cookie, or those for which ``predicate(morsel)`` is true."""
        if predicate is None:
            self._cookies.clear()
            self._expiry_heap.clear()
            self._count = 0
            return
        self._expire_due()
        doomed = [
            cookie
            for bucket in self._cookies.values()
            for cookie in bucket.values()
            if predicate(cookie.morsel)
        ]
        for cookie in doomed:
            self._remove(cookie)

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains (shared cookies stay)."""
        domain = domain.lower().removeprefix(".")
        if not domain:
            return
        suffix = "." + domain
        for name in [d for d in self._cookies if d == domain or d.endswith(suffix)]:
            self._count -= len(self._cookies.pop(name))

    # -- persistence -----------------------------------------------------------------------
    def save(self, file_path: PathLike) -> None:
        """Write the cookies to ``file_path`` as JSON (format in the class documentation)."""
        self._expire_due()
        stored = sorted(
            (cookie for bucket in self._cookies.values() for cookie in bucket.values()),
            key=lambda cookie: cookie.order[1],
        )
        entries = []
        for cookie in stored:
            morsel = cookie.morsel
            entries.append(
                {
                    "name": morsel.key,
                    "value": morsel.value,
                    "coded_value": morsel.coded_value,
                    "domain": cookie.domain,
                    "path": cookie.path,
                    "host_only": cookie.host_only,
                    "secure": cookie.secure,
                    "httponly": bool(morsel["httponly"]),
                    "samesite": morsel["samesite"] or "",
                    "partitioned": bool(morsel["partitioned"]),
                    "expires": morsel["expires"] or "",
                    "max_age": morsel["max-age"] or "",
                    "expires_at": cookie.expires_at,
                }
            )
        document = {"format": "aiohyper-cookiejar", "version": 1, "cookies": entries}
        with open(os.fspath(file_path), "w", encoding="utf-8") as file:
            json.dump(document, file, indent=1)

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's cookies with those saved in ``file_path`` by ``save()``.

        Raises ``ValueError`` when the file is not a saved cookie jar; entries that are not
        valid cookies, and cookies that expired since, are skipped.
        """
        with open(os.fspath(file_path), encoding="utf-8") as file:
            try:
                document = json.load(file)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{os.fspath(file_path)!r} is not a saved cookie jar") from exc
        if (
            not isinstance(document, dict)
            or document.get("format") != "aiohyper-cookiejar"
            or document.get("version") != 1
            or not isinstance(document.get("cookies"), list)
        ):
            raise ValueError(f"{os.fspath(file_path)!r} is not a saved cookie jar")
        self.clear()
        now = self._clock()
        for entry in document["cookies"]:
            if isinstance(entry, dict):
                self._load_entry(entry, now)

    def _load_entry(self, entry: dict[str, Any], now: float) -> None:
        texts = ("name", "value", "coded_value", "domain", "path", "samesite", "expires")
        flags = ("host_only", "secure", "httponly", "partitioned")
        if not all(isinstance(entry.get(field), str) for field in texts) or not all(
            isinstance(entry.get(field), bool) for field in flags
        ):
            return
        expires_at = entry.get("expires_at")
        if expires_at is not None and (
            not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool)
        ):
            return
        name, value, coded = entry["name"], entry["value"], entry["coded_value"]
        domain, path = entry["domain"].lower(), entry["path"]
        max_age = entry.get("max_age", "")
        if (
            not name
            or _BAD_NAME_CHARS.search(name)
            or _CONTROL_CHARS.search(value)
            or not coded
            or _BAD_CODED_CHARS.search(coded)
            or not path.startswith("/")
            or not isinstance(max_age, str)
        ):
            return
        if expires_at is not None and expires_at <= now:
            return
        morsel = _new_morsel(name, value, coded)
        morsel["domain"] = domain
        morsel["path"] = path
        for attribute, field in (("expires", "expires"), ("max-age", "max_age")):
            if entry.get(field):
                morsel[attribute] = entry[field]
        for flag in ("secure", "httponly", "partitioned"):
            if entry[flag]:
                morsel[flag] = True
        if entry["samesite"]:
            morsel["samesite"] = entry["samesite"]
        bucket = self._cookies.setdefault(domain, {})
        key = (path, name)
        old = bucket.get(key)
        sequence = old.order[1] if old is not None else next(self._sequence)
        stored = _StoredCookie(
            morsel, domain, path, entry["host_only"], entry["secure"], expires_at, sequence
        )
        if old is None:
            self._count += 1
        bucket[key] = stored
        if expires_at is not None:
            self._schedule(stored, float(expires_at))


class DummyCookieJar(AbstractCookieJar):
    """A jar that keeps nothing: responses' cookies are dropped, requests get none.

    For crawlers and other clients that must not carry state from one request to the next.
    """

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    @property
    def quote_cookie(self) -> bool:
        return True

    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: LooseCookies, response_url: URL | None = _NO_URL) -> None:
        pass

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        pass

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        return SimpleCookie()
