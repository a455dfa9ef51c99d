"""``Application``: the router, middlewares, signals and shared state of a web application.

Lifecycle: an application is built (routes, middlewares, signal handlers, state), then frozen
when it starts serving (``AppRunner.setup`` → ``freeze()``); from then on its router, middleware
list, signals and state refuse changes with ``RuntimeError``. A sub-application is pre-frozen
(router, middlewares, signals) as soon as it is added, and frozen with its parent.

Request path (``_handle``): ``router.resolve(request)`` → match info (its ``apps`` are the
applications the request went through, outermost first) → ``Expect`` handling → the
middlewares of those applications, outermost application first, each application's in list
order → the handler. Middleware chains are built once per (handler, apps) and cached.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from functools import partial
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeAlias, TypeVar, cast, final, overload

from aiosignal import Signal
from frozenlist import FrozenList

from .. import hdrs
from .._http._message import RawRequestMessage
from ..abc import (
    AbstractAccessLogger,
    AbstractMatchInfo,
    AbstractRouter,
    AbstractStreamWriter,
)
from ..log import web_logger
from ..streams import StreamReader
from ._request import Request
from ._urldispatcher import (
    AbstractRoute,
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
    ResourceRoute,
    UrlDispatcher,
    UrlMappingMatchInfo,
)

if TYPE_CHECKING:
    from ._protocol import RequestHandler
    from ._response import StreamResponse
    from ._server import Server

__all__ = ("AppKey", "Application", "CleanupError", "NotAppKeyWarning")

_T = TypeVar("_T")
_U = TypeVar("_U")
Handler: TypeAlias = Callable[[Request], Awaitable["StreamResponse"]]
Middleware: TypeAlias = Callable[[Request, Handler], Awaitable["StreamResponse"]]
#: An entry of ``cleanup_ctx``: an async generator function with a single ``yield`` (or a
#: function returning an async context manager).
_CleanupCtx: TypeAlias = Callable[
    ["Application"], "AsyncIterator[None] | AbstractAsyncContextManager[None]"
]

# Cached middleware chains per root application; cleared when full (a custom router could
# produce a new handler per request).
_CHAIN_CACHE_SIZE: Final = 4096


class NotAppKeyWarning(UserWarning):
    """A plain ``str`` was used as an ``Application`` key; use an ``AppKey``."""


@final
class AppKey(Generic[_T]):
    """A typed key for ``Application`` state: ``app[key]`` has the type ``_T`` for type
    checkers, and two keys never clash even with the same name.

    ``name`` is for debugging (it is prefixed with the defining module); ``t`` is the value
    type, optional when the key is written ``AppKey[int]("name")``.
    """

    __slots__ = ("__orig_class__", "_name", "_t")

    def __init__(self, name: str, t: type[_T] | None = None) -> None:
        # Prefix the name with the module creating the key (``AppKey[int](...)`` calls
        # through the typing module: skip it).
        frame = sys._getframe(1)
        while frame.f_back is not None and frame.f_globals.get("__name__") == "typing":
            frame = frame.f_back
        module = frame.f_globals.get("__name__", "<unknown>")
        del frame
        self._name = f"{module}.{name}"
        self._t = t

    def __lt__(self, other: object) -> bool:
        # Sort keys among themselves by name, and before keys of other types.
        if isinstance(other, AppKey):
            return self._name < other._name
        return True

    def __repr__(self) -> str:
        t: Any = self._t
        if t is None:
            orig = getattr(self, "__orig_class__", None)
            args = getattr(orig, "__args__", ())
            t = args[0] if args else None
        if t is None:
            t_repr = "<<Unknown>>"
        elif isinstance(t, type):
            t_repr = (
                t.__qualname__
                if t.__module__ == "builtins"
                else f"{t.__module__}.{t.__qualname__}"
            )
        else:
            t_repr = repr(t)
        return f"<AppKey({self._name}, type={t_repr})>"


class CleanupError(RuntimeError):
    """Several ``cleanup_ctx`` entries failed while cleaning up; ``exceptions`` has them all."""

    @property
    def exceptions(self) -> list[BaseException]:
        return cast("list[BaseException]", self.args[1])


class CleanupContext(FrozenList[_CleanupCtx]):
    """The ``cleanup_ctx`` list: runs the startup halves in order on ``on_startup`` and the
    cleanup halves in reverse order on ``on_cleanup``, only for entries whose startup
    completed."""

    def __init__(self) -> None:
        super().__init__()
        self._exits: list[AsyncIterator[None] | AbstractAsyncContextManager[None]] = []

    async def _on_startup(self, app: Application) -> None:
        for factory in self:
            ctx = factory(app)
            if hasattr(ctx, "__aenter__"):
                await cast("AbstractAsyncContextManager[None]", ctx).__aenter__()
            else:
                await ctx.__anext__()
            self._exits.append(ctx)

    async def _on_cleanup(self, app: Application) -> None:
        errors: list[BaseException] = []
        exits, self._exits = self._exits, []
        for ctx in reversed(exits):
            try:
                if hasattr(ctx, "__aexit__"):
                    exit_ctx = cast("AbstractAsyncContextManager[None]", ctx)
                    await exit_ctx.__aexit__(None, None, None)
                    continue
                await ctx.__anext__()
            except StopAsyncIteration:
                pass
            except (Exception, asyncio.CancelledError) as exc:
                errors.append(exc)
            else:
                errors.append(RuntimeError(f"{ctx!r} has more than one 'yield'"))
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise CleanupError("Multiple errors on cleanup stage", errors)


class _SetCurrentApp:
    """The step put before an application's middlewares in a chain, so that
    ``request.app`` is that application while they run."""

    __slots__ = ("_app",)

    def __init__(self, app: Application) -> None:
        self._app = app

    async def __call__(self, request: Request, handler: Handler) -> StreamResponse:
        match_info: AbstractMatchInfo = request.match_info
        if isinstance(match_info, UrlMappingMatchInfo):
            previous = match_info._current_app
            match_info._current_app = self._app
            try:
                return await handler(request)
            finally:
                match_info._current_app = previous
        with match_info.set_current_app(self._app):
            return await handler(request)


class Application(MutableMapping[str | AppKey[Any], Any]):
    """A web application: router, middlewares, lifecycle signals and shared state.

    The state is a mapping; use ``AppKey`` keys (plain ``str`` keys warn with
    ``NotAppKeyWarning``). ``handler_args`` are extra keyword arguments for the server
    (see ``AppRunner``); ``client_max_size`` limits request bodies read by ``Request.read()``.
    ``router`` replaces the default ``UrlDispatcher`` with any ``AbstractRouter`` (abc.rst;
    deprecated, as in aiohttp 3); sub-applications and ``add_routes`` need a
    ``UrlDispatcher``. ``loop`` and ``debug`` are deprecated and only kept for compatibility.
    """

    def __init__(
        self,
        *,
        logger: logging.Logger = web_logger,
        router: AbstractRouter | None = None,
        middlewares: Iterable[Middleware] = (),
        handler_args: Mapping[str, Any] | None = None,
        client_max_size: int = 1024**2,
        loop: asyncio.AbstractEventLoop | None = None,
        debug: bool | EllipsisType = ...,
    ) -> None:
        if loop is not None:
            warnings.warn("loop argument is deprecated", DeprecationWarning, stacklevel=2)
        if debug is not ...:
            warnings.warn("debug argument is deprecated", DeprecationWarning, stacklevel=2)
        self._debug = bool(debug) if debug is not ... else False
        self._loop = loop
        if router is None:
            router = UrlDispatcher()
        else:
            warnings.warn("router argument is deprecated", DeprecationWarning, stacklevel=2)
            if not isinstance(router, AbstractRouter):
                raise TypeError(f"router must be an AbstractRouter, got {router!r}")
        self._state: dict[str | AppKey[Any], Any] = {}
        # Typed as the default router: its extra API (add_route...) is what users call.
        self._router = cast(UrlDispatcher, router)
        self._handler_args = handler_args
        self._logger = logger
        self._middlewares: FrozenList[Middleware] = FrozenList(middlewares)
        self._run_middlewares = False
        self._chain_cache: dict[tuple[Handler, tuple[Application, ...]], Handler] = {}
        self._frozen = False
        self._pre_frozen = False
        # Whether on_response_prepare is empty (known once frozen).
        self._no_prepare_signal = False
        # The router's synchronous resolution, when it is the default one (set when frozen).
        self._resolve_now: Callable[[Request], UrlMappingMatchInfo | None] | None = None
        self._subapps: list[Application] = []
        self._on_response_prepare: Signal[Request, StreamResponse] = Signal(self)
        self._on_startup: Signal[Application] = Signal(self)
        self._on_shutdown: Signal[Application] = Signal(self)
        self._on_cleanup: Signal[Application] = Signal(self)
        self._cleanup_ctx = CleanupContext()
        self._on_startup.append(self._cleanup_ctx._on_startup)
        self._on_cleanup.append(self._cleanup_ctx._on_cleanup)
        self._client_max_size = client_max_size
        self._router.post_init(self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        warnings.warn(
            f"Inheritance class {cls.__name__} from web.Application is discouraged",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init_subclass__(**kwargs)

    # An application is one object, not a value: compare and hash by identity.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        # An application without state is still an application (``if app:``).
        return True

    def __repr__(self) -> str:
        return f"<Application 0x{id(self):x}>"

    def __call__(self) -> Application:
        """Return the application itself (for gunicorn's ``module:app()`` style)."""
        return self

    # State mapping

    def _check_frozen(self) -> None:
        # aiohttp 3.x warns here rather than raising, and documented examples (testing.rst)
        # change state after start-up; warn so such programs keep working.
        if self._frozen:
            warnings.warn(
                "Changing state of started or joined application is deprecated",
                DeprecationWarning,
                stacklevel=3,
            )

    @overload
    def __getitem__(self, key: AppKey[_T]) -> _T: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str | AppKey[_T]) -> Any:
        return self._state[key]

    @overload
    def __setitem__(self, key: AppKey[_T], value: _T) -> None: ...

    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...

    def __setitem__(self, key: str | AppKey[_T], value: Any) -> None:
        self._check_frozen()
        if not isinstance(key, AppKey):
            warnings.warn(
                "It is recommended to use web.AppKey instances for keys.\n"
                "https://docs.aiohttp.org/en/stable/web_advanced.html#application-s-config",
                category=NotAppKeyWarning,
                stacklevel=2,
            )
        self._state[key] = value

    def __delitem__(self, key: str | AppKey[_T]) -> None:
        self._check_frozen()
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[str | AppKey[Any]]:
        return iter(self._state)

    def __contains__(self, key: object) -> bool:
        return key in self._state

    @overload  # type: ignore[override]
    def get(self, key: AppKey[_T], default: None = ...) -> _T | None: ...

    @overload
    def get(self, key: AppKey[_T], default: _U) -> _T | _U: ...

    @overload
    def get(self, key: str, default: Any = ...) -> Any: ...

    def get(self, key: str | AppKey[_T], default: Any = None) -> Any:
        return self._state.get(key, default)

    # Freezing

    @property
    def frozen(self) -> bool:
        """Whether the application started: router, middlewares, signals and state are
        read-only."""
        return self._frozen

    @property
    def pre_frozen(self) -> bool:
        """Whether router, middlewares and signals are read-only (state may still change)."""
        return self._pre_frozen

    def pre_freeze(self) -> None:
        """Make the router, middlewares and signals read-only (done when the application is
        added as a sub-application, or started)."""
        if self._pre_frozen:
            return
        for mw in self._middlewares:
            if not callable(mw):
                raise TypeError(f"Middleware must be callable, got {mw!r}")
        self._pre_frozen = True
        self._middlewares.freeze()
        self._router.freeze()
        self._on_response_prepare.freeze()
        self._cleanup_ctx.freeze()
        self._on_startup.freeze()
        self._on_shutdown.freeze()
        self._on_cleanup.freeze()
        self._run_middlewares = bool(self._middlewares)
        self._no_prepare_signal = not self._on_response_prepare
        router = self._router
        if type(router).resolve is UrlDispatcher.resolve:
            self._resolve_now = router._resolve_now
        for subapp in self._subapps:
            subapp.pre_freeze()
            self._run_middlewares = self._run_middlewares or subapp._run_middlewares

    def freeze(self) -> None:
        """Make the whole application read-only, sub-applications included."""
        if self._frozen:
            return
        self.pre_freeze()
        self._frozen = True
        for subapp in self._subapps:
            subapp.freeze()

    # Properties

    @property
    def debug(self) -> bool:
        """Deprecated: use asyncio's debug mode."""
        warnings.warn("debug property is deprecated", DeprecationWarning, stacklevel=2)
        return self._debug

    @property
    def logger(self) -> logging.Logger:
        """The application's logger."""
        return self._logger

    @property
    def router(self) -> UrlDispatcher:
        """The application's router."""
        return self._router

    @property
    def middlewares(self) -> FrozenList[Middleware]:
        """The application's middlewares, outermost first."""
        return self._middlewares

    @property
    def on_response_prepare(self) -> Signal[Request, StreamResponse]:
        """Signal ``(request, response)`` sent just before a response's headers go out."""
        return self._on_response_prepare

    @property
    def on_startup(self) -> Signal[Application]:
        """Signal ``(app)`` sent when the application starts."""
        return self._on_startup

    @property
    def on_shutdown(self) -> Signal[Application]:
        """Signal ``(app)`` sent when the server stops, before ``on_cleanup``."""
        return self._on_shutdown

    @property
    def on_cleanup(self) -> Signal[Application]:
        """Signal ``(app)`` sent last when the server stops."""
        return self._on_cleanup

    @property
    def cleanup_ctx(self) -> CleanupContext:
        """Async generators run up to their ``yield`` on startup and to the end on cleanup
        (in reverse order, only for those whose startup completed)."""
        return self._cleanup_ctx

    # Sub-applications and routes

    def _reg_subapp_signals(self, subapp: Application) -> None:
        def forward(signal: Signal[Application]) -> Callable[[Application], Awaitable[None]]:
            async def handler(app: Application) -> None:
                # Sub-application handlers receive the sub-application, not the parent.
                await signal.send(subapp)

            return handler

        self._on_startup.append(forward(subapp.on_startup))
        self._on_shutdown.append(forward(subapp.on_shutdown))
        self._on_cleanup.append(forward(subapp.on_cleanup))

    def _add_subapp(
        self, resource_factory: Callable[[], PrefixedSubAppResource], subapp: Application
    ) -> PrefixedSubAppResource:
        if self._frozen:
            raise RuntimeError("Cannot add sub application to frozen application")
        if subapp is self:
            raise RuntimeError("Cannot add an application to itself")
        if subapp._pre_frozen:
            raise RuntimeError("Cannot add frozen application (or one added already)")
        resource = resource_factory()
        self._router.register_resource(resource)
        self._reg_subapp_signals(subapp)
        self._subapps.append(subapp)
        subapp.pre_freeze()
        return resource

    def add_subapp(self, prefix: str, subapp: Application) -> PrefixedSubAppResource:
        """Serve ``subapp`` under the path ``prefix``; its routes, middlewares and signals
        apply to requests under it. Returns the ``PrefixedSubAppResource``."""
        if not isinstance(prefix, str):
            raise TypeError("Prefix must be str")
        prefix = prefix.rstrip("/")
        if not prefix:
            raise ValueError("Prefix cannot be empty")
        return self._add_subapp(partial(PrefixedSubAppResource, prefix, subapp), subapp)

    def add_domain(self, domain: str, subapp: Application) -> MatchedSubAppResource:
        """Serve ``subapp`` for requests whose ``Host`` is ``domain`` (``*`` matches any
        characters, e.g. ``*.example.com``). Returns the ``MatchedSubAppResource``."""
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        rule = MaskDomain(domain) if "*" in domain else Domain(domain)
        resource = self._add_subapp(partial(MatchedSubAppResource, rule, subapp), subapp)
        return cast(MatchedSubAppResource, resource)

    def add_routes(self, routes_table: Iterable[Any]) -> list[AbstractRoute]:
        """Register route definitions (see ``UrlDispatcher.add_routes``)."""
        return self._router.add_routes(routes_table)

    # Lifecycle

    async def startup(self) -> None:
        """Send ``on_startup`` (which also runs ``cleanup_ctx`` startups, and those of the
        sub-applications)."""
        self._on_startup.freeze()
        await self._on_startup.send(self)

    async def shutdown(self) -> None:
        """Send ``on_shutdown``."""
        self._on_shutdown.freeze()
        await self._on_shutdown.send(self)

    async def cleanup(self) -> None:
        """Send ``on_cleanup`` (which also runs ``cleanup_ctx`` cleanups)."""
        if self._on_cleanup.frozen:
            await self._on_cleanup.send(self)
        else:
            # The app never got to start serving (e.g. a startup handler failed): still close
            # the cleanup contexts whose startup completed.
            await self._cleanup_ctx._on_cleanup(self)

    # Serving

    def _make_handler(
        self,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        access_log_class: type[AbstractAccessLogger] | None = None,
        **kwargs: Any,
    ) -> Server:
        """Freeze the application and build the low-level ``Server`` that serves it."""
        from ._log import AccessLogger
        from ._server import Server

        if access_log_class is None:
            access_log_class = AccessLogger
        if not (
            isinstance(access_log_class, type)
            and issubclass(access_log_class, AbstractAccessLogger)
        ):
            raise TypeError(
                "access_log_class must be a subclass of aiohyper.abc.AbstractAccessLogger, "
                f"got {access_log_class!r}"
            )
        if loop is not None:
            self._loop = loop
        self.freeze()
        kwargs["access_log_class"] = access_log_class
        if self._handler_args:
            kwargs.update(self._handler_args)
        return Server(self._handle, request_factory=self._make_request, loop=self._loop, **kwargs)

    def _make_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
        _cls: type[Request] = Request,
    ) -> Request:
        """Build the ``Request`` for a parsed message (the server's ``request_factory``)."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return _cls(
            message, payload, protocol, writer, task, loop, client_max_size=self._client_max_size
        )

    async def _handle(self, request: Request) -> StreamResponse:
        """Route ``request`` and run its handler through the middlewares."""
        resolve_now = self._resolve_now
        match_info = None if resolve_now is None else resolve_now(request)
        if match_info is None:
            match_info = await self._router.resolve(request)
        if type(match_info) is UrlMappingMatchInfo and not match_info._apps:
            # add_app(self) and freeze() on a fresh match info of ours.
            match_info._apps = (self,)
            match_info._current_app = self
            match_info._frozen = True
            if self._no_prepare_signal:
                request._prepare_hook_free = True
        else:
            match_info.add_app(self)
            match_info.freeze()
        request._match_info = match_info
        headers = request._headers if request._plain_head else request.headers
        if hdrs.EXPECT in headers and match_info.http_exception is None:
            # Before the handler: the client waits for 100 Continue to send the body. A failed
            # resolution skips this, so the client gets the 404/405 without sending it.
            response = await match_info.expect_handler(request)
            if response is not None:
                return response
        route = match_info._route if type(match_info) is UrlMappingMatchInfo else None
        # The route's handler (two property calls saved for the default route class).
        handler = route._handler if type(route) is ResourceRoute else match_info.handler
        if self._run_middlewares or not self._pre_frozen:
            handler = self._middleware_chain(handler, match_info)
        return await handler(request)

    def _middleware_chain(self, handler: Handler, match_info: AbstractMatchInfo) -> Handler:
        apps = match_info.apps
        cacheable = self._pre_frozen and match_info.http_exception is None
        if cacheable:
            key = (handler, apps)
            try:
                chain = self._chain_cache.get(key)
            except TypeError:  # an unhashable handler object
                return _build_chain(handler, apps)
            if chain is None:
                if len(self._chain_cache) >= _CHAIN_CACHE_SIZE:
                    self._chain_cache.clear()
                chain = self._chain_cache[key] = _build_chain(handler, apps)
            return chain
        return _build_chain(handler, apps)


def _build_chain(handler: Handler, apps: Sequence[Application]) -> Handler:
    """Wrap ``handler`` in the middlewares of ``apps`` (outermost app first, each app's
    middlewares in list order), with ``request.app`` switched to the app whose middlewares
    run. Applications without middlewares add nothing."""
    steps: list[Middleware] = []
    last_with_middlewares: Application | None = None
    for app in apps:
        if app._middlewares:
            steps.append(_SetCurrentApp(app))
            steps.extend(app._middlewares)
            last_with_middlewares = app
    if not steps:
        return handler
    if last_with_middlewares is not apps[-1]:
        # Back to the app that owns the route before its handler runs.
        steps.append(_SetCurrentApp(apps[-1]))
    for mw in reversed(steps):
        # By keyword: the documented contract is a parameter named "handler".
        handler = partial(cast("Callable[..., Awaitable[StreamResponse]]", mw), handler=handler)
    return handler
