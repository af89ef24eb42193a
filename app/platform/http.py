"""HTTP conventions shared by every domain: errors, JSON and request bodies.

Every expected failure is an ApiError carrying its own status and code; one
handler renders them all as `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Self, TypeVar

import orjson
import structlog
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema
from starlette.requests import Request
from starlette.responses import Response

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """A failure the client caused or must know about; rendered as JSON."""

    status = 400
    code = "bad_request"
    message = "The request could not be understood."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code, message = 401, "unauthorized", "A valid access token is required."


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "You may not do this."


class NotFound(ApiError):
    status, code, message = 404, "not_found", "No such resource."


class MethodNotAllowed(ApiError):
    status, code, message = 405, "method_not_allowed", "This method is not allowed here."


class Conflict(ApiError):
    status, code, message = 409, "conflict", "The resource is not in a state that allows this."


class PayloadTooLarge(ApiError):
    status, code, message = 413, "payload_too_large", "The request body is too large."


class Unprocessable(ApiError):
    status, code, message = 422, "validation_error", "Some fields are missing or invalid."


class UnsupportedMediaType(ApiError):
    status, code, message = 415, "unsupported_media_type", "Send the body as application/json."


class RateLimited(ApiError):
    """429 with how long to wait, as a `Retry-After` header and in the body for clients that read only it."""

    status, code, message = 429, "rate_limited", "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


class Unavailable(ApiError):
    status, code, message = 503, "unavailable", "A service this needs is unavailable; try again later."


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID subclass
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """orjson with the contract's conventions: UUIDs as strings, times in UTC (money is integer minor units)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def internal_error_body(request_id: str | None) -> dict[str, Any]:
    """What every unexpected failure answers: no trace, no SQL, the request id to quote."""
    return error_body("internal_error", "Something went wrong on our side.", {"request_id": request_id})


def error_response(exc: ApiError) -> JSONResponse:
    return json(error_body(exc.code, exc.message, exc.details), exc.status, exc.headers)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return _has_nul(value.__dict__)
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# For an `int` field of a body: 7.0 is a JSON integer too, as JSON Schema counts it ("7" is not). Put it
# after the field's constraints (`Annotated[int, Field(ge=0), JSON_INTEGER]`), where they stay in its schema.
JSON_INTEGER = BeforeValidator(_integral)

# A time with its offset, as RFC 3339 writes it (seconds included), in the years 1970 to 2199 as written:
# whatever the offset, PostgreSQL and Python both hold it (year 1 or 9999 at +14:00 would overflow). One
# pattern is both the rule and what the OpenAPI document states, so generated examples are mostly valid.
_DATE_TIME = (
    r"^(?:19[7-9]\d|2[01]\d\d)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"[Tt](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_DAY = r"^\d{4}-\d{2}-\d{2}$"


def read_as(pattern: str, example: str, read: Callable[[str], Any]) -> Callable[[Any], Any]:
    """Text must look like `pattern` and is read here (in a query string pydantic would otherwise take "0"
    for a Unix time, and a strict body would not read text at all after this)."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not re.match(pattern, value):
            raise ValueError(f"must be written like {example}")
        return read(value)

    return check


def _read_instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.upper())  # RFC 3339 allows "t" and "z"; Python reads only capitals


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(read_as(_DATE_TIME, "2026-11-29T10:00:00Z, in the years 1970 to 2199", _read_instant)),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _DATE_TIME}),
]
# A calendar day, written YYYY-MM-DD.
Day = Annotated[
    dt.date,
    BeforeValidator(read_as(_DAY, "2026-11-29", dt.date.fromisoformat)),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DAY}),
]


class Body(BaseModel):
    """Base of request bodies: JSON types are strict (no "1" for 1), unknown keys ignored.

    PostgreSQL text cannot hold NUL, so a string with one is refused here, at the edge.
    """

    model_config = ConfigDict(strict=True, extra="ignore")

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        if _has_nul(self.__dict__):
            raise ValueError("text may not contain NUL characters")
        return self


def _clean_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input (which may be huge or secret)."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or None, "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def validate_json(model: type[M], raw: bytes) -> M:
    """Validate a JSON body against a model: 400 if it is not JSON, 422 if fields are wrong."""
    if not raw.strip():
        raise BadRequest("The request body is empty; send a JSON object.", code="empty_body")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = _clean_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            raise BadRequest("The request body is not valid JSON.", code="malformed_json") from None
        if any(e["type"] == "model_type" and e["field"] is None for e in errors):
            raise BadRequest("The request body must be a JSON object.", code="malformed_json") from None
        raise Unprocessable(details=errors) from None


def is_json(content_type: str | None) -> bool:
    """`application/json` or `application/<something>+json`, parameters aside; no guessing from a missing
    header or a `json` somewhere in another type (a cross-site form can send `text/plain;charset=json`)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def parse_body(request: Request, model: type[M]) -> M:
    """Read the (size-limited) body and validate it against `model`."""
    if not is_json(request.headers.get("content-type")):
        raise UnsupportedMediaType()
    return validate_json(model, await request.body())


def parse_query(request: Request, model: type[M]) -> M:
    """Validate query parameters against a model (422 on bad values)."""
    params = dict(request.query_params)
    if _has_nul(params):
        raise Unprocessable("Query parameters may not contain NUL characters.")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise Unprocessable(details=_clean_errors(exc)) from None


def path_uuid(request: Request, name: str = "id") -> uuid.UUID:
    """A UUID path parameter (read by the route's `uuid` convertor where a sibling path is a word, such as
    `/v1/car-visits/day` beside `/v1/car-visits/{id:uuid}`); an unparseable one names nothing, so it is 404."""
    value = request.path_params.get(name)
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise NotFound() from None
