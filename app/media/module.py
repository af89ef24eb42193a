"""The media domain: images people upload, kept by content hash and served to anyone with the URL."""

from __future__ import annotations

from app.media.routes import routes
from app.platform.modules import DomainModule, Tag

MODULE = DomainModule(
    name="media",
    routes=routes,
    tags=[Tag("media", "Images uploaded for shops, movies, issues and people, and served back")],
    upload_paths=("/v1/uploads",),
)
