"""Open N keep-alive connections to a server, one request each, then hold them idle.

Usage: ``python benchmarks/idle_conns.py PORT [--conns 1000] [--path /plaintext]``. Prints
``READY <n>`` once every connection got its full response, then waits until its stdin closes (the
suite measures the server's RSS meanwhile) and closes the connections. Plain asyncio streams, no
framework: the load side must be the same for both servers.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import sys

_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


async def one(port: int, path: str) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"bad response {head[:40]!r}")
    m = _LENGTH.search(head)
    await reader.readexactly(int(m.group(1)) if m else 0)
    return writer


async def main_async(args: argparse.Namespace) -> None:
    sem = asyncio.Semaphore(100)  # do not overrun the listen backlog

    async def limited() -> asyncio.StreamWriter:
        async with sem:
            return await one(args.port, args.path)

    writers = await asyncio.wait_for(asyncio.gather(*(limited() for _ in range(args.conns))), 60)
    print(f"READY {len(writers)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for w in writers:
        w.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--path", default="/plaintext")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.conns + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
