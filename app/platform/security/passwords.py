"""Passwords: which are acceptable (NIST SP 800-63B: length, not blank, not a commonly used one; no
composition rules), and hashing with Argon2id, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.platform.config import Settings

# The most used passwords from leaked sets, as zxcvbn ships them (offline; nothing is sent anywhere).
_COMMON = frozenset(FREQUENCY_LISTS["passwords"][:10_000])

LANES = 4  # Argon2's parallelism in RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes)


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None. Length is the model's concern (8 to 256)."""
    if not password.strip():
        return "must not be only spaces"
    if password.lower() in _COMMON or password.strip().lower() in _COMMON:
        return "is one of the most commonly used passwords; choose another"
    return None


class Passwords:
    """Argon2id at the configured cost (PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_ITERATIONS). A stored hash
    carries its own cost, so changing the setting only changes the hashes made from then on."""

    def __init__(self, *, memory_kib: int, iterations: int) -> None:
        self._hasher = PasswordHasher(time_cost=iterations, memory_cost=memory_kib, parallelism=LANES)
        # Verified against when the account does not exist, so timing does not reveal it: at the same cost.
        self._dummy = self._hasher.hash("gatehouse-timing-equaliser")

    @classmethod
    def configured(cls, settings: Settings) -> Passwords:
        return cls(memory_kib=settings.password_hash_memory_kib, iterations=settings.password_hash_iterations)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; spends the same work when there is no hash."""

        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)
