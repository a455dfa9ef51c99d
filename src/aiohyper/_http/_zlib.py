"""The zlib implementation used for gzip/deflate, switchable with ``set_zlib_backend``."""

from __future__ import annotations

import zlib
from types import ModuleType
from typing import Any

__all__ = ("set_zlib_backend", "zlib_backend")


class _Backend:
    __slots__ = ("module",)

    def __init__(self) -> None:
        self.module: Any = zlib


zlib_backend = _Backend()


def set_zlib_backend(lib: ModuleType) -> None:
    """Use ``lib`` (a zlib-compatible module such as ``zlib_ng.zlib_ng`` or ``isal.isal_zlib``)
    for all later compression and decompression."""
    for name in ("compressobj", "decompressobj", "compress", "decompress", "MAX_WBITS"):
        if not hasattr(lib, name):
            raise TypeError(f"{lib!r} is not a zlib compatible module: it has no {name!r}")
    zlib_backend.module = lib
