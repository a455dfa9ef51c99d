"""WebSocket suite: echo round trips/s, 16-byte and 64 KiB messages, both sides on one framework.

The server is ``app.py --ws`` (core 0), the client ``bench_ws.py`` (core 1); aiohyper↔aiohyper
against aiohttp↔aiohttp, on asyncio.

Alone: ``uv run python benchmarks/suite_ws.py [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import os
import sys
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
    run_json,
)
from _report import Metric, Results

SUITE = "websocket"
SIZES = {16: "16 B", 65536: "64 KiB"}


def run_round(order: list[str], opts: Namespace, results: Results) -> None:
    duration = 1.0 if opts.quick else 3.0
    mets = {
        size: Metric(SUITE, f"echo {label} messages", "round trips/s")
        for size, label in SIZES.items()
    }
    for fw in order:
        cmd = [python_for(fw), str(HERE / "app.py"), "--ws"]
        server = Child(pinned(SERVER_CPU, cmd), framework_env(fw))
        try:
            port = int(server.wait_ready())
            client = [
                python_for(fw), str(HERE / "bench_ws.py"), "--url", f"http://127.0.0.1:{port}/ws",
                "--duration", str(duration), "--sizes", *map(str, SIZES),
            ]  # fmt: skip
            out = run_json(pinned(CLIENT_CPU, client), framework_env(fw), timeout=120)
        except ChildError as exc:
            for m in mets.values():
                results.fail(m, fw, str(exc))
            continue
        finally:
            server.stop()
        for size, m in mets.items():
            value = out.get(str(size), {"error": "not run"})
            if isinstance(value, dict):
                results.fail(m, fw, str(value.get("error")))
            else:
                results.add(m, fw, value)
                print(f"  {fw:8} {m.name}: {value:,.0f} {m.unit}", file=sys.stderr)


if __name__ == "__main__":
    from run import main

    main([SUITE.replace("websocket", "ws"), *sys.argv[1:]])
