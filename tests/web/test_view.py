"""Tests of class based views."""

from __future__ import annotations

from typing import Any

import pytest

from aiohyper.abc import AbstractView
from aiohyper.test_utils import make_mocked_request
from aiohyper.web._exceptions import HTTPMethodNotAllowed
from aiohyper.web._response import Response
from aiohyper.web._view import View


class MyView(View):
    async def get(self) -> Response:
        return Response(text="get")

    async def post(self) -> Response:
        return Response(text="post")


async def test_dispatch_by_method() -> None:
    for method in ("GET", "POST"):
        request = make_mocked_request(method, "/")
        view = MyView(request)
        assert view.request is request
        response = await view
        assert isinstance(response, Response)
        assert response.text == method.lower()


@pytest.mark.parametrize("method", ["PUT", "HEAD", "DELETE", "PROPFIND", "_ITER", "REQUEST"])
async def test_unsupported_method_is_405(method: str) -> None:
    with pytest.raises(HTTPMethodNotAllowed) as info:
        await MyView(make_mocked_request(method, "/"))
    assert info.value.allowed_methods == {"GET", "POST"}
    assert info.value.headers["Allow"] == "GET,POST"
    assert info.value.method == method


async def test_every_standard_method() -> None:
    class AllView(View):
        async def connect(self) -> Response:
            return Response(text="connect")

        async def delete(self) -> Response:
            return Response(text="delete")

        async def get(self) -> Response:
            return Response(text="get")

        async def head(self) -> Response:
            return Response(text="head")

        async def options(self) -> Response:
            return Response(text="options")

        async def patch(self) -> Response:
            return Response(text="patch")

        async def post(self) -> Response:
            return Response(text="post")

        async def put(self) -> Response:
            return Response(text="put")

        async def trace(self) -> Response:
            return Response(text="trace")

    for method in ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"):
        response = await AllView(make_mocked_request(method, "/"))
        assert isinstance(response, Response)
        assert response.text == method.lower()


def test_abstract_view_requires_await() -> None:
    class Incomplete(AbstractView):
        pass

    with pytest.raises(TypeError):
        Incomplete(make_mocked_request("GET", "/"))  # type: ignore[abstract]

    class Complete(AbstractView):
        def __await__(self) -> Any:
            return iter(())

    assert Complete(make_mocked_request("GET", "/")).request.method == "GET"
