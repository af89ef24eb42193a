"""What an upload takes and answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel
from pydantic.json_schema import WithJsonSchema

from app.platform.images import ImageUrl


class UploadForm(BaseModel):
    """The multipart form of `POST /v1/uploads` (read by hand; this model only describes it)."""

    file: Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


@dataclass(frozen=True, slots=True)
class Upload:
    url: ImageUrl
    content_type: str
    bytes: int
