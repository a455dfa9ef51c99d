"""Abstract base classes for the pluggable parts of aiohyper (``aiohttp.abc``).

The server half: a router (``AbstractRouter``) returns a match info (``AbstractMatchInfo``) that
names the handler for a request; class based views derive from ``AbstractView``; access loggers
from ``AbstractAccessLogger`` (or ``AbstractAsyncAccessLogger`` when logging needs to
await). The client half: ``AbstractResolver`` (host name resolution) and
``AbstractCookieJar``. ``AbstractStreamWriter`` is the body writer interface of the HTTP codec.
"""

from __future__ import annotations

import logging
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence, Sized
from contextlib import AbstractContextManager
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Final, TypedDict

from yarl import URL

from ._http._writer import AbstractStreamWriter as AbstractStreamWriter

if TYPE_CHECKING:
    from .typedefs import LooseCookies
    from .web._app import Application
    from .web._exceptions import HTTPException
    from .web._request import BaseRequest, Request
    from .web._response import StreamResponse

__all__ = (
    "AbstractAccessLogger",
    "AbstractAsyncAccessLogger",
    "AbstractCookieJar",
    "AbstractMatchInfo",
    "AbstractResolver",
    "AbstractRouter",
    "AbstractStreamWriter",
    "AbstractView",
    "ResolveResult",
)


_NO_URL: Final = URL()


class AbstractRouter(ABC):
    """Maps a request to an ``AbstractMatchInfo``; ``Application.router`` is one of these.

    Only ``resolve`` is mandatory. A frozen router (the application started) refuses changes.
    """

    def __init__(self) -> None:
        self._frozen = False

    def post_init(self, app: Application) -> None:  # noqa: B027 - optional hook
        """Called by the owning application once it is constructed; a no-op by default."""

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Refuse any further change of the routing table."""
        self._frozen = True

    @abstractmethod
    async def resolve(self, request: Request) -> AbstractMatchInfo:
        """Return the match info for ``request``; never raises for an unknown URL (the match
        info then carries the 404/405 in ``http_exception``)."""


class AbstractMatchInfo(ABC):
    """The result of routing one request: its handler and the applications it went through."""

    __slots__ = ()

    @property
    @abstractmethod
    def handler(self) -> Callable[[Request], Awaitable[StreamResponse]]:
        """The handler to call; it raises ``http_exception`` when routing failed."""

    @property
    @abstractmethod
    def expect_handler(self) -> Callable[[Request], Awaitable[StreamResponse | None]]:
        """Handles an ``Expect`` request header before the handler runs."""

    @property
    @abstractmethod
    def http_exception(self) -> HTTPException | None:
        """The 404/405 to answer with when no route matched, else ``None``."""

    @abstractmethod
    def get_info(self) -> dict[str, Any]:
        """A description of the matched resource (for debugging and introspection)."""

    @property
    @abstractmethod
    def apps(self) -> tuple[Application, ...]:
        """Applications the request went through, outermost first."""

    @abstractmethod
    def add_app(self, app: Application) -> None:
        """Prepend ``app`` to ``apps`` (called while resolving, from the inside out)."""

    @abstractmethod
    def freeze(self) -> None:
        """Refuse further ``add_app`` calls."""

    @property
    @abstractmethod
    def current_app(self) -> Application:
        """The application whose code runs now (middlewares of the outer apps see theirs)."""

    @abstractmethod
    def set_current_app(self, app: Application) -> AbstractContextManager[None]:
        """A context manager that makes ``app`` the ``current_app`` while it is entered."""


class AbstractView(ABC):
    """Base of class based views: awaiting an instance handles its ``request``."""

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def request(self) -> Request:
        """The request this view handles."""
        return self._request

    @abstractmethod
    def __await__(self) -> Generator[Any, None, StreamResponse]:
        """Handle the request and produce the response."""


class ResolveResult(TypedDict):
    """One address of a resolved host name, as ``socket.getaddrinfo`` would describe it."""

    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class AbstractResolver(ABC):
    """Resolves host names for the client connector."""

    @abstractmethod
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return the addresses of ``host``; raises ``OSError`` when it cannot be resolved."""

    @abstractmethod
    async def close(self) -> None:
        """Release the resolver's resources."""


class AbstractCookieJar(Sized, Iterable["Morsel[str]"]):
    """Storage of the client's cookies: ``len(jar)`` and iteration over its morsels."""

    def __init__(self, *, loop: Any = None) -> None:
        # ``loop`` is accepted for compatibility; jars do not need one.
        del loop

    @property
    @abstractmethod
    def quote_cookie(self) -> bool:
        """Whether cookie values are quoted when sent."""

    @abstractmethod
    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Remove every cookie, or those for which ``predicate(morsel)`` is true."""

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains."""

    @abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None:
        """Store cookies received from ``response_url`` (``URL()`` for shared cookies)."""

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` header values received from
        ``response_url``. Jars with a stricter parser override this."""
        cookies: SimpleCookie = SimpleCookie()
        for header in headers:
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except Exception:  # one bad header must not drop the others
                continue
            cookies.update(parsed)
        if cookies:
            self.update_cookies(cookies, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Return the cookies to send with a request to ``request_url``."""


class AbstractAccessLogger(ABC):
    """Writes one access log entry per handled request (``access_log_class`` of servers)."""

    __slots__ = ("log_format", "logger")

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abstractmethod
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log one request; ``time`` is the seconds spent handling it."""

    @property
    def enabled(self) -> bool:
        """Whether entries are written at all (lets the server skip the bookkeeping)."""
        return True


class AbstractAsyncAccessLogger(AbstractAccessLogger):
    """An access logger whose ``log`` is a coroutine, for logging that performs I/O or awaits
    the request (``await request.text()``); the server awaits it after the response is sent.

    Constructed like ``AbstractAccessLogger`` (``logger``, ``log_format``), so it is accepted
    wherever an ``access_log_class`` is (``AppRunner``, ``run_app``, ``Server``).
    """

    __slots__ = ()

    @abstractmethod
    async def log(  # type: ignore[override]  # the coroutine version of the same hook
        self, request: BaseRequest, response: StreamResponse, time: float
    ) -> None:
        """Log one request; ``time`` is the seconds spent handling it."""
