# The tests keep the docs' nested ``async with session: / async with session.get():`` form.
# ruff: noqa: SIM117
"""Documentation conformance: client tracing (tracing_reference.rst).

The request life cycle diagrams give the order of the signals; the Classes section gives the
handler signature ``(session, context, params)`` and the attributes of each params class.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import aiohyper
from aiohyper import web
from aiohyper.abc import AbstractResolver, ResolveResult
from aiohyper.test_utils import TestServer

ALL_SIGNALS = (
    "on_request_start",
    "on_request_chunk_sent",
    "on_response_chunk_received",
    "on_request_redirect",
    "on_request_end",
    "on_request_exception",
    "on_connection_queued_start",
    "on_connection_queued_end",
    "on_connection_create_start",
    "on_connection_create_end",
    "on_connection_reuseconn",
    "on_dns_resolvehost_start",
    "on_dns_resolvehost_end",
    "on_dns_cache_hit",
    "on_dns_cache_miss",
    "on_request_headers_sent",
)

PARAMS_CLASS = {
    "on_request_start": aiohyper.TraceRequestStartParams,
    "on_request_chunk_sent": aiohyper.TraceRequestChunkSentParams,
    "on_response_chunk_received": aiohyper.TraceResponseChunkReceivedParams,
    "on_request_redirect": aiohyper.TraceRequestRedirectParams,
    "on_request_end": aiohyper.TraceRequestEndParams,
    "on_request_exception": aiohyper.TraceRequestExceptionParams,
    "on_connection_queued_start": aiohyper.TraceConnectionQueuedStartParams,
    "on_connection_queued_end": aiohyper.TraceConnectionQueuedEndParams,
    "on_connection_create_start": aiohyper.TraceConnectionCreateStartParams,
    "on_connection_create_end": aiohyper.TraceConnectionCreateEndParams,
    "on_connection_reuseconn": aiohyper.TraceConnectionReuseconnParams,
    "on_dns_resolvehost_start": aiohyper.TraceDnsResolveHostStartParams,
    "on_dns_resolvehost_end": aiohyper.TraceDnsResolveHostEndParams,
    "on_dns_cache_hit": aiohyper.TraceDnsCacheHitParams,
    "on_dns_cache_miss": aiohyper.TraceDnsCacheMissParams,
    "on_request_headers_sent": aiohyper.TraceRequestHeadersSentParams,
}


class Recorder:
    """A TraceConfig with a handler on every signal, recording ``(name, session, ctx,
    params)``."""

    def __init__(self, config: aiohyper.TraceConfig[Any] | None = None) -> None:
        self.config = config if config is not None else aiohyper.TraceConfig()
        self.events: list[tuple[str, Any, Any, Any]] = []
        for name in ALL_SIGNALS:
            getattr(self.config, name).append(self._handler(name))

    def _handler(self, name: str) -> Any:
        async def handler(session: Any, ctx: Any, params: Any) -> None:
            self.events.append((name, session, ctx, params))

        return handler

    @property
    def names(self) -> list[str]:
        return [name[3:] for name, *_ in self.events]

    def params(self, name: str) -> list[Any]:
        return [p for n, _, _, p in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()


class LocalResolver(AbstractResolver):
    """Resolves every name to 127.0.0.1."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        pass


async def hello(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=b"hello:" + body)


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/hello")


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.05)
    return web.Response(text="slow")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_route("*", "/hello", hello)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/slow", slow)
    srv = TestServer(app)
    await srv.start_server()
    yield srv
    await srv.close()


def named_url(server: TestServer, path: str) -> URL:
    return URL(f"http://trace.example:{server.port}{path}")


class TestTraceConfig:
    def test_default_context_factory(self) -> None:
        """``trace_config_ctx_factory`` defaults to SimpleNamespace, given
        ``trace_request_ctx`` as a keyword."""
        config = aiohyper.TraceConfig()
        ctx = config.trace_config_ctx(trace_request_ctx={"a": 1})
        assert isinstance(ctx, SimpleNamespace)
        assert ctx.trace_request_ctx == {"a": 1}
        assert config.trace_config_ctx().trace_request_ctx is None

    def test_custom_context_factory(self) -> None:
        class Ctx:
            def __init__(self, trace_request_ctx: Any = None) -> None:
                self.trace_request_ctx = trace_request_ctx

        config = aiohyper.TraceConfig(trace_config_ctx_factory=Ctx)
        ctx = config.trace_config_ctx(trace_request_ctx="x")
        assert isinstance(ctx, Ctx)
        assert ctx.trace_request_ctx == "x"

    def test_signals_are_lists_of_handlers(self) -> None:
        config = aiohyper.TraceConfig()
        for name in ALL_SIGNALS:
            signal = getattr(config, name)
            assert len(signal) == 0

            async def handler(session: Any, ctx: Any, params: Any) -> None:
                pass

            signal.append(handler)
            assert list(signal) == [handler]

    def test_params_attributes(self) -> None:
        url = URL("http://h/")
        headers: CIMultiDict[str] = CIMultiDict()
        assert aiohyper.TraceRequestStartParams("GET", url, headers).headers is headers
        assert aiohyper.TraceRequestChunkSentParams("GET", url, b"c").chunk == b"c"
        assert aiohyper.TraceResponseChunkReceivedParams("GET", url, b"c").chunk == b"c"
        end = aiohyper.TraceRequestEndParams("GET", url, headers, "resp")
        assert (end.method, end.url, end.headers, end.response) == ("GET", url, headers, "resp")
        exc = ValueError()
        assert aiohyper.TraceRequestExceptionParams("GET", url, headers, exc).exception is exc
        assert aiohyper.TraceRequestRedirectParams("GET", url, headers, "r").response == "r"
        assert aiohyper.TraceDnsResolveHostStartParams("h").host == "h"
        assert aiohyper.TraceDnsResolveHostEndParams("h").host == "h"
        assert aiohyper.TraceDnsCacheHitParams("h").host == "h"
        assert aiohyper.TraceDnsCacheMissParams("h").host == "h"
        assert aiohyper.TraceRequestHeadersSentParams("GET", url, headers).url == url
        for cls in (
            aiohyper.TraceConnectionQueuedStartParams,
            aiohyper.TraceConnectionQueuedEndParams,
            aiohyper.TraceConnectionCreateStartParams,
            aiohyper.TraceConnectionCreateEndParams,
            aiohyper.TraceConnectionReuseconnParams,
        ):
            cls()  # "There are no attributes right now."


class TestLifeCycle:
    async def test_new_connection_with_dns(self, server: TestServer) -> None:
        """start → create_start → (dns cache miss → resolve start/end) → create_end →
        headers_sent → chunk_sent → end; then chunk_received when the body is read."""
        rec = Recorder()
        connector = aiohyper.TCPConnector(resolver=LocalResolver())
        async with aiohyper.ClientSession(
            connector=connector, trace_configs=[rec.config]
        ) as session:
            async with session.post(named_url(server, "/hello"), data=b"body") as resp:
                assert await resp.read() == b"hello:body"
            assert rec.names == [
                "request_start",
                "connection_create_start",
                "dns_cache_miss",
                "dns_resolvehost_start",
                "dns_resolvehost_end",
                "connection_create_end",
                "request_headers_sent",
                "request_chunk_sent",
                "request_end",
                "response_chunk_received",
            ]
            rec.clear()
            # A second request: a pooled connection, no DNS.
            async with session.get(named_url(server, "/hello")) as resp:
                await resp.read()
            assert rec.names == [
                "request_start",
                "connection_reuseconn",
                "request_headers_sent",
                "request_end",
                "response_chunk_received",
            ]

    async def test_dns_cache_hit(self, server: TestServer) -> None:
        rec = Recorder()
        connector = aiohyper.TCPConnector(resolver=LocalResolver(), force_close=True)
        async with aiohyper.ClientSession(
            connector=connector, trace_configs=[rec.config]
        ) as session:
            async with session.get(named_url(server, "/hello")) as resp:
                await resp.read()
            rec.clear()
            async with session.get(named_url(server, "/hello")) as resp:
                await resp.read()
        assert rec.names[:4] == [
            "request_start",
            "connection_create_start",
            "dns_cache_hit",
            "connection_create_end",
        ]
        assert [p.host for p in rec.params("on_dns_cache_hit")] == ["trace.example"]

    async def test_dns_params_host(self, server: TestServer) -> None:
        rec = Recorder()
        connector = aiohyper.TCPConnector(resolver=LocalResolver(), use_dns_cache=False)
        async with (
            aiohyper.ClientSession(connector=connector, trace_configs=[rec.config]) as session,
            session.get(named_url(server, "/hello")) as resp,
        ):
            await resp.read()
        assert [p.host for p in rec.params("on_dns_resolvehost_start")] == ["trace.example"]
        assert [p.host for p in rec.params("on_dns_resolvehost_end")] == ["trace.example"]
        assert not rec.params("on_dns_cache_miss")

    async def test_handler_arguments(self, server: TestServer) -> None:
        """``on_signal(session, context, params)``: the session, the context built by
        ``trace_config_ctx`` (one per request, shared by its signals) and the params."""
        rec = Recorder()
        async with aiohyper.ClientSession(trace_configs=[rec.config]) as session:
            url = server.make_url("/hello")
            async with session.get(url, trace_request_ctx={"id": 1}) as resp:
                await resp.read()
            async with session.get(url, trace_request_ctx={"id": 2}) as resp:
                await resp.read()
        assert all(s is session for _, s, _, _ in rec.events)
        contexts = [ctx for _, _, ctx, _ in rec.events]
        first = contexts[0]
        assert isinstance(first, SimpleNamespace)
        assert first.trace_request_ctx == {"id": 1}
        assert contexts[-1].trace_request_ctx == {"id": 2}
        assert contexts[-1] is not first
        assert {id(c) for c in contexts} == {id(first), id(contexts[-1])}
        for name, _, _, params in rec.events:
            assert isinstance(params, PARAMS_CLASS[name])

    async def test_request_params(self, server: TestServer) -> None:
        rec = Recorder()
        url = server.make_url("/hello")
        async with aiohyper.ClientSession(trace_configs=[rec.config]) as session:
            async with session.post(url, params={"q": "1"}, data=b"payload") as resp:
                await resp.read()
        full = url.with_query(q="1")
        (start,) = rec.params("on_request_start")
        assert (start.method, start.url) == ("POST", full)
        assert isinstance(start.headers, CIMultiDict)
        (sent,) = rec.params("on_request_headers_sent")
        assert (sent.method, sent.url) == ("POST", full)
        assert sent.headers["Content-Length"] == "7"
        assert "Host" in sent.headers
        chunks = rec.params("on_request_chunk_sent")
        assert b"".join(p.chunk for p in chunks) == b"payload"
        assert all((p.method, p.url) == ("POST", full) for p in chunks)
        (end,) = rec.params("on_request_end")
        assert (end.method, end.url) == ("POST", full)
        assert isinstance(end.response, aiohyper.ClientResponse)
        assert end.response is resp
        (received,) = rec.params("on_response_chunk_received")
        assert (received.method, received.url, received.chunk) == ("POST", full, b"hello:payload")

    async def test_start_headers_can_be_mutated(self, server: TestServer) -> None:
        """TraceRequestStartParams.headers: "Headers that will be used for the request, can
        be mutated"."""
        config = aiohyper.TraceConfig()

        async def add_header(session: Any, ctx: Any, params: Any) -> None:
            params.headers["X-Trace-Id"] = "42"

        config.on_request_start.append(add_header)

        async def echo_header(request: web.Request) -> web.Response:
            return web.Response(text=request.headers.get("X-Trace-Id", "missing"))

        app = web.Application()
        app.router.add_get("/", echo_header)
        async with TestServer(app) as srv:
            async with aiohyper.ClientSession(trace_configs=[config]) as session:
                async with session.get(srv.make_url("/")) as resp:
                    assert await resp.text() == "42"

    async def test_redirect(self, server: TestServer) -> None:
        """start → … → redirect → headers_sent → … → end; redirect params describe the
        request that got the redirect and its response."""
        rec = Recorder()
        async with aiohyper.ClientSession(trace_configs=[rec.config]) as session:
            async with session.get(server.make_url("/redirect")) as resp:
                await resp.read()
        names = [n for n in rec.names if not n.startswith("connection_")]
        assert names == [
            "request_start",
            "request_headers_sent",
            "request_redirect",
            "request_headers_sent",
            "request_end",
            "response_chunk_received",
        ]
        (redirect_params,) = rec.params("on_request_redirect")
        assert redirect_params.method == "GET"
        assert redirect_params.url == server.make_url("/redirect")
        assert redirect_params.response.status == 302
        assert isinstance(redirect_params.headers, CIMultiDict)
        (end,) = rec.params("on_request_end")
        assert end.url == server.make_url("/hello")
        assert end.response.status == 200
        sent_urls = [p.url for p in rec.params("on_request_headers_sent")]
        assert sent_urls == [server.make_url("/redirect"), server.make_url("/hello")]

    async def test_exception(self) -> None:
        rec = Recorder()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # nothing listens there
        url = URL(f"http://127.0.0.1:{port}/")
        async with aiohyper.ClientSession(trace_configs=[rec.config]) as session:
            with pytest.raises(aiohyper.ClientConnectorError) as info:
                await session.get(url)
        assert rec.names[0] == "request_start"
        assert rec.names[-1] == "request_exception"
        assert "request_end" not in rec.names
        (params,) = rec.params("on_request_exception")
        assert params.method == "GET"
        assert params.url == url
        assert params.exception is info.value
        assert isinstance(params.headers, CIMultiDict)

    async def test_queued(self, server: TestServer) -> None:
        """A request waiting for a free connection: queued_start, then queued_end before it
        reuses (or creates) a connection."""
        rec = Recorder()
        connector = aiohyper.TCPConnector(limit=1)
        async with aiohyper.ClientSession(
            connector=connector, trace_configs=[rec.config]
        ) as session:

            async def fetch(ctx: str) -> None:
                async with session.get(server.make_url("/slow"), trace_request_ctx=ctx) as r:
                    await r.read()

            await asyncio.gather(fetch("a"), fetch("b"))
        by_ctx: dict[str, list[str]] = {"a": [], "b": []}
        for name, _, ctx, _ in rec.events:
            by_ctx[ctx.trace_request_ctx].append(name[3:])
        queued = [names for names in by_ctx.values() if "connection_queued_start" in names]
        assert len(queued) == 1
        names = queued[0]
        i = names.index("connection_queued_start")
        assert names[i + 1] == "connection_queued_end"
        assert names[i + 2] in ("connection_reuseconn", "connection_create_start")

    async def test_several_trace_configs(self, server: TestServer) -> None:
        first, second = Recorder(), Recorder()
        async with aiohyper.ClientSession(trace_configs=[first.config, second.config]) as s:
            async with s.get(server.make_url("/hello")) as resp:
                await resp.read()
        assert first.names == second.names
        assert first.events[0][2] is not second.events[0][2]

    async def test_session_freezes_trace_configs(self) -> None:
        config = aiohyper.TraceConfig()
        async with aiohyper.ClientSession(trace_configs=[config]):
            assert config.on_request_start.frozen
            with pytest.raises(RuntimeError):
                config.on_request_start.append(lambda *a: None)  # type: ignore[arg-type]
