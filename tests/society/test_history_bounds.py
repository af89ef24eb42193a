"""Visit history filters outside any plausible year are 422, not a database overflow."""

from __future__ import annotations

import pytest

from tests.helpers import Api
from tests.society.conftest import Gate


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01-01T00:00:00+14:00"},
        {"to": "9999-12-31T23:59:59-14:00"},
        {"from": "1969-12-31T23:00:00+00:00"},
    ],
)
async def test_visit_history_outside_plausible_years_is_422(api: Api, gate: Gate, params: dict[str, str]) -> None:
    response = await api.get("/v1/visits", gate.guard, params=params)
    assert response.status_code == 422
    (field,) = {e["field"] for e in response.json()["error"]["details"]}
    assert field in {"from", "to"}
