"""Route definitions: routes described before there is a router to add them to.

``web.get("/path", handler)`` and friends build ``RouteDef``s (Django style lists);
``RouteTableDef`` collects them with decorators (Flask style). Both go to
``app.add_routes(...)`` / ``router.add_routes(...)``, which calls each definition's
``register(router)``.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .. import hdrs
from ..abc import AbstractView
from ..typedefs import PathLike

if TYPE_CHECKING:
    from ._urldispatcher import AbstractRoute, HandlerOrView, UrlDispatcher

__all__ = (
    "AbstractRouteDef",
    "RouteDef",
    "RouteTableDef",
    "StaticDef",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "static",
    "view",
)

_HandlerT = TypeVar("_HandlerT", bound=Callable[..., Any])


class AbstractRouteDef(abc.ABC):
    """Something ``add_routes`` can register into a router."""

    @abc.abstractmethod
    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        """Add the definition to ``router``; return the routes added."""


@dataclasses.dataclass(frozen=True, repr=False, slots=True)
class RouteDef(AbstractRouteDef):
    """A route to be added: ``method`` (or ``*``), ``path``, ``handler`` and the keyword
    arguments of the router's ``add_*`` method (``name``, ``expect_handler``...)."""

    method: str
    path: str
    handler: HandlerOrView
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        info = "".join(f", {key}={value!r}" for key, value in sorted(self.kwargs.items()))
        name = getattr(self.handler, "__name__", repr(self.handler))
        return f"<RouteDef {self.method} {self.path} -> {name!r}{info}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        method = self.method.upper()
        # The add_* shortcut where there is one, so that GET gets its HEAD route (allow_head).
        add = getattr(router, "add_" + method.lower(), None) if method in hdrs.METH_ALL else None
        if add is not None:
            return [add(self.path, self.handler, **self.kwargs)]
        return [router.add_route(method, self.path, self.handler, **self.kwargs)]


@dataclasses.dataclass(frozen=True, repr=False, slots=True)
class StaticDef(AbstractRouteDef):
    """A static files directory to be served: URL ``prefix``, directory ``path`` and the
    options of ``UrlDispatcher.add_static``."""

    prefix: str
    path: PathLike
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        info = "".join(f", {key}={value!r}" for key, value in sorted(self.kwargs.items()))
        return f"<StaticDef {self.prefix} -> {self.path}{info}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        resource = router.add_static(self.prefix, self.path, **self.kwargs)
        return list(resource)


def route(method: str, path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A route for ``method`` (or ``*`` for any); see ``UrlDispatcher.add_route``."""
    return RouteDef(method, path, handler, kwargs)


def head(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A HEAD route."""
    return route(hdrs.METH_HEAD, path, handler, **kwargs)


def options(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """An OPTIONS route."""
    return route(hdrs.METH_OPTIONS, path, handler, **kwargs)


def get(
    path: str,
    handler: HandlerOrView,
    *,
    name: str | None = None,
    allow_head: bool = True,
    **kwargs: Any,
) -> RouteDef:
    """A GET route, plus a HEAD route for the same handler unless ``allow_head`` is false."""
    return route(hdrs.METH_GET, path, handler, name=name, allow_head=allow_head, **kwargs)


def post(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A POST route."""
    return route(hdrs.METH_POST, path, handler, **kwargs)


def put(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A PUT route."""
    return route(hdrs.METH_PUT, path, handler, **kwargs)


def patch(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A PATCH route."""
    return route(hdrs.METH_PATCH, path, handler, **kwargs)


def delete(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A DELETE route."""
    return route(hdrs.METH_DELETE, path, handler, **kwargs)


def view(path: str, handler: type[AbstractView], **kwargs: Any) -> RouteDef:
    """A class based view, for any method."""
    return route(hdrs.METH_ANY, path, handler, **kwargs)


def static(prefix: str, path: PathLike, **kwargs: Any) -> StaticDef:
    """Serve the files of directory ``path`` under ``prefix``; see
    ``UrlDispatcher.add_static`` for the options."""
    return StaticDef(prefix, path, kwargs)


class RouteTableDef(Sequence[AbstractRouteDef]):
    """A list of route definitions filled with decorators: ``@routes.get("/")`` on a handler
    adds a GET route for it; then ``app.add_routes(routes)``."""

    def __init__(self) -> None:
        self._items: list[AbstractRouteDef] = []

    def __repr__(self) -> str:
        return f"<RouteTableDef count={len(self._items)}>"

    @overload
    def __getitem__(self, index: int) -> AbstractRouteDef: ...

    @overload
    def __getitem__(self, index: slice) -> list[AbstractRouteDef]: ...

    def __getitem__(self, index: int | slice) -> AbstractRouteDef | list[AbstractRouteDef]:
        return self._items[index]

    def __iter__(self) -> Iterator[AbstractRouteDef]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def route(self, method: str, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator: register the decorated handler for ``method`` on ``path``."""

        def inner(handler: _HandlerT) -> _HandlerT:
            self._items.append(RouteDef(method, path, handler, kwargs))
            return handler

        return inner

    def head(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a HEAD handler."""
        return self.route(hdrs.METH_HEAD, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a GET handler (``allow_head=True`` adds HEAD too)."""
        return self.route(hdrs.METH_GET, path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a POST handler."""
        return self.route(hdrs.METH_POST, path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a PUT handler."""
        return self.route(hdrs.METH_PUT, path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a PATCH handler."""
        return self.route(hdrs.METH_PATCH, path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a DELETE handler."""
        return self.route(hdrs.METH_DELETE, path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for an OPTIONS handler."""
        return self.route(hdrs.METH_OPTIONS, path, **kwargs)

    def view(self, path: str, **kwargs: Any) -> Callable[[_HandlerT], _HandlerT]:
        """Decorator for a class based view (any method)."""
        return self.route(hdrs.METH_ANY, path, **kwargs)

    def static(self, prefix: str, path: PathLike, **kwargs: Any) -> None:
        """Add a static files directory (not a decorator)."""
        self._items.append(StaticDef(prefix, path, kwargs))
