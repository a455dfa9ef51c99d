"""CookieJar: RFC 6265 storage and matching rules, expiry, persistence; DummyCookieJar."""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable
from http.cookies import BaseCookie, Morsel, SimpleCookie
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from yarl import URL

from aiohyper.abc import AbstractCookieJar
from aiohyper.client._cookiejar import (
    CookieJar,
    DummyCookieJar,
    parse_cookie_date,
    parse_set_cookie_headers,
)

T0 = 1_700_000_000.0


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_jar(**kwargs: object) -> tuple[CookieJar, Clock]:
    jar = CookieJar(**kwargs)  # type: ignore[arg-type]
    clock = Clock()
    jar._clock = clock
    return jar, clock


def receive(jar: CookieJar, url: str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


def sent(jar: CookieJar, url: str) -> dict[str, str]:
    """name -> value of the cookies sent to ``url``, in sending order."""
    return {name: morsel.value for name, morsel in jar.filter_cookies(URL(url)).items()}


def header(jar: CookieJar, url: str) -> str:
    """The Cookie header built from filter_cookies, in its order (``BaseCookie.output()``
    would sort the names)."""
    return "; ".join(f"{m.key}={m.coded_value}" for m in jar.filter_cookies(URL(url)).values())


# --- cookie-date (RFC 6265 5.1.1) ---------------------------------------------------------
EPOCH_1994 = calendar.timegm((1994, 11, 6, 8, 49, 37))


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "Sun, 06-Nov-1994 08:49:37 GMT",  # what many servers send
        "6 nov 1994 08:49:37",  # no weekday, lower case
        "08:49:37 06 November 1994 garbage",
        "Sun, 06 Nov 1994 08:49:37 UTC",
    ],
)
def test_cookie_date_formats(text: str) -> None:
    assert parse_cookie_date(text) == EPOCH_1994


def test_cookie_date_two_digit_years() -> None:
    assert parse_cookie_date("01 Jan 70 00:00:00 GMT") == 0
    assert parse_cookie_date("01 Jan 69 00:00:00 GMT") == calendar.timegm((2069, 1, 1, 0, 0, 0))
    assert parse_cookie_date("01 Jan 00 00:00:00 GMT") == calendar.timegm((2000, 1, 1, 0, 0, 0))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Sun, 06 Nov 1994",  # no time
        "06 Nov 1994 24:00:00",  # hour out of range
        "06 Nov 1994 08:60:00",
        "06 Nov 1994 08:00:60",
        "31 Feb 2020 00:00:00",  # no such day
        "29 Feb 2021 00:00:00",
        "32 Jan 2020 00:00:00",
        "01 Jan 1600 00:00:00",  # before 1601
        "06 Foo 1994 08:49:37",  # no month
    ],
)
def test_cookie_date_invalid(text: str) -> None:
    assert parse_cookie_date(text) is None


def test_cookie_date_far_future_is_clamped() -> None:
    assert parse_cookie_date("31 Dec 9999 23:59:59 GMT") == 253402300799.0


# --- Set-Cookie parsing (RFC 6265 5.2) -------------------------------------------------------
def test_parse_set_cookie_attributes() -> None:
    [(name, morsel)] = parse_set_cookie_headers(
        [
            "sid=abc; Path=/app; Domain=.Example.com; Max-Age=60; "
            "Expires=Sun, 06 Nov 1994 08:49:37 GMT; Secure; HttpOnly; SameSite=Lax; Partitioned"
        ]
    )
    assert name == "sid"
    assert morsel.key == "sid"
    assert morsel.value == "abc"
    assert morsel["path"] == "/app"
    assert morsel["domain"] == ".Example.com"
    assert morsel["max-age"] == "60"
    assert morsel["expires"] == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["partitioned"] is True


def test_parse_set_cookie_is_lenient_about_case_spaces_and_order() -> None:
    [(_, morsel)] = parse_set_cookie_headers(["  a = b c ;  secure ; PATH = /x ;path=/y; ;x=y"])
    assert morsel.key == "a"
    assert morsel.value == "b c"  # inner spaces are part of the value
    assert morsel["secure"] is True
    assert morsel["path"] == "/y"  # the last attribute wins


def test_parse_set_cookie_quoted_value() -> None:
    [(_, morsel)] = parse_set_cookie_headers(['q="a b\\"c"'])
    assert morsel.value == 'a b"c'
    assert morsel.coded_value == '"a b\\"c"'


def test_parse_set_cookie_ignores_bad_attributes() -> None:
    [(_, morsel)] = parse_set_cookie_headers(
        ["a=b; Max-Age=1x; Expires=never; Domain=; Path=relative; Unknown=1"]
    )
    assert morsel["max-age"] == ""
    assert morsel["expires"] == ""
    assert morsel["domain"] == ""
    assert morsel["path"] == ""


@pytest.mark.parametrize(
    "bad",
    [
        "no-equals-sign",
        "=value-without-name",
        "  =x",
        "a=b\r\nX-Injected: 1",
        "a=\x00b",
        "a=" + "x" * 5000,
    ],
)
def test_parse_set_cookie_skips_malformed(bad: str) -> None:
    assert parse_set_cookie_headers([bad, "good=1"]) == parse_set_cookie_headers(["good=1"])
    [(name, _)] = parse_set_cookie_headers([bad, "good=1"])
    assert name == "good"


def test_parse_set_cookie_keeps_duplicate_names_and_reserved_names() -> None:
    parsed = parse_set_cookie_headers(["a=1; Path=/", "a=2; Path=/x", "path=3", "expires=4"])
    assert [(name, m.value) for name, m in parsed] == [
        ("a", "1"),
        ("a", "2"),
        ("path", "3"),
        ("expires", "4"),
    ]


@given(st.lists(st.text(max_size=60), max_size=5))
def test_set_cookie_parsing_never_raises(headers: list[str]) -> None:
    jar = CookieJar()
    parse_set_cookie_headers(headers)
    jar.update_cookies_from_headers(headers, URL("http://example.com/a/b"))
    for morsel in jar:
        assert "\r" not in morsel.coded_value and "\n" not in morsel.coded_value
    assert "\n" not in header(jar, "http://example.com/a/b")


# --- domains (RFC 6265 5.1.3, 5.3 step 6) ----------------------------------------------------
def test_host_only_cookie() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "a=1")
    assert sent(jar, "http://example.com/") == {"a": "1"}
    assert sent(jar, "http://EXAMPLE.com/") == {"a": "1"}
    assert sent(jar, "http://www.example.com/") == {}
    assert sent(jar, "http://notexample.com/") == {}
    assert sent(jar, "http://example.org/") == {}
    assert sent(jar, "http://com/") == {}
    [morsel] = list(jar)
    assert morsel["domain"] == "example.com"


@pytest.mark.parametrize("domain", ["example.com", ".example.com", "EXAMPLE.COM"])
def test_domain_cookie_matches_subdomains(domain: str) -> None:
    jar, _ = make_jar()
    receive(jar, "http://www.example.com/", f"a=1; Domain={domain}")
    assert sent(jar, "http://example.com/") == {"a": "1"}
    assert sent(jar, "http://www.example.com/") == {"a": "1"}
    assert sent(jar, "http://a.b.example.com/") == {"a": "1"}
    assert sent(jar, "http://badexample.com/") == {}
    assert sent(jar, "http://example.com.evil.org/") == {}
    assert sent(jar, "http://com/") == {}
    [morsel] = list(jar)
    assert morsel["domain"] == "example.com"


@pytest.mark.parametrize(
    ("response_url", "domain"),
    [
        ("http://example.com/", "other.com"),  # unrelated
        ("http://example.com/", "www.example.com"),  # a subdomain of the host
        ("http://example.com/", "ample.com"),  # a suffix, but not at a dot
        ("http://www.example.com/", "com"),  # a top-level domain
        ("http://www.example.com/", ".com"),
        ("http://www.example.com/", "sibling.example.com"),
        ("http://www.example.com/", "..example.com"),
    ],
)
def test_domain_attribute_must_match_the_host(response_url: str, domain: str) -> None:
    jar, _ = make_jar()
    receive(jar, response_url, f"a=1; Domain={domain}")
    assert len(jar) == 0


def test_single_label_domain_equal_to_host_is_host_only() -> None:
    jar, _ = make_jar()
    receive(jar, "http://localhost/", "a=1; Domain=localhost")
    assert sent(jar, "http://localhost/") == {"a": "1"}
    assert sent(jar, "http://sub.localhost/") == {}


def test_ip_hosts_need_unsafe() -> None:
    jar, _ = make_jar()
    receive(jar, "http://127.0.0.1/", "a=1")
    jar.update_cookies({"b": "2"}, URL("http://127.0.0.1/"))
    assert len(jar) == 0
    assert sent(jar, "http://127.0.0.1/") == {}

    jar, _ = make_jar(unsafe=True)
    assert jar.unsafe
    receive(jar, "http://127.0.0.1/", "a=1")
    receive(jar, "http://127.0.0.1/", "b=2; Domain=0.0.1")  # no suffix matching for IPs
    receive(jar, "http://127.0.0.1/", "c=3; Domain=127.0.0.1")
    assert sent(jar, "http://127.0.0.1/") == {"a": "1", "c": "3"}
    assert sent(jar, "http://127.0.0.2/") == {}
    assert sent(jar, "http://1.127.0.0.1.example/") == {}


def test_ipv6_host_with_unsafe() -> None:
    jar, _ = make_jar(unsafe=True)
    receive(jar, "http://[::1]:8080/", "a=1")
    assert sent(jar, "http://[::1]:8080/") == {"a": "1"}
    assert sent(jar, "http://[::2]/") == {}
    jar, _ = make_jar()
    receive(jar, "http://[::1]:8080/", "a=1")
    assert len(jar) == 0


def test_same_name_on_host_and_parent_domain_both_kept() -> None:
    jar, _ = make_jar()
    receive(jar, "http://www.example.com/", "a=host")
    receive(jar, "http://www.example.com/", "a=domain; Domain=example.com")
    assert len(jar) == 2
    assert sent(jar, "http://example.com/") == {"a": "domain"}
    # Same path length: the older cookie first, and only one value per name.
    assert sent(jar, "http://www.example.com/") == {"a": "host"}


# --- paths (RFC 6265 5.1.4) ------------------------------------------------------------------
def test_default_path_is_the_directory_of_the_response() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/foo/bar", "a=1")
    [morsel] = list(jar)
    assert morsel["path"] == "/foo"
    assert sent(jar, "http://example.com/foo") == {"a": "1"}
    assert sent(jar, "http://example.com/foo/") == {"a": "1"}
    assert sent(jar, "http://example.com/foo/baz/qux") == {"a": "1"}
    assert sent(jar, "http://example.com/foobar") == {}
    assert sent(jar, "http://example.com/fo") == {}
    assert sent(jar, "http://example.com/") == {}


@pytest.mark.parametrize(
    ("response_path", "default"),
    [("/", "/"), ("/top", "/"), ("", "/"), ("/a/b/", "/a/b"), ("/a/b/c?q=/x", "/a/b")],
)
def test_default_path_table(response_path: str, default: str) -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com" + response_path, "a=1")
    [morsel] = list(jar)
    assert morsel["path"] == default


def test_relative_path_attribute_uses_default_path() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/dir/page", "a=1; Path=relative")
    [morsel] = list(jar)
    assert morsel["path"] == "/dir"


def test_path_with_trailing_slash() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "a=1; Path=/foo/")
    assert sent(jar, "http://example.com/foo/") == {"a": "1"}
    assert sent(jar, "http://example.com/foo/x") == {"a": "1"}
    assert sent(jar, "http://example.com/foo") == {}


def test_path_is_case_sensitive_and_query_ignored() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "a=1; Path=/Foo")
    assert sent(jar, "http://example.com/Foo?x=/y") == {"a": "1"}
    assert sent(jar, "http://example.com/foo") == {}


def test_send_order_longest_path_first_then_oldest() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "root1=1; Path=/")
    receive(jar, "http://example.com/", "deep=2; Path=/a/b")
    receive(jar, "http://example.com/", "mid=3; Path=/a")
    receive(jar, "http://example.com/", "root2=4; Path=/")
    assert list(sent(jar, "http://example.com/a/b/c")) == ["deep", "mid", "root1", "root2"]
    # Replacing a cookie keeps its creation time (RFC 6265 5.3 step 11.3).
    receive(jar, "http://example.com/", "root1=new; Path=/")
    assert list(sent(jar, "http://example.com/a/b/c")) == ["deep", "mid", "root1", "root2"]
    assert header(jar, "http://example.com/a/b/c") == "deep=2; mid=3; root1=new; root2=4"


def test_same_name_different_paths_most_specific_is_sent() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "a=root; Path=/", "a=deep; Path=/x")
    assert len(jar) == 2
    assert sent(jar, "http://example.com/x/y") == {"a": "deep"}
    assert sent(jar, "http://example.com/y") == {"a": "root"}


# --- secure ----------------------------------------------------------------------------------
def test_secure_cookies_only_to_secure_origins() -> None:
    jar, _ = make_jar()
    receive(jar, "https://example.com/", "s=1; Secure", "p=2")
    assert sent(jar, "https://example.com/") == {"s": "1", "p": "2"}
    assert sent(jar, "wss://example.com/") == {"s": "1", "p": "2"}
    assert sent(jar, "http://example.com/") == {"p": "2"}
    assert sent(jar, "ws://example.com/") == {"p": "2"}


@pytest.mark.parametrize(
    "origins",
    [
        "http://127.0.0.1:8080",
        URL("http://127.0.0.1:8080/any/path"),
        ["http://other.org", URL("http://127.0.0.1:8080")],
        ("http://127.0.0.1:8080",),
    ],
)
def test_treat_as_secure_origin(origins: object) -> None:
    jar, _ = make_jar(unsafe=True, treat_as_secure_origin=origins)
    receive(jar, "http://127.0.0.1:8080/", "s=1; Secure")
    assert sent(jar, "http://127.0.0.1:8080/x") == {"s": "1"}
    assert sent(jar, "http://127.0.0.1:8081/x") == {}  # another origin


def test_treat_as_secure_origin_rejects_relative_urls() -> None:
    with pytest.raises(ValueError):
        CookieJar(treat_as_secure_origin="/relative")


def test_httponly_is_kept_and_sent() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "h=1; HttpOnly")
    [morsel] = list(jar)
    assert morsel["httponly"] is True
    assert sent(jar, "http://example.com/") == {"h": "1"}


# --- expiry ----------------------------------------------------------------------------------
def test_max_age_expiry() -> None:
    jar, clock = make_jar()
    receive(jar, "http://example.com/", "a=1; Max-Age=10", "session=2")
    assert sent(jar, "http://example.com/") == {"a": "1", "session": "2"}
    clock.now += 9.5
    assert sent(jar, "http://example.com/") == {"a": "1", "session": "2"}
    clock.now += 0.5
    assert sent(jar, "http://example.com/") == {"session": "2"}
    assert len(jar) == 1


def test_expires_attribute() -> None:
    jar, clock = make_jar()
    clock.now = EPOCH_1994 - 100
    receive(jar, "http://example.com/", "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT")
    assert len(jar) == 1
    clock.now = EPOCH_1994
    assert len(jar) == 0
    assert list(jar) == []


def test_max_age_takes_precedence_over_expires() -> None:
    jar, _ = make_jar()
    # Expires in the past, but Max-Age in the future: kept.
    receive(jar, "http://example.com/", "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60")
    assert sent(jar, "http://example.com/") == {"a": "1"}
    # Expires far in the future, but Max-Age=0: deleted.
    receive(jar, "http://example.com/", "a=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT")
    assert len(jar) == 0


@pytest.mark.parametrize(
    "deletion",
    ["a=; Max-Age=0", "a=gone; Max-Age=-1", "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
)
def test_expired_cookie_deletes_the_stored_one(deletion: str) -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "a=1", "b=2")
    receive(jar, "http://example.com/", deletion)
    assert sent(jar, "http://example.com/") == {"b": "2"}
    assert len(jar) == 1


def test_deletion_must_match_domain_and_path() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", "a=1; Path=/p")
    receive(jar, "http://example.com/", "a=; Max-Age=0; Path=/other")
    assert len(jar) == 1


def test_refreshing_expiry_replaces_the_scheduled_one() -> None:
    jar, clock = make_jar()
    receive(jar, "http://example.com/", "a=1; Max-Age=10")
    clock.now += 5
    receive(jar, "http://example.com/", "a=2; Max-Age=10")
    clock.now += 6  # the first expiry time has passed, the refreshed one has not
    assert sent(jar, "http://example.com/") == {"a": "2"}
    clock.now += 5
    assert sent(jar, "http://example.com/") == {}


def test_refresh_to_session_cookie_cancels_expiry() -> None:
    jar, clock = make_jar()
    receive(jar, "http://example.com/", "a=1; Max-Age=10")
    receive(jar, "http://example.com/", "a=2")
    clock.now += 100
    assert sent(jar, "http://example.com/") == {"a": "2"}


def test_stale_heap_entries_stay_bounded() -> None:
    jar, clock = make_jar()
    for i in range(2000):
        receive(jar, "http://example.com/", f"a={i}; Max-Age=3600")
        clock.now += 0.001
    assert len(jar) == 1
    assert len(jar._expiry_heap) < 100


def test_huge_max_age_is_clamped() -> None:
    jar, clock = make_jar()
    receive(jar, "http://example.com/", "a=1; Max-Age=" + "9" * 50)
    clock.now = 253402300798.0
    assert sent(jar, "http://example.com/") == {"a": "1"}


def test_morsel_expiry_attributes() -> None:
    jar, clock = make_jar()
    cookies: SimpleCookie = SimpleCookie()
    cookies["m"] = "1"
    cookies["m"]["max-age"] = 5
    cookies["e"] = "2"
    cookies["e"]["expires"] = 5  # seconds from now, as Morsel reads an int
    cookies["d"] = "3"
    cookies["d"]["max-age"] = "0"
    jar.update_cookies(cookies, URL("http://example.com/"))
    assert sent(jar, "http://example.com/") == {"m": "1", "e": "2"}
    clock.now += 5
    assert sent(jar, "http://example.com/") == {}


# --- update_cookies input forms ----------------------------------------------------------------
def test_shared_cookies_are_sent_everywhere() -> None:
    jar, _ = make_jar()
    jar.update_cookies({"shared": "1"})
    assert sent(jar, "http://example.com/any/path") == {"shared": "1"}
    assert sent(jar, "https://other.org/") == {"shared": "1"}
    assert sent(jar, "http://127.0.0.1:8080/") == {"shared": "1"}  # even without unsafe
    assert sent(jar, "/relative") == {"shared": "1"}
    [morsel] = list(jar)
    assert morsel["domain"] == ""
    assert morsel["path"] == "/"


def test_update_cookies_none_url_is_shared() -> None:
    jar, _ = make_jar()
    jar.update_cookies({"a": "1"}, None)
    assert sent(jar, "http://example.com/") == {"a": "1"}


@pytest.mark.parametrize(
    "cookies",
    [
        {"a": "1", "b": "2"},
        [("a", "1"), ("b", "2")],
        (pair for pair in [("a", "1"), ("b", "2")]),
        SimpleCookie("a=1; b=2"),
    ],
)
def test_update_cookies_input_forms(cookies: object) -> None:
    jar, _ = make_jar()
    jar.update_cookies(cookies, URL("http://example.com/"))  # type: ignore[arg-type]
    assert sent(jar, "http://example.com/") == {"a": "1", "b": "2"}
    assert sent(jar, "http://www.example.com/") == {}  # host-only


def test_update_cookies_with_morsel_attributes() -> None:
    jar, _ = make_jar()
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "v", "v")
    morsel["domain"] = ".example.com"
    morsel["path"] = "/p"
    morsel["secure"] = True
    jar.update_cookies({"m": morsel}, URL("http://www.example.com/"))
    assert sent(jar, "https://sub.example.com/p/x") == {"m": "v"}
    assert sent(jar, "http://sub.example.com/p/x") == {}
    assert sent(jar, "https://sub.example.com/q") == {}


def test_shared_update_with_domain_morsel() -> None:
    jar, _ = make_jar()
    cookies: SimpleCookie = SimpleCookie()
    cookies["d"] = "1"
    cookies["d"]["domain"] = "example.com"
    cookies["tld"] = "2"
    cookies["tld"]["domain"] = "com"
    jar.update_cookies(cookies)
    assert sent(jar, "http://www.example.com/") == {"d": "1"}
    assert sent(jar, "http://other.com/") == {}


def test_base_cookie_values_are_flattened() -> None:
    jar, _ = make_jar()
    jar.update_cookies({"ignored": SimpleCookie("x=1; y=2")}, URL("http://example.com/"))
    assert sent(jar, "http://example.com/") == {"x": "1", "y": "2"}


def test_update_cookies_from_response_cookies() -> None:
    # What ClientResponse.cookies holds: a SimpleCookie loaded from Set-Cookie headers.
    jar, _ = make_jar()
    response_cookies: SimpleCookie = SimpleCookie()
    response_cookies.load('a="x y"; Path=/; Max-Age=60')
    jar.update_cookies(response_cookies, URL("http://example.com/dir/page"))
    filtered = jar.filter_cookies(URL("http://example.com/"))
    assert filtered["a"].value == "x y"
    assert header(jar, "http://example.com/") == 'a="x y"'


def test_invalid_programmatic_cookies_are_skipped() -> None:
    jar, _ = make_jar()
    jar.update_cookies(
        [("", "1"), ("bad;name", "2"), ("bad=name", "3"), ("ctl", "a\r\nb"), ("ok", "4")],
        URL("http://example.com/"),
    )
    assert sent(jar, "http://example.com/") == {"ok": "4"}


def test_reserved_words_are_valid_cookie_names() -> None:
    jar, _ = make_jar()
    jar.update_cookies({"path": "1", "domain": "2"}, URL("http://example.com/"))
    receive(jar, "http://example.com/", "expires=3")
    assert header(jar, "http://example.com/") == "path=1; domain=2; expires=3"


# --- quoting ---------------------------------------------------------------------------------
def test_filter_cookies_result_type_and_bare_morsels() -> None:
    jar, _ = make_jar()
    receive(jar, "https://example.com/", "a=1; Path=/; Secure; HttpOnly; Max-Age=60")
    filtered = jar.filter_cookies(URL("https://example.com/"))
    assert isinstance(filtered, SimpleCookie)
    # Only name=value goes into a Cookie header; attributes stay in the jar.
    assert filtered.output(header="Cookie:") == "Cookie: a=1"
    assert isinstance(CookieJar(quote_cookie=False).filter_cookies(URL("http://x/")), BaseCookie)


def test_quote_cookie_true_quotes_special_values() -> None:
    jar, _ = make_jar()
    assert jar.quote_cookie
    jar.update_cookies({"a": "x y", "b": "plain", "c": "semi;colon", "d": "b64=="})
    assert header(jar, "http://example.com/") == 'a="x y"; b=plain; c="semi\\073colon"; d=b64=='


def test_quote_cookie_false_sends_raw_values() -> None:
    jar, _ = make_jar(quote_cookie=False)
    assert not jar.quote_cookie
    jar.update_cookies({"a": "x y", "c": "semi;colon"})
    receive(jar, "http://example.com/", 'q="quoted,value"')
    # ";" would split the header: that one stays quoted.
    assert header(jar, "http://example.com/") == 'a=x y; c="semi\\073colon"; q=quoted,value'


def test_server_quoted_value_is_sent_back_as_received() -> None:
    jar, _ = make_jar()
    receive(jar, "http://example.com/", 'q="quoted value"')
    assert header(jar, "http://example.com/") == 'q="quoted value"'


# --- clearing --------------------------------------------------------------------------------
def fill(jar: CookieJar) -> None:
    receive(jar, "http://example.com/", "root=1")
    receive(jar, "http://www.example.com/", "www=2")
    receive(jar, "http://a.b.example.com/", "deep=3; Max-Age=100")
    receive(jar, "http://example.org/", "org=4")
    receive(jar, "http://notexample.com/", "not=5")
    jar.update_cookies({"shared": "6"})


def names(jar: Iterable[Morsel[str]]) -> set[str]:
    return {morsel.key for morsel in jar}


def test_iteration_and_len() -> None:
    jar, _ = make_jar()
    fill(jar)
    assert len(jar) == 6
    assert names(jar) == {"root", "www", "deep", "org", "not", "shared"}
    assert all(isinstance(morsel, Morsel) for morsel in jar)


def test_clear_all() -> None:
    jar, clock = make_jar()
    fill(jar)
    jar.clear()
    assert len(jar) == 0
    assert sent(jar, "http://example.com/") == {}
    clock.now += 1000  # stale heap entries must not break anything
    assert len(jar) == 0


def test_clear_with_predicate() -> None:
    jar, _ = make_jar()
    fill(jar)
    jar.clear(lambda morsel: morsel.key in {"www", "org"})
    assert names(jar) == {"root", "deep", "not", "shared"}
    assert sent(jar, "http://www.example.com/") == {"shared": "6"}


def test_clear_domain() -> None:
    jar, _ = make_jar()
    fill(jar)
    jar.clear_domain("example.com")
    assert names(jar) == {"org", "not", "shared"}
    assert len(jar) == 3
    jar.clear_domain(".EXAMPLE.org")
    assert names(jar) == {"not", "shared"}


# --- persistence -----------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path: Path) -> None:
    jar, clock = make_jar()
    receive(jar, "https://www.example.com/app/page", "host=1; Secure; HttpOnly; SameSite=Strict")
    receive(jar, "https://www.example.com/", "dom=2; Domain=example.com; Path=/; Max-Age=100")
    receive(jar, "https://www.example.com/", 'q="a b"; Path=/')
    jar.update_cookies({"shared": "3"})
    path = tmp_path / "cookies.json"
    jar.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "aiohyper-cookiejar"

    loaded, loaded_clock = make_jar()
    loaded_clock.now = clock.now
    loaded.update_cookies({"old": "gone"})
    loaded.load(str(path))
    assert names(loaded) == {"host", "dom", "q", "shared"}
    for url in (
        "https://www.example.com/app/x",
        "http://www.example.com/app/x",
        "https://sub.example.com/app/x",
        "https://example.com/",
    ):
        assert header(loaded, url) == header(jar, url), url
    assert sent(loaded, "https://sub.example.com/") == {"dom": "2", "shared": "3"}
    [host_morsel] = [m for m in loaded if m.key == "host"]
    assert host_morsel["httponly"] is True
    assert host_morsel["samesite"] == "Strict"
    assert host_morsel["path"] == "/app"
    # Host-only survives the round trip.
    assert "host" not in sent(loaded, "https://sub.www.example.com/app/")
    # Expiry survives too.
    loaded_clock.now += 101
    assert "dom" not in sent(loaded, "https://www.example.com/")
    assert len(loaded) == 3


def test_load_drops_cookies_expired_since_saving(tmp_path: Path) -> None:
    jar, clock = make_jar()
    receive(jar, "http://example.com/", "short=1; Max-Age=10", "long=2; Max-Age=1000")
    path = tmp_path / "jar.json"
    jar.save(path)
    loaded, loaded_clock = make_jar()
    loaded_clock.now = clock.now + 20
    loaded.load(path)
    assert names(loaded) == {"long"}


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x"
    for content in ("not json", "[]", '{"format": "other", "version": 1, "cookies": []}'):
        path.write_text(content)
        with pytest.raises(ValueError):
            CookieJar().load(path)


def test_load_skips_malformed_entries(tmp_path: Path) -> None:
    good = {
        "name": "ok",
        "value": "1",
        "coded_value": "1",
        "domain": "example.com",
        "path": "/",
        "host_only": True,
        "secure": False,
        "httponly": False,
        "samesite": "",
        "partitioned": False,
        "expires": "",
        "max_age": "",
        "expires_at": None,
    }
    bad_entries = [
        "not an object",
        {**good, "name": "bad;name"},
        {**good, "coded_value": "a\r\nb"},
        {**good, "path": "relative"},
        {**good, "secure": "yes"},
        {**good, "expires_at": "soon"},
        {key: value for key, value in good.items() if key != "value"},
    ]
    path = tmp_path / "jar.json"
    path.write_text(
        json.dumps({"format": "aiohyper-cookiejar", "version": 1, "cookies": [*bad_entries, good]})
    )
    jar = CookieJar()
    jar.load(path)
    assert names(jar) == {"ok"}
    assert sent(jar, "http://example.com/") == {"ok": "1"}


# --- performance shape -----------------------------------------------------------------------
def test_filter_only_looks_at_the_request_domains() -> None:
    jar, _ = make_jar()
    for i in range(500):
        receive(jar, f"http://site{i}.example/", f"c{i}=1")
    receive(jar, "http://target.example.org/", "t=1; Domain=example.org")
    # Buckets of other sites are never read: poison one and filter for the target.
    jar._cookies["site0.example"] = None  # type: ignore[assignment]
    assert sent(jar, "http://www.target.example.org/") == {"t": "1"}


# --- DummyCookieJar --------------------------------------------------------------------------
def test_dummy_cookie_jar() -> None:
    jar = DummyCookieJar()
    assert isinstance(jar, AbstractCookieJar)
    jar.update_cookies({"a": "1"})
    jar.update_cookies({"a": "1"}, URL("http://example.com/"))
    jar.update_cookies_from_headers(["a=1"], URL("http://example.com/"))
    assert len(jar) == 0
    assert list(jar) == []
    assert dict(jar.filter_cookies(URL("http://example.com/"))) == {}
    assert jar.quote_cookie is True
    jar.clear()
    jar.clear(lambda morsel: True)
    jar.clear_domain("example.com")


def test_jar_is_an_abstract_cookie_jar_and_accepts_loop() -> None:
    jar = CookieJar(loop=None)
    assert isinstance(jar, AbstractCookieJar)
    assert not jar.unsafe


def test_ip_cookies_loaded_into_a_safe_jar_are_not_sent(tmp_path: Path) -> None:
    unsafe_jar, _ = make_jar(unsafe=True)
    receive(unsafe_jar, "http://10.0.0.1/", "ip=1")
    path = tmp_path / "jar.json"
    unsafe_jar.save(path)
    safe_jar = CookieJar()
    safe_jar.load(path)
    assert len(safe_jar) == 1
    assert sent(safe_jar, "http://10.0.0.1/") == {}
