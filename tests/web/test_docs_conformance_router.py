"""Documented behaviour of routing (web_reference.rst: ``UrlDispatcher``, resources, routes,
``RouteDef``/``StaticDef``/``RouteTableDef``, ``UrlMappingMatchInfo``, ``View``,
``normalize_path_middleware``; web_quickstart.rst: handlers, variable resources, named
resources, class based views, alternative route definitions; web_advanced.rst: static files,
custom routing criteria, Unicode)."""

from __future__ import annotations

import pathlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import Any

import pytest
from yarl import URL

from aiohyper import web
from aiohyper.test_utils import TestClient, TestServer, make_mocked_request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(app, **kwargs)) as client:
        yield client


def text_handler(text: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=text)

    return handler


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello, world")


# -- UrlDispatcher -----------------------------------------------------------------------------


def test_add_resource_returns_plain_or_dynamic() -> None:
    router = web.Application().router
    plain = router.add_resource("/a/b/c", name="plain")
    dynamic = router.add_resource("/a/{var}", name="dynamic")
    assert isinstance(plain, web.PlainResource) and isinstance(plain, web.Resource)
    assert isinstance(dynamic, web.DynamicResource)
    assert plain.name == "plain" and router["plain"] is plain
    assert "dynamic" in router and len(router) == 2
    assert router.add_resource("/nameless").name is None


def test_add_route_method_is_case_insensitive_and_any() -> None:
    router = web.Application().router
    route = router.add_route("get", "/x", hello)
    assert isinstance(route, web.AbstractRoute) and isinstance(route, web.ResourceRoute)
    assert route.method == "GET" and route.handler is hello
    any_route = router.add_route("*", "/any", hello)
    assert any_route.method == "*"
    with pytest.raises(ValueError):
        router.add_route("GET", "no-leading-slash", hello)


def test_add_route_is_a_shortcut_for_add_resource_add_route() -> None:
    router = web.Application().router
    route = router.add_route("POST", "/p", hello, name="p")
    assert route.resource is router["p"]
    assert route.name == "p" and route.resource is not None and route.resource.name == "p"


@pytest.mark.parametrize(
    ("method_name", "http_method"),
    [
        ("add_post", "POST"),
        ("add_head", "HEAD"),
        ("add_put", "PUT"),
        ("add_patch", "PATCH"),
        ("add_delete", "DELETE"),
        ("add_view", "*"),
    ],
)
def test_add_shortcuts(method_name: str, http_method: str) -> None:
    router = web.Application().router
    route = getattr(router, method_name)("/path", hello, name="n")
    assert route.method == http_method and route.name == "n"


def test_add_get_adds_head_unless_allow_head_false() -> None:
    router = web.Application().router
    route = router.add_get("/g", hello, name="route")
    assert route.method == "GET"
    assert {r.method for r in router["route"]} == {"GET", "HEAD"}
    router.add_get("/nohead", hello, allow_head=False, name="nohead")
    assert {r.method for r in router["nohead"]} == {"GET"}


async def test_head_route_behaviour_over_http() -> None:
    """web_quickstart.rst: allow_head=False makes HEAD a 405."""
    app = web.Application()
    app.add_routes([web.get("/", hello), web.get("/nohead", hello, allow_head=False)])
    async with serve(app) as client:
        resp = await client.head("/")
        assert resp.status == 200 and resp.headers["Content-Length"] == "12"
        resp = await client.head("/nohead")
        assert resp.status == 405 and resp.headers["Allow"] == "GET"


def test_routes_resources_and_named_resources_views() -> None:
    router = web.Application().router
    router.add_get("/a", hello, name="a")
    router.add_post("/b", hello)
    resources = router.resources()
    assert len(resources) == 2
    assert router["a"] in resources
    assert [str(r.canonical) for r in resources] == ["/a", "/b"]
    routes = router.routes()
    assert len(routes) == 3 and {r.method for r in routes} == {"GET", "HEAD", "POST"}
    named = router.named_resources()
    assert isinstance(named, MappingProxyType)
    assert dict(named) == {"a": router["a"]} and "a" in named and len(named) == 1
    with pytest.raises(TypeError):
        named["x"] = router["a"]  # type: ignore[index]


def test_add_routes_returns_list_of_routes() -> None:
    router = web.Application().router
    routes = router.add_routes([web.get("/get", hello), web.post("/post", hello)])
    assert isinstance(routes, list)
    assert [r.method for r in routes] == ["GET", "POST"]


def test_router_merges_routes_for_the_same_path() -> None:
    """web_quickstart.rst "Resources and Routes": one resource for consecutive additions."""
    app = web.Application()
    app.add_routes(
        [
            web.get("/path1", hello),
            web.post("/path1", hello),
            web.get("/path2", hello),
            web.post("/path2", hello),
        ]
    )
    assert len(app.router.resources()) == 2


def test_same_method_twice_on_a_resource_is_an_error() -> None:
    resource = web.Application().router.add_resource("/x")
    resource.add_route("GET", hello)
    with pytest.raises(RuntimeError):
        resource.add_route("get", hello)


async def test_resolve_never_raises_but_returns_error_match_info() -> None:
    router = web.Application().router
    router.add_post("/only-post", hello)
    not_found = await router.resolve(make_mocked_request("GET", "/missing"))
    assert isinstance(not_found.http_exception, web.HTTPNotFound)
    with pytest.raises(web.HTTPNotFound):
        await not_found.handler(make_mocked_request("GET", "/missing"))
    not_allowed = await router.resolve(make_mocked_request("GET", "/only-post"))
    exc = not_allowed.http_exception
    assert isinstance(exc, web.HTTPMethodNotAllowed)
    assert exc.allowed_methods == {"POST"} and exc.method == "GET"
    with pytest.raises(web.HTTPMethodNotAllowed):
        await not_allowed.handler(make_mocked_request("GET", "/only-post"))
    route = not_allowed.route
    assert isinstance(route, web.SystemRoute)
    assert route.status == 405 and route.reason == "Method Not Allowed"
    assert route.resource is None
    found = await router.resolve(make_mocked_request("POST", "/only-post"))
    assert found.http_exception is None and found.handler is hello


async def test_resolve_uses_raw_path_and_fixed_paths_win() -> None:
    app = web.Application()
    app.router.add_get("/a/{name}", text_handler("variable"))
    app.router.add_get("/a/b", text_handler("fixed"))
    app.router.add_get("/users/{x}/{y}/z", text_handler("first"))
    app.router.add_get("/users/{x}/y/z", text_handler("second"))
    async with serve(app) as client:
        assert await (await client.get("/a/b")).text() == "fixed"
        assert await (await client.get("/a/c")).text() == "variable"
        # Same fixed prefix: registration order.
        assert await (await client.get("/users/1/y/z")).text() == "first"


# -- variable resources ----------------------------------------------------------------------


async def test_variable_resources() -> None:
    routes = web.RouteTableDef()

    @routes.get("/{name}")
    async def variable_handler(request: web.Request) -> web.Response:
        return web.Response(text="Hello, {}".format(request.match_info["name"]))

    @routes.get(r"/num/{n:\d+}")
    async def number(request: web.Request) -> web.Response:
        return web.Response(text=request.match_info["n"])

    app = web.Application()
    app.router.add_get("/a/{name}/c", text_handler("abc"))
    app.add_routes(routes)
    async with serve(app) as client:
        assert await (await client.get("/john")).text() == "Hello, john"
        for path in ("/a/b/c", "/a/1/c", "/a/etc/c"):
            assert await (await client.get(path)).text() == "abc"
        assert await (await client.get("/num/42")).text() == "42"
        assert (await client.get("/num/x42")).status == 404
        # The default part regex [^{}/]+ does not match across slashes.
        assert (await client.get("/a/b/x/c")).status == 404


async def test_unicode_paths_are_requoted() -> None:
    """web_advanced.rst "Unicode support"."""
    app = web.Application()
    app.router.add_get("/путь", text_handler("plain"))
    app.router.add_get("/var/{name}", text_handler("var"))

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.match_info["name"])

    app.router.add_get("/echo/{name}", echo)
    async with serve(app) as client:
        assert await (await client.get("/путь")).text() == "plain"
        assert await (await client.get("/%D0%BF%D1%83%D1%82%D1%8C")).text() == "plain"
        assert await (await client.get("/echo/имя")).text() == "имя"


# -- named resources and URL building ------------------------------------------------------------


def test_named_resource_url_building_examples() -> None:
    routes = web.RouteTableDef()

    @routes.get("/root", name="root")
    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.add_routes(routes)
    url = app.router["root"].url_for().with_query({"a": "b", "c": "d"})
    assert url == URL("/root?a=b&c=d")

    app.router.add_resource(r"/{user}/info", name="user-info")
    url = app.router["user-info"].url_for(user="john_doe")
    url_with_qs = url.with_query("a=b")
    assert str(url_with_qs) == "/john_doe/info?a=b"
    assert url_with_qs == URL("/john_doe/info?a=b")


def test_resource_canonical_get_info_and_url_for() -> None:
    router = web.Application().router
    plain = router.add_resource("/path/to")
    assert plain.canonical == "/path/to"
    assert plain.get_info() == {"path": "/path/to"}
    assert plain.url_for() == URL("/path/to")
    dynamic = router.add_resource(r"/get/{num:^\d+}")
    assert dynamic.canonical == "/get/{num}"
    dyn2 = router.add_resource("/path/{to}/{param}")
    info = dyn2.get_info()
    assert info["formatter"] == "/path/{to}/{param}"
    assert isinstance(info["pattern"], re.Pattern)
    assert dyn2.url_for(to="val1", param="val2") == URL("/path/val1/val2")


def test_resources_are_sized_iterables_of_routes() -> None:
    router = web.Application().router
    router.add_get("/r", hello, name="r")
    resource = router["r"]
    assert len(resource) == 2
    assert {route.method for route in resource} == {"GET", "HEAD"}
    route = next(iter(resource))
    assert route.name == "r"  # always the name of the owning resource
    assert route.url_for() == resource.url_for() == URL("/r")


async def test_route_handle_expect_header_default() -> None:
    router = web.Application().router
    route = router.add_post("/e", hello)
    request = make_mocked_request("POST", "/e", headers={"Expect": "100-continue"})
    assert await route.handle_expect_header(request) is None
    bad = make_mocked_request("POST", "/e", headers={"Expect": "nope"})
    with pytest.raises(web.HTTPExpectationFailed):
        await route.handle_expect_header(bad)


async def test_url_mapping_match_info() -> None:
    router = web.Application().router
    route = router.add_get("/users/{id}", hello)
    match_info = await router.resolve(make_mocked_request("GET", "/users/7"))
    assert isinstance(match_info, web.UrlMappingMatchInfo)
    assert isinstance(match_info, dict) and dict(match_info) == {"id": "7"}
    assert match_info.handler is hello and match_info.route is route
    assert callable(match_info.expect_handler)
    assert match_info.http_exception is None


# -- static ---------------------------------------------------------------------------------


@pytest.fixture
def static_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "static"
    root.mkdir()
    (root / "dir").mkdir()
    (root / "dir" / "file.txt").write_text("content")
    (root / "style.css").write_text("body {}")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (root / "escape").symlink_to(outside)
    (root / "inner").symlink_to(root / "style.css")
    return root


async def test_static_files_default_options(static_dir: pathlib.Path) -> None:
    app = web.Application()
    app.add_routes([web.static("/prefix", static_dir)])
    async with serve(app) as client:
        resp = await client.get("/prefix/dir/file.txt")
        assert resp.status == 200 and await resp.text() == "content"
        assert resp.headers["Content-Type"] == "text/plain"
        assert (await client.get("/prefix/style.css")).headers["Content-Type"] == "text/css"
        assert (await client.get("/prefix/dir")).status == 403  # no index by default
        assert (await client.get("/prefix/escape")).status == 404  # symlink outside
        assert (await client.get("/prefix/inner")).status == 200  # symlink inside
        assert (await client.get("/prefix/../outside.txt")).status in (403, 404)
        assert (await client.get("/prefix/missing")).status == 404
        resp = await client.head("/prefix/style.css")
        assert resp.status == 200 and resp.headers["Content-Length"] == "7"


async def test_static_show_index_and_follow_symlinks(static_dir: pathlib.Path) -> None:
    app = web.Application()
    routes = web.RouteTableDef()
    routes.static("/idx", static_dir, show_index=True)
    routes.static("/follow", static_dir, follow_symlinks=True)
    app.add_routes(routes)
    async with serve(app) as client:
        resp = await client.get("/idx/dir")
        assert resp.status == 200 and resp.content_type == "text/html"
        assert "file.txt" in await resp.text()
        resp = await client.get("/follow/escape")
        assert resp.status == 200 and await resp.text() == "secret"


def test_static_resource_url_for_and_append_version(static_dir: pathlib.Path) -> None:
    app = web.Application()
    resource = app.router.add_static("/prefix", static_dir, name="static")
    assert isinstance(resource, web.StaticResource)
    assert resource.canonical == "/prefix"
    assert resource.url_for(filename="dir/file.txt") == URL("/prefix/dir/file.txt")
    assert resource.url_for(filename=pathlib.Path("dir/file.txt")) == URL("/prefix/dir/file.txt")
    versioned = resource.url_for(filename="style.css", append_version=True)
    assert versioned.path == "/prefix/style.css" and versioned.query.get("v")
    # A missing file: no version.
    assert resource.url_for(filename="nope.css", append_version=True) == URL("/prefix/nope.css")
    default_on = app.router.add_static("/v", static_dir, append_version=True)
    assert "v" in default_on.url_for(filename="style.css").query
    assert "v" not in default_on.url_for(filename="style.css", append_version=False).query


def test_add_static_rejects_a_missing_directory(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError):
        web.Application().router.add_static("/s", tmp_path / "missing")


def test_static_def_attributes(static_dir: pathlib.Path) -> None:
    definition = web.static("/prefix", static_dir, show_index=True)
    assert isinstance(definition, web.StaticDef) and isinstance(definition, web.AbstractRouteDef)
    assert definition.prefix == "/prefix" and definition.path == static_dir
    assert definition.kwargs == {"show_index": True}
    routes = web.Application().router.add_routes([definition])
    assert {route.method for route in routes} == {"GET", "HEAD"}


# -- RouteDef / RouteTableDef ----------------------------------------------------------------


def test_route_def_functions() -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.Response()

    for factory, method in [
        (web.get, "GET"),
        (web.post, "POST"),
        (web.head, "HEAD"),
        (web.put, "PUT"),
        (web.patch, "PATCH"),
        (web.delete, "DELETE"),
        (web.view, "*"),
    ]:
        definition = factory("/path/{x}", handle, name="n")
        assert isinstance(definition, web.RouteDef)
        assert isinstance(definition, web.AbstractRouteDef)
        assert (definition.method, definition.path, definition.handler) == (
            method,
            "/path/{x}",
            handle,
        )
        assert definition.kwargs["name"] == "n"
    definition = web.route("OPTIONS", "/o", handle)
    assert definition.method == "OPTIONS"
    router = web.Application().router
    registered = definition.register(router)
    assert isinstance(registered, list) and registered[0].method == "OPTIONS"


async def test_route_table_def_decorators_and_sequence() -> None:
    routes = web.RouteTableDef()

    @routes.get("/get")
    async def handle_get(request: web.Request) -> web.Response:
        return web.Response(text="get")

    @routes.post("/post")
    async def handle_post(request: web.Request) -> web.Response:
        return web.Response(text="post")

    @routes.route("*", "/any")
    async def all_handler(request: web.Request) -> web.Response:
        return web.Response(text=request.method)

    @routes.view("/view")
    class MyView(web.View):
        async def get(self) -> web.Response:
            return web.Response(text="view get")

        async def post(self) -> web.Response:
            return web.Response(text="view post")

    # The decorators return the handler itself.
    assert handle_get.__name__ == "handle_get" and issubclass(MyView, web.View)
    assert len(routes) == 4
    assert isinstance(routes[0], web.RouteDef) and routes[0].path == "/get"
    assert [d.method for d in routes] == ["GET", "POST", "*", "*"]  # type: ignore[attr-defined]
    assert routes[0] in routes

    app = web.Application()
    app.router.add_routes(routes)
    async with serve(app) as client:
        assert await (await client.get("/get")).text() == "get"
        assert await (await client.post("/post")).text() == "post"
        assert await (await client.put("/any")).text() == "PUT"
        assert await (await client.get("/view")).text() == "view get"
        assert await (await client.post("/view")).text() == "view post"
        resp = await client.delete("/view")
        assert resp.status == 405
        assert set(resp.headers["Allow"].split(",")) == {"GET", "POST"}


def test_route_table_def_methods_pass_keywords() -> None:
    routes = web.RouteTableDef()
    for name in ("head", "put", "patch", "delete"):
        getattr(routes, name)(f"/{name}", name=name)(hello)
    routes.get("/g", allow_head=False, name="g")(hello)
    app = web.Application()
    app.add_routes(routes)
    assert {r.method for r in app.router["g"]} == {"GET"}
    for name in ("head", "put", "patch", "delete"):
        assert {r.method for r in app.router[name]} == {name.upper()}


# -- handlers organised in classes, class based views ------------------------------------------


async def test_handler_methods_of_a_class() -> None:
    class Handler:
        async def handle_intro(self, request: web.Request) -> web.Response:
            return web.Response(text="Hello, world")

        async def handle_greeting(self, request: web.Request) -> web.Response:
            name = request.match_info.get("name", "Anonymous")
            txt = f"Hello, {name}"
            return web.Response(text=txt)

    handler = Handler()
    app = web.Application()
    app.add_routes(
        [
            web.get("/intro", handler.handle_intro),
            web.get("/greet/{name}", handler.handle_greeting),
        ]
    )
    async with serve(app) as client:
        assert await (await client.get("/intro")).text() == "Hello, world"
        assert await (await client.get("/greet/ann")).text() == "Hello, ann"


@pytest.mark.parametrize("style", ["add_routes", "add_route", "add_view"])
async def test_class_based_views(style: str) -> None:
    class MyView(web.View):
        async def get(self) -> web.Response:
            assert isinstance(self.request, web.Request)
            return web.Response(text="get " + self.request.path)

        async def post(self) -> web.Response:
            return web.Response(text="post")

    app = web.Application()
    if style == "add_routes":
        app.add_routes([web.view("/path/to", MyView)])
    elif style == "add_route":
        app.router.add_route("*", "/path/to", MyView)
    else:
        app.router.add_view("/path/to", MyView)
    async with serve(app) as client:
        assert await (await client.get("/path/to")).text() == "get /path/to"
        assert await (await client.post("/path/to")).text() == "post"
        resp = await client.put("/path/to")
        assert resp.status == 405
        assert set(resp.headers["Allow"].split(",")) == {"GET", "POST"}


def test_view_request_attribute() -> None:
    request = make_mocked_request("GET", "/")
    view = web.View(request)
    assert view.request is request
    with pytest.raises(AttributeError):
        view.request = request  # type: ignore[misc]


async def test_view_raises_http_method_not_allowed() -> None:
    class OnlyGet(web.View):
        async def get(self) -> web.Response:
            return web.Response()

    with pytest.raises(web.HTTPMethodNotAllowed) as info:
        await OnlyGet(make_mocked_request("PATCH", "/"))
    assert info.value.allowed_methods == {"GET"}


# -- custom routing criteria (web_advanced.rst) ---------------------------------------------


async def test_accept_chooser_example() -> None:
    class AcceptChooser:
        def __init__(self) -> None:
            self._accepts: dict[str, Handler] = {}

        async def do_route(self, request: web.Request) -> web.StreamResponse:
            for accept in request.headers.getall("ACCEPT", []):
                acceptor = self._accepts.get(accept)
                if acceptor is not None:
                    return await acceptor(request)
            raise web.HTTPNotAcceptable()

        def reg_acceptor(self, accept: str, handler: Handler) -> None:
            self._accepts[accept] = handler

    chooser = AcceptChooser()
    app = web.Application()
    app.add_routes([web.get("/", chooser.do_route)])
    chooser.reg_acceptor("application/json", text_handler("json"))
    chooser.reg_acceptor("application/xml", text_handler("xml"))
    async with serve(app) as client:
        assert await (await client.get("/", headers={"Accept": "application/json"})).text() == (
            "json"
        )
        assert await (await client.get("/", headers={"Accept": "application/xml"})).text() == (
            "xml"
        )
        assert (await client.get("/", headers={"Accept": "text/html"})).status == 406


# -- normalize_path_middleware -----------------------------------------------------------------


async def test_normalize_path_append_slash_and_merge() -> None:
    app = web.Application(middlewares=[web.normalize_path_middleware()])
    app.router.add_get("/resource/", text_handler("slash"))
    app.router.add_get("/a/b", text_handler("ab"))
    async with serve(app) as client:
        resp = await client.get("/resource?x=1", allow_redirects=False)
        assert resp.status == 308  # HTTPPermanentRedirect by default
        assert resp.headers["Location"] == "/resource/?x=1"
        resp = await client.get("/a//b", allow_redirects=False)
        assert resp.status == 308 and resp.headers["Location"] == "/a/b"
        # merge_slashes first, then append_slash, then both.
        resp = await client.get("/resource//", allow_redirects=False)
        assert resp.status == 308 and resp.headers["Location"] == "/resource/"
        resp = await client.get("/a//b/", allow_redirects=False)
        assert resp.status == 404  # neither /a/b/ nor /a//b/ nor /a/b// is routed
        assert await (await client.get("/resource")).text() == "slash"
        assert (await client.get("/nowhere", allow_redirects=False)).status == 404


async def test_normalize_path_remove_slash_and_redirect_class() -> None:
    app = web.Application(
        middlewares=[
            web.normalize_path_middleware(
                append_slash=False, remove_slash=True, redirect_class=web.HTTPFound
            )
        ]
    )
    app.router.add_get("/resource", text_handler("noslash"))
    async with serve(app) as client:
        resp = await client.get("/resource/", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/resource"
        resp = await client.get("/resource//", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/resource"


async def test_normalize_path_merge_slashes_off() -> None:
    app = web.Application(middlewares=[web.normalize_path_middleware(merge_slashes=False)])
    app.router.add_get("/a/b/", text_handler("ab"))
    async with serve(app) as client:
        assert (await client.get("/a//b", allow_redirects=False)).status == 404
        resp = await client.get("/a/b", allow_redirects=False)
        assert resp.status == 308 and resp.headers["Location"] == "/a/b/"


def test_normalize_path_refuses_both_append_and_remove() -> None:
    with pytest.raises(AssertionError):
        web.normalize_path_middleware(append_slash=True, remove_slash=True)
