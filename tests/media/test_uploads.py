"""Uploads: an image stored by its bytes' hash, served back with its type and a year of caching, and
usable in any `image_url`; anything that is not a JPEG, PNG or WebP image is refused and stores nothing."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.platform.config import Settings
from tests.conftest import RunningServer
from tests.helpers import Api, User


def png(seed: int = 0) -> bytes:
    """A real 1x1 PNG; `seed` picks its colour, so each test has bytes of its own."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = zlib.compress(bytes([0, seed % 256, (seed // 256) % 256, 7]))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24


async def upload(api: Api, user: User | None, data: bytes, name: str = "photo.png", kind: str = "image/png"):
    headers = user.headers if user else {}
    return await api.client.post("/v1/uploads", files={"file": (name, data, kind)}, headers=headers)


def stored_files(settings: Settings) -> set[Path]:
    return {p for p in (settings.data_dir / "media").rglob("*") if p.is_file()}


async def test_an_image_is_stored_by_its_hash_and_served_back(api: Api, admin: User) -> None:
    user = await api.signup("Photographer")
    data = png(1)
    first = await upload(api, user, data)
    assert first.status_code == 201, first.text
    body = first.json()
    digest = hashlib.sha256(data).hexdigest()
    assert body == {"url": f"/media/{digest}.png", "content_type": "image/png", "bytes": len(data)}

    served = await api.client.get(body["url"])  # no token: an <img> sends none
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["etag"] == f'"{digest}"'
    again = await api.client.get(body["url"], headers={"if-none-match": served.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""

    # The same bytes from someone else are the same image, at the same address.
    other = await upload(api, await api.signup("Someone Else"), data, name="copy.png")
    assert other.status_code == 201
    assert other.json()["url"] == body["url"]


async def test_the_type_comes_from_the_bytes_not_the_name(api: Api, settings: Settings) -> None:
    user = await api.signup("Uploader")
    as_jpeg = await upload(api, user, png(2), name="holiday.jpg", kind="image/jpeg")
    assert as_jpeg.json()["content_type"] == "image/png"
    assert as_jpeg.json()["url"].endswith(".png")
    for data, kind, ext in ((JPEG, "image/jpeg", ".jpg"), (WEBP, "image/webp", ".webp")):
        answer = await upload(api, user, data, name="file.bin", kind="application/octet-stream")
        assert answer.status_code == 201, answer.text
        assert answer.json()["content_type"] == kind
        assert answer.json()["url"].endswith(ext)
        assert (await api.client.get(answer.json()["url"])).headers["content-type"] == kind

    before = stored_files(settings)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, name in (
        (svg, "logo.png"),
        (b"<html><body>hi</body></html>", "page.jpg"),
        (b"GIF89a" + b"\0" * 20, "x.gif"),
    ):
        refused = await upload(api, user, data, name=name)
        assert refused.status_code == 415
        assert refused.json()["error"]["code"] == "not_an_image"
    assert stored_files(settings) == before


async def test_bad_uploads_get_clear_errors(api: Api, settings: Settings) -> None:
    user = await api.signup("Careless")
    before = stored_files(settings)

    assert (await upload(api, None, png(3))).status_code == 401
    as_json = await api.post("/v1/uploads", {"file": "aGVsbG8="}, user)
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "unsupported_media_type"

    no_file = await api.client.post(
        "/v1/uploads", data={"caption": "no file"}, files={"x": ("a", b"")}, headers=user.headers
    )
    assert no_file.status_code == 422
    assert no_file.json()["error"]["details"][0]["field"] == "file"
    empty = await upload(api, user, b"")
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "empty_file"

    broken = await api.client.post(
        "/v1/uploads",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nno end',
        headers={**user.headers, "content-type": "multipart/form-data; boundary=abc"},
    )
    assert broken.status_code in (400, 422)
    assert "error" in broken.json()
    two = await api.client.post(
        "/v1/uploads",
        files=[("file", ("a.png", png(4), "image/png")), ("file", ("b.png", png(5), "image/png"))],
        headers=user.headers,
    )
    assert two.status_code == 400
    assert two.json()["error"]["code"] == "malformed_form"
    assert stored_files(settings) == before


async def test_only_stored_names_are_served(api: Api) -> None:
    for path in ("/media/" + "0" * 64 + ".png", "/media/..%2F..%2Fjwt_secret", "/media/abc.png", "/media/x"):
        answer = await api.client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"


async def test_image_fields_take_stored_images_and_https_only(api: Api, admin: User) -> None:
    stored = (await upload(api, admin, png(6))).json()["url"]
    mall = await api.created("/v1/malls", {"name": "Image Mall", "timezone": "Asia/Kolkata"}, admin)
    shop = {"mall_id": mall["id"], "name": "Photo Shop", "shop_type": "retail"}
    created = await api.created("/v1/shops", {**shop, "image_url": stored}, admin)
    assert created["image_url"] == stored
    elsewhere = await api.created(
        "/v1/shops", {**shop, "name": "Framing", "image_url": "https://cdn.example.com/a.jpg"}, admin
    )
    assert elsewhere["image_url"] == "https://cdn.example.com/a.jpg"
    for bad in ("/media/not-a-hash.png", "http://plain.example.com/a.png", "javascript:alert(1)", "/media/../x"):
        refused = await api.post("/v1/shops", {**shop, "image_url": bad}, admin)
        assert refused.status_code == 422, bad


@pytest.fixture(scope="module")
async def small(settings: Settings) -> AsyncIterator[Api]:
    server = RunningServer(replace(settings, upload_max_bytes=2048, rate_limit_uploads="3/hour"))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


async def test_large_images_are_refused(small: Api, settings: Settings) -> None:
    user = await small.signup("Big Files")
    before = stored_files(settings)
    just_over = png(7)[:8] + b"\0" * (2048 - 8 + 1)
    answer = await upload(small, user, just_over)
    assert answer.status_code == 413
    assert answer.json()["error"]["details"] == {"max_bytes": 2048}
    far_over = await upload(small, user, png(8)[:8] + b"\0" * (1024 * 1024))
    assert far_over.status_code == 413
    assert stored_files(settings) == before


async def test_uploads_are_limited_per_user(small: Api) -> None:
    user, other = await small.signup("Busy"), await small.signup("Calm")
    answers = [(await upload(small, user, png(100 + i))).status_code for i in range(4)]
    assert answers == [201, 201, 201, 429]
    assert (await upload(small, other, png(200))).status_code == 201
