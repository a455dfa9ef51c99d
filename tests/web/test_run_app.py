"""run_app and the ``python -m aiohyper.web`` command line."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from aiohyper.log import access_logger
from aiohyper.web import __main__ as web_main
from aiohyper.web._app import AppKey, Application
from aiohyper.web._response import Response
from aiohyper.web._run_app import run_app
from aiohyper.web._runner import GracefulExit

CLIENT = AppKey("client", asyncio.Task)
STOPPER = AppKey("stopper", asyncio.Task)
SRC = str(Path(__file__).resolve().parents[2] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def hello(request: Any) -> Response:
    return Response(text="hello")


async def fetch(connect: Callable[[], Any]) -> bytes:
    """Retry until the server listens, then GET / and return the whole response."""
    for _ in range(200):
        try:
            reader, writer = await connect()
            break
        except OSError:
            await asyncio.sleep(0.01)
    else:
        raise AssertionError("server never started")
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data: bytes = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


def make_app(
    *connectors: Callable[[], Any], events: list[str] | None = None, stop: bool = True
) -> Application:
    """An app that, once serving, fetches / through each connector then asks to exit."""
    app = Application()
    app.router.add_get("/", hello)
    log = events if events is not None else []

    async def client() -> None:
        for connect in connectors:
            log.append((await fetch(connect)).split(b"\r\n", 1)[0].decode())
        if stop:
            asyncio.get_running_loop().call_soon(_exit)

    async def on_startup(app: Application) -> None:
        log.append("startup")
        app[CLIENT] = asyncio.get_running_loop().create_task(client())

    async def on_shutdown(app: Application) -> None:
        log.append("shutdown")

    async def on_cleanup(app: Application) -> None:
        log.append("cleanup")

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


def _exit() -> None:
    raise GracefulExit()


def tcp(port: int, host: str = "127.0.0.1") -> Callable[[], Any]:
    return lambda: asyncio.open_connection(host, port)


def test_serves_until_graceful_exit() -> None:
    port = free_port()
    events: list[str] = []
    printed: list[str] = []
    run_app(
        make_app(tcp(port), events=events),
        host="127.0.0.1",
        port=port,
        print=printed.append,
        handle_signals=False,
        access_log=None,
    )
    assert events == ["startup", "HTTP/1.1 200 OK", "shutdown", "cleanup"]
    assert printed == [
        f"======== Running on http://127.0.0.1:{port} ========\n(Press CTRL+C to quit)"
    ]


def test_app_factory_coroutine() -> None:
    port = free_port()
    events: list[str] = []

    async def factory() -> Application:
        return make_app(tcp(port), events=events)

    run_app(factory(), host="127.0.0.1", port=port, print=None, handle_signals=False)
    assert events[:2] == ["startup", "HTTP/1.1 200 OK"]


def test_several_hosts_and_port_only(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    events: list[str] = []
    run_app(
        make_app(tcp(port, "127.0.0.1"), tcp(port, "127.0.0.2"), events=events),
        host=["127.0.0.1", "127.0.0.2"],
        port=port,
        handle_signals=False,
        access_log=None,
    )
    assert events.count("HTTP/1.1 200 OK") == 2
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}, http://127.0.0.2:{port}" in out


def test_port_only_listens_on_all_interfaces() -> None:
    port = free_port()
    events: list[str] = []
    printed: list[str] = []
    run_app(
        make_app(tcp(port), events=events),
        port=port,
        print=printed.append,
        handle_signals=False,
        access_log=None,
    )
    assert "HTTP/1.1 200 OK" in events
    assert f"http://0.0.0.0:{port}" in printed[0]


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="UNIX sockets only")
def test_path_and_sock(tmp_path: Path) -> None:
    path = str(tmp_path / "app.sock")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    events: list[str] = []
    printed: list[str] = []
    run_app(
        make_app(lambda: asyncio.open_unix_connection(path), tcp(port), events=events),
        path=path,
        sock=sock,
        print=printed.append,
        handle_signals=False,
        access_log=None,
    )
    assert events.count("HTTP/1.1 200 OK") == 2
    # Neither host nor port: no TCP site on 0.0.0.0.
    assert printed[0].startswith(f"======== Running on http://127.0.0.1:{port}, http://unix:")


def test_startup_error_propagates_and_closes_loop() -> None:
    loop = asyncio.new_event_loop()
    app = Application()

    async def failing(app: Application) -> None:
        raise RuntimeError("cannot start")

    app.on_startup.append(failing)
    with pytest.raises(RuntimeError, match="cannot start"):
        run_app(app, host="127.0.0.1", port=free_port(), print=None, loop=loop)
    assert loop.is_closed()


def test_keyboard_interrupt_stops_gracefully() -> None:
    port = free_port()
    events: list[str] = []
    app = make_app(tcp(port), events=events, stop=False)

    async def interrupt(app: Application) -> None:
        async def later() -> None:
            await app[CLIENT]

            def stop() -> None:
                raise KeyboardInterrupt

            asyncio.get_running_loop().call_soon(stop)

        app[STOPPER] = asyncio.get_running_loop().create_task(later())

    app.on_startup.append(interrupt)
    run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False)
    assert events[-2:] == ["shutdown", "cleanup"]


def test_leftover_tasks_are_cancelled_and_loop_closed() -> None:
    port = free_port()
    cancelled: list[bool] = []
    loop = asyncio.new_event_loop()
    app = make_app(tcp(port))

    async def background() -> None:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def start_background(app: Application) -> None:
        asyncio.get_running_loop().create_task(background())

    app.on_startup.append(start_background)
    run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False, loop=loop)
    assert cancelled == [True]
    assert loop.is_closed()


def test_debug_mode_makes_access_log_visible() -> None:
    port = free_port()
    loops: list[asyncio.AbstractEventLoop] = []
    app = make_app(tcp(port))

    async def grab_loop(app: Application) -> None:
        loops.append(asyncio.get_running_loop())

    app.on_startup.append(grab_loop)
    saved_level, saved_handlers = access_logger.level, list(access_logger.handlers)
    try:
        access_logger.setLevel(logging.NOTSET)
        with mock.patch.object(access_logger, "hasHandlers", return_value=False):
            run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False, debug=True)
        assert loops[0].get_debug()
        assert access_logger.level == logging.DEBUG
        assert len(access_logger.handlers) == len(saved_handlers) + 1
    finally:
        access_logger.setLevel(saved_level)
        access_logger.handlers[:] = saved_handlers


SCRIPT = textwrap.dedent(
    """
    import sys
    from aiohyper.web._app import Application
    from aiohyper.web._response import Response
    from aiohyper.web._run_app import run_app

    async def hello(request):
        return Response(text="hello")

    async def on_cleanup(app):
        print("cleaned up", flush=True)

    app = Application()
    app.router.add_get("/", hello)
    app.on_cleanup.append(on_cleanup)
    run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda s: print(s, flush=True))
    print("exited", flush=True)
    """
)


def wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not start")


def http_get_sync(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_exit_gracefully(sig: int) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_listening(port, proc)
        assert http_get_sync(port).endswith(b"hello")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Running on http://127.0.0.1" in out
    assert "cleaned up\nexited" in out


# -- python -m aiohyper.web -------------------------------------------------------------------


def test_cli_main_builds_and_runs_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "cli_test_app.py"
    module.write_text(
        "from aiohyper.web._app import AppKey, Application\n"
        "ARGV = AppKey('argv', list)\n"
        "def init(argv):\n"
        "    app = Application()\n"
        "    app[ARGV] = argv\n"
        "    return app\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(web_main, "run_app", lambda app, **kw: calls.append((app, kw)))
    with pytest.raises(SystemExit) as exc_info:
        web_main.main(["-H", "127.0.0.1", "-P", "9999", "cli_test_app:init", "--extra", "1"])
    assert exc_info.value.code == 0
    ((app, kwargs),) = calls
    assert kwargs == {"host": "127.0.0.1", "port": 9999, "path": None}
    assert app[sys.modules["cli_test_app"].ARGV] == ["--extra", "1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no_colon"], "module:function"),
        ([".rel:func"], "relative module"),
        (["surely_missing_module_xyz:func"], "unable to import"),
        (["os:surely_missing_function"], "has no attribute"),
    ],
)
def test_cli_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        web_main.main(argv)
    assert exc_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_as_module(tmp_path: Path) -> None:
    (tmp_path / "cli_mod_app.py").write_text(
        "import asyncio\n"
        "from aiohyper.web._app import Application\n"
        "from aiohyper.web._response import Response\n"
        "async def hello(request):\n"
        "    return Response(text='from cli')\n"
        "def init(argv):\n"
        "    app = Application()\n"
        "    app.router.add_get('/', hello)\n"
        "    return app\n"
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, str(tmp_path)])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiohyper.web",
            "-H",
            "127.0.0.1",
            "-P",
            str(port),
            "cli_mod_app:init",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_listening(port, proc)
        assert http_get_sync(port).endswith(b"from cli")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
