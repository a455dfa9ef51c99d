"""The HTTPException hierarchy: statuses, defaults, special constructors, and sending one."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import pytest
from yarl import URL

from aiohyper._http._writer import StreamWriter
from aiohyper.test_utils import make_mocked_request
from aiohyper.web import _exceptions as exc
from aiohyper.web._response import Response, StreamResponse

EXPECTED = {
    "HTTPOk": (200, "HTTPSuccessful"),
    "HTTPCreated": (201, "HTTPSuccessful"),
    "HTTPAccepted": (202, "HTTPSuccessful"),
    "HTTPNonAuthoritativeInformation": (203, "HTTPSuccessful"),
    "HTTPNoContent": (204, "HTTPSuccessful"),
    "HTTPResetContent": (205, "HTTPSuccessful"),
    "HTTPPartialContent": (206, "HTTPSuccessful"),
    "HTTPMultipleChoices": (300, "HTTPMove"),
    "HTTPMovedPermanently": (301, "HTTPMove"),
    "HTTPFound": (302, "HTTPMove"),
    "HTTPSeeOther": (303, "HTTPMove"),
    "HTTPNotModified": (304, "HTTPRedirection"),
    "HTTPUseProxy": (305, "HTTPMove"),
    "HTTPTemporaryRedirect": (307, "HTTPMove"),
    "HTTPPermanentRedirect": (308, "HTTPMove"),
    "HTTPBadRequest": (400, "HTTPClientError"),
    "HTTPUnauthorized": (401, "HTTPClientError"),
    "HTTPPaymentRequired": (402, "HTTPClientError"),
    "HTTPForbidden": (403, "HTTPClientError"),
    "HTTPNotFound": (404, "HTTPClientError"),
    "HTTPMethodNotAllowed": (405, "HTTPClientError"),
    "HTTPNotAcceptable": (406, "HTTPClientError"),
    "HTTPProxyAuthenticationRequired": (407, "HTTPClientError"),
    "HTTPRequestTimeout": (408, "HTTPClientError"),
    "HTTPConflict": (409, "HTTPClientError"),
    "HTTPGone": (410, "HTTPClientError"),
    "HTTPLengthRequired": (411, "HTTPClientError"),
    "HTTPPreconditionFailed": (412, "HTTPClientError"),
    "HTTPRequestEntityTooLarge": (413, "HTTPClientError"),
    "HTTPRequestURITooLong": (414, "HTTPClientError"),
    "HTTPUnsupportedMediaType": (415, "HTTPClientError"),
    "HTTPRequestRangeNotSatisfiable": (416, "HTTPClientError"),
    "HTTPExpectationFailed": (417, "HTTPClientError"),
    "HTTPMisdirectedRequest": (421, "HTTPClientError"),
    "HTTPUnprocessableEntity": (422, "HTTPClientError"),
    "HTTPFailedDependency": (424, "HTTPClientError"),
    "HTTPUpgradeRequired": (426, "HTTPClientError"),
    "HTTPPreconditionRequired": (428, "HTTPClientError"),
    "HTTPTooManyRequests": (429, "HTTPClientError"),
    "HTTPRequestHeaderFieldsTooLarge": (431, "HTTPClientError"),
    "HTTPUnavailableForLegalReasons": (451, "HTTPClientError"),
    "HTTPInternalServerError": (500, "HTTPServerError"),
    "HTTPNotImplemented": (501, "HTTPServerError"),
    "HTTPBadGateway": (502, "HTTPServerError"),
    "HTTPServiceUnavailable": (503, "HTTPServerError"),
    "HTTPGatewayTimeout": (504, "HTTPServerError"),
    "HTTPVersionNotSupported": (505, "HTTPServerError"),
    "HTTPVariantAlsoNegotiates": (506, "HTTPServerError"),
    "HTTPInsufficientStorage": (507, "HTTPServerError"),
    "HTTPNotExtended": (510, "HTTPServerError"),
    "HTTPNetworkAuthenticationRequired": (511, "HTTPServerError"),
}


def make(cls: type[exc.HTTPException], **kwargs: Any) -> exc.HTTPException:
    """An instance of any class, with the special positional arguments filled in."""
    if issubclass(cls, exc.HTTPMove):
        return cls("/elsewhere", **kwargs)
    if cls is exc.HTTPMethodNotAllowed:
        return cls("GET", ["POST"], **kwargs)
    if cls is exc.HTTPRequestEntityTooLarge:
        return cls(10, 20, **kwargs)
    if cls is exc.HTTPUnavailableForLegalReasons:
        return cls("https://blocker.example", **kwargs)
    return cls(**kwargs)


def test_every_documented_class_is_exported() -> None:
    assert set(EXPECTED) <= set(exc.__all__)
    categories = {
        "HTTPException",
        "HTTPError",
        "HTTPSuccessful",
        "HTTPRedirection",
        "HTTPMove",
        "HTTPClientError",
        "HTTPServerError",
    }
    assert set(exc.__all__) == set(EXPECTED) | categories


@pytest.mark.parametrize(("name", "spec"), sorted(EXPECTED.items()))
def test_status_parent_and_defaults(name: str, spec: tuple[int, str]) -> None:
    status, parent = spec
    cls = getattr(exc, name)
    assert cls.status_code == status
    assert issubclass(cls, getattr(exc, parent))
    assert issubclass(cls, exc.HTTPException)
    assert issubclass(cls, Exception) and issubclass(cls, Response)
    if status >= 400:
        assert issubclass(cls, exc.HTTPError)
    instance = make(cls)
    assert instance.status == status
    assert instance.reason == HTTPStatus(status).phrase
    assert str(instance) == instance.reason
    assert instance.args == (instance.reason,)
    assert instance.__http_exception__
    if cls.empty_body:
        assert instance.text is None and instance.body is None
    elif cls is not exc.HTTPRequestEntityTooLarge:
        assert instance.text == f"{status}: {instance.reason}"
        assert instance.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_empty_body_classes() -> None:
    assert {name for name, (status, _) in EXPECTED.items() if getattr(exc, name).empty_body} == {
        "HTTPNoContent",
        "HTTPResetContent",
        "HTTPNotModified",
    }


def test_raise_and_catch() -> None:
    with pytest.raises(exc.HTTPClientError) as info:
        raise exc.HTTPNotFound(reason="Nope", text="gone", headers={"X-A": "1"})
    error = info.value
    assert error.status == 404
    assert error.reason == "Nope"
    assert error.text == "gone"
    assert error.headers["X-A"] == "1"
    assert error.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_content_type_argument() -> None:
    error = exc.HTTPBadRequest(text="<b>no</b>", content_type="text/html")
    assert error.headers["Content-Type"] == "text/html; charset=utf-8"


def test_body_argument_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="body argument"):
        error = exc.HTTPBadRequest(body=b"raw")
    assert error.body == b"raw"


@pytest.mark.parametrize("cls", [exc.HTTPException, exc.HTTPError, exc.HTTPClientError])
def test_categories_cannot_be_instantiated(cls: type[exc.HTTPException]) -> None:
    with pytest.raises(TypeError, match="category"):
        cls()


def test_custom_subclass() -> None:
    class Teapot(exc.HTTPClientError):
        status_code = 418

    error = Teapot()
    assert error.text == "418: I'm a Teapot"


def test_redirect_location() -> None:
    error = exc.HTTPFound("/path with space?q=1")
    assert error.location == URL("/path with space?q=1")
    assert error.headers["Location"] == "/path%20with%20space?q=1"
    moved = exc.HTTPMovedPermanently(location=URL("https://example.com/x"))
    assert moved.headers["Location"] == "https://example.com/x"
    with pytest.raises(ValueError, match="location"):
        exc.HTTPSeeOther("")
    with pytest.raises(ValueError):
        exc.HTTPTemporaryRedirect(None)  # type: ignore[arg-type]


def test_not_modified_has_no_location() -> None:
    error = exc.HTTPNotModified()
    assert "Location" not in error.headers
    assert not isinstance(error, exc.HTTPMove)


def test_method_not_allowed() -> None:
    error = exc.HTTPMethodNotAllowed("patch", ["put", "GET", "POST", "GET"])
    assert error.method == "PATCH"
    assert error.allowed_methods == {"GET", "POST", "PUT"}
    assert error.headers["Allow"] == "GET,POST,PUT"
    assert error.text == "405: Method Not Allowed"
    assert exc.HTTPMethodNotAllowed("GET", []).headers["Allow"] == ""


def test_request_entity_too_large() -> None:
    error = exc.HTTPRequestEntityTooLarge(max_size=100, actual_size=150)
    assert error.max_size == 100 and error.actual_size == 150
    assert error.text == "Maximum request body size 100 exceeded, actual body size 150"
    custom = exc.HTTPRequestEntityTooLarge(1, 2, text="too big", reason="Big")
    assert custom.text == "too big" and custom.reason == "Big"


def test_unavailable_for_legal_reasons() -> None:
    error = exc.HTTPUnavailableForLegalReasons("https://gov.example/order", text="blocked")
    assert error.link == URL("https://gov.example/order")
    assert error.headers["Link"] == '<https://gov.example/order>; rel="blocked-by"'
    assert error.text == "blocked"
    unlinked = exc.HTTPUnavailableForLegalReasons(None)
    assert unlinked.link is None and "Link" not in unlinked.headers


def test_cookies_on_exceptions() -> None:
    error = exc.HTTPFound("/login")
    error.set_cookie("session", "", max_age=0, version="1")
    assert error.cookies["session"]["max-age"] == "0"
    error.del_cookie("other")
    assert "other" in error.cookies


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def write(self, data: Any) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False


class _Protocol:
    def __init__(self, transport: _Transport) -> None:
        self.transport = transport
        self.writing_paused = False

    async def _drain_helper(self) -> None:
        return None


async def send(response: StreamResponse, method: str = "GET") -> bytes:
    transport = _Transport()
    protocol = _Protocol(transport)
    writer = StreamWriter(protocol, asyncio.get_running_loop())  # type: ignore[arg-type]
    request = make_mocked_request(
        method, "/", writer=writer, protocol=protocol, transport=transport
    )
    await response.prepare(request)
    await response.write_eof()
    return bytes(transport.data)


async def test_exception_is_sent_as_a_response() -> None:
    data = await send(exc.HTTPNotFound())
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"\r\nContent-Length: 14\r\n" in head
    assert body == b"404: Not Found"


async def test_empty_body_exception_on_the_wire() -> None:
    data = await send(exc.HTTPNoContent(headers={"X-A": "1"}))
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert b"Content-Length" not in head and b"X-A: 1" in head
    assert body == b""


async def test_redirect_on_the_wire() -> None:
    data = await send(exc.HTTPFound("/next"))
    assert b"\r\nLocation: /next\r\n" in data
    assert data.startswith(b"HTTP/1.1 302 Found\r\n")
