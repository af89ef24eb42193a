"""ASGI middleware for every HTTP request: request id, client IP, logs, metrics,
security headers, the body size limit, the general rate limit and the last-resort 500.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.platform import context, metrics
from app.platform.http import ApiError, PayloadTooLarge, dumps, error_body, internal_error_body
from app.platform.images import MEDIA_PREFIX
from app.platform.ratelimit import RateLimits
from app.platform.timeline import TIMELINE

log = structlog.get_logger("gatehouse.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"same-site"),
    (b"cache-control", b"no-store"),
]
# Paths outside the general rate limit: probes, the Socket.IO transport, and stored images (files from disk
# that a page shows many of, each cached for a year once fetched).
_UNLIMITED_PREFIXES = ("/healthz", "/readyz", "/metrics", "/socket.io", MEDIA_PREFIX)


class ClientIP:
    """Finds the client address, trusting X-Forwarded-For only from configured proxies."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self._trusted = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    def __call__(self, scope: Scope) -> str:
        peer = scope["client"][0] if scope.get("client") else "0.0.0.0"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        forwarded = ""
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded = value.decode("latin-1")
        # Walk from the nearest hop outwards; the first untrusted address is the client.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not self._is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer
        return peer


async def _send_json(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestMiddleware:
    """Outermost layer: everything here runs once per HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        client_ip: ClientIP,
        max_body: int,
        limits: RateLimits | None,
        larger_bodies: Mapping[str, int] | None = None,
        unthrottled: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.client_ip = client_ip
        self.max_body = max_body
        self.larger_bodies = dict(larger_bodies or {})  # exact path -> its own limit
        self.limits = limits
        self.unthrottled = (*_UNLIMITED_PREFIXES, *unthrottled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        ip = self.client_ip(scope)
        scope.setdefault("state", {})["client_ip"] = ip
        context.request_id.set(request_id)
        context.client_ip.set(ip)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status_holder = [500]
        started_response = [False]
        extra_headers = [(b"x-request-id", request_id.encode()), *SECURITY_HEADERS]
        path = scope["path"]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                started_response[0] = True
                status_holder[0] = message["status"]
                own = message.get("headers", [])
                named = {name.lower() for name, _ in own}  # a response may set its own caching, say
                message["headers"] = [*own, *(h for h in extra_headers if h[0] not in named)]
            await send(message)

        try:
            await self._guarded(scope, receive, send_wrapper, ip, path)
        except ApiError as exc:
            if started_response[0]:
                raise
            status_holder[0] = exc.status
            headers = [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
            await _send_json(
                send, exc.status, dumps(error_body(exc.code, exc.message, exc.details)), [*headers, *extra_headers]
            )
        except Exception:
            log.exception("unhandled_error", path=path)
            status_holder[0] = 500
            if started_response[0]:
                return
            body = dumps(internal_error_body(request_id))
            await _send_json(send, 500, body, extra_headers)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            metrics.HTTP_REQUESTS.labels(scope["method"], label, status_holder[0]).inc()
            metrics.HTTP_LATENCY.labels(scope["method"], label).observe(elapsed)
            TIMELINE.took("http", elapsed)
            if status_holder[0] >= 500:
                log.error(
                    "request", method=scope["method"], path=path, status=status_holder[0], ms=round(elapsed * 1000, 2)
                )
            else:
                log.debug(
                    "request", method=scope["method"], path=path, status=status_holder[0], ms=round(elapsed * 1000, 2)
                )

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, ip: str, path: str) -> None:
        if self.limits is not None and not path.startswith(self.unthrottled):
            self.limits.check_general(ip)
        max_body = self.larger_bodies.get(path, self.max_body)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise PayloadTooLarge(details={"max_bytes": max_body})
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise PayloadTooLarge(details={"max_bytes": max_body})
            return message

        await self.app(scope, limited_receive, send)
