"""HTTP handlers for storing images and serving them back."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from app.identity.current import principal
from app.media import service
from app.media.schemas import Upload, UploadForm
from app.platform.http import BadRequest, Unprocessable, UnsupportedMediaType, json
from app.platform.images import MEDIA_PREFIX, NAME_PATTERN, TYPES
from app.platform.openapi import doc
from app.platform.state import app_state

# A name is the hash of the bytes: what it shows never changes, so browsers and proxies keep it for a year.
# Images are also for pages elsewhere (a shop's site), hence a cross-origin resource policy.
_CACHING = {"cache-control": "public, max-age=31536000, immutable", "cross-origin-resource-policy": "cross-origin"}


@doc(
    summary="Store an image (JPEG, PNG or WebP, as the field `file` of a multipart form)",
    body=UploadForm,
    body_media="multipart/form-data",
    response=Upload,
    status=201,
    tag="media",
    reasons={
        413: "The image is over UPLOAD_MAX_BYTES",
        415: "Not multipart/form-data, or the file is not a JPEG, PNG or WebP image",
    },
)
async def upload(request: Request) -> Response:
    caller = await principal(request)
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        raise UnsupportedMediaType("Send the image as multipart/form-data, in a field named file.")
    try:
        async with request.form(max_files=1, max_fields=10) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise Unprocessable(
                    details=[{"field": "file", "message": "An image file is required.", "type": "missing"}]
                )
            data = await file.read()
    except HTTPException as exc:  # what Starlette makes of a form it cannot read
        raise BadRequest("The multipart form could not be read.", code="malformed_form", details=exc.detail) from None
    return json(await service.upload(app_state(request), actor=caller, data=data), 201)


@doc(
    summary="An uploaded image",
    auth=False,
    tag="media",
    path_params={"name": {"type": "string", "pattern": NAME_PATTERN}},
    produces=[t.content_type for t in TYPES],
    also=(304,),
)
async def media_file(request: Request) -> Response:
    name = request.path_params["name"]
    path, kind = service.find(app_state(request), name)
    etag = f'"{name.partition(".")[0]}"'
    headers = {**_CACHING, "etag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=kind.content_type, headers=headers)


routes = [
    Route("/v1/uploads", upload, methods=["POST"]),
    Route(MEDIA_PREFIX + "{name}", media_file, methods=["GET"]),
]
