"""HTTP handlers for receipts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.receipts import service
from app.identity.current import principal
from app.platform.http import json, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="A paid order's receipt as a PDF (its customer and the shop's staff)",
    produces=["application/pdf"],
    tag="orders",
    errors=(409,),
)
async def order_receipt(request: Request) -> Response:
    caller = await principal(request)
    order_id = path_uuid(request)
    body = await service.receipt_pdf(app_state(request), actor=caller, order_id=order_id)
    return Response(
        body,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="receipt-{order_id}.pdf"', "cache-control": "private"},
    )


@doc(
    summary="E-mail a paid order's receipt to its customer (its customer and the shop's staff)",
    status=202,
    tag="orders",
    errors=(404, 409),
)
async def email_receipt(request: Request) -> Response:
    caller = await principal(request)
    await service.request_email(app_state(request), actor=caller, order_id=path_uuid(request))
    return json({"status": "queued"}, 202)


routes = [
    Route("/v1/orders/{id}/receipt", order_receipt, methods=["GET"]),
    Route("/v1/orders/{id}/receipt/email", email_receipt, methods=["POST"]),
]
