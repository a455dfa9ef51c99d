"""WebSocket payload masking (RFC 6455 §5.3): XOR byte ``i`` with byte ``i % 4`` of the key.

Masking and unmasking are the same operation. `apply_mask` is what the frame codec calls; it is
the first of:

* the C ``apply_mask`` of the ``websockets`` package, when that package is installed (30 GB/s
  against 0.5 GB/s in pure Python: it is what makes large frames cheap). It is an optional
  accelerator, never required: set ``AIOHYPER_NO_EXTENSIONS`` to a non-empty value to turn it
  off. Its extension file is loaded on its own, without importing the ``websockets`` package
  (~30-60 ms of imports we do not need), and checked against `python_apply_mask` before use;
* `python_apply_mask`, with no Python loop per byte, by size (benchmarks/bench_ws_mask.py):

  - small payloads: the payload and the repeated key become two big integers, XORed at once;
  - large payloads: each of the four byte lanes (``data[i::4]``) goes through
    ``bytes.translate`` with the 256-byte XOR table of its key byte; about 1.5-2x faster than
    the big-integer path past a few KiB, whose conversions stop fitting the caches.

Both return a new buffer and accept any contiguous bytes-like payload (``memoryview`` slices
included, so that a payload can be unmasked straight out of the received bytes).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Final

__all__ = ("ACCELERATED", "apply_mask", "python_apply_mask", "websocket_mask")

Buffer = bytes | bytearray | memoryview
MaskFunction = Callable[[Buffer, Buffer], bytes | bytearray]


def _xor_tables() -> tuple[bytes, ...]:
    # k * 0x0101...01 puts k in every byte (no carries), so one XOR builds a whole table.
    identity = int.from_bytes(bytes(range(256)), "little")
    ones = int.from_bytes(b"\x01" * 256, "little")
    return tuple((identity ^ (k * ones)).to_bytes(256, "little") for k in range(256))


# _XOR_TABLES[k][b] == b ^ k: one translate table per possible key byte (64 KiB in total).
_XOR_TABLES: Final = _xor_tables()

# Up to this size the big-integer XOR wins (measured on CPython 3.11-3.13, x86-64).
_INT_PATH_MAX: Final = 4096


def python_apply_mask(data: Buffer, mask: Buffer) -> bytes | bytearray:
    """``data`` XORed with the repeated 4-byte ``mask``, in pure Python (a new buffer).

    ``bytes`` for small payloads, a ``bytearray`` for large ones; both are accepted wherever
    a payload goes next (the transport, ``bytes.decode``, zlib).
    """
    n = len(data)
    if n <= _INT_PATH_MAX:
        if not n:
            return b""
        key = int.from_bytes((bytes(mask) * ((n >> 2) + 1))[:n], "little")
        return (int.from_bytes(data, "little") ^ key).to_bytes(n, "little")
    if type(data) is memoryview:
        data = data.tobytes()  # strided memoryview slices have no translate()
    tables = _XOR_TABLES
    out = bytearray(n)
    out[0::4] = data[0::4].translate(tables[mask[0]])
    out[1::4] = data[1::4].translate(tables[mask[1]])
    out[2::4] = data[2::4].translate(tables[mask[2]])
    out[3::4] = data[3::4].translate(tables[mask[3]])
    return out


def _load_accelerator() -> MaskFunction | None:
    """The C ``apply_mask`` of ``websockets.speedups``, or ``None`` (not installed, turned
    off, or not behaving as `python_apply_mask` does)."""
    if os.environ.get("AIOHYPER_NO_EXTENSIONS"):
        return None
    try:
        module = sys.modules.get("websockets.speedups")
        if module is None:
            # find_spec of a top-level name locates the package without running it.
            spec = importlib.util.find_spec("websockets")
            if spec is None or not spec.submodule_search_locations:
                return None
            for directory in spec.submodule_search_locations:
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    path = os.path.join(directory, "speedups" + suffix)
                    if os.path.isfile(path):
                        break
                else:
                    continue
                break
            else:
                return None
            loader = importlib.machinery.ExtensionFileLoader("websockets.speedups", path)
            ext_spec = importlib.util.spec_from_file_location(
                "websockets.speedups", path, loader=loader
            )
            if ext_spec is None:
                return None
            module = importlib.util.module_from_spec(ext_spec)
            loader.exec_module(module)
            # Loading registered it; unregister it so that a later ``import websockets``
            # imports it again as a proper submodule of its package.
            if sys.modules.get("websockets.speedups") is module:
                del sys.modules["websockets.speedups"]
        func: MaskFunction = module.apply_mask
        # Trust it only if it agrees with ours, on every input type the codec passes.
        sample = bytes(range(7, 250, 3))
        key = b"\x37\xfa\x21\x3d"
        expected = python_apply_mask(sample, key)
        for data in (sample, bytearray(sample), memoryview(sample)):
            if func(data, key) != expected:
                return None
        if func(memoryview(sample)[5:40], bytearray(key)) != python_apply_mask(sample[5:40], key):
            return None
        if func(b"", key) != b"":
            return None
    except Exception:
        return None
    return func


_ACCELERATOR: Final = _load_accelerator()

#: True when `apply_mask` is the C accelerator.
ACCELERATED: Final = _ACCELERATOR is not None

#: ``apply_mask(data, mask)``: ``data`` XORed with the repeated 4-byte ``mask`` (a new buffer).
apply_mask: Final[MaskFunction] = _ACCELERATOR if _ACCELERATOR is not None else python_apply_mask


def websocket_mask(mask: Buffer, data: Buffer) -> bytes | bytearray:
    """Return ``data`` XORed with the repeated 4-byte ``mask`` (a new buffer, same length)."""
    return apply_mask(data, mask)
