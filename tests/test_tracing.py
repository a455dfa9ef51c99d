"""Tracing: TraceConfig signals, their params, and the Trace object the client calls."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohyper import tracing
from aiohyper.tracing import (
    Trace,
    TraceConfig,
    TraceConnectionCreateEndParams,
    TraceConnectionCreateStartParams,
    TraceConnectionQueuedEndParams,
    TraceConnectionQueuedStartParams,
    TraceConnectionReuseconnParams,
    TraceDnsCacheHitParams,
    TraceDnsCacheMissParams,
    TraceDnsResolveHostEndParams,
    TraceDnsResolveHostStartParams,
    TraceRequestChunkSentParams,
    TraceRequestEndParams,
    TraceRequestExceptionParams,
    TraceRequestHeadersSentParams,
    TraceRequestRedirectParams,
    TraceRequestStartParams,
    TraceResponseChunkReceivedParams,
)

URL_ = URL("http://example.com/path")
HEADERS: CIMultiDict[str] = CIMultiDict({"X-Test": "1"})
RESPONSE = object()
EXCEPTION = ValueError("boom")

# (signal, Trace method, its arguments, params class, expected params fields)
CASES: list[tuple[str, str, tuple[Any, ...], type, dict[str, Any]]] = [
    (
        "on_request_start",
        "send_request_start",
        ("GET", URL_, HEADERS),
        TraceRequestStartParams,
        {"method": "GET", "url": URL_, "headers": HEADERS},
    ),
    (
        "on_request_chunk_sent",
        "send_request_chunk_sent",
        ("POST", URL_, b"abc"),
        TraceRequestChunkSentParams,
        {"method": "POST", "url": URL_, "chunk": b"abc"},
    ),
    (
        "on_response_chunk_received",
        "send_response_chunk_received",
        ("GET", URL_, b"xyz"),
        TraceResponseChunkReceivedParams,
        {"method": "GET", "url": URL_, "chunk": b"xyz"},
    ),
    (
        "on_request_end",
        "send_request_end",
        ("GET", URL_, HEADERS, RESPONSE),
        TraceRequestEndParams,
        {"method": "GET", "url": URL_, "headers": HEADERS, "response": RESPONSE},
    ),
    (
        "on_request_exception",
        "send_request_exception",
        ("GET", URL_, HEADERS, EXCEPTION),
        TraceRequestExceptionParams,
        {"method": "GET", "url": URL_, "headers": HEADERS, "exception": EXCEPTION},
    ),
    (
        "on_request_redirect",
        "send_request_redirect",
        ("GET", URL_, HEADERS, RESPONSE),
        TraceRequestRedirectParams,
        {"method": "GET", "url": URL_, "headers": HEADERS, "response": RESPONSE},
    ),
    (
        "on_connection_queued_start",
        "send_connection_queued_start",
        (),
        TraceConnectionQueuedStartParams,
        {},
    ),
    (
        "on_connection_queued_end",
        "send_connection_queued_end",
        (),
        TraceConnectionQueuedEndParams,
        {},
    ),
    (
        "on_connection_create_start",
        "send_connection_create_start",
        (),
        TraceConnectionCreateStartParams,
        {},
    ),
    (
        "on_connection_create_end",
        "send_connection_create_end",
        (),
        TraceConnectionCreateEndParams,
        {},
    ),
    (
        "on_connection_reuseconn",
        "send_connection_reuseconn",
        (),
        TraceConnectionReuseconnParams,
        {},
    ),
    (
        "on_dns_resolvehost_start",
        "send_dns_resolvehost_start",
        ("example.com",),
        TraceDnsResolveHostStartParams,
        {"host": "example.com"},
    ),
    (
        "on_dns_resolvehost_end",
        "send_dns_resolvehost_end",
        ("example.com",),
        TraceDnsResolveHostEndParams,
        {"host": "example.com"},
    ),
    (
        "on_dns_cache_hit",
        "send_dns_cache_hit",
        ("example.com",),
        TraceDnsCacheHitParams,
        {"host": "example.com"},
    ),
    (
        "on_dns_cache_miss",
        "send_dns_cache_miss",
        ("example.com",),
        TraceDnsCacheMissParams,
        {"host": "example.com"},
    ),
    (
        "on_request_headers_sent",
        "send_request_headers",
        ("GET", URL_, HEADERS),
        TraceRequestHeadersSentParams,
        {"method": "GET", "url": URL_, "headers": HEADERS},
    ),
]

SIGNALS = [case[0] for case in CASES]


def test_every_documented_params_class_is_exported() -> None:
    documented = {case[3].__name__ for case in CASES} | {"TraceConfig"}
    assert set(tracing.__all__) == documented


def test_default_context_is_a_simplenamespace_with_the_request_context() -> None:
    config = TraceConfig()
    ctx = config.trace_config_ctx()
    assert isinstance(ctx, SimpleNamespace)
    assert ctx.trace_request_ctx is None
    marker = {"id": 1}
    assert config.trace_config_ctx(trace_request_ctx=marker).trace_request_ctx is marker
    assert config.trace_config_ctx() is not ctx  # one fresh context per request


def test_custom_context_factory() -> None:
    class Ctx:
        def __init__(self, trace_request_ctx: Any) -> None:
            self.request_ctx = trace_request_ctx

    config = TraceConfig(Ctx)
    ctx = config.trace_config_ctx(trace_request_ctx="r")
    assert isinstance(ctx, Ctx)
    assert ctx.request_ctx == "r"


def test_freeze_freezes_every_signal() -> None:
    config = TraceConfig()
    assert not config.frozen
    config.freeze()
    assert config.frozen
    for name in SIGNALS:
        signal = getattr(config, name)
        assert signal.frozen, name
        with pytest.raises(RuntimeError):
            signal.append(lambda *args: None)


def test_signals_are_distinct() -> None:
    config = TraceConfig()
    assert len({id(getattr(config, name)) for name in SIGNALS}) == len(SIGNALS)
    assert all(getattr(config, name) is getattr(config, name) for name in SIGNALS)


@pytest.mark.parametrize(("signal", "method", "args", "params_cls", "fields"), CASES, ids=SIGNALS)
async def test_trace_sends_documented_params(
    signal: str, method: str, args: tuple[Any, ...], params_cls: type, fields: dict[str, Any]
) -> None:
    session = object()
    config = TraceConfig()
    received: list[tuple[Any, Any, Any]] = []

    async def handler(session: Any, ctx: Any, params: Any) -> None:
        received.append((session, ctx, params))

    getattr(config, signal).append(handler)
    # A handler on another signal must not fire.
    other = SIGNALS[(SIGNALS.index(signal) + 1) % len(SIGNALS)]
    getattr(config, other).append(lambda *a: pytest.fail("wrong signal fired"))
    config.freeze()
    ctx = config.trace_config_ctx(trace_request_ctx="req")
    trace = Trace(session, config, ctx)

    await getattr(trace, method)(*args)

    assert len(received) == 1
    got_session, got_ctx, params = received[0]
    assert got_session is session
    assert got_ctx is ctx
    assert type(params) is params_cls
    assert {f.name for f in dataclasses.fields(params)} == set(fields)
    for name, value in fields.items():
        assert getattr(params, name) is value or getattr(params, name) == value


@pytest.mark.parametrize("params_cls", [case[3] for case in CASES], ids=SIGNALS)
def test_params_are_frozen_slotted_dataclasses(params_cls: type) -> None:
    fields = dataclasses.fields(params_cls)
    params = params_cls(*(None for _ in fields))
    assert not hasattr(params, "__dict__")
    # CPython < 3.14 raises TypeError here for frozen slotted dataclasses (gh-90562).
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        params.extra = 1
    if fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, fields[0].name, "other")


async def test_handlers_run_in_order_and_can_mutate_headers() -> None:
    config = TraceConfig()
    calls: list[str] = []

    async def first(session: Any, ctx: Any, params: TraceRequestStartParams) -> None:
        calls.append("first")
        ctx.seen = True
        params.headers["X-Trace"] = "yes"

    async def second(session: Any, ctx: Any, params: TraceRequestStartParams) -> None:
        assert ctx.seen
        calls.append("second")

    config.on_request_start.append(first)
    config.on_request_start.append(second)
    config.freeze()
    headers: CIMultiDict[str] = CIMultiDict()
    await Trace(None, config, config.trace_config_ctx()).send_request_start("GET", URL_, headers)
    assert calls == ["first", "second"]
    assert headers["X-Trace"] == "yes"


async def test_handler_exception_propagates() -> None:
    config = TraceConfig()

    async def failing(*args: Any) -> None:
        raise KeyError("handler")

    config.on_dns_cache_hit.append(failing)
    config.freeze()
    with pytest.raises(KeyError):
        await Trace(None, config, None).send_dns_cache_hit("h")


@pytest.mark.parametrize(("signal", "method", "args", "params_cls", "fields"), CASES, ids=SIGNALS)
async def test_signal_without_handlers_is_skipped(
    signal: str,
    method: str,
    args: tuple[Any, ...],
    params_cls: type,
    fields: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not frozen: sending would raise if the empty signal were actually sent.
    config = TraceConfig()
    monkeypatch.setattr(tracing, params_cls.__name__, None)  # building params would fail
    await getattr(Trace(None, config, None), method)(*args)


async def test_unfrozen_config_with_handlers_refuses_to_send() -> None:
    config = TraceConfig()

    async def handler(*args: Any) -> None:
        pass

    config.on_request_start.append(handler)
    with pytest.raises(RuntimeError):
        await Trace(None, config, None).send_request_start("GET", URL_, HEADERS)
