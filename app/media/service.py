"""Uploads: anyone signed in may store an image (a shop's photo, a poster, a picture of an issue) and use
its URL in any `image_url`; anyone may fetch it, since an `<img>` sends no token."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.media import repo
from app.media.schemas import Upload
from app.platform.http import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.platform.images import ImageStore, ImageType, sniff
from app.platform.security.permissions import Principal
from app.platform.state import AppState


def _store(ctx: AppState) -> ImageStore:
    return ImageStore(ctx.settings.data_dir / "media")


async def upload(ctx: AppState, *, actor: Principal, data: bytes) -> Upload:
    await ctx.limits.check_user("upload", actor.user_id)
    limit = ctx.settings.upload_max_bytes
    if len(data) > limit:
        raise PayloadTooLarge("The image is too large.", details={"max_bytes": limit})
    if not data:
        raise Unprocessable("The file is empty.", code="empty_file")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedMediaType("The file is not a JPEG, PNG or WebP image.", code="not_an_image")
    stored = await asyncio.to_thread(_store(ctx).save, data, kind)
    async with ctx.db.connection() as conn:
        await repo.record(conn, name=stored.name, content_type=stored.content_type, size=stored.bytes, by=actor.user_id)
    return Upload(url=stored.url, content_type=stored.content_type, bytes=stored.bytes)


def find(ctx: AppState, name: str) -> tuple[Path, ImageType]:
    found = _store(ctx).find(name)
    if found is None:
        raise NotFound("No such image.")
    return found
