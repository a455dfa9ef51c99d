"""aiohyper: an asyncio HTTP client/server framework with the aiohttp 3.13 API."""

__version__ = "0.1.0"
