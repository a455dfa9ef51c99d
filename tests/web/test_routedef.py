"""Tests of route definitions: ``web.get``/``post``/... and ``RouteTableDef``."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import pytest

from aiohyper.web import _routedef as web
from aiohyper.web._response import Response
from aiohyper.web._routedef import AbstractRouteDef, RouteDef, RouteTableDef, StaticDef
from aiohyper.web._urldispatcher import StaticResource, UrlDispatcher
from aiohyper.web._view import View


async def handler(request: Any) -> Response:
    return Response()


async def expect(request: Any) -> None:
    return None


class MyView(View):
    async def get(self) -> Response:
        return Response()


@pytest.fixture
def router() -> UrlDispatcher:
    return UrlDispatcher()


@pytest.mark.parametrize(
    ("factory", "method"),
    [
        (web.head, "HEAD"),
        (web.post, "POST"),
        (web.put, "PUT"),
        (web.patch, "PATCH"),
        (web.delete, "DELETE"),
        (web.options, "OPTIONS"),
    ],
)
def test_method_functions(router: UrlDispatcher, factory: Any, method: str) -> None:
    route_def = factory("/p", handler, name="n", expect_handler=expect)
    assert isinstance(route_def, RouteDef)
    assert route_def.method == method
    assert route_def.path == "/p"
    assert route_def.handler is handler
    assert route_def.kwargs == {"name": "n", "expect_handler": expect}
    routes = route_def.register(router)
    assert [r.method for r in routes] == [method]
    assert routes[0].name == "n"
    assert len(router.routes()) == 1


def test_get_adds_head(router: UrlDispatcher) -> None:
    route_def = web.get("/", handler, name="index")
    assert route_def.kwargs == {"name": "index", "allow_head": True}
    routes = router.add_routes([route_def])
    assert [r.method for r in routes] == ["GET"]
    assert {r.method for r in router.routes()} == {"GET", "HEAD"}


def test_get_without_head(router: UrlDispatcher) -> None:
    router.add_routes([web.get("/", handler, allow_head=False)])
    assert [r.method for r in router.routes()] == ["GET"]


def test_route_any_and_custom_methods(router: UrlDispatcher) -> None:
    routes = router.add_routes(
        [
            web.route("*", "/any", handler),
            web.route("PROPFIND", "/dav", handler),
            web.route("connect", "/tunnel", handler),
            web.route("get", "/lower", handler),
        ]
    )
    assert [r.method for r in routes] == ["*", "PROPFIND", "CONNECT", "GET"]
    # A lower case "get" still goes through add_get (HEAD added).
    assert len(router.routes()) == 5


def test_view_function(router: UrlDispatcher) -> None:
    route_def = web.view("/v", MyView)
    assert route_def.method == "*"
    (route,) = route_def.register(router)
    assert route.handler is MyView


def test_static_def(router: UrlDispatcher, tmp_path: pathlib.Path) -> None:
    static_def = web.static("/static", tmp_path, name="static", show_index=True)
    assert isinstance(static_def, StaticDef)
    assert static_def.prefix == "/static"
    assert static_def.path == tmp_path
    assert static_def.kwargs == {"name": "static", "show_index": True}
    assert repr(static_def) == f"<StaticDef /static -> {tmp_path}, name='static', show_index=True>"
    routes = static_def.register(router)
    assert sorted(r.method for r in routes) == ["GET", "HEAD"]
    resource = router["static"]
    assert isinstance(resource, StaticResource)
    assert resource._show_index


def test_route_def_repr_and_immutability() -> None:
    route_def = web.post("/p", handler, name="n")
    assert repr(route_def) == "<RouteDef POST /p -> 'handler', name='n'>"
    with pytest.raises(dataclasses.FrozenInstanceError):
        route_def.path = "/other"  # type: ignore[misc]
    assert route_def == web.post("/p", handler, name="n")


def test_abstract_route_def() -> None:
    with pytest.raises(TypeError):
        AbstractRouteDef()  # type: ignore[abstract]

    class Custom(AbstractRouteDef):
        def register(self, router: UrlDispatcher) -> list[Any]:
            return [router.add_get("/custom", handler)]

    router = UrlDispatcher()
    routes = router.add_routes([Custom()])
    assert routes[0].resource.canonical == "/custom"  # type: ignore[union-attr]


def test_route_table_def(router: UrlDispatcher, tmp_path: pathlib.Path) -> None:
    routes = RouteTableDef()
    assert repr(routes) == "<RouteTableDef count=0>"

    @routes.get("/get", name="g")
    async def get_handler(request: Any) -> Response:
        return Response()

    @routes.head("/head")
    @routes.post("/post")
    @routes.put("/put")
    @routes.patch("/patch")
    @routes.delete("/delete")
    @routes.options("/options")
    @routes.route("PROPFIND", "/dav", expect_handler=expect)
    async def many(request: Any) -> Response:
        return Response()

    @routes.view("/view")
    class Decorated(View):
        async def post(self) -> Response:
            return Response()

    routes.static("/static", tmp_path)

    # Decorators give the handler back unchanged.
    assert callable(get_handler) and get_handler.__name__ == "get_handler"
    assert issubclass(Decorated, View)
    assert len(routes) == 10
    assert repr(routes) == "<RouteTableDef count=10>"
    first = routes[0]
    assert isinstance(first, RouteDef)
    assert (first.method, first.path, first.kwargs) == ("GET", "/get", {"name": "g"})
    assert [d.method for d in routes[1:8]] == [  # type: ignore[attr-defined]
        "PROPFIND",
        "OPTIONS",
        "DELETE",
        "PATCH",
        "PUT",
        "POST",
        "HEAD",
    ]
    assert isinstance(routes[-1], StaticDef)
    assert first in routes
    assert next(iter(routes)) is first
    registered = router.add_routes(routes)
    assert len(registered) == 11  # 8 routes (GET without its HEAD) + 1 view + 2 static
    assert len(router.routes()) == 12
    assert str(router["g"].url_for()) == "/get"


def test_route_table_def_is_a_sequence() -> None:
    from collections.abc import Sequence

    assert isinstance(RouteTableDef(), Sequence)
