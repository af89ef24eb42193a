"""Sign-up, sign-in, refresh rotation and reuse detection, logout."""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
import pytest

from tests.conftest import JWT_SECRET
from tests.helpers import PASSWORD, Api, connect


async def test_signup_then_profile_shows_a_customer(api: Api) -> None:
    user = await api.signup("Asha", phone="+91 98450 12345")
    response = await api.get("/v1/profile/me", user)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == user.email
    assert body["user"]["phone"] == "+91 98450 12345"
    assert body["roles"] == [{"role": "customer", "scope_type": "global", "scope_id": None}]
    assert body["flats"] == [] and body["societies"] == [] and body["malls"] == [] and body["shops"] == []


async def test_signup_with_a_taken_email_is_409_whatever_its_case(api: Api) -> None:
    user = await api.signup()
    response = await api.post("/v1/auth/signup", {"email": user.email.upper(), "password": PASSWORD, "name": "X"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"


async def test_login_with_wrong_password_or_unknown_email_gives_the_same_401(api: Api) -> None:
    user = await api.signup()
    wrong = await api.post("/v1/auth/login", {"email": user.email, "password": "not-the-password"})
    unknown = await api.post("/v1/auth/login", {"email": "nobody-here@example.com", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_refresh_rotates_and_a_replayed_token_revokes_the_family(api: Api) -> None:
    user = await api.signup()
    first = await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    # The new access token works.
    assert (
        await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {rotated['access_token']}"})
    ).status_code == 200
    # Replaying the spent token is refused and ends the whole session ...
    replay = await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})
    assert replay.status_code == 401
    # ... so the newest refresh token and every access token of the family die too.
    after = await api.post("/v1/auth/refresh", {"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    me = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "session_ended"


async def test_refresh_reuse_leaves_the_users_other_sessions_alone(api: Api) -> None:
    user = await api.signup()
    other_device = await api.login(user.email)
    await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})
    await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})
    assert (await api.get("/v1/profile/me", other_device)).status_code == 200


async def test_refresh_works_from_the_cookie(api: Api) -> None:
    user = await api.signup()
    api.client.cookies.set("gh_refresh", user.refresh_token, path="/v1/auth")
    try:
        response = await api.client.post("/v1/auth/refresh")
    finally:
        api.client.cookies.clear()
    assert response.status_code == 200, response.text


async def test_login_sets_http_only_cookies_that_authenticate(api: Api) -> None:
    user = await api.signup()
    response = await api.post("/v1/auth/login", {"email": user.email, "password": PASSWORD})
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("gh_access=") and "HttpOnly" in c and "SameSite=strict" in c for c in cookies)
    api.client.cookies.clear()
    api.client.cookies.set("gh_access", response.json()["access_token"])
    try:
        me = await api.client.get("/v1/profile/me")
    finally:
        api.client.cookies.clear()
    assert me.status_code == 200


async def test_logout_ends_rest_access_and_closes_the_socket(api: Api, server) -> None:
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    try:
        response = await api.post("/v1/auth/logout", {"refresh_token": user.refresh_token}, user)
        assert response.status_code == 204
        assert (await api.get("/v1/profile/me", user)).status_code == 401
        assert (await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})).status_code == 401
        assert await listener.closed_by_server()
    finally:
        await listener.close()


async def test_logout_of_one_device_keeps_the_other(api: Api) -> None:
    user = await api.signup()
    phone = await api.login(user.email)
    assert (await api.post("/v1/auth/logout", {}, user)).status_code == 204
    assert (await api.get("/v1/profile/me", user)).status_code == 401
    assert (await api.get("/v1/profile/me", phone)).status_code == 200


def _forge(claims_change: dict, *, key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    now = int(time.time())
    claims = {
        "iss": "gatehouse",
        "aud": "gatehouse-api",
        "sub": "00000000-0000-0000-0000-000000000000",
        "sid": "00000000-0000-0000-0000-000000000000",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "x",
        "typ": "access",
        **claims_change,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda u: u.refresh_token, id="refresh-token-as-bearer"),
        pytest.param(lambda u: "not.a.jwt", id="garbage"),
        pytest.param(lambda u: _forge({"sub": u.id, "exp": int(time.time()) - 60}), id="expired"),
        pytest.param(lambda u: _forge({"sub": u.id}, key="some-other-secret-" + "y" * 30), id="wrong-key"),
        pytest.param(lambda u: _forge({"sub": u.id, "aud": "someone-else"}), id="wrong-audience"),
        pytest.param(lambda u: _forge({"sub": u.id, "iss": "someone-else"}), id="wrong-issuer"),
        pytest.param(lambda u: _forge({"sub": u.id, "typ": "refresh"}), id="wrong-type"),
        pytest.param(lambda u: _forge({"sub": u.id, "jti": None}), id="no-jti"),
        pytest.param(lambda u: _forge({"sub": u.id}, algorithm="HS512"), id="wrong-algorithm"),
        pytest.param(lambda u: _forge({"sub": u.id}, key="", algorithm="none"), id="alg-none"),
    ],
)
async def test_tokens_that_are_not_live_access_tokens_are_401(api: Api, make_token) -> None:
    user = await api.signup()
    token = make_token(user)
    response = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"invalid_token", "token_expired", "session_ended"}
    also = await api.client.get("/v1/profile/me", headers={"x-access-token": token})
    assert also.status_code == 401


async def test_a_token_accepted_once_is_refused_when_it_expires(api: Api) -> None:
    """Verified tokens are remembered per worker; the expiry still counts on every use."""
    user = await api.signup()
    real = jwt.decode(user.access_token, options={"verify_signature": False})
    # Expired four seconds ago: inside the five seconds of allowed clock skew, for about one second.
    token = _forge({"sub": real["sub"], "sid": real["sid"], "exp": int(time.time()) - 4})
    assert (await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})).status_code == 200
    await asyncio.sleep(2.1)
    late = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
    assert late.status_code == 401 and late.json()["error"]["code"] == "token_expired"


async def test_an_expired_token_says_refresh_and_an_expired_forgery_does_not(api: Api) -> None:
    """`token_expired` tells a client to refresh; only a token this server signed earns it."""
    user = await api.signup()
    real = jwt.decode(user.access_token, options={"verify_signature": False})
    stale = {"sub": real["sub"], "sid": real["sid"], "exp": int(time.time()) - 60}
    expired = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {_forge(stale)}"})
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"
    forged = _forge(stale, key="another-secret-of-the-same-length-as-ours-0123456789")
    refused = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {forged}"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    refreshed = await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})
    assert refreshed.status_code == 200


async def test_a_forged_token_for_a_live_session_with_another_key_is_refused(api: Api) -> None:
    user = await api.signup()
    real = jwt.decode(user.access_token, options={"verify_signature": False})
    forged = _forge({"sub": real["sub"], "sid": real["sid"]}, key="attacker-key-" + "z" * 40)
    response = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_no_token_and_a_bad_scheme_are_401(api: Api) -> None:
    assert (await api.client.get("/v1/profile/me")).status_code == 401
    basic = await api.client.get("/v1/profile/me", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


async def test_a_cookie_signed_write_needs_an_allowed_origin(api: Api, server, admin_credentials) -> None:
    email, password = admin_credentials
    login = await api.post("/v1/auth/login", {"email": email, "password": password})
    assert login.status_code == 200
    api.client.cookies.clear()
    api.client.cookies.set("gh_access", login.json()["access_token"])
    try:
        body = {"name": "Cookie Society", "city": "Pune"}
        for origin in (None, "https://evil.example", "null"):
            headers = {} if origin is None else {"origin": origin}
            refused = await api.client.post("/v1/societies", json=body, headers=headers)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_refused", origin
        same_site = await api.client.post("/v1/societies", json=body, headers={"origin": server.url})
        assert same_site.status_code == 201
        assert (await api.client.get("/v1/profile/me")).status_code == 200  # reads need no origin
    finally:
        api.client.cookies.clear()
    bearer = await api.client.post(
        "/v1/societies",
        json={"name": "Bearer Society", "city": "Pune"},
        headers={"authorization": f"Bearer {login.json()['access_token']}"},
    )
    assert bearer.status_code == 201


@pytest.mark.parametrize("password", [" " * 12, "\t \t \t \t ", "password1", "Password1", "qwertyuiop", "12345678"])
async def test_blank_and_common_passwords_are_refused(api: Api, password: str) -> None:
    body = {"email": f"weak-{uuid.uuid4().hex[:8]}@example.com", "password": password, "name": "Weak"}
    response = await api.post("/v1/auth/signup", body)
    assert response.status_code == 422
    (error,) = response.json()["error"]["details"]
    assert error["field"] == "password" and "password" in error["message"]


async def test_an_uncommon_passphrase_is_taken(api: Api) -> None:
    body = {
        "email": f"fine-{uuid.uuid4().hex[:8]}@example.com",
        "password": "gate tablet by the mango tree",
        "name": "F",
    }
    assert (await api.post("/v1/auth/signup", body)).status_code == 201
