"""Tests of ``middleware`` and ``normalize_path_middleware``."""

from __future__ import annotations

from typing import Any

import pytest
from yarl import URL

from aiohyper.test_utils import make_mocked_request
from aiohyper.web._app import Application
from aiohyper.web._exceptions import (
    HTTPMethodNotAllowed,
    HTTPMovedPermanently,
    HTTPNotFound,
    HTTPPermanentRedirect,
)
from aiohyper.web._middlewares import middleware, normalize_path_middleware
from aiohyper.web._request import Request
from aiohyper.web._response import Response


async def ok(request: Request) -> Response:
    return Response(text=request.path)


def make_app(*paths: str, **options: Any) -> Application:
    app = Application(middlewares=[normalize_path_middleware(**options)])
    for path in paths:
        app.router.add_get(path, ok)
    app.freeze()
    return app


def request_for(app: Application, method: str, target: str) -> Request:
    # Built like the server does: a target starting with "//" is a path, not an authority.
    path, _, query = target.partition("?")
    url = URL.build(path=path, query_string=query, encoded=True)
    return make_mocked_request(method, "/", app=app).clone(rel_url=url)


async def location_for(app: Application, path: str, method: str = "GET") -> str | None:
    """The redirect target for ``path``, or ``None`` when the handler ran."""
    try:
        await app._handle(request_for(app, method, path))
    except (HTTPPermanentRedirect, HTTPMovedPermanently) as exc:
        return str(exc.headers["Location"])
    return None


def test_middleware_marker() -> None:
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)

    assert middleware(mw) is mw
    assert mw.__middleware_version__ == 1  # type: ignore[attr-defined]

    class Holder:
        async def method(self, request: Any, handler: Any) -> Any:
            return await handler(request)

    bound = Holder().method
    assert middleware(bound) is bound


def test_append_and_remove_are_exclusive() -> None:
    with pytest.raises(AssertionError):
        normalize_path_middleware(append_slash=True, remove_slash=True)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a", "/a/"),
        ("/a?x=1&y=2", "/a/?x=1&y=2"),
        ("//a", "/a/"),
        ("/a//b", "/a/b/"),
        ("/a///b/", "/a/b/"),
        ("/caf%C3%A9", "/caf%C3%A9/"),
    ],
)
async def test_append_slash(path: str, expected: str) -> None:
    app = make_app("/a/", "/a/b/", "/café/")
    assert await location_for(app, path) == expected


async def test_resolving_path_is_not_redirected() -> None:
    app = make_app("/a/", "/b")
    assert await location_for(app, "/a/") is None
    assert await location_for(app, "/b") is None


async def test_nothing_resolves_keeps_the_404() -> None:
    app = make_app("/a/")
    with pytest.raises(HTTPNotFound):
        await location_for(app, "/zzz")


async def test_merge_slashes_alone() -> None:
    app = make_app("/a/b", append_slash=False)
    assert await location_for(app, "//a//b") == "/a/b"
    with pytest.raises(HTTPNotFound):
        await location_for(app, "/a/b/")


async def test_merge_is_tried_before_append() -> None:
    app = make_app("/a/b", "/a/b/")
    assert await location_for(app, "/a//b") == "/a/b"


async def test_remove_slash() -> None:
    app = make_app("/a", "/a/b", append_slash=False, remove_slash=True)
    assert await location_for(app, "/a/") == "/a"
    assert await location_for(app, "/a//b/") == "/a/b"
    with pytest.raises(HTTPNotFound):
        await location_for(app, "/")


async def test_merge_disabled() -> None:
    app = make_app("/a/b/", merge_slashes=False)
    with pytest.raises(HTTPNotFound):
        await location_for(app, "/a//b")


async def test_redirect_class() -> None:
    app = make_app("/a/", redirect_class=HTTPMovedPermanently)
    with pytest.raises(HTTPMovedPermanently) as info:
        await app._handle(make_mocked_request("GET", "/a", app=app))
    assert info.value.status == 301


async def test_no_protocol_relative_redirect() -> None:
    # "//evil.com/" must never become the Location: browsers would leave the site.
    app = make_app("/evil.com/", merge_slashes=False)
    assert await location_for(app, "//evil.com") == "/evil.com/"


async def test_method_not_allowed_can_redirect_to_a_matching_path() -> None:
    app = Application(middlewares=[normalize_path_middleware()])
    app.router.add_post("/form/", ok)
    app.router.add_get("/form", ok)
    app.freeze()
    assert await location_for(app, "/form", method="POST") == "/form/"
    with pytest.raises(HTTPMethodNotAllowed):
        await location_for(app, "/form/", method="GET")


async def test_in_subapp_uses_subapp_router() -> None:
    app = Application()
    sub = Application(middlewares=[normalize_path_middleware()])
    sub.router.add_get("/page/", ok)
    app.add_subapp("/sub", sub)
    app.freeze()
    assert await location_for(app, "/sub/page") == "/sub/page/"


async def test_handler_runs_normally() -> None:
    app = make_app("/a/")
    response = await app._handle(make_mocked_request("GET", "/a/", app=app))
    assert isinstance(response, Response)
    assert response.text == "/a/"
