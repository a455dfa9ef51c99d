"""The admin sub-application, mounted at ``/admin`` with a middleware of its own.

Its middleware only runs for requests under ``/admin``: it refuses clients that are not on
this machine and marks every answer as not cacheable. The dashboard reads the main application's
state through ``request.config_dict``, which chains the sub-application to its parents.
"""

from __future__ import annotations

import ipaddress
import time

from aiohyper import web

from .api import ITEMS
from .clock import CLOCK
from .middlewares import STATS, Handler
from .pages import html_page

__all__ = ("create_admin_app",)


def _is_local(remote: str | None) -> bool:
    if remote is None:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:  # a Unix socket path: only local processes can connect
        return True


@web.middleware
async def local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Admin pages are for local clients only, and never cached."""
    if not _is_local(request.remote):
        raise web.HTTPForbidden(text="The admin pages are only served to local clients")
    response = await handler(request)
    if not response.prepared:
        response.headers["Cache-Control"] = "no-store"
    return response


def _stats(request: web.Request) -> dict[str, int | float]:
    config = request.config_dict
    return {
        "items": len(config[ITEMS]),
        "clock_clients": config[CLOCK].clients,
        "requests": config[STATS].requests,
        "uptime_s": round(time.monotonic() - config[STATS].started, 3),
    }


async def dashboard(request: web.Request) -> web.Response:
    """GET /admin/: the server's counters."""
    rows = "\n".join(
        f'<tr><th>{name}</th><td id="{name}">{value}</td></tr>'
        for name, value in _stats(request).items()
    )
    body = f'<table class="stats">\n{rows}\n</table>\n<p><a href="stats">As JSON</a></p>'
    return html_page("Admin dashboard", body)


async def stats(request: web.Request) -> web.Response:
    """GET /admin/stats: the same counters as JSON."""
    return web.json_response(_stats(request))


def create_admin_app() -> web.Application:
    """The sub-application; mount it with ``app.add_subapp("/admin", create_admin_app())``."""
    admin = web.Application(middlewares=[local_only])
    admin.router.add_get("/", dashboard, name="dashboard")
    admin.router.add_get("/stats", stats, name="stats")
    return admin
