"""The commerce domain: the shops' catalogues, carts, orders and payments, for every shop of the mall; it
stands on the mall domain's shops (and its offers), through the mall's services."""

from __future__ import annotations

from app.commerce import demo
from app.commerce.cart.routes import routes as cart_routes
from app.commerce.catalogue import repo as catalogue_repo
from app.commerce.catalogue.routes import routes as catalogue_routes
from app.commerce.config.routes import routes as config_routes
from app.commerce.customers.routes import routes as customer_routes
from app.commerce.inventory import repo as inventory_repo
from app.commerce.inventory.routes import routes as inventory_routes
from app.commerce.loyalty.routes import routes as loyalty_routes
from app.commerce.notices import service as notices
from app.commerce.orders import repo as orders_repo
from app.commerce.orders.routes import routes as order_routes
from app.commerce.payments import repo as payments_repo
from app.commerce.payments import service as payments
from app.commerce.promotions import service as promotions
from app.commerce.promotions.routes import routes as promotion_routes
from app.commerce.receipts import service as receipts
from app.commerce.receipts.routes import routes as receipt_routes
from app.commerce.reviews.routes import routes as review_routes
from app.commerce.sales.routes import routes as sales_routes
from app.mall.places.service import SHOP_SCOPE
from app.platform.modules import DomainModule, EventType, Tag
from app.platform.realtime.rooms import USER

MODULE = DomainModule(
    name="commerce",
    routes=[
        *catalogue_routes,
        *receipt_routes,
        *review_routes,
        *cart_routes,
        *order_routes,
        *inventory_routes,
        *loyalty_routes,
        *sales_routes,
        *config_routes,
        *promotion_routes,
        *customer_routes,
    ],
    jobs=[*payments.JOBS, *notices.JOBS, *receipts.JOBS, *promotions.JOBS],
    webhook_paths=("/v1/payments/stripe/webhook", "/v1/payments/webhooks/razorpay"),
    tags=[
        Tag("catalogue", "A shop's categories and products: choices, stock, search"),
        Tag("cart", "What a customer means to order at a shop, priced as it is now"),
        Tag("orders", "Orders priced by the server, stock taken with them, followed live; payments; configuration"),
        Tag("inventory", "A shop's ingredients, the recipes that use them, and the ledger of every change"),
    ],
    events=[
        EventType("product_updated", (SHOP_SCOPE,), catalogue_repo.Product, "A product was added or changed"),
        EventType(
            "order_created", (SHOP_SCOPE, USER), orders_repo.Order, "An order was placed (to its shop and customer)"
        ),
        EventType("order_status_changed", (SHOP_SCOPE, USER), orders_repo.Order, "An order moved on, or was cancelled"),
        EventType("payment_received", (SHOP_SCOPE, USER), orders_repo.Order, "An order was paid"),
        EventType(
            "refund_updated",
            (SHOP_SCOPE, USER),
            payments_repo.Refund,
            "Money paid online is being given back, was given back, or could not be",
        ),
        EventType("stock_low", (SHOP_SCOPE,), inventory_repo.Item, "An ingredient fell to its reorder threshold"),
    ],
    seed_demo=demo.seed,
)
