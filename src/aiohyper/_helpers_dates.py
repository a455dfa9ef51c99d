"""HTTP dates (RFC 9110 §5.6.7): parse all three historical formats, produce IMF-fixdate.

Formatting is locale independent (no ``strftime``) and cached per second, since a server stamps
every response with the current time.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime
from typing import Final

__all__ = ("format_http_date", "parse_http_date", "rfc822_formatted_time")

_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
)  # fmt: skip
_MONTHS: Final = {name.lower(): number for number, name in enumerate(_MONTH_NAMES, 1)}

_TIME: Final = r"(\d\d):(\d\d):(\d\d)"
# Senders must write GMT; numeric UTC offsets and "UTC" are tolerated because peers send them.
_GMT: Final = r"(?:GMT|UTC|[+-]0000)"

# IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT   ; Sun, 06 Nov 1994 08:49:37 GMT
# (a one-digit day is tolerated)
_IMF_FIXDATE: Final = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d?) ([a-z]{{3}}) (\d{{4}}) {_TIME} {_GMT}",
    re.IGNORECASE,
)
# rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT ; Sunday, 06-Nov-94 08:49:37 GMT
_RFC850_DATE: Final = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    rf"(\d\d)-([a-z]{{3}})-(\d\d) {_TIME} {_GMT}",
    re.IGNORECASE,
)
# asctime-date = day-name SP date3 SP time-of-day SP year     ; Sun Nov  6 08:49:37 1994
# date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
_ASCTIME_DATE: Final = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([a-z]{{3}}) ([ \d]\d) {_TIME} (\d{{4}})",
    re.IGNORECASE,
)


def _two_digit_year(year: int) -> int:
    # RFC 9110 §5.6.7: a year more than 50 years in the future is the latest such past year.
    this_year = time.gmtime().tm_year
    full = this_year // 100 * 100 + year
    if full > this_year + 50:
        full -= 100
    return full


def parse_http_date(date_str: str | None) -> datetime | None:
    """Parse an HTTP date into an aware UTC ``datetime``; ``None`` if absent or invalid.

    Accepts IMF-fixdate, the obsolete RFC 850 and asctime formats. A leap second (``:60``) is
    read as ``:59``.
    """
    if not date_str:
        return None
    return _parse_http_date(date_str)


@functools.lru_cache(maxsize=128)
def _parse_http_date(date_str: str) -> datetime | None:
    text = date_str.strip(" \t")
    if match := _IMF_FIXDATE.fullmatch(text):
        day, month, year, hour, minute, second = match.groups()
        year_number = int(year)
    elif match := _RFC850_DATE.fullmatch(text):
        day, month, year, hour, minute, second = match.groups()
        year_number = _two_digit_year(int(year))
    elif match := _ASCTIME_DATE.fullmatch(text):
        month, day, hour, minute, second, year = match.groups()
        year_number = int(year)
    else:
        return None
    month_number = _MONTHS.get(month.lower())
    if month_number is None:
        return None
    try:
        return datetime(
            year_number,
            month_number,
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),
            tzinfo=UTC,
        )
    except ValueError:  # day 31 of a 30-day month, hour 25...
        return None


@functools.lru_cache(maxsize=64)
def _format_second(second: int) -> str:
    t = time.gmtime(second)
    return (
        f"{_DAY_NAMES[t.tm_wday]}, {t.tm_mday:02d} {_MONTH_NAMES[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def format_http_date(timestamp: float) -> str:
    """Format a Unix timestamp (seconds, fractions dropped) as IMF-fixdate, e.g.
    ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return _format_second(int(timestamp // 1))


# (second, formatted): one tuple so that a reader never sees a half-updated pair.
_now: tuple[int, str] = (-1, "")


def rfc822_formatted_time() -> str:
    """The current time as IMF-fixdate, for the ``Date`` header; recomputed once a second."""
    global _now
    second = int(time.time())
    cached = _now
    if cached[0] == second:
        return cached[1]
    value = _format_second(second)
    _now = (second, value)
    return value
