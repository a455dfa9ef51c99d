"""Runners and sites: setup, serving, addresses, and the graceful shutdown sequence."""

from __future__ import annotations

import asyncio
import platform
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from aiohyper.web._app import Application
from aiohyper.web._response import Response
from aiohyper.web._runner import (
    AppRunner,
    BaseRunner,
    BaseSite,
    GracefulExit,
    NamedPipeSite,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
)
from aiohyper.web._server import Server


async def hello(request: Any) -> Response:
    return Response(text="hello")


async def http_get(port: int, path: str = "/", host: str = "127.0.0.1") -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


def make_app() -> Application:
    app = Application()
    app.router.add_get("/", hello)
    return app


# -- runners ----------------------------------------------------------------------------------


async def test_app_runner_serves_and_cleans_up() -> None:
    app = make_app()
    runner = AppRunner(app, access_log=None)
    assert runner.app is app
    assert runner.server is None
    await runner.setup()
    assert isinstance(runner.server, Server)
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert runner.sites == {site}
    (address,) = runner.addresses
    assert address[0] == "127.0.0.1"
    assert (await http_get(address[1])).endswith(b"hello")
    await runner.cleanup()
    assert runner.server is None
    assert runner.sites == set()
    with pytest.raises(OSError):
        await http_get(address[1])


async def test_app_runner_requires_an_application() -> None:
    with pytest.raises(TypeError, match="Application"):
        AppRunner(hello)  # type: ignore[arg-type]


async def test_app_runner_rejects_bad_access_log_class() -> None:
    runner = AppRunner(make_app(), access_log_class=object)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="access_log_class"):
        await runner.setup()


async def test_app_runner_passes_connection_settings() -> None:
    runner = AppRunner(make_app(), keepalive_timeout=7.5, access_log=None)
    await runner.setup()
    assert runner.server is not None
    assert runner.server().keepalive_timeout == 7.5
    await runner.cleanup()


async def test_server_runner() -> None:
    server = Server(hello, access_log=None)
    runner = ServerRunner(server)
    await runner.setup()
    assert runner.server is server
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert (await http_get(runner.addresses[0][1])).endswith(b"hello")
    await runner.cleanup()


async def test_site_before_setup_is_an_error() -> None:
    runner = AppRunner(make_app())
    with pytest.raises(RuntimeError, match="setup"):
        TCPSite(runner)


async def test_site_registration_errors() -> None:
    runner = ServerRunner(Server(hello))
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    with pytest.raises(RuntimeError, match="not registered"):
        await site.stop()
    await site.start()
    with pytest.raises(RuntimeError, match="already registered"):
        await site.start()
    await runner.cleanup()


async def test_handle_signals_installs_and_removes_handlers() -> None:
    loop = asyncio.get_running_loop()
    runner = ServerRunner(Server(hello), handle_signals=True)
    await runner.setup()
    assert loop.remove_signal_handler(signal.SIGINT)
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    await runner.cleanup()
    assert not loop.remove_signal_handler(signal.SIGINT)
    assert not loop.remove_signal_handler(signal.SIGTERM)


def test_graceful_exit_is_system_exit() -> None:
    assert issubclass(GracefulExit, SystemExit)
    assert GracefulExit().code == 1


async def test_base_classes_are_abstract() -> None:
    with pytest.raises(TypeError):
        BaseRunner()  # type: ignore[abstract]
    runner = ServerRunner(Server(hello))
    await runner.setup()
    with pytest.raises(TypeError):
        BaseSite(runner)  # type: ignore[abstract]


# -- sites ------------------------------------------------------------------------------------


async def test_tcp_site_names() -> None:
    runner = ServerRunner(Server(hello))
    await runner.setup()
    assert TCPSite(runner).name == "http://0.0.0.0:8080"
    assert TCPSite(runner, "127.0.0.1", 1234).name == "http://127.0.0.1:1234"
    assert TCPSite(runner, "::1", 81).name == "http://[::1]:81"
    assert TCPSite(runner, ssl_context=object()).name == "https://0.0.0.0:8443"


async def test_tcp_site_reuse_port() -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        pytest.skip("SO_REUSEPORT not available")
    runner = ServerRunner(Server(hello, access_log=None))
    await runner.setup()
    site1 = TCPSite(runner, "127.0.0.1", 0, reuse_port=True)
    await site1.start()
    port = runner.addresses[0][1]
    site2 = TCPSite(runner, "127.0.0.1", port, reuse_port=True, reuse_address=True)
    await site2.start()
    assert len(runner.addresses) == 2
    await runner.cleanup()


async def test_shutdown_timeout_on_site_is_deprecated() -> None:
    runner = ServerRunner(Server(hello))
    await runner.setup()
    with pytest.warns(DeprecationWarning, match="shutdown_timeout"):
        TCPSite(runner, shutdown_timeout=5.0)
    assert runner._shutdown_timeout == 5.0


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="UNIX sockets only")
async def test_unix_site(tmp_path: Path) -> None:
    path = str(tmp_path / "sock")
    runner = ServerRunner(Server(hello, access_log=None))
    await runner.setup()
    site = UnixSite(runner, path)
    assert site.name == f"http://unix:{path}:"
    await site.start()
    assert runner.addresses == [path]
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 5)).endswith(b"hello")
    writer.close()
    await runner.cleanup()


async def test_sock_site() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = ServerRunner(Server(hello, access_log=None))
    await runner.setup()
    site = SockSite(runner, sock)
    assert site.name == f"http://127.0.0.1:{port}"
    await site.start()
    assert (await http_get(port)).endswith(b"hello")
    await runner.cleanup()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="UNIX sockets only")
async def test_sock_site_unix_name(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s"))
    runner = ServerRunner(Server(hello))
    await runner.setup()
    assert SockSite(runner, sock).name == f"http://unix:{tmp_path / 's'}:"
    sock.close()


@pytest.mark.skipif(platform.system() == "Windows", reason="checks the non-Windows error")
async def test_named_pipe_site_off_windows() -> None:
    runner = ServerRunner(Server(hello))
    await runner.setup()
    with pytest.raises(RuntimeError, match="proactor"):
        NamedPipeSite(runner, r"\\.\pipe\test")


async def test_site_stop_keeps_runner() -> None:
    runner = ServerRunner(Server(hello, access_log=None))
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await site.stop()
    assert runner.sites == set()
    with pytest.raises(OSError):
        await http_get(port)
    assert runner.server is not None
    await runner.cleanup()


# -- graceful shutdown ------------------------------------------------------------------------


async def test_graceful_shutdown_completes_in_flight_requests() -> None:
    n = 100
    started = 0
    all_started = asyncio.Event()

    async def slow(request: Any) -> Response:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        await asyncio.sleep(0.3)
        return Response(text="done")

    server = Server(slow, access_log=None)
    runner = ServerRunner(server, shutdown_timeout=5)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0, backlog=n)
    await site.start()
    port = runner.addresses[0][1]
    clients = [asyncio.create_task(http_get(port)) for _ in range(n)]
    await asyncio.wait_for(all_started.wait(), 10)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await runner.cleanup()
    assert loop.time() - start < 3
    results = await asyncio.gather(*clients)
    assert all(r.startswith(b"HTTP/1.1 200 OK") and r.endswith(b"done") for r in results)


async def test_shutdown_sequence_order() -> None:
    events: list[str] = []
    started = asyncio.Event()

    async def slow(request: Any) -> Response:
        started.set()
        events.append("handler start")
        try:
            await asyncio.sleep(0.2)
        except asyncio.CancelledError:
            events.append("handler cancelled")
            raise
        events.append("handler done")
        return Response()

    async def stuck(request: Any) -> Response:
        events.append("stuck start")
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            events.append("stuck cancelled")
            raise
        return Response()

    async def on_shutdown(app: Application) -> None:
        events.append("on_shutdown")

    async def on_cleanup(app: Application) -> None:
        events.append("on_cleanup")

    app = Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/stuck", stuck)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    runner = AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
    slow_client = asyncio.create_task(http_get(port, "/slow"))
    stuck_client = asyncio.create_task(http_get(port, "/stuck"))
    await started.wait()
    while "stuck start" not in events:
        await asyncio.sleep(0.01)
    await runner.cleanup()

    assert await asyncio.wait_for(idle_reader.read(), 1) == b""
    idle_writer.close()
    assert (await slow_client).startswith(b"HTTP/1.1 200")
    assert await stuck_client == b""
    assert events.index("on_shutdown") < events.index("handler done")
    assert events.index("handler done") < events.index("stuck cancelled")
    assert events[-1] == "on_cleanup"
    assert "handler cancelled" not in events


async def test_new_connections_refused_during_shutdown() -> None:
    started = asyncio.Event()

    async def slow(request: Any) -> Response:
        started.set()
        await asyncio.sleep(0.3)
        return Response()

    runner = ServerRunner(Server(slow, access_log=None), shutdown_timeout=2)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = asyncio.create_task(http_get(port))
    await started.wait()
    cleanup = asyncio.create_task(runner.cleanup())
    await asyncio.sleep(0.05)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    await cleanup
    assert (await client).startswith(b"HTTP/1.1 200")


async def test_startup_failure_still_runs_cleanup_contexts() -> None:
    events: list[str] = []

    async def ctx(app: Application) -> Any:
        events.append("ctx up")
        yield
        events.append("ctx down")

    async def failing(app: Application) -> None:
        raise RuntimeError("startup failed")

    app = Application()
    app.cleanup_ctx.append(ctx)
    app.on_startup.append(failing)
    runner = AppRunner(app)
    with pytest.raises(RuntimeError, match="startup failed"):
        await runner.setup()
    await runner.cleanup()
    assert events == ["ctx up", "ctx down"]
