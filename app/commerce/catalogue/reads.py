"""The catalogue's browsing reads (product pages, a product, a shop's categories), answered as JSON bytes
from the shared cache (app/platform/cache.py) under the shop's scope. Every change to what they show marks
the shop stale (`service.shown_changed`), so an answer is either current or read afresh.

None of these answers holds anything of the caller's own: a page is cached under the search as it applies
to the caller (a shopper's is always of active products, so never a staff member's), and only products on
sale are kept for `GET /v1/products/{id}`.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.commerce.catalogue import repo, service
from app.commerce.catalogue.schemas import ProductsQuery
from app.mall.places import service as places
from app.platform.http import dumps
from app.platform.security.permissions import Principal
from app.platform.state import AppState

# Which shop each product read here belongs to (a product never moves): a product's entry lives under its
# shop's scope, whose generation is read with the entry, so the shop must be known before the lookup.
_SHOP_OF: dict[uuid.UUID, uuid.UUID] = {}
_SHOPS_KEPT = 50_000


async def products(ctx: AppState, *, actor: Principal, q: ProductsQuery) -> bytes:
    search = service.plan_search(actor, q)
    return await ctx.cache.answer(
        places.room_of_shop(q.shop_id),
        "products",
        search,
        lambda: service.run_search(ctx, search),
        ttl=ctx.settings.catalogue_cache_ttl,
    )


async def product(ctx: AppState, *, actor: Principal, product_id: uuid.UUID) -> bytes:
    """A product; the first read of it in this worker learns its shop, and later ones use the cache."""

    async def read() -> repo.Product:
        found = await service.get_product(ctx, actor=actor, product_id=product_id)
        if len(_SHOP_OF) >= _SHOPS_KEPT:
            _SHOP_OF.clear()
        _SHOP_OF[product_id] = found.shop_id
        return found

    shop_id = _SHOP_OF.get(product_id)
    if shop_id is None:
        return dumps(await read())
    return await ctx.cache.answer(
        places.room_of_shop(shop_id),
        "product",
        product_id,
        read,
        ttl=ctx.settings.catalogue_cache_ttl,
        keep=lambda found: found.active,
    )


async def categories(ctx: AppState, *, shop_id: uuid.UUID) -> bytes:
    async def read() -> dict[str, Any]:
        return {"items": await service.categories(ctx, shop_id=shop_id), "next_cursor": None}

    return await ctx.cache.answer(
        places.room_of_shop(shop_id), "categories", shop_id, read, ttl=ctx.settings.catalogue_cache_ttl
    )
