"""A local SMTP server (aiosmtpd, in the test's own loop) that keeps every message it accepts, and can
refuse the next few with a temporary failure as a server in trouble does."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_next = 0
        self.refused = 0
        self.port = 0
        self._arrived = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self._arrived.set()
        return "250 OK"

    def to(self, address: str, subject_has: str = "") -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address and subject_has in str(m["Subject"])]

    async def wait_for(
        self, address: str, subject_has: str = "", *, count: int = 1, timeout: float = 15
    ) -> list[EmailMessage]:
        """The messages to `address` whose subject holds `subject_has`, once there are `count` of them."""
        async with asyncio.timeout(timeout):
            while len(found := self.to(address, subject_has)) < count:
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), 0.2)
        return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def attachments_of(message: EmailMessage) -> dict[str, Any]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


@pytest.fixture(scope="module")
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(box, hostname="mail.test"), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()
