"""Outgoing messages (email, SMS, WhatsApp) behind one small interface.

The default sender only logs that a message went out; a real gateway plugs
in through NOTIFY_WEBHOOK_URL, which receives each message as a JSON POST.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import httpx
import structlog

log = structlog.get_logger(__name__)


class Notifier(Protocol):
    async def send(self, *, channel: str, to: str, template: str, data: dict[str, Any]) -> str:
        """Deliver one message; returns the outcome: `sent`, `logged` or `failed`."""
        ...


class LogNotifier:
    """Development default: records that a message would go out, never its secrets."""

    async def send(self, *, channel: str, to: str, template: str, data: dict[str, Any]) -> str:
        log.info("notification_logged", channel=channel, template=template, fields=sorted(data))
        return "logged"


class WebhookNotifier:
    """POSTs `{channel, to, template, data}` to a gateway that does the delivery."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(self, *, channel: str, to: str, template: str, data: dict[str, Any]) -> str:
        try:
            response = await self._client.post(
                self._url, json={"channel": channel, "to": to, "template": template, "data": data}
            )
        except httpx.HTTPError as exc:
            log.warning("notification_failed", channel=channel, template=template, error=type(exc).__name__)
            return "failed"
        if response.is_success:
            return "sent"
        log.warning("notification_failed", channel=channel, template=template, status=response.status_code)
        return "failed"

    async def close(self) -> None:
        await self._client.aclose()


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
