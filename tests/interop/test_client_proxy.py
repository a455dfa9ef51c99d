"""Our client through tinyproxy (the Debian binary): forward proxying and CONNECT tunnels.

Whether a request really went through the proxy is checked from both ends: the upstream echo
app reports the client port it saw, and the client knows its own local port. Direct, the two are
equal; proxied, the upstream sees the proxy's connection instead. Plain-http requests also carry
the proxy's ``Via`` header; a CONNECT tunnel is opaque, so it carries none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import aiohyper as aiohttp

# Fixtures (conftest.py): peers, tls_files.

pytestmark = pytest.mark.timeout(20)

_CONFIG = """\
Port {port}
Listen 127.0.0.1
Timeout 10
Allow 127.0.0.1
MaxClients 50
LogLevel Info
ConnectPort {tls_port}
ConnectPort {dead_port}
"""

USER, PASSWORD = "proxyuser", "proxy-pa55"
# tinyproxy answers missing credentials with 407 but wrong ones with 401 (its own quirk).
_BAD_CREDENTIALS = (401, 407)


@dataclass(frozen=True, slots=True)
class Site:
    """The proxies and upstreams of this module (all URLs)."""

    http: str  # plain-http upstream (echo app)
    https: str  # TLS upstream (echo app), allowed as a CONNECT target
    dead_https: str  # an allowed CONNECT target where nothing listens
    proxy: str  # open tinyproxy
    auth_proxy: str  # tinyproxy that wants Basic credentials
    dead_proxy: str  # nothing listens there


def _tinyproxy(
    peers: Any, workdir: Path, name: str, *, tls_port: int, dead_port: int, auth: bool
) -> Any:
    binary = peers.require_binary("tinyproxy")
    port = peers.free_port()
    config = _CONFIG.format(port=port, tls_port=tls_port, dead_port=dead_port)
    if auth:
        config += f"BasicAuth {USER} {PASSWORD}\n"
    path = workdir / f"{name}.conf"
    path.write_text(config)
    return peers.run(name, [binary, "-d", "-c", str(path)], port=port, workdir=workdir)


@pytest.fixture(scope="module")
def site(peers: Any, tls_files: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    pytest.importorskip("uvicorn")
    peers.require_binary("tinyproxy")
    workdir = tmp_path_factory.mktemp("proxy")
    dead_port = peers.free_port()
    with (
        peers.uvicorn("upstream-http", workdir=workdir) as http,
        peers.uvicorn("upstream-https", workdir=workdir, tls=tls_files) as https,
    ):
        ports = {"tls_port": https.port, "dead_port": dead_port}
        with (
            _tinyproxy(peers, workdir, "tinyproxy", auth=False, **ports) as proxy,
            _tinyproxy(peers, workdir, "tinyproxy-auth", auth=True, **ports) as auth_proxy,
        ):
            yield Site(
                http=http.base_url,
                https=f"https://127.0.0.1:{https.port}",
                dead_https=f"https://127.0.0.1:{dead_port}",
                proxy=proxy.base_url,
                auth_proxy=auth_proxy.base_url,
                dead_proxy=f"http://127.0.0.1:{peers.free_port()}",
            )


@dataclass(frozen=True, slots=True)
class Seen:
    """One echo request: what the upstream saw, and whether it came through a proxy."""

    echo: dict[str, Any]
    proxied: bool

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.echo["headers"] if key == name]


async def _echo(
    session: aiohttp.ClientSession, url: str, method: str = "GET", **kwargs: Any
) -> Seen:
    # hold: the app finishes the body late, so the connection is still ours to look at.
    async with session.request(method, f"{url}/echo?hold=0.05", **kwargs) as resp:
        assert resp.status == 200
        assert resp.connection is not None and resp.connection.transport is not None
        local_port = resp.connection.transport.get_extra_info("sockname")[1]
        echo: dict[str, Any] = json.loads(await resp.read())
    return Seen(echo, proxied=echo["client"][1] != local_port)


# --- forward proxy (http:// URLs) ------------------------------------------------------------


async def test_http_through_proxy(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        seen = await _echo(session, site.http, "POST", data=b"through", proxy=site.proxy)
        direct = await _echo(session, site.http)
    assert seen.proxied
    assert any("tinyproxy" in via for via in seen.header("via"))
    # The proxy turned the absolute-form target back into a path for the upstream.
    assert seen.echo["path"] == "/echo"
    assert seen.echo["method"] == "POST"
    assert seen.echo["body"] == "through"
    assert seen.header("host") == [site.http.removeprefix("http://")]
    assert not direct.proxied
    assert direct.header("via") == []


async def test_session_level_proxy(site: Site) -> None:
    async with aiohttp.ClientSession(proxy=site.proxy) as session:
        seen = await _echo(session, site.http)
    assert seen.proxied


async def test_proxy_basic_auth(site: Site) -> None:
    auth = aiohttp.BasicAuth(USER, PASSWORD)
    async with aiohttp.ClientSession() as session:
        seen = await _echo(session, site.http, proxy=site.auth_proxy, proxy_auth=auth)
        assert seen.proxied
        # Credentials in the proxy URL work the same.
        url_with_credentials = site.auth_proxy.replace("http://", f"http://{USER}:{PASSWORD}@")
        seen = await _echo(session, site.http, proxy=url_with_credentials)
        assert seen.proxied


@pytest.mark.parametrize("auth", [None, aiohttp.BasicAuth(USER, "wrong")])
async def test_proxy_auth_refused_for_http(site: Site, auth: aiohttp.BasicAuth | None) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{site.http}/echo", proxy=site.auth_proxy, proxy_auth=auth) as resp,
    ):
        # For a forwarded request the proxy's answer is the response.
        if auth is None:
            assert resp.status == 407
            assert "Proxy-Authenticate" in resp.headers
        else:
            assert resp.status in _BAD_CREDENTIALS
        await resp.read()


# --- CONNECT tunnels (https:// URLs) ---------------------------------------------------------


async def test_https_through_connect_tunnel(site: Site, tls_files: Any) -> None:
    ctx = tls_files.client_context()
    async with aiohttp.ClientSession() as session:
        seen = await _echo(session, site.https, "PUT", data=b"tunnel", proxy=site.proxy, ssl=ctx)
    assert seen.proxied
    assert seen.echo["scheme"] == "https"
    assert seen.echo["method"] == "PUT"
    assert seen.echo["body"] == "tunnel"
    assert seen.header("via") == []  # the proxy cannot see inside the tunnel
    assert seen.header("proxy-authorization") == []


async def test_tunnel_still_verifies_the_server(site: Site) -> None:
    # The default context does not trust the trustme CA, tunnel or not.
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(f"{site.https}/echo", proxy=site.proxy)


async def test_connect_tunnel_with_proxy_auth(site: Site, tls_files: Any) -> None:
    auth = aiohttp.BasicAuth(USER, PASSWORD)
    ctx = tls_files.client_context()
    async with aiohttp.ClientSession() as session:
        seen = await _echo(session, site.https, proxy=site.auth_proxy, proxy_auth=auth, ssl=ctx)
    assert seen.proxied
    # The credentials were for the proxy (on CONNECT), never for the origin inside the tunnel.
    assert seen.header("proxy-authorization") == []
    assert seen.header("authorization") == []


@pytest.mark.parametrize("auth", [None, aiohttp.BasicAuth(USER, "wrong")])
async def test_connect_refused_without_proxy_auth(
    site: Site, tls_files: Any, auth: aiohttp.BasicAuth | None
) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientHttpProxyError) as info:
            await session.get(
                f"{site.https}/echo",
                proxy=site.auth_proxy,
                proxy_auth=auth,
                ssl=tls_files.client_context(),
            )
    assert info.value.status == 407 if auth is None else info.value.status in _BAD_CREDENTIALS


async def test_connect_to_forbidden_port(site: Site) -> None:
    # The plain-http upstream's port is not a ConnectPort of the proxy.
    https_to_http_port = site.http.replace("http://", "https://")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientHttpProxyError) as info:
            await session.get(f"{https_to_http_port}/echo", proxy=site.proxy, ssl=False)
    assert info.value.status == 403


async def test_connect_to_unreachable_target(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientHttpProxyError) as info:
            await session.get(f"{site.dead_https}/echo", proxy=site.proxy, ssl=False)
    assert info.value.status >= 500


# --- proxy errors ----------------------------------------------------------------------------


async def test_unreachable_proxy(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientProxyConnectionError):
            await session.get(f"{site.http}/echo", proxy=site.dead_proxy)
        with pytest.raises(aiohttp.ClientProxyConnectionError):
            await session.get(f"{site.https}/echo", proxy=site.dead_proxy, ssl=False)


async def test_proxy_answers_for_unreachable_upstream(site: Site) -> None:
    dead_http = site.dead_https.replace("https://", "http://")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{dead_http}/echo", proxy=site.proxy) as resp,
    ):
        assert resp.status >= 500
        await resp.read()


# --- proxies from the environment (trust_env) ------------------------------------------------


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ws_proxy", "wss_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)  # urllib ignores HTTP_PROXY under CGI
    return monkeypatch


async def test_http_proxy_from_environment(
    site: Site, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", site.proxy)
    async with aiohttp.ClientSession(trust_env=True) as session:
        seen = await _echo(session, site.http)
    assert seen.proxied
    assert any("tinyproxy" in via for via in seen.header("via"))
    # Without trust_env the environment is ignored.
    async with aiohttp.ClientSession() as session:
        assert not (await _echo(session, site.http)).proxied


async def test_https_proxy_from_environment(
    site: Site, tls_files: Any, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTPS_PROXY", site.proxy)
    async with aiohttp.ClientSession(trust_env=True) as session:
        seen = await _echo(session, site.https, ssl=tls_files.client_context())
        assert seen.proxied
        # HTTPS_PROXY does not apply to http:// URLs.
        assert not (await _echo(session, site.http)).proxied


async def test_proxy_credentials_from_environment(
    site: Site, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv(
        "HTTP_PROXY", site.auth_proxy.replace("http://", f"http://{USER}:{PASSWORD}@")
    )
    async with aiohttp.ClientSession(trust_env=True) as session:
        assert (await _echo(session, site.http)).proxied


async def test_no_proxy_bypasses_the_environment_proxy(
    site: Site, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", site.proxy)
    clean_proxy_env.setenv("NO_PROXY", "example.com,127.0.0.1")
    async with aiohttp.ClientSession(trust_env=True) as session:
        seen = await _echo(session, site.http)
    assert not seen.proxied
    assert seen.header("via") == []


async def test_explicit_proxy_wins_over_environment(
    site: Site, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", site.dead_proxy)
    async with aiohttp.ClientSession(trust_env=True) as session:
        assert (await _echo(session, site.http, proxy=site.proxy)).proxied
