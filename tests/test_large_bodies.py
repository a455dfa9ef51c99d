"""1 GiB up and down through our client and our server, in bounded memory.

Server and client run in this process on 127.0.0.1. The upload comes from an async generator
(sent chunked) to a handler that reads ``request.content`` piece by piece; the download is a
streamed response written in 64 KiB pieces and read with ``resp.content.iter_chunked``. Both
ends checksum and count what passes, and each side stalls its reader for a moment first, so
flow control (the server pausing the socket, the client's writer waiting on ``drain``) has to
hold the sender back rather than letting bytes pile up in a buffer.

Memory is measured in this process: peak RSS growth (``ru_maxrss`` before and after, and the
current RSS sampled during the transfer, which still means something when an earlier test set
a higher peak) and the ``tracemalloc`` peak of Python allocations. None may grow by 64 MiB.

Multipart uploads of 128 MiB, read with ``request.multipart()`` (streamed) and
``request.post()`` (spooled to a temporary file), are held to 32 MiB the same way.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

import aiohyper as aiohttp
from aiohyper import web

pytestmark = pytest.mark.timeout(180)

GIB = 1024**3
PIECE = 64 * 1024
PIECES = GIB // PIECE
LIMIT = 64 * 1024**2  # memory growth allowed for the whole transfer
STALL = 0.3  # seconds a reader waits before it starts reading
# What may be in flight while a reader stalls: socket buffers (a few MiB on loopback) and the
# stream buffers' high-water marks. Far less than what an unbounded buffer would take in.
IN_FLIGHT_MAX = 48 * 1024**2

_POOL = random.Random(1234).randbytes(PIECE + 4096)


def piece(index: int) -> bytes:
    """The ``index``-th piece of the body: 64 KiB that differ from one piece to the next (so a
    lost, repeated or reordered piece changes the checksum)."""
    start = (index * 7919) % 4096
    return _POOL[start : start + PIECE]


def expected_crc() -> int:
    crc = 0
    for index in range(PIECES):
        crc = zlib.crc32(piece(index), crc)
    return crc


def current_rss() -> int:
    """This process's resident set size now, in bytes."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """This process's peak resident set size so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class MemoryReport:
    rss_before: int = 0
    peak_before: int = 0
    sampled_max: int = 0
    peak_after: int = 0
    traced_peak: int = 0
    samples: list[int] = field(default_factory=list)

    @property
    def sampled_growth(self) -> int:
        return self.sampled_max - self.rss_before

    @property
    def peak_growth(self) -> int:
        return self.peak_after - self.peak_before

    def __str__(self) -> str:
        mib = 1024**2
        return (
            f"RSS sampled growth {self.sampled_growth / mib:.1f} MiB, ru_maxrss growth "
            f"{self.peak_growth / mib:.1f} MiB, tracemalloc peak {self.traced_peak / mib:.1f} MiB"
        )


@contextmanager
def measure_memory() -> Iterator[MemoryReport]:
    """Track memory over the block; a background thread samples the current RSS."""
    import threading

    report = MemoryReport(rss_before=current_rss(), peak_before=peak_rss())
    report.sampled_max = report.rss_before
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            report.sampled_max = max(report.sampled_max, current_rss())

    sampler = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    sampler.start()
    try:
        yield report
    finally:
        stop.set()
        sampler.join()
        report.traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        report.sampled_max = max(report.sampled_max, current_rss())
        report.peak_after = peak_rss()


@dataclass
class Progress:
    """Bytes produced by the sending side, and how many had been produced when the receiving
    side started reading (after its stall)."""

    produced: int = 0
    at_first_read: int = -1


async def test_one_gib_up_and_down_in_bounded_memory(capsys: pytest.CaptureFixture[str]) -> None:
    crc_expected = expected_crc()
    upload_progress = Progress()
    download_progress = Progress()

    async def upload(request: web.Request) -> web.Response:
        await asyncio.sleep(STALL)
        upload_progress.at_first_read = upload_progress.produced
        crc = 0
        size = 0
        async for chunk in request.content.iter_any():
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
        return web.json_response({"size": size, "crc": crc})

    async def download(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = GIB
        await response.prepare(request)
        for index in range(PIECES):
            await response.write(piece(index))
            download_progress.produced += PIECE
        await response.write_eof()
        return response

    async def body() -> AsyncIterator[bytes]:
        for index in range(PIECES):
            data = piece(index)
            upload_progress.produced += len(data)
            yield data

    app = web.Application()
    app.router.add_post("/upload", upload)
    app.router.add_get("/download", download)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    timings: dict[str, float] = {}
    try:
        with measure_memory() as memory:
            async with aiohttp.ClientSession() as session:
                started = time.perf_counter()
                async with session.post(f"http://127.0.0.1:{port}/upload", data=body()) as resp:
                    assert resp.status == 200
                    answer = await resp.json()
                timings["upload"] = time.perf_counter() - started

                started = time.perf_counter()
                async with session.get(f"http://127.0.0.1:{port}/download") as resp:
                    assert resp.status == 200
                    assert resp.content_length == GIB
                    await asyncio.sleep(STALL)
                    download_progress.at_first_read = download_progress.produced
                    crc = 0
                    size = 0
                    largest = 0
                    async for chunk in resp.content.iter_chunked(PIECE):
                        crc = zlib.crc32(chunk, crc)
                        size += len(chunk)
                        largest = max(largest, len(chunk))
                timings["download"] = time.perf_counter() - started
    finally:
        await runner.cleanup()

    with capsys.disabled():
        print(
            f"\n1 GiB upload {timings.get('upload', -1):.2f} s, download "
            f"{timings.get('download', -1):.2f} s; {memory}"
        )
    assert answer == {"size": GIB, "crc": crc_expected}
    assert (size, crc) == (GIB, crc_expected)
    assert largest == PIECE  # iter_chunked(n) gives at most n bytes at a time
    # Flow control held each sender back while its reader stalled.
    assert 0 < upload_progress.at_first_read < IN_FLIGHT_MAX, upload_progress
    assert 0 < download_progress.at_first_read < IN_FLIGHT_MAX, download_progress
    assert memory.sampled_growth < LIMIT, memory
    assert memory.peak_growth < LIMIT, memory
    assert memory.traced_peak < LIMIT, memory


@pytest.mark.parametrize("read_with", ["multipart", "post"])
async def test_large_multipart_upload_in_bounded_memory(read_with: str) -> None:
    # 128 MiB in one file part of a chunked MultipartWriter body. request.multipart() streams
    # it; request.post() spools it to a temporary file. Neither may hold it in memory.
    size = 128 * 1024**2
    limit = 32 * 1024**2
    count = size // PIECE

    async def handler(request: web.Request) -> web.Response:
        found: list[list[Any]] = []
        if read_with == "multipart":
            async for part in await request.multipart():
                assert isinstance(part, aiohttp.BodyPartReader)
                crc = length = 0
                while chunk := await part.read_chunk(PIECE):
                    crc = zlib.crc32(chunk, crc)
                    length += len(chunk)
                found.append([part.name, part.filename, length, crc])
        else:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    crc = length = 0
                    with value.file as file:
                        while chunk := file.read(4 * PIECE):
                            crc = zlib.crc32(chunk, crc)
                            length += len(chunk)
                    found.append([name, value.filename, length, crc])
                else:
                    found.append([name, value])
        return web.json_response(found)

    async def produce() -> AsyncIterator[bytes]:
        for index in range(count):
            yield piece(index)

    crc_expected = 0
    for index in range(count):
        crc_expected = zlib.crc32(piece(index), crc_expected)

    app = web.Application(client_max_size=2 * size)
    app.router.add_post("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with measure_memory() as memory:
            writer = aiohttp.MultipartWriter("form-data")
            part = writer.append(produce(), {"Content-Type": "application/octet-stream"})
            part.set_content_disposition("form-data", name="file", filename="big.bin")
            writer.append("after").set_content_disposition("form-data", name="text")
            async with (
                aiohttp.ClientSession() as session,
                session.post(f"http://127.0.0.1:{port}/", data=writer) as resp,
            ):
                assert resp.status == 200, await resp.text()
                answer = await resp.json()
    finally:
        await runner.cleanup()
    text_entry: list[Any] = ["text", None, 5, zlib.crc32(b"after")]
    if read_with == "post":
        text_entry = ["text", "after"]
    assert answer == [["file", "big.bin", size, crc_expected], text_entry]
    assert memory.sampled_growth < limit, memory
    assert memory.peak_growth < limit, memory
    assert memory.traced_peak < limit, memory
