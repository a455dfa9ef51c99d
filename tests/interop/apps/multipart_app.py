"""A starlette app (forms parsed by python-multipart) that uvicorn serves to our client.

It reports what a form parser other than ours made of a body our `FormData` / `MultipartWriter`
sent, so the multipart interop tests check our writer from the other side of a real socket.

- ``POST /form``: ``await request.form()``; answers a JSON object with ``content_type`` (the
  request's, boundary included), ``transfer_encoding`` and ``fields``: one entry per field in
  order, ``{"name", "value"}`` for a text field, ``{"name", "filename", "content_type", "size",
  "sha256", "headers"}`` for a file (``headers`` are the part's own headers).
- ``POST /raw``: the request body's length and SHA-256, and its first 4 KiB as Latin-1 text (to
  look at the wire form of a small body).
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# Read uploaded files back in pieces: the app must not hold a large file in memory to hash it.
_READ_SIZE = 256 * 1024


async def _describe_file(name: str, upload: UploadFile) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    while chunk := await upload.read(_READ_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return {
        "name": name,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": size,
        "sha256": digest.hexdigest(),
        "headers": [[key, value] for key, value in upload.headers.items()],
    }


async def form(request: Request) -> JSONResponse:
    fields: list[dict[str, Any]] = []
    async with request.form(max_files=100, max_fields=100, max_part_size=4 * 1024**2) as data:
        for name, value in data.multi_items():
            if isinstance(value, UploadFile):
                fields.append(await _describe_file(name, value))
            else:
                fields.append({"name": name, "value": value})
    return JSONResponse(
        {
            "content_type": request.headers.get("content-type"),
            "transfer_encoding": request.headers.get("transfer-encoding"),
            "content_length": request.headers.get("content-length"),
            "fields": fields,
        }
    )


async def raw(request: Request) -> JSONResponse:
    digest = hashlib.sha256()
    size = 0
    head = bytearray()
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
        if len(head) < 4096:
            head += chunk[: 4096 - len(head)]
    return JSONResponse(
        {"size": size, "sha256": digest.hexdigest(), "head": head.decode("latin-1")}
    )


app = Starlette(
    routes=[Route("/form", form, methods=["POST"]), Route("/raw", raw, methods=["POST"])]
)
