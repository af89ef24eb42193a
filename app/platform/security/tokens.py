"""Gatehouse's own tokens: short-lived access JWTs and opaque refresh tokens.

Access tokens are HS256 JWTs with the algorithm pinned and `iss`, `aud`,
`exp`, `iat`, `jti` and `typ` required, so a refresh token, a Firebase ID
token or an `alg: none` token is never accepted in their place. Refresh
tokens are random strings stored only as a hash.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
REFRESH_PREFIX = "rt_"
LEEWAY = 5  # seconds of clock skew allowed on exp, nbf and iat
VERIFIED_CACHE_SIZE = 4096


class TokenError(Exception):
    """The token is missing, malformed, expired or not an access token."""


class TokenExpired(TokenError):
    """A genuine access token past its expiry: the client should refresh, not sign in again."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    jti: str
    expires_at: int


class AccessTokens:
    """Issues and verifies access tokens with one secret, issuer and audience."""

    def __init__(self, *, secret: str, issuer: str, audience: str, ttl: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl
        # A client sends the same token with every request for its lifetime, and checking the
        # signature and claims again costs more than the rest of authentication; a verified
        # token's claims only need their expiry checked on the next use.
        self._verified: dict[str, AccessClaims] = {}

    def issue(self, *, user_id: uuid.UUID, session_id: uuid.UUID) -> str:
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": secrets.token_urlsafe(12),
            "typ": ACCESS_TYPE,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at + LEEWAY > time.time():
                return known
            del self._verified[token]
        claims = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
                leeway=LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("expired") from None  # PyJWT checks the signature before the expiry
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        if claims.get("typ") != ACCESS_TYPE:
            raise TokenError("not an access token")
        try:
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                jti=claims["jti"],
                expires_at=int(claims["exp"]),
            )
        except (KeyError, ValueError, TypeError):
            raise TokenError("malformed claims") from None


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token and the hash to store for it."""
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def looks_like_refresh_token(token: str) -> bool:
    return token.startswith(REFRESH_PREFIX) and 20 < len(token) < 100
