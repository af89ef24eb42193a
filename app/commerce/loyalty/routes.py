"""HTTP handler for the caller's loyalty points."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.loyalty import service
from app.commerce.loyalty.schemas import LoyaltyQuery
from app.identity.current import principal
from app.platform.http import json, parse_query
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(summary="Your points: every shop's balance, or one shop's with its ledger", query=LoyaltyQuery, tag="orders")
async def my_loyalty(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, LoyaltyQuery)
    found = await service.account(app_state(request), actor=caller, shop_id=q.shop_id, cursor=q.cursor, limit=q.limit)
    return json(found)


routes = [Route("/v1/loyalty", my_loyalty, methods=["GET"])]
