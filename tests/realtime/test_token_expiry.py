"""A socket lives as long as its token: at expiry the server says `token_expired` and closes it,
unless the client sends a fresh token for the same user over the socket first (`auth`)."""

from __future__ import annotations

import asyncio

import pytest

from app.platform.security.tokens import AccessTokens
from tests.conftest import JWT_SECRET
from tests.helpers import Api, Refused, User, connect, refused, settle


def _short_token(settings, user: User, seconds: int) -> str:
    """An access token for the user's own session that runs out in `seconds`."""
    tokens = AccessTokens(secret=JWT_SECRET, issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl=seconds)
    session_id = tokens.verify(user.access_token).session_id
    return tokens.issue(user_id=tokens.verify(user.access_token).user_id, session_id=session_id)


async def test_a_socket_is_closed_when_its_token_expires(api: Api, server, settings) -> None:
    user = await api.signup()
    listener = await connect(server.url, _short_token(settings, user, 2))
    try:
        (expired,) = await listener.wait_for("token_expired", timeout=6)
        assert expired == {"reason": "token_expired"}
        assert await listener.closed_by_server()
    finally:
        await listener.close()


async def test_a_fresh_token_over_the_socket_keeps_it_open(api: Api, server, settings) -> None:
    user = await api.signup()
    listener = await connect(server.url, _short_token(settings, user, 2))
    try:
        ack = await listener.call("auth", {"token": user.access_token})
        assert ack["ok"] is True and ack["expires_in"] > 60
        await settle(3.0)
        assert listener.client.connected and listener.of("token_expired") == []
        assert (await listener.call("sync", {"room": f"user:{user.id}", "since": 0}))["ok"] is True
    finally:
        await listener.close()


async def test_auth_with_someone_elses_or_a_bad_token_changes_nothing(api: Api, server, settings) -> None:
    user, other = await api.signup(), await api.signup()
    listener = await connect(server.url, _short_token(settings, user, 2))
    try:
        assert refused(await listener.call("auth", {"token": other.access_token})) == "forbidden"
        assert refused(await listener.call("auth", {"token": "not-a-token"})) == "unauthorized"
        assert refused(await listener.call("auth", "nonsense")) == "unauthorized"
        await listener.wait_for("token_expired", timeout=6)
        assert await listener.closed_by_server()
    finally:
        await listener.close()


async def test_a_socket_opened_with_an_expired_token_is_told_to_refresh(api: Api, server, settings) -> None:
    user = await api.signup()
    token = _short_token(settings, user, 1)
    await asyncio.sleep(1 + 5 + 0.5)  # past the expiry and the five seconds of allowed clock skew
    with pytest.raises(Refused) as refused:
        await connect(server.url, token)
    assert refused.value.reason == "token_expired"
    with pytest.raises(Refused) as garbage:
        await connect(server.url, "not-a-token")
    assert garbage.value.reason == "unauthorized"
