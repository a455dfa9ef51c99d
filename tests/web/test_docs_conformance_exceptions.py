"""Documented behaviour of the HTTP exceptions (web_exceptions.rst): the hierarchy chart, the
status of each class, constructor signatures, default text, headers, and how the server
answers when a handler raises one (web_lowlevel.rst)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper import web
from aiohyper.test_utils import RawTestServer, TestClient, TestServer

# The hierarchy chart of web_exceptions.rst: (class name, status, direct parent).
HIERARCHY: list[tuple[str, int, str]] = [
    ("HTTPOk", 200, "HTTPSuccessful"),
    ("HTTPCreated", 201, "HTTPSuccessful"),
    ("HTTPAccepted", 202, "HTTPSuccessful"),
    ("HTTPNonAuthoritativeInformation", 203, "HTTPSuccessful"),
    ("HTTPNoContent", 204, "HTTPSuccessful"),
    ("HTTPResetContent", 205, "HTTPSuccessful"),
    ("HTTPPartialContent", 206, "HTTPSuccessful"),
    ("HTTPNotModified", 304, "HTTPRedirection"),
    ("HTTPMultipleChoices", 300, "HTTPMove"),
    ("HTTPMovedPermanently", 301, "HTTPMove"),
    ("HTTPFound", 302, "HTTPMove"),
    ("HTTPSeeOther", 303, "HTTPMove"),
    ("HTTPUseProxy", 305, "HTTPMove"),
    ("HTTPTemporaryRedirect", 307, "HTTPMove"),
    ("HTTPPermanentRedirect", 308, "HTTPMove"),
    ("HTTPBadRequest", 400, "HTTPClientError"),
    ("HTTPUnauthorized", 401, "HTTPClientError"),
    ("HTTPPaymentRequired", 402, "HTTPClientError"),
    ("HTTPForbidden", 403, "HTTPClientError"),
    ("HTTPNotFound", 404, "HTTPClientError"),
    ("HTTPMethodNotAllowed", 405, "HTTPClientError"),
    ("HTTPNotAcceptable", 406, "HTTPClientError"),
    ("HTTPProxyAuthenticationRequired", 407, "HTTPClientError"),
    ("HTTPRequestTimeout", 408, "HTTPClientError"),
    ("HTTPConflict", 409, "HTTPClientError"),
    ("HTTPGone", 410, "HTTPClientError"),
    ("HTTPLengthRequired", 411, "HTTPClientError"),
    ("HTTPPreconditionFailed", 412, "HTTPClientError"),
    ("HTTPRequestEntityTooLarge", 413, "HTTPClientError"),
    ("HTTPRequestURITooLong", 414, "HTTPClientError"),
    ("HTTPUnsupportedMediaType", 415, "HTTPClientError"),
    ("HTTPRequestRangeNotSatisfiable", 416, "HTTPClientError"),
    ("HTTPExpectationFailed", 417, "HTTPClientError"),
    ("HTTPMisdirectedRequest", 421, "HTTPClientError"),
    ("HTTPUnprocessableEntity", 422, "HTTPClientError"),
    ("HTTPFailedDependency", 424, "HTTPClientError"),
    ("HTTPUpgradeRequired", 426, "HTTPClientError"),
    ("HTTPPreconditionRequired", 428, "HTTPClientError"),
    ("HTTPTooManyRequests", 429, "HTTPClientError"),
    ("HTTPRequestHeaderFieldsTooLarge", 431, "HTTPClientError"),
    ("HTTPUnavailableForLegalReasons", 451, "HTTPClientError"),
    ("HTTPInternalServerError", 500, "HTTPServerError"),
    ("HTTPNotImplemented", 501, "HTTPServerError"),
    ("HTTPBadGateway", 502, "HTTPServerError"),
    ("HTTPServiceUnavailable", 503, "HTTPServerError"),
    ("HTTPGatewayTimeout", 504, "HTTPServerError"),
    ("HTTPVersionNotSupported", 505, "HTTPServerError"),
    ("HTTPVariantAlsoNegotiates", 506, "HTTPServerError"),
    ("HTTPInsufficientStorage", 507, "HTTPServerError"),
    ("HTTPNotExtended", 510, "HTTPServerError"),
    ("HTTPNetworkAuthenticationRequired", 511, "HTTPServerError"),
]


def make(name: str, **kwargs: Any) -> web.HTTPException:
    cls = getattr(web, name)
    if issubclass(cls, web.HTTPMove):
        return cls("/somewhere", **kwargs)  # type: ignore[no-any-return]
    if cls is web.HTTPMethodNotAllowed:
        return cls("GET", ["POST"], **kwargs)  # type: ignore[no-any-return]
    if cls is web.HTTPUnavailableForLegalReasons:
        return cls("http://blocker.example", **kwargs)  # type: ignore[no-any-return]
    if cls is web.HTTPRequestEntityTooLarge:
        return cls(max_size=1, actual_size=2, **kwargs)  # type: ignore[no-any-return]
    return cls(**kwargs)  # type: ignore[no-any-return]


def test_category_bases() -> None:
    assert issubclass(web.HTTPException, Exception)
    assert issubclass(web.HTTPException, web.Response)
    for category in ("HTTPSuccessful", "HTTPRedirection", "HTTPError"):
        assert issubclass(getattr(web, category), web.HTTPException)
    assert issubclass(web.HTTPMove, web.HTTPRedirection)
    assert issubclass(web.HTTPClientError, web.HTTPError)
    assert issubclass(web.HTTPServerError, web.HTTPError)


@pytest.mark.parametrize(("name", "status", "parent"), HIERARCHY)
def test_hierarchy_and_status(name: str, status: int, parent: str) -> None:
    cls = getattr(web, name)
    assert parent in [base.__name__ for base in cls.__bases__]
    assert cls.status_code == status
    exc = make(name)
    assert exc.status == status
    assert isinstance(exc, web.HTTPException) and isinstance(exc, Exception)


@pytest.mark.parametrize(("name", "status", "parent"), HIERARCHY)
def test_default_text_reason_and_content_type(name: str, status: int, parent: str) -> None:
    exc = make(name)
    if status in (204, 205, 304):
        # Has no HTTP body.
        assert exc.text is None and exc.body is None
    else:
        assert exc.text is not None
        if name not in ("HTTPRequestEntityTooLarge",):
            assert exc.text == f"{status}: {exc.reason}"
        assert exc.content_type == "text/plain"
    assert isinstance(exc.reason, str) and exc.reason
    assert str(exc) == exc.reason


def test_common_constructor_signature() -> None:
    exc = web.HTTPNotFound(
        headers={"X-Custom": "1"}, reason="Nothing Here", text="custom body", content_type="text/x"
    )
    assert exc.reason == "Nothing Here"
    assert exc.text == "custom body"
    assert exc.content_type == "text/x"
    assert exc.headers["X-Custom"] == "1"
    assert isinstance(exc.headers, CIMultiDict)
    # reason alone goes into the default text
    assert web.HTTPNotFound(reason="Nope").text == "404: Nope"
    with pytest.raises(TypeError):
        web.HTTPNotFound("positional")  # type: ignore[misc]


def test_move_location() -> None:
    exc = web.HTTPFound("/redirect")
    assert exc.location == URL("/redirect")
    assert exc.headers["Location"] == "/redirect"
    url_exc = web.HTTPMovedPermanently(location=URL("http://example.com/x"), reason="Moved")
    assert url_exc.headers["Location"] == "http://example.com/x"
    assert url_exc.reason == "Moved"
    with pytest.raises(ValueError):
        web.HTTPFound("")
    # 304 is a redirection without Location.
    assert not issubclass(web.HTTPNotModified, web.HTTPMove)
    assert "Location" not in web.HTTPNotModified().headers


def test_method_not_allowed() -> None:
    exc = web.HTTPMethodNotAllowed("delete", ["GET", "POST"], reason="No")
    assert exc.method == "DELETE"
    assert exc.allowed_methods == {"GET", "POST"}
    assert set(exc.headers["Allow"].split(",")) == {"GET", "POST"}
    assert exc.reason == "No"


def test_unavailable_for_legal_reasons() -> None:
    exc = web.HTTPUnavailableForLegalReasons(
        "http://blocker.example", text="Blocked by court order"
    )
    assert exc.link == URL("http://blocker.example")
    assert exc.text == "Blocked by court order"
    assert "http://blocker.example" in exc.headers["Link"]
    assert web.HTTPUnavailableForLegalReasons(None).link is None


def test_request_entity_too_large() -> None:
    exc = web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20, reason="Big")
    assert exc.status == 413 and exc.reason == "Big"
    assert "10" in (exc.text or "") and "20" in (exc.text or "")


def test_exceptions_have_cookies() -> None:
    exc = web.HTTPFound("/login")
    exc.set_cookie("session", "gone", max_age=0)
    exc.del_cookie("other")
    assert exc.cookies["session"].value == "gone"


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_raised_exceptions_become_responses() -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/redirect")

    async def custom(request: web.Request) -> web.Response:
        raise web.HTTPConflict(headers={"X-Why": "because"}, text="conflicting")

    async def no_content(request: web.Request) -> web.Response:
        raise web.HTTPNoContent()

    async def login_redirect(request: web.Request) -> web.Response:
        location = request.app.router["login"].url_for()
        raise web.HTTPFound(location=location)

    async def login(request: web.Request) -> web.Response:
        return web.Response(text="login page")

    app = web.Application()
    app.router.add_get("/r", redirect)
    app.router.add_get("/c", custom)
    app.router.add_get("/n", no_content)
    app.router.add_get("/handler", login_redirect)
    app.router.add_get("/login", login, name="login")
    async with serve(app) as client:
        resp = await client.get("/r", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/redirect"
        assert await resp.text() == "302: Found"
        resp = await client.get("/c")
        assert resp.status == 409 and resp.headers["X-Why"] == "because"
        assert await resp.text() == "conflicting"
        resp = await client.get("/n")
        assert resp.status == 204 and await resp.read() == b""
        resp = await client.get("/handler")
        assert resp.status == 200 and await resp.text() == "login page"
        assert str(resp.url).endswith("/login")


async def test_returned_exception_is_deprecated_but_sent() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.HTTPAccepted(text="queued")

    app = web.Application()
    app.router.add_get("/", handler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        async with serve(app) as client:
            resp = await client.get("/")
            assert resp.status == 202 and await resp.text() == "queued"


async def test_low_level_handler_exceptions() -> None:
    """web_lowlevel.rst: HTTPException → its response, anything else → 500."""

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/forbidden":
            raise web.HTTPForbidden()
        if request.path == "/error":
            raise KeyError("boom")
        return web.Response(text="OK")

    async with TestClient(RawTestServer(handler)) as client:
        assert await (await client.get("/anything")).text() == "OK"
        assert (await client.post("/any/path")).status == 200
        assert (await client.get("/forbidden")).status == 403
        resp = await client.get("/error")
        assert resp.status == 500
        assert "500" in await resp.text()
