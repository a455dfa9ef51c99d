"""The Autobahn WebSocket conformance suite, run by kosoku, against our server and our client.

* ``fuzzingclient`` mode: kosoku connects to our echo server (``web.WebSocketResponse``) once per
  case;
* ``fuzzingserver`` mode: kosoku serves the cases and our client (``ClientSession.ws_connect``)
  runs each one: ``/getCaseCount``, then ``/runCase?case=N&agent=aiohyper`` echoing every
  message, then ``/updateReports``.

Every case must end OK, NON-STRICT or INFORMATIONAL (kosoku raises ``FailureError`` otherwise).

The whole suite takes about ten minutes per mode, nearly all of it in the permessage-deflate
sections 12 and 13 (216 cases each sending 1000 messages of up to 128 KiB). By default this
module runs sections 1-10 whole and, from every subsection of 12 and 13, the cases with 16-byte,
1 KiB and fragmented 8 KiB messages: about a minute per mode. ``AUTOBAHN_FULL=1`` runs every
case; ``AUTOBAHN_SUMMARY=<file>`` appends a per-section summary table (Markdown) to ``<file>``.
docs/conformance.md has the full run's results and the command.

kosoku only asks a client for ``client_no_context_takeover`` (cases 13.2, 13.5 and 13.6) when
the client's offer carried that parameter as a hint (the original Autobahn assumes every client
accepts it, and RFC 7692 §7.1.1.1 lets any server ask for it). Our client offers no such hint,
so those cases run in a second pass whose offers a client middleware extends with the hint:
the server then answers with ``client_no_context_takeover`` and our client must compress every
message on its own.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from kosoku import FailureError, run_fuzzingclient, run_fuzzingserver

import aiohyper as aiohttp
from aiohyper import ClientHandlerType, ClientRequest, ClientResponse, WSMsgType, web

# Fixtures (conftest.py): serve_app.

FULL = os.environ.get("AUTOBAHN_FULL", "").strip().lower() in {"1", "true", "yes"}
SUMMARY_FILE = os.environ.get("AUTOBAHN_SUMMARY")

pytestmark = pytest.mark.timeout(3600 if FULL else 300)

AGENT = "aiohyper"
MAX_MSG_SIZE = 64 * 1024 * 1024  # section 9 sends 16 MiB messages
# Subsections of 12 (12.1-12.5: payload kinds) and 13 (13.1-13.7: deflate parameters); in each,
# cases 1-10 send 1000 messages of 16 B .. 128 KiB, 11-18 the same fragmented.
_DEFLATE_SUBSECTIONS = [f"12.{n}" for n in range(1, 6)] + [f"13.{n}" for n in range(1, 8)]
_QUICK_DEFLATE_CASES = (1, 4, 11)  # 16 B, 1 KiB, 8 KiB in 256-byte fragments
# kosoku's server asks for client_no_context_takeover only after the client's hint.
_NO_CONTEXT_TAKEOVER = ["13.2", "13.5", "13.6"]


@pytest.fixture(autouse=True, scope="module")
def _isolate_kosoku_imports() -> Any:
    """kosoku puts its case and shim directories (a stand-in ``pkg_resources`` among them) on
    ``sys.path`` while it runs; take them off again so later tests import the real modules."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.split(".")[0] in {"pkg_resources", "autobahn", "autobahntestsuite"}:
            del sys.modules[name]


def _case_selection(*, hint: bool) -> list[str]:
    """The case ids / globs to run: with ``hint``, those needing the no-takeover hint."""
    if hint:
        subsections = _NO_CONTEXT_TAKEOVER
    else:
        subsections = [s for s in _DEFLATE_SUBSECTIONS if s not in _NO_CONTEXT_TAKEOVER]
    if FULL:
        deflate = [f"{s}.*" for s in subsections]
    else:
        deflate = [f"{s}.{n}" for s in subsections for n in _QUICK_DEFLATE_CASES]
    if hint:
        return deflate
    # Sections 1-7, 9 and 10: framing, pings, reserved bits, opcodes, fragmentation, UTF-8,
    # closing, limits and performance, auto-fragmentation. (There is no section 8 or 11.)
    return [f"{n}.*" for n in (1, 2, 3, 4, 5, 6, 7, 9, 10)] + deflate


def _check(results: Sequence[Any] | None, failure: FailureError | None, mode: str) -> None:
    """Fail with one line per failed case; write the summary table when asked."""
    if failure is not None:
        results = failure.results
    assert results, f"kosoku ({mode}) ran no case"
    if SUMMARY_FILE:
        with Path(SUMMARY_FILE).open("a", encoding="utf-8") as out:
            out.write(_summary(results, mode))
    if failure is not None:
        lines = [
            f"{r.case_id}: {r.behavior.value} / {r.behavior_close.value}: "
            f"{r.result} {r.result_close}"
            for r in results
            if not r.passed
        ]
        pytest.fail(f"Autobahn ({mode}): {len(lines)} cases failed:\n" + "\n".join(lines))
    assert all(r.passed for r in results)


def _summary(results: Sequence[Any], mode: str) -> str:
    """A Markdown table: per section, how many cases got each verdict."""
    verdicts = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
    by_section: dict[str, collections.Counter[str]] = {}
    for r in results:
        section = r.case_id.split(".")[0]
        counter = by_section.setdefault(section, collections.Counter())
        counter[r.behavior.value] += 1
        if r.behavior_close.value not in ("OK", "INFORMATIONAL"):
            counter["close " + r.behavior_close.value] += 1
    lines = [
        f"\n{mode}: {len(results)} cases, {sum(r.duration for r in results) / 1000:.0f} s\n",
        "| section | cases | " + " | ".join(verdicts) + " | other |",
        "|---|---|" + "---|" * (len(verdicts) + 1),
    ]
    for section in sorted(by_section, key=int):
        counter = by_section[section]
        other = ", ".join(f"{k}: {v}" for k, v in counter.items() if k not in verdicts)
        cells = " | ".join(str(counter.get(v, 0)) for v in verdicts)
        lines.append(f"| {section} | {sum(counter[v] for v in verdicts)} | {cells} | {other} |")
    return "\n".join(lines) + "\n"


# --- our server, kosoku as the client ----------------------------------------------------------


async def _echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=MAX_MSG_SIZE)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def test_autobahn_against_our_server(serve_app: Any) -> None:
    app = web.Application()
    app.router.add_get("/", _echo)
    base = await serve_app(app)
    url = base.replace("http://", "ws://")
    cases = _case_selection(hint=False) + _case_selection(hint=True)
    results: Sequence[Any] | None = None
    failure: FailureError | None = None
    try:
        results = await run_fuzzingclient(url, cases)
    except FailureError as exc:
        failure = exc
    _check(results, failure, "fuzzingclient (our server)")


# --- kosoku as the server, our client ------------------------------------------------------------


def _no_context_takeover_hint() -> Callable[[ClientRequest, ClientHandlerType], Any]:
    """A client middleware adding the ``client_no_context_takeover`` hint to our offer."""

    async def add_hint(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        offer = request.headers.get("Sec-WebSocket-Extensions")
        if offer:
            request.headers["Sec-WebSocket-Extensions"] = offer + "; client_no_context_takeover"
        return await handler(request)

    return add_hint


async def _run_client(url: str, *, hint: bool) -> None:
    """Run every case kosoku serves at ``url`` with our client, then ask for the reports."""
    middlewares = (_no_context_takeover_hint(),) if hint else ()
    async with aiohttp.ClientSession(middlewares=middlewares) as session:
        async with session.ws_connect(f"{url}/getCaseCount") as ws:
            count = int(await ws.receive_str(timeout=10))
        assert count > 0
        for case in range(1, count + 1):
            async with asyncio.timeout(120):
                await _echo_case(session, f"{url}/runCase?case={case}&agent={AGENT}")
        async with session.ws_connect(f"{url}/updateReports?agent={AGENT}") as ws:
            await ws.receive(timeout=30)


async def _echo_case(session: aiohttp.ClientSession, url: str) -> None:
    try:
        ws = await session.ws_connect(url, compress=15, max_msg_size=MAX_MSG_SIZE)
    except aiohttp.ClientError:
        return  # a refused handshake is the case's verdict to give
    async with ws:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)


async def _fuzzingserver(cases: list[str], run: Callable[[str], Awaitable[None]]) -> None:
    results: Sequence[Any] | None = None
    failure: FailureError | None = None
    async with run_fuzzingserver(cases, host="127.0.0.1", port=0) as server:
        await run(f"ws://{server.address}:{server.port}")
        try:
            results = await asyncio.wait_for(server.get_result(), 60)
        except FailureError as exc:
            failure = exc
    _check(results, failure, f"fuzzingserver (our client), {cases[0]}...")


async def test_autobahn_against_our_client() -> None:
    await _fuzzingserver(_case_selection(hint=False), lambda url: _run_client(url, hint=False))


async def test_autobahn_client_no_context_takeover() -> None:
    await _fuzzingserver(_case_selection(hint=True), lambda url: _run_client(url, hint=True))
