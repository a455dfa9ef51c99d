"""`run_app`: serve an application until interrupted, then shut it down gracefully.

The blocking entry point of a server program, like `asyncio.run`: it creates (or takes) an event
loop, runs the application with an `AppRunner` on the requested sites, and on SIGINT/SIGTERM
(`GracefulExit`) or Ctrl+C performs the graceful shutdown sequence, then cancels the tasks left
on the loop and closes it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ..log import access_logger
from ._log import AccessLogger
from ._runner import AppRunner, BaseSite, GracefulExit, NamedPipeSite, SockSite, TCPSite, UnixSite

if TYPE_CHECKING:
    from ..abc import AbstractAccessLogger
    from ._app import Application

__all__ = ("run_app",)

_PathLike = str | os.PathLike[str]


def run_app(
    app: Application | Awaitable[Application],
    *,
    debug: bool = False,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: _PathLike | Iterable[_PathLike] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 3630.0,
    ssl_context: Any = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
) -> None:
    """Run ``app`` (an `Application` or an awaitable returning one) until interrupted.

    Without ``host``, ``path`` and ``sock``, or with only ``port``, listens on all interfaces.
    ``host``, ``path`` and ``sock`` may each be a sequence to serve several endpoints.
    ``print`` (``None`` for silence) announces the endpoints. See the reference for the
    other parameters.
    """
    if loop is None:
        loop = asyncio.new_event_loop()
    loop.set_debug(debug)

    # In debug mode make the default access log visible without any logging setup.
    if loop.get_debug() and access_log is access_logger:
        if access_log.level == logging.NOTSET:
            access_log.setLevel(logging.DEBUG)
        if not access_log.hasHandlers():
            access_log.addHandler(logging.StreamHandler())

    main_task = loop.create_task(
        _run_app(
            app,
            host=host,
            port=port,
            path=path,
            sock=sock,
            shutdown_timeout=shutdown_timeout,
            keepalive_timeout=keepalive_timeout,
            ssl_context=ssl_context,
            print=print,
            backlog=backlog,
            access_log_class=access_log_class,
            access_log_format=access_log_format,
            access_log=access_log,
            handle_signals=handle_signals,
            reuse_address=reuse_address,
            reuse_port=reuse_port,
            handler_cancellation=handler_cancellation,
        )
    )
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main_task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            # Unwinding the main task runs runner.cleanup(): the graceful shutdown.
            main_task.cancel()
            with suppress(asyncio.CancelledError):
                loop.run_until_complete(main_task)
        finally:
            _cancel_tasks(asyncio.all_tasks(loop), loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None,
    port: int | None,
    path: _PathLike | Iterable[_PathLike] | None,
    sock: socket.socket | Iterable[socket.socket] | None,
    shutdown_timeout: float,
    keepalive_timeout: float,
    ssl_context: Any,
    print: Callable[..., None] | None,
    backlog: int,
    access_log_class: type[AbstractAccessLogger],
    access_log_format: str,
    access_log: logging.Logger | None,
    handle_signals: bool,
    reuse_address: bool | None,
    reuse_port: bool | None,
    handler_cancellation: bool,
) -> None:
    if inspect.isawaitable(app):
        app = await app
    if port is not None:
        # deployment.rst passes argparse's string straight through: run_app(port=args.port).
        port = int(port)
    runner = AppRunner(
        app,
        handle_signals=handle_signals,
        access_log_class=access_log_class,
        access_log_format=access_log_format,
        access_log=access_log,
        keepalive_timeout=keepalive_timeout,
        shutdown_timeout=shutdown_timeout,
        handler_cancellation=handler_cancellation,
    )
    await runner.setup()
    try:
        sites: list[BaseSite] = []
        if host is not None:
            hosts = [host] if isinstance(host, str) else list(host)
            sites.extend(
                TCPSite(
                    runner,
                    h,
                    port,
                    ssl_context=ssl_context,
                    backlog=backlog,
                    reuse_address=reuse_address,
                    reuse_port=reuse_port,
                )
                for h in hosts
            )
        elif (path is None and sock is None) or port is not None:
            sites.append(
                TCPSite(
                    runner,
                    port=port,
                    ssl_context=ssl_context,
                    backlog=backlog,
                    reuse_address=reuse_address,
                    reuse_port=reuse_port,
                )
            )
        if path is not None:
            paths = [path] if isinstance(path, str | os.PathLike) else list(path)
            for p in paths:
                if sys.platform == "win32" and str(p).startswith("\\\\.\\pipe\\"):
                    sites.append(NamedPipeSite(runner, str(p)))  # pragma: no cover
                else:
                    sites.append(UnixSite(runner, p, ssl_context=ssl_context, backlog=backlog))
        if sock is not None:
            socks = [sock] if isinstance(sock, socket.socket) else list(sock)
            sites.extend(
                SockSite(runner, s, ssl_context=ssl_context, backlog=backlog) for s in socks
            )
        for site in sites:
            await site.start()

        if print is not None:
            names = sorted(site.name for site in runner.sites)
            print(f"======== Running on {', '.join(names)} ========\n(Press CTRL+C to quit)")

        # Serve until cancelled (by run_app on GracefulExit / KeyboardInterrupt).
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()


def _cancel_tasks(tasks: set[asyncio.Task[Any]], loop: asyncio.AbstractEventLoop) -> None:
    """Step 7 of the shutdown sequence: cancel what is left on the loop and wait for it."""
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during asyncio.run() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )
