"""Firebase ID-token verification through firebase-admin.

The SDK checks the RS256 signature against Google's certificates, the `kid`,
`aud` (the project id), `iss` and expiry. Verification fetches certificates
over HTTP (cached by the SDK), so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

import firebase_admin
import google.auth.credentials
import jwt
from firebase_admin import _token_gen, auth, credentials, exceptions

_APP_NAME = "gatehouse"
# Verified tokens kept per worker (an ID token lives an hour; the oldest goes first past this).
_KEPT_TOKENS = 10_000


class FirebaseTokenError(Exception):
    """The ID token was refused; `outcome` is `invalid`, `expired` or `error`."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FirebaseIdentity:
    uid: str
    email: str | None
    name: str | None
    phone: str | None
    expires_at: int  # the ID token's `exp`, seconds since the epoch


def looks_like_firebase_token(token: str) -> bool:
    """Firebase ID tokens are RS256 JWTs with a key id; anything else need not be tried."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return header.get("alg") == "RS256" and bool(header.get("kid"))


class _ProjectOnlyCredential(credentials.Base):
    """Verifying ID tokens needs the project id, not a service account."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.auth.credentials.AnonymousCredentials()


class FirebaseVerifier:
    def __init__(self, *, project_id: str, cert_url: str | None = None) -> None:
        self._verified: OrderedDict[bytes, FirebaseIdentity] = OrderedDict()
        if cert_url:
            # Development and tests: certificates from a local source.
            _token_gen.ID_TOKEN_CERT_URI = cert_url
        try:
            self._app = firebase_admin.get_app(_APP_NAME)
        except ValueError:
            self._app = firebase_admin.initialize_app(
                _ProjectOnlyCredential(), {"projectId": project_id}, name=_APP_NAME
            )

    async def verify(self, id_token: str) -> FirebaseIdentity:
        """The identity an ID token proves. A token verified once is kept (by its hash) until it expires, so
        an app that sends the same token on every request pays for the signature check once."""
        key = hashlib.sha256(id_token.encode()).digest()
        known = self._verified.get(key)
        if known is not None and known.expires_at > time.time():
            return known
        identity = await self._check(id_token)
        self._verified[key] = identity
        if len(self._verified) > _KEPT_TOKENS:
            self._verified.popitem(last=False)
        return identity

    async def _check(self, id_token: str) -> FirebaseIdentity:
        try:
            claims = await asyncio.to_thread(auth.verify_id_token, id_token, self._app)
        except auth.ExpiredIdTokenError as exc:
            raise FirebaseTokenError("expired", str(exc)) from None
        except (auth.InvalidIdTokenError, ValueError) as exc:
            raise FirebaseTokenError("invalid", str(exc)) from None
        except (auth.CertificateFetchError, exceptions.FirebaseError) as exc:
            raise FirebaseTokenError("error", str(exc)) from None
        return FirebaseIdentity(
            uid=claims["uid"],
            email=claims.get("email") if claims.get("email_verified") else None,
            name=claims.get("name"),
            phone=claims.get("phone_number"),
            expires_at=int(claims["exp"]),
        )
