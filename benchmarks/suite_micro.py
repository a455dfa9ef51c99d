"""Micro suite: ``bench_micro.py`` (which includes ``bench_parser.py``) per framework, alternating.

Each round runs one fresh process per framework on core 1; every case is calibrated to about
1 s (0.2 s with ``--quick``), best of 3 inside the process, median over rounds.

Alone: ``uv run python benchmarks/suite_micro.py [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import os
import sys
from argparse import Namespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import CLIENT_CPU, HERE, ChildError, framework_env, pinned, python_for, run_json
from _report import Metric, Results

SUITE = "micro"

METRICS = {
    "parse": Metric(SUITE, "HTTP request parse (10 headers, pipelined)", "req/s"),
    "resolve_dynamic": Metric(SUITE, "router resolve /user/{id} (after 100 routes)", "ops/s"),
    "resolve_static": Metric(SUITE, "router resolve /plaintext", "ops/s"),
    "prepare": Metric(SUITE, "Response() + prepare + write_eof (mocked request)", "ops/s"),
    "pipeline": Metric(SUITE, "request→response in process (fake transport)", "req/s"),
    "cookie_filter": Metric(SUITE, "CookieJar.filter_cookies (250 cookies)", "ops/s"),
    "multipart": Metric(SUITE, "multipart parse (10 fields + 256 KiB file)", "forms/s"),
    "ws_mask_16": Metric(SUITE, "WebSocket mask 16 B", "ops/s"),
    "ws_mask_64k": Metric(SUITE, "WebSocket mask 64 KiB", "ops/s"),
    "ws_parse_16": Metric(SUITE, "WebSocket parse masked 16 B frames", "frames/s"),
    "ws_parse_64k": Metric(SUITE, "WebSocket parse masked 64 KiB frames", "frames/s"),
}


def run_round(order: list[str], opts: Namespace, results: Results) -> None:
    min_time = 0.2 if opts.quick else 1.0
    for fw in order:
        cmd = [python_for(fw), str(HERE / "bench_micro.py"), "--min-time", str(min_time)]
        try:
            out = run_json(pinned(CLIENT_CPU, cmd), framework_env(fw), timeout=600)
        except ChildError as exc:
            for m in METRICS.values():
                results.fail(m, fw, str(exc))
            continue
        for case, m in METRICS.items():
            value = out.get(case, {"error": "not run"})
            if isinstance(value, dict):
                results.fail(m, fw, str(value.get("error")))
            else:
                results.add(m, fw, value)
        print(f"  {fw:8} micro done", file=sys.stderr)


if __name__ == "__main__":
    from run import main

    main([SUITE, *sys.argv[1:]])
