"""WebSocket worker: echo round trips per second against ``app.py --ws``; prints one JSON line.

``BENCH_FRAMEWORK`` picks the client (the suite runs the server on the same framework). For each
message size, one connection sends a binary message and waits for its echo, over and over, for
``--duration`` seconds. Each size reports round trips/s or ``{"error": "..."}``, and
``<size>_cpu_us``: the CPU time per round trip of this process plus, with ``--server-pid``, the
server's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, load_framework, loop_factory, timed_round_trips


async def round_trips(
    aiohttp: Any, url: str, size: int, duration: float, server_pid: int
) -> tuple[float, float]:
    payload = os.urandom(size)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, max_msg_size=8 * 1024 * 1024) as ws,
    ):
        await ws.send_bytes(payload)  # check the echo once
        msg = await ws.receive()
        if msg.type != aiohttp.WSMsgType.BINARY or msg.data != payload:
            raise RuntimeError(f"bad echo: {msg.type!r}")

        async def round_trip() -> None:
            await ws.send_bytes(payload)
            await ws.receive()

        result = await timed_round_trips(round_trip, duration, server_pid)
        await ws.close()
        return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        aiohttp, _ = load_framework()
    except Exception as exc:
        return {str(s): {"error": f"{type(exc).__name__}: {exc}"} for s in args.sizes}
    for size in args.sizes:
        try:
            out[str(size)], out[f"{size}_cpu_us"] = await asyncio.wait_for(
                round_trips(aiohttp, args.url, size, args.duration, args.server_pid),
                args.duration + 30,
            )
        except TimeoutError:
            out[str(size)] = {"error": "timed out"}
        except Exception as exc:
            out[str(size)] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 65536])
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = ap.parse_args()
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        emit(runner.run(run(args)))


if __name__ == "__main__":
    main()
