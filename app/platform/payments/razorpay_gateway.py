"""Razorpay, over its REST API with httpx (its own library is synchronous, and would hold the event loop).

The intent is a Payment Link (`POST /v1/payment_links`): its `short_url` is the page the customer pays on,
and Razorpay makes the link's own order when it is paid, so no order is made beside it (that would be a
second way to pay). Razorpay takes no idempotency key, so the link carries a `reference_id` derived from
ours (Razorpay keeps those unique per link) and is looked up by it before one is made; a refund
(`POST /v1/payments/{id}/refund`) carries such a `receipt` and is looked up among the payment's refunds
first. Webhooks are signed with HMAC-SHA256 of the raw body in `X-Razorpay-Signature` and named by
`X-Razorpay-Event-Id`, the id a redelivery repeats; they carry no timestamp, so a replay is refused by
that id having been seen.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from app.platform.payments.base import BadSignature, GatewayError, Intent, PaymentNews, Refund, RefundNews, WebhookEvent

API = "https://api.razorpay.com"
# Razorpay's words for a refund, and the events that end one, in ours.
_REFUND_STATUS = {"processed": "succeeded", "failed": "failed"}
_REFUND_EVENTS = {"refund.created": "pending", "refund.processed": "succeeded", "refund.failed": "failed"}
_LINK_EVENTS = ("payment_link.paid", "payment_link.partially_paid", "payment_link.cancelled", "payment_link.expired")


def reference(idempotency_key: str) -> str:
    """Our key as Razorpay stores it: `reference_id` and `receipt` take at most 40 characters."""
    return "gh-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def signature(payload: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


class RazorpayGateway:
    name = "razorpay"
    signature_header = "x-razorpay-signature"

    def __init__(self, key_id: str, key_secret: str, webhook_secret: str, *, api_base: str | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=api_base or API, auth=(key_id, key_secret), timeout=20)
        self._webhook_secret = webhook_secret

    async def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            response = await self._client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise GatewayError(f"Razorpay could not be reached: {type(exc).__name__}", retryable=True) from exc
        if response.is_success:
            try:
                answer = response.json()
            except ValueError:
                raise GatewayError("Razorpay answered with no JSON", retryable=True) from None
            if isinstance(answer, dict):
                return answer
            raise GatewayError("Razorpay answered with no object", retryable=True)
        retryable = response.status_code == 429 or response.status_code >= 500
        try:
            said = str(response.json()["error"]["description"])
        except (ValueError, KeyError, TypeError):
            said = response.reason_phrase
        raise GatewayError(f"Razorpay {response.status_code}: {said}"[:300], retryable=retryable)

    async def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        ref = reference(idempotency_key)
        found = await self._call("GET", "/v1/payment_links", params={"reference_id": ref})
        links = [link for link in found.get("payment_links", []) if isinstance(link, dict)]
        link = links[0] if links else None
        if link is None:
            link = await self._call(
                "POST",
                "/v1/payment_links",
                json={
                    "amount": amount,
                    "currency": currency.upper(),
                    "accept_partial": False,
                    "reference_id": ref,
                    "description": f"Payment {metadata.get('order_id') or metadata.get('checkout_id') or ref}",
                    "notes": {**metadata, "gatehouse_key": idempotency_key},
                },
            )
        try:
            return Intent(
                id=str(link["id"]),
                client_secret=None,
                payment_url=str(link["short_url"]),
                amount=int(link["amount"]),
                currency=str(link["currency"]).upper(),
                status=str(link["status"]),
            )
        except (KeyError, TypeError, ValueError):
            raise GatewayError("Razorpay's payment link lacks its id, url or amount", retryable=False) from None

    async def refund(self, *, payment_ref: str, amount: int, idempotency_key: str) -> Refund:
        receipt = reference(idempotency_key)
        made = await self._call("GET", f"/v1/payments/{payment_ref}/refunds")
        refund = next(
            (r for r in made.get("items", []) if isinstance(r, dict) and r.get("receipt") == receipt), None
        ) or await self._call(
            "POST",
            f"/v1/payments/{payment_ref}/refund",
            json={"amount": amount, "receipt": receipt, "notes": {"gatehouse_key": idempotency_key}},
        )
        if not isinstance(refund.get("id"), str):
            raise GatewayError("Razorpay's refund has no id", retryable=False)
        return Refund(id=refund["id"], status=_REFUND_STATUS.get(str(refund.get("status")), "pending"))

    def verify(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """The event, once `X-Razorpay-Signature` is the HMAC of these very bytes with our webhook secret."""
        given = headers.get(self.signature_header)
        if not given:
            raise BadSignature("No X-Razorpay-Signature header.")
        if not hmac.compare_digest(given.encode(), signature(payload, self._webhook_secret).encode()):
            raise BadSignature("The X-Razorpay-Signature does not match the body.")
        event_id = headers.get("x-razorpay-event-id")
        if not event_id:
            raise BadSignature("No X-Razorpay-Event-Id header: the event cannot be taken in once.")
        try:
            event = orjson.loads(payload)
            kind, things = str(event["event"]), event["payload"]
            if not isinstance(things, dict):
                raise TypeError(things)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise BadSignature("The signed payload is not a Razorpay event.") from None
        return WebhookEvent(id=event_id, type=kind, payment=_payment(kind, things), refund=_refund(kind, things))

    async def close(self) -> None:
        await self._client.aclose()


def _entity(things: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = things.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else {}


def _payment(kind: str, things: dict[str, Any]) -> PaymentNews | None:
    """A payment link's event; when paid, the payment it took is what a refund names."""
    link = _entity(things, "payment_link")
    if kind not in _LINK_EVENTS or not isinstance(link_id := link.get("id"), str):
        return None
    paid = _entity(things, "payment")
    amount = paid.get("amount")
    status = link.get("status")
    return PaymentNews(
        intent_id=link_id,
        status=status if isinstance(status, str) else None,
        succeeded=kind == "payment_link.paid" and paid.get("status") == "captured" and isinstance(paid.get("id"), str),
        amount=amount if isinstance(amount, int) else 0,
        currency=str(paid.get("currency", "")).upper(),
        payment_ref=str(paid.get("id", "")),
    )


def _refund(kind: str, things: dict[str, Any]) -> RefundNews | None:
    refund = _entity(things, "refund")
    if kind not in _REFUND_EVENTS or not isinstance(ref := refund.get("id"), str):
        return None
    return RefundNews(refund_ref=ref, status=_REFUND_EVENTS[kind])
