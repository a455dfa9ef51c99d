"""Run benchmark suites, aiohyper vs aiohttp, and print a Markdown table of medians and ratios.

Usage::

    uv run python benchmarks/run.py [suite ...] [--rounds 3] [--quick] [--duration S] [--no-save]

Suites: micro, memory, client, ws, server (default: all, in that order). Each round runs every
selected suite once; inside a suite the frameworks alternate per configuration, and the order
flips every round (aiohyper first in even rounds, aiohttp first in odd ones) so drift in the
machine's speed does not favour either. ``--quick`` shortens every benchmark (and defaults to one
round) for a smoke run. Results also go to ``benchmarks/results/<time>-<suites>.json``.

A benchmark that cannot run (a part of aiohyper not written yet, a missing tool) shows as
"n/a (error: ...)" and the run goes on.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import FRAMEWORKS, PEER_PY, RESULTS_DIR, ensure_peer
from _report import Results

SUITES = ("micro", "memory", "client", "ws", "server")


def _cmd_output(cmd: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "n/a"
    return (out.stdout + out.stderr).strip().splitlines()[0] if (out.stdout + out.stderr) else ""


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, Python and the libraries' versions."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions_py = (
        "import importlib.metadata as m, json\n"
        "out = {}\n"
        "for p in ('aiohyper', 'aiohttp', 'uvloop', 'httpx', 'httptools', 'multidict', 'yarl',\n"
        "          'propcache', 'frozenlist'):\n"
        "    try: out[p] = m.version(p)\n"
        "    except Exception: pass\n"
        "print(json.dumps(out))\n"
    )
    import json

    def versions(py: str) -> dict[str, str]:
        try:
            out = subprocess.run([py, "-c", versions_py], capture_output=True, text=True)
            result: dict[str, str] = json.loads(out.stdout)
            return result
        except (OSError, ValueError):
            return {}

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "project_venv": versions(sys.executable),
        "aiohttp_venv": versions(str(PEER_PY)),
        "wrk": _cmd_output(["wrk", "--version"]) if shutil.which("wrk") else "n/a",
        "nginx": _cmd_output(["nginx", "-v"]) if shutil.which("nginx") else "n/a",
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument(
        "suites", nargs="*", metavar="suite", help=f"any of {', '.join(SUITES)} (default: all)"
    )
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="short benchmarks, for a smoke run")
    ap.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per wrk run, server suite (default 5; 2 with --quick)",
    )
    ap.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = ap.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    args.suites = list(dict.fromkeys(args.suites)) or list(SUITES)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    return args


def main(argv: Sequence[str] | None = None) -> Results:
    args = parse_args(argv)
    ensure_peer()
    modules = {name: importlib.import_module(f"suite_{name}") for name in args.suites}
    results = Results()
    load_before = os.getloadavg()
    started = time.monotonic()
    for rnd in range(args.rounds):
        order = list(FRAMEWORKS) if rnd % 2 == 0 else list(reversed(FRAMEWORKS))
        for name, mod in modules.items():
            print(
                f"[round {rnd + 1}/{args.rounds}] {name} ({' then '.join(order)})",
                file=sys.stderr,
                flush=True,
            )
            try:
                mod.run_round(order, args, results)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a harness bug in one suite must not lose the others
                from _report import Metric

                for fw in order:
                    results.fail(Metric(name, "suite", "-"), fw, f"{type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - started
    info = machine_info()
    # Other work on the machine skews everything; the load averages tell how quiet it was.
    info["loadavg_1m_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    print()
    print(
        f"Machine: {info['cpu']}, {info['nproc']} cores, Python {info['python']}, "
        f"aiohttp {info['aiohttp_venv'].get('aiohttp', '?')}, "
        f"uvloop {info['project_venv'].get('uvloop', '?')}; "
        f"{args.rounds} round(s){' (quick)' if args.quick else ''}, {elapsed:.0f}s; "
        f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print()
    print(results.markdown())
    if not args.no_save:
        meta = {
            "machine": info,
            "rounds": args.rounds,
            "quick": args.quick,
            "duration": args.duration,
            "suites": args.suites,
            "seconds": round(elapsed, 1),
        }
        path = results.save(RESULTS_DIR, args.suites, meta)
        print(f"\nsaved {path.relative_to(RESULTS_DIR.parent.parent)}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
