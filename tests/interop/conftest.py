"""Helpers for the interop tests: find real peers, serve an application, run a command.

A peer that is missing skips its tests on a developer machine, but fails them under ``CI=true``:
CI must prove interoperability, not silently skip it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from aiohyper import web


def in_ci() -> bool:
    """Whether the tests run under CI (``CI`` set to a true value, as CI services do)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def require_binary(name: str) -> str:
    """The path of the executable ``name``; skip the test when it is missing (fail under CI)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name!r} is not installed (needed as an interop peer)"
        if in_ci():
            pytest.fail(message + "; CI must run the interop tests", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture
def curl() -> str:
    """The path of the ``curl`` binary."""
    return require_binary("curl")


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a finished peer process left: exit status and both outputs (bytes)."""

    returncode: int
    stdout: bytes
    stderr: bytes


RunCommand = Callable[..., Awaitable[CommandResult]]


@pytest.fixture
def run_command() -> RunCommand:
    """``await run_command(*argv, timeout=10)``: run a peer without blocking the loop."""

    async def run(*argv: str, timeout: float = 10.0) -> CommandResult:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(timeout):
                stdout, stderr = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return CommandResult(proc.returncode, stdout, stderr)

    return run


ServeApp = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """``base_url = await serve_app(app, **runner_kwargs)``: serve ``app`` on 127.0.0.1 on a
    free port through `AppRunner` + `TCPSite`; cleaned up after the test."""
    runners: list[web.AppRunner] = []

    async def serve(app: web.Application, **kwargs: Any) -> str:
        runner = web.AppRunner(app, **kwargs)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield serve
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture(name="require_binary")
def require_binary_fixture() -> Callable[[str], str]:
    """`require_binary` for test modules (conftest modules are not importable by name)."""
    return require_binary
