"""How the news of an order reads, by e-mail and on the phone."""

from __future__ import annotations

from app.commerce.orders.repo import Order
from app.commerce.receipts.pdf import money

# What each status tells the customer: the subject's end and a sentence.
NEWS = {
    "pending": ("is placed", "We have your order and will start on it once it is paid."),
    "paid": ("is paid", "Your payment is in; your receipt is attached."),
    "preparing": ("is being prepared", "The shop is preparing your order."),
    "ready": ("is ready", "Your order is ready to collect."),
    "completed": ("is complete", "Your order is complete. Thank you!"),
    "shipped": ("is on its way", "Your order has left the shop."),
    "delivered": ("was delivered", "Your order was delivered."),
    "cancelled": ("was cancelled", "Your order was cancelled; anything paid online is refunded."),
    "returned": ("was returned", "Your order came back to the shop; anything paid online is refunded."),
}


def short(order: Order) -> str:
    return str(order.id)[:8].upper()


def subject(order: Order, shop: str, status: str) -> str:
    return f"Your order {short(order)} at {shop} {NEWS[status][0]}"


def sentence(order: Order, status: str) -> str:
    words = NEWS[status][1]
    if status == "shipped" and order.carrier and order.tracking_number:
        words += f" Carrier: {order.carrier}, tracking number {order.tracking_number}."
    return words


def email_text(order: Order, shop: str, status: str, *, name: str, receipt_url: str | None) -> str:
    lines = [f"Hello {name},", "", sentence(order, status), "", f"Order {short(order)} at {shop}:"]
    for item in order.items:
        options = f" ({', '.join(o.name for o in item.options)})" if item.options else ""
        lines.append(f"  {item.quantity} x {item.name}{options}  {money(item.line_total, order.currency)}")
    lines.append(f"Total: {money(order.total, order.currency)}")
    if order.shipping_address:
        address = order.shipping_address
        lines += ["", "Delivering to:", f"  {address['name']}, {address['line1']}, {address['city']}"]
    if receipt_url:
        lines += ["", f"Your receipt: {receipt_url}"]
    lines += [
        "",
        "You get these e-mails because you ordered at the shop; turn them off in your notification preferences.",
    ]
    return "\n".join(lines)
