"""Parser micro-benchmarks beyond bench_parser.py: responses, and heads that never repeat.

Usage:
    uv run python benchmarks/bench_response_parser.py [--rounds 3] [--kind response|request]
        [--vary]

``--kind response`` (default) parses 100k pipelined responses (9 header fields and a 32-byte
body each, 64 per ``feed_data``) with our ``ResponseParser`` and with aiohttp 3.13.3's C
``HttpResponseParser``, touching ``msg.headers`` like a client does. ``--kind request`` parses
requests like bench_parser.py. ``--vary`` makes every head distinct (its path, a request id, an
ETag), so nothing the parsers memoise is reused: the worst case for aiohyper's caches.
Frameworks alternate, one process per run pinned to core 1; the driver prints the medians and the
ratio. aiohttp runs from benchmarks/.venv-aiohttp (created on first use).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

N_MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
BATCH = 64  # messages per feed_data call

BODY = b'{"id": 12345, "name": "bench"}\n\n'  # 32 bytes


def request(i: int | None) -> bytes:
    path = b"/api/v1/users/12345" if i is None else b"/api/v1/users/%d" % i
    rid = b"6f1c2a8e-3b7d-4d2a-9c1e-0a2b3c4d5e6f" if i is None else b"6f1c2a8e-%027d" % i
    return (
        b"GET " + path + b"?expand=profile&limit=10 HTTP/1.1\r\n"
        b"Host: example.test:8080\r\n"
        b"User-Agent: bench-client/1.0\r\n"
        b"Accept: application/json, text/plain, */*\r\n"
        b"Accept-Encoding: gzip, deflate, br\r\n"
        b"Accept-Language: en-US,en;q=0.9\r\n"
        b"Connection: keep-alive\r\n"
        b"Cookie: session=abcdef0123456789; theme=dark\r\n"
        b"Referer: http://example.test:8080/index.html\r\n"
        b"X-Request-Id: " + rid + b"\r\n"
        b"Cache-Control: no-cache\r\n"
        b"\r\n"
    )


def response(i: int | None) -> bytes:
    etag = b'"33a64df551425fcc55e4d42a148795d9f25f89d4"' if i is None else b'"%038d"' % i
    rid = b"6f1c2a8e-3b7d-4d2a-9c1e-0a2b3c4d5e6f" if i is None else b"6f1c2a8e-%027d" % i
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/json; charset=utf-8\r\n"
        b"Content-Length: 32\r\n"
        b"Date: Sat, 21 Nov 2026 07:40:00 GMT\r\n"
        b"Server: bench-server/1.0\r\n"
        b"Cache-Control: private, max-age=0\r\n"
        b"ETag: " + etag + b"\r\n"
        b"Vary: Accept-Encoding\r\n"
        b"X-Request-Id: " + rid + b"\r\n"
        b"Connection: keep-alive\r\n"
        b"\r\n" + BODY
    )


def make_parser(framework: str, kind: str, loop: asyncio.AbstractEventLoop) -> object:
    if framework == "aiohttp":
        from aiohttp._http_parser import HttpRequestParser, HttpResponseParser
        from aiohttp.base_protocol import BaseProtocol

        if kind == "response":
            return HttpResponseParser(BaseProtocol(loop), loop, 2**16)
        return HttpRequestParser(BaseProtocol(loop), loop, 2**16)
    from aiohyper._http._parser import RequestParser, ResponseParser
    from aiohyper.base_protocol import BaseProtocol as OurProtocol

    if kind == "response":
        return ResponseParser(OurProtocol(loop), loop, 2**16)
    return RequestParser(OurProtocol(loop), loop, 2**16)


def work(framework: str, kind: str, vary: bool) -> dict[str, object]:
    """One measured run in this process; returns messages per second."""
    build = response if kind == "response" else request
    feeds = N_MESSAGES // BATCH
    if vary:
        chunks = [b"".join(build(f * BATCH + i) for i in range(BATCH)) for f in range(feeds + 50)]
    else:
        chunks = [build(None) * BATCH] * (feeds + 50)
    loop = asyncio.new_event_loop()
    try:
        parser = make_parser(framework, kind, loop)
        feed = parser.feed_data  # type: ignore[attr-defined]
        for chunk in chunks[feeds:]:  # warm up (distinct from the measured heads)
            feed(chunk)
        count = 0
        start = time.perf_counter()
        for chunk in chunks[:feeds]:
            messages, _upgraded, _tail = feed(chunk)
            for msg, _payload in messages:
                _ = msg.headers  # what a client or server touches first
            count += len(messages)
        elapsed = time.perf_counter() - start
    finally:
        loop.close()
    assert count == feeds * BATCH, count
    return {"framework": framework, "messages": count, "rps": count / elapsed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kind", choices=("response", "request"), default="response")
    ap.add_argument("--vary", action="store_true", help="every head distinct (no cache hits)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(work(args.worker, args.kind, args.vary)))
        return

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import CLIENT_CPU, ensure_peer, pinned, python_for

    ensure_peer()
    results: dict[str, list[float]] = {"aiohyper": [], "aiohttp": []}
    for _ in range(args.rounds):
        for fw in results:
            cmd = [python_for(fw), os.path.abspath(__file__), "--worker", fw, "--kind", args.kind]
            if args.vary:
                cmd.append("--vary")
            out = subprocess.run(
                pinned(CLIENT_CPU, cmd), check=True, capture_output=True, text=True
            ).stdout
            results[fw].append(float(json.loads(out.strip().splitlines()[-1])["rps"]))
    label = f"{args.kind}s{' (varied heads)' if args.vary else ''}"
    for fw, vals in results.items():
        print(
            f"{fw:9} median {statistics.median(vals):>10,.0f} {label}/s"
            f"  (min {min(vals):,.0f}, max {max(vals):,.0f})"
        )
    ratio = statistics.median(results["aiohyper"]) / statistics.median(results["aiohttp"])
    print(f"ratio aiohyper/aiohttp: {ratio:.2f}x")


if __name__ == "__main__":
    main()
