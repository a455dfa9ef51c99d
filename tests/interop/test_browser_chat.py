"""A real browser in the demo's chat room: headless Chromium, driven over the DevTools protocol.

The demo runs as the README says (``python -m examples.demo --port N``). Chromium opens
``/chat``, joins with a nickname, sends a line over its WebSocket and must show it, echoed by the
server, in the page. A second member, our own WebSocket client, sees the browser's line and
answers; the browser must show that too. Lines full of HTML must appear as text.

Chromium is driven through the Chrome DevTools Protocol, which is JSON over a WebSocket: the
test talks to it with aiohyper's own client (``ClientSession.get`` for the target list,
``ws_connect`` for the page's debugger socket). Chromium is Debian's ``chromium`` package;
without it the test is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import aiohyper as aiohttp

# Fixtures (conftest.py): peers, require_binary.

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",  # Chromium picks a port and writes it to DevToolsActivePort
]


@pytest.fixture(scope="module")
def demo_url(peers: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the demo, started with the README's command."""
    port = peers.free_port()
    argv = [sys.executable, "-m", "examples.demo", "--port", str(port)]
    workdir = tmp_path_factory.mktemp("demo")
    with peers.run("demo", argv, port=port, workdir=workdir, cwd=REPO) as demo:
        yield demo.base_url


@pytest.fixture
def chromium(require_binary: Any, tmp_path: Path) -> Iterator[str]:
    """A headless Chromium with remote debugging; yields its DevTools base URL."""
    binary = require_binary("chromium")
    profile = tmp_path / "profile"
    log = (tmp_path / "chromium.log").open("wb")
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        active_port = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not (active_port.exists() and active_port.read_text().count("\n") >= 1):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (tmp_path / "chromium.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"Chromium did not start its DevTools server:\n{output}")
            time.sleep(0.05)
        port = active_port.read_text().splitlines()[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


class DevTools:
    """A Chrome DevTools Protocol session on one page, over our WebSocket client."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._last_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command; return its result (events arriving meanwhile are dropped)."""
        self._last_id += 1
        call_id = self._last_id
        await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            reply: dict[str, Any] = json.loads(await self.ws.receive_str(timeout=10))
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        async with asyncio.timeout(timeout):
            while not (value := await self.evaluate(expression)):
                await asyncio.sleep(0.05)
        return value


@pytest.fixture
async def page(chromium: str) -> AsyncIterator[DevTools]:
    """The DevTools session of Chromium's first page."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(f"{chromium}/json/list") as resp:
            assert resp.status == 200
            targets = await resp.json()
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with session.ws_connect(url, max_msg_size=64 * 1024 * 1024) as ws:
            yield DevTools(ws)


_LOG_LINES = (
    "[...document.querySelectorAll('#log li')].map((li) => [li.className, li.textContent])"
)
_VISIBLE = "getComputedStyle(document.getElementById({!r})).display !== 'none'"


async def test_browser_chats_over_our_websocket(
    page: DevTools, demo_url: str, tmp_path: Path
) -> None:
    await page.call("Page.navigate", url=f"{demo_url}/chat")
    await page.wait_for("document.readyState === 'complete' && !!document.getElementById('nick')")
    assert await page.evaluate("document.title") == "WebSocket chat · aiohyper demo"

    # Join the way a person does: type a nickname, press Join.
    await page.evaluate(
        "document.getElementById('nick').value = 'chromium';"
        "document.getElementById('join-button').click()"
    )
    await page.wait_for("document.body.dataset.chat === 'open'")
    assert await page.evaluate(_VISIBLE.format("send")) is True
    assert await page.evaluate(_VISIBLE.format("join")) is False
    assert await page.evaluate("document.getElementById('status').textContent") == (
        "Connected as chromium."
    )
    await page.wait_for("document.querySelector('#log li.join') !== null")

    ws_base = demo_url.replace("http://", "ws://")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            f"{ws_base}/chat/ws?{urlencode({'nick': 'aiohyper'})}"
        ) as ws:
            joined = await ws.receive_json(timeout=5)
            assert joined == {
                "type": "join",
                "nick": "aiohyper",
                "online": ["chromium", "aiohyper"],
            }

            # The browser sends a line full of HTML: it comes back as text.
            line = "<img src=x onerror=\"document.title='pwned'\"> hello <b>from</b> Chromium"
            await page.evaluate(
                f"document.getElementById('text').value = {json.dumps(line)};"
                "document.getElementById('send-button').click()"
            )
            echoed = await page.wait_for(
                f"[...document.querySelectorAll('#log li.message .text')]"
                f".some((el) => el.textContent === {json.dumps(line)})"
            )
            assert echoed is True
            event = await ws.receive_json(timeout=5)
            assert (event["type"], event["nick"], event["text"]) == ("message", "chromium", line)
            assert await page.evaluate("document.getElementById('text').value") == ""

            # Our client answers; the browser shows it.
            answer = "hello from aiohyper & <i>friends</i>"
            await ws.send_str(answer)
            await page.wait_for(
                "[...document.querySelectorAll('#log li.message')].some((li) =>"
                " li.querySelector('.nick').textContent === 'aiohyper' &&"
                f" li.querySelector('.text').textContent === {json.dumps(answer)})"
            )
            assert (await ws.receive_json(timeout=5))["text"] == answer

        # Our client left: the browser is told.
        await page.wait_for(
            "[...document.querySelectorAll('#log li.leave')]"
            ".some((li) => li.textContent.includes('aiohyper'))"
        )

    # Nothing typed was parsed as HTML.
    parsed = "document.querySelectorAll('#log img, #log i, #log script').length"
    assert await page.evaluate(parsed) == 0
    assert await page.evaluate("document.title") == "WebSocket chat · aiohyper demo"
    lines = await page.evaluate(_LOG_LINES)
    kinds = [kind for kind, _ in lines]
    assert kinds == ["join", "join", "message", "message", "leave"], lines

    # A screenshot of the page, for a person to look at when this fails.
    shot = await page.call("Page.captureScreenshot", format="png")
    (tmp_path / "chat.png").write_bytes(base64.b64decode(shot["data"]))
