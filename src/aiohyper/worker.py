"""Gunicorn workers serving aiohyper applications (``aiohttp.worker``).

Run with ``gunicorn my_module:my_app --worker-class aiohyper.worker.GunicornWebWorker``; the
app may be an `Application` or an async function returning one. Each worker process runs its
own event loop (`GunicornUVLoopWebWorker`: a uvloop one) and serves the sockets gunicorn bound,
through an `AppRunner` and one `SockSite` per socket. Gunicorn settings used: ``keepalive``,
``graceful_timeout`` (the runner's shutdown timeout, 95% of it), ``accesslog`` /
``access_log_format`` (aiohyper's format language; gunicorn's own default format is replaced
by aiohyper's), ``max_requests``, TLS settings.

This module imports without gunicorn installed; using a worker then raises ``ImportError``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

from .web._log import AccessLogger
from .web._runner import AppRunner, SockSite

if TYPE_CHECKING:
    import ssl

__all__ = ("GunicornUVLoopWebWorker", "GunicornWebWorker")

try:
    from gunicorn.config import AccessLogFormat as _GunicornAccessLogFormat
    from gunicorn.workers import base as _gunicorn_base

    _WorkerBase: Any = _gunicorn_base.Worker
    _GUNICORN_DEFAULT_LOG_FORMAT: str | None = _GunicornAccessLogFormat.default
except ImportError:  # pragma: no cover - exercised only without gunicorn

    class _MissingGunicorn:
        """Stands in for gunicorn's worker base class when gunicorn is not installed."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ImportError(
                "aiohyper.worker needs gunicorn: install it with `pip install gunicorn`"
            )

    _WorkerBase = _MissingGunicorn
    _GUNICORN_DEFAULT_LOG_FORMAT = None

# Gunicorn's "%(name)s" atoms, which aiohyper's access log format does not understand.
_GUNICORN_ATOM_RE = re.compile(r"%\([^)]+\)")


class GunicornWebWorker(_WorkerBase):  # type: ignore[misc]
    """A gunicorn worker running an aiohyper `Application` on an asyncio event loop."""

    alive: bool  # set by gunicorn's Worker; False asks the worker to stop

    DEFAULT_AIOHTTP_LOG_FORMAT = AccessLogger.LOG_FORMAT
    DEFAULT_GUNICORN_LOG_FORMAT = _GUNICORN_DEFAULT_LOG_FORMAT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._task: asyncio.Task[None] | None = None
        self._notify_waiter: asyncio.Future[bool] | None = None
        self.exit_code = 0
        self.loop: asyncio.AbstractEventLoop

    def init_process(self) -> None:
        # A fresh loop per worker: the master's loop (if any) must not cross the fork.
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        super().init_process()

    def run(self) -> None:
        self._task = self.loop.create_task(self._run())
        try:
            self.loop.run_until_complete(self._task)
        except Exception:
            self.log.exception("Exception in gunicorn worker")
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        sys.exit(self.exit_code)

    async def _run(self) -> None:
        from .web._app import Application

        wsgi = self.wsgi
        if isinstance(wsgi, Application):
            app = wsgi
        elif callable(wsgi) and inspect.iscoroutinefunction(wsgi):
            app = await wsgi()
        else:
            raise RuntimeError(
                "the gunicorn app should be an aiohyper.web.Application or an async function "
                f"returning one, got {wsgi!r}"
            )

        access_log = self.log.access_log if self.cfg.accesslog else None
        runner = AppRunner(
            app,
            logger=self.log,
            keepalive_timeout=self.cfg.keepalive,
            access_log=access_log,
            access_log_format=self._get_valid_log_format(self.cfg.access_log_format),
            shutdown_timeout=self.cfg.graceful_timeout / 100 * 95,
        )
        await runner.setup()

        ssl_context = self._create_ssl_context(self.cfg) if self.cfg.is_ssl else None
        server = runner.server
        assert server is not None
        for sock in self.sockets:
            site = SockSite(runner, sock, ssl_context=ssl_context)
            await site.start()

        pid = os.getpid()
        try:
            while self.alive:
                self.notify()
                if self.max_requests and server.requests_count > self.max_requests:
                    self.alive = False
                    self.log.info("Max requests, shutting down: %s", self)
                elif pid == os.getpid() and self.ppid != os.getppid():
                    self.alive = False
                    self.log.info("Parent changed, shutting down: %s", self)
                else:
                    await self._wait_next_notify()
        except BaseException:
            pass
        await runner.cleanup()

    def _wait_next_notify(self) -> asyncio.Future[bool]:
        """A future resolved in a second (or sooner by a signal): the heartbeat pace."""
        self._notify_waiter_done()
        waiter = self._notify_waiter = self.loop.create_future()
        self.loop.call_later(1.0, self._notify_waiter_done, waiter)
        return waiter

    def _notify_waiter_done(self, waiter: asyncio.Future[bool] | None = None) -> None:
        if waiter is None:
            waiter = self._notify_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)
        if waiter is self._notify_waiter:
            self._notify_waiter = None

    def init_signals(self) -> None:
        # Through the loop, so handlers run between callbacks instead of interrupting them.
        loop = self.loop
        loop.add_signal_handler(signal.SIGQUIT, self.handle_quit, signal.SIGQUIT, None)
        loop.add_signal_handler(signal.SIGTERM, self.handle_exit, signal.SIGTERM, None)
        loop.add_signal_handler(signal.SIGINT, self.handle_quit, signal.SIGINT, None)
        loop.add_signal_handler(signal.SIGWINCH, self.handle_winch, signal.SIGWINCH, None)
        loop.add_signal_handler(signal.SIGUSR1, self.handle_usr1, signal.SIGUSR1, None)
        loop.add_signal_handler(signal.SIGABRT, self.handle_abort, signal.SIGABRT, None)
        # Don't let SIGTERM and SIGUSR1 interrupt system calls of active requests.
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False
        self._notify_waiter_done()

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False
        self.cfg.worker_int(self)
        # Wake the heartbeat loop so that the graceful shutdown starts now.
        self._notify_waiter_done()

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False
        self.exit_code = 1
        self.cfg.worker_abort(self)
        sys.exit(1)

    @staticmethod
    def _create_ssl_context(cfg: Any) -> ssl.SSLContext:
        """The TLS context described by gunicorn's settings."""
        from gunicorn import sock as gunicorn_sock

        factory = getattr(gunicorn_sock, "ssl_context", None)
        if factory is not None:
            context: ssl.SSLContext = factory(cfg)
            return context
        import ssl as ssl_mod  # older gunicorn: build it from the settings ourselves

        ctx = ssl_mod.SSLContext(cfg.ssl_version)
        ctx.load_cert_chain(cfg.certfile, cfg.keyfile)
        ctx.verify_mode = cfg.cert_reqs
        if cfg.ca_certs:
            ctx.load_verify_locations(cfg.ca_certs)
        if cfg.ciphers:
            ctx.set_ciphers(cfg.ciphers)
        return ctx

    def _get_valid_log_format(self, source_format: str) -> str:
        """Gunicorn's default access log format becomes aiohyper's; gunicorn atoms fail."""
        if source_format == self.DEFAULT_GUNICORN_LOG_FORMAT:
            return self.DEFAULT_AIOHTTP_LOG_FORMAT
        if _GUNICORN_ATOM_RE.search(source_format):
            raise ValueError(
                "Gunicorn's style options in form of `%(name)s` are not supported for the "
                "log formatting. Please use aiohyper's format specification to configure "
                "access log formatting (see the 'Logging' page of the documentation)."
            )
        return source_format


class GunicornUVLoopWebWorker(GunicornWebWorker):
    """`GunicornWebWorker` on a uvloop event loop (needs ``uvloop``)."""

    def init_process(self) -> None:
        import uvloop

        # Installed before the parent class creates the worker's loop.
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        super().init_process()
