"""A society as the gate apps see it: two flats, two guards (one elsewhere), residents."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.helpers import Api, Society, User


@dataclass
class Gate:
    society: Society
    other_society: Society
    guard: User
    other_guard: User
    resident: User
    housemate: User
    neighbour: User

    @property
    def flat(self) -> str:
        return self.society.flats[0]

    @property
    def other_flat(self) -> str:
        return self.society.flats[1]


@pytest.fixture
async def gate(api: Api, admin: User) -> Gate:
    society = await api.society(admin, flats=2)
    other = await api.society(admin, flats=1)
    guard, other_guard = await api.signup("Guard"), await api.signup("Other Guard")
    resident, housemate, neighbour = await api.signup("Asha"), await api.signup("Vikram"), await api.signup("Lena")
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, other_guard, "guard", "society", other.id)
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    await api.grant(admin, housemate, "resident", "flat", society.flats[0])
    await api.grant(admin, neighbour, "resident", "flat", society.flats[1])
    return Gate(society, other, guard, other_guard, resident, housemate, neighbour)


async def walk_in(api: Api, gate: Gate, name: str = "Courier", **extra: object) -> dict:
    response = await api.post(
        "/v1/visitors", {"flat_id": gate.flat, "name": name, "purpose": "delivery", **extra}, gate.guard
    )
    assert response.status_code == 201, response.text
    return response.json()
