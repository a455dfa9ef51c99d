"""A form with a file upload: GET shows the form, POST reads it with ``await request.post()``."""

from __future__ import annotations

import asyncio
import hashlib
from html import escape
from typing import IO

from aiohyper import web

from .pages import html_page

__all__ = ("MAX_UPLOAD_SIZE", "routes")

#: The largest request body the demo accepts (the Application's ``client_max_size``).
MAX_UPLOAD_SIZE = 8 * 1024 * 1024

routes = web.RouteTableDef()

_FORM = """<form method="post" action="/upload" enctype="multipart/form-data">
<p><label>Note <input type="text" name="note" placeholder="optional"></label></p>
<p><label>File <input type="file" name="file" required></label></p>
<p><button type="submit">Upload</button></p>
</form>
<p>Files up to {limit} MiB. The server reports the file's name, size and SHA-256.</p>
"""


@routes.get("/upload", name="upload")
async def upload_form(request: web.Request) -> web.Response:
    """GET /upload: the form."""
    return html_page("Upload a file", _FORM.format(limit=MAX_UPLOAD_SIZE // (1024 * 1024)))


def _sha256_and_size(file: IO[bytes]) -> tuple[str, int]:
    """Hash an uploaded file in 64 KiB reads (it may be spooled to disk)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(65536):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


@routes.post("/upload")
async def upload(request: web.Request) -> web.Response:
    """POST /upload (multipart/form-data): show the name, size and SHA-256 of the file."""
    form = await request.post()
    field = form.get("file")
    if not isinstance(field, web.FileField):
        body = '<p class="error">The form had no file.</p>' + _FORM.format(
            limit=MAX_UPLOAD_SIZE // (1024 * 1024)
        )
        return html_page("Upload a file", body, status=400)
    note = form.get("note", "")
    # File reads block: keep them off the event loop.
    sha256, size = await asyncio.to_thread(_sha256_and_size, field.file)
    field.file.close()
    body = f"""<dl class="upload">
<dt>File name</dt><dd id="filename">{escape(field.filename)}</dd>
<dt>Content type</dt><dd id="content-type">{escape(field.content_type)}</dd>
<dt>Size</dt><dd id="size">{size}</dd>
<dt>SHA-256</dt><dd id="sha256"><code>{sha256}</code></dd>
<dt>Note</dt><dd id="note">{escape(note) if isinstance(note, str) else ""}</dd>
</dl>
<p><a href="/upload">Upload another file</a></p>
"""
    return html_page("Upload received", body)
