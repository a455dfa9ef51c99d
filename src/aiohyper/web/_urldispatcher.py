"""The default router: resources, routes, match infos and ``UrlDispatcher`` (``aiohttp.web``).

How a request is routed (``UrlDispatcher.resolve``):

1. Every resource is indexed under the fixed part of its path: a plain resource under its whole
   path, a dynamic one under the path up to the ``/`` before its first ``{variable}``, a prefix
   resource (static files, sub-application) under its prefix.
2. The request's path is looked up in that index from the longest prefix to the shortest: for
   ``/a/b/c`` the keys ``/a/b/c``, ``/a/b``, ``/a`` and ``/``. Resources under one key are tried
   in registration order; the first whose path and method match wins. So fixed paths win over
   variable ones (``/a/b`` over ``/a/{x}``), and a longer fixed prefix over a shorter one.
3. Then the domain-matched sub-applications (``Application.add_domain``), in order.
4. Otherwise the match info carries a 405 (some resource matched the path but not the method;
   ``Allow`` lists the methods of all of them) or a 404.

Paths are compared in yarl's ``path_safe`` form: percent-decoded except ``%2F`` and ``%25``, so
an encoded slash never splits a path segment. Values captured by variables are fully decoded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import inspect
import keyword
import os
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import (
    Awaitable,
    Callable,
    Container,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Set as AbstractSet,
    Sized,
)
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast
from urllib.parse import quote, unquote

from yarl import URL

from .. import hdrs
from .._http._message import HttpVersion11
from .._http._writer import StreamWriter
from ..abc import AbstractMatchInfo, AbstractRouter, AbstractView
from ..typedefs import PathLike
from ._exceptions import (
    HTTPException,
    HTTPExpectationFailed,
    HTTPForbidden,
    HTTPMethodNotAllowed,
    HTTPNotFound,
)
from ._fileresponse import FileResponse
from ._response import Response, StreamResponse

if TYPE_CHECKING:
    from ._app import Application
    from ._request import Request

__all__ = (
    "AbstractResource",
    "AbstractRoute",
    "AbstractRuleMatching",
    "Domain",
    "DynamicResource",
    "MaskDomain",
    "MatchInfoError",
    "MatchedSubAppResource",
    "PlainResource",
    "PrefixResource",
    "PrefixedSubAppResource",
    "Resource",
    "ResourceRoute",
    "ResourcesView",
    "RoutesView",
    "StaticResource",
    "SystemRoute",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
)

Handler: TypeAlias = Callable[["Request"], Awaitable[StreamResponse]]
#: What may be registered as a route's handler: a coroutine function or a class based view.
HandlerOrView: TypeAlias = "Handler | type[AbstractView]"
ExpectHandler: TypeAlias = Callable[["Request"], Awaitable[StreamResponse | None]]

# RFC 9110 §5.6.2 token: what a method name may be made of.
_METHOD_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NAME_SPLIT_RE: Final = re.compile(r"[.:-]")
# A "%" that does not start a valid escape is a literal percent sign.
_LONE_PERCENT_RE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_VAR_NAME_RE: Final = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
#: What a ``{name}`` variable matches when no regex is given: one path segment.
_DEFAULT_VAR_RE: Final = r"[^{}/]+"
# Characters left as they are when a path in path_safe form is turned back into a URL path:
# RFC 3986 pchar minus the unreserved set quote() already keeps, plus "/" and "%" (the only
# "%" left in the path_safe form start the %25 and %2F escapes).
_SAFE_PATH_CHARS: Final = "/%!$&'()*+,;=:@"
_NO_METHODS: Final[AbstractSet[str]] = frozenset()


def _to_safe_form(path: str) -> str:
    """Turn a path as a user writes it in a route (percent-escapes allowed) into the
    ``path_safe`` form requests are matched in."""
    if "%" not in path:
        return path
    return URL.build(path=_LONE_PERCENT_RE.sub("%25", path), encoded=True).path_safe


def _quote_safe_form(path: str) -> str:
    """Percent-encode a path in ``path_safe`` form for use as a raw URL path."""
    return quote(path, safe=_SAFE_PATH_CHARS)


def _unquote_safe_form(value: str) -> str:
    """Decode the ``%2F`` and ``%25`` escapes left in a ``path_safe`` string."""
    return unquote(value) if "%" in value else value


async def _default_expect_handler(request: Request) -> None:
    """Answer ``Expect: 100-continue`` with an interim 100 response; refuse other
    expectations with 417 (RFC 9110 §10.1.1)."""
    expect = request.headers.get(hdrs.EXPECT, "")
    if request.version != HttpVersion11:
        # HTTP/1.0 clients do not know 100 Continue; they send the body anyway.
        return
    if expect.lower() != "100-continue":
        # The value may hold undecodable bytes (kept as surrogates): show them escaped.
        shown = expect.encode("utf-8", "backslashreplace").decode("utf-8")
        raise HTTPExpectationFailed(text=f"Unknown Expect: {shown}")
    writer = request._payload_writer
    await writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    await writer.drain()
    if isinstance(writer, StreamWriter):
        # The interim response is not part of the final response's size.
        writer.output_size = 0


# --------------------------------------------------------------------------------------------
# Routes


class AbstractRoute(ABC):
    """A handler for one HTTP method (or ``*``) of a resource."""

    __slots__ = ("_expect_handler", "_handler", "_method", "_resource")

    def __init__(
        self,
        method: str,
        handler: HandlerOrView,
        *,
        expect_handler: ExpectHandler | None = None,
        resource: AbstractResource | None = None,
    ) -> None:
        if expect_handler is None:
            expect_handler = _default_expect_handler
        elif not inspect.iscoroutinefunction(expect_handler):
            raise TypeError(f"expect_handler must be a coroutine function, got {expect_handler!r}")
        method = method.upper()
        if method != hdrs.METH_ANY and not _METHOD_RE.fullmatch(method):
            raise ValueError(f"{method!r} is not an allowed HTTP method")
        self._method = method
        self._handler: Handler = _check_handler(handler)
        self._expect_handler = expect_handler
        self._resource = resource

    @property
    def method(self) -> str:
        """The HTTP method, upper case, or ``*`` for any method."""
        return self._method

    @property
    def handler(self) -> Handler:
        """The handler called for matching requests."""
        return self._handler

    @property
    @abstractmethod
    def name(self) -> str | None:
        """The name of the route's resource."""

    @property
    def resource(self) -> AbstractResource | None:
        """The resource the route belongs to (``None`` for system routes)."""
        return self._resource

    @abstractmethod
    def get_info(self) -> dict[str, Any]:
        """A description of the route's resource."""

    @abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """The URL of the route's resource (see the resource's ``url_for``)."""

    async def handle_expect_header(self, request: Request) -> StreamResponse | None:
        """Run the route's ``Expect`` header handler."""
        return await self._expect_handler(request)


def _check_handler(handler: HandlerOrView) -> Handler:
    """Validate a route handler; wrap a plain function (deprecated) in a coroutine function."""
    if isinstance(handler, type):
        if issubclass(handler, AbstractView):
            # Calling the class builds the view; awaiting the view handles the request.
            return cast("Handler", handler)
        raise TypeError(f"Only AbstractView subclasses can be handlers, got {handler!r}")
    if not callable(handler):
        raise TypeError(f"Handler must be callable, got {handler!r}")
    if inspect.iscoroutinefunction(handler):
        return handler
    warnings.warn(
        f"Handler {handler!r} is not a coroutine function; plain function handlers are "
        "deprecated, use 'async def'",
        DeprecationWarning,
        stacklevel=4,
    )
    function = cast("Callable[[Request], Any]", handler)

    @wraps(function)
    async def handler_wrapper(request: Request) -> StreamResponse:
        result = function(request)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, StreamResponse):
            raise TypeError(f"Handler {function!r} returned {result!r}, not a response")
        return result

    return handler_wrapper


class ResourceRoute(AbstractRoute):
    """The route of a ``Resource``: one method and its handler."""

    __slots__ = ()

    def __init__(
        self,
        method: str,
        handler: HandlerOrView,
        resource: AbstractResource,
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> None:
        super().__init__(method, handler, expect_handler=expect_handler, resource=resource)

    def __repr__(self) -> str:
        return f"<ResourceRoute [{self.method}] {self._resource} -> {self.handler!r}>"

    @property
    def name(self) -> str | None:
        assert self._resource is not None
        return self._resource.name

    def url_for(self, *args: str, **kwargs: str) -> URL:
        assert self._resource is not None
        return self._resource.url_for(*args, **kwargs)

    def get_info(self) -> dict[str, Any]:
        assert self._resource is not None
        return self._resource.get_info()


class SystemRoute(AbstractRoute):
    """The route of a failed resolution: its handler raises the 404 or 405."""

    __slots__ = ("_http_exception",)

    def __init__(self, http_exception: HTTPException) -> None:
        super().__init__(hdrs.METH_ANY, self._handle)
        self._http_exception = http_exception

    def __repr__(self) -> str:
        return f"<SystemRoute {self.status}: {self.reason}>"

    @property
    def name(self) -> None:
        return None

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not allowed for SystemRoute")

    def get_info(self) -> dict[str, Any]:
        return {"http_exception": self._http_exception}

    async def _handle(self, request: Request) -> StreamResponse:
        raise self._http_exception

    @property
    def status(self) -> int:
        """The HTTP status of the failure."""
        return self._http_exception.status

    @property
    def reason(self) -> str:
        """The HTTP reason phrase of the failure."""
        return self._http_exception.reason


# --------------------------------------------------------------------------------------------
# Match info


class UrlMappingMatchInfo(dict[str, str], AbstractMatchInfo):
    """The routing result of ``UrlDispatcher``: the variables captured from the path (it is
    a ``dict``), the matched route and the chain of applications the request went through."""

    __slots__ = ("_apps", "_current_app", "_frozen", "_route")

    def __init__(self, match_dict: dict[str, str], route: AbstractRoute) -> None:
        if match_dict:
            dict.update(self, match_dict)
        self._route = route
        self._apps: tuple[Application, ...] = ()
        self._current_app: Application | None = None
        self._frozen = False

    @property
    def handler(self) -> Handler:
        return self._route.handler

    @property
    def route(self) -> AbstractRoute:
        """The matched route."""
        return self._route

    @property
    def expect_handler(self) -> ExpectHandler:
        return self._route.handle_expect_header

    @property
    def http_exception(self) -> HTTPException | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return self._route.get_info()

    @property
    def apps(self) -> tuple[Application, ...]:
        return self._apps

    def add_app(self, app: Application) -> None:
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        if self._current_app is None:
            # The first app added is the innermost one: the app whose router holds the route.
            self._current_app = app
        self._apps = (app, *self._apps)

    @property
    def current_app(self) -> Application:
        app = self._current_app
        assert app is not None, "no application was added to the match info"
        return app

    @contextmanager
    def set_current_app(self, app: Application) -> Generator[None, None, None]:
        if app not in self._apps:
            raise RuntimeError(f"Expected one of the following apps {self._apps!r}, got {app!r}")
        previous = self._current_app
        self._current_app = app
        try:
            yield
        finally:
            self._current_app = previous

    def freeze(self) -> None:
        self._frozen = True

    def __repr__(self) -> str:
        return f"<MatchInfo {dict.__repr__(self)}: {self._route}>"


class MatchInfoError(UrlMappingMatchInfo):
    """The match info of a request no route accepted; its handler raises ``http_exception``."""

    __slots__ = ("_exception",)

    def __init__(self, http_exception: HTTPException) -> None:
        self._exception = http_exception
        super().__init__({}, SystemRoute(http_exception))

    @property
    def http_exception(self) -> HTTPException:
        return self._exception

    def __repr__(self) -> str:
        return f"<MatchInfoError {self._exception.status}: {self._exception.reason}>"


# --------------------------------------------------------------------------------------------
# Resources

#: What ``AbstractResource.resolve`` returns: the match info (or ``None``) and the methods the
#: resource accepts for that path (empty when the path does not match).
_ResolveResult: TypeAlias = "tuple[UrlMappingMatchInfo | None, AbstractSet[str]]"


class AbstractResource(Sized, Iterable[AbstractRoute]):
    """An entry of the routing table: a path (or prefix) with its routes."""

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name

    @property
    def name(self) -> str | None:
        """The resource's name, used by ``router[name]``, or ``None``."""
        return self._name

    @property
    @abstractmethod
    def canonical(self) -> str:
        """The path or prefix the resource was registered with (variables as ``{name}``)."""

    @abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build the URL of this resource."""

    @abstractmethod
    async def resolve(self, request: Request) -> _ResolveResult:
        """Match ``request``: ``(match_info, allowed_methods)``, ``match_info`` being ``None``
        when the path or the method does not match."""

    @abstractmethod
    def add_prefix(self, prefix: str) -> None:
        """Put ``prefix`` (``/something``, no trailing slash) in front of the resource's path."""

    @abstractmethod
    def get_info(self) -> dict[str, Any]:
        """A description of the resource."""

    def freeze(self) -> None:
        """Refuse any further route (called when the router is frozen)."""

    @abstractmethod
    def raw_match(self, path: str) -> bool:
        """Whether ``path`` is exactly the path the resource was registered with."""


class Resource(AbstractResource):
    """A resource with routes keyed by method (the base of plain and dynamic resources)."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._routes: dict[str, ResourceRoute] = {}
        self._route_list: list[ResourceRoute] = []
        self._any_route: ResourceRoute | None = None
        self._allowed_methods: set[str] = set()
        self._frozen = False

    def add_route(
        self,
        method: str,
        handler: HandlerOrView,
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> ResourceRoute:
        """Add a handler for ``method`` (case-insensitive, or ``*`` for any method).

        Raises ``RuntimeError`` if the method is already handled (the new route could never
        be reached) or the router is frozen.
        """
        route = ResourceRoute(method, handler, self, expect_handler=expect_handler)
        self.register_route(route)
        return route

    def register_route(self, route: ResourceRoute) -> None:
        """Add an already built route (see ``add_route``)."""
        if not isinstance(route, ResourceRoute):
            raise TypeError(f"Instance of ResourceRoute class is required, got {route!r}")
        if self._frozen:
            raise RuntimeError("Cannot add a route to a frozen router")
        method = route.method
        if self._any_route is not None or method in self._routes:
            raise RuntimeError(
                f"Added route will never be executed, method {method} is already registered"
            )
        if method == hdrs.METH_ANY:
            self._any_route = route
        else:
            self._routes[method] = route
        self._route_list.append(route)
        self._allowed_methods.add(method)

    def freeze(self) -> None:
        self._frozen = True

    @abstractmethod
    def _match(self, path: str) -> dict[str, str] | None:
        """The variables captured from ``path`` (in path_safe form), or ``None``."""

    async def resolve(self, request: Request) -> _ResolveResult:
        match_dict = self._match(request.rel_url.path_safe)
        if match_dict is None:
            return None, _NO_METHODS
        route = self._routes.get(request.method) or self._any_route
        if route is None:
            return None, self._allowed_methods
        return UrlMappingMatchInfo(match_dict, route), self._allowed_methods

    def __len__(self) -> int:
        return len(self._route_list)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._route_list)


_RESOURCE_RESOLVE: Final = Resource.resolve


def _check_prefix(prefix: str) -> None:
    if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
        raise ValueError(f"Prefix must start with '/' and must not end with '/': {prefix!r}")


class PlainResource(Resource):
    """A resource with a fixed path, e.g. ``/path/to``."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if path and not path.startswith("/"):
            raise ValueError(f"Path must start with '/' or be empty: {path!r}")
        self._path = _to_safe_form(path)

    @property
    def canonical(self) -> str:
        return self._path

    def add_prefix(self, prefix: str) -> None:
        _check_prefix(prefix)
        self._path = _to_safe_form(prefix) + self._path

    def _match(self, path: str) -> dict[str, str] | None:
        own = self._path
        # An empty path (meant for a sub-application's root) stands for "/" at the top.
        return {} if own == path or (not own and path == "/") else None

    def raw_match(self, path: str) -> bool:
        return self._path == _to_safe_form(path)

    def get_info(self) -> dict[str, Any]:
        return {"path": self._path}

    def url_for(self) -> URL:  # type: ignore[override]
        """The resource's URL (add a query with ``.with_query()``)."""
        return URL.build(path=_quote_safe_form(self._path), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<PlainResource {name}{self._path}>"


class _PathVariable:
    """One ``{name}`` / ``{name:regex}`` part of a dynamic path."""

    __slots__ = ("name", "regex")

    def __init__(self, name: str, regex: str) -> None:
        self.name = name
        self.regex = regex


def _parse_dynamic_path(path: str) -> list[str | _PathVariable]:
    """Split a route path into literal parts (path_safe form) and variables.

    ``{name}`` matches one path segment; ``{name:regex}`` matches ``regex``, which may itself
    contain balanced braces (``{n:\\d{1,3}}``). Raises ``ValueError`` for unbalanced braces or
    a bad variable name.
    """
    parts: list[str | _PathVariable] = []
    literal_start = 0
    i = 0
    n = len(path)
    while i < n:
        char = path[i]
        if char == "}":
            raise ValueError(f"Invalid path {path!r}: unbalanced '}}' at position {i}")
        if char != "{":
            i += 1
            continue
        depth = 1
        j = i + 1
        while j < n and depth:
            if path[j] == "{":
                depth += 1
            elif path[j] == "}":
                depth -= 1
            j += 1
        if depth:
            raise ValueError(f"Invalid path {path!r}: unbalanced '{{' at position {i}")
        if literal_start < i:
            parts.append(_to_safe_form(path[literal_start:i]))
        name, colon, regex = path[i + 1 : j - 1].partition(":")
        if not _VAR_NAME_RE.fullmatch(name):
            raise ValueError(f"Invalid path {path!r}: bad variable name {name!r}")
        if colon and not regex:
            raise ValueError(f"Invalid path {path!r}: empty regex for variable {name!r}")
        parts.append(_PathVariable(name, regex if colon else _DEFAULT_VAR_RE))
        i = literal_start = j
    if literal_start < n:
        parts.append(_to_safe_form(path[literal_start:]))
    return parts


class DynamicResource(Resource):
    """A resource with variable parts, e.g. ``/users/{id:\\d+}/{action}``."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if path and not path.startswith("/"):
            raise ValueError(f"Path must start with '/' or be empty: {path!r}")
        self._orig_path = path
        self._parts = _parse_dynamic_path(path)
        self._variable_patterns: dict[str, re.Pattern[str]] = {}
        regex_parts: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                regex_parts.append(re.escape(part))
                continue
            try:
                self._variable_patterns[part.name] = re.compile(part.regex)
            except re.error as exc:
                raise ValueError(f"Bad pattern {part.regex!r} in path {path!r}: {exc}") from None
            regex_parts.append(f"(?P<{part.name}>{part.regex})")
        try:
            self._pattern = re.compile("".join(regex_parts))
        except re.error as exc:
            raise ValueError(f"Bad pattern in path {path!r}: {exc}") from None

    @property
    def canonical(self) -> str:
        return "".join(p if isinstance(p, str) else f"{{{p.name}}}" for p in self._parts)

    def add_prefix(self, prefix: str) -> None:
        _check_prefix(prefix)
        self._orig_path = prefix + self._orig_path
        prefix = _to_safe_form(prefix)
        if self._parts and isinstance(self._parts[0], str):
            self._parts[0] = prefix + self._parts[0]
        else:
            self._parts.insert(0, prefix)
        self._pattern = re.compile(re.escape(prefix) + self._pattern.pattern)

    def _match(self, path: str) -> dict[str, str] | None:
        match = self._pattern.fullmatch(path)
        if match is None:
            return None
        if "%" not in path:  # nothing to decode in any value
            return match.groupdict("")
        return {
            key: unquote(value) if "%" in value else value
            for key, value in match.groupdict("").items()
        }

    def raw_match(self, path: str) -> bool:
        return self._orig_path == path

    def get_info(self) -> dict[str, Any]:
        return {"formatter": self.canonical, "pattern": self._pattern}

    def url_for(self, **parts: str) -> URL:  # type: ignore[override]
        """The URL with each ``{name}`` replaced by ``parts[name]``.

        Values are percent-encoded; a ``/`` in a value is kept only if the variable's regex
        accepts it (``{tail:.*}``), otherwise it is encoded as ``%2F``. Raises ``KeyError``
        for a missing variable and ``ValueError`` for a value its regex does not match.
        """
        pieces: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                pieces.append(_quote_safe_form(part))
                continue
            if part.name not in parts:
                raise KeyError(f"Missing value for variable {part.name!r} of {self.canonical!r}")
            value: object = parts[part.name]
            if isinstance(value, int):
                value = str(value)
            elif not isinstance(value, str):
                raise TypeError(f"Value of {part.name!r} must be str, got {value!r}")
            pattern = self._variable_patterns[part.name]
            # The path_safe form of the value: as matching would see it in a request.
            safe = value.replace("%", "%25")
            if pattern.fullmatch(safe) is None:
                safe = safe.replace("/", "%2F")
                if pattern.fullmatch(safe) is None:
                    raise ValueError(
                        f"Value {value!r} does not match the pattern {part.regex!r} "
                        f"of variable {part.name!r}"
                    )
            pieces.append(_quote_safe_form(safe))
        return URL.build(path="".join(pieces), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<DynamicResource {name}{self.canonical}>"


class PrefixResource(AbstractResource):
    """A resource serving every path under a prefix (static files, sub-applications)."""

    def __init__(self, prefix: str, *, name: str | None = None) -> None:
        if prefix and (not prefix.startswith("/") or (prefix != "/" and prefix.endswith("/"))):
            raise ValueError(f"Prefix must start with '/' and must not end with '/': {prefix!r}")
        super().__init__(name=name)
        self._prefix = _to_safe_form(prefix.rstrip("/"))
        self._prefix2 = self._prefix + "/"

    @property
    def canonical(self) -> str:
        return self._prefix

    def add_prefix(self, prefix: str) -> None:
        _check_prefix(prefix)
        self._prefix = _to_safe_form(prefix) + self._prefix
        self._prefix2 = self._prefix + "/"

    def raw_match(self, path: str) -> bool:
        return False


class StaticResource(PrefixResource):
    """Serves the files of a directory under a URL prefix (``UrlDispatcher.add_static``).

    A request path never reaches outside the directory: ``..`` (plain or percent-encoded),
    encoded slashes and absolute paths are resolved first and refused (404, 403 for absolute
    paths) when they end up outside; symlinks leading outside are refused unless
    ``follow_symlinks``. Directories answer 403 unless ``show_index``.
    """

    VERSION_KEY: Final = "v"

    def __init__(
        self,
        prefix: str,
        directory: PathLike,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = 256 * 1024,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> None:
        super().__init__(prefix, name=name)
        try:
            resolved = Path(directory).expanduser().resolve(strict=True)
        except FileNotFoundError as exc:
            raise ValueError(f"'{directory}' does not exist") from exc
        if not resolved.is_dir():
            raise ValueError(f"'{directory}' is not a directory")
        self._directory = resolved
        self._chunk_size = chunk_size
        self._show_index = show_index
        self._follow_symlinks = follow_symlinks
        self._append_version = append_version
        self._expect_handler = expect_handler
        self._routes: dict[str, ResourceRoute] = {
            method: ResourceRoute(method, self._handle, self, expect_handler=expect_handler)
            for method in (hdrs.METH_GET, hdrs.METH_HEAD)
        }
        self._allowed_methods: set[str] = set(self._routes)
        # (path, mtime, size) -> content hash, so url_for(append_version=True) reads a file once.
        self._hashes: dict[tuple[Path, int, int], str] = {}

    def url_for(  # type: ignore[override]
        self, filename: PathLike, append_version: bool | None = None
    ) -> URL:
        """The URL of ``filename`` (relative to the directory) under the prefix.

        With ``append_version`` (default: the resource's setting) a ``v=<hash of the file>``
        query is added for cache busting, if the file exists inside the directory.
        """
        if append_version is None:
            append_version = self._append_version
        name = os.fspath(filename).lstrip("/")
        url = URL.build(
            path=_quote_safe_form(self._prefix) + "/" + quote(name, safe="/"), encoded=True
        )
        if not append_version:
            return url
        file_hash = self._file_hash(self._directory / name)
        return url if file_hash is None else url.with_query({self.VERSION_KEY: file_hash})

    def _file_hash(self, unresolved: Path) -> str | None:
        try:
            path = self._resolve_inside(unresolved)
            stat = path.stat()
        except (ValueError, OSError, RuntimeError):
            return None
        if not path.is_file():
            return None
        key = (path, stat.st_mtime_ns, stat.st_size)
        file_hash = self._hashes.get(key)
        if file_hash is None:
            digest = hashlib.sha256(path.read_bytes()).digest()
            file_hash = base64.urlsafe_b64encode(digest).decode("ascii")
            self._hashes[key] = file_hash
        return file_hash

    def get_info(self) -> dict[str, Any]:
        return {"directory": self._directory, "prefix": self._prefix, "routes": self._routes}

    def set_options_route(self, handler: Handler) -> None:
        """Also answer ``OPTIONS`` requests (e.g. CORS preflight) with ``handler``."""
        if hdrs.METH_OPTIONS in self._routes:
            raise RuntimeError("OPTIONS route was set already")
        self._routes[hdrs.METH_OPTIONS] = ResourceRoute(
            hdrs.METH_OPTIONS, handler, self, expect_handler=self._expect_handler
        )
        self._allowed_methods.add(hdrs.METH_OPTIONS)

    async def resolve(self, request: Request) -> _ResolveResult:
        path = request.rel_url.path_safe
        if not path.startswith(self._prefix2) and path != self._prefix:
            return None, _NO_METHODS
        route = self._routes.get(request.method)
        if route is None:
            return None, self._allowed_methods
        filename = _unquote_safe_form(path[len(self._prefix) + 1 :])
        return UrlMappingMatchInfo({"filename": filename}, route), self._allowed_methods

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes.values())

    async def _handle(self, request: Request) -> StreamResponse:
        filename = Path(request.match_info["filename"])
        if filename.anchor:
            # An absolute path ("/static//etc/passwd"): joining it would discard the root.
            raise HTTPForbidden()
        loop = asyncio.get_running_loop()
        response: StreamResponse = await loop.run_in_executor(
            None, self._response_for, self._directory.joinpath(filename)
        )
        return response

    def _resolve_inside(self, unresolved: Path) -> Path:
        """Resolve ``unresolved``; raise ``ValueError`` if it is outside the directory."""
        if self._follow_symlinks:
            # Lexically inside is enough; symlinks may then lead anywhere.
            normalized = Path(os.path.normpath(unresolved))
            normalized.relative_to(self._directory)
            return normalized.resolve()
        resolved = unresolved.resolve()
        resolved.relative_to(self._directory)
        return resolved

    def _response_for(self, unresolved: Path) -> StreamResponse:
        """Build the response for a file path (runs in an executor: it touches the disk)."""
        try:
            path = self._resolve_inside(unresolved)
            is_dir = path.is_dir()
        except PermissionError as exc:
            raise HTTPForbidden() from exc
        except (ValueError, OSError, RuntimeError) as exc:
            # Outside the root, a symlink loop, a NUL byte, a name too long...
            raise HTTPNotFound() from exc
        if is_dir:
            if not self._show_index:
                raise HTTPForbidden()
            try:
                page = self._directory_index(path)
            except PermissionError as exc:
                raise HTTPForbidden() from exc
            return Response(text=page, content_type="text/html")
        return FileResponse(path, chunk_size=self._chunk_size)

    def _directory_index(self, directory: Path) -> str:
        """An HTML list of the entries of ``directory``, names escaped, links quoted."""
        relative = directory.relative_to(self._directory).as_posix()
        title = html.escape("Index of /" + ("" if relative == "." else relative))
        items = []
        for entry in sorted(directory.iterdir()):
            entry_path = entry.relative_to(self._directory).as_posix()
            href = _quote_safe_form(self._prefix) + "/" + quote(entry_path, safe="/")
            label = entry.name + "/" if entry.is_dir() else entry.name
            items.append(f'<li><a href="{html.escape(href)}">{html.escape(label)}</a></li>')
        listing = "\n".join(items)
        return (
            f"<html>\n<head>\n<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
            f"<ul>\n{listing}\n</ul>\n</body>\n</html>"
        )

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<StaticResource {name}{self._prefix} -> {self._directory!r}>"


class PrefixedSubAppResource(PrefixResource):
    """Hands every request under a prefix to a sub-application (``Application.add_subapp``)."""

    def __init__(self, prefix: str, app: Application) -> None:
        super().__init__(prefix)
        self._app = app
        self._add_prefix_to_resources(self._prefix)

    def add_prefix(self, prefix: str) -> None:
        super().add_prefix(prefix)
        self._add_prefix_to_resources(prefix)

    def _add_prefix_to_resources(self, prefix: str) -> None:
        router = self._app.router
        for resource in router.resources():
            # The index key is derived from the path: re-index after changing it.
            router.unindex_resource(resource)
            resource.add_prefix(prefix)
            router.index_resource(resource)

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "prefix": self._prefix}

    async def resolve(self, request: Request) -> _ResolveResult:
        # The router only offers this resource for paths under the prefix: the sub-application
        # owns them, so its answer (even a 404) is final.
        match_info = await self._app.router.resolve(request)
        match_info.add_app(self._app)
        exc = match_info.http_exception
        methods = exc.allowed_methods if isinstance(exc, HTTPMethodNotAllowed) else _NO_METHODS
        return match_info, methods

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<PrefixedSubAppResource {self._prefix} -> {self._app!r}>"


class AbstractRuleMatching(ABC):
    """A rule deciding whether a request belongs to a domain-matched sub-application."""

    @abstractmethod
    async def match(self, request: Request) -> bool:
        """Whether ``request`` matches the rule."""

    @abstractmethod
    def get_info(self) -> dict[str, Any]:
        """A description of the rule."""

    @property
    @abstractmethod
    def canonical(self) -> str:
        """The rule in text form."""


class Domain(AbstractRuleMatching):
    """Matches requests whose ``Host`` is one domain (``example.com``, ``example.com:8080``)."""

    _LABEL_RE: re.Pattern[str] = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        self._domain = self._validate(domain)

    def _validate(self, domain: str) -> str:
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        domain = domain.rstrip(".").lower()
        if not domain:
            raise ValueError("Domain cannot be empty")
        if "://" in domain:
            raise ValueError("Scheme not supported")
        try:
            url = URL("http://" + domain)
            host = url.raw_host
            port = url.port
        except ValueError as exc:
            raise ValueError(f"Domain not valid: {domain!r}") from exc
        if host is None or url.raw_path not in ("", "/") or url.raw_query_string:
            raise ValueError(f"Domain not valid: {domain!r}")
        if not all(self._LABEL_RE.fullmatch(label) for label in host.split(".")):
            raise ValueError(f"Domain not valid: {domain!r}")
        return host if port == 80 else f"{host}:{port}"

    @property
    def canonical(self) -> str:
        return self._domain

    async def match(self, request: Request) -> bool:
        host = request.headers.get(hdrs.HOST)
        if not host:
            return False
        return self.match_domain(host)

    def match_domain(self, host: str) -> bool:
        """Whether a ``Host`` header value matches."""
        return host.lower() == self._domain

    def get_info(self) -> dict[str, Any]:
        return {"domain": self._domain}


class MaskDomain(Domain):
    """Matches ``Host`` against a mask where ``*`` stands for any run of characters
    (``*.example.com``)."""

    _LABEL_RE = re.compile(r"(?!-)[a-z\d*-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        self._mask = re.compile(re.escape(self._domain).replace(r"\*", ".*"))

    @property
    def canonical(self) -> str:
        return self._mask.pattern

    def match_domain(self, host: str) -> bool:
        return self._mask.fullmatch(host.lower()) is not None


class MatchedSubAppResource(PrefixedSubAppResource):
    """Hands requests matching a rule (a domain) to a sub-application
    (``Application.add_domain``)."""

    def __init__(self, rule: AbstractRuleMatching, app: Application) -> None:
        AbstractResource.__init__(self)
        self._prefix = ""
        self._prefix2 = "/"
        self._app = app
        self._rule = rule

    @property
    def canonical(self) -> str:
        return self._rule.canonical

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "rule": self._rule}

    async def resolve(self, request: Request) -> _ResolveResult:
        if not await self._rule.match(request):
            return None, _NO_METHODS
        return await super().resolve(request)

    def __repr__(self) -> str:
        return f"<MatchedSubAppResource -> {self._app!r}>"


# --------------------------------------------------------------------------------------------
# Router


class ResourcesView(Sized, Iterable[AbstractResource], Container[AbstractResource]):
    """A read-only view of the router's resources, in registration order."""

    __slots__ = ("_resources",)

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._resources = resources

    def __len__(self) -> int:
        return len(self._resources)

    def __iter__(self) -> Iterator[AbstractResource]:
        return iter(self._resources)

    def __contains__(self, resource: object) -> bool:
        return resource in self._resources


class RoutesView(Sized, Iterable[AbstractRoute], Container[AbstractRoute]):
    """A read-only snapshot of the router's routes, in registration order."""

    __slots__ = ("_routes",)

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._routes: list[AbstractRoute] = [route for resource in resources for route in resource]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes)

    def __contains__(self, route: object) -> bool:
        return route in self._routes


class UrlDispatcher(AbstractRouter, Mapping[str, AbstractResource]):
    """The default router. As a mapping it gives the named resources (``router["name"]``)."""

    def __init__(self) -> None:
        super().__init__()
        self._resources: list[AbstractResource] = []
        self._named_resources: dict[str, AbstractResource] = {}
        # Index key (the fixed prefix of the path) -> resources in registration order.
        self._resource_index: dict[str, list[AbstractResource]] = {}
        self._matched_sub_app_resources: list[MatchedSubAppResource] = []

    async def resolve(self, request: Request) -> UrlMappingMatchInfo:
        """Route ``request`` (see the module docstring). Never raises: a failure is a
        ``MatchInfoError`` whose handler raises ``HTTPNotFound``/``HTTPMethodNotAllowed``."""
        index = self._resource_index
        allowed: set[str] | None = None
        part = request.rel_url.path_safe
        while True:
            candidates = index.get(part)
            if candidates is not None:
                for resource in candidates:
                    match_info, methods = await resource.resolve(request)
                    if match_info is not None:
                        return match_info
                    if methods:
                        allowed = set(methods) if allowed is None else allowed | methods
            if part == "/" or not part:
                break
            part = part.rpartition("/")[0] or "/"
        for resource in self._matched_sub_app_resources:
            match_info, methods = await resource.resolve(request)
            if match_info is not None:
                return match_info
            if methods:
                allowed = set(methods) if allowed is None else allowed | methods
        if allowed:
            return MatchInfoError(HTTPMethodNotAllowed(request.method, allowed))
        return MatchInfoError(HTTPNotFound())

    def _resolve_now(self, request: Request) -> UrlMappingMatchInfo | None:
        """`resolve` without awaiting anything, for the resources that allow it (plain and
        dynamic ones): the same result, or ``None`` when it meets a resource that must be
        awaited (static files, sub-applications, custom resources), for `resolve` to do it.
        """
        index = self._resource_index
        if request._plain_head:
            # request.rel_url and request.method, without their property calls.
            message = request._message
            url = message.url
            path = (url.relative() if url.absolute else url).path_safe
            method = message.method
        else:
            path = request.rel_url.path_safe
            method = request.method
        allowed: set[str] | None = None
        part = path
        while True:
            candidates = index.get(part)
            if candidates is not None:
                for resource in candidates:
                    if type(resource).resolve is not _RESOURCE_RESOLVE:
                        return None
                    res: Any = resource  # a Resource (no isinstance(): an ABC check is slow)
                    match_dict = res._match(path)
                    if match_dict is None:
                        continue
                    route = res._routes.get(method) or res._any_route
                    if route is not None:
                        return UrlMappingMatchInfo(match_dict, route)
                    methods = res._allowed_methods
                    allowed = set(methods) if allowed is None else allowed | methods
            if part == "/" or not part:
                break
            part = part.rpartition("/")[0] or "/"
        if self._matched_sub_app_resources:
            return None
        if allowed:
            return MatchInfoError(HTTPMethodNotAllowed(method, allowed))
        return MatchInfoError(HTTPNotFound())

    # Mapping of named resources

    def __iter__(self) -> Iterator[str]:
        return iter(self._named_resources)

    def __len__(self) -> int:
        return len(self._named_resources)

    def __contains__(self, resource: object) -> bool:
        return resource in self._named_resources

    def __getitem__(self, name: str) -> AbstractResource:
        return self._named_resources[name]

    def resources(self) -> ResourcesView:
        """All resources, in registration order."""
        return ResourcesView(self._resources)

    def routes(self) -> RoutesView:
        """All routes, in registration order."""
        return RoutesView(self._resources)

    def named_resources(self) -> Mapping[str, AbstractResource]:
        """A read-only mapping of the named resources."""
        return MappingProxyType(self._named_resources)

    # Registration

    def _check_not_frozen(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")

    def register_resource(self, resource: AbstractResource) -> None:
        """Add a resource (built-in or custom) at the end of the routing table.

        Raises ``ValueError`` for a name that is not dotted/dashed identifiers or is taken,
        ``RuntimeError`` if the router is frozen.
        """
        if not isinstance(resource, AbstractResource):
            raise TypeError(f"Instance of AbstractResource class is required, got {resource!r}")
        self._check_not_frozen()
        name = resource.name
        if name is not None:
            for part in _NAME_SPLIT_RE.split(name):
                if keyword.iskeyword(part):
                    raise ValueError(
                        f"Incorrect route name {name!r}, python keywords cannot be used "
                        "for route name"
                    )
                if not part.isidentifier():
                    raise ValueError(
                        f"Incorrect route name {name!r}, the name should be a sequence of "
                        "python identifiers separated by dash, dot or column"
                    )
            if name in self._named_resources:
                raise ValueError(
                    f"Duplicate {name!r}, already handled by {self._named_resources[name]!r}"
                )
            self._named_resources[name] = resource
        self._resources.append(resource)
        if isinstance(resource, MatchedSubAppResource):
            self._matched_sub_app_resources.append(resource)
        else:
            self.index_resource(resource)

    @staticmethod
    def _index_key(resource: AbstractResource) -> str:
        key = resource.canonical
        brace = key.find("{")
        if brace != -1:
            # Up to (excluding) the "/" before the first variable.
            key = key[:brace].rpartition("/")[0]
        elif isinstance(resource, PrefixResource):
            key = key.rstrip("/")
        return key or "/"

    def index_resource(self, resource: AbstractResource) -> None:
        """Put ``resource`` in the lookup index (after registering or re-prefixing it)."""
        if isinstance(resource, MatchedSubAppResource):
            return  # not indexed by path: tried after the index, see resolve()
        self._resource_index.setdefault(self._index_key(resource), []).append(resource)

    def unindex_resource(self, resource: AbstractResource) -> None:
        """Take ``resource`` out of the lookup index (before changing its path)."""
        if isinstance(resource, MatchedSubAppResource):
            return
        key = self._index_key(resource)
        bucket = self._resource_index[key]
        bucket.remove(resource)
        if not bucket:
            del self._resource_index[key]

    def add_resource(self, path: str, *, name: str | None = None) -> Resource:
        """Add a resource for ``path`` (fixed, or with ``{variables}``) and return it.

        Consecutive calls with the same path and name return the same resource, so that
        ``add_get(p, ...)`` followed by ``add_post(p, ...)`` share one.
        """
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        self._check_not_frozen()
        if self._resources:
            last = self._resources[-1]
            if isinstance(last, Resource) and last.name == name and last.raw_match(path):
                return last
        resource: Resource
        if "{" in path or "}" in path:
            resource = DynamicResource(path, name=name)
        else:
            resource = PlainResource(path, name=name)
        self.register_resource(resource)
        return resource

    def add_route(
        self,
        method: str,
        path: str,
        handler: HandlerOrView,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        """Add ``handler`` for ``method`` (or ``*``) on ``path``; returns the new route."""
        resource = self.add_resource(path, name=name)
        return resource.add_route(method, handler, expect_handler=expect_handler)

    def add_head(self, path: str, handler: HandlerOrView, **kwargs: Any) -> AbstractRoute:
        """Shortcut for ``add_route("HEAD", path, handler, **kwargs)``."""
        return self.add_route(hdrs.METH_HEAD, path, handler, **kwargs)

    def add_options(self, path: str, handler: HandlerOrView, **kwargs: Any) -> AbstractRoute:
        """Shortcut for ``add_route("OPTIONS", path, handler, **kwargs)``."""
        return self.add_route(hdrs.METH_OPTIONS, path, handler, **kwargs)

    def add_get(
        self,
        path: str,
        handler: HandlerOrView,
        *,
        name: str | None = None,
        allow_head: bool = True,
        **kwargs: Any,
    ) -> AbstractRoute:
        """Add a GET route (and, with ``allow_head``, a HEAD route with the same handler on
        the same resource); returns the GET route."""
        resource = self.add_resource(path, name=name)
        if allow_head:
            resource.add_route(hdrs.METH_HEAD, handler, **kwargs)
        return resource.add_route(hdrs.METH_GET, handler, **kwargs)

    def add_post(self, path: str, handler: HandlerOrView, **kwargs: Any) -> AbstractRoute:
        """Shortcut for ``add_route("POST", path, handler, **kwargs)``."""
        return self.add_route(hdrs.METH_POST, path, handler, **kwargs)

    def add_put(self, path: str, handler: HandlerOrView, **kwargs: Any) -> AbstractRoute:
        """Shortcut for ``add_route("PUT", path, handler, **kwargs)``."""
        return self.add_route(hdrs.METH_PUT, path, handler, **kwargs)

    def add_patch(self, path: str, handler: HandlerOrView, **kwargs: Any) -> AbstractRoute:
        """Shortcut for ``add_route("PATCH", path, handler, **kwargs)``."""
        return self.add_route(hdrs.METH_PATCH, path, handler, **kwargs)

    def add_delete(self, path: str, handler: HandlerOrView, **kwargs: Any) -> AbstractRoute:
        """Shortcut for ``add_route("DELETE", path, handler, **kwargs)``."""
        return self.add_route(hdrs.METH_DELETE, path, handler, **kwargs)

    def add_view(
        self, path: str, handler: type[AbstractView] | Handler, **kwargs: Any
    ) -> AbstractRoute:
        """Add a class based view (a route for any method) on ``path``."""
        return self.add_route(hdrs.METH_ANY, path, handler, **kwargs)

    def add_static(
        self,
        prefix: str,
        path: PathLike,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = 256 * 1024,
        response_factory: Any = None,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> StaticResource:
        """Serve the files of directory ``path`` under URL ``prefix``; returns the resource.

        ``response_factory`` is accepted for compatibility and ignored. Raises ``ValueError``
        if ``path`` is not an existing directory.
        """
        del response_factory
        if not prefix.startswith("/"):
            raise ValueError(f"Prefix must start with '/': {prefix!r}")
        resource = StaticResource(
            prefix.rstrip("/"),
            path,
            name=name,
            expect_handler=expect_handler,
            chunk_size=chunk_size,
            show_index=show_index,
            follow_symlinks=follow_symlinks,
            append_version=append_version,
        )
        self.register_resource(resource)
        return resource

    def add_routes(self, routes_table: Iterable[Any]) -> list[AbstractRoute]:
        """Register route definitions (``RouteDef``, ``StaticDef`` or a ``RouteTableDef``);
        returns the registered routes."""
        registered: list[AbstractRoute] = []
        for route_def in routes_table:
            registered.extend(route_def.register(self))
        return registered

    def freeze(self) -> None:
        super().freeze()
        for resource in self._resources:
            resource.freeze()
