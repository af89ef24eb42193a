"""With SMTP_HOST set, the account's e-mails go through that server, worded: the password-reset code and a
role invitation's code arrive as mail a person can read and use (tests/mailbox.py is the server)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from app.platform.config import Settings
from tests.conftest import RunningServer
from tests.helpers import Api
from tests.mailbox import Mailbox, mailbox, text_of

__all__ = ["mailbox"]  # the fixture, used by name


@pytest.fixture(scope="module")
async def smtp_api(settings: Settings, mailbox: Mailbox) -> AsyncIterator[Api]:
    server = RunningServer(
        replace(settings, smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_security="none", run_jobs=True)
    )
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


def _code(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    assert found, text
    return found.group(1)


async def test_a_reset_code_arrives_by_smtp_and_sets_the_password(smtp_api: Api, mailbox: Mailbox) -> None:
    api = smtp_api
    user = await api.signup("Mail Reset")
    assert (await api.post("/v1/auth/password-reset/request", {"email": user.email})).status_code == 202
    message = (await mailbox.wait_for(user.email, "password reset code"))[0]
    assert message["From"] == Settings().mail_from
    code = _code(text_of(message), r"Your code is (\d{6})\.")
    confirmed = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "a-new-mailed-pass"}
    )
    assert confirmed.status_code == 204, confirmed.text
    assert (await api.post("/v1/auth/login", {"email": user.email, "password": "a-new-mailed-pass"})).status_code == 200


async def test_an_invitation_arrives_by_smtp_and_its_code_takes_the_role(
    smtp_api: Api, mailbox: Mailbox, admin_credentials
) -> None:
    api = smtp_api
    admin = await api.login(*admin_credentials)
    society = await api.society(admin, flats=1)
    email = f"mailed-guard-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "role": "guard", "scope_type": "society", "scope_id": society.id}
    assert (await api.post("/v1/role-invitations", body, admin)).status_code == 201
    message = (await mailbox.wait_for(email, "invited"))[0]
    code = _code(text_of(message), r"enter the code ([A-Z0-9]{8}) ")
    newcomer = await api.signup("Mailed Guard", email=email)
    taken = await api.post("/v1/role-invitation-claims", {"code": code}, newcomer)
    assert taken.status_code == 200 and taken.json()["role"] == "guard", taken.text
