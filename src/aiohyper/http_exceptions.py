"""Errors raised while reading or writing HTTP/1.x messages.

Every rejection the codec makes is one of these classes. Each carries the HTTP status a server
should answer with (``code``), a human readable ``message`` and optional ``headers`` to send.
"""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = (
    "BadHttpMessage",
    "BadHttpMethod",
    "BadStatusLine",
    "ContentEncodingError",
    "ContentLengthError",
    "DecompressSizeError",
    "HttpBadRequest",
    "HttpProcessingError",
    "InvalidHeader",
    "InvalidURLError",
    "LineTooLong",
    "PayloadEncodingError",
    "TransferEncodingError",
)

_Headers = CIMultiDict[str] | CIMultiDictProxy[str] | dict[str, str] | None


class HttpProcessingError(Exception):
    """Base of every HTTP codec error.

    ``code`` is the HTTP status to answer with, ``message`` says what was wrong and ``headers``
    are extra response headers (for example ``Connection: close``).
    """

    code = 0
    message = ""
    headers: _Headers = None

    def __init__(
        self, *, code: int | None = None, message: str = "", headers: _Headers = None
    ) -> None:
        if code is not None:
            self.code = code
        self.headers = headers
        self.message = message

    def __str__(self) -> str:
        msg = self.message.replace("\n", "\\n")
        return f"{self.code}, message:\n  {msg}"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: {self.code}, message={self.message!r}>"


class BadHttpMessage(HttpProcessingError):
    """The message violates HTTP/1.1 syntax or a safety rule; answer 400."""

    code = 400
    message = "Bad Request"

    def __init__(self, message: str, *, headers: _Headers = None) -> None:
        super().__init__(message=message, headers=headers)
        self.args = (message,)


class HttpBadRequest(BadHttpMessage):
    code = 400
    message = "Bad Request"


class PayloadEncodingError(BadHttpMessage):
    """The body framing or encoding is broken."""


class ContentEncodingError(PayloadEncodingError):
    """The body could not be decompressed (bad gzip/deflate/br/zstd data)."""


class DecompressSizeError(ContentEncodingError):
    """The decompressed body grew beyond the configured cap (decompression bomb)."""


class TransferEncodingError(PayloadEncodingError):
    """Chunked transfer coding is malformed or the connection ended inside a chunk."""


class ContentLengthError(PayloadEncodingError):
    """The connection ended before ``Content-Length`` bytes of body arrived."""


class LineTooLong(BadHttpMessage):
    """A start line or header field is longer than the configured limit.

    The status is 414 for a request target and 431 for header fields; 400 otherwise.
    """

    def __init__(
        self,
        line: str | bytes,
        limit: str | int = "Unknown",
        actual_size: str | int = "Unknown",
        *,
        code: int = 400,
    ) -> None:
        if isinstance(line, bytes):
            line = line[:100].decode("latin-1", "backslashreplace")
        super().__init__(f"Got more than {limit} bytes ({actual_size}) when reading {line}.")
        self.code = code
        self.args = (line, limit, actual_size)


class InvalidHeader(BadHttpMessage):
    """A header field name or value is not allowed."""

    def __init__(self, hdr: bytes | str) -> None:
        hdr_s = hdr.decode(errors="backslashreplace") if isinstance(hdr, bytes) else hdr
        super().__init__(f"Invalid HTTP header: {hdr!r}")
        self.hdr = hdr_s
        self.args = (hdr,)


class BadStatusLine(BadHttpMessage):
    """The request line or status line is malformed."""

    def __init__(self, line: str | bytes = "", error: str | None = None) -> None:
        if isinstance(line, bytes):
            line = repr(line)
        super().__init__(error or f"Bad status line {line!r}")
        self.args = (line,)
        self.line = line


class BadHttpMethod(BadStatusLine):
    """The request method is not a valid token."""

    def __init__(self, line: str | bytes = "", error: str | None = None) -> None:
        super().__init__(line, error or f"Bad HTTP method in status line {line!r}")


class InvalidURLError(BadHttpMessage):
    """The request target cannot be parsed as a URL."""
