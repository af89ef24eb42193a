"""The commerce domain: the shops' catalogues (and, as it grows, carts, orders, payments and stock),
for every shop of the mall; it stands on the mall domain's shops and rooms."""

from __future__ import annotations

from app.commerce import demo
from app.commerce.catalogue.routes import routes as catalogue_routes
from app.platform.modules import DomainModule, Tag

MODULE = DomainModule(
    name="commerce",
    routes=[*catalogue_routes],
    tags=[Tag("catalogue", "A shop's categories and products: choices, stock, search")],
    seed_demo=demo.seed,
)
