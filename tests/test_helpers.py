"""aiohyper.helpers and the private ``_helpers_*`` modules it re-exports."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import netrc
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, strategies as st
from multidict import MultiDictProxy
from yarl import URL

from aiohyper import helpers
from aiohyper._http import _message, _zlib
from aiohyper.helpers import (
    ETAG_ANY,
    QUOTED_STRING,
    TOKEN,
    BasicAuth,
    ChainMapProxy,
    ContentDisposition,
    ETag,
    MimeType,
    TimeoutHandle,
    TimerContext,
    TimerNoop,
    basicauth_from_netrc,
    calculate_timeout_when,
    ceil_timeout,
    content_disposition_header,
    format_http_date,
    get_env_proxy_for_url,
    is_expected_content_type,
    is_token,
    must_be_empty_body,
    netrc_from_env,
    parse_content_type,
    parse_etag_list,
    parse_http_date,
    parse_mimetype,
    proxies_from_env,
    quoted_string,
    reify,
    rfc822_formatted_time,
    sentinel,
    set_exception,
    set_result,
    should_remove_content_length,
    strip_auth_from_url,
    unquote_string,
    validate_etag_value,
)

# --- re-exports ---------------------------------------------------------------------------------


def test_reexports_are_the_codec_objects() -> None:
    assert helpers.HttpVersion is _message.HttpVersion
    assert helpers.HttpVersion10 == (1, 0)
    assert helpers.HttpVersion11 == (1, 1)
    assert helpers.set_zlib_backend is _zlib.set_zlib_backend


def test_all_names_exist() -> None:
    for name in helpers.__all__:
        assert hasattr(helpers, name), name


# --- BasicAuth ----------------------------------------------------------------------------------


def test_basic_auth_defaults_and_tuple() -> None:
    auth = BasicAuth("user")
    assert auth == ("user", "", "latin1")
    assert (auth.login, auth.password, auth.encoding) == ("user", "", "latin1")
    assert isinstance(auth, tuple)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, "pass"), "login"),
        (("user", None), "password"),
        (("us:er", "pass"), '":"'),
    ],
)
def test_basic_auth_rejects(args: tuple[Any, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BasicAuth(*args)


def test_basic_auth_encode() -> None:
    assert BasicAuth("Aladdin", "open sesame").encode() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert BasicAuth("u", "p:w").encode() == "Basic " + base64.b64encode(b"u:p:w").decode()


def test_basic_auth_encode_charset() -> None:
    assert BasicAuth("ü", "€", encoding="utf-8").encode() == "Basic " + base64.b64encode(
        "ü:€".encode()
    ).decode("ascii")
    assert BasicAuth("ü", "é").encode() == "Basic " + base64.b64encode(b"\xfc:\xe9").decode()
    with pytest.raises(ValueError):  # UnicodeEncodeError: € is not latin-1
        BasicAuth("user", "€").encode()


def test_basic_auth_decode() -> None:
    auth = BasicAuth.decode("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    assert auth == BasicAuth("Aladdin", "open sesame")
    # scheme is case-insensitive, surrounding whitespace is tolerated
    assert BasicAuth.decode("  bAsIc   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ") == auth
    # the password may contain colons; an empty password is fine
    assert BasicAuth.decode("Basic " + base64.b64encode(b"u:a:b").decode()).password == "a:b"
    assert BasicAuth.decode("Basic " + base64.b64encode(b"u:").decode()) == BasicAuth("u")


def test_basic_auth_decode_encoding() -> None:
    header = "Basic " + base64.b64encode("ü:€".encode()).decode()
    assert BasicAuth.decode(header, encoding="utf-8") == BasicAuth("ü", "€", "utf-8")
    # the same bytes read as latin-1 are different (but valid) text
    assert BasicAuth.decode(header).login == "Ã¼"
    with pytest.raises(ValueError, match="utf-8"):
        BasicAuth.decode("Basic " + base64.b64encode(b"\xff:\xfe").decode(), encoding="utf-8")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Basic",
        "Basic ",
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Digest username=x",
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",  # bad padding
        "Basic QWxh*ZGRpbjpvcGVuIHNlc2FtZQ==",  # not base64
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
)
def test_basic_auth_decode_malformed(header: str) -> None:
    with pytest.raises(ValueError):
        BasicAuth.decode(header)


@given(
    login=st.text(st.characters(min_codepoint=0, max_codepoint=255)).filter(
        lambda s: ":" not in s
    ),
    password=st.text(st.characters(min_codepoint=0, max_codepoint=255)),
)
def test_basic_auth_roundtrip(login: str, password: str) -> None:
    auth = BasicAuth(login, password)
    assert BasicAuth.decode(auth.encode()) == auth


def test_basic_auth_from_url() -> None:
    assert BasicAuth.from_url(URL("http://example.com/")) is None
    assert BasicAuth.from_url(URL("http://user:pass@example.com/")) == BasicAuth("user", "pass")
    assert BasicAuth.from_url(URL("http://user@example.com/")) == BasicAuth("user", "")
    assert BasicAuth.from_url(URL("http://:pass@example.com/")) == BasicAuth("", "pass")
    # userinfo is percent-decoded
    assert BasicAuth.from_url(URL("http://us%40er:p%3Ass@example.com/")) == BasicAuth(
        "us@er", "p:ss"
    )
    auth = BasicAuth.from_url(URL("http://u:p@example.com/"), encoding="utf-8")
    assert auth is not None and auth.encoding == "utf-8"
    with pytest.raises(TypeError):
        BasicAuth.from_url("http://user:pass@example.com/")  # type: ignore[arg-type]


def test_strip_auth_from_url() -> None:
    url, auth = strip_auth_from_url(URL("http://user:pass@example.com:8080/path?q=1"))
    assert url == URL("http://example.com:8080/path?q=1")
    assert auth == BasicAuth("user", "pass")
    plain = URL("http://example.com/")
    assert strip_auth_from_url(plain) == (plain, None)


# --- netrc and proxies from the environment ----------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No proxy variables, no NETRC, and a HOME without a .netrc."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "NETRC":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def _write_netrc(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_netrc_from_env(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _write_netrc(tmp_path / "creds", "machine example.com login u password p\n")
    clean_env.setenv("NETRC", str(path))
    obj = netrc_from_env()
    assert obj is not None
    assert obj.authenticators("example.com") == ("u", "", "p")


def test_netrc_from_home(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _write_netrc(tmp_path / ".netrc", "machine example.com login u password p\n")
    obj = netrc_from_env()
    assert obj is not None and obj.authenticators("example.com") is not None


def test_netrc_missing_default_is_silent(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="aiohyper.client"):
        assert netrc_from_env() is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_netrc_missing_explicit_warns(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clean_env.setenv("NETRC", str(tmp_path / "nope"))
    with caplog.at_level(logging.WARNING, logger="aiohyper.client"):
        assert netrc_from_env() is None
    assert "Could not read .netrc" in caplog.text


def test_netrc_unparsable_warns(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clean_env.setenv("NETRC", str(_write_netrc(tmp_path / "bad", "machine\n")))
    with caplog.at_level(logging.WARNING, logger="aiohyper.client"):
        assert netrc_from_env() is None
    assert "Could not parse .netrc" in caplog.text


def _netrc(tmp_path: Path, text: str) -> netrc.netrc:
    return netrc.netrc(str(_write_netrc(tmp_path / "n", text)))


def test_basicauth_from_netrc(tmp_path: Path) -> None:
    obj = _netrc(
        tmp_path,
        "machine a.example login alice password secret\n"
        "machine b.example account bob password pw\n"
        "machine c.example login carol\n"
        "default login anon password guest\n",
    )
    assert basicauth_from_netrc(obj, "a.example") == BasicAuth("alice", "secret")
    assert basicauth_from_netrc(obj, "b.example") == BasicAuth("bob", "pw")
    assert basicauth_from_netrc(obj, "c.example") == BasicAuth("carol", "")
    assert basicauth_from_netrc(obj, "other.example") == BasicAuth("anon", "guest")


def test_basicauth_from_netrc_missing(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        basicauth_from_netrc(None, "example.com")
    obj = _netrc(tmp_path, "machine a.example login alice password secret\n")
    with pytest.raises(LookupError, match=r"b\.example"):
        basicauth_from_netrc(obj, "b.example")


def test_proxies_from_env(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("http_proxy", "http://user:pass@proxy.example:3128")
    clean_env.setenv("https_proxy", "http://sproxy.example:3129")
    clean_env.setenv("ftp_proxy", "http://ftp.example")
    proxies = proxies_from_env()
    assert set(proxies) == {"http", "https"}
    assert proxies["http"] == (URL("http://proxy.example:3128"), BasicAuth("user", "pass"))
    assert proxies["https"] == (URL("http://sproxy.example:3129"), None)


def test_proxies_from_env_netrc_credentials(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("http_proxy", "http://proxy.example:3128")
    path = _write_netrc(tmp_path / "n", "machine proxy.example login nu password np\n")
    clean_env.setenv("NETRC", str(path))
    assert proxies_from_env()["http"].proxy_auth == BasicAuth("nu", "np")


def test_get_env_proxy_for_url(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("http_proxy", "http://user:pass@proxy.example:3128")
    clean_env.setenv("wss_proxy", "http://wsproxy.example")
    clean_env.setenv("no_proxy", "internal.example,localhost")
    proxy, auth = get_env_proxy_for_url(URL("http://example.com/x"))
    assert proxy == URL("http://proxy.example:3128")
    assert auth == BasicAuth("user", "pass")
    assert get_env_proxy_for_url(URL("wss://example.com/"))[0] == URL("http://wsproxy.example")
    with pytest.raises(LookupError):
        get_env_proxy_for_url(URL("http://internal.example/"))
    with pytest.raises(LookupError):
        get_env_proxy_for_url(URL("http://www.internal.example/"))  # suffix match
    with pytest.raises(LookupError):
        get_env_proxy_for_url(URL("https://example.com/"))  # no https proxy set


def test_get_env_proxy_for_url_no_env(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(LookupError):
        get_env_proxy_for_url(URL("http://example.com/"))


# --- ETag ---------------------------------------------------------------------------------------


def test_etag() -> None:
    tag = ETag("abc")
    assert (tag.value, tag.is_weak) == ("abc", False)
    assert ETag("abc", is_weak=True) != tag
    assert ETag(value="abc") == tag == ETag(name="abc")
    assert hash(ETag("abc")) == hash(tag)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tag.value = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ETag()
    with pytest.raises(TypeError):
        ETag("a", name="b")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"xyzzy"', (ETag("xyzzy"),)),
        ('W/"xyzzy"', (ETag("xyzzy", is_weak=True),)),
        (
            '"xyzzy", "r2d2xxxx", W/"c3piozzzz"',
            (ETag("xyzzy"), ETag("r2d2xxxx"), ETag("c3piozzzz", is_weak=True)),
        ),
        ('"a,b",W/"c, d"', (ETag("a,b"),)),  # comma inside quotes; space is not etagc
        ('"a,b" , W/"c,d"', (ETag("a,b"), ETag("c,d", is_weak=True))),
        ('""', (ETag(""),)),
        (',, "a" ,,', (ETag("a"),)),  # empty list elements
        ('"a", junk, "b"', (ETag("a"), ETag("b"))),  # invalid members skipped
        ('"a" junk, "b"', (ETag("b"),)),
        ('w/"a"', ()),  # the weak prefix is case-sensitive
        ('"unterminated', ()),
        ('*, "a"', (ETag("a"),)),  # "*" only means "any" on its own
        ('"\xe9t\xe9"', (ETag("\xe9t\xe9"),)),  # obs-text
        ("", ()),
    ],
)
def test_parse_etag_list(header: str, expected: tuple[ETag, ...]) -> None:
    assert parse_etag_list(header) == expected


@pytest.mark.parametrize("header", ["*", " * ", "\t*"])
def test_parse_etag_list_any(header: str) -> None:
    assert parse_etag_list(header) == ETAG_ANY == "*"


@pytest.mark.parametrize("value", ["abc", "", "a,b", "W/x", "!#~", "\x80\xff"])
def test_validate_etag_value_ok(value: str) -> None:
    validate_etag_value(value)


@pytest.mark.parametrize("value", ['a"b', "a b", "a\r\nb", "\x7f", "\u20ac"])
def test_validate_etag_value_bad(value: str) -> None:
    with pytest.raises(ValueError):
        validate_etag_value(value)


# --- tokens and quoted strings ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["GET", "x-custom", "!#$%&'*+-.^_`|~09azAZ"])
def test_is_token(value: str) -> None:
    assert is_token(value)
    assert TOKEN.fullmatch(value)


@pytest.mark.parametrize("value", ["", "a b", "a:b", "a;b", "a/b", '"a"', "é", "a\n", "(a)"])
def test_not_token(value: str) -> None:
    assert not is_token(value)


def test_quoted_string() -> None:
    assert quoted_string("plain text") == '"plain text"'
    assert quoted_string('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    assert quoted_string("") == '""'
    assert QUOTED_STRING.fullmatch(quoted_string('a"\\\tb'))


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "\x7f", "é", "\u20ac"])
def test_quoted_string_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        quoted_string(value)


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\t")))
def test_quoted_string_roundtrip(value: str) -> None:
    quoted = quoted_string(value)
    assert QUOTED_STRING.fullmatch(quoted)
    assert unquote_string(quoted) == value


def test_unquote_string() -> None:
    assert unquote_string('"a\\"b"') == 'a"b'
    assert unquote_string("token") == "token"
    assert unquote_string('"') == '"'


@pytest.mark.parametrize(
    ("value", "ok"),
    [('""', True), ('"a\\"b"', True), ('"a"b"', False), ('"a\rb"', False), ('"\xe9"', True)],
)
def test_quoted_string_regex(value: str, ok: bool) -> None:
    assert (QUOTED_STRING.fullmatch(value) is not None) is ok


# --- media types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("", "", "", {})),
        ("*", ("*", "*", "", {})),
        ("application/json", ("application", "json", "", {})),
        ("Application/JSON", ("application", "json", "", {})),
        ("application/json;  charset=utf-8;", ("application", "json", "", {"charset": "utf-8"})),
        ("application/json; Charset=UTF-8", ("application", "json", "", {"charset": "UTF-8"})),
        ("application/rss+xml", ("application", "rss", "xml", {})),
        (
            'application/vnd.api+json; q=0.5; ext="a;b\\"c"',
            ("application", "vnd.api", "json", {"q": "0.5", "ext": 'a;b"c'}),
        ),
        ("text/plain; flag; x=1", ("text", "plain", "", {"flag": "", "x": "1"})),
        ('text/plain; a="1" junk; b=2', ("text", "plain", "", {"a": "1", "b": "2"})),
        ('text/plain; a="unterminated', ("text", "plain", "", {"a": '"unterminated'})),
        (" text/html ; charset = utf-8 ", ("text", "html", "", {"charset": "utf-8"})),
    ],
)
def test_parse_mimetype(value: str, expected: tuple[str, str, str, dict[str, str]]) -> None:
    mime = parse_mimetype(value)
    assert isinstance(mime, MimeType)
    assert isinstance(mime.parameters, MultiDictProxy)
    assert (mime.type, mime.subtype, mime.suffix, dict(mime.parameters)) == expected


def test_parse_mimetype_repeated_parameter_and_cache() -> None:
    mime = parse_mimetype("multipart/mixed; a=1; a=2")
    assert mime.parameters.getall("a") == ["1", "2"]
    assert parse_mimetype("multipart/mixed; a=1; a=2") is mime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("application/octet-stream", {})),
        ("text/html", ("text/html", {})),
        ("Text/HTML; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ('multipart/form-data; boundary="a b;c"', ("multipart/form-data", {"boundary": "a b;c"})),
        ("jpg", ("text/plain", {})),
        ("", ("text/plain", {})),
        ("text/html/x", ("text/plain", {})),
        ("te xt/html", ("text/plain", {})),
        ("text/; charset=utf-8", ("text/plain", {"charset": "utf-8"})),
        ("text/html; charset=a; charset=b", ("text/html", {"charset": "b"})),
    ],
)
def test_parse_content_type(value: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_content_type(value) == expected


def test_parse_content_type_returns_fresh_dicts() -> None:
    _, params = parse_content_type("text/html; charset=utf-8")
    params["charset"] = "changed"
    assert parse_content_type("text/html; charset=utf-8")[1] == {"charset": "utf-8"}


@pytest.mark.parametrize(
    ("response", "expected", "ok"),
    [
        ("application/json", "application/json", True),
        ("Application/JSON", "application/json", True),
        ("application/problem+json", "application/json", True),
        ("application/vnd.api+json", "application/json", True),
        ("text/foo+json", "application/json", True),
        ("application/jsonx", "application/json", False),
        ("text/json", "application/json", False),
        ("text/plain", "application/json", False),
        ("", "application/json", False),
        ("text/html", "text/html", True),
        ("TEXT/HTML", "text/html", True),
        ("text/plain", "text/html", False),
    ],
)
def test_is_expected_content_type(response: str, expected: str, ok: bool) -> None:
    assert is_expected_content_type(response, expected) is ok


# --- Content-Disposition ------------------------------------------------------------------------


def test_content_disposition_dataclass() -> None:
    params = MappingProxyType({"filename": "a.txt"})
    cd = ContentDisposition("attachment", params, "a.txt")
    assert (cd.type, cd.filename, cd.parameters) == ("attachment", "a.txt", params)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cd.type = "inline"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("disptype", "params", "expected"),
    [
        ("attachment", None, "attachment"),
        ("inline", {}, "inline"),
        ("attachment", {"filename": "a.txt"}, 'attachment; filename="a.txt"'),
        (
            "form-data",
            {"name": "field", "filename": 'say "hi".txt'},
            'form-data; name="field"; filename="say \\"hi\\".txt"',
        ),
        (
            "attachment",
            {"filename": "€ rates.txt"},
            'attachment; filename="%E2%82%AC%20rates.txt"; '
            "filename*=utf-8''%E2%82%AC%20rates.txt",
        ),
        ("attachment", {"title": "a\nb"}, "attachment; title*=utf-8''a%0Ab"),
    ],
)
def test_content_disposition_header(
    disptype: str, params: dict[str, str] | None, expected: str
) -> None:
    assert content_disposition_header(disptype, params=params) == expected


def test_content_disposition_header_charset() -> None:
    value = content_disposition_header("attachment", _charset="latin-1", params={"x": "é"})
    assert value == "attachment; x*=latin-1''%E9"


def test_content_disposition_header_unquoted_fields() -> None:
    value = content_disposition_header(
        "form-data", quote_fields=False, params={"filename": 'файл "1".txt'}
    )
    assert value == 'form-data; filename="файл \\"1\\".txt"'
    with pytest.raises(ValueError):
        content_disposition_header("form-data", False, params={"filename": "a\r\nX-Evil: 1"})


@pytest.mark.parametrize("disptype", ["", "at tachment", "a;b", "inline\r\n", "é"])
def test_content_disposition_header_bad_type(disptype: str) -> None:
    with pytest.raises(ValueError, match="type"):
        content_disposition_header(disptype)


@pytest.mark.parametrize("name", ["", "file name", "a=b", "a\n"])
def test_content_disposition_header_bad_param_name(name: str) -> None:
    with pytest.raises(ValueError, match="parameter"):
        content_disposition_header("attachment", params={name: "x"})


# --- HTTP dates ---------------------------------------------------------------------------------

_EXAMPLE = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "Sun Nov 06 08:49:37 1994",
        "sun, 06 nov 1994 08:49:37 gmt",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "  Sun, 06 Nov 1994 08:49:37 GMT\t",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37 UTC",
    ],
)
def test_parse_http_date(value: str) -> None:
    parsed = parse_http_date(value)
    assert parsed == _EXAMPLE
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",  # no zone
        "Sun, 06 Nov 1994 08:49:37 +0100",  # not UTC
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:61:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "1994-11-06T08:49:37Z",
        "784111777",
    ],
)
def test_parse_http_date_invalid(value: str | None) -> None:
    assert parse_http_date(value) is None


def test_parse_http_date_leap_second() -> None:
    assert parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == datetime(
        2016, 12, 31, 23, 59, 59, tzinfo=UTC
    )


def test_parse_http_date_two_digit_year() -> None:
    this_year = time.gmtime().tm_year
    # RFC 9110 §5.6.7: more than 50 years ahead means the previous century.
    future = (this_year + 51) % 100
    parsed = parse_http_date(f"Monday, 01-Jan-{future:02d} 00:00:00 GMT")
    assert parsed is not None and parsed.year == this_year + 51 - 100
    near = (this_year + 10) % 100
    parsed = parse_http_date(f"Monday, 01-Jan-{near:02d} 00:00:00 GMT")
    assert parsed is not None and parsed.year == this_year + 10


def test_format_http_date() -> None:
    assert format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_http_date(784111777.999) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert format_http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT"


@given(st.integers(min_value=0, max_value=253402300799))
def test_http_date_roundtrip(ts: int) -> None:
    formatted = format_http_date(ts)
    parsed = parse_http_date(formatted)
    assert parsed is not None and parsed.timestamp() == ts


def test_rfc822_formatted_time() -> None:
    before = int(time.time())
    value = rfc822_formatted_time()
    after = int(time.time())
    parsed = parse_http_date(value)
    assert parsed is not None
    assert before <= parsed.timestamp() <= after
    assert value.endswith(" GMT") and len(value) == 29


def test_rfc822_formatted_time_is_cached_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.2]
    monkeypatch.setattr(time, "time", lambda: now[0])
    first = rfc822_formatted_time()
    now[0] = 1000.9
    assert rfc822_formatted_time() is first
    now[0] = 1001.0
    assert rfc822_formatted_time() == "Thu, 01 Jan 1970 00:16:41 GMT"


# --- ChainMapProxy ------------------------------------------------------------------------------


def test_chain_map_proxy_lookup() -> None:
    proxy = ChainMapProxy([{"a": 1}, {"a": 2, "b": 3}])
    assert isinstance(proxy, Mapping)
    assert proxy["a"] == 1  # first map wins
    assert proxy["b"] == 3
    with pytest.raises(KeyError):
        proxy["c"]
    assert proxy.get("a") == 1
    assert proxy.get("c") is None
    assert proxy.get("c", 5) == 5
    assert "b" in proxy and "c" not in proxy


def test_chain_map_proxy_len_iter_eq() -> None:
    proxy = ChainMapProxy([{"a": 1, "b": 2}, {"b": 3, "c": 4}])
    assert len(proxy) == 3  # distinct keys
    assert sorted(proxy) == ["a", "b", "c"]
    assert dict(proxy) == {"a": 1, "b": 2, "c": 4}
    assert dict(proxy.items()) == {"a": 1, "b": 2, "c": 4}
    assert proxy == {"a": 1, "b": 2, "c": 4}


def test_chain_map_proxy_bool() -> None:
    assert not ChainMapProxy([])
    assert not ChainMapProxy([{}, {}])
    assert ChainMapProxy([{}, {"a": 1}])


def test_chain_map_proxy_sees_changes_and_stores_maps() -> None:
    first: dict[str, int] = {}
    proxy = ChainMapProxy(iter([first, {"a": 2}]))  # any iterable, consumed once
    first["a"] = 1
    assert proxy["a"] == 1


def test_chain_map_proxy_repr() -> None:
    assert repr(ChainMapProxy([{"a": 1}, {"b": 2}])) == "ChainMapProxy({'a': 1}, {'b': 2})"


def test_chain_map_proxy_is_read_only() -> None:
    proxy = ChainMapProxy([{"a": 1}])
    with pytest.raises(TypeError):
        proxy["a"] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        proxy.x = 1  # type: ignore[attr-defined]


def test_chain_map_proxy_is_final() -> None:
    with pytest.raises(TypeError, match="forbidden"):

        class Sub(ChainMapProxy):  # type: ignore[misc]
            pass


# --- reify, sentinel ----------------------------------------------------------------------------


def test_reify_caches_in_cache_dict() -> None:
    calls = []

    class Thing:
        __slots__ = ("_cache",)

        def __init__(self) -> None:
            self._cache: dict[str, Any] = {}

        @reify
        def value(self) -> int:
            """Docstring kept."""
            calls.append(1)
            return 42

    thing = Thing()
    assert thing.value == 42
    assert thing.value == 42
    assert calls == [1]
    assert thing._cache == {"value": 42}
    assert Thing.value.__doc__ == "Docstring kept."
    with pytest.raises(AttributeError):
        thing.value = 1


def test_cached_property_exported() -> None:
    class Thing:
        @helpers.cached_property
        def value(self) -> int:
            return 7

    assert Thing().value == 7


def test_sentinel() -> None:
    assert repr(sentinel) == "sentinel"
    assert sentinel is helpers.Sentinel.sentinel
    assert list(helpers.Sentinel) == [sentinel]
    assert sentinel is not None and bool(sentinel)


# --- empty bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "code", "empty", "remove_length"),
    [
        ("GET", 200, False, False),
        ("POST", 201, False, False),
        ("HEAD", 200, True, False),
        ("head", 404, True, False),
        ("GET", 100, True, True),
        ("GET", 101, True, True),
        ("GET", 199, True, True),
        ("GET", 204, True, True),
        ("GET", 304, True, True),
        ("GET", 205, False, False),
        ("CONNECT", 200, True, True),
        ("CONNECT", 299, True, True),
        ("CONNECT", 407, False, False),
        ("GET", 500, False, False),
    ],
)
def test_must_be_empty_body(method: str, code: int, empty: bool, remove_length: bool) -> None:
    assert must_be_empty_body(method, code) is empty
    assert should_remove_content_length(method, code) is remove_length


# --- futures ------------------------------------------------------------------------------------


async def test_set_result() -> None:
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    set_result(fut, 1)
    set_result(fut, 2)  # ignored
    assert fut.result() == 1
    cancelled: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    cancelled.cancel()
    set_result(cancelled, 1)
    assert cancelled.cancelled()


async def test_set_exception() -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    cause = OSError("reset")
    exc = ConnectionError("lost")
    set_exception(fut, exc, cause)
    assert fut.exception() is exc
    assert exc.__cause__ is cause
    set_exception(fut, ValueError())  # done: ignored
    assert fut.exception() is exc

    no_cause: asyncio.Future[None] = loop.create_future()
    exc2 = ValueError()
    set_exception(no_cause, exc2)
    assert no_cause.exception() is exc2 and exc2.__cause__ is None

    own_cause: asyncio.Future[None] = loop.create_future()
    exc3 = ValueError()
    set_exception(own_cause, exc3, exc3)  # never its own cause
    assert own_cause.exception() is exc3 and exc3.__cause__ is None

    done: asyncio.Future[None] = loop.create_future()
    done.set_result(None)
    set_exception(done, ValueError())
    assert done.result() is None


# --- timeouts -----------------------------------------------------------------------------------


def test_calculate_timeout_when() -> None:
    assert calculate_timeout_when(100.5, 10, 5) == 111
    assert calculate_timeout_when(100.5, 5, 5) == 106  # the threshold itself is rounded
    assert calculate_timeout_when(100.5, 1, 5) == 101.5
    assert calculate_timeout_when(100.0, 10, 5) == 110


async def test_timer_context_times_out() -> None:
    loop = asyncio.get_running_loop()
    handle = TimeoutHandle(loop, 0.01)
    timer = handle.timer()
    assert isinstance(timer, TimerContext)
    timer_handle = handle.start()
    assert timer_handle is not None
    started = loop.time()
    with pytest.raises(TimeoutError), timer:
        await asyncio.sleep(10)
    assert loop.time() - started < 5
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # the cancellation was consumed
    with pytest.raises(TimeoutError):
        timer.assert_timeout()
    with pytest.raises(TimeoutError), timer:  # fired: entering again fails at once
        pass


async def test_timer_context_no_timeout() -> None:
    timer = TimerContext(asyncio.get_running_loop())
    with timer:
        await asyncio.sleep(0)
    timer.assert_timeout()
    with timer:
        pass


async def test_timer_context_nested() -> None:
    timer = TimerContext(asyncio.get_running_loop())
    asyncio.get_running_loop().call_later(0.01, timer.timeout)
    inner_raised = False
    with pytest.raises(TimeoutError), timer:
        try:
            with timer:
                await asyncio.sleep(10)
        except TimeoutError:
            inner_raised = True
            raise
    assert inner_raised
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_timer_context_several_tasks() -> None:
    timer = TimerContext(asyncio.get_running_loop())

    async def wait() -> None:
        with timer:
            await asyncio.sleep(10)

    tasks = [asyncio.create_task(wait()) for _ in range(3)]
    await asyncio.sleep(0)
    timer.timeout()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, TimeoutError) for r in results)


async def test_timer_context_outside_cancellation_propagates() -> None:
    timer = TimerContext(asyncio.get_running_loop())
    entered = asyncio.Event()

    async def wait() -> None:
        with timer:
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(wait())
    await entered.wait()
    timer.timeout()
    task.cancel()  # a real cancellation on top of the timer's
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_timer_context_plain_cancellation_propagates() -> None:
    timer = TimerContext(asyncio.get_running_loop())

    async def wait() -> None:
        with timer:
            await asyncio.sleep(10)

    task = asyncio.create_task(wait())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_timer_context_requires_a_task() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError), TimerContext(loop):
            pass
    finally:
        loop.close()


async def test_timer_noop() -> None:
    handle = TimeoutHandle(asyncio.get_running_loop(), None)
    assert handle.start() is None
    timer = handle.timer()
    assert isinstance(timer, TimerNoop)
    with timer as entered:
        assert entered is timer
    timer.assert_timeout()
    assert isinstance(TimeoutHandle(asyncio.get_running_loop(), 0).timer(), TimerNoop)


async def test_timeout_handle_callbacks_and_close(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    calls: list[tuple[Any, ...]] = []

    def broken() -> None:
        raise RuntimeError("boom")

    handle = TimeoutHandle(loop, 10)
    handle.register(broken)
    handle.register(lambda *a, **kw: calls.append((a, kw)), 1, key="v")
    with caplog.at_level(logging.ERROR, logger="aiohyper.internal"):
        handle()
    assert calls == [((1,), {"key": "v"})]
    assert "boom" in caplog.text
    handle()  # callbacks run once
    assert len(calls) == 1

    closed = TimeoutHandle(loop, 10)
    closed.register(lambda: calls.append(()))
    closed.close()
    closed()
    assert len(calls) == 1


async def test_timeout_handle_ceil() -> None:
    loop = asyncio.get_running_loop()
    long = TimeoutHandle(loop, 10).start()
    short = TimeoutHandle(loop, 1).start()
    custom = TimeoutHandle(loop, 1, ceil_threshold=0.5).start()
    assert long is not None and short is not None and custom is not None
    try:
        assert long.when() == int(long.when())
        assert long.when() >= loop.time() + 9.9
        assert custom.when() == int(custom.when())
        assert loop.time() + 0.5 < short.when() <= loop.time() + 1
    finally:
        long.cancel()
        short.cancel()
        custom.cancel()


async def test_ceil_timeout() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        async with ceil_timeout(0.01):
            await asyncio.sleep(10)
    assert loop.time() - started < 5

    async with ceil_timeout(None) as cm:
        assert cm.when() is None
    async with ceil_timeout(0) as cm:
        assert cm.when() is None
    async with ceil_timeout(10) as cm:
        when = cm.when()
        assert when is not None and when == int(when) and when >= loop.time() + 9.9
    async with ceil_timeout(10, ceil_threshold=20) as cm:
        when = cm.when()
        assert when is not None and loop.time() + 9 < when <= loop.time() + 10
