"""Memory suite: server RSS, RSS per 1 000 idle keep-alive connections, and import time.

* RSS: ``app.py`` (asyncio, core 0) is warmed with a few requests, its RSS read from
  ``/proc/<pid>/status``; then ``idle_conns.py`` (a separate process, core 1) opens 1 000
  connections, sends one request on each and leaves them idle; the RSS growth is reported per
  1 000 connections.
* Import time: a fresh interpreter times ``import X; from X import web`` with ``perf_counter``
  (interpreter start-up excluded), frameworks alternating, median of N per round.

Alone: ``uv run python benchmarks/suite_memory.py [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from argparse import Namespace

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
    rss_kib,
    short_error,
)
from _report import Metric, Results

SUITE = "memory"
CONNS = 1000

IMPORT_SNIPPET = (
    "import time; t0 = time.perf_counter(); import {fw}; from {fw} import web; "
    "print(time.perf_counter() - t0)"
)

M_IDLE = Metric(SUITE, "server RSS after warm-up", "MiB", higher=False)
M_CONNS = Metric(SUITE, f"server RSS per {CONNS:,} idle keep-alive conns", "MiB", higher=False)
M_IMPORT = Metric(SUITE, "import X; from X import web", "ms", higher=False)


def measure_rss(fw: str, results: Results) -> None:
    server = Child(pinned(SERVER_CPU, [python_for(fw), str(HERE / "app.py")]), framework_env(fw))
    try:
        port = int(server.wait_ready())
        for _ in range(200):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/plaintext", timeout=5) as r:
                r.read()
        time.sleep(0.3)
        before = rss_kib(server.pid)
        idle = Child(
            pinned(
                CLIENT_CPU,
                [sys.executable, str(HERE / "idle_conns.py"), str(port), "--conns", str(CONNS)],
            )
        )
        try:
            idle.wait_ready(timeout=90)
            time.sleep(0.5)
            if not server.alive():
                raise ChildError("server died: " + server._stderr_tail())
            after = rss_kib(server.pid)
        finally:
            idle.stop()
    except (ChildError, OSError) as exc:
        results.fail(M_IDLE, fw, str(exc))
        results.fail(M_CONNS, fw, str(exc))
        return
    finally:
        server.stop()
    results.add(M_IDLE, fw, before / 1024)
    results.add(M_CONNS, fw, (after - before) / 1024 * 1000 / CONNS)
    print(
        f"  {fw:8} RSS {before / 1024:.1f} MiB, +{(after - before) / 1024:.1f} MiB "
        f"with {CONNS} idle conns",
        file=sys.stderr,
    )


def import_once(fw: str) -> float:
    code = IMPORT_SNIPPET.format(fw=fw)
    out = subprocess.run(
        [python_for(fw), "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=framework_env(fw),
    )
    if out.returncode:
        raise ChildError(short_error(out.stderr))
    return float(out.stdout.strip()) * 1000


def measure_imports(order: list[str], opts: Namespace, results: Results) -> None:
    n = 5 if opts.quick else 15
    samples: dict[str, list[float]] = {fw: [] for fw in order}
    failed: dict[str, str] = {}
    for fw in order:  # warm the page cache and write the .pyc files
        try:
            import_once(fw)
        except (ChildError, subprocess.SubprocessError, ValueError) as exc:
            failed[fw] = str(exc)
    for _ in range(n):
        for fw in order:
            if fw not in failed:
                samples[fw].append(import_once(fw))
    for fw in order:
        if fw in failed:
            results.fail(M_IMPORT, fw, failed[fw])
        else:
            value = statistics.median(samples[fw])
            results.add(M_IMPORT, fw, value)
            print(f"  {fw:8} import: {value:.1f} ms", file=sys.stderr)


def run_round(order: list[str], opts: Namespace, results: Results) -> None:
    for fw in order:
        measure_rss(fw, results)
    measure_imports(order, opts, results)


if __name__ == "__main__":
    from run import main

    main([SUITE, *sys.argv[1:]])
