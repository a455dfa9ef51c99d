"""A JSON API over an in-memory store: ``/api/items`` and ``/api/items/{id}``.

The store lives in the application under the typed key `ITEMS`, so every handler reaches it
through ``request.app[ITEMS]`` (or ``request.config_dict[ITEMS]`` from a sub-application).
"""

from __future__ import annotations

from typing import Any

from aiohyper import web

__all__ = ("ITEMS", "ItemStore", "routes")

Item = dict[str, Any]


class ItemStore:
    """Items (``{"id", "name", "quantity"}``) kept in memory, numbered from 1."""

    __slots__ = ("_items", "_next_id")

    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._items)

    def all(self) -> list[Item]:
        """Every item, in id order."""
        return list(self._items.values())

    def get(self, item_id: int) -> Item | None:
        """The item ``item_id``, or None."""
        return self._items.get(item_id)

    def add(self, name: str, quantity: int) -> Item:
        """Store a new item under the next free id and return it."""
        item: Item = {"id": self._next_id, "name": name, "quantity": quantity}
        self._items[self._next_id] = item
        self._next_id += 1
        return item

    def replace(self, item_id: int, name: str, quantity: int) -> Item | None:
        """Replace the fields of item ``item_id``; None if there is no such item."""
        if item_id not in self._items:
            return None
        item: Item = {"id": item_id, "name": name, "quantity": quantity}
        self._items[item_id] = item
        return item

    def delete(self, item_id: int) -> bool:
        """Remove item ``item_id``; whether it existed."""
        return self._items.pop(item_id, None) is not None


ITEMS = web.AppKey("items", ItemStore)

routes = web.RouteTableDef()


def _item_id(request: web.Request) -> int:
    # The route only matches digits; a number too long to be an id is simply not found.
    raw = request.match_info["id"]
    if len(raw) > 18:
        raise web.HTTPNotFound(text=f"No item with id {raw[:18]}...")
    return int(raw)


async def _item_fields(request: web.Request) -> tuple[str, int]:
    """The validated ``name`` and ``quantity`` of a JSON request body (400 otherwise)."""
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="The body must be a JSON object")
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="The body must be a JSON object")
    name = data.get("name")
    quantity = data.get("quantity", 1)
    if not isinstance(name, str) or not name.strip():
        raise web.HTTPBadRequest(text='"name" must be a non-empty string')
    if type(quantity) is not int or quantity < 0:
        raise web.HTTPBadRequest(text='"quantity" must be a non-negative integer')
    return name.strip(), quantity


@routes.get("/api/items", name="items")
async def list_items(request: web.Request) -> web.Response:
    """GET /api/items: every item."""
    return web.json_response({"items": request.app[ITEMS].all()})


@routes.post("/api/items")
async def create_item(request: web.Request) -> web.Response:
    """POST /api/items with ``{"name": ..., "quantity": ...}``: 201 and the new item."""
    name, quantity = await _item_fields(request)
    item = request.app[ITEMS].add(name, quantity)
    location = request.app.router["item"].url_for(id=str(item["id"]))
    return web.json_response(item, status=201, headers={"Location": str(location)})


@routes.get(r"/api/items/{id:\d+}", name="item")
async def get_item(request: web.Request) -> web.Response:
    """GET /api/items/{id}: one item, or a 404."""
    item_id = _item_id(request)
    item = request.app[ITEMS].get(item_id)
    if item is None:
        raise web.HTTPNotFound(text=f"No item with id {item_id}")
    return web.json_response(item)


@routes.put(r"/api/items/{id:\d+}")
async def replace_item(request: web.Request) -> web.Response:
    """PUT /api/items/{id} with ``{"name": ..., "quantity": ...}``: the updated item."""
    item_id = _item_id(request)
    name, quantity = await _item_fields(request)
    item = request.app[ITEMS].replace(item_id, name, quantity)
    if item is None:
        raise web.HTTPNotFound(text=f"No item with id {item_id}")
    return web.json_response(item)


@routes.delete(r"/api/items/{id:\d+}")
async def delete_item(request: web.Request) -> web.Response:
    """DELETE /api/items/{id}: 204, or a 404."""
    item_id = _item_id(request)
    if not request.app[ITEMS].delete(item_id):
        raise web.HTTPNotFound(text=f"No item with id {item_id}")
    return web.Response(status=204)
