"""Micro-benchmark: WebSocket payload masking (and unmasking) throughput.

Compares ``aiohyper._ws._mask.websocket_mask`` with its two strategies on their own (big-integer
XOR, per-lane ``bytes.translate``), a byte-by-byte Python loop (the thing to never do) and, when
installed, the C implementation of the ``websockets`` package, for payload sizes from a tiny
chat message to 4 MiB. Prints one line per (size, implementation): time per call and GB/s.

Run: ``uv run python benchmarks/bench_ws_mask.py`` (about 10 seconds).
"""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable

from aiohyper._ws._mask import _XOR_TABLES, websocket_mask

SIZES = (16, 125, 1024, 4096, 16 * 1024, 64 * 1024, 1024 * 1024, 4 * 1024 * 1024)
BUDGET = 0.25  # seconds of measurement per (size, implementation)


def int_xor(mask: bytes, data: bytes) -> bytes:
    n = len(data)
    key = int.from_bytes((mask * ((n >> 2) + 1))[:n], "little")
    return (int.from_bytes(data, "little") ^ key).to_bytes(n, "little")


def lane_translate(mask: bytes, data: bytes) -> bytearray:
    out = bytearray(len(data))
    for lane in range(4):
        out[lane::4] = data[lane::4].translate(_XOR_TABLES[mask[lane]])
    return out


def python_loop(mask: bytes, data: bytes) -> bytes:
    return bytes(b ^ mask[i & 3] for i, b in enumerate(data))


def implementations() -> dict[str, Callable[[bytes, bytes], object]]:
    impls: dict[str, Callable[[bytes, bytes], object]] = {
        "aiohyper": websocket_mask,
        "int-xor": int_xor,
        "translate": lane_translate,
        "python-loop": python_loop,
    }
    try:
        from websockets.speedups import apply_mask  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        impls["websockets (C)"] = lambda mask, data: apply_mask(data, mask)
    return impls


def main() -> None:
    mask = os.urandom(4)
    impls = implementations()
    print(f"{'size':>9}  {'implementation':<15} {'per call':>12} {'GB/s':>7}")
    for size in SIZES:
        data = os.urandom(size)
        reference = bytes(websocket_mask(mask, data))
        for name, func in impls.items():
            if name == "python-loop" and size > 64 * 1024:
                continue  # minutes; the point is made at smaller sizes
            assert bytes(func(mask, data)) == reference, name  # type: ignore[arg-type]
            timer = timeit.Timer(lambda f=func, d=data: f(mask, d))  # type: ignore[misc]
            number, _ = timer.autorange()
            runs = max(1, int(BUDGET / (timer.timeit(number) / number)))
            per_call = min(timer.repeat(3, runs)) / runs
            print(f"{size:>9}  {name:<15} {per_call * 1e6:>10.2f}us {size / per_call / 1e9:>7.2f}")
        print()


if __name__ == "__main__":
    main()
