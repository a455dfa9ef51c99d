"""Foundation utilities shared by the client and the server (``aiohttp.helpers``).

Documented names: ``BasicAuth``, ``ChainMapProxy``, ``ContentDisposition``, ``ETag``, the
``HttpVersion`` tuples and ``set_zlib_backend``. The rest are the building blocks the upper
layers are written with. Bigger topics live in private modules re-exported here:
``_helpers_auth`` (credentials, netrc, env proxies), ``_helpers_headers`` (header grammar),
``_helpers_dates`` (HTTP dates) and ``_helpers_timeouts`` (timers).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar, final

from propcache.api import (
    cached_property as cached_property,
    under_cached_property as under_cached_property,
)

from . import hdrs
from ._helpers_auth import (
    BasicAuth as BasicAuth,
    ProxyInfo as ProxyInfo,
    basicauth_from_netrc as basicauth_from_netrc,
    get_env_proxy_for_url as get_env_proxy_for_url,
    netrc_from_env as netrc_from_env,
    proxies_from_env as proxies_from_env,
    strip_auth_from_url as strip_auth_from_url,
)
from ._helpers_dates import (
    format_http_date as format_http_date,
    parse_http_date as parse_http_date,
    rfc822_formatted_time as rfc822_formatted_time,
)
from ._helpers_headers import (
    ETAG_ANY as ETAG_ANY,
    QUOTED_STRING as QUOTED_STRING,
    TOKEN as TOKEN,
    ContentDisposition as ContentDisposition,
    ETag as ETag,
    MimeType as MimeType,
    content_disposition_header as content_disposition_header,
    is_expected_content_type as is_expected_content_type,
    is_token as is_token,
    parse_content_type as parse_content_type,
    parse_etag_list as parse_etag_list,
    parse_mimetype as parse_mimetype,
    quoted_string as quoted_string,
    unquote_string as unquote_string,
    validate_etag_value as validate_etag_value,
)
from ._helpers_timeouts import (
    BaseTimerContext as BaseTimerContext,
    TimeoutHandle as TimeoutHandle,
    TimerContext as TimerContext,
    TimerNoop as TimerNoop,
    calculate_timeout_when as calculate_timeout_when,
    ceil_timeout as ceil_timeout,
)
from ._http._message import (
    HttpVersion as HttpVersion,
    HttpVersion10 as HttpVersion10,
    HttpVersion11 as HttpVersion11,
)
from ._http._zlib import set_zlib_backend as set_zlib_backend

__all__ = (
    "ETAG_ANY",
    "QUOTED_STRING",
    "TOKEN",
    "BaseTimerContext",
    "BasicAuth",
    "ChainMapProxy",
    "ContentDisposition",
    "ETag",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "MimeType",
    "ProxyInfo",
    "Sentinel",
    "TimeoutHandle",
    "TimerContext",
    "TimerNoop",
    "basicauth_from_netrc",
    "cached_property",
    "calculate_timeout_when",
    "ceil_timeout",
    "content_disposition_header",
    "format_http_date",
    "get_env_proxy_for_url",
    "is_expected_content_type",
    "is_token",
    "method_must_be_empty_body",
    "must_be_empty_body",
    "netrc_from_env",
    "parse_content_type",
    "parse_etag_list",
    "parse_http_date",
    "parse_mimetype",
    "proxies_from_env",
    "quoted_string",
    "reify",
    "rfc822_formatted_time",
    "sentinel",
    "set_exception",
    "set_result",
    "set_zlib_backend",
    "should_remove_content_length",
    "status_code_must_be_empty_body",
    "strip_auth_from_url",
    "under_cached_property",
    "unquote_string",
    "validate_etag_value",
)

_T = TypeVar("_T")

#: Cache a computed attribute in the instance's ``_cache`` dict (which the class must define,
#: typically as a slot): the lazy, cached properties of requests and responses.
reify = under_cached_property


class Sentinel(enum.Enum):
    """The type of :data:`sentinel`. Being a one-member enum, ``x is sentinel`` narrows
    ``x: T | Sentinel`` to ``T`` for type checkers."""

    sentinel = enum.auto()

    def __repr__(self) -> str:
        return "sentinel"


#: "Argument not given", where ``None`` is a meaningful value.
sentinel: Final = Sentinel.sentinel
#: aiohttp's spelling of the sentinel's type.
_SENTINEL = Sentinel


# --- Mappings -----------------------------------------------------------------------------------


@final
class ChainMapProxy(Mapping[Any, Any]):
    """A read-only view over several mappings: a key is looked up in each in turn and the first
    hit wins (like :class:`collections.ChainMap`, without the writes). ``request.config_dict``
    is one, over an application and its parents. It cannot be subclassed."""

    __slots__ = ("_maps",)

    def __init__(self, maps: Iterable[Mapping[Any, Any]]) -> None:
        self._maps = tuple(maps)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: Any) -> Any:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        return default

    def __len__(self) -> int:
        return len(set().union(*self._maps))

    def __iter__(self) -> Iterator[Any]:
        # First-seen order across the maps, each key once.
        seen: dict[Any, None] = {}
        for mapping in self._maps:
            seen.update(dict.fromkeys(mapping))
        return iter(seen)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        return f"ChainMapProxy({', '.join(map(repr, self._maps))})"


# --- Message bodies (RFC 9110 §6.4.1, §8.6) ------------------------------------------------------


def method_must_be_empty_body(method: str) -> bool:
    """A response to HEAD never has a body."""
    return method.upper() == hdrs.METH_HEAD


def status_code_must_be_empty_body(code: int) -> bool:
    """1xx, 204 and 304 responses never have a body."""
    return code in (204, 304) or 100 <= code < 200


def must_be_empty_body(method: str, code: int) -> bool:
    """Whether a response with status ``code`` to a ``method`` request has no body, whatever
    its headers say: HEAD, 1xx, 204, 304, and 2xx to CONNECT (the tunnel follows)."""
    # Inlined (called for every response); GET, the common case, needs no upper().
    if code == 204 or code == 304 or 100 <= code < 200:
        return True
    if method == "GET":
        return False
    method = method.upper()
    return method == "HEAD" or (200 <= code < 300 and method == "CONNECT")


def should_remove_content_length(method: str, code: int) -> bool:
    """Whether a server must not send Content-Length: 1xx, 204 and 2xx to CONNECT (RFC 9110
    §8.6), and 304 where it would describe a body we do not send. HEAD keeps it: it tells the
    size a GET would return."""
    return (
        code in (204, 304)
        or 100 <= code < 200
        or (200 <= code < 300 and method.upper() == hdrs.METH_CONNECT)
    )


# --- Futures -------------------------------------------------------------------------------------


def set_result(fut: asyncio.Future[_T], result: _T) -> None:
    """Resolve ``fut`` unless it is already done (e.g. cancelled by a timeout)."""
    if not fut.done():
        fut.set_result(result)


def set_exception(
    fut: asyncio.Future[Any],
    exc: BaseException,
    exc_cause: BaseException | Sentinel = sentinel,
) -> None:
    """Fail ``fut`` with ``exc`` unless it is already done, chaining ``exc_cause`` as the
    ``__cause__`` when given (and not ``exc`` itself)."""
    if fut.done():
        return
    if exc_cause is not sentinel and exc_cause is not exc:
        exc.__cause__ = exc_cause
    fut.set_exception(exc)
