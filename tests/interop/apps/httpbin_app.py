"""httpbin's WSGI app (``gunicorn httpbin_app:app``) with one Python 3 bug fixed.

httpbin 0.10's ``check_digest_auth`` appends ``request.query_string`` (bytes) to a str, so any
Digest-protected URL with a query (``?require-cookie=true``) fails with a 500. The replacement
below is the same check with the query decoded; everything else is httpbin's own code: its
challenge, its parser of the ``Authorization`` header, its hash of the expected response.
"""

from __future__ import annotations

from typing import Any

import httpbin.core
import httpbin.helpers
from flask import request

app = httpbin.app


def check_digest_auth(user: str, passwd: str) -> bool | None:
    """Whether the request's Digest credentials answer httpbin's challenge for ``passwd``."""
    header = request.headers.get("Authorization")
    if not header:
        return False
    credentials: Any = httpbin.helpers.parse_authorization_header(header)
    if not credentials:
        return None
    request_uri = request.script_root + request.path
    if request.query_string:
        request_uri += "?" + request.query_string.decode("latin-1")
    expected = httpbin.helpers.response(
        credentials, passwd, {"uri": request_uri, "body": request.data, "method": request.method}
    )
    return bool(credentials.get("response") == expected)


httpbin.core.check_digest_auth = check_digest_auth
