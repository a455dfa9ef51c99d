"""Header value grammar (RFC 9110 §5.6): tokens, quoted strings, media types, entity tags and
Content-Disposition.

Parsers here are lenient in what they accept from peers (bad list members or parameters are
skipped, never raised), while builders are strict in what they produce: they raise ``ValueError``
rather than emit a value that is not valid or could break out of its header line.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, NamedTuple
from urllib.parse import quote

from multidict import MultiDict, MultiDictProxy

__all__ = (
    "ETAG_ANY",
    "QUOTED_STRING",
    "TOKEN",
    "ContentDisposition",
    "ETag",
    "MimeType",
    "content_disposition_header",
    "is_expected_content_type",
    "is_token",
    "parse_content_type",
    "parse_etag_list",
    "parse_mimetype",
    "quoted_string",
    "unquote_string",
    "validate_etag_value",
)

# --- RFC 9110 §5.6.2 tokens and §5.6.4 quoted strings ----------------------------------------

# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
#       / "~" / DIGIT / ALPHA
# token = 1*tchar
_TCHAR: Final = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
TOKEN: Final[re.Pattern[str]] = re.compile(rf"[{_TCHAR}]+")

# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
# qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
# quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
QUOTED_STRING: Final[re.Pattern[str]] = re.compile(
    r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t !-~\x80-\xff])*"'
)

# What a sender may put in a quoted-string: HTAB, SP and VCHAR (with DQUOTE and backslash
# escaped). We do not produce obs-text, and control characters could end the header line.
_QUOTABLE: Final = re.compile(r"[\t -~]*")
_NEEDS_ESCAPE: Final = re.compile(r'(["\\])')
_QUOTED_PAIR: Final = re.compile(r"\\(.)", re.DOTALL)


def is_token(value: str) -> bool:
    """Whether ``value`` is a non-empty RFC 9110 token (method, field or parameter name...)."""
    return TOKEN.fullmatch(value) is not None


def quoted_string(content: str) -> str:
    """Return ``content`` as an RFC 9110 quoted-string, with DQUOTE and backslash escaped.

    Raises ``ValueError`` for control characters (CR, LF, NUL...) and non-ASCII text, which
    cannot be sent safely in a quoted-string.
    """
    if _QUOTABLE.fullmatch(content) is None:
        raise ValueError(f"{content!r} cannot be sent as a quoted-string")
    return '"' + _NEEDS_ESCAPE.sub(r"\\\1", content) + '"'


def unquote_string(value: str) -> str:
    """Strip the DQUOTEs of a quoted-string and undo its quoted-pairs; return other values as
    they are."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    return value


# --- Media types (RFC 9110 §8.3.1) -------------------------------------------------------------

# parameters = *( OWS ";" OWS [ parameter ] ); parameter = name "=" ( token / quoted-string )
# Lenient: a name without "=" gets "", an unquoted value runs to the next ";".
_PARAMETER: Final = re.compile(
    r'[ \t]*;[ \t]*(?:([^\s;="]+)[ \t]*(?:=[ \t]*("(?:[^"\\]|\\.)*"|[^;]*))?)?', re.DOTALL
)


def _parse_parameters(params: str) -> list[tuple[str, str]]:
    """Parse ``;name=value`` pairs; names are lower-cased, values unquoted."""
    result: list[tuple[str, str]] = []
    pos, end = 0, len(params)
    while pos < end:
        match = _PARAMETER.match(params, pos)
        if match is None:
            # Garbage (e.g. after a closing quote): resume at the next separator.
            pos = params.find(";", pos + 1)
            if pos < 0:
                break
            continue
        pos = match.end()
        name, value = match.group(1, 2)
        if not name:
            continue
        if value is None:
            value = ""
        elif value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        else:
            value = value.strip(" \t")
        result.append((name.lower(), value))
    return result


class MimeType(NamedTuple):
    """A parsed media type: ``application/vnd.api+json; charset=utf-8`` gives type
    ``application``, subtype ``vnd.api``, suffix ``json`` and a ``charset`` parameter."""

    type: str
    subtype: str
    suffix: str
    parameters: MultiDictProxy[str]


def parse_mimetype(mimetype: str) -> MimeType:
    """Parse a media type (as in Content-Type or Accept); the result is cached and read-only.

    Type, subtype, suffix and parameter names are lower-cased; ``*`` means ``*/*``. An empty
    string gives empty fields rather than an error.
    """
    return _parse_mimetype(mimetype)


@functools.lru_cache(maxsize=128)
def _parse_mimetype(mimetype: str) -> MimeType:
    full, sep, rest = mimetype.partition(";")
    params = MultiDict[str](_parse_parameters(sep + rest) if sep else ())
    full = full.strip().lower()
    if full == "*":
        full = "*/*"
    mtype, _, subtype = full.partition("/")
    subtype, _, suffix = subtype.partition("+")
    return MimeType(mtype.strip(), subtype.strip(), suffix.strip(), MultiDictProxy(params))


@functools.lru_cache(maxsize=128)
def _parse_content_type(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    full, sep, rest = value.partition(";")
    mtype, slash, subtype = full.strip().lower().partition("/")
    if slash and is_token(mtype) and is_token(subtype):
        content_type = f"{mtype}/{subtype}"
    else:
        # RFC 2045 §5.2: an invalid Content-Type means text/plain.
        content_type = "text/plain"
    return content_type, tuple(_parse_parameters(sep + rest) if sep else ())


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into the lower-cased media type and its parameters.

    A missing header (``None``) means ``application/octet-stream`` (RFC 9110 §8.3); an invalid
    one means ``text/plain`` (RFC 2045). A repeated parameter keeps its last value.
    """
    if value is None:
        return "application/octet-stream", {}
    content_type, params = _parse_content_type(value)
    return content_type, dict(params)


def is_expected_content_type(response_content_type: str, expected_content_type: str) -> bool:
    """Whether a response's media type satisfies the one a caller expects.

    ``application/json`` also accepts any ``+json`` structured syntax suffix (RFC 6839, e.g.
    ``application/problem+json``); other types match as a case-insensitive substring, as
    aiohttp's ``content_type=`` argument always has.
    """
    expected = expected_content_type.strip().lower()
    if expected == "application/json":
        mime = parse_mimetype(response_content_type)
        return mime.suffix == "json" or (mime.type == "application" and mime.subtype == "json")
    return expected in response_content_type.lower()


# --- Content-Disposition (RFC 6266, RFC 8187) --------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ContentDisposition:
    """A parsed Content-Disposition header: ``type`` (e.g. ``attachment``), the ``parameters``
    (read-only) and the ``filename`` taken from them, or ``None``."""

    type: str | None
    parameters: MappingProxyType[str, str]
    filename: str | None


def content_disposition_header(
    disptype: str,
    quote_fields: bool = True,
    _charset: str = "utf-8",
    params: Mapping[str, str] | None = None,
) -> str:
    """Build a Content-Disposition value such as ``attachment; filename="a.txt"``.

    With ``quote_fields``, a value that is not plain printable ASCII is sent as an RFC 8187
    ``name*=utf-8''%..`` extended parameter; for ``filename`` a percent-encoded ASCII fallback is
    sent first for old recipients (RFC 6266 §4.3). Without it, values are sent as quoted strings
    verbatim (the multipart/form-data convention of RFC 7578 §4.2).

    Raises ``ValueError`` if ``disptype`` or a parameter name is not a token, or if a verbatim
    value contains a control character.
    """
    if not is_token(disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    if not params:
        return disptype
    parts = [disptype]
    for name, value in params.items():
        if not is_token(name):
            raise ValueError(f"bad content disposition parameter {name!r}={value!r}")
        if quote_fields:
            try:
                parts.append(f"{name}={quoted_string(value)}")
            except ValueError:
                encoded = quote(value, safe="", encoding=_charset)
                if name.lower() == "filename":
                    parts.append(f'{name}="{encoded}"')
                parts.append(f"{name}*={_charset}''{encoded}")
        else:
            if any(ch in value for ch in "\r\n\x00"):
                raise ValueError(f"bad content disposition parameter {name!r}={value!r}")
            parts.append(name + '="' + _NEEDS_ESCAPE.sub(r"\\\1", value) + '"')
    return "; ".join(parts)


# --- Entity tags (RFC 9110 §8.8.3, §13.1.1-2) --------------------------------------------------

#: The ``*`` of ``If-Match: *`` / ``If-None-Match: *``: any current representation.
ETAG_ANY: Final = "*"

# entity-tag = [ weak ] opaque-tag; weak = %s"W/"; opaque-tag = DQUOTE *etagc DQUOTE
# etagc = %x21 / %x23-7E / obs-text
_ETAGC: Final = re.compile(r"[\x21\x23-\x7e\x80-\xff]*")
# One list member: an entity-tag followed by a comma or the end; anything else up to the next
# comma is an invalid member. Commas are etagc, so a tag may contain them.
_ETAG_LIST_MEMBER: Final = re.compile(
    r'[ \t,]*(?:(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)|[^,]*,?)'
)


@dataclasses.dataclass(frozen=True, slots=True, init=False)
class ETag:
    """An entity tag: ``value`` is the opaque tag without quotes, ``is_weak`` tells whether it
    had the ``W/`` prefix.

    ``name`` is accepted as a keyword alias of ``value``, the spelling of the documented
    signature.
    """

    value: str
    is_weak: bool

    def __init__(
        self, value: str | None = None, is_weak: bool = False, *, name: str | None = None
    ) -> None:
        if (value is None) == (name is None):
            raise TypeError("ETag() takes exactly one of 'value' or 'name'")
        object.__setattr__(self, "value", value if value is not None else name)
        object.__setattr__(self, "is_weak", is_weak)


def validate_etag_value(value: str) -> None:
    """Raise ``ValueError`` unless ``value`` can be sent between the quotes of an ETag."""
    if _ETAGC.fullmatch(value) is None:
        raise ValueError(f"Value {value!r} is not a valid etag. Maybe it contains '\"'?")


def parse_etag_list(value: str) -> tuple[ETag, ...] | Literal["*"]:
    """Parse If-Match / If-None-Match: ``ETAG_ANY`` for ``*``, else the tags in order.

    Invalid members are skipped; empty list members are allowed (RFC 9110 §5.6.1).
    """
    if value.strip(" \t") == ETAG_ANY:
        return ETAG_ANY
    tags: list[ETag] = []
    pos, end = 0, len(value)
    while pos < end:
        match = _ETAG_LIST_MEMBER.match(value, pos)
        assert match is not None  # the second alternative matches anything
        if match.end() == pos:
            break
        pos = match.end()
        opaque = match.group(2)
        if opaque is not None:
            tags.append(ETag(opaque, is_weak=match.group(1) is not None))
    return tuple(tags)
