"""Outgoing messages (email, SMS, WhatsApp) behind one small interface.

The default sender only logs that a message went out; a real gateway plugs
in through NOTIFY_WEBHOOK_URL, which receives each message as a JSON POST,
and e-mail can go through an SMTP server of its own (`app.platform.smtp`).
A message names its template and data, for a gateway that words messages
itself, and may carry its `Content` as the sender worded it, which an SMTP
server needs.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import httpx
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # e.g. application/pdf
    data: bytes


@dataclass(frozen=True, slots=True)
class Content:
    """A message as its reader sees it: subject and plain text, files, and for a message someone may opt
    out of, the address that unsubscribes them (also sent as the List-Unsubscribe header)."""

    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    unsubscribe_url: str | None = None


class Notifier(Protocol):
    async def send(
        self, *, channel: str, to: str, template: str, data: dict[str, Any], content: Content | None = None
    ) -> str:
        """Deliver one message; returns the outcome: `sent`, `logged` or `failed`."""
        ...


class LogNotifier:
    """Development default: records that a message would go out, never its secrets."""

    async def send(
        self, *, channel: str, to: str, template: str, data: dict[str, Any], content: Content | None = None
    ) -> str:
        log.info(
            "notification_logged",
            channel=channel,
            template=template,
            fields=sorted(data),
            attachments=[a.filename for a in content.attachments] if content else [],
        )
        return "logged"


class WebhookNotifier:
    """POSTs `{channel, to, template, data, content?}` to a gateway that does the delivery (attachments in
    base64)."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(
        self, *, channel: str, to: str, template: str, data: dict[str, Any], content: Content | None = None
    ) -> str:
        message: dict[str, Any] = {"channel": channel, "to": to, "template": template, "data": data}
        if content is not None:
            message["content"] = {
                "subject": content.subject,
                "text": content.text,
                "unsubscribe_url": content.unsubscribe_url,
                "attachments": [
                    {"filename": a.filename, "content_type": a.content_type, "base64": _base64(a.data)}
                    for a in content.attachments
                ],
            }
        try:
            response = await self._client.post(self._url, json=message)
        except httpx.HTTPError as exc:
            log.warning("notification_failed", channel=channel, template=template, error=type(exc).__name__)
            return "failed"
        if response.is_success:
            return "sent"
        log.warning("notification_failed", channel=channel, template=template, status=response.status_code)
        return "failed"

    async def close(self) -> None:
        await self._client.aclose()


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_LOG = """
INSERT INTO notification_logs (user_id, channel, target, template, resource_type, resource_id, outcome, error)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One push, SMS, WhatsApp or email attempt and how it went."""

    user_id: uuid.UUID | None
    channel: str
    target: str
    template: str
    resource_type: str | None
    resource_id: str | None
    outcome: str
    error: str | None = None


async def record(conn: asyncpg.Connection, attempts: list[Attempt]) -> None:
    """Write attempts to `notification_logs` in one statement."""
    if not attempts:
        return
    columns = list(
        zip(
            *(
                (a.user_id, a.channel, a.target, a.template, a.resource_type, a.resource_id, a.outcome, a.error)
                for a in attempts
            ),
            strict=True,
        )
    )
    await conn.execute(_LOG, *[list(c) for c in columns])


# Outcomes after which a message is not sent again: it went, or there is nowhere it could go.
DONE = ("sent", "logged", "skipped")


async def reached(
    conn: asyncpg.Connection, resource_type: str, resource_id: str, template: str
) -> set[tuple[str, str]]:
    """The (channel, target) pairs a message about the resource already went to: what a retry skips."""
    rows = await conn.fetch(
        "SELECT DISTINCT channel, target FROM notification_logs "
        "WHERE resource_type = $1 AND resource_id = $2 AND template = $3 AND outcome = ANY($4::text[])",
        resource_type,
        resource_id,
        template,
        DONE,
    )
    return {(r["channel"], r["target"]) for r in rows}
