"""What a product costs with the options chosen for it, and whether those are a choice it offers.

Money is integer minor units of the shop's currency throughout. A line's unit price is the product's price
plus its options' deltas, never below zero; shares of an amount (a mall offer's discount, the tax) are
computed in basis points on whole amounts and rounded once, half up (`share`), where the order is priced.
"""

from __future__ import annotations

import uuid
from collections import Counter

from app.commerce.catalogue.repo import ModifierOption, Product


def choose(product: Product, option_ids: list[uuid.UUID]) -> tuple[list[ModifierOption], list[str]]:
    """The options chosen, in the product's own order, and what is wrong with the choice (nothing, if it is
    one the product offers: each option its own, none twice, every group within its min and max)."""
    problems = []
    wanted = Counter(option_ids)
    if any(n > 1 for n in wanted.values()):
        problems.append("An option is chosen twice.")
    chosen: list[ModifierOption] = []
    for group in product.modifier_groups:
        picked = [o for o in group.options if o.id in wanted]
        chosen.extend(picked)
        if not group.min_choices <= len(picked) <= group.max_choices:
            span = (
                f"exactly {group.min_choices}"
                if group.min_choices == group.max_choices
                else f"{group.min_choices} to {group.max_choices}"
            )
            problems.append(f"Choose {span} of {group.name}.")
    if len(chosen) != len(wanted):
        problems.append("An option is not one of this product's.")
    return chosen, problems


def unit_price(product: Product, options: list[ModifierOption]) -> int:
    return max(0, product.price + sum(o.price_delta for o in options))


def share(amount: int, basis_points: int) -> int:
    """`basis_points` ten-thousandths of a non-negative `amount` (500 is 5 %), rounded half up: the one
    rounding rule for money, all in integers."""
    return (amount * basis_points * 2 + 10_000) // 20_000
