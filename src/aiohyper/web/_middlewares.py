"""Middleware helpers: the ``@middleware`` marker and ``normalize_path_middleware``.

A middleware is ``async def mw(request, handler) -> StreamResponse``; the application chains
them (see ``Application``), nothing else is needed to write one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeAlias, TypeVar

from yarl import URL

from ._exceptions import HTTPMove, HTTPPermanentRedirect

if TYPE_CHECKING:
    from ._request import Request
    from ._response import StreamResponse

__all__ = ("middleware", "normalize_path_middleware")

Handler: TypeAlias = Callable[["Request"], Awaitable["StreamResponse"]]
Middleware: TypeAlias = Callable[["Request", Handler], Awaitable["StreamResponse"]]

_F = TypeVar("_F", bound=Callable[..., object])
_SLASHES: Final = re.compile(r"//+")
_LEADING_SLASHES: Final = re.compile(r"^//+")


def middleware(f: _F) -> _F:
    """Mark ``f`` as a middleware. Kept for compatibility: every
    ``async def mw(request, handler)`` is a middleware, decorated or not."""
    try:
        f.__middleware_version__ = 1  # type: ignore[attr-defined]
    except AttributeError:
        pass  # bound methods and builtins cannot carry the marker; they need none
    return f


def normalize_path_middleware(
    *,
    append_slash: bool = True,
    remove_slash: bool = False,
    merge_slashes: bool = True,
    redirect_class: type[HTTPMove] = HTTPPermanentRedirect,
) -> Middleware:
    """Build a middleware that redirects requests no route accepts to a normalized path
    that one does: slashes merged (``merge_slashes``), a trailing slash added
    (``append_slash``) or removed (``remove_slash``), or both, tried in that order.

    The redirect (``redirect_class``, 308 by default) keeps the query string. Raises
    ``AssertionError`` if both ``append_slash`` and ``remove_slash`` are set.
    """
    if append_slash and remove_slash:
        raise AssertionError("Cannot both remove and append slash")

    async def normalize_path(request: Request, handler: Handler) -> StreamResponse:
        if request.match_info.http_exception is not None:
            url = request.rel_url
            path = url.raw_path
            merged = _SLASHES.sub("/", path)
            candidates: list[str] = []
            if merge_slashes:
                candidates.append(merged)
            if append_slash and not path.endswith("/"):
                candidates.append(path + "/")
            if remove_slash and path.endswith("/"):
                candidates.append(path[:-1])
            if merge_slashes and append_slash and not merged.endswith("/"):
                candidates.append(merged + "/")
            if merge_slashes and remove_slash and merged.endswith("/"):
                candidates.append(merged[:-1])
            router = request.app.router
            for candidate in candidates:
                # "//host/..." would be a protocol-relative Location: an open redirect.
                candidate = _LEADING_SLASHES.sub("/", candidate)
                if not candidate or candidate == path:
                    continue
                new_url = URL.build(
                    path=candidate, query_string=url.raw_query_string, encoded=True
                )
                match_info = await router.resolve(request.clone(rel_url=new_url))
                if match_info.http_exception is None:
                    raise redirect_class(str(new_url))
        return await handler(request)

    return middleware(normalize_path)
