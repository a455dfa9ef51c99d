"""Shared plumbing of the benchmark suites: frameworks, interpreters, CPU pinning, child processes.

Every benchmark runs the *same* code on both frameworks. Worker scripts (run in a child process)
call :func:`load_framework`, which imports ``aiohyper`` or ``aiohttp`` as the ``aiohttp`` /
``web`` pair according to ``BENCH_FRAMEWORK``. aiohyper runs from the project venv (the
interpreter running the driver); aiohttp 3.13.3 + uvloop from ``benchmarks/.venv-aiohttp``,
created on first use.

The machine has two cores: servers go on core 0 (:data:`SERVER_CPU`), load generators and
clients on core 1 (:data:`CLIENT_CPU`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-aiohttp"
PEER_PY = PEER_VENV / "bin" / "python"
RESULTS_DIR = HERE / "results"

FRAMEWORKS = ("aiohyper", "aiohttp")
SERVER_CPU = "0"
CLIENT_CPU = "1"


def ensure_peer() -> None:
    """Create the aiohttp venv (aiohttp 3.13.3 + uvloop) if it does not exist yet."""
    if PEER_PY.exists():
        return
    subprocess.run(["uv", "venv", "-q", "-p", "3.11", str(PEER_VENV)], check=True)
    subprocess.run(
        ["uv", "pip", "install", "-q", "--python", str(PEER_PY), "aiohttp==3.13.3", "uvloop"],
        check=True,
    )


def python_for(framework: str) -> str:
    """The interpreter that has ``framework`` installed (httpx lives in the project venv)."""
    return str(PEER_PY) if framework == "aiohttp" else sys.executable


def pinned(cpu: str, cmd: Sequence[str]) -> list[str]:
    """``cmd`` prefixed with ``taskset -c cpu`` when taskset exists and the CPU is there."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > int(cpu):
        return ["taskset", "-c", cpu, *cmd]
    return list(cmd)


def load_framework(name: str | None = None) -> tuple[ModuleType, ModuleType]:
    """Import the framework named by ``name`` / ``BENCH_FRAMEWORK`` as ``(aiohttp, web)``."""
    name = name or os.environ.get("BENCH_FRAMEWORK", "aiohyper")
    if name == "aiohyper":
        import aiohyper as aiohttp
        from aiohyper import web
    elif name == "aiohttp":
        import aiohttp  # type: ignore[no-redef]
        from aiohttp import web  # type: ignore[no-redef]
    else:
        raise SystemExit(f"unknown BENCH_FRAMEWORK {name!r}")
    return aiohttp, web


def loop_factory(name: str) -> Any:
    """Event loop factory for ``asyncio`` or ``uvloop``."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    import asyncio

    return asyncio.new_event_loop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on 127.0.0.1:{port}") from None
            time.sleep(0.05)


def short_error(text: str, limit: int = 160) -> str:
    """The most telling line of an error output (the last non-empty one), shortened."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    line = lines[-1] if lines else "no output"
    return line if len(line) <= limit else line[: limit - 3] + "..."


class ChildError(RuntimeError):
    """A worker process failed; the message is its last stderr line."""


class Child:
    """A long-running child process (a server) that prints ``READY <info>`` once it serves."""

    def __init__(self, cmd: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.cmd = list(cmd)
        # stderr goes to a file: a server logging an error per request must never block on a
        # full pipe (that would measure the pipe, not the server).
        self.errfile = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errfile,
            env=env,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 20.0) -> str:
        """Block until the child prints ``READY ...``; return the rest of that line."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                tail = self._stderr_tail() if self.proc.poll() is not None else "no READY line"
                self.stop()
                raise ChildError(f"not ready after {timeout:.0f}s: {tail}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            if not line:  # exited
                self.proc.wait()
                raise ChildError(self._stderr_tail())
            if line.startswith("READY"):
                return line[5:].strip()

    def _stderr_tail(self) -> str:
        return short_error(self.stderr_text() or "exited without output")

    def stderr_text(self) -> str:
        self.errfile.flush()
        self.errfile.seek(0)
        return self.errfile.read()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate this child (by its pid) and reap it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        self.errfile.close()


@contextlib.contextmanager
def child(cmd: Sequence[str], env: dict[str, str] | None = None) -> Iterator[Child]:
    c = Child(cmd, env)
    try:
        yield c
    finally:
        c.stop()


def run_json(cmd: Sequence[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run a worker script to completion and parse the JSON object on its last stdout line."""
    try:
        out = subprocess.run(
            list(cmd), capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ChildError(f"timed out after {timeout:.0f}s") from None
    if out.returncode != 0:
        raise ChildError(short_error(out.stderr or out.stdout))
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise ChildError("no output")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def framework_env(framework: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, BENCH_FRAMEWORK=framework)
    env.update(extra)
    return env


async def timed_round_trips(
    round_trip: Callable[[], Awaitable[object]], duration: float, server_pid: int = 0
) -> tuple[float, float]:
    """Run ``round_trip()`` over and over for ``duration`` seconds, after 50 for warm-up.

    Returns round trips per second and the CPU time per round trip (µs) of this process plus,
    with ``server_pid``, of the server. The frameworks and the floor are timed by this same loop.
    """
    for _ in range(50):
        await round_trip()
    count = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    s0 = cpu_seconds(server_pid) if server_pid else 0.0
    deadline = t0 + duration
    while True:
        for _ in range(16):
            await round_trip()
        count += 16
        now = time.perf_counter()
        if now >= deadline:
            break
    cpu = time.process_time() - c0 + (cpu_seconds(server_pid) - s0 if server_pid else 0.0)
    return count / (now - t0), cpu / count * 1e6


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far, from /proc (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ChildError(f"no VmRSS for pid {pid}")


def emit(obj: dict[str, Any]) -> None:
    """Print the one JSON line a worker script reports with."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
