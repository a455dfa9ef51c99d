"""Micro-benchmark: parse 100k pipelined requests (10 headers each).

Runs one framework per process, chosen by ``BENCH_FRAMEWORK`` (``aiohyper`` or ``aiohttp``), and
prints one JSON line. ``run_parser.py`` alternates both frameworks and prints ratios.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100000"))
BATCH = 64  # requests per feed_data call, like a busy pipelined connection

REQUEST = (
    b"GET /api/v1/users/12345?expand=profile&limit=10 HTTP/1.1\r\n"
    b"Host: example.test:8080\r\n"
    b"User-Agent: bench-client/1.0\r\n"
    b"Accept: application/json, text/plain, */*\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=abcdef0123456789; theme=dark\r\n"
    b"Referer: http://example.test:8080/index.html\r\n"
    b"X-Request-Id: 6f1c2a8e-3b7d-4d2a-9c1e-0a2b3c4d5e6f\r\n"
    b"Cache-Control: no-cache\r\n"
    b"\r\n"
)


def make_parser(framework: str, loop: asyncio.AbstractEventLoop) -> object:
    if framework == "aiohttp":
        from aiohttp._http_parser import HttpRequestParser
        from aiohttp.base_protocol import BaseProtocol

        return HttpRequestParser(BaseProtocol(loop), loop, 2**16)
    from aiohyper._http._parser import RequestParser
    from aiohyper.base_protocol import BaseProtocol as OurProtocol

    return RequestParser(OurProtocol(loop), loop, 2**16)


def run(framework: str, n_requests: int = N_REQUESTS) -> dict[str, object]:
    loop = asyncio.new_event_loop()
    try:
        parser = make_parser(framework, loop)
        chunk = REQUEST * BATCH
        feeds = n_requests // BATCH
        feed = parser.feed_data  # type: ignore[attr-defined]
        # warm up
        for _ in range(50):
            feed(chunk)
        count = 0
        start = time.perf_counter()
        for _ in range(feeds):
            messages, _upgraded, _tail = feed(chunk)
            for msg, _payload in messages:
                _ = msg.headers, msg.url  # touch what a server touches
            count += len(messages)
        elapsed = time.perf_counter() - start
    finally:
        loop.close()
    assert count == feeds * BATCH, count
    return {"framework": framework, "requests": count, "seconds": elapsed, "rps": count / elapsed}


if __name__ == "__main__":
    print(json.dumps(run(os.environ.get("BENCH_FRAMEWORK", "aiohyper"))))
    sys.stdout.flush()
