"""Firebase ID-token sign-in, tested offline against the real firebase-admin checks.

As firebase-admin's own tests do, ID tokens are signed here with a local RSA
key, and the SDK's certificate source points at a small local HTTP server
that serves `{kid: PEM certificate}` the way Google's x509 endpoint does. So
nothing is mocked: the SDK's signature, `kid`, `alg`, `aud`, `iss`, `iat` and
expiry checks all run, and the server under test stores users and
`auth_audit` rows in the real database.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import firebase_admin
import httpx
import jwt
import pytest
import socketio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from firebase_admin import _token_gen

from app.platform.config import ConfigError, Settings, load_settings
from app.platform.db import Database
from tests.conftest import RunningServer
from tests.helpers import PASSWORD, Api, Refused, User, connect

PROJECT = "gatehouse-test"
ISSUER = f"https://securetoken.google.com/{PROJECT}"
KID = "gatehouse-test-key-1"
CERT_PATH = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"


# Keys and the certificate endpoint -------------------------------------------------


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _self_signed_pem(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class KeyServer:
    """Serves `{kid: certificate}` with a Cache-Control max-age, as Google does."""

    def __init__(self, certs: dict[str, str]) -> None:
        body = json.dumps(certs).encode()
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != CERT_PATH:
                    self.send_error(404)
                    return
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Cache-Control", "public, max-age=3600, must-revalidate, no-transform")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{CERT_PATH}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass(frozen=True)
class Keys:
    signing: rsa.RSAPrivateKey  # its certificate is served under KID
    rogue: rsa.RSAPrivateKey  # served nowhere


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(signing=_rsa_key(), rogue=_rsa_key())


@pytest.fixture(scope="module")
def key_server(keys: Keys) -> Iterator[KeyServer]:
    served = KeyServer({KID: _self_signed_pem(keys.signing)})
    served.start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
async def firebase_server(settings: Settings, key_server: KeyServer) -> AsyncIterator[RunningServer]:
    """A second Gatehouse server with Firebase sign-in on, trusting the local key server."""
    fb_settings = replace(
        settings, firebase_project_id=PROJECT, firebase_cert_url=key_server.url, allow_insecure_dev=True
    )
    original_cert_uri = _token_gen.ID_TOKEN_CERT_URI
    with pytest.MonkeyPatch.context() as mp:
        # The emulator variable makes the SDK skip every check; make sure the checks run.
        mp.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
        running = RunningServer(fb_settings)
        await running.start()
        try:
            yield running
        finally:
            await running.stop()
            # Leave firebase-admin as other test modules expect it.
            firebase_admin.delete_app(firebase_admin.get_app("gatehouse"))
            _token_gen.ID_TOKEN_CERT_URI = original_cert_uri


@pytest.fixture
async def fb(firebase_server: RunningServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=firebase_server.url, timeout=15) as client:
        yield Api(client, firebase_server.url)


# Tokens -------------------------------------------------------------------------------


def new_uid() -> str:
    return f"fb-{uuid.uuid4().hex}"


def mint(
    keys: Keys,
    uid: str,
    *,
    key: rsa.RSAPrivateKey | None = None,
    kid: str | None = KID,
    algorithm: str = "RS256",
    **claims: Any,
) -> str:
    """A Firebase-shaped ID token; a claim passed as None is left out."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": PROJECT,
        "sub": uid,
        "user_id": uid,
        "iat": now - 30,
        "exp": now + 3600,
        "auth_time": now - 30,
        "email": f"{uid}@example.com",
        "email_verified": True,
        "name": "Firebase Person",
        "firebase": {"sign_in_provider": "password", "identities": {"email": [f"{uid}@example.com"]}},
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    headers = {"kid": kid} if kid is not None else {}
    signing_key: Any = key if key is not None else keys.signing
    if algorithm == "HS256":
        signing_key = "a-shared-secret-no-firebase-token-uses-" + "x" * 16
    elif algorithm == "none":
        signing_key = None
    return jwt.encode(payload, signing_key, algorithm=algorithm, headers=headers)


async def sign_in(api: Api, id_token: str) -> httpx.Response:
    return await api.client.post("/v1/auth/firebase", json={"id_token": id_token})


def as_user(body: dict[str, Any]) -> User:
    return User(body["user"]["id"], body["user"]["email"], body["access_token"], body["refresh_token"])


# Database checks ----------------------------------------------------------------------


async def audit_mark(db: Database) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT coalesce(max(id), 0) FROM auth_audit")


async def audit_since(db: Database, mark: int) -> list[asyncpg.Record]:
    async with db.connection() as conn:
        return await conn.fetch(
            """SELECT user_id, provider, subject, outcome, reason, host(ip) AS ip
               FROM auth_audit WHERE id > $1 ORDER BY id""",
            mark,
        )


async def user_by_uid(db: Database, uid: str) -> asyncpg.Record | None:
    async with db.connection() as conn:
        return await conn.fetchrow("SELECT id, email, name, firebase_uid FROM users WHERE firebase_uid = $1", uid)


# Sign-in ------------------------------------------------------------------------------


async def test_first_sign_in_creates_the_user_and_the_second_finds_it(fb: Api, keys: Keys, db: Database) -> None:
    uid = new_uid()
    first = await sign_in(fb, mint(keys, uid, name="Meera Iyer", email=f"Meera-{uid}@example.com"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) >= {"user", "access_token", "refresh_token", "expires_in"}
    assert body["expires_in"] > 0
    assert body["user"]["name"] == "Meera Iyer"
    assert body["user"]["email"] == f"Meera-{uid}@example.com"

    me = await fb.get("/v1/profile/me", as_user(body))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == body["user"]["id"]
    assert me.json()["user"]["email"] == f"Meera-{uid}@example.com"

    stored = await user_by_uid(db, uid)
    assert stored is not None and str(stored["id"]) == body["user"]["id"]

    second = await sign_in(fb, mint(keys, uid, name="Meera Iyer", email=f"Meera-{uid}@example.com"))
    assert second.status_code == 200, second.text
    assert second.json()["user"]["id"] == body["user"]["id"]
    assert second.json()["refresh_token"] != body["refresh_token"]  # a new session per sign-in


async def test_each_sign_in_is_audited_as_verified(fb: Api, keys: Keys, db: Database) -> None:
    uid = new_uid()
    mark = await audit_mark(db)
    for _ in range(2):
        response = await sign_in(fb, mint(keys, uid))
        assert response.status_code == 200, response.text
    user_id = response.json()["user"]["id"]
    rows = await audit_since(db, mark)
    assert [(r["outcome"], r["subject"], str(r["user_id"])) for r in rows] == [("verified", uid, user_id)] * 2
    assert all(r["provider"] == "firebase" and r["ip"] == "127.0.0.1" and r["reason"] is None for r in rows)


async def test_a_verified_email_links_the_existing_password_account(fb: Api, keys: Keys, db: Database) -> None:
    existing = await fb.signup("Ravi Kumar")
    uid = new_uid()
    response = await sign_in(fb, mint(keys, uid, email=existing.email.upper(), email_verified=True))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == existing.id
    stored = await user_by_uid(db, uid)
    assert stored is not None and str(stored["id"]) == existing.id
    # The password still works, and both ways lead to the one account.
    assert (await fb.login(existing.email, PASSWORD)).id == existing.id
    again = await sign_in(fb, mint(keys, uid, email=existing.email, email_verified=True))
    assert again.json()["user"]["id"] == existing.id


async def test_an_unverified_email_does_not_link_an_account(fb: Api, keys: Keys, db: Database) -> None:
    existing = await fb.signup("Sunita Rao")
    uid = new_uid()
    response = await sign_in(fb, mint(keys, uid, email=existing.email, email_verified=False))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] != existing.id
    assert response.json()["user"]["email"] is None  # an unproven email is not stored
    async with db.connection() as conn:
        linked = await conn.fetchval("SELECT firebase_uid FROM users WHERE id = $1", uuid.UUID(existing.id))
    assert linked is None


async def test_a_second_uid_with_an_email_already_linked_is_refused_not_a_server_error(
    fb: Api, keys: Keys, db: Database
) -> None:
    # Common in practice: a user deletes their Firebase account and signs up again (new uid, same email).
    # (Found as a 500 from users_email_key in repo.upsert_firebase_user's INSERT.)
    email = f"reused-{uuid.uuid4().hex[:8]}@example.com"
    first = await sign_in(fb, mint(keys, new_uid(), email=email))
    assert first.status_code == 200, first.text
    second_uid = new_uid()
    mark = await audit_mark(db)
    second = await sign_in(fb, mint(keys, second_uid, email=email))
    assert second.status_code != 500, f"sign-in with a verified, already-linked email crashed: {second.text}"
    assert second.status_code in (200, 409), second.text
    async with db.connection() as conn:
        holders = await conn.fetchval("SELECT count(*) FROM users WHERE lower(email) = lower($1)", email)
    assert holders == 1
    rows = await audit_since(db, mark)
    assert [(r["subject"], r["outcome"]) for r in rows] == [(second_uid, "verified")]


async def test_a_disabled_account_is_refused_with_403(
    fb: Api, keys: Keys, db: Database, admin_credentials: tuple[str, str]
) -> None:
    uid = new_uid()
    created = await sign_in(fb, mint(keys, uid))
    assert created.status_code == 200, created.text
    admin = await fb.login(*admin_credentials)
    disabled = await fb.post(f"/v1/admin/users/{created.json()['user']['id']}/disable", {}, admin)
    assert disabled.status_code == 204, disabled.text
    response = await sign_in(fb, mint(keys, uid))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_disabled"


async def test_a_disabled_accounts_sign_in_is_still_audited(
    fb: Api, keys: Keys, db: Database, admin_credentials: tuple[str, str]
) -> None:
    uid = new_uid()
    created = await sign_in(fb, mint(keys, uid))
    assert created.status_code == 200, created.text
    admin = await fb.login(*admin_credentials)
    await fb.post(f"/v1/admin/users/{created.json()['user']['id']}/disable", {}, admin)
    mark = await audit_mark(db)
    response = await sign_in(fb, mint(keys, uid))
    assert response.status_code == 403
    # (Found lost: the row was written in the transaction that the 403 then rolled back.)
    rows = await audit_since(db, mark)
    assert [(r["subject"], r["outcome"]) for r in rows] == [(uid, "verified")], (
        "a verified token for a disabled account left no auth_audit row"
    )


# Refused tokens -----------------------------------------------------------------------

REFUSED = {
    # name: (claim and header changes, the outcome audited, words the SDK's reason contains)
    "expired": ({"iat": -7200, "exp": -3600, "auth_time": -7200}, "expired", "Token expired"),
    "issued_in_the_future": ({"iat": 3600, "exp": 7200}, "invalid", "Token used too early"),
    "wrong_audience": ({"aud": "someone-elses-project"}, "invalid", 'incorrect "aud"'),
    "wrong_issuer": ({"iss": "https://securetoken.google.com/someone-elses-project"}, "invalid", 'incorrect "iss"'),
    "custom_token": (
        {"aud": "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"},
        "invalid",
        "custom token",
    ),
    "no_subject": ({"sub": None}, "invalid", '"sub"'),
    "unknown_kid": ({"kid": "no-such-key"}, "invalid", "Certificate for key id no-such-key not found"),
    "no_kid": ({"kid": None}, "invalid", 'no "kid"'),
    "signed_by_another_key": ({"rogue": True}, "invalid", "Could not verify token signature"),
    "hs256": ({"algorithm": "HS256"}, "invalid", 'Expected "RS256" but got "HS256"'),
    "alg_none": ({"algorithm": "none"}, "invalid", 'Expected "RS256" but got "none"'),
}


def refused_token(keys: Keys, uid: str, case: str) -> str:
    changes = dict(REFUSED[case][0])
    now = int(time.time())
    for claim in ("iat", "exp", "auth_time"):
        if claim in changes:
            changes[claim] = now + changes[claim]
    key = keys.rogue if changes.pop("rogue", False) else None
    return mint(keys, uid, key=key, **changes)


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_bad_id_token_is_401_and_audited(fb: Api, keys: Keys, db: Database, case: str) -> None:
    _, outcome, reason = REFUSED[case]
    uid = new_uid()
    mark = await audit_mark(db)
    response = await sign_in(fb, refused_token(keys, uid, case))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_id_token"
    assert "access_token" not in response.text and "gh_access" not in response.headers.get("set-cookie", "")
    assert await user_by_uid(db, uid) is None
    rows = await audit_since(db, mark)
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["provider"], row["outcome"], row["user_id"], row["ip"]) == ("firebase", outcome, None, "127.0.0.1")
    assert reason in row["reason"], row["reason"]


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA"])
async def test_garbage_is_401_and_audited_as_invalid(fb: Api, db: Database, garbage: str) -> None:
    mark = await audit_mark(db)
    response = await sign_in(fb, garbage)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_id_token"
    assert [r["outcome"] for r in await audit_since(db, mark)] == ["invalid"]


async def test_an_id_token_is_not_a_bearer_token(fb: Api, keys: Keys, db: Database) -> None:
    uid = new_uid()
    token = mint(keys, uid)
    assert (await sign_in(fb, token)).status_code == 200  # the token itself is good
    me = await fb.client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "invalid_token"


async def test_certificates_are_fetched_once_and_then_cached(fb: Api, keys: Keys, key_server: KeyServer) -> None:
    assert (await sign_in(fb, mint(keys, new_uid()))).status_code == 200
    hits = key_server.hits
    assert hits >= 1
    for _ in range(3):
        assert (await sign_in(fb, mint(keys, new_uid()))).status_code == 200
    assert key_server.hits == hits


# Sockets ------------------------------------------------------------------------------


async def test_a_socket_connects_with_a_firebase_id_token(
    firebase_server: RunningServer, keys: Keys, db: Database
) -> None:
    uid = new_uid()
    mark = await audit_mark(db)
    listener = await connect(firebase_server.url, mint(keys, uid))
    try:
        assert listener.client.connected
        stored = await user_by_uid(db, uid)
        assert stored is not None  # the first socket sign-in creates the user too
        rows = await audit_since(db, mark)
        assert [(r["subject"], r["outcome"], r["user_id"]) for r in rows] == [(uid, "verified", stored["id"])]
    finally:
        await listener.close()


async def test_a_socket_with_an_expired_id_token_is_refused(
    firebase_server: RunningServer, keys: Keys, db: Database
) -> None:
    uid = new_uid()
    mark = await audit_mark(db)
    with pytest.raises(Refused) as refused:
        await connect(firebase_server.url, refused_token(keys, uid, "expired"))
    assert isinstance(refused.value, socketio.exceptions.ConnectionError)
    assert refused.value.reason == "unauthorized"
    assert await user_by_uid(db, uid) is None
    assert [r["outcome"] for r in await audit_since(db, mark)] == ["expired"]


async def test_a_socket_with_a_token_signed_by_another_key_is_refused(
    firebase_server: RunningServer, keys: Keys, db: Database
) -> None:
    uid = new_uid()
    with pytest.raises(Refused) as refused:
        await connect(firebase_server.url, refused_token(keys, uid, "signed_by_another_key"))
    assert refused.value.reason == "unauthorized"
    assert await user_by_uid(db, uid) is None


# A Firebase ID token as the bearer on HTTP (FIREBASE_HTTP_BEARER) ----------------------


@pytest.fixture(scope="module")
async def bearer_server(settings: Settings, firebase_server: RunningServer) -> AsyncIterator[RunningServer]:
    """Beside the Firebase server (whose firebase-admin app it shares), one that takes ID tokens as bearers."""
    running = RunningServer(replace(firebase_server.settings, firebase_http_bearer=True))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_an_id_token_is_a_bearer_where_enabled(
    bearer_server: RunningServer, keys: Keys, db: Database, admin: User, api: Api
) -> None:
    uid = new_uid()
    token = mint(keys, uid)
    mark = await audit_mark(db)
    async with httpx.AsyncClient(base_url=bearer_server.url, timeout=15) as client:
        first = await client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
        assert first.status_code == 200, first.text
        stored = await user_by_uid(db, uid)
        assert stored is not None and first.json()["user"]["id"] == str(stored["id"]), "first use creates the user"
        again = await client.get("/v1/profile/me", headers={"x-access-token": token})
        assert again.status_code == 200 and again.json()["user"]["id"] == str(stored["id"])
        rows = await audit_since(db, mark)
        assert [(r["subject"], r["outcome"]) for r in rows] == [(uid, "verified")], "audited once, not per request"

        society = await api.society(admin, flats=1)
        user = User(str(stored["id"]), stored["email"], "", "")
        await api.grant(admin, user, "guard", "society", society.id)
        listed = await client.get("/v1/visitors", headers={"authorization": f"Bearer {token}"})
        assert listed.status_code == 200, "a role granted meanwhile applies at once"
        assert (await client.get("/v1/users", headers={"authorization": f"Bearer {token}"})).status_code == 403

        stale = refused_token(keys, new_uid(), "expired")
        expired = await client.get("/v1/profile/me", headers={"authorization": f"Bearer {stale}"})
        assert expired.status_code == 401 and expired.json()["error"]["code"] == "invalid_id_token"
        rogue = refused_token(keys, uid, "signed_by_another_key")
        forged = await client.get("/v1/profile/me", headers={"authorization": f"Bearer {rogue}"})
        assert forged.status_code == 401

        disabled = await api.post(f"/v1/admin/users/{stored['id']}/disable", {}, admin)
        assert disabled.status_code == 204, disabled.text
        shut = await client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
        assert shut.status_code == 403 and shut.json()["error"]["code"] == "account_disabled"


def test_firebase_bearers_need_a_project() -> None:
    with pytest.raises(ConfigError, match="FIREBASE_HTTP_BEARER"):
        load_settings({**BASE_ENV, "FIREBASE_HTTP_BEARER": "true"})
    assert load_settings({**BASE_ENV, "FIREBASE_HTTP_BEARER": "true", "FIREBASE_PROJECT_ID": PROJECT})


# Configuration ------------------------------------------------------------------------

BASE_ENV = {
    "DATABASE_URL": "postgresql://gatehouse@127.0.0.1:5432/gatehouse",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "JWT_SECRET": "s" * 40,
}


def test_the_auth_emulator_needs_allow_insecure_dev() -> None:
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        load_settings({**BASE_ENV, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"})
    allowed = load_settings({**BASE_ENV, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099", "ALLOW_INSECURE_DEV": "1"})
    assert allowed.firebase_emulator_host == "127.0.0.1:9099"


def test_a_local_cert_url_needs_allow_insecure_dev() -> None:
    with pytest.raises(ConfigError, match="FIREBASE_CERT_URL"):
        load_settings({**BASE_ENV, "FIREBASE_PROJECT_ID": PROJECT, "FIREBASE_CERT_URL": "http://127.0.0.1:1/certs"})


async def test_a_verified_address_takes_up_the_roles_waiting_for_it(fb: Api, keys: Keys, admin: User) -> None:
    society = await fb.society(admin, flats=1)
    chair = await fb.signup("Firebase Chair")
    await fb.grant(admin, chair, "society_admin", "society", society.id)
    uid, phone_uid, unverified_uid = new_uid(), new_uid(), new_uid()
    digits = f"98{uuid.uuid4().int % 10**8:08d}"

    async def invite(role: str, scope_type: str, scope_id: str, **address: str) -> dict:
        body = {"role": role, "scope_type": scope_type, "scope_id": scope_id, **address}
        return await fb.created("/v1/role-invitations", body, chair)

    as_guard = await invite("guard", "society", society.id, email=f"{uid}@Example.com")
    as_resident = await invite("resident", "flat", society.flats[0], phone=f"+91 {digits[:5]} {digits[5:]}")
    await invite("guard", "society", society.id, email=f"{unverified_uid}@example.com")

    guard = await sign_in(fb, mint(keys, uid))
    assert guard.status_code == 200, guard.text
    me = (await fb.get("/v1/profile/me", as_user(guard.json()))).json()
    assert [(s["id"], s["role"]) for s in me["societies"]] == [(society.id, "guard")], "no code needed"
    resident = await sign_in(fb, mint(keys, phone_uid, email=None, phone_number=f"+91{digits}"))
    assert resident.status_code == 200, resident.text
    flats = (await fb.get("/v1/profile/me", as_user(resident.json()))).json()["flats"]
    assert [(f["id"], f["role"]) for f in flats] == [(society.flats[0], "resident")], "the number's digits match"
    unverified = await sign_in(fb, mint(keys, unverified_uid, email_verified=False))
    assert unverified.status_code == 200, unverified.text
    nothing = (await fb.get("/v1/profile/me", as_user(unverified.json()))).json()
    assert nothing["societies"] == [], "an unverified address proves nothing"

    place = {"scope_type": "society", "scope_id": society.id}
    waiting = (await fb.get("/v1/role-invitations", chair, params=place)).json()["items"]
    assert as_guard["id"] not in {i["id"] for i in waiting} and len(waiting) == 1
    claimed = await fb.get("/v1/audit", chair, params={**place, "action": "role_invitation.claimed"})
    assert {(e["resource_id"], e["details"]["proof"]) for e in claimed.json()["items"]} == {
        (as_guard["id"], "firebase"),
        (as_resident["id"], "firebase"),
    }
    again = await sign_in(fb, mint(keys, uid))
    assert again.status_code == 200 and again.json()["user"]["id"] == guard.json()["user"]["id"]
