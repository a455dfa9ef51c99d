"""Type aliases shared by the client and the server (``aiohttp.typedefs``).

"Loose" aliases describe what public APIs accept (anything header- or cookie-like); the code then
normalises once into ``CIMultiDict`` / cookie objects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http.cookies import BaseCookie, Morsel
from typing import Any, Final, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr
from yarl import URL, Query as _Query

from ._http._message import RawHeaders as RawHeaders

__all__ = (
    "DEFAULT_JSON_DECODER",
    "DEFAULT_JSON_ENCODER",
    "Byteish",
    "Handler",
    "JSONDecoder",
    "JSONEncoder",
    "LooseCookies",
    "LooseCookiesIterables",
    "LooseCookiesMappings",
    "LooseHeaders",
    "Middleware",
    "PathLike",
    "Query",
    "RawHeaders",
    "StrOrURL",
)

#: ``dumps``-like callable: object to JSON text.
JSONEncoder: TypeAlias = Callable[[Any], str]
#: ``loads``-like callable: JSON text to object.
JSONDecoder: TypeAlias = Callable[[str], Any]

DEFAULT_JSON_ENCODER: Final[JSONEncoder] = json.dumps
DEFAULT_JSON_DECODER: Final[JSONDecoder] = json.loads

Byteish: TypeAlias = bytes | bytearray | memoryview

#: Anything that can be turned into request/response headers.
LooseHeaders: TypeAlias = (
    Mapping[str, str]
    | Mapping[istr, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | MultiDict[str]
    | MultiDictProxy[str]
    | Iterable[tuple[str | istr, str]]
)

StrOrURL: TypeAlias = str | URL

#: Query strings as yarl accepts them (``params=`` of client requests).
Query: TypeAlias = _Query

_CookieValue: TypeAlias = str | BaseCookie[str] | Morsel[Any]
LooseCookiesMappings: TypeAlias = Mapping[str, _CookieValue]
LooseCookiesIterables: TypeAlias = Iterable[tuple[str, _CookieValue]]
#: Anything that can be turned into cookies (``cookies=`` of sessions and requests).
LooseCookies: TypeAlias = LooseCookiesMappings | LooseCookiesIterables | BaseCookie[str]

PathLike: TypeAlias = str | os.PathLike[str]

# The web layer sits above this module, so request and response are spelled ``Any`` here;
# web code annotates its own handlers with the concrete classes.
#: A request handler: ``async def handler(request) -> StreamResponse``.
Handler: TypeAlias = Callable[[Any], Awaitable[Any]]
#: A middleware: ``async def middleware(request, handler) -> StreamResponse``.
Middleware: TypeAlias = Callable[[Any, Handler], Awaitable[Any]]
