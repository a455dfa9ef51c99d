"""Gunicorn workers: a real gunicorn master with two aiohyper workers, and unit checks."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

HAS_GUNICORN = importlib.util.find_spec("gunicorn") is not None
HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def need_gunicorn() -> None:
    if not HAS_GUNICORN:
        if os.environ.get("CI") == "true":
            pytest.fail("gunicorn is part of the dev dependencies and must be installed on CI")
        pytest.skip("gunicorn is not installed")


def gunicorn_extra_args() -> list[str]:
    import gunicorn

    # Gunicorn 27 opens a control socket in the home directory unless told not to.
    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_get(port: int, path: str = "/") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


APP_MODULE = textwrap.dedent(
    """
    import os
    from aiohyper.web._app import Application
    from aiohyper.web._response import Response

    async def index(request):
        return Response(text=f"pid={os.getpid()}")

    async def on_startup(app):
        # Tells the test this worker is serving (and has its signal handlers).
        open(os.path.join(os.environ["STARTED_DIR"], str(os.getpid())), "w").close()

    app = Application()
    app.router.add_get("/", index)
    app.on_startup.append(on_startup)

    async def factory():
        return app
    """
)


@pytest.mark.parametrize(
    ("worker", "target"),
    [
        ("GunicornWebWorker", "gunicorn_test_app:app"),
        ("GunicornWebWorker", "gunicorn_test_app:factory"),
        ("GunicornUVLoopWebWorker", "gunicorn_test_app:app"),
    ],
)
def test_gunicorn_serves_app(tmp_path: Path, worker: str, target: str) -> None:
    need_gunicorn()
    if worker == "GunicornUVLoopWebWorker" and not HAS_UVLOOP:
        pytest.skip("uvloop is not installed")
    (tmp_path / "gunicorn_test_app.py").write_text(APP_MODULE)
    port = free_port()
    started = tmp_path / "started"
    started.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([SRC, str(tmp_path)]),
        "STARTED_DIR": str(started),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            target,
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            f"aiohyper.worker.{worker}",
            "-w",
            "2",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            *gunicorn_extra_args(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        body = b""
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            try:
                body = http_get(port)
                break
            except OSError:
                time.sleep(0.1)
        assert body.startswith(b"HTTP/1.1 200 OK"), body
        assert b"pid=" in body
        for _ in range(5):
            assert http_get(port).startswith(b"HTTP/1.1 200 OK")
        # A worker still booting would miss the signal (a gunicorn race), so wait for both.
        while len(list(started.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"aiohyper.worker.{worker}" in err
    # gunicorn's default access log format was replaced by ours: '"GET / HTTP/1.1" 200'.
    assert '"GET / HTTP/1.1" 200' in out + err


def test_module_imports_without_gunicorn() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["gunicorn"] = None  # make `import gunicorn...` fail
        import aiohyper.worker as w
        try:
            w.GunicornWebWorker()
        except ImportError as exc:
            print("ImportError:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "ImportError: aiohyper.worker needs gunicorn" in result.stdout


def make_worker() -> Any:
    need_gunicorn()
    from aiohyper.worker import GunicornWebWorker

    cfg = mock.Mock()
    cfg.max_requests = 0
    with mock.patch("gunicorn.workers.base.WorkerTmp"):
        return GunicornWebWorker(0, os.getppid(), [], mock.Mock(), 30, cfg, mock.Mock())


def test_log_format_translation() -> None:
    worker = make_worker()
    from aiohyper.web._log import AccessLogger

    assert (
        worker._get_valid_log_format(worker.DEFAULT_GUNICORN_LOG_FORMAT) == AccessLogger.LOG_FORMAT
    )
    assert worker._get_valid_log_format("%a %s") == "%a %s"
    with pytest.raises(ValueError, match="not supported"):
        worker._get_valid_log_format("%(h)s %(r)s")


def test_notify_waiter() -> None:
    import asyncio

    worker = make_worker()
    worker.loop = asyncio.new_event_loop()
    try:
        waiter = worker._wait_next_notify()
        assert not waiter.done()
        worker._notify_waiter_done()
        assert waiter.done() and waiter.result() is True
        assert worker._notify_waiter is None
    finally:
        worker.loop.close()


def test_handle_quit_and_abort() -> None:
    worker = make_worker()
    worker._notify_waiter_done = mock.Mock()
    worker.handle_quit(signal.SIGQUIT, None)
    assert worker.alive is False
    worker.cfg.worker_int.assert_called_once_with(worker)
    worker._notify_waiter_done.assert_called_once_with()

    worker = make_worker()
    with pytest.raises(SystemExit) as exc_info:
        worker.handle_abort(signal.SIGABRT, None)
    assert exc_info.value.code == 1
    assert worker.exit_code == 1
