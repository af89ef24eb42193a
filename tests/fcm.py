"""A local Google for pushes: its OAuth token endpoint and FCM's v1 send endpoint on one port, and the
settings that send a Gatehouse server's pushes there through firebase-admin itself.

google-auth signs a JWT assertion with the service account's RSA key and trades it for an access token
here; firebase-admin sends one `messages:send` request per phone with it, and turns the answers into its
own exceptions, including the 404 UNREGISTERED a stale phone gets (a token holding "unregistered") and a
429 once for a token holding "over-quota-once". firebase-admin keeps process-wide state (its named app and
the class-level FCM_URL); `local_google` puts both back when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import firebase_admin
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import messaging

PROJECT_ID = "gatehouse-push-test"
FIREBASE_APP = "gatehouse-fcm"
# google-auth always names Google's token endpoint as the assertion's audience, wherever token_uri points.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

QUOTA_EXCEEDED = {
    "error": {
        "code": 429,
        "message": "Quota exceeded for the device.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED"}],
    }
}
UNREGISTERED = {
    "error": {
        "code": 404,
        "message": "Requested entity was not found.",
        "status": "NOT_FOUND",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}],
    }
}


@dataclass
class LocalGoogle:
    """Google's OAuth token endpoint and FCM's v1 send endpoint, on one local port."""

    public_key: Any
    client_email: str
    access_token: str = field(default_factory=lambda: "ya29.local-" + secrets.token_hex(16))
    url: str = ""
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # {"project", "authorization", "body"}

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    async def token(self, request: web.Request) -> web.Response:
        """The JWT-bearer grant: only an assertion signed with our service account's key gets a token."""
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion")),
                self.public_key,
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                issuer=self.client_email,
                options={"require": ["iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError as exc:
            return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
        self.token_requests.append(claims)
        return web.json_response({"access_token": self.access_token, "expires_in": 3600, "token_type": "Bearer"})

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(
            {
                "project": request.match_info["project"],
                "authorization": request.headers.get("Authorization"),
                "body": body,
            }
        )
        token = body["message"].get("token", "")
        if "unregistered" in token:
            return web.json_response(UNREGISTERED, status=404)
        if "over-quota-once" in token and len(self.messages_to(token)) == 1:
            return web.json_response(QUOTA_EXCEEDED, status=429)
        return web.json_response({"name": f"projects/{request.match_info['project']}/messages/{len(self.sent)}"})

    def messages_for(self, visitor_id: str) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["body"]["message"].get("data", {}).get("visitor_id") == visitor_id]

    def messages_to(self, token: str) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["body"]["message"].get("token") == token]


def service_account(directory: Path, google: LocalGoogle, key: rsa.RSAPrivateKey) -> Path:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = directory / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT_ID,
                "private_key_id": secrets.token_hex(20),
                "private_key": pem,
                "client_email": google.client_email,
                "client_id": "1234567890",
                "token_uri": google.token_uri,
            }
        )
    )
    return path


@contextlib.asynccontextmanager
async def local_google(directory: Path) -> AsyncIterator[tuple[LocalGoogle, dict[str, Any]]]:
    """The local Google, and the settings (`replace(settings, **them)`) of a server that pushes to it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    google = LocalGoogle(key.public_key(), f"push@{PROJECT_ID}.iam.gserviceaccount.com")
    web_app = web.Application()
    web_app.router.add_post("/token", google.token)
    web_app.router.add_post("/v1/projects/{project}/messages:send", google.send)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    google.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    original_fcm_url = messaging._MessagingService.FCM_URL
    try:
        yield (
            google,
            {
                "fcm_credentials": str(service_account(directory, google, key)),
                "fcm_endpoint": f"{google.url}/v1/projects/{{0}}/messages:send",
            },
        )
    finally:
        messaging._MessagingService.FCM_URL = original_fcm_url
        with contextlib.suppress(ValueError):  # ValueError: no server got as far as creating it
            # Off the loop: closing the app's messaging service calls asyncio.run() itself.
            await asyncio.to_thread(firebase_admin.delete_app, firebase_admin.get_app(FIREBASE_APP))
        await runner.cleanup()
