"""What the ticket checkout services share: who counts as the cinema's staff, and telling the buyer (and,
when seats move, the mall) of a change."""

from __future__ import annotations

from app.mall.cinema import repo
from app.mall.places import service as places
from app.mall.rooms import MALL, SHOP, mall_room
from app.platform.db import Tx
from app.platform.realtime.rooms import user_room
from app.platform.security.permissions import Principal
from app.platform.state import AppState

CINEMA_STAFF = ("employee", "shop_manager")


def tell(ctx: AppState, tx: Tx, checkout: repo.TicketCheckout, *, seats_changed: bool) -> None:
    ctx.outbox.publish(tx, user_room(checkout.user_id), "ticket_checkout", checkout)
    if seats_changed:
        ctx.outbox.publish(tx, mall_room(checkout.showing.mall_id), "showing_updated", checkout.showing)


def is_cinema_staff(actor: Principal, checkout: repo.TicketCheckout) -> bool:
    return actor.has(CINEMA_STAFF, SHOP, checkout.showing.cinema_id) or actor.has(
        places.MALL_ADMINS, MALL, checkout.showing.mall_id
    )
