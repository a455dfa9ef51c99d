"""User storage on requests and responses: ``obj["key"] = value``."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any


class LazyStateMapping(MutableMapping[str, Any]):
    """A mapping whose dict is only created on the first write (most requests and responses
    never store anything). Instances hash and compare by identity and are always truthy, as
    request and response objects must be, whatever they store.

    Subclasses provide the ``_state`` attribute (a slot or an instance attribute), ``None``
    until something is stored.
    """

    __slots__ = ()

    _state: dict[str, Any] | None

    def __getitem__(self, key: str) -> Any:
        if self._state is None:
            raise KeyError(key)
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if self._state is None:
            self._state = {}
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        if self._state is None:
            raise KeyError(key)
        del self._state[key]

    def __len__(self) -> int:
        return 0 if self._state is None else len(self._state)

    def __iter__(self) -> Iterator[str]:
        return iter(() if self._state is None else self._state)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        return True
