"""Schemathesis over the whole API, with every check, as an admin and as a resident (#15): what the
OpenAPI document says is what the server takes and answers. Its settings, and each rule it lets refuse
schema-valid data, are in tests/schemathesis.toml; the mall and the shops join by being in the document."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from app.identity.service import create_admin
from app.platform.db import Database
from app.platform.security.passwords import Passwords
from tests.helpers import PASSWORD, Api, User

CONFIG = Path(__file__).resolve().parents[1] / "schemathesis.toml"
ST = Path(sys.executable).parent / "st"
# Neither is generated: logging out would end the session the run signs in with, and disabling an
# account could disable the caller's own (each has its own tests).
EXCLUDED = ("--exclude-operation-id", "logout", "--exclude-operation-id", "disable_user")


async def _schemathesis(url: str, user: User, workdir: Path, *, examples: int, phases: str) -> tuple[int, str]:
    run = await asyncio.create_subprocess_exec(
        str(ST),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--phases",
        phases,
        "--seed",
        "1",
        "--header",
        f"Authorization: Bearer {user.access_token}",
        *EXCLUDED,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,  # where schemathesis keeps its cache
    )
    out, _ = await asyncio.wait_for(run.communicate(), timeout=600)
    assert run.returncode is not None
    return run.returncode, out.decode()


@pytest.fixture
async def own_admin(api: Api, db: Database, passwords: Passwords) -> User:
    """An admin for this run alone: the generated calls may well take away its own role."""
    email = f"st-admin-{uuid.uuid4().hex[:8]}@example.com"
    await create_admin(db, passwords, email=email, password=PASSWORD, name="Schemathesis", reset_password=False)
    return await api.login(email)


@pytest.fixture
async def resident(api: Api, admin: User) -> User:
    society = await api.society(admin, flats=1)
    user = await api.signup("Schemathesis Resident")
    await api.grant(admin, user, "resident", "flat", society.flats[0])
    return await api.login(user.email)


async def test_the_api_keeps_to_its_document_for_an_admin_and_a_resident(
    server, own_admin: User, resident: User, tmp_path: Path
) -> None:
    """Both runs at once (each is mostly schemathesis's own work, so the two overlap well). A resident is
    refused most operations, which a few generated examples show as well as many; their bodies, and the
    coverage phase's edge cases of every field, are the admin run's to explore."""
    (admin_dir := tmp_path / "admin").mkdir()
    (resident_dir := tmp_path / "resident").mkdir()
    (admin_status, admin_report), (resident_status, resident_report) = await asyncio.gather(
        _schemathesis(server.url, own_admin, admin_dir, examples=10, phases="examples,coverage,fuzzing,stateful"),
        _schemathesis(server.url, resident, resident_dir, examples=4, phases="fuzzing"),
    )
    assert admin_status == 0, admin_report
    assert resident_status == 0, resident_report
