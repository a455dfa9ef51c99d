"""Class based views (``aiohttp.web.View``)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NoReturn

from .. import hdrs
from ..abc import AbstractView
from ._exceptions import HTTPMethodNotAllowed
from ._response import StreamResponse

__all__ = ("View",)


class View(AbstractView):
    """Base of class based views: a request is handled by the coroutine method named after
    its HTTP method in lower case (``get()``, ``post()``...).

    Register with ``router.add_view(path, MyView)``; a method the class does not define is
    answered with 405 and an ``Allow`` header listing the ones it does.
    """

    async def _iter(self) -> StreamResponse:
        method = self.request.method
        # Only standard methods dispatch, so a request cannot call an arbitrary attribute.
        handler = getattr(self, method.lower(), None) if method in hdrs.METH_ALL else None
        if handler is None:
            self._raise_allowed_methods()
        response: StreamResponse = await handler()
        return response

    def __await__(self) -> Generator[Any, None, StreamResponse]:
        return self._iter().__await__()

    def _raise_allowed_methods(self) -> NoReturn:
        allowed = {method for method in hdrs.METH_ALL if hasattr(self, method.lower())}
        raise HTTPMethodNotAllowed(self.request.method, allowed)
