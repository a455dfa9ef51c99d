"""HTTP/1.x message heads as the codec produces them (immutable, cheap to build)."""

from __future__ import annotations

from typing import NamedTuple

from multidict import CIMultiDictProxy
from yarl import URL

__all__ = (
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "RawHeaders",
    "RawRequestMessage",
    "RawResponseMessage",
)


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)

RawHeaders = tuple[tuple[bytes, bytes], ...]


class RawRequestMessage(NamedTuple):
    """A parsed request head. ``path`` is the request target as sent; ``url`` its parsed form."""

    method: str
    path: str
    version: HttpVersion
    headers: CIMultiDictProxy[str]
    raw_headers: RawHeaders
    should_close: bool
    compression: str | None
    upgrade: bool
    chunked: bool
    url: URL


class RawResponseMessage(NamedTuple):
    """A parsed status line and headers."""

    version: HttpVersion
    code: int
    reason: str
    headers: CIMultiDictProxy[str]
    raw_headers: RawHeaders
    should_close: bool
    compression: str | None
    upgrade: bool
    chunked: bool
