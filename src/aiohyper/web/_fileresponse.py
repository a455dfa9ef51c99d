"""``FileResponse``: a file from disk, with conditional requests, byte ranges, pre-compressed
siblings and zero-copy ``sendfile``.

All file system work (stat, open, read) runs in the default executor: one hop decides what to
send (and opens the file only when a body is sent), then the body goes out with
``loop.sendfile`` on plain TCP transports, or in ``chunk_size`` pieces read in the executor
otherwise (TLS, compression, event loops without sendfile).

Preconditions follow RFC 9110 section 13.2.2: If-Match, else If-Unmodified-Since (412);
If-None-Match, else If-Modified-Since (304 for GET/HEAD); then Range for GET, guarded by
If-Range. A single byte range gives 206; several are answered with the whole file (200, which
a server may always do); an unsatisfiable or invalid one gives 416.
"""

from __future__ import annotations

import asyncio
import dataclasses
import mimetypes
import os
import pathlib
import re
import stat
from typing import IO, TYPE_CHECKING, Final

from .. import hdrs
from .._http._writer import AbstractStreamWriter
from ..helpers import ETAG_ANY, ETag, parse_http_date
from ..typedefs import LooseHeaders, PathLike
from ._response import ContentCoding, StreamResponse, acceptable_codings

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ("FileResponse",)

# Sibling files holding a pre-compressed copy, by the coding they are in, most preferred
# first (docs: Brotli over gzip). Serving them needs no codec library, so unlike on-the-fly
# compression they do not depend on what is installed.
_SIBLING_SUFFIXES: Final = {
    ContentCoding.zstd: ".zst",
    ContentCoding.br: ".br",
    ContentCoding.gzip: ".gz",
}
_SIBLING_PREFERENCE: Final = tuple(_SIBLING_SUFFIXES)

# Documented switch (web_reference.rst, add_static): never use the sendfile system call.
_NOSENDFILE_ENV: Final = ("AIOHTTP_NOSENDFILE", "AIOHYPER_NOSENDFILE")


def _sendfile_disabled() -> bool:
    # Read per response (a dict lookup, next to a file open) so that it can be changed at run
    # time, e.g. by tests.
    return any(os.environ.get(name) for name in _NOSENDFILE_ENV)


# byte-range-spec / suffix-byte-range-spec (RFC 9110 section 14.1.2)
_RANGE_SPEC: Final = re.compile(r"([0-9]*)-([0-9]*)", re.ASCII)

# Types mimetypes reports for an "encoding" (x.tar.gz is a gzip file, not a tarball).
_ENCODED_TYPES: Final = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Conditions:
    """The request headers a file response depends on, read on the event loop thread."""

    method: str
    check: bool  # False: serve as is (the response has a status other than 200)
    if_match: tuple[ETag, ...] | None
    if_none_match: tuple[ETag, ...] | None
    if_modified_since: float | None
    if_unmodified_since: float | None
    if_range: str | None
    range: str | None
    codings: tuple[ContentCoding, ...]


@dataclasses.dataclass(slots=True)
class _Plan:
    """What to send, as decided in the executor."""

    status: int
    encoding: ContentCoding | None
    content_type: str
    size: int
    mtime: int
    etag: str
    start: int = 0
    count: int = 0
    file: IO[bytes] | None = None


class _NotAFile(Exception):
    """The path is a directory or another non-regular file."""


def _strong_match(tags: tuple[ETag, ...], etag: str) -> bool:
    return any(t.value == ETAG_ANY or (not t.is_weak and t.value == etag) for t in tags)


def _weak_match(tags: tuple[ETag, ...], etag: str) -> bool:
    return any(t.value == ETAG_ANY or t.value == etag for t in tags)


def _if_range_holds(if_range: str, etag: str, mtime: int) -> bool:
    """Whether If-Range matches the current file (RFC 9110 section 13.1.5): a strong
    comparison with its entity tag, or an exact match with its modification date."""
    value = if_range.strip(" \t")
    if value.startswith('"'):
        return value == f'"{etag}"'
    if value.startswith("W/"):
        return False  # a weak tag never matches for ranges
    date = parse_http_date(value)
    return date is not None and int(date.timestamp()) == mtime


def _parse_range(value: str, size: int) -> tuple[int, int, int]:
    """``(status, start, count)`` for a Range header over ``size`` bytes: 206 and the range,
    200 to send the whole file, 416 when invalid or unsatisfiable."""
    unit, sep, specs = value.partition("=")
    if not sep or unit.strip(" \t").lower() != "bytes":
        return 200, 0, size  # a range unit we do not know must be ignored
    members = [member.strip(" \t") for member in specs.split(",")]
    ranges: list[tuple[int | None, int | None]] = []
    for member in members:
        if not member:
            continue  # empty list members are allowed
        match = _RANGE_SPEC.fullmatch(member)
        if match is None:
            return 416, 0, 0
        first, last = match.groups()
        if first:
            first_pos, last_pos = int(first), int(last) if last else None
            if last_pos is not None and last_pos < first_pos:
                return 416, 0, 0
            ranges.append((first_pos, last_pos))
        elif last:
            ranges.append((None, int(last)))
        else:
            return 416, 0, 0
    if not ranges:
        return 416, 0, 0
    if len(ranges) > 1:
        return 200, 0, size
    lower, upper = ranges[0]
    if lower is None:  # the last `upper` bytes
        assert upper is not None
        if upper == 0:
            return 416, 0, 0
        if size == 0:
            return 200, 0, 0  # the whole (empty) representation
        start = max(0, size - upper)
        return 206, start, size - start
    if lower >= size:
        return 416, 0, 0
    end = size if upper is None or upper >= size else upper + 1
    return 206, lower, end - lower


def _evaluate(cond: _Conditions, etag: str, mtime: int, size: int) -> tuple[int, int, int]:
    """``(status, start, count)`` after the preconditions and the Range header."""
    if not cond.check:
        return 200, 0, size
    if cond.if_match is not None:
        if not _strong_match(cond.if_match, etag):
            return 412, 0, 0
    elif cond.if_unmodified_since is not None and mtime > cond.if_unmodified_since:
        return 412, 0, 0
    safe = cond.method in (hdrs.METH_GET, hdrs.METH_HEAD)
    if cond.if_none_match is not None:
        if _weak_match(cond.if_none_match, etag):
            return (304 if safe else 412), 0, 0
    elif safe and cond.if_modified_since is not None and mtime <= cond.if_modified_since:
        return 304, 0, 0
    if (
        cond.range is not None
        and cond.method == hdrs.METH_GET
        and (cond.if_range is None or _if_range_holds(cond.if_range, etag, mtime))
    ):
        return _parse_range(cond.range, size)
    return 200, 0, size


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    try:
        return os.pread(file.fileno(), size, offset)
    except (AttributeError, OSError, ValueError):  # no fileno (tests), or no pread
        file.seek(offset)
        return file.read(size)


class FileResponse(StreamResponse):
    """Send the file at ``path`` (see the module docstring for what is supported).

    A missing file is answered with 404, a directory or an unreadable file with 403.
    """

    def __init__(
        self,
        path: PathLike,
        chunk_size: int = 256 * 1024,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._path = pathlib.Path(path)
        self._chunk_size = chunk_size
        self._sent_directly = 0
        self._writer_compresses = False

    async def _do_start_compression(self, coding: ContentCoding) -> None:
        await super()._do_start_compression(coding)
        self._writer_compresses = not self._must_be_empty_body

    def _conditions(self, request: BaseRequest) -> _Conditions:
        headers = request.headers
        codings: tuple[ContentCoding, ...] = ()
        if self._headers.get(hdrs.CONTENT_ENCODING) is None:
            codings = tuple(
                acceptable_codings(headers.get(hdrs.ACCEPT_ENCODING, ""), _SIBLING_PREFERENCE)
            )
        ims = request.if_modified_since
        ius = request.if_unmodified_since
        return _Conditions(
            method=request.method,
            check=self._status == 200,
            if_match=request.if_match,
            if_none_match=request.if_none_match,
            if_modified_since=None if ims is None else ims.timestamp(),
            if_unmodified_since=None if ius is None else ius.timestamp(),
            if_range=headers.get(hdrs.IF_RANGE),
            range=headers.get(hdrs.RANGE),
            codings=codings,
        )

    def _make_plan(self, cond: _Conditions) -> _Plan:
        """Runs in the executor: stat, choose a sibling, evaluate, open if a body is sent."""
        path = self._path
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise _NotAFile(str(path))
        encoding: ContentCoding | None = None
        for coding in cond.codings:
            sibling = path.with_name(path.name + _SIBLING_SUFFIXES[coding])
            try:
                sibling_st = sibling.stat()
            except OSError:
                continue
            if stat.S_ISREG(sibling_st.st_mode):
                path, st, encoding = sibling, sibling_st, coding
                break
        ctype, file_encoding = mimetypes.guess_type(self._path.name)
        if file_encoding:
            ctype = _ENCODED_TYPES.get(file_encoding, "application/octet-stream")
        mtime = int(st.st_mtime)
        etag = f"{st.st_mtime_ns:x}-{st.st_size:x}"
        status, start, count = _evaluate(cond, etag, mtime, st.st_size)
        plan = _Plan(
            status=status,
            encoding=encoding,
            content_type=ctype or "application/octet-stream",
            size=st.st_size,
            mtime=mtime,
            etag=etag,
            start=start,
            count=count,
        )
        if status in (200, 206) and count > 0 and cond.method != hdrs.METH_HEAD:
            plan.file = open(path, "rb")  # noqa: SIM115 - closed by prepare()
        return plan

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        """Send the head and the whole body (or 304/412/416/404/403 without one)."""
        if self._eof_sent:
            return None
        if self._payload_writer is not None:
            return self._payload_writer
        loop = asyncio.get_running_loop()
        try:
            plan = await loop.run_in_executor(None, self._make_plan, self._conditions(request))
        except (PermissionError, _NotAFile):
            return await self._send_error(request, 403, "403: Forbidden")
        except OSError:
            # Missing, a path through a non-directory, a symlink loop, a name too long...
            return await self._send_error(request, 404, "404: Not Found")
        file = plan.file
        try:
            return await self._send_plan(request, plan)
        finally:
            if file is not None:
                file.close()

    async def _send_error(
        self, request: BaseRequest, status: int, text: str
    ) -> AbstractStreamWriter | None:
        # Sent here rather than raised: prepare() runs after the middlewares, where a raised
        # HTTPException would only become a 500.
        self.set_status(status)
        body = text.encode()
        self._headers[hdrs.CONTENT_TYPE] = "text/plain; charset=utf-8"
        self.content_length = len(body)
        writer = await super().prepare(request)
        await self.write_eof(body)
        return writer

    async def _send_plan(self, request: BaseRequest, plan: _Plan) -> AbstractStreamWriter | None:
        headers = self._headers
        status = plan.status
        if plan.encoding is not None:
            headers[hdrs.CONTENT_ENCODING] = plan.encoding.value
            self._add_vary("Accept-Encoding")
        self.etag = plan.etag
        self.last_modified = plan.mtime
        if status in (304, 412, 416):
            self.set_status(status)
            self._compression = False
            if status != 304:
                if status == 416:
                    headers[hdrs.CONTENT_RANGE] = f"bytes */{plan.size}"
                self.content_length = 0
            writer = await super().prepare(request)
            await self.write_eof()
            return writer

        if hdrs.CONTENT_TYPE not in headers:
            headers[hdrs.CONTENT_TYPE] = plan.content_type
        headers[hdrs.ACCEPT_RANGES] = "bytes"
        if status == 206:
            self.set_status(206)
            end = plan.start + plan.count - 1
            headers[hdrs.CONTENT_RANGE] = f"bytes {plan.start}-{end}/{plan.size}"
        if status == 206 or plan.encoding is not None:
            # Ranges and pre-compressed files are in their final coding already.
            self._compression = False
        self.content_length = plan.count
        writer = await super().prepare(request)
        file = plan.file
        if file is not None and writer is not None and not self._must_be_empty_body:
            await self._send_body(request, writer, file, plan.start, plan.count)
        await self.write_eof()
        self._body_length += self._sent_directly
        return writer

    async def _send_body(
        self,
        request: BaseRequest,
        writer: AbstractStreamWriter,
        file: IO[bytes],
        offset: int,
        count: int,
    ) -> None:
        loop = asyncio.get_running_loop()
        transport = request.transport
        if (
            transport is not None
            and not self._writer_compresses
            and not self._chunked
            and transport.get_extra_info("sslcontext") is None
            and not _sendfile_disabled()
        ):
            writer.send_headers()  # the head must go out before the file's bytes
            try:
                sent = await loop.sendfile(transport, file, offset, count, fallback=False)
            except (NotImplementedError, RuntimeError):
                # Raised before any byte is sent: uvloop (NotImplementedError), transports
                # without native sendfile (RuntimeError, SendfileNotAvailableError).
                pass
            else:
                self._sent_directly = sent
                if sent < count:  # the file shrank: the promised length cannot be kept
                    self.force_close()
                return
        chunk_size = self._chunk_size
        while count > 0:
            chunk = await loop.run_in_executor(
                None, _read_at, file, offset, min(chunk_size, count)
            )
            if not chunk:
                self.force_close()
                return
            await writer.write(chunk)
            offset += len(chunk)
            count -= len(chunk)
