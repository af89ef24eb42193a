"""Named placeholders become asyncpg's numbered ones; casts and quoted text stay as written."""

from __future__ import annotations

import pytest

from app.platform.sql import Statement


def test_names_are_numbered_in_order_of_first_use_and_reused() -> None:
    stmt = Statement("SELECT :b::uuid, ':a is text', :a, :b, x::text, 'it''s :c' FROM t WHERE y = :a")
    assert stmt.sql == "SELECT $1::uuid, ':a is text', $2, $1, x::text, 'it''s :c' FROM t WHERE y = $2"
    assert stmt.names == ("b", "a")
    assert stmt.args(a=1, b=2) == [2, 1]


def test_a_missing_or_unknown_argument_is_refused() -> None:
    stmt = Statement("SELECT :a, :b")
    with pytest.raises(TypeError, match=r"missing \['b'\]"):
        stmt.args(a=1)
    with pytest.raises(TypeError, match=r"unknown \['c'\]"):
        stmt.args(a=1, b=2, c=3)
