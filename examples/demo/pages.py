"""The HTML layout shared by every page of the demo."""

from __future__ import annotations

from html import escape

from aiohyper import web

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} · aiohyper demo</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header><a href="/"><img src="/static/logo.svg" alt="" width="32" height="32"> aiohyper demo</a>
</header>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""


def html_page(title: str, body: str, *, status: int = 200) -> web.Response:
    """A complete HTML page; ``title`` is plain text, ``body`` is already-escaped HTML."""
    return web.Response(
        text=_LAYOUT.format(title=escape(title), body=body),
        status=status,
        content_type="text/html",
    )
