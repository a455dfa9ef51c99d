"""Documentation conformance: the "Utilities" of client_reference.rst (RequestInfo, BasicAuth,
ETag, ContentDisposition, Fingerprint, CookieJar / DummyCookieJar, set_zlib_backend) and custom
``request_class`` / ``response_class``."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import aiohyper
from aiohyper import web
from aiohyper.test_utils import TestServer


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    srv = TestServer(app)
    await srv.start_server()
    yield srv
    await srv.close()


class TestRequestInfo:
    def test_named_tuple(self) -> None:
        """ "A typing.NamedTuple with request URL and headers": url, method, headers,
        real_url."""
        url = URL("http://h/p")
        headers = CIMultiDictProxy(CIMultiDict({"A": "1"}))
        info = aiohyper.RequestInfo(url, "GET", headers, URL("http://h/p#f"))
        assert isinstance(info, tuple)
        assert info == (url, "GET", headers, URL("http://h/p#f"))
        assert info.url is url
        assert info.method == "GET"
        assert info.headers is headers
        assert info.real_url == URL("http://h/p#f")
        assert info._fields == ("url", "method", "headers", "real_url")


class TestBasicAuth:
    def test_fields_and_defaults(self) -> None:
        auth = aiohyper.BasicAuth("login")
        assert auth.login == "login"
        assert auth.password == ""
        assert auth.encoding == "latin1"

    def test_encode_decode(self) -> None:
        auth = aiohyper.BasicAuth("user", "pass")
        assert auth.encode() == "Basic dXNlcjpwYXNz"
        assert aiohyper.BasicAuth.decode("Basic dXNlcjpwYXNz") == auth
        utf8 = aiohyper.BasicAuth("usér", "pässword", encoding="utf-8")
        decoded = aiohyper.BasicAuth.decode(utf8.encode(), encoding="utf-8")
        assert (decoded.login, decoded.password) == ("usér", "pässword")

    def test_from_url(self) -> None:
        auth = aiohyper.BasicAuth.from_url(URL("http://user:pass@host/"))
        assert auth == aiohyper.BasicAuth("user", "pass")
        assert aiohyper.BasicAuth.from_url(URL("http://host/")) is None

    def test_decode_errors(self) -> None:
        with pytest.raises(ValueError):
            aiohyper.BasicAuth.decode("Digest abc")
        with pytest.raises(ValueError):
            aiohyper.BasicAuth.decode("Basic !!!")


class TestSmallTypes:
    def test_etag(self) -> None:
        etag = aiohyper.ETag("abc")
        assert etag.value == "abc"
        assert etag.is_weak is False
        assert aiohyper.ETag("abc", is_weak=True).is_weak is True
        assert aiohyper.ETag(name="abc").value == "abc"  # the documented parameter name

    def test_fingerprint(self) -> None:
        """Fingerprint takes a SHA256 digest; "use of MD5 or SHA1 digests is insecure"."""
        digest = hashlib.sha256(b"cert").digest()
        assert aiohyper.Fingerprint(digest).fingerprint == digest
        for insecure in (hashlib.md5(b"c").digest(), hashlib.sha1(b"c").digest()):
            with pytest.raises(ValueError):
                aiohyper.Fingerprint(insecure)

    async def test_fingerprint_as_ssl_argument(self, server: TestServer) -> None:
        """A Fingerprint is accepted as ``ssl=``; on plain HTTP nothing is checked."""
        async with aiohyper.ClientSession() as session:
            fp = aiohyper.Fingerprint(hashlib.sha256(b"x").digest())
            async with session.get(server.make_url("/"), ssl=fp) as resp:
                assert await resp.text() == "hello"

    def test_set_zlib_backend(self) -> None:
        aiohyper.set_zlib_backend(zlib)  # the standard module is a valid backend


class TestCookieJars:
    def test_update_and_filter(self) -> None:
        jar = aiohyper.CookieJar()
        jar.update_cookies({"a": "1"}, URL("http://example.com/"))
        jar.update_cookies({"shared": "s"})  # response_url None: shared cookies
        filtered = jar.filter_cookies(URL("http://example.com/path"))
        assert isinstance(filtered, SimpleCookie)
        assert {k: m.value for k, m in filtered.items()} == {"a": "1", "shared": "s"}
        other = jar.filter_cookies(URL("http://other.example/"))
        assert {k: m.value for k, m in other.items()} == {"shared": "s"}
        assert len(jar) == 2
        assert sorted(c.key for c in jar) == ["a", "shared"]
        for cookie in jar:
            assert "domain" in cookie

    def test_unsafe(self) -> None:
        """``unsafe``: "Whether to accept cookies from IPs"."""
        jar = aiohyper.CookieJar()
        jar.update_cookies({"a": "1"}, URL("http://127.0.0.1/"))
        assert len(jar) == 0
        unsafe = aiohyper.CookieJar(unsafe=True)
        unsafe.update_cookies({"a": "1"}, URL("http://127.0.0.1/"))
        assert len(unsafe) == 1

    def test_quote_cookie(self) -> None:
        jar = aiohyper.CookieJar()
        jar.update_cookies({"a": "x y"}, URL("http://example.com/"))
        assert jar.filter_cookies(URL("http://example.com/"))["a"].coded_value == '"x y"'
        raw = aiohyper.CookieJar(quote_cookie=False)
        raw.update_cookies({"a": "x y"}, URL("http://example.com/"))
        assert raw.filter_cookies(URL("http://example.com/"))["a"].coded_value == "x y"

    def test_treat_as_secure_origin(self) -> None:
        secure = SimpleCookie("s=1; Secure")
        jar = aiohyper.CookieJar(treat_as_secure_origin=["http://dev.example"])
        jar.update_cookies(secure, URL("https://dev.example/"))
        assert "s" in jar.filter_cookies(URL("http://dev.example/"))
        plain = aiohyper.CookieJar()
        plain.update_cookies(secure, URL("https://dev.example/"))
        assert "s" not in plain.filter_cookies(URL("http://dev.example/"))
        assert "s" in plain.filter_cookies(URL("https://dev.example/"))

    def test_clear_and_clear_domain(self) -> None:
        jar = aiohyper.CookieJar()
        jar.update_cookies(SimpleCookie("a=1; Domain=example.com"), URL("http://example.com/"))
        jar.update_cookies({"b": "2"}, URL("http://sub.example.com/"))
        jar.update_cookies({"c": "3"}, URL("http://other.example/"))
        jar.clear(lambda morsel: morsel.key == "c")
        assert sorted(c.key for c in jar) == ["a", "b"]
        jar.clear_domain("example.com")  # "belongs to the specified domain or its subdomains"
        assert len(jar) == 0
        jar.update_cookies({"d": "4"}, URL("http://example.com/"))
        jar.clear()
        assert len(jar) == 0

    def test_save_and_load(self, tmp_path: Any) -> None:
        jar = aiohyper.CookieJar()
        jar.update_cookies({"a": "1"}, URL("http://example.com/"))
        path = tmp_path / "cookies"
        jar.save(path)
        loaded = aiohyper.CookieJar()
        loaded.load(str(path))  # str or pathlib.Path
        assert loaded.filter_cookies(URL("http://example.com/"))["a"].value == "1"

    def test_dummy_cookie_jar(self) -> None:
        jar = aiohyper.DummyCookieJar()
        jar.update_cookies({"a": "1"}, URL("http://example.com/"))
        assert len(jar) == 0
        assert list(jar) == []
        assert len(jar.filter_cookies(URL("http://example.com/"))) == 0


class TestCustomClasses:
    async def test_request_and_response_class(self, server: TestServer) -> None:
        class MyResponse(aiohyper.ClientResponse):
            async def shout(self) -> str:
                return (await self.text()).upper()

        class MyRequest(aiohyper.ClientRequest):
            pass

        async with (
            aiohyper.ClientSession(request_class=MyRequest, response_class=MyResponse) as session,
            session.get(server.make_url("/")) as resp,
        ):
            assert isinstance(resp, MyResponse)
            assert await resp.shout() == "HELLO"
