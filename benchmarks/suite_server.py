"""Server suite: wrk against ``app.py`` on aiohyper and on aiohttp.

Endpoints ``GET /plaintext``, ``GET /json``, ``GET /user/{id}`` (100 other routes registered),
``POST /echo`` with a 4 KiB body and a 1 MiB static file; each with and without one middleware,
on asyncio and on uvloop. ``-c64 --latency`` gives req/s and the p99 latency under load,
``-c1 --latency`` the p50/p99 latency of one request at a time. The server
is pinned to core 0, wrk to core 1. Both frameworks' servers of a configuration run at once and
each endpoint is measured on one then the other, back to back.

Alone: ``uv run python benchmarks/suite_server.py [--rounds 3] [--quick] [--duration S]``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from argparse import Namespace
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    CLIENT_CPU,
    HERE,
    SERVER_CPU,
    Child,
    ChildError,
    framework_env,
    pinned,
    python_for,
)
from _report import Metric, Results

SUITE = "server"
STATIC_SIZE = 1024 * 1024
ECHO_SIZE = 4096
LUA_POST = HERE / "wrk" / "post_4k.lua"

# (label, path, wrk lua script or None, expected body length or None)
ENDPOINTS: list[tuple[str, str, Path | None, int | None]] = [
    ("plaintext", "/plaintext", None, 13),
    ("json", "/json", None, None),
    ("user/{id}", "/user/12345", None, len("user 12345")),
    ("echo 4KiB", "/echo", LUA_POST, ECHO_SIZE),
    ("static 1MiB", "/static/1m.bin", None, STATIC_SIZE),
]
LOOPS = ("asyncio", "uvloop")

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def _metrics(label: str, loop: str, mw: bool) -> tuple[Metric, Metric, Metric, Metric]:
    cfg = f"{label} · {loop}{' · mw' if mw else ''}"
    return (
        Metric(SUITE, f"{cfg} · c64", "req/s"),
        Metric(SUITE, f"{cfg} · c64 p99", "µs", higher=False),
        Metric(SUITE, f"{cfg} · c1 p50", "µs", higher=False),
        Metric(SUITE, f"{cfg} · c1 p99", "µs", higher=False),
    )


def _parse_latency(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"bad latency {text!r}")
    return float(m.group(1)) * _UNITS_US[m.group(2)]


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/sec, p50/p99 (µs, when ``--latency``) and error counts from wrk's output."""
    res: dict[str, float] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise ChildError("wrk: " + (out.strip().splitlines() or ["no output"])[-1])
    res["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m:
            res[f"p{pct}"] = _parse_latency(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = float(sum(int(g) for g in m.groups())) if m else 0.0
    return res


def wrk(
    url: str, *, conns: int, duration: float, script: Path | None, latency: bool
) -> dict[str, float]:
    # wrk takes whole seconds only.
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(duration))}s", "--timeout", "5s"]
    if latency:
        cmd.append("--latency")
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    out = subprocess.run(
        pinned(CLIENT_CPU, cmd), capture_output=True, text=True, timeout=duration + 30
    )
    res = parse_wrk(out.stdout + out.stderr)
    if res["non2xx"]:
        raise ChildError(f"{res['non2xx']:.0f} non-2xx responses")
    if res["errors"] > max(10.0, 0.001 * res["requests"]):
        raise ChildError(f"{res['errors']:.0f} socket errors in {res['requests']:.0f} requests")
    return res


def check(base: str, path: str, script: Path | None, size: int | None) -> None:
    """One request through urllib: status 200 and the expected body, before measuring."""
    data = b"x" * ECHO_SIZE if script is not None else None
    req = urllib.request.Request(base + path, data=data)
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
        if resp.status != 200:
            raise ChildError(f"status {resp.status}")
    if size is not None and len(body) != size:
        raise ChildError(f"body of {len(body)} bytes, expected {size}")


def measure_endpoint(
    framework: str,
    server: Child,
    base: str,
    endpoint: tuple[str, str, Path | None, int | None],
    loop: str,
    mw: bool,
    opts: Namespace,
    results: Results,
) -> None:
    label, path, script, size = endpoint
    c64, c64_p99, p50, p99 = _metrics(label, loop, mw)
    try:
        if not server.alive():
            raise ChildError("server died: " + server._stderr_tail())
        check(base, path, script, size)
        if opts.warmup:
            wrk(base + path, conns=64, duration=opts.warmup, script=script, latency=False)
        else:
            for _ in range(20):
                check(base, path, script, size)
        hot = wrk(base + path, conns=64, duration=opts.duration, script=script, latency=True)
        one = wrk(base + path, conns=1, duration=opts.duration, script=script, latency=True)
    except (ChildError, OSError, ValueError, subprocess.SubprocessError) as exc:
        for metric in (c64, c64_p99, p50, p99):
            results.fail(metric, framework, str(exc) or type(exc).__name__)
        return
    results.add(c64, framework, hot["rps"])
    results.add(c64_p99, framework, hot["p99"])
    results.add(p50, framework, one["p50"])
    results.add(p99, framework, one["p99"])
    _progress(
        f"{framework:8} {c64.name}: {hot['rps']:,.0f} req/s (p99 {hot['p99']:.0f}µs), "
        f"c1 p50 {one['p50']:.0f}µs p99 {one['p99']:.0f}µs"
    )


def run_config(
    order: list[str], loop: str, mw: bool, static_dir: str, opts: Namespace, results: Results
) -> None:
    """Both frameworks' servers up at once (the idle one sleeps in epoll); for each endpoint
    the frameworks are measured back to back, so a change in the machine's load hits the two
    members of a pair alike."""
    servers: dict[str, Child] = {}
    try:
        for fw in order:
            cmd = [
                python_for(fw),
                str(HERE / "app.py"),
                "--loop",
                loop,
                "--static-dir",
                static_dir,
            ]
            if mw:
                cmd.append("--middleware")
            servers[fw] = Child(pinned(SERVER_CPU, cmd), framework_env(fw))
        bases: dict[str, str] = {}
        for fw, server in servers.items():
            try:
                bases[fw] = f"http://127.0.0.1:{int(server.wait_ready())}"
            except ChildError as exc:
                for label, *_ in ENDPOINTS:
                    for metric in _metrics(label, loop, mw):
                        results.fail(metric, fw, f"server: {exc}")
        for endpoint in ENDPOINTS:
            for fw in order:
                if fw in bases:
                    measure_endpoint(fw, servers[fw], bases[fw], endpoint, loop, mw, opts, results)
    finally:
        for server in servers.values():
            server.stop()


def _progress(text: str) -> None:
    print("  " + text, file=sys.stderr, flush=True)


def options(opts: Namespace) -> None:
    """Fill in this suite's defaults (durations) on the runner's options."""
    if getattr(opts, "duration", None) is None:
        opts.duration = 2.0 if opts.quick else 5.0
    opts.warmup = 0 if opts.quick else 1


def run_round(order: list[str], opts: Namespace, results: Results) -> None:
    options(opts)
    if not shutil.which("wrk"):
        for fw in order:
            results.fail(Metric(SUITE, "wrk", "req/s"), fw, "wrk is not installed")
        return
    with tempfile.TemporaryDirectory(prefix="aiohyper-bench-") as tmp:
        Path(tmp, "1m.bin").write_bytes(os.urandom(STATIC_SIZE))
        for loop in LOOPS:
            for mw in (False, True):
                run_config(order, loop, mw, tmp, opts, results)


if __name__ == "__main__":
    from run import main

    main([SUITE, *sys.argv[1:]])
