"""Push notifications to phones through Firebase Cloud Messaging.

Configured with a service-account file (FCM_CREDENTIALS); without one every
push is `skipped`, so the rest of the flow (sockets, sync) is unaffected.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PushResult:
    token: str
    outcome: str  # sent | failed | skipped
    error: str | None = None
    unregistered: bool = False  # FCM says the app is gone from that phone: forget the token
    retryable: bool = False  # a failure that may pass (network, quota, FCM unavailable): try again later


class Pusher(Protocol):
    async def send(self, tokens: list[str], *, title: str, body: str, data: dict[str, str]) -> list[PushResult]: ...


class SkippingPusher:
    """No credentials: nothing is sent, each attempt is recorded as skipped."""

    async def send(self, tokens: list[str], *, title: str, body: str, data: dict[str, str]) -> list[PushResult]:
        return [PushResult(t, "skipped", "push is not configured") for t in tokens]


class FcmPusher:
    def __init__(self, credentials_file: str, *, endpoint: str | None = None) -> None:
        """`endpoint` (development and tests) replaces FCM's send URL; `{0}` is the project id."""
        import firebase_admin
        from firebase_admin import credentials, messaging

        if endpoint:
            messaging._MessagingService.FCM_URL = endpoint

        name = "gatehouse-fcm"
        try:
            self._app = firebase_admin.get_app(name)
        except ValueError:
            self._app = firebase_admin.initialize_app(credentials.Certificate(credentials_file), name=name)

    async def send(self, tokens: list[str], *, title: str, body: str, data: dict[str, str]) -> list[PushResult]:
        from firebase_admin import exceptions, messaging

        if not tokens:
            return []
        with warnings.catch_warnings():
            # firebase-admin 7 prefers installation ids (`fids`); apps register FCM tokens, which it still sends.
            warnings.simplefilter("ignore", DeprecationWarning)
            message = messaging.MulticastMessage(
                tokens=tokens, notification=messaging.Notification(title=title, body=body), data=data
            )
        try:
            batch = await asyncio.to_thread(messaging.send_each_for_multicast, message, app=self._app)
        except (exceptions.FirebaseError, ValueError, OSError) as exc:
            log.warning("push_failed", error=type(exc).__name__)
            return [PushResult(t, "failed", str(exc)[:300], retryable=_transient(exc)) for t in tokens]
        return [
            PushResult(t, "sent")
            if r.success
            else PushResult(
                t,
                "failed",
                str(r.exception)[:300],
                unregistered=isinstance(r.exception, messaging.UnregisteredError),
                retryable=_transient(r.exception),
            )
            for t, r in zip(tokens, batch.responses, strict=True)
        ]


def _transient(exc: BaseException | None) -> bool:
    """Failures worth another try later: the network, FCM's quota, FCM being unavailable or failing inside."""
    from firebase_admin import exceptions, messaging

    return isinstance(
        exc,
        OSError
        | messaging.QuotaExceededError
        | exceptions.UnavailableError
        | exceptions.InternalError
        | exceptions.DeadlineExceededError
        | exceptions.UnknownError,
    )
