"""Saved addresses: each person's own, exactly one default while there are any, at most twenty, and gone
with an account that is deleted."""

from __future__ import annotations

import asyncio
import uuid

from app.platform.db import Database
from tests.helpers import Api, User

HOME = {
    "label": "Home",
    "name": "Asha Rao",
    "line1": "12 MG Road",
    "city": "Pune",
    "postal_code": "411001",
    "country": "IN",
}


async def _add(api: Api, user: User, **extra: object) -> dict:
    return await api.created("/v1/addresses", {**HOME, **extra}, user)


async def _listed(api: Api, user: User) -> list[tuple[str, bool]]:
    answer = await api.get("/v1/addresses", user)
    assert answer.status_code == 200, answer.text
    return [(a["label"], a["is_default"]) for a in answer.json()["items"]]


async def test_one_default_moves_and_passes_on(api: Api) -> None:
    user = await api.signup("Address Keeper")
    home = await _add(api, user)
    assert home["is_default"] is True, "the first address is the default"
    work = await _add(api, user, label="Work", line1="Tech Park, Tower 3")
    assert work["is_default"] is False
    gran = await _add(api, user, label="Gran", is_default=True)
    assert await _listed(api, user) == [("Gran", True), ("Home", False), ("Work", False)]

    moved = await api.client.patch(f"/v1/addresses/{work['id']}", json={"is_default": True}, headers=user.headers)
    assert moved.status_code == 200 and moved.json()["is_default"] is True
    assert await _listed(api, user) == [("Work", True), ("Home", False), ("Gran", False)]
    unset = await api.client.patch(f"/v1/addresses/{work['id']}", json={"is_default": False}, headers=user.headers)
    assert unset.status_code == 409 and unset.json()["error"]["code"] == "default_needed"
    renamed = await api.client.patch(
        f"/v1/addresses/{gran['id']}", json={"line2": "Flat 4B", "label": None}, headers=user.headers
    )
    assert (renamed.json()["line2"], renamed.json()["label"]) == ("Flat 4B", None)

    assert (await api.client.delete(f"/v1/addresses/{work['id']}", headers=user.headers)).status_code == 204
    assert await _listed(api, user) == [("Home", True), (None, False)], "the default passes to the oldest left"


async def test_two_defaults_at_once_leave_one(api: Api) -> None:
    user = await api.signup("Racing Defaults")
    await _add(api, user)
    answers = await asyncio.gather(
        *(api.post("/v1/addresses", {**HOME, "label": f"L{n}", "is_default": True}, user) for n in range(5))
    )
    assert sorted(a.status_code for a in answers) == [201] * 5
    assert sum(is_default for _, is_default in await _listed(api, user)) == 1


async def test_addresses_are_their_owners_alone_and_checked(api: Api, admin: User, db: Database) -> None:
    owner, other = await api.signup("Owner"), await api.signup("Other")
    home = await _add(api, owner)
    path = f"/v1/addresses/{home['id']}"
    assert (await api.client.patch(path, json={"city": "Goa"}, headers=other.headers)).status_code == 404
    assert (await api.client.delete(path, headers=other.headers)).status_code == 404
    assert await _listed(api, other) == []
    for bad in ({"country": "India"}, {"postal_code": ""}, {"line1": None}, {"name": "x" * 201}, {"phone": "call me"}):
        answer = await api.post("/v1/addresses", {**HOME, **bad}, owner)
        assert answer.status_code == 422, (bad, answer.text)
    for n in range(19):
        await _add(api, owner, label=f"Place {n}")
    full = await api.post("/v1/addresses", HOME, owner)
    assert full.status_code == 409 and full.json()["error"]["code"] == "too_many_addresses"

    assert (await api.client.delete(f"/v1/users/{owner.id}", headers=admin.headers)).status_code == 204
    async with db.connection() as conn:
        left = await conn.fetchval("SELECT count(*) FROM addresses WHERE user_id = $1", uuid.UUID(owner.id))
    assert left == 0, "a deleted account's addresses go with its personal data"
