"""HTTP proxies: what a request through a proxy adds, and the CONNECT tunnel.

A plain ``http://`` request goes to the proxy as is, with its target in absolute form (written
by ``ClientRequest``); `apply_forward_proxy_headers` adds the proxy's headers and credentials to
it, on every request, since a pooled connection to the proxy serves many. An ``https://`` (or
``wss://``) request first asks the proxy for a tunnel with ``CONNECT host:port`` (`open_tunnel`);
TLS to the target then runs inside the tunnel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multidict import CIMultiDict, CIMultiDictProxy

from .. import hdrs
from .._http._writer import serialize_headers
from ..helpers import BasicAuth
from ..http_exceptions import HttpProcessingError
from ._exceptions import ClientHttpProxyError
from ._request import RequestInfo

if TYPE_CHECKING:
    from ._protocol import ResponseHandler
    from ._request import ClientRequest
    from ._timeout import ClientTimeout

__all__ = ("apply_forward_proxy_headers", "open_tunnel", "proxy_authorization")


def proxy_authorization(req: ClientRequest) -> str | None:
    """The ``Proxy-Authorization`` value for ``req``: from ``proxy_auth``, else from
    credentials in the proxy URL."""
    if req.proxy_auth is not None:
        return req.proxy_auth.encode()
    proxy = req.proxy
    if proxy is not None and (proxy.raw_user is not None or proxy.raw_password is not None):
        auth = BasicAuth.from_url(proxy)
        if auth is not None:
            return auth.encode()
    return None


def apply_forward_proxy_headers(req: ClientRequest) -> None:
    """Add the proxy's headers (without overriding the request's own) and credentials to a
    request forwarded by a plain HTTP proxy."""
    headers = req.headers
    proxy_headers = req.proxy_headers
    if proxy_headers:
        for name, value in proxy_headers.items():
            if name not in headers:
                headers.add(name, value)
    auth = proxy_authorization(req)
    if auth is not None:
        headers[hdrs.PROXY_AUTHORIZATION] = auth


def _authority(host: str, port: int | None) -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


async def open_tunnel(
    proto: ResponseHandler, req: ClientRequest, timeout: ClientTimeout | None
) -> None:
    """Ask the proxy on ``proto`` for a tunnel to ``req``'s host and wait for its answer.

    Raises ``ClientHttpProxyError`` when the proxy refuses (any status but 2xx) or answers
    with a malformed head, ``ServerDisconnectedError`` when it closes the connection first.
    """
    proxy = req.proxy
    assert proxy is not None
    authority = _authority(req.host, req.port)
    headers: CIMultiDict[str] = CIMultiDict()
    headers[hdrs.HOST] = authority
    if req.proxy_headers:
        for name, value in req.proxy_headers.items():
            if name != hdrs.HOST:
                headers.add(name, value)
    auth = proxy_authorization(req)
    if auth is not None:
        headers[hdrs.PROXY_AUTHORIZATION] = auth
    head = serialize_headers(f"{hdrs.METH_CONNECT} {authority} HTTP/1.1", headers)

    # A 2xx to CONNECT has no body (RFC 9110 §9.3.6): what follows belongs to the tunnel.
    proto.set_response_params(
        skip_payload=True,
        read_timeout=timeout.sock_read if timeout is not None else None,
        timeout_ceil_threshold=timeout.ceil_threshold if timeout is not None else 5,
    )
    transport = proto.transport
    assert transport is not None
    transport.write(head)
    info = RequestInfo(proxy, hdrs.METH_CONNECT, CIMultiDictProxy(headers))
    try:
        message, _ = await proto.read()
    except HttpProcessingError as exc:
        raise ClientHttpProxyError(
            info, (), status=exc.code, message=f"Invalid CONNECT response: {exc.message}"
        ) from exc
    if not 200 <= message.code < 300:
        raise ClientHttpProxyError(
            info, (), status=message.code, message=message.reason, headers=message.headers
        )
