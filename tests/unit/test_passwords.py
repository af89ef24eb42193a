"""Password hashing: RFC 9106's profile unless configured, costs below OWASP's refused outside development,
and a stored hash keeps working when the configured cost changes."""

from __future__ import annotations

import pytest

from app.platform.config import ConfigError, Settings, load_settings
from app.platform.security.passwords import Passwords

BASE = {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0", "JWT_SECRET": "s" * 40}
CHEAP = Passwords(memory_kib=64, iterations=1)


async def test_by_default_a_password_is_hashed_with_rfc_9106s_low_memory_profile() -> None:
    default = Passwords.configured(Settings())
    stored = await default.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert await default.verify(stored, "correct horse battery")
    assert not await default.verify(stored, "correct horse batterY")
    assert not await default.verify(None, "correct horse battery")  # no account: the same work, never a match
    assert not await default.verify("not a hash", "correct horse battery")


async def test_a_hash_keeps_the_cost_it_was_made_with() -> None:
    default = Passwords.configured(Settings())
    made_cheaply = await CHEAP.hash("an older password")
    assert made_cheaply.startswith("$argon2id$v=19$m=64,t=1,p=4$")
    assert await default.verify(made_cheaply, "an older password")
    assert await CHEAP.verify(await default.hash("a newer password"), "a newer password")


def test_a_cost_below_owasps_weakest_is_refused_outside_development() -> None:
    for memory, passes in (("1024", "3"), ("40000", "1"), ("19455", "2")):
        env = {**BASE, "PASSWORD_HASH_MEMORY_KIB": memory, "PASSWORD_HASH_ITERATIONS": passes}
        with pytest.raises(ConfigError, match="PASSWORD_HASH_MEMORY_KIB"):
            load_settings(env)
        assert load_settings({**env, "ALLOW_INSECURE_DEV": "true"}).password_hash_memory_kib == int(memory)
    for memory, passes in (("19456", "2"), ("12288", "3"), ("47104", "1")):
        chosen = load_settings({**BASE, "PASSWORD_HASH_MEMORY_KIB": memory, "PASSWORD_HASH_ITERATIONS": passes})
        assert (chosen.password_hash_memory_kib, chosen.password_hash_iterations) == (int(memory), int(passes))
    with pytest.raises(ConfigError, match="PASSWORD_HASH_MEMORY_KIB"):
        load_settings({**BASE, "PASSWORD_HASH_MEMORY_KIB": "16", "ALLOW_INSECURE_DEV": "true"})  # Argon2's floor
