"""aiohyper.pytest_plugin: its fixtures, exercised by small test files run with pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

CONFTEST = """
pytest_plugins = ["aiohyper.pytest_plugin"]
"""

DOC_EXAMPLES = """
import pytest
from aiohyper import web

value = web.AppKey("value", str)


async def hello(request):
    return web.Response(text="Hello, world")


async def test_hello(aiohttp_client):
    app = web.Application()
    app.router.add_get("/", hello)
    client = await aiohttp_client(app)
    resp = await client.get("/")
    assert resp.status == 200
    text = await resp.text()
    assert "Hello, world" in text


async def previous(request):
    if request.method == "POST":
        request.app[value] = (await request.post())["value"]
        return web.Response(body=b"thanks for the data")
    return web.Response(body="value: {}".format(request.app[value]).encode("utf-8"))


@pytest.fixture
async def cli(aiohttp_client):
    app = web.Application()
    app.router.add_get("/", previous)
    app.router.add_post("/", previous)
    return await aiohttp_client(app)


async def test_set_value(cli):
    resp = await cli.post("/", data={"value": "foo"})
    assert resp.status == 200
    assert await resp.text() == "thanks for the data"
    assert cli.server.app[value] == "foo"


async def test_get_value(cli):
    cli.server.app[value] = "bar"
    resp = await cli.get("/")
    assert resp.status == 200
    assert await resp.text() == "value: bar"
"""

FIXTURES = """
import asyncio

import pytest
from aiohyper import web
from aiohyper.test_utils import RawTestServer, TestClient, TestServer

created = []


async def hello(request):
    return web.Response(text="hello " + request.path)


def make_app():
    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    return app


async def test_client_with_a_server(aiohttp_client, aiohttp_server):
    server = await aiohttp_server(make_app())
    assert isinstance(server, TestServer) and server.started
    client = await aiohttp_client(server)
    assert client.server is server
    resp = await client.get("/via-server")
    assert await resp.text() == "hello /via-server"


async def test_server_alone(aiohttp_server):
    server = await aiohttp_server(make_app())
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET /raw HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    data = await reader.read()
    writer.close()
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello /raw")


async def test_server_port_and_runner_kwargs(aiohttp_server, aiohttp_unused_port):
    port = aiohttp_unused_port()
    server = await aiohttp_server(make_app(), port=port, handler_cancellation=True)
    assert server.port == port
    assert server.handler.handler_cancellation is True


async def test_raw_server(aiohttp_raw_server, aiohttp_client):
    async def handler(request):
        return web.Response(text="OK " + request.method)

    raw_server = await aiohttp_raw_server(handler)
    assert isinstance(raw_server, RawTestServer)
    client = await aiohttp_client(raw_server)
    assert client.app is None
    resp = await client.post("/")
    assert resp.status == 200
    assert await resp.text() == "OK POST"


async def test_unused_port_in_server_kwargs(aiohttp_client, aiohttp_unused_port):
    port = aiohttp_unused_port()
    assert isinstance(port, int) and 0 < port < 65536
    client = await aiohttp_client(make_app(), server_kwargs={"port": port})
    assert client.port == port
    assert (await client.get("/")).status == 200


async def test_client_kwargs_go_to_the_client(aiohttp_client):
    async def echo(request):
        return web.Response(text=request.headers.get("X-Test", "-"))

    app = web.Application()
    app.router.add_get("/", echo)
    client = await aiohttp_client(app, headers={"X-Test": "yes"})
    assert await (await client.get("/")).text() == "yes"


async def test_unknown_argument_is_refused(aiohttp_client):
    with pytest.raises(TypeError, match="Application"):
        await aiohttp_client(object())


async def test_loop_fixture_is_the_running_loop(loop):
    assert loop is asyncio.get_running_loop()


async def test_leave_things_open(aiohttp_client, aiohttp_server, aiohttp_raw_server):
    async def handler(request):
        return web.Response(text="raw")

    client = await aiohttp_client(make_app())
    unread = await client.get("/")
    server = await aiohttp_server(make_app())
    raw = await aiohttp_raw_server(handler)
    created.extend([client, unread, server, raw])


def test_everything_was_closed_at_teardown():
    client, unread, server, raw = created
    assert client.session.closed
    assert client.server.closed
    assert unread.closed
    assert server.closed
    assert raw.closed
"""

CLIENT_CLS = """
import pytest
from aiohyper import web
from aiohyper.test_utils import TestClient


class MyClient(TestClient):
    async def login(self, *, user, pw):
        return await self.post("/login", json={"username": user, "password": pw})


@pytest.fixture
def aiohttp_client_cls():
    return MyClient


async def login(request):
    data = await request.json()
    return web.Response(text="welcome " + data["username"])


async def test_login(aiohttp_client):
    app = web.Application()
    app.router.add_post("/login", login)
    client = await aiohttp_client(app)
    assert isinstance(client, MyClient)
    resp = await client.login(user="admin", pw="s3cr3t")
    assert await resp.text() == "welcome admin"
"""

STRICT_MODE = """
import pytest
from aiohyper import web


@pytest.mark.asyncio
async def test_marked(aiohttp_client):
    client = await aiohttp_client(web.Application())
    assert (await client.get("/missing")).status == 404
"""


# Inner runs skip the plugins they don't need, to stay fast.
LEAN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    return pytester


def test_documented_examples(project: pytest.Pytester) -> None:
    project.makepyfile(test_docs=DOC_EXAMPLES)
    result = project.runpytest(*LEAN)
    result.assert_outcomes(passed=3)


def test_fixtures(project: pytest.Pytester) -> None:
    project.makepyfile(test_fixtures=FIXTURES)
    result = project.runpytest(*LEAN)
    result.assert_outcomes(passed=10)


def test_client_class_can_be_replaced(project: pytest.Pytester) -> None:
    project.makepyfile(test_client_cls=CLIENT_CLS)
    result = project.runpytest(*LEAN)
    result.assert_outcomes(passed=1)


def test_loaded_with_dash_p_in_strict_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.replace("auto", "strict"))
    pytester.makepyfile(test_strict=STRICT_MODE)
    result = pytester.runpytest("-p", "aiohyper.pytest_plugin", *LEAN)
    result.assert_outcomes(passed=1)


def test_without_the_plugin_the_fixtures_are_missing(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_strict=STRICT_MODE)
    result = pytester.runpytest(*LEAN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'aiohttp_client' not found*"])
