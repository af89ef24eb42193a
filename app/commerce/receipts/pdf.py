"""A paid order's receipt as a PDF page: the shop, each line with its options, the offer, the points spent,
the tax, the total, how it was paid and the points it earned.

Money is minor units; a currency's number of decimals is ISO 4217's (two unless listed). The built-in
Helvetica holds Latin-1 only, so any other character prints as "?" rather than failing the receipt.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import XPos, YPos

# ISO 4217 currencies whose minor unit is not a hundredth.
_DECIMALS = {"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0}


def money(amount: int, currency: str) -> str:
    decimals = _DECIMALS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**decimals)
    return f"{sign}{whole:,}{'.' + str(part).zfill(decimals) if decimals else ''} {currency}"


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    options: list[str]
    quantity: int
    unit_price: int
    line_total: int


@dataclass(frozen=True, slots=True)
class Receipt:
    order_id: uuid.UUID
    shop: str
    mall: str
    placed_at: dt.datetime
    timezone: str
    customer: str | None
    lines: list[Line]
    currency: str
    subtotal: int
    discount_percent: int
    discount: int
    points_redeemed: int
    tax_rate_bp: int
    tax: int
    total: int
    paid_with: str
    paid_at: dt.datetime
    points_earned: int


def _text(value: str) -> str:
    return value.encode("latin-1", "replace").decode("latin-1")


class _Page(FPDF):
    def row(self, left: str, right: str = "", *, bold: bool = False, size: float = 10) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        width = self.epw - 40
        self.cell(width, 6, _text(left), new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.cell(40, 6, _text(right), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(receipt: Receipt) -> bytes:
    page = _Page(format=(148, 210))  # A5, in millimetres
    page.set_title(f"Receipt {receipt.order_id}")
    page.set_creator("Gatehouse")
    page.add_page()
    page.row(receipt.shop, bold=True, size=14)
    page.row(receipt.mall)
    page.row(f"Order {receipt.order_id}")
    page.row(f"Placed {receipt.placed_at:%d %b %Y %H:%M} ({receipt.timezone})")
    if receipt.customer:
        page.row(f"Customer: {receipt.customer}")
    page.ln(4)
    for line in receipt.lines:
        page.row(f"{line.quantity} x {line.name}", money(line.line_total, receipt.currency))
        for option in line.options:
            page.row(f"    {option}")
    page.ln(2)
    page.row("Subtotal", money(receipt.subtotal, receipt.currency))
    if receipt.discount:
        page.row(f"Offer ({receipt.discount_percent} % off)", money(-receipt.discount, receipt.currency))
    if receipt.points_redeemed:
        page.row(f"Loyalty points ({receipt.points_redeemed})", money(-receipt.points_redeemed, receipt.currency))
    page.row(f"Tax ({receipt.tax_rate_bp / 100:g} %)", money(receipt.tax, receipt.currency))
    page.row("Total", money(receipt.total, receipt.currency), bold=True, size=12)
    page.ln(2)
    page.row(f"Paid by {receipt.paid_with} on {receipt.paid_at:%d %b %Y %H:%M}")
    if receipt.points_earned:
        page.row(f"Loyalty points earned: {receipt.points_earned}")
    return bytes(page.output())
