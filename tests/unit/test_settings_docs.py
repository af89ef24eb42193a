"""Each setting's default is written once, in `Settings`: `.env.example` and the README's
configuration table must name every variable and show that same default."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from app.platform.config import DEVELOPMENT_LIMITS, ConfigError, Settings, env_name, env_text, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {env_name(f): env_text(f.default) for f in fields(Settings)}
# Read by one command rather than by the server; the README's table lists them too, with no default.
COMMAND_INPUTS = {"GATEHOUSE_ADMIN_PASSWORD"}


def test_env_example_lists_every_variable_with_its_default() -> None:
    listed = dict(re.findall(r"^# ([A-Z_]+)=(\S*)", (ROOT / ".env.example").read_text(), re.M))
    services = {"DATABASE_URL", "REDIS_URL"}  # shown with an example value: their default is "unset"
    assert set(listed) == set(DEFAULTS)
    assert {k: v for k, v in listed.items() if k not in services} == {
        k: v for k, v in DEFAULTS.items() if k not in services
    }


def _readme_table() -> dict[str, str | None]:
    """Variable -> default as the README's configuration table shows it (None: described in words)."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Configuration") : text.index("\n## ", text.index("## Configuration") + 5)]
    shown: dict[str, str | None] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z_]+)`", cells[0])
        literals = re.findall(r"`([^`]*)`", cells[1])
        for i, name in enumerate(names):
            shown[name] = literals[i] if len(literals) == len(names) else None
    return shown


def test_the_readme_table_names_every_variable_and_shows_its_default() -> None:
    shown = _readme_table()
    assert set(shown) == set(DEFAULTS) | COMMAND_INPUTS
    for name, default in shown.items():
        if name in COMMAND_INPUTS:
            continue
        if default is not None:
            assert default == DEFAULTS[name], name
        else:
            assert DEFAULTS[name] in ("", "false"), f"{name}'s default {DEFAULTS[name]!r} should be shown"


def test_load_settings_reads_each_variable_and_names_a_bad_one() -> None:
    base = {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0", "JWT_SECRET": "s" * 40}
    settings = load_settings({**base, "PORT": "9000", "RUN_JOBS": "false", "CORS_ORIGINS": "https://a, https://b"})
    assert (settings.port, settings.run_jobs, settings.cors_origins) == (9000, False, ("https://a", "https://b"))
    assert load_settings(base).port == Settings().port
    for name, bad in (("PORT", "eighty"), ("WORKERS", "0"), ("RUN_JOBS", "maybe"), ("JOB_POLL_INTERVAL", "-1")):
        with pytest.raises(ConfigError, match=name):
            load_settings({**base, name: bad})
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0"})
    assert "s" * 40 not in repr(load_settings(base))


def test_development_has_generous_address_limits_unless_set() -> None:
    embedded = load_settings({"JWT_SECRET": "s" * 40})
    assert (embedded.rate_limit_general, embedded.rate_limit_auth) == (
        DEVELOPMENT_LIMITS["rate_limit_general"],
        DEVELOPMENT_LIMITS["rate_limit_auth"],
    )
    chosen = load_settings({"JWT_SECRET": "s" * 40, "RATE_LIMIT_AUTH": "3/minute"})
    assert chosen.rate_limit_auth == "3/minute"
    served = load_settings({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0", "JWT_SECRET": "s" * 40})
    assert (served.rate_limit_general, served.rate_limit_auth) == (
        Settings().rate_limit_general,
        Settings().rate_limit_auth,
    )
