"""The aiohyper demo server: one small application that shows the main server features.

Run it from the repository root with ``uv run python -m examples.demo`` and open
http://127.0.0.1:8080/. It is written only against the public API (``from aiohyper import web``),
exactly as an aiohttp program uses ``aiohttp.web``.
"""

from .app import create_app as create_app

__all__ = ("create_app",)
