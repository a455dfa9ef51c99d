"""Runners (what is served) and sites (where it is served).

A runner owns one low-level `Server`: `AppRunner` builds it from an `Application` (running its
startup signals first), `ServerRunner` takes one ready-made. Sites bind the runner's server to
a listening socket: `TCPSite`, `UnixSite`, `SockSite` (an existing socket), `NamedPipeSite`
(Windows).

``runner.cleanup()`` performs the graceful shutdown sequence (docs: "Graceful shutdown"):

1. stop every site, so new connections are refused;
2. close idle keep-alive connections, and mark busy ones to close after their response;
3. ``on_shutdown`` signals of the application;
4. wait up to ``shutdown_timeout`` seconds for running handlers to finish;
5. cancel the handlers still running, wait up to ``shutdown_timeout`` for them, close the
   remaining connections;
6. ``on_cleanup`` signals (and cleanup contexts).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import warnings
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from ._log import AccessLogger
from ._server import Server

if TYPE_CHECKING:
    from ..abc import AbstractAccessLogger
    from ._app import Application

__all__ = (
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "NamedPipeSite",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
)

_DEFAULT_SHUTDOWN_TIMEOUT: Final = 60.0


class GracefulExit(SystemExit):
    """Raised by the SIGINT/SIGTERM handlers a runner installs with ``handle_signals=True``."""

    code = 1


def _raise_graceful_exit() -> None:
    raise GracefulExit()


class BaseSite(ABC):
    """A listening endpoint for a runner's server. ``start()`` binds, ``stop()`` unbinds.

    ``shutdown_timeout`` here is deprecated: set it on the runner.
    """

    __slots__ = ("_backlog", "_runner", "_server", "_ssl_context")

    def __init__(
        self,
        runner: BaseRunner,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: Any = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:
            raise RuntimeError("Call runner.setup() before making a site")
        if shutdown_timeout != _DEFAULT_SHUTDOWN_TIMEOUT:
            warnings.warn(
                "shutdown_timeout should be set on the runner (BaseRunner), not on the site",
                DeprecationWarning,
                stacklevel=2,
            )
            runner._shutdown_timeout = shutdown_timeout
        self._runner = runner
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._server: asyncio.AbstractServer | None = None

    @property
    @abstractmethod
    def name(self) -> str:
        """What the site serves, e.g. ``http://0.0.0.0:8080`` or ``http://unix:/path:``."""

    async def start(self) -> None:
        """Start accepting connections."""
        self._runner._reg_site(self)

    async def stop(self) -> None:
        """Stop accepting connections; established ones are left to the runner's cleanup."""
        self._runner._check_site(self)
        if self._server is not None:
            # Not wait_closed(): on Python 3.12+ it also waits for every open connection.
            self._server.close()
        self._runner._unreg_site(self)

    def _scheme(self) -> str:
        return "https" if self._ssl_context else "http"

    def _handler(self) -> Server:
        server = self._runner.server
        if server is None:
            raise RuntimeError("The runner was cleaned up; call setup() again")
        return server


class TCPSite(BaseSite):
    """Serve on ``host:port`` (all interfaces if ``host`` is ``None``; port 8080, or 8443
    with TLS, if ``port`` is ``None``)."""

    __slots__ = ("_host", "_port", "_reuse_address", "_reuse_port")

    def __init__(
        self,
        runner: BaseRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: Any = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._host = host
        if port is None:
            port = 8443 if ssl_context else 8080
        self._port = port
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def name(self) -> str:
        host = self._host or "0.0.0.0"
        return str(URL.build(scheme=self._scheme(), host=host, port=self._port))

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._handler(),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


class UnixSite(BaseSite):
    """Serve on the UNIX domain socket at ``path``."""

    __slots__ = ("_path",)

    def __init__(
        self,
        runner: BaseRunner,
        path: str | Any,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: Any = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._path = path

    @property
    def name(self) -> str:
        return f"{self._scheme()}://unix:{self._path}:"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            self._handler(), self._path, ssl=self._ssl_context, backlog=self._backlog
        )


class NamedPipeSite(BaseSite):
    """Serve on the Windows named pipe ``path`` (needs the proactor event loop)."""

    __slots__ = ("_loop", "_path")

    def __init__(
        self,
        runner: BaseRunner,
        path: str,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        loop = asyncio.get_running_loop()
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is None or not isinstance(loop, proactor):
            raise RuntimeError(
                "Named pipes are only available with the proactor event loop on Windows"
            )
        super().__init__(runner, shutdown_timeout=shutdown_timeout)
        self._loop = loop
        self._path = path

    @property
    def name(self) -> str:
        return str(self._path)

    async def start(self) -> None:  # pragma: no cover - Windows only
        await super().start()
        servers = await self._loop.start_serving_pipe(self._handler(), self._path)
        self._server = servers[0]


class SockSite(BaseSite):
    """Serve on an already bound socket ``sock`` (TCP or UNIX)."""

    __slots__ = ("_name", "_sock")

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: Any = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._sock = sock
        scheme = self._scheme()
        if hasattr(socket, "AF_UNIX") and sock.family == socket.AF_UNIX:
            self._name = f"{scheme}://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = str(URL.build(scheme=scheme, host=host, port=port))

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._handler(), sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )


class BaseRunner(ABC):
    """Owns a low-level `Server` and the sites serving it.

    ``handle_signals`` makes SIGINT/SIGTERM raise `GracefulExit`. ``shutdown_timeout`` is the
    grace period of `cleanup` (see the module docstring). Other keyword arguments configure
    the server's connections.
    """

    __slots__ = ("_handle_signals", "_kwargs", "_server", "_shutdown_timeout", "_sites")

    def __init__(
        self,
        *,
        handle_signals: bool = False,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        self._handle_signals = handle_signals
        self._shutdown_timeout = shutdown_timeout
        self._kwargs = kwargs
        self._server: Server | None = None
        self._sites: list[BaseSite] = []

    @property
    def server(self) -> Server | None:
        """The low-level server; ``None`` before `setup` and after `cleanup`."""
        return self._server

    @property
    def addresses(self) -> list[Any]:
        """``getsockname()`` of every listening socket of every started site."""
        addresses: list[Any] = []
        for site in self._sites:
            # A named pipe server has no sockets.
            sockets = getattr(site._server, "sockets", None)
            if sockets:
                addresses.extend(sock.getsockname() for sock in sockets)
        return addresses

    @property
    def sites(self) -> set[BaseSite]:
        """The started sites."""
        return set(self._sites)

    async def setup(self) -> None:
        """Prepare the server (for `AppRunner`: run the startup signals). Call before adding
        sites."""
        loop = asyncio.get_running_loop()
        if self._handle_signals:
            try:
                loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit)
                loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit)
            except NotImplementedError:  # pragma: no cover - Windows
                pass
        self._server = await self._make_server()

    @abstractmethod
    async def shutdown(self) -> None:
        """Step 3 of the shutdown sequence (``on_shutdown`` for an application)."""

    async def cleanup(self) -> None:
        """Stop all sites and shut the server down gracefully (see the module docstring)."""
        # One by one: a failing stop() must not leave the others running.
        for site in list(self._sites):
            await site.stop()
        if self._server is not None:
            # Let connections accepted just before the sites stopped reach their handlers.
            await asyncio.sleep(0)
            self._server.pre_shutdown()
            await self.shutdown()
            await self._server.shutdown(self._shutdown_timeout)
        await self._cleanup_server()
        self._server = None
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            try:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
            except NotImplementedError:  # pragma: no cover - Windows
                pass

    @abstractmethod
    async def _make_server(self) -> Server:
        """Build the server `setup` installs."""

    @abstractmethod
    async def _cleanup_server(self) -> None:
        """Release what `_make_server` acquired (``on_cleanup`` for an application)."""

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _check_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")

    def _unreg_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")
        self._sites.remove(site)


class ServerRunner(BaseRunner):
    """Runner for a ready-made low-level `Server`."""

    __slots__ = ("_web_server",)

    def __init__(self, web_server: Server, *, handle_signals: bool = False, **kwargs: Any) -> None:
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._web_server = web_server

    async def shutdown(self) -> None:
        pass

    async def _make_server(self) -> Server:
        return self._web_server

    async def _cleanup_server(self) -> None:
        pass


class AppRunner(BaseRunner):
    """Runner for an `Application`: `setup` runs its startup signals and freezes it,
    `cleanup` its shutdown and cleanup signals.

    Keyword arguments configure the connections (see `RequestHandler`); the application's
    ``handler_args`` are added by the application itself.
    """

    __slots__ = ("_app",)

    def __init__(
        self,
        app: Application,
        *,
        handle_signals: bool = False,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> None:
        from ._app import Application

        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        kwargs["access_log_class"] = access_log_class
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._app = app

    @property
    def app(self) -> Application:
        """The application served."""
        return self._app

    async def shutdown(self) -> None:
        await self._app.shutdown()

    async def _make_server(self) -> Server:
        loop = asyncio.get_running_loop()
        app = self._app
        app.on_startup.freeze()
        await app.startup()
        app.freeze()
        return app._make_handler(loop=loop, **self._kwargs)

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()
