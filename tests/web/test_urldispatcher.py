"""Tests of the default router: resources, routes, match infos and resolution order."""

from __future__ import annotations

import base64
import hashlib
import pathlib
import re
from types import MappingProxyType
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper import hdrs
from aiohyper._http._message import HttpVersion
from aiohyper.abc import AbstractView
from aiohyper.test_utils import make_mocked_request
from aiohyper.web._app import Application
from aiohyper.web._exceptions import (
    HTTPExpectationFailed,
    HTTPForbidden,
    HTTPMethodNotAllowed,
    HTTPNotFound,
)
from aiohyper.web._fileresponse import FileResponse
from aiohyper.web._response import Response
from aiohyper.web._urldispatcher import (
    AbstractResource,
    Domain,
    DynamicResource,
    MaskDomain,
    MatchedSubAppResource,
    MatchInfoError,
    PlainResource,
    PrefixedSubAppResource,
    ResourceRoute,
    StaticResource,
    SystemRoute,
    UrlDispatcher,
    UrlMappingMatchInfo,
    _default_expect_handler,
)
from aiohyper.web._view import View


def req(method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return make_mocked_request(method, path, headers, **kw)


async def handler(request: Any) -> Response:
    return Response(text="ok")


async def other(request: Any) -> Response:
    return Response(text="other")


async def resolve(router: UrlDispatcher, method: str, path: str, **kw: Any) -> UrlMappingMatchInfo:
    return await router.resolve(req(method, path, **kw))


@pytest.fixture
def router() -> UrlDispatcher:
    return UrlDispatcher()


# -- plain resources and methods ------------------------------------------------------------------


async def test_plain_route_resolves(router: UrlDispatcher) -> None:
    route = router.add_route("GET", "/a/b", handler)
    info = await resolve(router, "GET", "/a/b")
    assert info.route is route
    assert info.handler is handler
    assert info == {}
    assert info.http_exception is None
    assert route.method == "GET"
    assert isinstance(route.resource, PlainResource)
    assert route.resource.canonical == "/a/b"
    assert info.get_info() == {"path": "/a/b"}


async def test_method_is_case_insensitive(router: UrlDispatcher) -> None:
    route = router.add_route("post", "/", handler)
    assert route.method == "POST"
    assert (await resolve(router, "POST", "/")).route is route


@pytest.mark.parametrize("method", ["GE T", "GET\r\n", "", "(GET)"])
def test_invalid_method(router: UrlDispatcher, method: str) -> None:
    with pytest.raises(ValueError, match="not an allowed HTTP method"):
        router.add_route(method, "/", handler)


def test_path_must_start_with_slash(router: UrlDispatcher) -> None:
    with pytest.raises(ValueError):
        router.add_get("a", handler)


async def test_not_found(router: UrlDispatcher) -> None:
    router.add_get("/a", handler)
    info = await resolve(router, "GET", "/b")
    assert isinstance(info, MatchInfoError)
    assert isinstance(info.http_exception, HTTPNotFound)
    assert isinstance(info.route, SystemRoute)
    assert info.route.status == 404
    assert info.route.reason == "Not Found"
    assert info.route.name is None
    assert info.route.resource is None
    assert repr(info) == "<MatchInfoError 404: Not Found>"
    with pytest.raises(HTTPNotFound):
        await info.handler(req("GET", "/b"))
    with pytest.raises(RuntimeError):
        info.route.url_for()


async def test_method_not_allowed_lists_every_matching_resource(router: UrlDispatcher) -> None:
    router.add_get("/a", handler)
    router.add_get("/other", handler)
    # A second resource for the same path (not consecutive: not merged with the first).
    router.add_post("/a", handler)
    router.add_route("PUT", "/{name}", handler)
    assert len(router.resources()) == 4
    info = await resolve(router, "DELETE", "/a")
    exc = info.http_exception
    assert isinstance(exc, HTTPMethodNotAllowed)
    assert exc.allowed_methods == {"GET", "HEAD", "POST", "PUT"}
    assert exc.headers[hdrs.ALLOW] == "GET,HEAD,POST,PUT"
    assert exc.method == "DELETE"
    with pytest.raises(HTTPMethodNotAllowed):
        await info.handler(req("DELETE", "/a"))
    # POST on /a is served by the second resource.
    assert (await resolve(router, "POST", "/a")).http_exception is None


async def test_add_get_adds_head(router: UrlDispatcher) -> None:
    route = router.add_get("/", handler, name="index")
    assert route.method == "GET"
    head = await resolve(router, "HEAD", "/")
    assert head.http_exception is None
    assert head.route.method == "HEAD"
    assert head.route.name == "index"
    assert head.route.resource is route.resource
    assert len(router.routes()) == 2


async def test_add_get_without_head(router: UrlDispatcher) -> None:
    router.add_get("/", handler, allow_head=False)
    info = await resolve(router, "HEAD", "/")
    assert isinstance(info.http_exception, HTTPMethodNotAllowed)
    assert info.http_exception.allowed_methods == {"GET"}


@pytest.mark.parametrize(
    ("add", "method"),
    [
        ("add_post", "POST"),
        ("add_put", "PUT"),
        ("add_patch", "PATCH"),
        ("add_delete", "DELETE"),
        ("add_head", "HEAD"),
        ("add_options", "OPTIONS"),
    ],
)
async def test_method_shortcuts(router: UrlDispatcher, add: str, method: str) -> None:
    route = getattr(router, add)("/x", handler, name="x")
    assert route.method == method
    assert route.name == "x"
    assert (await resolve(router, method, "/x")).route is route
    assert (await resolve(router, "GET", "/x")).http_exception is not None


async def test_any_method_route(router: UrlDispatcher) -> None:
    route = router.add_route("*", "/any", handler)
    for method in ("GET", "POST", "PROPFIND"):
        assert (await resolve(router, method, "/any")).route is route


async def test_specific_method_wins_over_any(router: UrlDispatcher) -> None:
    resource = router.add_resource("/r")
    get = resource.add_route("GET", handler)
    anything = resource.add_route("*", other)
    assert (await resolve(router, "GET", "/r")).route is get
    assert (await resolve(router, "POST", "/r")).route is anything


def test_duplicate_method_is_refused(router: UrlDispatcher) -> None:
    resource = router.add_resource("/r")
    resource.add_route("GET", handler)
    with pytest.raises(RuntimeError, match="will never be executed"):
        resource.add_route("get", other)


def test_method_after_any_is_refused(router: UrlDispatcher) -> None:
    resource = router.add_resource("/r")
    resource.add_route("*", handler)
    with pytest.raises(RuntimeError, match="will never be executed"):
        resource.add_route("POST", other)


def test_consecutive_routes_share_resource(router: UrlDispatcher) -> None:
    r1 = router.add_get("/p", handler)
    r2 = router.add_post("/p", handler)
    assert r1.resource is r2.resource
    # A different name means a different resource.
    r3 = router.add_put("/p", handler, name="named")
    assert r3.resource is not r1.resource
    assert len(router.resources()) == 2
    assert len(r1.resource) == 3  # type: ignore[arg-type]
    assert [r.method for r in r1.resource] == ["HEAD", "GET", "POST"]  # type: ignore[union-attr]


async def test_empty_path_matches_root(router: UrlDispatcher) -> None:
    route = router.add_get("", handler)
    assert (await resolve(router, "GET", "/")).route is route


async def test_trailing_slash_is_significant(router: UrlDispatcher) -> None:
    router.add_get("/a/", handler)
    assert (await resolve(router, "GET", "/a/")).http_exception is None
    assert isinstance((await resolve(router, "GET", "/a")).http_exception, HTTPNotFound)


# -- handlers -------------------------------------------------------------------------------------


def test_handler_must_be_callable(router: UrlDispatcher) -> None:
    with pytest.raises(TypeError):
        router.add_get("/", "not callable")  # type: ignore[arg-type]


def test_handler_class_must_be_a_view(router: UrlDispatcher) -> None:
    with pytest.raises(TypeError):
        router.add_get("/", int)  # type: ignore[arg-type]


async def test_plain_function_handler_is_deprecated_but_works(router: UrlDispatcher) -> None:
    def sync_handler(request: Any) -> Response:
        return Response(text="sync")

    with pytest.warns(DeprecationWarning, match="coroutine"):
        route = router.add_get("/", sync_handler, allow_head=False)
    response = await route.handler(req("GET", "/"))
    assert response.text == "sync"

    def bad_handler(request: Any) -> str:
        return "not a response"

    with pytest.warns(DeprecationWarning):
        route = router.add_post("/", bad_handler)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await route.handler(req("POST", "/"))


def test_view_class_handler(router: UrlDispatcher) -> None:
    class MyView(View):
        async def get(self) -> Response:
            return Response()

    route = router.add_view("/v", MyView)
    assert route.method == "*"
    assert route.handler is MyView


def test_expect_handler_must_be_coroutine(router: UrlDispatcher) -> None:
    def sync(request: Any) -> None:
        return None

    with pytest.raises(TypeError, match="coroutine"):
        router.add_get("/", handler, expect_handler=sync)  # type: ignore[arg-type]


# -- dynamic resources ----------------------------------------------------------------------------


async def test_dynamic_segment(router: UrlDispatcher) -> None:
    route = router.add_get("/users/{name}/info", handler)
    assert isinstance(route.resource, DynamicResource)
    info = await resolve(router, "GET", "/users/john/info")
    assert info == {"name": "john"}
    # The default pattern is one segment: no slash.
    assert (await resolve(router, "GET", "/users/a/b/info")).http_exception is not None
    assert (await resolve(router, "GET", "/users//info")).http_exception is not None


async def test_dynamic_custom_regex(router: UrlDispatcher) -> None:
    router.add_get(r"/num/{n:\d+}", handler)
    router.add_get(r"/three/{n:\d{1,3}}", handler)
    assert await resolve(router, "GET", "/num/123") == {"n": "123"}
    assert (await resolve(router, "GET", "/num/12a")).http_exception is not None
    assert await resolve(router, "GET", "/three/123") == {"n": "123"}
    assert (await resolve(router, "GET", "/three/1234")).http_exception is not None


async def test_dynamic_tail(router: UrlDispatcher) -> None:
    router.add_get("/files/{tail:.*}", handler)
    assert await resolve(router, "GET", "/files/a/b/c.txt") == {"tail": "a/b/c.txt"}
    assert await resolve(router, "GET", "/files/") == {"tail": ""}


async def test_dynamic_several_variables_in_a_segment(router: UrlDispatcher) -> None:
    router.add_get("/{a}-{b}.{ext}", handler)
    assert await resolve(router, "GET", "/x-y.png") == {"a": "x", "b": "y", "ext": "png"}


@pytest.mark.parametrize(
    "path",
    ["/{", "/}", "/a}b", "/{a", "/{1a}", "/{a-b}", "/{a:}", "/{a:(}", "/{a}/{a}", "/{}"],
)
def test_invalid_dynamic_path(router: UrlDispatcher, path: str) -> None:
    with pytest.raises(ValueError):
        router.add_get(path, handler)


async def test_encoded_slash_stays_in_variable(router: UrlDispatcher) -> None:
    router.add_get("/users/{name}", handler)
    assert await resolve(router, "GET", "/users/a%2Fb") == {"name": "a/b"}
    assert await resolve(router, "GET", "/users/100%25") == {"name": "100%"}
    assert await resolve(router, "GET", "/users/%E2%82%AC") == {"name": "€"}


async def test_unicode_and_escapes_in_registered_path(router: UrlDispatcher) -> None:
    unicode_route = router.add_get("/café", handler)
    escaped_route = router.add_get("/a%20b", other)
    assert (await resolve(router, "GET", "/caf%C3%A9")).route is unicode_route
    assert (await resolve(router, "GET", "/a%20b")).route is escaped_route
    assert unicode_route.url_for() == URL("/caf%C3%A9")
    assert str(escaped_route.url_for()) == "/a%20b"


def test_canonical_and_info(router: UrlDispatcher) -> None:
    resource = router.add_resource(r"/get/{num:^\d+}/{name}")
    assert resource.canonical == "/get/{num}/{name}"
    info = resource.get_info()
    assert info["formatter"] == "/get/{num}/{name}"
    assert isinstance(info["pattern"], re.Pattern)
    assert repr(resource) == "<DynamicResource /get/{num}/{name}>"
    named = router.add_resource("/n/{x}", name="n")
    assert repr(named) == "<DynamicResource 'n' /n/{x}>"


# -- url_for --------------------------------------------------------------------------------------


def test_plain_url_for(router: UrlDispatcher) -> None:
    router.add_get("/root", handler, name="root")
    url = router["root"].url_for().with_query({"a": "b", "c": "d"})
    assert url == URL("/root?a=b&c=d")


def test_dynamic_url_for(router: UrlDispatcher) -> None:
    router.add_resource("/{user}/info", name="user-info")
    url = router["user-info"].url_for(user="john_doe").with_query("a=b")
    assert url == URL("/john_doe/info?a=b")
    assert str(router["user-info"].url_for(user="a b/c?%")) == "/a%20b%2Fc%3F%25/info"


def test_dynamic_url_for_round_trips(router: UrlDispatcher) -> None:
    router.add_resource("/{user}/info", name="user")
    url = router["user"].url_for(user="x/y")
    request = req("GET", str(url))
    assert request.rel_url.path_safe == "/x%2Fy/info"


def test_dynamic_url_for_tail_keeps_slashes(router: UrlDispatcher) -> None:
    router.add_resource("/static/{tail:.*}", name="tail")
    assert str(router["tail"].url_for(tail="a/b c.txt")) == "/static/a/b%20c.txt"


def test_dynamic_url_for_validates(router: UrlDispatcher) -> None:
    router.add_resource(r"/n/{num:\d+}", name="num")
    assert str(router["num"].url_for(num="12")) == "/n/12"
    assert str(router["num"].url_for(num=12)) == "/n/12"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not match"):
        router["num"].url_for(num="abc")
    with pytest.raises(KeyError):
        router["num"].url_for()
    with pytest.raises(TypeError):
        router["num"].url_for(num=object())  # type: ignore[arg-type]


def test_route_url_for_delegates(router: UrlDispatcher) -> None:
    route = router.add_get("/u/{x}", handler)
    assert str(route.url_for(x="1")) == "/u/1"
    assert route.get_info()["formatter"] == "/u/{x}"


# -- named resources and views --------------------------------------------------------------------


def test_named_resources(router: UrlDispatcher) -> None:
    a = router.add_get("/a", handler, name="a")
    b = router.add_get("/b", handler, name="b.c:d-e")
    router.add_get("/c", handler)
    assert router["a"] is a.resource
    assert "b.c:d-e" in router
    assert "c" not in router
    assert len(router) == 2
    assert list(router) == ["a", "b.c:d-e"]
    named = router.named_resources()
    assert isinstance(named, MappingProxyType)
    assert dict(named) == {"a": a.resource, "b.c:d-e": b.resource}
    with pytest.raises(TypeError):
        named["x"] = a.resource  # type: ignore[index]


@pytest.mark.parametrize("name", ["class", "a.def", "a b", "1a", "a/b", ""])
def test_invalid_names(router: UrlDispatcher, name: str) -> None:
    with pytest.raises(ValueError, match="Incorrect route name"):
        router.add_get("/", handler, name=name)


def test_duplicate_name(router: UrlDispatcher) -> None:
    router.add_get("/a", handler, name="x")
    with pytest.raises(ValueError, match="Duplicate"):
        router.add_get("/b", handler, name="x")


def test_resources_and_routes_views(router: UrlDispatcher) -> None:
    r1 = router.add_get("/a", handler)
    r2 = router.add_post("/b", handler)
    resources = router.resources()
    assert len(resources) == 2
    assert list(resources) == [r1.resource, r2.resource]
    assert r1.resource in resources
    routes = router.routes()
    assert len(routes) == 3
    assert r1 in routes and r2 in routes
    assert [route.method for route in routes] == ["HEAD", "GET", "POST"]


def test_register_custom_resource_type_check(router: UrlDispatcher) -> None:
    with pytest.raises(TypeError):
        router.register_resource(object())  # type: ignore[arg-type]


# -- resolution order -----------------------------------------------------------------------------


async def test_fixed_path_wins_over_variable_registered_first(router: UrlDispatcher) -> None:
    variable = router.add_get("/a/{name}", handler)
    fixed = router.add_get("/a/b", other)
    assert (await resolve(router, "GET", "/a/b")).route is fixed
    assert (await resolve(router, "GET", "/a/c")).route is variable


async def test_same_prefix_dynamic_routes_in_registration_order(router: UrlDispatcher) -> None:
    first = router.add_get("/users/{x}/{y}/z", handler)
    second = router.add_get("/users/{x}/y/z", other)
    assert (await resolve(router, "GET", "/users/1/y/z")).route is first
    # Registered the other way round, the other one wins.
    router2 = UrlDispatcher()
    second = router2.add_get("/users/{x}/y/z", other)
    router2.add_get("/users/{x}/{y}/z", handler)
    assert (await resolve(router2, "GET", "/users/1/y/z")).route is second


async def test_longer_fixed_prefix_wins(router: UrlDispatcher) -> None:
    catch_all = router.add_get("/{tail:.*}", handler)
    users = router.add_get("/users/{id}", other)
    assert (await resolve(router, "GET", "/users/1")).route is users
    assert (await resolve(router, "GET", "/users/1/2")).route is catch_all
    assert (await resolve(router, "GET", "/")).route is catch_all


async def test_registration_order_within_one_key(router: UrlDispatcher) -> None:
    # Both indexed under "/": the first registered that matches wins.
    first = router.add_get("/{a}", handler)
    router.add_get("/{b:.*}", other)
    assert (await resolve(router, "GET", "/x")).route is first
    assert (await resolve(router, "GET", "/x/y")).route.handler is other


async def test_same_plain_path_twice_first_wins(router: UrlDispatcher) -> None:
    first = router.add_get("/dup", handler)
    router.add_get("/other", handler)
    router.add_get("/dup", other)
    assert (await resolve(router, "GET", "/dup")).route is first


async def test_405_then_match_in_a_shorter_key(router: UrlDispatcher) -> None:
    router.add_post("/a/b", handler)
    catch = router.add_get("/a/{x}", other)
    assert (await resolve(router, "GET", "/a/b")).route is catch


async def test_prefix_boundaries(router: UrlDispatcher) -> None:
    router.add_get("/api/{x}", handler)
    assert (await resolve(router, "GET", "/apix/1")).http_exception is not None
    assert (await resolve(router, "GET", "/api/1")).http_exception is None


async def test_many_routes_resolve_quickly(router: UrlDispatcher) -> None:
    for i in range(2000):
        router.add_get(f"/plain/{i}", handler)
        router.add_get(f"/dyn{i}/{{x}}", handler)
    info = await resolve(router, "GET", "/dyn1999/abc")
    assert info == {"x": "abc"}
    # The plain lookup is a dict hit: only the candidates under "/plain/1999" are tried.
    assert len(router._resource_index["/plain/1999"]) == 1


# -- freezing -------------------------------------------------------------------------------------


def test_frozen_router_refuses_changes(router: UrlDispatcher) -> None:
    resource = router.add_resource("/a")
    router.freeze()
    assert router.frozen
    with pytest.raises(RuntimeError):
        router.add_get("/b", handler)
    with pytest.raises(RuntimeError):
        router.add_get("/a", handler)
    with pytest.raises(RuntimeError):
        resource.add_route("GET", handler)


# -- match info -----------------------------------------------------------------------------------


def test_match_info_apps_and_current_app() -> None:
    route = ResourceRoute("GET", handler, PlainResource("/"))
    info = UrlMappingMatchInfo({"a": "1"}, route)
    inner, outer = Application(), Application()
    info.add_app(inner)
    info.add_app(outer)
    assert info.apps == (outer, inner)
    assert info.current_app is inner
    with info.set_current_app(outer):
        assert info.current_app is outer
    assert info.current_app is inner
    with pytest.raises(RuntimeError), info.set_current_app(Application()):
        pass
    info.freeze()
    with pytest.raises(RuntimeError, match="freeze"):
        info.add_app(Application())
    assert info.expect_handler == route.handle_expect_header
    assert info["a"] == "1"
    assert "ResourceRoute" in repr(info) and "'a': '1'" in repr(info)


# -- expect handler -------------------------------------------------------------------------------


async def test_default_expect_handler_continue() -> None:
    request = req("POST", "/", {"Expect": "100-Continue"})
    assert await _default_expect_handler(request) is None
    request.writer.write.assert_called_once_with(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[attr-defined]


async def test_default_expect_handler_unknown_expectation() -> None:
    request = req("POST", "/", {"Expect": "something"})
    with pytest.raises(HTTPExpectationFailed):
        await _default_expect_handler(request)


async def test_default_expect_handler_http10_does_nothing() -> None:
    request = req("POST", "/", {"Expect": "100-continue"}, version=HttpVersion(1, 0))
    assert await _default_expect_handler(request) is None
    request.writer.write.assert_not_called()  # type: ignore[attr-defined]


async def test_custom_expect_handler(router: UrlDispatcher) -> None:
    calls = []

    async def expect(request: Any) -> None:
        calls.append(request)

    route = router.add_post("/", handler, expect_handler=expect)
    request = req("POST", "/")
    await route.handle_expect_header(request)
    assert calls == [request]


# -- domains --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "canonical"),
    [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("example.com:80", "example.com"),
        ("example.com:8080", "example.com:8080"),
        ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),
    ],
)
def test_domain_canonical(domain: str, canonical: str) -> None:
    assert Domain(domain).canonical == canonical
    assert Domain(domain).get_info() == {"domain": canonical}


@pytest.mark.parametrize(
    "domain", ["", "http://example.com", "-bad.com", "bad-.com", "exa_mple.com", "a/b", "*.x.com"]
)
def test_domain_invalid(domain: str) -> None:
    with pytest.raises(ValueError):
        Domain(domain)


def test_domain_type() -> None:
    with pytest.raises(TypeError):
        Domain(1)  # type: ignore[arg-type]


async def test_domain_match() -> None:
    rule = Domain("example.com")
    assert await rule.match(req("GET", "/", {"Host": "EXAMPLE.com"}))
    assert not await rule.match(req("GET", "/", {"Host": "example.org"}))
    assert not await rule.match(req("GET", "/", {"Host": "example.com:8080"}))
    assert not await rule.match(req("GET", "/"))


def test_mask_domain() -> None:
    rule = MaskDomain("*.example.com")
    assert rule.canonical == r".*\.example\.com"
    assert rule.match_domain("a.example.com")
    assert rule.match_domain("A.B.Example.com")
    assert not rule.match_domain("example.com")
    assert not rule.match_domain("a.example.com.evil.org")


# -- sub-applications -----------------------------------------------------------------------------


async def test_subapp_prefix_resolution() -> None:
    app, admin = Application(), Application()
    route = admin.router.add_get("/resource", handler, name="name")
    admin.router.add_get("/{x}", other)
    resource = app.add_subapp("/admin/", admin)
    assert isinstance(resource, PrefixedSubAppResource)
    assert resource.canonical == "/admin"
    assert resource.get_info() == {"app": admin, "prefix": "/admin"}
    assert len(resource) == 4  # HEAD and GET of each route
    assert route in list(resource)
    with pytest.raises(RuntimeError):
        resource.url_for()
    info = await app.router.resolve(req("GET", "/admin/resource"))
    assert info.route is route
    assert info.apps == (admin,)
    assert admin.router["name"].url_for() == URL("/admin/resource")
    # Not under the prefix: the sub-application never sees it.
    assert isinstance(
        (await app.router.resolve(req("GET", "/adminx"))).http_exception, HTTPNotFound
    )
    # Under the prefix the sub-application's answer is final, 404 included.
    missing = await app.router.resolve(req("GET", "/admin/a/b"))
    assert isinstance(missing.http_exception, HTTPNotFound)
    assert missing.apps == (admin,)


async def test_subapp_405() -> None:
    app, sub = Application(), Application()
    sub.router.add_post("/x", handler)
    app.add_subapp("/sub", sub)
    info = await app.router.resolve(req("GET", "/sub/x"))
    assert isinstance(info.http_exception, HTTPMethodNotAllowed)
    assert info.http_exception.allowed_methods == {"POST"}


async def test_nested_subapps_prefixes() -> None:
    app, sub, subsub = Application(), Application(), Application()
    route = subsub.router.add_get("/leaf/{x}", handler, name="leaf")
    sub.add_subapp("/b", subsub)
    app.add_subapp("/a", sub)
    assert str(subsub.router["leaf"].url_for(x="1")) == "/a/b/leaf/1"
    info = await app.router.resolve(req("GET", "/a/b/leaf/1"))
    assert info.route is route
    assert info.apps == (sub, subsub)
    assert info == {"x": "1"}


async def test_subapp_and_root_dynamic_share_key_in_registration_order() -> None:
    app, sub = Application(), Application()
    sub.router.add_get("/x", other)
    dynamic = app.router.add_get("/admin/{name}", handler)
    app.add_subapp("/admin", sub)
    assert (await app.router.resolve(req("GET", "/admin/x"))).route is dynamic


async def test_domain_subapp() -> None:
    app, sub = Application(), Application()
    root_route = app.router.add_get("/", handler)
    sub_route = sub.router.add_get("/page", other)
    resource = app.add_domain("*.example.com", sub)
    assert isinstance(resource, MatchedSubAppResource)
    assert resource.canonical == r".*\.example\.com"
    assert resource.get_info()["app"] is sub
    info = await app.router.resolve(req("GET", "/page", {"Host": "a.example.com"}))
    assert info.route is sub_route
    assert info.apps == (sub,)
    # The index (root routes) is tried before domain sub-applications.
    assert (await app.router.resolve(req("GET", "/", {"Host": "a.example.com"}))).route is (
        root_route
    )
    missing = await app.router.resolve(req("GET", "/page", {"Host": "example.org"}))
    assert isinstance(missing.http_exception, HTTPNotFound)


def test_add_domain_validation() -> None:
    app = Application()
    with pytest.raises(TypeError):
        app.add_domain(1, Application())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        app.add_domain("", Application())


def test_add_subapp_validation() -> None:
    app = Application()
    with pytest.raises(TypeError):
        app.add_subapp(1, Application())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        app.add_subapp("/", Application())


def test_abstract_resource_is_abstract() -> None:
    with pytest.raises(TypeError):
        AbstractResource()  # type: ignore[abstract]


def test_view_subclasses_abstract_view() -> None:
    assert issubclass(View, AbstractView)


# -- static files ---------------------------------------------------------------------------------


@pytest.fixture
def static_root(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "file.txt").write_text("hello")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_text("inner")
    (root / "<b>&.txt").write_text("x")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "outside_link").symlink_to(tmp_path / "secret.txt")
    (root / "inside_link").symlink_to(root / "file.txt")
    return root


def static_request(method: str, path: str, resource: StaticResource, info: Any) -> Any:
    return req(method, path, match_info=dict(info))


async def serve(resource: StaticResource, router: UrlDispatcher, path: str) -> Any:
    info = await resolve(router, "GET", path)
    if info.http_exception is not None:
        raise info.http_exception
    return await info.handler(req("GET", path, match_info=dict(info)))


def test_add_static_missing_dir(router: UrlDispatcher, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        router.add_static("/s", tmp_path / "nope")
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        router.add_static("/s", tmp_path / "f")


async def test_static_resolve(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/static/", static_root, name="static")
    assert isinstance(resource, StaticResource)
    assert resource.canonical == "/static"
    assert router["static"] is resource
    assert len(resource) == 2
    assert {route.method for route in resource} == {"GET", "HEAD"}
    assert resource.get_info()["directory"] == static_root
    info = await resolve(router, "GET", "/static/sub/inner.txt")
    assert info == {"filename": "sub/inner.txt"}
    assert (await resolve(router, "HEAD", "/static/file.txt")).http_exception is None
    assert await resolve(router, "GET", "/static/a%2Fb%20c") == {"filename": "a/b c"}
    post = await resolve(router, "POST", "/static/file.txt")
    assert isinstance(post.http_exception, HTTPMethodNotAllowed)
    assert post.http_exception.allowed_methods == {"GET", "HEAD"}
    assert isinstance((await resolve(router, "GET", "/staticx")).http_exception, HTTPNotFound)


async def test_static_serves_files(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/static", static_root)
    response = await serve(resource, router, "/static/sub/inner.txt")
    assert isinstance(response, FileResponse)
    response = await serve(resource, router, "/static/inside_link")
    assert isinstance(response, FileResponse)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/sub/../../secret.txt",
        "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/outside_link",
        "/static/nul%00byte",
    ],
)
async def test_static_traversal_is_refused(
    router: UrlDispatcher, static_root: pathlib.Path, path: str
) -> None:
    resource = router.add_static("/static", static_root)
    with pytest.raises(HTTPNotFound):
        await serve(resource, router, path)


@pytest.mark.parametrize("path", ["/static//etc/passwd", "/static/%2Fetc/passwd"])
async def test_static_absolute_path_is_forbidden(
    router: UrlDispatcher, static_root: pathlib.Path, path: str
) -> None:
    resource = router.add_static("/static", static_root)
    with pytest.raises(HTTPForbidden):
        await serve(resource, router, path)


async def test_static_follow_symlinks(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/static", static_root, follow_symlinks=True)
    response = await serve(resource, router, "/static/outside_link")
    assert isinstance(response, FileResponse)
    # Still no lexical escape.
    with pytest.raises(HTTPNotFound):
        await serve(resource, router, "/static/%2e%2e/secret.txt")


async def test_static_directory_forbidden(
    router: UrlDispatcher, static_root: pathlib.Path
) -> None:
    resource = router.add_static("/static", static_root)
    for path in ("/static/sub", "/static/", "/static"):
        with pytest.raises(HTTPForbidden):
            await serve(resource, router, path)


async def test_static_show_index(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/static", static_root, show_index=True)
    response = await serve(resource, router, "/static/")
    assert isinstance(response, Response)
    assert response.content_type == "text/html"
    page = response.text
    assert page is not None
    assert "<title>Index of /</title>" in page
    assert '<a href="/static/file.txt">file.txt</a>' in page
    assert '<a href="/static/sub">sub/</a>' in page
    # Names are escaped in text and quoted in links.
    assert "&lt;b&gt;&amp;.txt" in page
    assert "<b>" not in page
    assert 'href="/static/%3Cb%3E%26.txt"' in page
    sub = await serve(resource, router, "/static/sub")
    assert "Index of /sub" in sub.text
    assert '<a href="/static/sub/inner.txt">inner.txt</a>' in sub.text


def test_static_url_for(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/st", static_root, name="st")
    assert resource.url_for(filename="sub/inner.txt") == URL("/st/sub/inner.txt")
    assert str(resource.url_for(filename=pathlib.Path("a b/%c"))) == "/st/a%20b/%25c"
    assert str(resource.url_for(filename="/x")) == "/st/x"
    assert str(router["st"].url_for(filename="file.txt")) == "/st/file.txt"


def test_static_url_for_append_version(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/st", static_root, append_version=True)
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"hello").digest()).decode()
    url = resource.url_for(filename="file.txt")
    assert url.query["v"] == expected
    assert resource.url_for(filename="file.txt", append_version=False).query == {}
    # Missing, a directory, or outside the root: no version.
    assert resource.url_for(filename="missing.txt").query == {}
    assert resource.url_for(filename="sub").query == {}
    assert resource.url_for(filename="../secret.txt").query == {}
    assert resource.url_for(filename="outside_link").query == {}
    # The hash follows the content.
    (static_root / "file.txt").write_text("changed!")
    changed = base64.urlsafe_b64encode(hashlib.sha256(b"changed!").digest()).decode()
    assert resource.url_for(filename="file.txt").query["v"] == changed


def test_static_options_route(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/st", static_root)
    resource.set_options_route(handler)
    assert {route.method for route in resource} == {"GET", "HEAD", "OPTIONS"}
    with pytest.raises(RuntimeError):
        resource.set_options_route(handler)


async def test_static_root_prefix(router: UrlDispatcher, static_root: pathlib.Path) -> None:
    resource = router.add_static("/", static_root)
    assert resource.canonical == ""
    assert await resolve(router, "GET", "/file.txt") == {"filename": "file.txt"}


def test_headers_are_case_insensitive_for_domains() -> None:
    headers = CIMultiDict({"host": "example.com"})
    assert Domain("example.com").match_domain(headers["HOST"])
