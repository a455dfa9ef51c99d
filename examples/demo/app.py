"""`create_app`: the demo application, with every part wired in.

Layout of the site (each part lives in its own module):

- ``/``                 index page linking to everything (this module)
- ``/api/items...``     JSON API with path variables over an in-memory store (`api`)
- ``/static/...``       static files from ``examples/demo/static``
- ``/upload``           form with a file upload (`uploads`)
- ``/clock``            Server-Sent Events clock (`clock`)
- ``/chat``             chat room over WebSockets (`chat`)
- ``/admin/``           sub-application with its own middleware (`admin`)
- every page            timing header and JSON/HTML error pages (`middlewares`)
"""

from __future__ import annotations

from pathlib import Path

from aiohyper import web

from . import api, chat, clock, uploads
from .admin import create_admin_app
from .middlewares import STATS, ServerStats, error_pages, timing
from .pages import html_page

__all__ = ("STATIC_DIR", "create_app")

STATIC_DIR = Path(__file__).parent / "static"

_INDEX = """<p>Everything below is served by one <code>aiohyper.web.Application</code>
(<code>examples/demo</code>).</p>
<ul class="links">
<li><a href="{items}">{items}</a>: the JSON API (GET/POST <code>/api/items</code>,
GET/PUT/DELETE <code>/api/items/{{id}}</code>), e.g. <a href="{item1}">{item1}</a></li>
<li><a href="/static/hello.txt">/static/hello.txt</a>,
<a href="/static/logo.svg">/static/logo.svg</a>, <a href="/static/style.css">/static/style.css</a>:
static files</li>
<li><a href="{upload}">{upload}</a>: a form with a file upload</li>
<li><a href="{clock}">{clock}</a>: a clock over Server-Sent Events</li>
<li><a href="/admin/">/admin/</a>: a sub-application with its own middleware</li>
<li><a href="/no/such/page">/no/such/page</a> and
<a href="/api/items/999">/api/items/999</a>: HTML and JSON error pages</li>
<li><a href="{chat}">{chat}</a>: a chat room over WebSockets</li>
</ul>
<p>Every response carries an <code>X-Response-Time</code> header from the timing
middleware.</p>
<p>Try the API from a shell:</p>
<pre>curl -i {items}
curl -i --json '{{"name": "pears", "quantity": 4}}' {items}
curl -i -X PUT --json '{{"name": "apples", "quantity": 7}}' {item1}
curl -i -X DELETE {item1}</pre>
"""


async def index(request: web.Request) -> web.Response:
    """GET /: links to every part of the demo."""
    router = request.app.router
    base = request.url.origin()
    body = _INDEX.format(
        items=base.join(router["items"].url_for()),
        item1=base.join(router["item"].url_for(id="1")),
        upload=router["upload"].url_for(),
        clock=router["clock"].url_for(),
        chat=router["chat"].url_for(),
    )
    return html_page("aiohyper demo", body)


def create_app() -> web.Application:
    """Build the demo application (a fresh one, with its own store, on every call)."""
    app = web.Application(
        middlewares=[timing, error_pages], client_max_size=uploads.MAX_UPLOAD_SIZE
    )

    # Shared state, under typed keys.
    app[STATS] = ServerStats()
    app[api.ITEMS] = store = api.ItemStore()
    store.add("apples", 3)
    store.add("bread", 1)
    app[clock.CLOCK] = clock.ClockState()
    app.on_shutdown.append(clock.stop_streams)

    app.router.add_get("/", index, name="index")
    app.add_routes(api.routes)
    app.add_routes(uploads.routes)
    app.add_routes(clock.routes)
    app.router.add_static("/static", STATIC_DIR, name="static")
    app.add_subapp("/admin", create_admin_app())

    # WebSocket chat: a page at /chat, the sockets at /chat/ws, kept in app[chat.CHAT] and
    # closed (1001) from on_shutdown.
    app[chat.CHAT] = chat.ChatRoom()
    app.on_shutdown.append(chat.close_all)
    app.add_routes(chat.routes)

    return app
