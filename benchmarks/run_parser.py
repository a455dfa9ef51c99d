"""Run bench_parser.py for aiohyper and aiohttp alternately and print requests/s and the ratio.

Usage: uv run python benchmarks/run_parser.py [--rounds 5]
aiohttp runs from benchmarks/.venv-aiohttp (created on first use with `uv venv` + aiohttp 3.13.3).
Each process is pinned to one core with taskset when available.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import HERE, PEER_PY, ensure_peer


def run_once(framework: str) -> float:
    py = str(PEER_PY) if framework == "aiohttp" else sys.executable
    cmd = [py, str(HERE / "bench_parser.py")]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    env = dict(os.environ, BENCH_FRAMEWORK=framework)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return float(json.loads(out.strip().splitlines()[-1])["rps"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    ensure_peer()
    results: dict[str, list[float]] = {"aiohyper": [], "aiohttp": []}
    for _ in range(args.rounds):
        for fw in ("aiohyper", "aiohttp"):
            results[fw].append(run_once(fw))
    for fw, vals in results.items():
        print(
            f"{fw:9} median {statistics.median(vals):>10,.0f} req/s"
            f"  (min {min(vals):,.0f}, max {max(vals):,.0f})"
        )
    ratio = statistics.median(results["aiohyper"]) / statistics.median(results["aiohttp"])
    print(f"ratio aiohyper/aiohttp: {ratio:.2f}x")


if __name__ == "__main__":
    main()
