"""The main application's middlewares: response timing and error pages.

A middleware is ``async def mw(request, handler) -> response``; the first one in the list is the
outermost, so the timing middleware also times the error pages made by the one inside it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from html import escape

from aiohyper import web

from .pages import html_page

__all__ = ("STATS", "Handler", "ServerStats", "error_pages", "timing")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("examples.demo")


class ServerStats:
    """Counters shown on the admin dashboard."""

    __slots__ = ("requests", "started")

    def __init__(self) -> None:
        self.requests = 0
        self.started = time.monotonic()


STATS = web.AppKey("stats", ServerStats)


@web.middleware
async def timing(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request and add ``X-Response-Time: <milliseconds>ms`` to the response."""
    request.config_dict[STATS].requests += 1
    start = time.perf_counter()
    response = await handler(request)
    # A streamed response (the SSE clock) has already sent its head: nothing to add to.
    if not response.prepared:
        elapsed_ms = (time.perf_counter() - start) * 1000
        response.headers["X-Response-Time"] = f"{elapsed_ms:.2f}ms"
    return response


def _wants_json(request: web.Request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _error_response(request: web.Request, status: int, reason: str, detail: str) -> web.Response:
    if _wants_json(request):
        return web.json_response(
            {"error": reason, "status": status, "detail": detail, "path": request.path},
            status=status,
        )
    body = (
        f'<p class="error">{escape(detail)}</p>'
        f"<p>Path: <code>{escape(request.path)}</code></p>"
        '<p><a href="/">Back to the index</a></p>'
    )
    return html_page(f"{status} {reason}", body, status=status)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render 4xx/5xx errors as JSON (for the API and JSON clients) or as an HTML page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and other non-errors pass through untouched
            raise
        response = _error_response(request, exc.status, exc.reason, exc.text or exc.reason)
        # Keep the headers that mean something for the error, e.g. Allow on a 405.
        for name, value in exc.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                response.headers.add(name, value)
        return response
    except Exception:
        log.exception("Unhandled error in %s %s", request.method, request.path)
        return _error_response(
            request, 500, "Internal Server Error", "The server hit an unexpected error."
        )
