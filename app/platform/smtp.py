"""E-mail through an SMTP server (SMTP_HOST), with aiosmtplib; other channels go on to the next sender.

Each message opens its own connection: e-mail here is a job's work, a few at a time, and a connection held
open between jobs would only time out on the server's side. A message without worded `Content` cannot go
by SMTP and fails, so a caller that forgot to word it finds out in the log rather than by silence.
"""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import structlog

from app.platform.notify import Content, Notifier

log = structlog.get_logger(__name__)


class SmtpNotifier:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None,
        password: str | None,
        security: str,
        others: Notifier,
        timeout: float = 20.0,
    ) -> None:
        self._connect: dict[str, Any] = {
            "hostname": host,
            "port": port,
            "username": username,
            "password": password,
            "use_tls": security == "tls",
            "start_tls": security == "starttls",
            "timeout": timeout,
        }
        self._sender = sender
        self._others = others

    async def send(
        self, *, channel: str, to: str, template: str, data: dict[str, Any], content: Content | None = None
    ) -> str:
        if channel != "email":
            return await self._others.send(channel=channel, to=to, template=template, data=data, content=content)
        if content is None:
            log.error("notification_failed", channel=channel, template=template, error="no content to send")
            return "failed"
        try:
            await aiosmtplib.send(self.message(to, content), **self._connect)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("notification_failed", channel=channel, template=template, error=type(exc).__name__)
            return "failed"
        return "sent"

    def message(self, to: str, content: Content) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = content.subject
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=email.utils.parseaddr(self._sender)[1].split("@")[-1])
        if content.unsubscribe_url:
            # RFC 8058: a mail client's one-click unsubscribe POSTs to the address, without signing in.
            message["List-Unsubscribe"] = f"<{content.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(content.text)
        for attachment in content.attachments:
            main, _, sub = attachment.content_type.partition("/")
            message.add_attachment(attachment.data, maintype=main, subtype=sub, filename=attachment.filename)
        return message

    async def close(self) -> None:
        close = getattr(self._others, "close", None)
        if close is not None:
            await close()
