"""WebSocket suite: echo round trips/s, 16-byte and 64 KiB messages, both sides on one framework.

The server is ``app.py --ws`` (core 0), the client ``bench_ws.py`` (core 1); aiohyper↔aiohyper
against aiohttp↔aiohttp, on asyncio. For reference, the floor (``raw asyncio``,
``bench_floor.py``): a bare asyncio echo server and client exchanging the same frames' bytes.
Each size also reports the CPU time per round trip of both processes together (``/proc``): what
the frameworks cost, apart from the time spent waiting for the other core to wake up.

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
FLOOR = "raw asyncio"


def run_round(order: list[str], opts: Namespace, results: Results) -> None:
    duration = 1.0 if opts.quick else 3.0
    mets = {
        str(size): Metric(SUITE, f"echo {label} messages", "round trips/s")
        for size, label in SIZES.items()
    }
    for size, label in SIZES.items():
        mets[f"{size}_cpu_us"] = Metric(
            SUITE, f"CPU time per {label} round trip, client + server", "µs", higher=False
        )
    for fw in [*order, FLOOR]:
        if fw == FLOOR:
            cmd = [sys.executable, str(HERE / "bench_floor.py"), "--serve-echo"]
        else:
            cmd = [python_for(fw), str(HERE / "app.py"), "--ws"]
        server = Child(pinned(SERVER_CPU, cmd), framework_env(fw))
        try:
            port = int(server.wait_ready())
            if fw == FLOOR:
                client = [
                    sys.executable,
                    str(HERE / "bench_floor.py"),
                    "--ws-url",
                    f"127.0.0.1:{port}",
                ]
            else:
                client = [
                    python_for(fw), str(HERE / "bench_ws.py"),
                    "--url", f"http://127.0.0.1:{port}/ws",
                ]  # fmt: skip
            client += [
                "--duration", str(duration), "--sizes", *map(str, SIZES),
                "--server-pid", str(server.pid),
            ]  # fmt: skip
            out = run_json(pinned(CLIENT_CPU, client), framework_env(fw), timeout=120)
        except ChildError as exc:
            for m in mets.values():
                results.fail(m, fw, str(exc))
            continue
        finally:
            server.stop()
        for key, m in mets.items():
            value = out.get(key, {"error": "not run"})
            if isinstance(value, dict):
                results.fail(m, fw, str(value.get("error")))
            else:
                results.add(m, fw, value)
                print(f"  {fw:8} {m.name}: {value:,.0f} {m.unit}", file=sys.stderr)


if __name__ == "__main__":
    from run import main

    main([SUITE.replace("websocket", "ws"), *sys.argv[1:]])
