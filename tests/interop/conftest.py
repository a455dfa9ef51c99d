"""Helpers for the interop tests: find real peers, serve an application, run a command.

A peer that is missing skips its tests on a developer machine, but fails them under ``CI=true``:
CI must prove interoperability, not silently skip it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiohyper import web

# The small ASGI/WSGI apps that real servers run for the client interop tests.
APPS_DIR = Path(__file__).parent / "apps"


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


# --- real servers as subprocesses (nginx, uvicorn, gunicorn, tinyproxy) ----------------------


@dataclass(slots=True)
class PeerProcess:
    """A real server running as a subprocess, listening on ``127.0.0.1:port``.

    Its stdout and stderr go to ``log`` (a file, so a chatty peer never blocks on a full pipe).
    """

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, size: int = 4000) -> str:
        """The end of the peer's output, for error messages."""
        try:
            return self.log.read_bytes()[-size:].decode("utf-8", "replace")
        except OSError:
            return ""


class PeerLauncher:
    """Starts real servers for module-scoped fixtures and always stops them.

    ``with peers.run(name, argv, port=..., workdir=...) as peer:`` waits until the port accepts
    connections (failing with the peer's output when it dies first) and stops the process
    (SIGTERM, then SIGKILL) on exit. Anything still running at the end of the session is killed.
    """

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    require_binary = staticmethod(require_binary)

    @staticmethod
    def free_port() -> int:
        """A TCP port on 127.0.0.1 that nothing listens on right now."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port

    @contextlib.contextmanager
    def run(
        self,
        name: str,
        argv: list[str],
        *,
        port: int,
        workdir: Path,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        ready_timeout: float = 20.0,
    ) -> Iterator[PeerProcess]:
        """Run ``argv`` until the block ends; the peer must listen on 127.0.0.1:``port``."""
        log_path = workdir / f"{name}.out"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal must not reach it first
            )
        self._running.append(process)
        peer = PeerProcess(name, port, process, log_path)
        try:
            self._wait_listening(peer, ready_timeout)
            yield peer
        finally:
            self._stop(process)

    def _wait_listening(self, peer: PeerProcess, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if peer.process.poll() is not None:
                raise RuntimeError(
                    f"{peer.name} exited with status {peer.process.returncode} before listening "
                    f"on port {peer.port}:\n{peer.log_tail()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", peer.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{peer.name} did not listen on port {peer.port} within {timeout} s:\n"
                    f"{peer.log_tail()}"
                )
            time.sleep(0.05)

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process in self._running:
            self._running.remove(process)

    def uvicorn(
        self,
        name: str,
        *,
        workdir: Path,
        app: str = "echo_asgi:app",
        tls: TlsFiles | None = None,
        keep_alive: int = 30,
    ) -> contextlib.AbstractContextManager[PeerProcess]:
        """Run uvicorn serving ``app`` (a module of ``tests/interop/apps``) on a free port,
        over TLS with ``tls``'s certificate when given."""
        port = self.free_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--app-dir",
            str(APPS_DIR),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--timeout-keep-alive",
            str(keep_alive),
            "--timeout-graceful-shutdown",
            "1",
        ]
        if tls is not None:
            argv += ["--ssl-certfile", str(tls.cert_pem), "--ssl-keyfile", str(tls.key_pem)]
        return self.run(name, argv, port=port, workdir=workdir)

    def stop_all(self) -> None:
        """Stop every peer still running (the end-of-session safety net)."""
        for process in list(self._running):
            self._stop(process)


@pytest.fixture(scope="session")
def peers() -> Iterator[PeerLauncher]:
    """The `PeerLauncher` for module-scoped server fixtures."""
    launcher = PeerLauncher()
    yield launcher
    launcher.stop_all()


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed; its last value.

    Peers write their logs just after answering, so a test may read a log a moment early.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(name="wait_for", scope="session")
def wait_for_fixture() -> Callable[..., bool]:
    """`wait_for` for test modules."""
    return wait_for


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A trustme CA and a server certificate it issued for ``127.0.0.1`` and ``localhost``."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path
    cert_der_sha256: bytes  # the server certificate's SHA-256 digest (for `Fingerprint`)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts the CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_pem))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A fresh trustme CA and server certificate, written to a temporary directory."""
    trustme = pytest.importorskip("trustme")
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(directory / "ca.pem", directory / "cert.pem", directory / "key.pem", b"")
    ca.cert_pem.write_to_path(str(files.ca_pem))
    cert.private_key_pem.write_to_path(str(files.key_pem))
    for blob in cert.cert_chain_pems:
        blob.write_to_path(str(files.cert_pem), append=True)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode("ascii"))
    return dataclasses.replace(files, cert_der_sha256=hashlib.sha256(der).digest())


# --- multipart interop: our server describing the forms it received ---------------------------


def make_tricky_bytes(seed: int, size: int, near_misses: tuple[bytes, ...] = ()) -> bytes:
    """``size`` pseudo-random bytes (the same for the same ``seed``) salted with what trips
    multipart parsers: CR, LF, ``--``, ``\\r\\n--``, boundary-looking lines, and
    ``near_misses`` (e.g. prefixes of the real boundary). Never contains ``CRLF--`` followed by
    a real boundary unless a near miss is one."""
    import random

    rng = random.Random(seed)
    salts = (
        b"\r",
        b"\n",
        b"\r\n",
        b"--",
        b"\r\n--",
        b"\r\n\r\n",
        b"--\r\n",
        b"\r\n------------------------" + rng.randbytes(8).hex().encode(),
        b"\r\n--" + rng.randbytes(16).hex().encode() + b"--\r\n",
        b'\r\nContent-Disposition: form-data; name="evil"\r\n\r\n',
        *near_misses,
    )
    out = bytearray()
    while len(out) < size:
        out += rng.randbytes(rng.randrange(0, 600))
        out += rng.choice(salts)
    return bytes(out[:size])


@pytest.fixture(name="tricky_bytes", scope="session")
def tricky_bytes_fixture() -> Callable[..., bytes]:
    """`make_tricky_bytes` for test modules."""
    return make_tricky_bytes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _describe_post(request: web.Request) -> web.Response:
    """``await request.post()``, field by field, in order."""
    fields: list[dict[str, Any]] = []
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            fields.append(
                {
                    "name": name,
                    "field_name": value.name,
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(data),
                    "sha256": _sha256(data),
                    "headers": [[k, v] for k, v in value.headers.items()],
                }
            )
            value.file.close()
        elif isinstance(value, bytes):
            fields.append({"name": name, "bytes_size": len(value), "sha256": _sha256(value)})
        else:
            fields.append({"name": name, "value": value})
    return web.json_response({"fields": fields})


async def _describe_multipart(request: web.Request) -> web.Response:
    """``await request.multipart()``, streaming each part in small pieces."""
    from aiohyper import BodyPartReader

    reader = await request.multipart()
    fields: list[dict[str, Any]] = []
    async for part in reader:
        assert isinstance(part, BodyPartReader), "nested multipart not expected here"
        digest = hashlib.sha256()
        size = 0
        head = bytearray()
        while chunk := await part.read_chunk(4096):
            digest.update(chunk)
            size += len(chunk)
            if len(head) < 1024:
                head += chunk[: 1024 - len(head)]
        fields.append(
            {
                "name": part.name,
                "filename": part.filename,
                "content_type": part.headers.get("Content-Type"),
                "size": size,
                "sha256": digest.hexdigest(),
                "text": head.decode("utf-8", "replace") if part.filename is None else None,
            }
        )
    return web.json_response({"fields": fields})


@pytest.fixture
async def form_echo(serve_app: ServeApp) -> str:
    """Base URL of our server describing the multipart/urlencoded forms it receives:
    ``POST /post`` through ``request.post()``, ``POST /multipart`` through
    ``request.multipart()``. Answers ``{"fields": [...]}``, one entry per field in order: files
    with name, filename, content type, size and SHA-256; text fields with their value."""
    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_post("/post", _describe_post)
    app.router.add_post("/multipart", _describe_multipart)
    return await serve_app(app)
