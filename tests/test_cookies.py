"""Cookie header parsing (RFC 6265, strict) and Set-Cookie building."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from http.cookies import Morsel, SimpleCookie

import pytest
from hypothesis import given, strategies as st

from aiohyper.cookies import (
    COOKIE_EXPIRED,
    CookieMorsel,
    format_set_cookie,
    make_deleted_morsel,
    make_morsel,
    parse_cookie_header,
    populate_set_cookie_headers,
)

# -- parse_cookie_header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("a=b", {"a": "b"}),
        ("a=b; c=d", {"a": "b", "c": "d"}),
        ("a=b;c=d", {"a": "b", "c": "d"}),  # missing SP tolerated
        ("a=b;  c=d ", {"a": "b", "c": "d"}),
        ('a="quoted"', {"a": "quoted"}),
        ('a=""', {"a": ""}),
        ("a=", {"a": ""}),
        ("a=b=c", {"a": "b=c"}),  # '=' is a cookie-octet
        ("tok=abc/def+ghi==", {"tok": "abc/def+ghi=="}),
        ("a=first; a=second", {"a": "first"}),  # most specific path comes first
        ("path=1; domain=2; expires=3", {"path": "1", "domain": "2", "expires": "3"}),
    ],
)
def test_parse_valid(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


@pytest.mark.parametrize(
    "bad_pair",
    [
        "novalue",
        "=value",
        "sp ace=1",
        "a=b c",  # space in value
        "a=b,c",  # comma
        'a="unterminated',
        'a=in"side',
        "a=back\\slash",
        'a="b"c',
        "a =b",  # no whitespace around '='
        "a= b",
        "(paren)=1",
        "a=\x01",
        "a=caf\u00e9",  # non-ASCII
    ],
)
def test_parse_skips_invalid_pairs_only(bad_pair: str) -> None:
    header = f"good=1; {bad_pair}; other=2"
    assert parse_cookie_header(header) == {"good": "1", "other": "2"}


@given(st.text(max_size=60))
def test_parse_never_raises_and_values_are_cookie_octets(header: str) -> None:
    result = parse_cookie_header(header)
    for name, value in result.items():
        assert name and all(c.isascii() and c not in ' ;,"=' for c in name)
        assert all(0x21 <= ord(c) <= 0x7E and c not in '",;\\' for c in value)


# -- make_morsel / format_set_cookie ------------------------------------------------------------


def test_make_morsel_defaults() -> None:
    morsel = make_morsel("name", "value")
    assert isinstance(morsel, Morsel)
    assert morsel.key == "name"
    assert morsel.value == "value"
    assert format_set_cookie(morsel) == "name=value; Path=/"


def test_make_morsel_all_attributes() -> None:
    morsel = make_morsel(
        "name",
        "value",
        path="/p",
        expires="Wed, 21 Oct 2015 07:28:00 GMT",
        domain="example.com",
        max_age=10,
        secure=True,
        httponly=True,
        samesite="Strict",
        partitioned=True,
    )
    assert format_set_cookie(morsel) == (
        "name=value; Domain=example.com; expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly; "
        "Max-Age=10; Partitioned; Path=/p; SameSite=Strict; Secure"
    )


def test_flags_false_are_omitted() -> None:
    morsel = make_morsel("a", "b", secure=False, httponly=False, partitioned=False, path=None)
    assert format_set_cookie(morsel) == "a=b"


def test_expires_from_datetime_and_timestamp() -> None:
    when = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert "expires=Wed, 21 Oct 2015 07:28:00 GMT" in format_set_cookie(
        make_morsel("a", "b", expires=when)
    )
    assert "expires=Wed, 21 Oct 2015 07:28:00 GMT" in format_set_cookie(
        make_morsel("a", "b", expires=when.timestamp())
    )


def test_integer_expires_set_directly_counts_from_now() -> None:
    morsel = CookieMorsel()
    morsel.set("a", "b", "b")
    morsel["expires"] = 3600
    text = format_set_cookie(morsel)
    stamp = text.split("expires=")[1]
    parsed = datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    assert abs(parsed.timestamp() - (time.time() + 3600)) < 5


def test_reserved_words_are_valid_cookie_names() -> None:
    for name in ("path", "expires", "Domain", "partitioned"):
        assert format_set_cookie(make_morsel(name, "1")).startswith(f"{name}=1;")


@pytest.mark.parametrize("name", ["", "a b", "a;b", "a=b", "caf\u00e9", "a\r\nb", "(x)"])
def test_invalid_names_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="token"):
        make_morsel(name, "v")


def test_value_outside_cookie_octets_is_quoted_like_simplecookie() -> None:
    morsel = make_morsel("a", "hello world; x")
    assert morsel.coded_value == SimpleCookie().value_encode("hello world; x")[1]
    header = format_set_cookie(morsel)
    assert header.startswith('a="hello world\\073 x"')
    assert "\r" not in header and "\n" not in header


def test_value_with_cookie_octets_is_not_quoted() -> None:
    # SimpleCookie would quote '/', '=' and '@'; RFC 6265 allows them unquoted.
    assert make_morsel("a", "x/y=z@w").coded_value == "x/y=z@w"
    assert make_morsel("a", '"already"').coded_value == '"already"'


def test_value_is_converted_to_str() -> None:
    assert make_morsel("n", 42).value == "42"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/a; Secure"},
        {"domain": "x.com\r\nSet-Cookie: evil=1"},
        {"samesite": "Lax;"},
        {"expires": "Wed\n"},
        {"max_age": "1; Domain=evil"},
    ],
)
def test_attribute_injection_rejected(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="must not contain"):
        make_morsel("a", "b", **kwargs)  # type: ignore[arg-type]


def test_format_rejects_tampered_morsel() -> None:
    morsel = make_morsel("a", "b")
    morsel["path"] = "/x; Domain=evil"
    with pytest.raises(ValueError):
        format_set_cookie(morsel)
    bad_value = CookieMorsel()
    bad_value.__dict__.update(_key="a", _value="x", _coded_value="x\r\nInjected: 1")
    with pytest.raises(ValueError, match="cannot be sent"):
        format_set_cookie(bad_value)


def test_format_plain_simplecookie_morsel() -> None:
    cookies = SimpleCookie()
    cookies["sid"] = "abc"
    cookies["sid"]["httponly"] = True
    cookies["sid"]["max-age"] = 60
    assert format_set_cookie(cookies["sid"]) == "sid=abc; HttpOnly; Max-Age=60"


def test_partitioned_is_a_known_attribute() -> None:
    morsel = CookieMorsel()
    morsel["partitioned"] = True  # plain Morsel refuses this before Python 3.14
    assert "partitioned" in morsel


def test_deleted_morsel() -> None:
    text = format_set_cookie(make_deleted_morsel("sid", domain="example.com", path="/app"))
    assert text == f"sid=; Domain=example.com; expires={COOKIE_EXPIRED}; Max-Age=0; Path=/app"


def test_unsendable_value_rejected_early() -> None:
    with pytest.raises(ValueError, match="cannot be sent"):
        make_morsel("a", "\u20ac")


def test_populate_set_cookie_headers() -> None:
    from multidict import CIMultiDict

    headers: CIMultiDict[str] = CIMultiDict()
    cookies = SimpleCookie()
    cookies["a"] = make_morsel("a", "1")
    cookies["b"] = make_morsel("b", "2", httponly=True)
    populate_set_cookie_headers(headers, cookies)
    assert headers.getall("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly; Path=/"]


@given(st.text(max_size=30))
def test_any_value_yields_a_safe_header(value: str) -> None:
    try:
        text = format_set_cookie(make_morsel("n", value))
    except ValueError:
        return
    assert not any(c in text for c in "\r\n\x00")
    # The value cannot add attributes: the first ';' outside quotes ends the pair.
    assert text.endswith("; Path=/")
