"""Demo data for `gatehouse seed-demo`: the demo mall's cafe gets a menu with choices (made to order), its
watch shop a stocked catalogue, and both a manager; a customer has a watch on its way, with its receipt."""

from __future__ import annotations

import uuid

from app.commerce.catalogue import service as catalogue
from app.commerce.catalogue.schemas import CategoryIn, GroupIn, OptionIn, ProductIn, ProductsQuery
from app.commerce.customers import service as customers
from app.commerce.customers.schemas import CustomerIn, CustomersQuery
from app.commerce.inventory import service as inventory
from app.commerce.inventory.schemas import ItemIn, RecipeIn, RecipeLineIn
from app.commerce.orders import checkout
from app.commerce.orders import service as orders
from app.commerce.orders.schemas import OrderIn, OrderLineIn, OrdersQuery, PaymentIn, StatusIn
from app.identity import demo as identity_demo
from app.identity import service as identity
from app.identity.addresses import service as addresses
from app.identity.addresses.schemas import AddressIn
from app.identity.schemas import RoleAssignmentIn
from app.mall import demo as mall_demo
from app.mall.places import service as places
from app.platform.idempotency import UNKEYED
from app.platform.modules import DemoAccount
from app.platform.security.permissions import Principal
from app.platform.state import AppState

CAFE, WATCHES = "Bean There Cafe", "Timepiece Gallery"
SIZE = GroupIn(
    name="Size",
    min_choices=1,
    max_choices=1,
    options=[
        OptionIn(name="Small"),
        OptionIn(name="Regular", price_delta=3000),
        OptionIn(name="Large", price_delta=6000),
    ],
)
MILK = GroupIn(
    name="Milk",
    min_choices=0,
    max_choices=1,
    options=[
        OptionIn(name="Oat", price_delta=4000),
        OptionIn(name="Almond", price_delta=4000),
        OptionIn(name="Skimmed"),
    ],
)
EXTRAS = GroupIn(
    name="Extras",
    min_choices=0,
    max_choices=2,
    options=[OptionIn(name="Extra shot", price_delta=5000), OptionIn(name="Vanilla syrup", price_delta=3000)],
)
STRAP = GroupIn(
    name="Strap",
    min_choices=1,
    max_choices=1,
    options=[OptionIn(name="Steel"), OptionIn(name="Leather", price_delta=150000)],
)
# (category, name, description, brand, price in paise, stock or None for made to order, choices)
MENU = {
    CAFE: [
        ("Coffee", "Cappuccino", "Espresso with steamed milk and foam", None, 18000, None, [SIZE, MILK, EXTRAS]),
        ("Coffee", "Cold brew", "Steeped for eighteen hours", None, 22000, None, [SIZE, EXTRAS]),
        ("Tea", "Masala chai", "Assam tea with cardamom, ginger and clove", None, 9000, None, [SIZE, MILK]),
        ("Bakery", "Butter croissant", "Baked every morning", None, 12000, 24, []),
    ],
    WATCHES: [
        ("Automatic", "Seiko 5 Sports", "Automatic, 100 m water resistant", "Seiko", 2450000, 3, [STRAP]),
        ("Quartz", "Casio Classic", "Steel case, day and date", "Casio", 350000, 10, []),
        ("Quartz", "Titan Edge", "One of the slimmest watches made", "Titan", 1250000, 1, [STRAP]),
    ],
}
# What each shop features on its front page.
FEATURED = {"Cappuccino", "Seiko 5 Sports"}
MANAGER = ("shop-manager@demo.example.com", "Farah (shop manager)")
CUSTOMER = ("customer@demo.example.com", "Asha (customer)")
# A regular the cafe keeps without an account; linking needs an account with this number.
REGULAR = CustomerIn(name="Meera (regular)", phone="+91 98450 00042", note="Masala chai with oat milk")
HOME = {
    "label": "Home",
    "name": "Asha Rao",
    "line1": "12 Lake View Road",
    "city": "Bengaluru",
    "postal_code": "560001",
    "country": "IN",
}
# The cafe's ingredients (name, unit, on hand, reorder threshold) and what its drinks use of them
# (product, option or None, ingredient, amount).
PANTRY = [
    ("Milk", "ml", 20000, 3000),
    ("Oat milk", "ml", 5000, 1000),
    ("Coffee beans", "g", 5000, 1000),
    ("Tea leaves", "g", 1000, 200),
]
RECIPES = [
    ("Cappuccino", None, "Milk", 150),
    ("Cappuccino", None, "Coffee beans", 18),
    ("Cappuccino", "Oat", "Oat milk", 150),
    ("Cold brew", None, "Coffee beans", 25),
    ("Masala chai", None, "Tea leaves", 8),
    ("Masala chai", None, "Milk", 100),
    ("Masala chai", "Oat", "Oat milk", 100),
]


async def seed(ctx: AppState) -> list[DemoAccount]:
    admin = await identity_demo.admin(ctx)
    mall_id = await identity_demo.held_by(ctx, *mall_demo.MALL_ADMIN, role="mall_admin", scope_type=places.MALL_SCOPE)
    assert mall_id is not None, "the mall's demo data is seeded first"
    shops = {s.name: s for s in await places.list_shops(ctx, mall_id=mall_id, shop_type=None, after=None, limit=100)}
    manager = await identity_demo.account(ctx, *MANAGER)
    for name, items in MENU.items():
        shop_id = shops[name].id
        await identity.grant_role(
            ctx,
            actor=admin,
            data=RoleAssignmentIn(
                user_id=manager.id, role="shop_manager", scope_type=places.SHOP_SCOPE, scope_id=shop_id
            ),
        )
        await _stock(ctx, admin, shop_id, items)
    running = await identity.principal_of(ctx.db, manager.id)
    delivery = await _delivery(ctx, running, shops[WATCHES].id)
    await _regular(ctx, running, shops[CAFE].id)
    return [
        DemoAccount("shop_manager", MANAGER[0], f"{CAFE} and {WATCHES}"),
        DemoAccount("customer", CUSTOMER[0], f"a watch on its way; receipt at /v1/orders/{delivery}/receipt"),
    ]


async def _delivery(ctx: AppState, manager: Principal, shop_id: uuid.UUID) -> uuid.UUID:
    """The demo customer's delivery from the watch shop: ordered by phone, paid by card, shipped (once; a
    later run finds it)."""
    user = await identity_demo.account(ctx, *CUSTOMER)
    customer = await identity.principal_of(ctx.db, user.id)
    mine = await orders.list_orders(ctx, actor=customer, q=OrdersQuery(status="shipped"))
    if mine["items"]:
        return mine["items"][0].id
    if not await addresses.listed(ctx, actor=customer):
        await addresses.add(ctx, actor=customer, data=AddressIn(**HOME))
    watch = (await catalogue.search(ctx, actor=manager, q=ProductsQuery(shop_id=shop_id, q="Casio")))["items"][0]
    _, order = await orders.place(
        ctx,
        actor=manager,
        data=OrderIn(
            shop_id=shop_id,
            items=[OrderLineIn(product_id=watch.id)],
            customer_id=user.id,
            fulfilment="delivery",
            note="Ordered by phone",
        ),
        attempt=UNKEYED,
    )
    await checkout.pay(
        ctx, actor=manager, order_id=order.id, data=PaymentIn(method="card", amount=order.total), attempt=UNKEYED
    )
    shipped = StatusIn(to="shipped", carrier="BlueDart", tracking_number="BD-DEMO-0001")
    await orders.move(ctx, actor=manager, order_id=order.id, data=shipped, attempt=UNKEYED)
    return order.id


async def _regular(ctx: AppState, manager: Principal, shop_id: uuid.UUID) -> None:
    """A regular the cafe keeps without an account, with a paid chai and the points it earned (once)."""
    kept = await customers.listed(ctx, actor=manager, shop_id=shop_id, q=CustomersQuery(q=REGULAR.name))
    if kept["items"]:
        return
    record = await customers.add(ctx, actor=manager, shop_id=shop_id, data=REGULAR)
    chai = (await catalogue.search(ctx, actor=manager, q=ProductsQuery(shop_id=shop_id, q="Masala chai")))["items"][0]
    regular = next(o.id for g in chai.modifier_groups for o in g.options if o.name == "Regular")
    _, order = await orders.place(
        ctx,
        actor=manager,
        data=OrderIn(
            shop_id=shop_id, items=[OrderLineIn(product_id=chai.id, option_ids=[regular])], shop_customer_id=record.id
        ),
        attempt=UNKEYED,
    )
    await checkout.pay(
        ctx, actor=manager, order_id=order.id, data=PaymentIn(method="cash", amount=order.total), attempt=UNKEYED
    )


async def _stock(ctx: AppState, admin: Principal, shop_id: uuid.UUID, items: list) -> None:
    """The shop's categories and products, unless it has products already."""
    listed = await catalogue.search(ctx, actor=admin, q=ProductsQuery(shop_id=shop_id, limit=1))
    if listed["items"]:
        return
    categories = {}
    for position, name in enumerate(dict.fromkeys(item[0] for item in items)):
        categories[name] = await catalogue.create_category(
            ctx, actor=admin, shop_id=shop_id, data=CategoryIn(name=name, position=position)
        )
    made = {}
    for category, name, description, brand, price, stock, groups in items:
        _, made[name] = await catalogue.create_product(
            ctx,
            actor=admin,
            data=ProductIn(
                shop_id=shop_id,
                category_id=categories[category].id,
                name=name,
                description=description,
                brand=brand,
                price=price,
                stock=stock,
                featured=name in FEATURED,
                modifier_groups=groups,
            ),
            attempt=UNKEYED,
        )
    if any(product in made for product, *_ in RECIPES):
        await _pantry(ctx, admin, shop_id, made)


async def _pantry(ctx: AppState, admin: Principal, shop_id: uuid.UUID, menu: dict) -> None:
    """The cafe's ingredients, and the recipes of its drinks."""
    pantry = {}
    for name, unit, quantity, threshold in PANTRY:
        pantry[name] = await inventory.create_item(
            ctx,
            actor=admin,
            shop_id=shop_id,
            data=ItemIn(name=name, unit=unit, quantity=quantity, reorder_threshold=threshold, supplier="Nilgiri Dairy"),
        )
    for product in dict.fromkeys(r[0] for r in RECIPES):
        options = {o.name: o.id for g in menu[product].modifier_groups for o in g.options}
        lines = [
            RecipeLineIn(item_id=pantry[item].id, amount=amount, option_id=options[option] if option else None)
            for name, option, item, amount in RECIPES
            if name == product
        ]
        await inventory.set_recipe(ctx, actor=admin, product_id=menu[product].id, data=RecipeIn(lines=lines))
