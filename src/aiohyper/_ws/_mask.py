"""WebSocket payload masking (RFC 6455 §5.3) without a Python loop per byte.

Masking XORs byte ``i`` of the payload with byte ``i % 4`` of the 4-byte key; unmasking is the
same operation. Two whole-buffer strategies, picked by size (see benchmarks/bench_ws_mask.py):

* small payloads: the payload and the repeated key become two big integers, XORed at once;
* large payloads: each of the four byte lanes (``data[i::4]``) goes through ``bytes.translate``
  with the 256-byte XOR table of its key byte; C loops throughout, about 2x faster than the
  big-integer path past a few KiB, whose conversions stop fitting the caches.
"""

from __future__ import annotations

from typing import Final

__all__ = ("websocket_mask",)

# _XOR_TABLES[k][b] == b ^ k: one translate table per possible key byte (64 KiB in total).
_XOR_TABLES: Final = tuple(bytes(b ^ k for b in range(256)) for k in range(256))

# Below this size the big-integer XOR wins (measured on CPython 3.11-3.13, x86-64).
_INT_PATH_MAX: Final = 4096


def websocket_mask(mask: bytes | bytearray, data: bytes | bytearray) -> bytes | bytearray:
    """Return ``data`` XORed with the repeated 4-byte ``mask`` (a new buffer, same length).

    The result is ``bytes`` for small payloads and a ``bytearray`` for large ones; both are
    accepted wherever a payload goes next (the transport, ``bytes.decode``, zlib).
    """
    n = len(data)
    if n <= _INT_PATH_MAX:
        if not n:
            return b""
        key = int.from_bytes((mask * ((n >> 2) + 1))[:n], "little")
        return (int.from_bytes(data, "little") ^ key).to_bytes(n, "little")
    tables = _XOR_TABLES
    out = bytearray(n)
    out[0::4] = data[0::4].translate(tables[mask[0]])
    out[1::4] = data[1::4].translate(tables[mask[1]])
    out[2::4] = data[2::4].translate(tables[mask[2]])
    out[3::4] = data[3::4].translate(tables[mask[3]])
    return out
