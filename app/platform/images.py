"""Images people upload (a shop's front, a movie's poster, a photo of an issue), kept on disk by content hash.

The same bytes are one file under one name whoever sends them, so an upload is idempotent and a name never
changes what it shows: `/media/<name>` can be cached for a year. The type is read from the bytes (a PNG
called `cat.jpg` is a PNG; an SVG or an HTML page called `cat.png` is refused), never from the file name
or the declared content type.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints

MEDIA_PREFIX = "/media/"
# A stored image's name: the SHA-256 of its bytes and the extension of its type.
NAME = re.compile(r"^[0-9a-f]{64}\.(?:jpg|png|webp)$")
NAME_PATTERN = NAME.pattern

# An image field: one stored here (`/media/...`, what the uploads endpoint answers) or one served over https.
ImageUrl = Annotated[
    str,
    StringConstraints(max_length=500, pattern=r"^(?:https://[^\s\x00]+|/media/[0-9a-f]{64}\.(?:jpg|png|webp))$"),
]


@dataclass(frozen=True, slots=True)
class ImageType:
    content_type: str
    extension: str


JPEG = ImageType("image/jpeg", "jpg")
PNG = ImageType("image/png", "png")
WEBP = ImageType("image/webp", "webp")
TYPES = (JPEG, PNG, WEBP)
_BY_EXTENSION = {t.extension: t for t in TYPES}


def sniff(data: bytes) -> ImageType | None:
    """The image type these bytes start with, by each format's signature; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


@dataclass(frozen=True, slots=True)
class StoredImage:
    name: str
    content_type: str
    bytes: int

    @property
    def url(self) -> str:
        return MEDIA_PREFIX + self.name


class ImageStore:
    """Files under `root`, spread over 256 folders by the first two hex digits of their hash.

    Written to a temporary file and renamed into place, so a reader (another worker, a crash halfway)
    sees a whole image or none; two uploads of the same bytes both rename the same content.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def save(self, data: bytes, kind: ImageType) -> StoredImage:
        """Blocking (it writes the file): run it in a thread."""
        name = f"{hashlib.sha256(data).hexdigest()}.{kind.extension}"
        path = self._path(name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".upload-", delete=False) as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            Path(tmp.name).chmod(0o644)
            Path(tmp.name).replace(path)
        return StoredImage(name, kind.content_type, len(data))

    def find(self, name: str) -> tuple[Path, ImageType] | None:
        """The file and type of a stored image; None for a name that is not one (or not here)."""
        if not NAME.match(name):
            return None
        path = self._path(name)
        return (path, _BY_EXTENSION[name.rsplit(".", 1)[1]]) if path.is_file() else None
