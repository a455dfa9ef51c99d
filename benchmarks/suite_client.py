"""Client suite: aiohyper's ClientSession vs aiohttp's (httpx, and the floor, for reference).

Server side (core 0): nginx from a generated config in a temp dir (``/small`` and a 100 MiB
``/big`` file) when nginx is installed, else ``canned_server.py``; uploads always go to
``canned_server.py``, which reads the whole body before answering. Client side (core 1):
``bench_client.py`` in each framework's interpreter. httpx (a reference, not in the ratio) does a
quarter of the GETs: it is far slower per request and the figure is a rate anyway. The floor
(``raw asyncio``, ``bench_floor.py``) does the GETs and the download on bare asyncio protocols.

Alone: ``uv run python benchmarks/suite_client.py [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    CLIENT_CPU,
    HERE,
    SERVER_CPU,
    ChildError,
    child,
    framework_env,
    free_port,
    pinned,
    python_for,
    run_json,
    wait_port,
)
from _report import Metric, Results

SUITE = "client"
MiB = 1024 * 1024
REFERENCE = "httpx"
FLOOR = "raw asyncio"  # bench_floor.py: no framework (the GETs and the download only)

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        location = /small {{ default_type text/plain; return 200 "Hello, World!"; }}
        location = /big {{ default_type application/octet-stream; alias {tmp}/big.bin; }}
    }}
}}
"""


def sizes(opts: Namespace) -> dict[str, int]:
    if opts.quick:
        return {"requests": 2_000, "big": 20 * MiB, "uploads": 10}
    return {"requests": 20_000, "big": 100 * MiB, "uploads": 50}


def metrics(opts: Namespace) -> dict[str, Metric]:
    s = sizes(opts)
    n = f"{s['requests']:,}"
    return {
        "seq_get": Metric(SUITE, f"{n} sequential GETs, 1 keep-alive conn", "req/s"),
        "conc_get": Metric(SUITE, f"{n} GETs, concurrency 64, one session", "req/s"),
        "seq_get_cpu_us": Metric(
            SUITE, "client CPU time per request, sequential", "µs", higher=False
        ),
        "conc_get_cpu_us": Metric(
            SUITE, "client CPU time per request, concurrency 64", "µs", higher=False
        ),
        "download": Metric(SUITE, f"download {s['big'] // MiB} MiB (median of 5)", "MiB/s"),
        "upload": Metric(SUITE, f"upload 1 MiB x{s['uploads']}", "MiB/s"),
    }


@contextlib.contextmanager
def servers(tmp: str, big_size: int) -> Iterator[tuple[str, str]]:
    """Start the GET server (nginx or canned) and the upload server; yield their base URLs."""
    with contextlib.ExitStack() as stack:
        canned_cmd = [sys.executable, str(HERE / "canned_server.py"), "--big-size", str(big_size)]
        canned = stack.enter_context(child(pinned(SERVER_CPU, canned_cmd)))
        canned_url = f"http://127.0.0.1:{canned.wait_ready()}"
        get_url = canned_url
        if shutil.which("nginx"):
            with open(Path(tmp, "big.bin"), "wb") as f:
                f.truncate(big_size)  # sparse zeros: served from the page cache
            with open(Path(tmp, "big.bin"), "rb") as f:
                # Read once here, so that the page cache is warm for every framework (the first
                # to download in a round would otherwise pay for filling it).
                while f.read(MiB):
                    pass
            port = free_port()
            conf = Path(tmp, "nginx.conf")
            user = "user root;" if os.geteuid() == 0 else ""
            conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, user=user))
            cmd = ["nginx", "-p", tmp, "-e", f"{tmp}/error.log", "-c", str(conf)]
            nginx = stack.enter_context(child(pinned(SERVER_CPU, cmd)))
            try:
                wait_port(port)
            except TimeoutError:
                nginx.stop()
                log = Path(tmp, "error.log")
                raise ChildError("nginx: " + (log.read_text() if log.exists() else "no log"))
            get_url = f"http://127.0.0.1:{port}"
        yield get_url, canned_url


def run_round(order: list[str], opts: Namespace, results: Results) -> None:
    s = sizes(opts)
    mets = metrics(opts)
    with tempfile.TemporaryDirectory(prefix="aiohyper-bench-") as tmp:
        try:
            ctx = servers(tmp, s["big"])
            get_url, upload_url = ctx.__enter__()
        except (ChildError, OSError) as exc:
            for fw in [*order, REFERENCE]:
                for m in mets.values():
                    results.fail(m, fw, f"server: {exc}")
            return
        try:
            for fw in [*order, REFERENCE, FLOOR]:
                if fw == FLOOR:
                    cmd = [
                        sys.executable, str(HERE / "bench_floor.py"),
                        "--small", f"{get_url}/small", "--big", f"{get_url}/big",
                        "--requests", str(s["requests"]), "--big-size", str(s["big"]),
                    ]  # fmt: skip
                else:
                    cmd = [
                    python_for(fw), str(HERE / "bench_client.py"),
                        "--small", f"{get_url}/small", "--big", f"{get_url}/big",
                        "--upload", f"{upload_url}/upload",
                        # httpx is ~10x slower per request: a quarter of the requests gives
                        # the same rate in a bounded time.
                        "--requests", str(s["requests"] // (4 if fw == REFERENCE else 1)),
                        "--big-size", str(s["big"]),
                        "--uploads", str(s["uploads"]),
                        "--case-timeout", "60" if opts.quick else "180",
                    ]  # fmt: skip
                try:
                    out = run_json(pinned(CLIENT_CPU, cmd), framework_env(fw), timeout=900)
                except ChildError as exc:
                    for m in mets.values():
                        results.fail(m, fw, str(exc))
                    continue
                for case, m in mets.items():
                    if fw in (FLOOR, REFERENCE) and case not in out:
                        continue  # (no upload floor; CPU times only from the frameworks)
                    value = out.get(case, {"error": "not run"})
                    if isinstance(value, dict):
                        results.fail(m, fw, str(value.get("error")))
                    else:
                        results.add(m, fw, value)
                        print(f"  {fw:8} {m.name}: {value:,.1f} {m.unit}", file=sys.stderr)
        finally:
            ctx.__exit__(None, None, None)


if __name__ == "__main__":
    from run import main

    main([SUITE, *sys.argv[1:]])
