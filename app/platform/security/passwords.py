"""Passwords: which are acceptable (NIST SP 800-63B: length, not blank, not a commonly used one; no
composition rules), and hashing with Argon2id, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id, RFC 9106 low-memory profile
# Verified against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("gatehouse-timing-equaliser")


# The most used passwords from leaked sets, as zxcvbn ships them (offline; nothing is sent anywhere).
_COMMON = frozenset(FREQUENCY_LISTS["passwords"][:10_000])


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None. Length is the model's concern (8 to 256)."""
    if not password.strip():
        return "must not be only spaces"
    if password.lower() in _COMMON or password.strip().lower() in _COMMON:
        return "is one of the most commonly used passwords; choose another"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; spends the same work when there is no hash."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
