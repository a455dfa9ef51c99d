# The tests keep the docs' nested ``async with session: / async with session.get():`` form.
# ruff: noqa: SIM117
"""Documentation conformance: `ClientSession` and ``aiohyper.request``.

Each test checks one behaviour stated in client_reference.rst / client_quickstart.rst (quoted
or paraphrased in the docstring), against a real local aiohyper.web server.
"""

from __future__ import annotations

import asyncio
import io
import json
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict, MultiDict, istr
from yarl import URL

import aiohyper
from aiohyper import web
from aiohyper.test_utils import TestServer


async def echo(request: web.Request) -> web.Response:
    """Describes the request it got, as JSON."""
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "raw_path": request.raw_path,
            "version": list(request.version),
            "headers": list(request.headers.items()),
            "cookies": dict(request.cookies),
            "body": body.decode("latin-1"),
        }
    )


async def set_cookie(request: web.Request) -> web.Response:
    resp = web.Response(text="ok")
    resp.set_cookie("session", "abc")
    return resp


async def status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.Response(status=code, text=f"status {code}", headers={"X-Code": str(code)})


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/echo")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/set-cookie", set_cookie)
    app.router.add_get("/status/{code}", status)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    srv = TestServer(make_app())
    await srv.start_server()
    yield srv
    await srv.close()


def headers_of(result: dict[str, Any]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in result["headers"])


# --- constructor defaults and attributes ---------------------------------------------------


class TestSessionDefaults:
    async def test_documented_defaults(self) -> None:
        """The defaults of the ClientSession signature, read back through its attributes."""
        async with aiohyper.ClientSession() as session:
            assert session.closed is False
            assert isinstance(session.connector, aiohyper.TCPConnector)
            assert isinstance(session.cookie_jar, aiohyper.CookieJar)
            assert session.connector_owner is True
            assert session.raise_for_status is False
            assert session.auto_decompress is True
            assert session.trust_env is False
            assert session.requote_redirect_url is True
            assert session.auth is None
            assert session.json_serialize is json.dumps
            assert isinstance(session.skip_auto_headers, frozenset)
            assert not session.skip_auto_headers
            assert len(session.headers) == 0
            assert not session.trace_configs
            # "300 seconds (5min) total timeout, 30 seconds socket connect timeout by default"
            assert session.timeout == aiohyper.ClientTimeout(total=300, sock_connect=30)
            assert session.timeout.ceil_threshold == 5
        assert session.closed is True

    async def test_attributes_reflect_arguments(self) -> None:
        auth = aiohyper.BasicAuth("u", "p")
        jar = aiohyper.DummyCookieJar()
        timeout = aiohyper.ClientTimeout(total=7)
        tc = aiohyper.TraceConfig()

        def dumps(obj: Any) -> str:
            return json.dumps(obj)

        async with aiohyper.ClientSession(
            headers={"X-A": "1"},
            skip_auto_headers=["User-Agent"],
            auth=auth,
            json_serialize=dumps,
            cookie_jar=jar,
            raise_for_status=True,
            timeout=timeout,
            auto_decompress=False,
            trust_env=True,
            requote_redirect_url=False,
            trace_configs=[tc],
        ) as session:
            assert session.headers["x-a"] == "1"
            assert session.skip_auto_headers == frozenset({istr("User-Agent")})
            assert session.auth is auth
            assert session.json_serialize is dumps
            assert session.cookie_jar is jar
            assert session.raise_for_status is True
            assert session.timeout is timeout
            assert session.auto_decompress is False
            assert session.trust_env is True
            assert session.requote_redirect_url is False
            assert session.trace_configs == [tc]

    async def test_headers_as_iterable_of_pairs(self, server: TestServer) -> None:
        """``headers`` may be an iterable of key-value pairs."""
        async with aiohyper.ClientSession(headers=[("X-A", "1"), ("X-B", "2")]) as session:
            async with session.get(server.make_url("/echo")) as resp:
                sent = headers_of(await resp.json())
        assert sent["X-A"] == "1"
        assert sent["X-B"] == "2"

    async def test_loop_attribute_is_deprecated(self) -> None:
        async with aiohyper.ClientSession() as session:
            with pytest.warns(DeprecationWarning):
                assert session.loop is asyncio.get_running_loop()

    async def test_requote_redirect_url_assignment_is_deprecated(self) -> None:
        async with aiohyper.ClientSession() as session:
            with pytest.warns(DeprecationWarning):
                session.requote_redirect_url = False
            assert session.requote_redirect_url is False

    async def test_connector_owner_false_keeps_connector_open(self) -> None:
        """``connector_owner=False`` shares the pool without closing it with the session."""
        connector = aiohyper.TCPConnector()
        session = aiohyper.ClientSession(connector=connector, connector_owner=False)
        assert session.connector is connector
        await session.close()
        assert session.closed
        assert not connector.closed
        await connector.close()

    async def test_close_closes_owned_connector(self) -> None:
        connector = aiohyper.TCPConnector()
        session = aiohyper.ClientSession(connector=connector)
        await session.close()
        assert connector.closed

    async def test_detach(self) -> None:
        """Docs: "Detach connector from session without closing the former. Session is switched to
        closed state anyway." """
        connector = aiohyper.TCPConnector()
        session = aiohyper.ClientSession(connector=connector)
        session.detach()
        assert session.closed
        assert not connector.closed
        await connector.close()

    async def test_request_on_closed_session_fails(self, server: TestServer) -> None:
        session = aiohyper.ClientSession()
        await session.close()
        with pytest.raises(RuntimeError):
            await session.get(server.make_url("/echo"))

    async def test_session_context_manager_without_async_with(self, server: TestServer) -> None:
        """Docs: "A session context manager usage is not mandatory but ``await session.close()``
        method should be called in this case"."""
        session = aiohyper.ClientSession()
        async with session.get(server.make_url("/echo")) as resp:
            assert resp.status == 200
        await session.close()
        assert session.closed


# --- base_url ------------------------------------------------------------------------------


class TestBaseUrl:
    async def test_rfc3986_joining(self, server: TestServer) -> None:
        """``base_url="http://example.com/foo/"``: ``"bar"`` → ``/foo/bar``, ``"/bar"`` →
        ``/bar``."""
        base = server.make_url("/foo/")
        async with aiohyper.ClientSession(base_url=base) as session:
            async with session.request("GET", "bar") as resp:
                assert resp.url.path == "/foo/bar"
                assert (await resp.json())["raw_path"] == "/foo/bar"
            async with session.request("GET", "/bar") as resp:
                assert resp.url.path == "/bar"
                assert (await resp.json())["raw_path"] == "/bar"

    async def test_base_url_without_path(self, server: TestServer) -> None:
        """The quickstart: ``ClientSession('http://httpbin.org')`` then ``get('/get')``."""
        async with aiohyper.ClientSession(str(server.make_url("/"))[:-1]) as session:
            for method in ("get", "post", "put"):
                async with getattr(session, method)("/get") as resp:
                    result = await resp.json()
                    assert result["raw_path"] == "/get"
                    assert result["method"] == method.upper()

    async def test_absolute_url_overrides_base_url(self, server: TestServer) -> None:
        """3.12: "Added support for overriding the base URL with an absolute one"."""
        async with aiohyper.ClientSession(base_url="http://example.invalid/api/") as session:
            async with session.get(server.make_url("/echo")) as resp:
                assert resp.url == server.make_url("/echo")

    async def test_base_url_path_needs_trailing_slash(self) -> None:
        with pytest.raises(ValueError):
            aiohyper.ClientSession(base_url="http://example.com/foo")

    async def test_base_url_attribute(self) -> None:
        async with aiohyper.ClientSession(base_url="http://example.com/foo/") as session:
            assert session._base_url == URL("http://example.com/foo/")

    async def test_session_auth_only_for_base_url_origin(self, server: TestServer) -> None:
        """Docs: "if the ``_base_url`` parameter is set, the request URL's origin must match the
        base URL's origin; otherwise, the default auth will not be included"."""
        auth = aiohyper.BasicAuth("user", "pass")
        other = URL(str(server.make_url("/echo")).replace("127.0.0.1", "localhost"))
        async with aiohyper.ClientSession(base_url=server.make_url("/"), auth=auth) as session:
            async with session.get("echo") as resp:
                assert headers_of(await resp.json())["Authorization"] == auth.encode()
            async with session.get(other) as resp:
                assert "Authorization" not in headers_of(await resp.json())


# --- URL and params ------------------------------------------------------------------------


class TestParams:
    async def test_dict_params(self, server: TestServer) -> None:
        params = {"key1": "value1", "key2": "value2"}
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/get"), params=params) as resp:
                assert str(resp.url) == str(server.make_url("/get")) + "?key1=value1&key2=value2"
                assert (await resp.json())["raw_path"] == "/get?key1=value1&key2=value2"

    async def test_list_of_pairs_keeps_order(self, server: TestServer) -> None:
        params = [("key", "value2"), ("key", "value1")]
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/get"), params=params) as resp:
                assert resp.url.raw_query_string == "key=value2&key=value1"

    async def test_multidict_and_nested_list_params(self, server: TestServer) -> None:
        """``MultiDict`` or ``{'key': ['value1', 'value2']}`` give repeated keys."""
        async with aiohyper.ClientSession() as session:
            md = MultiDict([("key", "value1"), ("key", "value2")])
            async with session.get(server.make_url("/get"), params=md) as resp:
                assert resp.url.raw_query_string == "key=value1&key=value2"
            nested = {"key": ["value1", "value2"]}
            async with session.get(server.make_url("/get"), params=nested) as resp:
                assert resp.url.raw_query_string == "key=value1&key=value2"

    async def test_str_params_are_not_encoded(self, server: TestServer) -> None:
        """Docs: "content is not encoded by library. Note that ``+`` is not encoded"."""
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/get"), params="key=value+1") as resp:
                assert str(resp.url) == str(server.make_url("/get")) + "?key=value+1"
                assert (await resp.json())["raw_path"] == "/get?key=value+1"

    async def test_params_values_are_encoded(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/get"), params={"q": "a b&c"}) as resp:
                assert (await resp.json())["raw_path"] == "/get?q=a+b%26c"

    async def test_params_extend_existing_query(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            url = server.make_url("/get").with_query(a="1")
            async with session.get(url, params={"b": "2"}) as resp:
                assert (await resp.json())["raw_path"] == "/get?a=1&b=2"

    async def test_canonicalization(self, server: TestServer) -> None:
        """``URL('http://example.com/путь/%30?a=%31')`` is sent as
        ``/%D0%BF%D1%83%D1%82%D1%8C/0?a=1``."""
        url = str(server.make_url("/")) + "путь/%30?a=%31"
        async with aiohyper.ClientSession() as session, session.get(url) as resp:
            assert (await resp.json())["raw_path"] == "/%D0%BF%D1%83%D1%82%D1%8C/0?a=1"

    async def test_encoded_url_is_sent_as_is(self, server: TestServer) -> None:
        """Docs: "To disable canonicalization use ``encoded=True`` parameter"."""
        url = URL(str(server.make_url("/")) + "%30", encoded=True)
        async with aiohyper.ClientSession() as session, session.get(url) as resp:
            assert (await resp.json())["raw_path"] == "/%30"

    async def test_fragment_is_not_sent(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.get(str(server.make_url("/echo")) + "#frag") as resp:
                assert (await resp.json())["raw_path"] == "/echo"
                assert resp.url == server.make_url("/echo")
                assert resp.real_url == URL(str(server.make_url("/echo")) + "#frag")
                assert resp.request_info.real_url.fragment == "frag"
                assert resp.request_info.url.fragment == ""

    async def test_invalid_url_without_host(self) -> None:
        """InvalidURL: "URL used for fetching is malformed, e.g. it does not contain host"."""
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.InvalidURL) as info:
                await session.get("http:///path")
            assert isinstance(info.value, aiohyper.InvalidUrlClientError)
            assert isinstance(info.value, ValueError)
            assert info.value.url == URL("http:///path")

    async def test_non_http_scheme(self) -> None:
        async with aiohyper.ClientSession() as session:
            with pytest.raises(aiohyper.NonHttpUrlClientError):
                await session.get("ftp://example.com/file")


# --- headers -------------------------------------------------------------------------------


class TestHeaders:
    async def test_auto_headers(self, server: TestServer) -> None:
        """User-Agent, Accept, Accept-Encoding and Host are generated."""
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/echo")) as resp:
                sent = headers_of(await resp.json())
        assert sent["Host"] == f"127.0.0.1:{server.port}"
        assert sent["Accept"] == "*/*"
        assert "gzip" in sent["Accept-Encoding"]
        assert "deflate" in sent["Accept-Encoding"]
        assert "User-Agent" in sent

    async def test_explicit_headers_win_over_auto_headers(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            headers = {"User-Agent": "MyApp/1.0", "Accept": "text/html"}
            async with session.get(server.make_url("/echo"), headers=headers) as resp:
                sent = headers_of(await resp.json())
        assert sent.getall("User-Agent") == ["MyApp/1.0"]
        assert sent.getall("Accept") == ["text/html"]

    async def test_session_skip_auto_headers(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(skip_auto_headers=["User-Agent"]) as session:
            async with session.get(server.make_url("/echo")) as resp:
                sent = headers_of(await resp.json())
        assert "User-Agent" not in sent
        assert "Accept" in sent

    async def test_request_skip_auto_headers(self, server: TestServer) -> None:
        async with (
            aiohyper.ClientSession() as session,
            session.get(
                server.make_url("/echo"), skip_auto_headers=[istr("accept-encoding")]
            ) as resp,
        ):
            sent = headers_of(await resp.json())
        assert "Accept-Encoding" not in sent
        assert "User-Agent" in sent

    async def test_skip_content_type_but_not_content_length(self, server: TestServer) -> None:
        """Docs: "Note that ``Content-Length`` autogeneration can't be skipped"."""
        async with (
            aiohyper.ClientSession() as session,
            session.post(
                server.make_url("/echo"),
                data=b"abc",
                skip_auto_headers=["Content-Type", "Content-Length"],
            ) as resp,
        ):
            result = await resp.json()
        sent = headers_of(result)
        assert "Content-Type" not in sent
        assert sent["Content-Length"] == "3"
        assert result["body"] == "abc"

    async def test_session_headers_sent_and_overridden(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(headers={"X-A": "session", "X-B": "b"}) as session:
            async with session.get(server.make_url("/echo"), headers={"x-a": "request"}) as r:
                sent = headers_of(await r.json())
        assert sent.getall("X-A") == ["request"]
        assert sent["X-B"] == "b"

    async def test_request_info_headers_are_the_sent_ones(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/echo"), headers={"X-A": "1"}) as resp:
                info = resp.request_info
                assert isinstance(info, aiohyper.RequestInfo)
                assert info.method == "GET"
                assert info.url == server.make_url("/echo")
                assert info.headers["X-A"] == "1"
                assert "User-Agent" in info.headers
                assert "Host" in info.headers


# --- auth and cookies ----------------------------------------------------------------------


class TestAuthAndCookies:
    async def test_basic_auth_argument(self, server: TestServer) -> None:
        auth = aiohyper.BasicAuth("user", "pass")
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/echo"), auth=auth) as resp:
                sent = headers_of(await resp.json())
        assert sent["Authorization"] == "Basic dXNlcjpwYXNz"

    async def test_session_auth_without_base_url(self, server: TestServer) -> None:
        auth = aiohyper.BasicAuth("user", "pass")
        async with aiohyper.ClientSession(auth=auth) as session:
            async with session.get(server.make_url("/echo")) as resp:
                assert headers_of(await resp.json())["Authorization"] == auth.encode()

    async def test_credentials_in_url(self, server: TestServer) -> None:
        url = server.make_url("/echo").with_user("user").with_password("pass")
        async with aiohyper.ClientSession() as session, session.get(url) as resp:
            sent = headers_of(await resp.json())
            assert resp.url.user is None
        assert sent["Authorization"] == "Basic dXNlcjpwYXNz"

    async def test_auth_and_url_credentials_conflict(self, server: TestServer) -> None:
        url = server.make_url("/echo").with_user("user").with_password("pass")
        async with aiohyper.ClientSession() as session:
            with pytest.raises(ValueError):
                await session.get(url, auth=aiohyper.BasicAuth("a", "b"))

    async def test_session_cookies_sent(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(cookies={"a": "1"}) as session:
            async with session.get(server.make_url("/echo")) as resp:
                assert (await resp.json())["cookies"] == {"a": "1"}

    async def test_request_cookies_merged_with_session_cookies(self, server: TestServer) -> None:
        """Docs: "Global session cookies and the explicitly set cookies will be merged"."""
        async with aiohyper.ClientSession(cookies={"a": "1"}) as session:
            async with session.get(server.make_url("/echo"), cookies={"b": "2"}) as resp:
                assert (await resp.json())["cookies"] == {"a": "1", "b": "2"}
            # Request cookies are not stored in the jar.
            async with session.get(server.make_url("/echo")) as resp:
                assert (await resp.json())["cookies"] == {"a": "1"}

    async def test_response_cookies_go_to_jar(self, server: TestServer) -> None:
        # unsafe=True: the jar refuses cookies from IP addresses otherwise.
        async with aiohyper.ClientSession(cookie_jar=aiohyper.CookieJar(unsafe=True)) as session:
            async with session.get(server.make_url("/set-cookie")) as resp:
                assert resp.cookies["session"].value == "abc"
            assert len(session.cookie_jar) == 1
            assert [c.key for c in session.cookie_jar] == ["session"]
            async with session.get(server.make_url("/echo")) as resp:
                assert (await resp.json())["cookies"] == {"session": "abc"}

    async def test_default_jar_refuses_cookies_from_ip(self, server: TestServer) -> None:
        """CookieJar ``unsafe``: "Whether to accept cookies from IPs" (``False`` default)."""
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/set-cookie")) as resp:
                assert resp.cookies["session"].value == "abc"
            assert len(session.cookie_jar) == 0

    async def test_dummy_cookie_jar_ignores_cookies(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(cookie_jar=aiohyper.DummyCookieJar()) as session:
            async with session.get(server.make_url("/set-cookie")) as resp:
                assert resp.cookies["session"].value == "abc"
            assert len(session.cookie_jar) == 0
            async with session.get(server.make_url("/echo")) as resp:
                assert (await resp.json())["cookies"] == {}


# --- bodies --------------------------------------------------------------------------------


class TestBodies:
    async def test_json_body(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/echo"), json={"test": "object"}) as r:
                result = await r.json()
        assert headers_of(result)["Content-Type"] == "application/json"
        assert json.loads(result["body"]) == {"test": "object"}

    async def test_custom_json_serialize(self, server: TestServer) -> None:
        calls: list[Any] = []

        def dumps(obj: Any) -> str:
            calls.append(obj)
            return json.dumps(obj, separators=(",", ":"))

        async with aiohyper.ClientSession(json_serialize=dumps) as session:
            async with session.post(server.make_url("/echo"), json={"a": [1, 2]}) as r:
                result = await r.json()
        assert calls == [{"a": [1, 2]}]
        assert result["body"] == '{"a":[1,2]}'

    async def test_data_and_json_together(self, server: TestServer) -> None:
        """Docs: "*json* and *data* parameters could not be used at the same time"."""
        async with aiohyper.ClientSession() as session:
            with pytest.raises(ValueError):
                await session.post(server.make_url("/echo"), data=b"x", json={"a": 1})

    async def test_dict_data_is_form_encoded(self, server: TestServer) -> None:
        payload = {"key1": "value1", "key2": "value2"}
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=payload) as resp:
                result = await resp.json()
        assert headers_of(result)["Content-Type"] == "application/x-www-form-urlencoded"
        assert result["body"] == "key1=value1&key2=value2"

    async def test_bytes_data_is_octet_stream(self, server: TestServer) -> None:
        """Docs: "content-type set to 'application/octet-stream' by default"."""
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=b"\x00Binary-data\x00") as r:
                result = await r.json()
        assert headers_of(result)["Content-Type"] == "application/octet-stream"
        assert result["body"] == "\x00Binary-data\x00"
        assert headers_of(result)["Content-Length"] == "13"

    async def test_str_data_is_text(self, server: TestServer) -> None:
        """Docs: "To send text with appropriate content-type just use ``data`` argument"."""
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data="Тест") as resp:
                result = await resp.json()
        ctype = headers_of(result)["Content-Type"]
        assert ctype.startswith("text/plain")
        assert "utf-8" in ctype.lower()
        assert result["body"].encode("latin-1").decode("utf-8") == "Тест"

    async def test_file_dict_is_multipart(self, server: TestServer) -> None:
        """``files = {'file': open('report.xls', 'rb')}; await session.post(url, data=files)``"""
        f = io.BytesIO(b"file content")
        f.name = "report.xls"
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data={"file": f}) as resp:
                result = await resp.json()
        assert headers_of(result)["Content-Type"].startswith("multipart/form-data")
        assert 'filename="report.xls"' in result["body"]
        assert "file content" in result["body"]

    async def test_formdata_with_filename_and_content_type(self, server: TestServer) -> None:
        data = aiohyper.FormData()
        data.add_field(
            "file",
            io.BytesIO(b"xls"),
            filename="report.xls",
            content_type="application/vnd.ms-excel",
        )
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=data) as resp:
                body = (await resp.json())["body"]
        assert "Content-Type: application/vnd.ms-excel" in body
        assert 'filename="report.xls"' in body

    async def test_file_object_is_streamed(self, server: TestServer) -> None:
        f = io.BytesIO(b"massive body" * 1000)
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=f) as resp:
                assert (await resp.json())["body"] == "massive body" * 1000

    async def test_async_generator_upload(self, server: TestServer) -> None:
        async def file_sender() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i};".encode()

        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=file_sender()) as resp:
                result = await resp.json()
        assert result["body"] == "chunk0;chunk1;chunk2;"
        assert headers_of(result)["Transfer-Encoding"] == "chunked"

    async def test_response_content_as_request_body(self, server: TestServer) -> None:
        """Docs: "you can chain get and post requests together"."""
        async with aiohyper.ClientSession() as session:
            resp = await session.get(server.make_url("/source"))
            async with session.post(server.make_url("/post"), data=resp.content) as r2:
                body = (await r2.json())["body"]
            resp.release()
        assert json.loads(body)["raw_path"] == "/source"

    async def test_post_without_body_has_content_length_zero(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post")) as resp:
                assert headers_of(await resp.json())["Content-Length"] == "0"
            async with session.get(server.make_url("/get")) as resp:
                sent = headers_of(await resp.json())
                assert "Content-Length" not in sent
                assert "Transfer-Encoding" not in sent

    async def test_chunked_true(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=b"abc", chunked=True) as r:
                result = await r.json()
        assert headers_of(result)["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in headers_of(result)
        assert result["body"] == "abc"

    async def test_chunked_without_body_is_framed(self, server: TestServer) -> None:
        """``chunked=True`` announces ``Transfer-Encoding: chunked`` even for an empty body:
        the request stays well framed and the connection reusable."""
        async with aiohyper.ClientSession() as session:
            for _ in range(2):
                async with session.post(server.make_url("/post"), chunked=True) as resp:
                    result = await resp.json()
                assert headers_of(result)["Transfer-Encoding"] == "chunked"
                assert result["body"] == ""

    async def test_chunked_with_headers_is_disallowed(self, server: TestServer) -> None:
        """Docs: "If *chunked* is set, then the *Transfer-encoding* and *content-length* headers
        are disallowed"."""
        async with aiohyper.ClientSession() as session:
            with pytest.raises(ValueError):
                await session.post(
                    server.make_url("/post"),
                    data=b"abc",
                    chunked=True,
                    headers={"Content-Length": "3"},
                )
            with pytest.raises(ValueError):
                await session.post(
                    server.make_url("/post"),
                    data=b"abc",
                    chunked=True,
                    headers={"Transfer-Encoding": "chunked"},
                )

    async def test_compress_true_is_deflate(self, server: TestServer) -> None:
        import zlib

        async def inflate(request: web.Request) -> web.Response:
            raw = await request.content.read()
            return web.json_response(
                {
                    "encoding": request.headers.get("Content-Encoding"),
                    "raw": raw.hex(),
                }
            )

        app = web.Application()
        app.router.add_post("/", inflate)
        async with TestServer(app, auto_decompress=False) as srv:
            async with aiohyper.ClientSession() as session:
                async with session.post(srv.make_url("/"), data=b"x" * 100, compress=True) as r:
                    result = await r.json()
        assert result["encoding"] == "deflate"
        assert zlib.decompress(bytes.fromhex(result["raw"])) == b"x" * 100

    async def test_compress_with_content_encoding_header(self, server: TestServer) -> None:
        """Docs: "`compress` can not be combined with a *Content-Encoding*" header."""
        async with aiohyper.ClientSession() as session:
            with pytest.raises(ValueError):
                await session.post(
                    server.make_url("/post"),
                    data=b"abc",
                    compress=True,
                    headers={"Content-Encoding": "gzip"},
                )

    async def test_expect100(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.post(server.make_url("/post"), data=b"abc", expect100=True) as r:
                result = await r.json()
        assert headers_of(result)["Expect"] == "100-continue"
        assert result["body"] == "abc"

    async def test_http10_version(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(version=aiohyper.HttpVersion10) as session:
            async with session.get(server.make_url("/echo")) as resp:
                assert (await resp.json())["version"] == [1, 0]


# --- methods and redirects -----------------------------------------------------------------


class TestMethods:
    @pytest.mark.parametrize("method", ["get", "post", "put", "delete", "options", "patch"])
    async def test_method_helpers(self, server: TestServer, method: str) -> None:
        async with aiohyper.ClientSession() as session:
            async with getattr(session, method)(server.make_url("/m")) as resp:
                assert resp.method == method.upper()
                assert (await resp.json())["method"] == method.upper()

    async def test_head(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.head(server.make_url("/m")) as resp:
                assert resp.status == 200
                assert resp.method == "HEAD"
                assert await resp.read() == b""

    async def test_head_does_not_follow_redirects_by_default(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.head(server.make_url("/redirect")) as resp:
                assert resp.status == 302
                assert resp.history == ()
            async with session.head(server.make_url("/redirect"), allow_redirects=True) as r:
                assert r.status == 200
                assert len(r.history) == 1

    @pytest.mark.parametrize("method", ["get", "options"])
    async def test_get_and_options_follow_redirects(self, server: TestServer, method: str) -> None:
        async with aiohyper.ClientSession() as session:
            async with getattr(session, method)(server.make_url("/redirect")) as resp:
                assert resp.status == 200
                assert resp.url == server.make_url("/echo")
                assert [r.status for r in resp.history] == [302]
                assert resp.history[0].url == server.make_url("/redirect")
            async with getattr(session, method)(
                server.make_url("/redirect"), allow_redirects=False
            ) as resp:
                assert resp.status == 302
                assert resp.history == ()

    async def test_request_returns_awaitable_and_context_manager(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            resp = await session.request("GET", server.make_url("/echo"))
            async with resp:
                assert resp.status == 200
            async with session.request("GET", server.make_url("/echo")) as resp2:
                assert resp2.status == 200
        assert resp.closed

    async def test_invalid_method(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            with pytest.raises(ValueError):
                await session.request("GET /x", server.make_url("/echo"))


# --- raise_for_status ----------------------------------------------------------------------


class TestRaiseForStatus:
    async def test_session_true_raises_client_response_error(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(raise_for_status=True) as session:
            with pytest.raises(aiohyper.ClientResponseError) as info:
                await session.get(server.make_url("/status/404"))
        err = info.value
        assert err.status == 404
        assert err.message == "Not Found"
        assert err.headers is not None and err.headers["X-Code"] == "404"
        assert err.request_info.url == server.make_url("/status/404")
        assert err.request_info.method == "GET"
        assert err.history == ()

    async def test_per_request_override(self, server: TestServer) -> None:
        """The documented example: session ``True``, request ``False``."""
        async with aiohyper.ClientSession(raise_for_status=True) as client_session:
            resp = await client_session.get(server.make_url("/status/200"), raise_for_status=False)
            async with resp:
                assert resp.status == 200
            resp = await client_session.get(server.make_url("/status/500"), raise_for_status=False)
            async with resp:
                assert resp.status == 500

    async def test_request_true_on_default_session(self, server: TestServer) -> None:
        async with aiohyper.ClientSession() as session:
            async with session.get(server.make_url("/status/400")) as resp:
                assert resp.status == 400
            with pytest.raises(aiohyper.ClientResponseError) as info:
                await session.get(server.make_url("/status/400"), raise_for_status=True)
            assert info.value.status == 400

    async def test_below_400_does_not_raise(self, server: TestServer) -> None:
        async with aiohyper.ClientSession(raise_for_status=True) as session:
            async with session.get(server.make_url("/status/399")) as resp:
                assert resp.status == 399
                assert resp.ok

    async def test_callable(self, server: TestServer) -> None:
        """``raise_for_status`` may be a callable (the ``raise_for_status`` attribute is
        "Either bool or collections.abc.Callable")."""
        seen: list[int] = []

        async def check(resp: aiohyper.ClientResponse) -> None:
            seen.append(resp.status)
            if resp.status == 418:
                raise RuntimeError("teapot")

        async with aiohyper.ClientSession(raise_for_status=check) as session:
            async with session.get(server.make_url("/status/200")) as resp:
                assert resp.status == 200
            with pytest.raises(RuntimeError, match="teapot"):
                await session.get(server.make_url("/status/418"))
        assert seen == [200, 418]

    async def test_history_in_error_after_redirect(self) -> None:
        async def start(request: web.Request) -> web.Response:
            raise web.HTTPFound("/missing")

        app = web.Application()
        app.router.add_get("/start", start)
        async with TestServer(app) as srv:
            async with aiohyper.ClientSession(raise_for_status=True) as session:
                with pytest.raises(aiohyper.ClientResponseError) as info:
                    await session.get(srv.make_url("/start"))
        assert info.value.status == 404
        assert len(info.value.history) == 1
        assert info.value.history[0].status == 302


# --- aiohyper.request ----------------------------------------------------------------------


class TestModuleRequest:
    async def test_usage(self, server: TestServer) -> None:
        async with aiohyper.request("GET", server.make_url("/echo")) as resp:
            assert resp.status == 200
            assert (await resp.json())["method"] == "GET"

    async def test_arguments_are_passed(self, server: TestServer) -> None:
        async with aiohyper.request(
            "POST",
            server.make_url("/echo"),
            params={"a": "1"},
            json={"x": 1},
            headers={"X-A": "h"},
            cookies={"c": "v"},
            auth=aiohyper.BasicAuth("u", "p"),
        ) as resp:
            result = await resp.json()
        sent = headers_of(result)
        assert result["raw_path"] == "/echo?a=1"
        assert json.loads(result["body"]) == {"x": 1}
        assert sent["X-A"] == "h"
        assert result["cookies"] == {"c": "v"}
        assert sent["Authorization"] == aiohyper.BasicAuth("u", "p").encode()

    async def test_raise_for_status(self, server: TestServer) -> None:
        with pytest.raises(aiohyper.ClientResponseError):
            async with aiohyper.request(
                "GET", server.make_url("/status/404"), raise_for_status=True
            ):
                pass

    async def test_version_argument(self, server: TestServer) -> None:
        async with aiohyper.request(
            "GET", server.make_url("/echo"), version=aiohyper.HttpVersion10
        ) as resp:
            assert (await resp.json())["version"] == [1, 0]

    async def test_given_connector_is_not_closed(self, server: TestServer) -> None:
        connector = aiohyper.TCPConnector()
        async with aiohyper.request("GET", server.make_url("/echo"), connector=connector) as r:
            assert r.status == 200
        assert not connector.closed
        await connector.close()

    async def test_follows_redirects(self, server: TestServer) -> None:
        async with aiohyper.request("GET", server.make_url("/redirect")) as resp:
            assert resp.status == 200
            assert len(resp.history) == 1

    async def test_timeout_argument(self) -> None:
        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(1)
            return web.Response()

        app = web.Application()
        app.router.add_get("/", slow)
        async with TestServer(app) as srv:
            with pytest.raises(asyncio.TimeoutError):
                async with aiohyper.request(
                    "GET", srv.make_url("/"), timeout=aiohyper.ClientTimeout(total=0.05)
                ):
                    pass


def test_session_outside_loop_warns() -> None:
    """Creating a session outside a coroutine is deprecated (DeprecationWarning)."""
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            session = aiohyper.ClientSession()
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)
        loop.run_until_complete(session.close())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
