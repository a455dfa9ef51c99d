"""The HTTP client: sessions, requests and responses, the connection pool (``aiohttp`` client API).

The public names are re-exported by ``aiohyper/__init__.py``; the modules here are private.
"""
