"""Documented behaviour of serving (web_reference.rst "Running Applications" and ``Server``;
web_lowlevel.rst; web_advanced.rst: application runners, peer disconnection, handler
cancellation, Gunicorn-style factories; logging.rst: access and error logs; deployment.rst:
the supervisord ``run_app(app, path=..., port=...)`` script)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from aiohyper import web
from aiohyper.abc import AbstractAccessLogger
from aiohyper.test_utils import TestClient, TestServer

ACCESS_LOGGER = "aiohyper.access"


async def hello(request: web.BaseRequest) -> web.Response:
    return web.Response(text="OK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def http_get(port: int, path: str = "/", host: str = "127.0.0.1") -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


# -- low-level server (web_lowlevel.rst) -----------------------------------------------------


async def test_low_level_server_example() -> None:
    server = web.Server(hello)
    runner = web.ServerRunner(server)
    await runner.setup()
    assert runner.server is server
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    for path in ("/", "/any/path?x=1"):
        data = await http_get(port, path)
        assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"OK")
    assert server.requests_count == 2
    await runner.cleanup()
    assert runner.server is None


async def test_server_connections_and_shutdown() -> None:
    server = web.Server(hello)
    runner = web.ServerRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.readuntil(b"\r\n\r\nOK")
    assert isinstance(server.connections, list) and len(server.connections) == 1
    await server.shutdown(1.0)
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    assert server.connections == []
    await runner.cleanup()


async def test_server_is_a_protocol_factory_for_create_server() -> None:
    server = web.Server(hello)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(server, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    assert (await http_get(port)).endswith(b"OK")
    await server.shutdown(0.5)
    srv.close()
    await srv.wait_closed()


# -- runners and sites -------------------------------------------------------------------------


async def test_app_runner_example_and_attributes() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    assert runner.app is app
    assert runner.server is None and runner.sites == set() and runner.addresses == []
    await runner.setup()
    assert isinstance(runner.server, web.Server)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert runner.sites == {site}
    host, port = runner.addresses[0][:2]
    assert host == "127.0.0.1" and (await http_get(port)).endswith(b"OK")
    assert site.name == "http://127.0.0.1:0"
    await site.stop()
    assert runner.sites == set()
    await runner.cleanup()


async def test_app_runner_requires_an_application() -> None:
    with pytest.raises(TypeError):
        web.AppRunner(object())  # type: ignore[arg-type]


async def test_site_defaults_and_names(tmp_path: Path) -> None:
    runner = web.AppRunner(web.Application())
    await runner.setup()
    try:
        # Port 8080 by default, 8443 with TLS; all interfaces without a host.
        assert web.TCPSite(runner).name == "http://0.0.0.0:8080"
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        assert web.TCPSite(runner, ssl_context=tls).name == "https://0.0.0.0:8443"
        assert web.TCPSite(runner, "localhost", 9000).name == "http://localhost:9000"
        path = tmp_path / "s.sock"
        unix = web.UnixSite(runner, str(path))
        assert str(path) in unix.name
        await unix.start()
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 404")
        writer.close()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock_site = web.SockSite(runner, sock)
        port = sock.getsockname()[1]
        assert sock_site.name == f"http://127.0.0.1:{port}"
        await sock_site.start()
        assert (await http_get(port)).startswith(b"HTTP/1.1 404")
        assert len(runner.sites) == 2
    finally:
        await runner.cleanup()


def test_graceful_exit_is_a_system_exit_with_code_1() -> None:
    assert issubclass(web.GracefulExit, SystemExit)
    assert web.GracefulExit().code == 1


async def test_runner_kwargs_reach_the_connections() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="x")

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app, max_line_size=100, keepalive_timeout=1.5)) as client:
        resp = await client.get("/" + "x" * 200)
        assert resp.status == 414 or resp.status == 400
        assert (await client.get("/")).status == 200


async def test_handler_args_override_runner_kwargs() -> None:
    """web_reference.rst Application(handler_args); web_advanced.rst timeout ceiling."""
    app = web.Application(handler_args={"max_line_size": 100, "timeout_ceil_threshold": 1})
    app.router.add_get("/", hello)
    async with TestClient(TestServer(app, max_line_size=10_000)) as client:
        resp = await client.get("/" + "x" * 200)
        assert resp.status in (400, 414)


# -- peer disconnection (web_advanced.rst) ---------------------------------------------------


@pytest.mark.parametrize("cancellation", [False, True])
async def test_peer_disconnection(cancellation: bool) -> None:
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(request: web.Request) -> web.Response:
        try:
            await request.text()
        except OSError:
            outcome.set_result("OSError")
            raise
        except asyncio.CancelledError:
            outcome.set_result("cancelled")
            raise
        outcome.set_result("read")  # pragma: no cover
        return web.Response()

    app = web.Application()
    app.router.add_post("/", handler)
    async with TestServer(app, handler_cancellation=cancellation) as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.transport.abort()
        result = await asyncio.wait_for(outcome, 5)
    assert result == ("cancelled" if cancellation else "OSError")


# -- run_app ----------------------------------------------------------------------------------


def _exit_soon() -> None:
    raise web.GracefulExit()


def make_fetching_app(port: int, results: list[bytes], *, path: str | None = None) -> Any:
    app = web.Application()
    app.router.add_get("/", hello)
    task_key = web.AppKey("task", asyncio.Task)

    async def fetch() -> None:
        for _ in range(200):
            await asyncio.sleep(0.01)
            try:
                if path is not None:
                    conn = asyncio.open_unix_connection(path)
                else:
                    conn = asyncio.open_connection("127.0.0.1", port)
                reader, writer = await asyncio.wait_for(conn, 0.5)
                break
            except (OSError, TimeoutError):
                continue
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        results.append(await asyncio.wait_for(reader.read(), 5))
        writer.close()
        asyncio.get_running_loop().call_soon(_exit_soon)

    async def on_startup(app: web.Application) -> None:
        app[task_key] = asyncio.get_running_loop().create_task(fetch())

    app.on_startup.append(on_startup)
    return app


def test_run_app_prints_and_serves() -> None:
    port = free_port()
    results: list[bytes] = []
    printed: list[str] = []
    web.run_app(
        make_fetching_app(port, results),
        host="127.0.0.1",
        port=port,
        print=printed.append,
        handle_signals=False,
        access_log=None,
    )
    assert results and results[0].endswith(b"OK")
    assert printed == [
        f"======== Running on http://127.0.0.1:{port} ========\n(Press CTRL+C to quit)"
    ]


def test_run_app_accepts_an_app_factory_coroutine() -> None:
    """web_advanced.rst "Passing a coroutine into run_app"."""
    port = free_port()
    results: list[bytes] = []

    async def app_factory() -> web.Application:
        await asyncio.sleep(0)  # async IO before making the app
        return make_fetching_app(port, results)  # type: ignore[no-any-return]

    web.run_app(app_factory(), host="127.0.0.1", port=port, print=None, handle_signals=False)
    assert results and results[0].endswith(b"OK")


def test_run_app_deployment_script_port_from_argparse() -> None:
    """deployment.rst: ``run_app(app, path=args.path, port=args.port)`` where argparse gives
    strings."""
    port = free_port()
    results: list[bytes] = []
    printed: list[str] = []
    web.run_app(
        make_fetching_app(port, results),
        path=None,
        port=str(port),  # type: ignore[arg-type]
        print=printed.append,
        handle_signals=False,
        access_log=None,
    )
    assert results and results[0].endswith(b"OK")
    assert printed == [
        f"======== Running on http://0.0.0.0:{port} ========\n(Press CTRL+C to quit)"
    ]


def test_run_app_unix_path(tmp_path: Path) -> None:
    path = str(tmp_path / "example_1.sock")
    results: list[bytes] = []
    printed: list[str] = []
    web.run_app(
        make_fetching_app(0, results, path=path),
        path=path,
        print=printed.append,
        handle_signals=False,
        access_log=None,
    )
    assert results and results[0].endswith(b"OK")
    assert printed == [f"======== Running on http://unix:{path}: ========\n(Press CTRL+C to quit)"]


# -- logging (logging.rst) ------------------------------------------------------------------


@asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(app, **kwargs)) as client:
        yield client


async def test_default_access_log_format(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    async with serve(app) as client:
        await client.get("/?q=1", headers={"Referer": "http://ref/", "User-Agent": "UA/1"})
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(records) == 1
    message = records[0].getMessage()
    pattern = (
        r"127\.0\.0\.1 \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
        r'"GET /\?q=1 HTTP/1\.1" 200 \d+ "http://ref/" "UA/1"'
    )
    assert re.fullmatch(pattern, message), message
    assert web.AccessLogger.LOG_FORMAT == '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'


async def test_access_log_format_specifiers(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="body", headers={"X-Out": "out"})

    app = web.Application()
    app.router.add_get("/", handler)
    logger = logging.getLogger("test.docs.access")
    caplog.set_level(logging.INFO, logger="test.docs.access")
    fmt = "%% %a %P %r %s %b %T %Tf %D %{X-In}i %{X-Out}o %{Missing}i"
    async with serve(app, access_log=logger, access_log_format=fmt) as client:
        resp = await client.get("/", headers={"X-In": "in"})
        assert resp.status == 200
    (record,) = [r for r in caplog.records if r.name == "test.docs.access"]
    parts = record.getMessage().split(" ")
    assert parts[0] == "%"
    assert parts[1] == "127.0.0.1"
    assert parts[2] == f"<{os.getpid()}>"
    assert parts[3:6] == ["GET", "/", "HTTP/1.1"]
    assert parts[6] == "200"
    assert int(parts[7]) > len("body")  # headers included
    assert parts[8].isdigit()
    assert re.fullmatch(r"\d+\.\d{6}", parts[9])
    assert parts[10].isdigit()
    assert parts[11:] == ["in", "out", "-"]


async def test_access_log_none_disables_logging(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    caplog.set_level(logging.DEBUG)
    async with serve(app, access_log=None) as client:
        assert (await client.get("/")).status == 200
    assert not [r for r in caplog.records if r.name == ACCESS_LOGGER]


async def test_custom_access_logger_example(caplog: pytest.LogCaptureFixture) -> None:
    class AccessLogger(AbstractAccessLogger):
        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            self.logger.info(
                f"{request.remote} "
                f'"{request.method} {request.path} '
                f"done in {time}s: {response.status}"
            )

        @property
        def enabled(self) -> bool:
            return self.logger.isEnabledFor(logging.INFO)

    app = web.Application()
    app.router.add_get("/", hello)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    async with serve(app, access_log_class=AccessLogger) as client:
        await client.get("/")
    messages = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(messages) == 1
    assert re.fullmatch(r'127\.0\.0\.1 "GET / done in [0-9.e-]+s: 200', messages[0])


async def test_disabled_custom_access_logger_is_not_called() -> None:
    calls: list[Any] = []

    class Disabled(AbstractAccessLogger):
        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            calls.append(request)  # pragma: no cover

        @property
        def enabled(self) -> bool:
            return False

    app = web.Application()
    app.router.add_get("/", hello)
    async with serve(app, access_log_class=Disabled) as client:
        assert (await client.get("/")).status == 200
    assert calls == []


async def test_async_access_logger_example() -> None:
    """logging.rst: AbstractAsyncAccessLogger lets log() await, e.g. the request body."""
    from aiohyper.abc import AbstractAsyncAccessLogger

    logged: list[str] = []
    service = web.AppKey("logging_service", list)

    class AccessLogger(AbstractAsyncAccessLogger):
        async def log(
            self, request: web.BaseRequest, response: web.StreamResponse, time: float
        ) -> None:
            assert isinstance(request, web.Request)
            await asyncio.sleep(0)
            logging_service = request.app[service]
            logging_service.append(
                f"{request.remote} "
                f'"{request.method} {request.path} '
                f"done in {time}s: {response.status} body={await request.text()}"
            )

        @property
        def enabled(self) -> bool:
            return self.logger.isEnabledFor(logging.INFO)

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="x")

    logger = logging.getLogger("test.docs.async_access")
    logger.setLevel(logging.INFO)
    app = web.Application()
    app[service] = logged
    app.router.add_post("/", handler)
    async with serve(app, access_log_class=AccessLogger, access_log=logger) as client:
        assert (await client.post("/", data=b"payload")).status == 200
        assert (await client.post("/", data=b"again")).status == 200
    assert len(logged) == 2
    assert re.fullmatch(r'127\.0\.0\.1 "POST / done in [0-9.e-]+s: 200 body=payload', logged[0])
    assert logged[1].endswith("body=again")


async def test_access_log_class_must_be_an_access_logger() -> None:
    class NotALogger:
        pass

    runner = web.AppRunner(web.Application(), access_log_class=NotALogger)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await runner.setup()
    await runner.cleanup()


async def test_errors_go_to_the_server_logger_or_a_custom_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("kaboom")

    app = web.Application()
    app.router.add_get("/", boom)
    caplog.set_level(logging.ERROR)
    async with serve(app) as client:
        assert (await client.get("/")).status == 500
    assert any(
        r.name == "aiohyper.server" and r.exc_info and "kaboom" in str(r.exc_info[1])
        for r in caplog.records
    )
    caplog.clear()
    custom = logging.getLogger("my.errors")
    async with serve(app, logger=custom) as client:
        assert (await client.get("/")).status == 500
    assert any(r.name == "my.errors" for r in caplog.records)
    assert not any(r.name == "aiohyper.server" for r in caplog.records)


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_auto_decompress_and_max_field_size(auto_decompress: bool) -> None:
    """web_reference.rst AppRunner kwargs: auto_decompress (True by default), max_field_size."""
    import gzip

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/", echo)
    compressed = gzip.compress(b"hello")
    async with serve(app, auto_decompress=auto_decompress, max_field_size=50) as client:
        resp = await client.post("/", data=compressed, headers={"Content-Encoding": "gzip"})
        assert await resp.read() == (b"hello" if auto_decompress else compressed)
        resp = await client.post("/", data=b"x", headers={"X-Long": "v" * 100})
        assert resp.status in (400, 431)
