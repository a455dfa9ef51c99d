"""A Server-Sent Events clock: ``/clock`` is a page, ``/clock/events`` the event stream.

The stream sends one ``tick`` event per second until the client disconnects (the next write
then fails) or the server shuts down (``on_shutdown`` wakes every stream so that it ends at once
instead of holding the graceful shutdown for ``shutdown_timeout`` seconds).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from datetime import UTC, datetime

from aiohyper import web

from .pages import html_page

__all__ = ("CLOCK", "ClockState", "routes")


class ClockState:
    """What the clock streams share: how many are open, and the shutdown flag."""

    __slots__ = ("clients", "stopping")

    def __init__(self) -> None:
        self.clients = 0
        self.stopping = asyncio.Event()


CLOCK = web.AppKey("clock", ClockState)

#: Seconds between two events.
TICK = 1.0

routes = web.RouteTableDef()

_PAGE = """<p>The time on the server: <output id="now">waiting for the first event…</output></p>
<p>Event stream: <a href="/clock/events">/clock/events</a> (<code>text/event-stream</code>,
one <code>tick</code> event per second).</p>
<script>
const now = document.getElementById("now");
const source = new EventSource("/clock/events");
source.addEventListener("tick", (event) => { now.textContent = JSON.parse(event.data).time; });
</script>
"""


@routes.get("/clock", name="clock")
async def clock_page(request: web.Request) -> web.Response:
    """GET /clock: a page that shows the stream's events."""
    return html_page("Server-Sent Events clock", _PAGE)


@routes.get("/clock/events", name="clock_events")
async def clock_events(request: web.Request) -> web.StreamResponse:
    """GET /clock/events: the event stream."""
    state = request.app[CLOCK]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    state.clients += 1
    try:
        n = 0
        while not state.stopping.is_set():
            n += 1
            data = json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), "n": n})
            await response.write(f"id: {n}\nevent: tick\ndata: {data}\n\n".encode())
            # Sleep one tick, or less if the server starts shutting down.
            with suppress(TimeoutError):
                await asyncio.wait_for(state.stopping.wait(), TICK)
    except ConnectionResetError:
        # The client went away: the stream is over, there is nobody to finish it for.
        return response
    finally:
        state.clients -= 1
    await response.write_eof()
    return response


async def stop_streams(app: web.Application) -> None:
    """``on_shutdown``: end every open stream now."""
    app[CLOCK].stopping.set()
