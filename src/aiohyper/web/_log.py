"""The default access logger: one line per handled request, in an Apache-like format.

The format is compiled once per distinct format string (class-level cache) into a ``%``-style
template plus one small function per specifier, so logging a request costs one list of values
and one string formatting. Supported specifiers (see the "Logging" page of the docs):

======== =========================================================
``%%``   a literal percent sign
``%a``   remote address (``request.remote``)
``%t``   local time the request started, ``[10/Oct/2000:13:55:36 -0700]``
``%P``   process id, ``<1234>``
``%r``   request line, ``GET /path?q=1 HTTP/1.1``
``%s``   response status
``%b``   response size in bytes, headers included
``%T``   time taken, whole seconds
``%Tf``  time taken, seconds with 6 decimals
``%D``   time taken, microseconds
``%{H}i`` request header ``H`` (``-`` if absent)
``%{H}o`` response header ``H`` (``-`` if absent)
======== =========================================================

Any other ``%`` sequence raises ``ValueError`` when the logger is created, not at log time.

Each record also carries the values as ``extra`` attributes (``remote_address``,
``request_start_time``, ``process_id``, ``first_request_line``, ``response_status``,
``response_size``, ``request_time``, ``request_time_frac``, ``request_time_micro``, and the
dicts ``request_header`` / ``response_header``) for structured log handlers.
"""

from __future__ import annotations

import logging
import os
import re
import time as time_mod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple

from ..abc import AbstractAccessLogger

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._response import StreamResponse

__all__ = ("AccessLogger",)

_Getter = Callable[["BaseRequest", "StreamResponse", float], str]

# One specifier: %{Name}i / %{Name}o, %Tf, or a single letter. "%%" is matched so that it is
# consumed as a literal before a following letter could be read as a specifier.
_SPEC_RE: Final = re.compile(r"%(?:\{([A-Za-z0-9\-_]+)\}([io])|(Tf)|([atPrsbTD%])|(.?))")

_MONTHS: Final = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)


class _Item(NamedTuple):
    """One compiled specifier: the ``extra`` key it fills, an optional sub-key, its getter."""

    key: str
    sub_key: str | None
    getter: _Getter


def _remote(request: BaseRequest, response: StreamResponse, time: float) -> str:
    remote = request.remote
    return remote if remote is not None else "-"


def _start_time(request: BaseRequest, response: StreamResponse, time: float) -> str:
    # Built by hand: strftime's %b is locale dependent, access logs should not be.
    tm = time_mod.localtime(time_mod.time() - time)
    offset = tm.tm_gmtoff or 0
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return (
        f"[{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year:04d}:"
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {sign}{hours:02d}{minutes:02d}]"
    )


def _pid(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return f"<{os.getpid()}>"


def _request_line(request: BaseRequest, response: StreamResponse, time: float) -> str:
    version = request.version
    return f"{request.method} {request.path_qs} HTTP/{version.major}.{version.minor}"


def _status(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return str(response.status)


def _size(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return str(response.body_length)


def _seconds(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return str(round(time))


def _seconds_frac(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return f"{time:06f}"


def _micros(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return str(round(time * 1_000_000))


def _request_header(name: str) -> _Getter:
    def getter(request: BaseRequest, response: StreamResponse, time: float) -> str:
        return request.headers.get(name, "-")

    return getter


def _response_header(name: str) -> _Getter:
    def getter(request: BaseRequest, response: StreamResponse, time: float) -> str:
        return response.headers.get(name, "-")

    return getter


_SIMPLE: Final[dict[str, tuple[str, _Getter]]] = {
    "a": ("remote_address", _remote),
    "t": ("request_start_time", _start_time),
    "P": ("process_id", _pid),
    "r": ("first_request_line", _request_line),
    "s": ("response_status", _status),
    "b": ("response_size", _size),
    "T": ("request_time", _seconds),
    "Tf": ("request_time_frac", _seconds_frac),
    "D": ("request_time_micro", _micros),
}


class AccessLogger(AbstractAccessLogger):
    """Writes one ``INFO`` record per request to ``logger`` using ``log_format``.

    Raises ``ValueError`` for an unknown ``%`` specifier in ``log_format``.
    """

    __slots__ = ("_items", "_template")

    LOG_FORMAT: ClassVar[str] = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'

    # Compiled formats by format string; apps use one or two formats, so this stays tiny.
    _FORMAT_CACHE: ClassVar[dict[str, tuple[str, tuple[_Item, ...]]]] = {}

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        compiled = self._FORMAT_CACHE.get(log_format)
        if compiled is None:
            compiled = self.compile_format(log_format)
            self._FORMAT_CACHE[log_format] = compiled
        self._template, self._items = compiled

    @staticmethod
    def compile_format(log_format: str) -> tuple[str, tuple[_Item, ...]]:
        """Turn ``log_format`` into a ``%s`` template and the getters that fill it."""
        items: list[_Item] = []
        parts: list[str] = []
        pos = 0
        for match in _SPEC_RE.finditer(log_format):
            parts.append(log_format[pos : match.start()].replace("%", "%%"))
            pos = match.end()
            name, kind, tf, letter, bad = match.groups()
            if name is not None:
                if kind == "i":
                    items.append(_Item("request_header", name, _request_header(name)))
                else:
                    items.append(_Item("response_header", name, _response_header(name)))
            elif tf is not None:
                key, getter = _SIMPLE["Tf"]
                items.append(_Item(key, None, getter))
            elif letter == "%":
                parts.append("%%")
                continue
            elif letter is not None:
                key, getter = _SIMPLE[letter]
                items.append(_Item(key, None, getter))
            else:
                raise ValueError(
                    f"Unknown access log format specifier %{bad} in {log_format!r} "
                    "(see the 'Format specification' section of the logging docs)"
                )
            parts.append("%s")
        parts.append(log_format[pos:].replace("%", "%%"))
        return "".join(parts), tuple(items)

    @property
    def enabled(self) -> bool:
        """True when the logger would emit ``INFO`` records (else the server skips logging)."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log one request; ``time`` is the seconds spent serving it.

        A failure while formatting is reported on the same logger, never raised to the server.
        """
        try:
            values: list[str] = []
            extra: dict[str, Any] = {}
            for key, sub_key, getter in self._items:
                value = getter(request, response, time)
                values.append(value)
                if sub_key is None:
                    extra[key] = value
                else:
                    extra.setdefault(key, {})[sub_key] = value
            self.logger.info(self._template % tuple(values), extra=extra)
        except Exception:
            self.logger.exception("Error in logging")
