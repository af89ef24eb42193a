"""The HTTP contract of DESIGN.md, checked against the real running server.

Errors are `{"error": {"code", "message", "details"}}` with the documented
status; bad input never stores anything and never becomes a 500; lists page
with cursors; every response carries a request id and the security headers;
the probes, metrics and OpenAPI document answer; the general rate limit holds.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest

from app.platform.config import Settings
from app.platform.db import Database
from tests.conftest import RunningServer
from tests.helpers import PASSWORD, Api, User

MIB = 1024 * 1024
SQLISH = ["Robert'); DROP TABLE users;--", "' OR 1=1 --"]


# Helpers ------------------------------------------------------------------------------


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the documented error: status, JSON, and exactly the error envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), error
    assert isinstance(error["message"], str) and error["message"], error
    if code is not None:
        assert error["code"] == code, error
    # Nothing that looks like a trace or SQL leaks out of any error.
    assert "Traceback" not in response.text
    assert "asyncpg" not in response.text
    return error


def error_fields(error: dict[str, Any]) -> set[str]:
    details = error["details"]
    assert isinstance(details, list) and details, error
    for item in details:
        assert set(item) == {"field", "message", "type"}, item
    return {item["field"] for item in details}


async def scalar(db: Database, sql: str, *args: Any) -> Any:
    async with db.connection() as conn:
        return await conn.fetchval(sql, *args)


async def count(db: Database, table: str, where: str, *args: Any) -> int:
    return await scalar(db, f"SELECT count(*) FROM {table} WHERE {where}", *args)


def marker() -> str:
    return uuid.uuid4().hex[:12]


def raw_post(api: Api, path: str, content: Any, user: User | None = None, **headers: str) -> Any:
    all_headers = {"content-type": "application/json", **(user.headers if user else {}), **headers}
    return api.client.post(path, content=content, headers=all_headers)


# Body parsing: 400 and 415 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param(b'{"name": "MARK", "city": "Pune"', "malformed_json", id="truncated-json"),
        pytest.param(b"{name: 'MARK', city: 'Pune'}", "malformed_json", id="not-json"),
        pytest.param(b'[{"name": "MARK", "city": "Pune"}]', "malformed_json", id="array"),
        pytest.param(b'"MARK"', "malformed_json", id="string"),
        pytest.param(b"null", "malformed_json", id="null"),
        pytest.param(b"42", "malformed_json", id="number"),
        pytest.param(b"", "empty_body", id="empty"),
        pytest.param(b"  \n ", "empty_body", id="whitespace"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_400_and_stores_nothing(
    api: Api, admin: User, db: Database, raw: bytes, code: str
) -> None:
    name = f"Society {marker()}"
    response = await raw_post(api, "/v1/societies", raw.replace(b"MARK", name.encode()), admin)
    assert_error(response, 400, code)
    assert await count(db, "societies", "name = $1", name) == 0


async def test_malformed_json_on_signup_is_400_and_creates_no_user(api: Api, db: Database) -> None:
    email = f"malformed-{marker()}@example.com"
    raw = f'{{"email": "{email}", "password": "{PASSWORD}", "name": "X",}}'.encode()
    assert_error(await raw_post(api, "/v1/auth/signup", raw), 400, "malformed_json")
    assert await count(db, "users", "lower(email) = $1", email) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=json",
        "application/jsonx",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ],
)
async def test_a_body_that_is_not_declared_json_is_415(api: Api, admin: User, db: Database, content_type: str) -> None:
    name = f"Society {marker()}"
    body = orjson.dumps({"name": name, "city": "Pune"})
    response = await raw_post(api, "/v1/societies", body, admin, **{"content-type": content_type})
    assert_error(response, 415, "unsupported_media_type")
    assert await count(db, "societies", "name = $1", name) == 0


async def test_a_body_without_a_content_type_is_415(api: Api, admin: User, db: Database) -> None:
    name = f"Society {marker()}"
    response = await api.client.post(
        "/v1/societies", content=orjson.dumps({"name": name, "city": "Pune"}), headers=admin.headers
    )
    assert_error(response, 415, "unsupported_media_type")
    assert await count(db, "societies", "name = $1", name) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/vnd.x+json"]
)
async def test_json_media_types_with_parameters_or_a_suffix_are_taken(api: Api, admin: User, content_type: str) -> None:
    body = orjson.dumps({"name": f"Society {marker()}", "city": "Pune"})
    response = await raw_post(api, "/v1/societies", body, admin, **{"content-type": content_type})
    assert response.status_code == 201, response.text


# Validation: 422 ----------------------------------------------------------------------


async def test_missing_fields_are_422_naming_each_field(api: Api, admin: User, db: Database) -> None:
    before = await scalar(db, "SELECT count(*) FROM societies")
    error = assert_error(await api.post("/v1/societies", {}, admin), 422, "validation_error")
    assert error_fields(error) == {"name", "city"}
    assert await scalar(db, "SELECT count(*) FROM societies") == before


async def test_wrong_types_on_signup_are_422_without_echoing_the_values(api: Api, db: Database) -> None:
    email = f"types-{marker()}@example.com"
    secret = f"secret-password-{marker()}"
    response = await api.post("/v1/auth/signup", {"email": email, "password": [secret], "name": 918273645})
    error = assert_error(response, 422, "validation_error")
    assert error_fields(error) == {"password", "name"}
    assert secret not in response.text
    assert "918273645" not in response.text
    assert await count(db, "users", "lower(email) = $1", email) == 0


async def test_strict_types_refuse_a_number_in_a_string(api: Api, admin: User, db: Database) -> None:
    """Strict JSON types: "3" is not an int and 3 is not a string."""
    soc = await api.society(admin, flats=0)
    response = await api.post("/v1/flats", {"block_id": soc.block_id, "flat_number": 101, "floor": "3"}, admin)
    error = assert_error(response, 422, "validation_error")
    assert error_fields(error) == {"flat_number", "floor"}
    assert await count(db, "flats", "block_id = $1", uuid.UUID(soc.block_id)) == 0


async def test_a_bad_uuid_field_is_422_without_echoing_it(api: Api, admin: User, db: Database) -> None:
    name = f"Complex {marker()}"
    bogus = f"not-a-uuid-{marker()}"
    response = await api.post("/v1/complexes", {"society_id": bogus, "name": name}, admin)
    error = assert_error(response, 422, "validation_error")
    assert error_fields(error) == {"society_id"}
    assert bogus not in response.text
    assert await count(db, "complexes", "name = $1", name) == 0


async def test_a_too_long_field_within_the_size_limit_is_422(api: Api, admin: User, db: Database) -> None:
    long_name = "N" * 10_000
    city = f"City {marker()}"
    response = await api.post("/v1/societies", {"name": long_name, "city": city}, admin)
    error = assert_error(response, 422, "validation_error")
    assert error_fields(error) == {"name"}
    assert long_name not in response.text
    assert await count(db, "societies", "city = $1", city) == 0


async def test_a_too_long_name_on_signup_is_422(api: Api, db: Database) -> None:
    email = f"long-{marker()}@example.com"
    response = await api.post("/v1/auth/signup", {"email": email, "password": PASSWORD, "name": "x" * 10_000})
    assert error_fields(assert_error(response, 422, "validation_error")) == {"name"}
    assert await count(db, "users", "lower(email) = $1", email) == 0


# Body size: 413 -----------------------------------------------------------------------


def _huge_signup(email: str, size: int) -> bytes:
    return orjson.dumps({"email": email, "password": PASSWORD, "name": "x" * size})


async def test_a_body_over_the_limit_with_content_length_is_413(api: Api, settings: Settings, db: Database) -> None:
    email = f"huge-{marker()}@example.com"
    body = _huge_signup(email, 2 * MIB)
    assert len(body) > settings.max_body_bytes
    response = await raw_post(api, "/v1/auth/signup", body)
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": settings.max_body_bytes}
    assert await count(db, "users", "lower(email) = $1", email) == 0


async def test_a_body_just_over_the_limit_is_413(api: Api, admin: User, settings: Settings, db: Database) -> None:
    city = f"City {marker()}"
    prefix = orjson.dumps({"city": city, "name": ""})[:-2]
    body = prefix + b"x" * (settings.max_body_bytes + 1 - len(prefix) - 2) + b'"}'
    assert len(body) == settings.max_body_bytes + 1
    assert_error(await raw_post(api, "/v1/societies", body, admin), 413, "payload_too_large")
    assert await count(db, "societies", "city = $1", city) == 0


async def test_a_streamed_body_over_the_limit_without_content_length_is_413(
    api: Api, settings: Settings, db: Database
) -> None:
    email = f"streamed-{marker()}@example.com"
    body = _huge_signup(email, 2 * MIB)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    request = api.client.build_request(
        "POST", "/v1/auth/signup", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await api.client.send(request)
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": settings.max_body_bytes}
    assert await count(db, "users", "lower(email) = $1", email) == 0


async def test_a_streamed_body_within_the_limit_is_accepted(api: Api, db: Database) -> None:
    email = f"streamed-ok-{marker()}@example.com"
    body = orjson.dumps({"email": email, "password": PASSWORD, "name": "Streamed"})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    response = await api.client.post("/v1/auth/signup", content=chunks(), headers={"content-type": "application/json"})
    api.client.cookies.clear()
    assert response.status_code == 201, response.text
    assert await count(db, "users", "lower(email) = $1", email) == 1


# SQL-looking input --------------------------------------------------------------------


async def test_sql_looking_society_names_are_stored_verbatim(api: Api, admin: User, db: Database) -> None:
    city = f"{SQLISH[1]} {marker()}"
    created = await api.created("/v1/societies", {"name": SQLISH[0], "city": city}, admin)
    assert created["name"] == SQLISH[0] and created["city"] == city
    assert await scalar(db, "SELECT name FROM societies WHERE id = $1", uuid.UUID(created["id"])) == SQLISH[0]
    assert await scalar(db, "SELECT to_regclass('users')::text") == "users"
    assert await scalar(db, "SELECT count(*) FROM users") > 0

    listed = await api.get("/v1/societies", admin, params={"city": city})
    assert listed.status_code == 200, listed.text
    assert [(s["id"], s["name"], s["city"]) for s in listed.json()["items"]] == [(created["id"], SQLISH[0], city)]

    cities = await api.get("/v1/cities", admin)
    assert cities.status_code == 200 and city in cities.json()["items"]


@pytest.mark.parametrize("text", SQLISH)
async def test_a_sql_looking_city_filter_matches_only_that_city(api: Api, admin: User, text: str) -> None:
    await api.created("/v1/societies", {"name": f"Decoy {marker()}", "city": "Pune"}, admin)
    response = await api.get("/v1/societies", admin, params={"city": text})
    assert response.status_code == 200, response.text
    assert all(s["city"].lower() == text.lower() for s in response.json()["items"])


@pytest.mark.parametrize("text", SQLISH)
async def test_sql_looking_names_in_the_hierarchy_round_trip(api: Api, admin: User, text: str) -> None:
    soc = await api.created("/v1/societies", {"name": f"S {marker()}", "city": text}, admin)
    cx = await api.created("/v1/complexes", {"society_id": soc["id"], "name": text}, admin)
    listed = await api.get("/v1/complexes", admin, params={"society_id": soc["id"]})
    assert [c["name"] for c in listed.json()["items"]] == [text]
    assert cx["name"] == text


@pytest.mark.parametrize("email", [*SQLISH, "x' OR '1'='1@example.com", "admin'--@example.com"])
async def test_sql_looking_login_emails_are_refused_without_a_500(api: Api, db: Database, email: str) -> None:
    response = await api.post("/v1/auth/login", {"email": email, "password": "' OR 1=1 --"})
    if response.status_code == 422:
        assert error_fields(assert_error(response, 422, "validation_error")) == {"email"}
    else:
        assert_error(response, 401, "invalid_credentials")
    assert await scalar(db, "SELECT to_regclass('users')::text") == "users"


@pytest.mark.parametrize("text", SQLISH)
async def test_a_sql_looking_name_on_signup_is_stored_verbatim(api: Api, db: Database, text: str) -> None:
    email = f"sqlish-{marker()}@example.com"
    response = await api.post("/v1/auth/signup", {"email": email, "password": PASSWORD, "name": text})
    api.client.cookies.clear()
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["name"] == text
    assert await scalar(db, "SELECT name FROM users WHERE id = $1", uuid.UUID(body["user"]["id"])) == text
    me = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {body['access_token']}"})
    assert me.json()["user"]["name"] == text
    assert (await api.login(email)).id == body["user"]["id"]


# Text PostgreSQL cannot hold, and JSON that is not text ----------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"name": "a\\ud800b", "city": "Pune"}', id="lone-surrogate"),
        pytest.param(b'{"name": "a\xff\xfeb", "city": "Pune"}', id="invalid-utf8"),
        pytest.param(b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b', "city": "Pune"}', id="deeply-nested"),
    ],
)
async def test_json_that_is_not_valid_text_is_400(api: Api, admin: User, raw: bytes) -> None:
    assert_error(await raw_post(api, "/v1/societies", raw, admin), 400, "malformed_json")


@pytest.mark.parametrize("field", ["name", "city", "address"])
async def test_a_nul_character_in_a_society_field_is_422_not_500(
    api: Api, admin: User, db: Database, field: str
) -> None:
    """PostgreSQL text cannot hold U+0000; the API must refuse it as invalid input, not fail with a 500."""
    tag = marker()
    body = {"name": f"Society {tag}", "city": f"City {tag}", "address": "1 Main Road"}
    body[field] = f"{body[field]}\x00tail"
    response = await api.post("/v1/societies", body, admin)
    assert_error(response, 422)
    assert await count(db, "societies", "name LIKE $1", f"%{tag}%") == 0


async def test_a_nul_character_in_the_signup_name_is_422_not_500(api: Api, db: Database) -> None:
    email = f"nul-{marker()}@example.com"
    response = await api.post("/v1/auth/signup", {"email": email, "password": PASSWORD, "name": "Asha\x00"})
    assert_error(response, 422)
    assert await count(db, "users", "lower(email) = $1", email) == 0


async def test_a_nul_character_in_a_query_filter_is_422_not_500(api: Api, admin: User) -> None:
    response = await api.get("/v1/societies", admin, params={"city": "Pune\x00"})
    assert_error(response, 422)


# Routing: 404 and 405 -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/nope", "/nope", "/v1/societies/extra/segments", "/v2/cities"])
async def test_an_unknown_route_is_404_json(api: Api, admin: User, path: str) -> None:
    assert_error(await api.get(path, admin), 404, "not_found")
    assert_error(await api.post(path, {}, admin), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/cities", "GET, HEAD"),
        ("PUT", "/v1/societies", "GET, HEAD, POST"),
        ("OPTIONS", "/v1/blocks", "GET, HEAD, POST"),
        ("GET", "/v1/auth/signup", "POST"),
        ("POST", "/healthz", "GET, HEAD"),
        # A fixed id: test ids must be the same in every process that collects them (pytest-xdist).
        ("PUT", "/v1/admin/role-assignments/6f1c2a9e-0b7d-4e52-9a31-58c4d0e7b2f6", "DELETE, PATCH"),
    ],
)
async def test_a_wrong_method_is_405_json_naming_every_method_of_the_path(
    api: Api, admin: User, method: str, path: str, allow: str
) -> None:
    response = await api.client.request(method, path, headers=admin.headers)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


# Pagination ---------------------------------------------------------------------------


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!!not-a-cursor!!!", id="garbage"),
        pytest.param("e30", id="empty-object"),
        pytest.param(_cursor(["yesterday", str(uuid.uuid4())]), id="bad-time"),
        pytest.param(_cursor(["2024-01-01T00:00:00+00:00", "not-a-uuid"]), id="bad-id"),
        pytest.param(_cursor([1, 2]), id="numbers"),
        pytest.param(_cursor(["a", "b", "c"]), id="three-parts"),
        pytest.param(_cursor("ab"), id="string"),
    ],
)
async def test_an_unparseable_cursor_is_422(api: Api, admin: User, cursor: str) -> None:
    response = await api.get("/v1/societies", admin, params={"cursor": cursor})
    assert_error(response, 422, "invalid_cursor")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(_cursor(["0001-01-01T00:00:00+05:00", str(uuid.uuid4())]), id="before-year-1-in-utc"),
        pytest.param(_cursor(["9999-12-31T23:59:59-05:00", str(uuid.uuid4())]), id="after-year-9999-in-utc"),
        pytest.param(_cursor(["2024-01-01T00:00:00", str(uuid.uuid4())]), id="naive-time"),
    ],
)
async def test_a_tampered_cursor_at_the_edge_of_time_is_never_a_500(api: Api, admin: User, cursor: str) -> None:
    response = await api.get("/v1/societies", admin, params={"cursor": cursor})
    if response.status_code != 200:
        assert_error(response, 422, "invalid_cursor")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "1000"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "a" * 201}, "cursor"),
    ],
)
async def test_bad_list_parameters_are_422(api: Api, admin: User, params: dict[str, str], field: str) -> None:
    response = await api.get("/v1/societies", admin, params=params)
    assert error_fields(assert_error(response, 422, "validation_error")) == {field}


async def test_a_list_without_its_required_parent_is_422(api: Api, admin: User) -> None:
    response = await api.get("/v1/flats", admin)
    assert error_fields(assert_error(response, 422, "validation_error")) == {"block_id"}
    response = await api.get("/v1/flats", admin, params={"block_id": "not-a-uuid"})
    assert error_fields(assert_error(response, 422, "validation_error")) == {"block_id"}


async def test_pagination_follows_next_cursor_without_duplicates(api: Api, admin: User) -> None:
    soc = await api.society(admin, flats=3)
    first = await api.get("/v1/flats", admin, params={"block_id": soc.block_id, "limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"items", "next_cursor"}
    assert len(body["items"]) == 2
    assert isinstance(body["next_cursor"], str) and body["next_cursor"]

    second = await api.get(
        "/v1/flats", admin, params={"block_id": soc.block_id, "limit": 2, "cursor": body["next_cursor"]}
    )
    assert second.status_code == 200, second.text
    rest = second.json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None

    ids = [f["id"] for f in body["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 3
    assert set(ids) == set(soc.flats)

    exact = await api.get("/v1/flats", admin, params={"block_id": soc.block_id, "limit": 3})
    assert [f["id"] for f in exact.json()["items"]] == ids
    assert exact.json()["next_cursor"] is None


async def test_a_list_needs_a_signed_in_caller(api: Api) -> None:
    assert_error(await api.get("/v1/cities"), 401, "unauthorized")
    assert_error(await api.client.get("/v1/cities", headers={"authorization": "Bearer nonsense"}), 401, "invalid_token")


# Request id and security headers ------------------------------------------------------

SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "cache-control": "no-store"}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert response.headers.get_list("x-request-id") and len(response.headers.get_list("x-request-id")) == 1


async def test_a_valid_incoming_request_id_is_echoed(api: Api, admin: User) -> None:
    for rid in ["req-12345678", "A1b2.C3d4_e5-F6", "x" * 64]:
        response = await api.client.get("/v1/cities", headers={**admin.headers, "x-request-id": rid})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == rid


@pytest.mark.parametrize("rid", ["<script>alert(1)</script>", "short", "x" * 65, "has space in it", "a\tb\tc\td\te"])
async def test_an_invalid_incoming_request_id_is_replaced(api: Api, rid: str) -> None:
    response = await api.client.get("/healthz", headers={"x-request-id": rid})
    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    assert echoed != rid
    assert re.fullmatch(r"[0-9a-f]{16}", echoed)


async def test_every_response_gets_a_fresh_request_id_and_security_headers(api: Api, admin: User) -> None:
    responses = [
        await api.client.get("/healthz"),
        await api.get("/v1/cities", admin),
        await api.get("/v1/cities"),  # 401
        await api.get("/v1/nope", admin),  # 404
        await api.client.delete("/v1/cities", headers=admin.headers),  # 405
        await api.post("/v1/societies", {}, admin),  # 422
        await raw_post(api, "/v1/auth/signup", b"x" * (2 * MIB)),  # 413 from the middleware
        await api.client.get("/openapi.json"),
        await api.client.get("/metrics"),
    ]
    for response in responses:
        assert_security_headers(response)
    ids = [r.headers["x-request-id"] for r in responses]
    assert len(set(ids)) == len(ids)


async def test_an_error_response_uses_the_request_id_it_was_given(api: Api) -> None:
    response = await api.client.get("/v1/nope", headers={"x-request-id": "trace-abcdef12"})
    assert_error(response, 404, "not_found")
    assert response.headers["x-request-id"] == "trace-abcdef12"


# Probes, metrics, OpenAPI -------------------------------------------------------------


async def test_healthz(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_postgres_and_redis(api: Api) -> None:
    response = await api.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}


async def test_metrics_is_prometheus_text(api: Api) -> None:
    await api.client.get("/healthz")
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE gatehouse_http_requests_total counter" in text
    assert re.search(r'^gatehouse_http_requests_total\{method="GET",route="/healthz",status="200"\} \d', text, re.M)
    assert "# TYPE gatehouse_http_request_seconds histogram" in text


async def test_metrics_labels_unmatched_routes_by_a_fixed_name(api: Api) -> None:
    """Unknown paths must not each become a label (unbounded cardinality)."""
    probe = f"/v1/probe-{marker()}"
    await api.client.get(probe)
    text = (await api.client.get("/metrics")).text
    assert probe not in text
    assert 'route="unmatched"' in text


# The society hierarchy: who may create what -------------------------------------------


async def test_a_plain_user_may_not_create_a_society(api: Api, db: Database) -> None:
    user = await api.signup()
    name = f"Society {marker()}"
    assert_error(await api.post("/v1/societies", {"name": name, "city": "Pune"}, user), 403, "forbidden")
    assert await count(db, "societies", "name = $1", name) == 0


async def test_creating_under_a_missing_parent_is_404(api: Api, admin: User, db: Database) -> None:
    name = f"Orphan {marker()}"
    missing = str(uuid.uuid4())
    assert_error(await api.post("/v1/complexes", {"society_id": missing, "name": name}, admin), 404, "not_found")
    assert_error(await api.post("/v1/blocks", {"complex_id": missing, "name": name}, admin), 404, "not_found")
    assert_error(await api.post("/v1/flats", {"block_id": missing, "flat_number": "1"}, admin), 404, "not_found")
    assert await count(db, "complexes", "name = $1", name) == 0
    assert await count(db, "blocks", "name = $1", name) == 0


async def test_a_society_admin_creates_only_in_its_own_society(api: Api, admin: User, db: Database) -> None:
    a = await api.society(admin, flats=0)
    b = await api.society(admin, flats=0)
    user = await api.signup("Society Admin")
    await api.grant(admin, user, "society_admin", "society", a.id)

    name = f"Tower {marker()}"
    created = await api.created("/v1/complexes", {"society_id": a.id, "name": name}, user)
    assert created["society_id"] == a.id and created["name"] == name

    assert_error(await api.post("/v1/complexes", {"society_id": b.id, "name": name}, user), 403, "forbidden")
    assert_error(await api.post("/v1/blocks", {"complex_id": b.complex_id, "name": name}, user), 403, "forbidden")
    assert_error(await api.post("/v1/flats", {"block_id": b.block_id, "flat_number": "999"}, user), 403, "forbidden")
    assert_error(await api.post("/v1/societies", {"name": name, "city": "Pune"}, user), 403, "forbidden")
    assert await count(db, "complexes", "society_id = $1 AND name = $2", uuid.UUID(b.id), name) == 0
    assert await count(db, "blocks", "complex_id = $1 AND name = $2", uuid.UUID(b.complex_id), name) == 0
    assert await count(db, "flats", "block_id = $1", uuid.UUID(b.block_id)) == 0
    assert await count(db, "societies", "name = $1", name) == 0


async def test_a_duplicate_complex_name_is_409(api: Api, admin: User, db: Database) -> None:
    soc = await api.society(admin, flats=0)
    name = f"Tower {marker()}"
    await api.created("/v1/complexes", {"society_id": soc.id, "name": name}, admin)
    response = await api.post("/v1/complexes", {"society_id": soc.id, "name": name}, admin)
    assert_error(response, 409, "duplicate_name")
    assert await count(db, "complexes", "society_id = $1 AND name = $2", uuid.UUID(soc.id), name) == 1


async def test_a_duplicate_flat_number_is_409(api: Api, admin: User, db: Database) -> None:
    soc = await api.society(admin, flats=1)
    response = await api.post("/v1/flats", {"block_id": soc.block_id, "flat_number": "101"}, admin)
    assert_error(response, 409, "duplicate_flat_number")
    assert await count(db, "flats", "block_id = $1", uuid.UUID(soc.block_id)) == 1


# Role assignment ----------------------------------------------------------------------


async def _role_rows(db: Database, user: User) -> int:
    return await count(db, "role_assignments", "user_id = $1", uuid.UUID(user.id))


def _grant_body(user_id: str, role: str, scope_type: str, scope_id: str | None) -> dict[str, Any]:
    return {"user_id": user_id, "role": role, "scope_type": scope_type, "scope_id": scope_id}


async def test_a_role_with_the_wrong_scope_type_is_422(api: Api, admin: User, db: Database) -> None:
    soc = await api.society(admin, flats=1)
    user = await api.signup()
    before = await _role_rows(db, user)
    for body in [
        _grant_body(user.id, "resident", "society", soc.id),
        _grant_body(user.id, "society_admin", "flat", soc.flats[0]),
        _grant_body(user.id, "admin", "global", soc.id),
        _grant_body(user.id, "guard", "society", None),
    ]:
        response = await api.post("/v1/admin/role-assignments", body, admin)
        assert_error(response, 422, "invalid_scope")
    assert await _role_rows(db, user) == before


async def test_an_unknown_role_or_scope_type_is_a_validation_error(api: Api, admin: User) -> None:
    user = await api.signup()
    response = await api.post("/v1/admin/role-assignments", _grant_body(user.id, "overlord", "global", None), admin)
    assert error_fields(assert_error(response, 422, "validation_error")) == {"role"}
    response = await api.post("/v1/admin/role-assignments", _grant_body(user.id, "guard", "galaxy", None), admin)
    assert error_fields(assert_error(response, 422, "validation_error")) == {"scope_type"}


async def test_an_unknown_scope_is_404(api: Api, admin: User, db: Database) -> None:
    user = await api.signup()
    before = await _role_rows(db, user)
    for role, scope_type in [("society_admin", "society"), ("resident", "flat")]:
        body = _grant_body(user.id, role, scope_type, str(uuid.uuid4()))
        assert_error(await api.post("/v1/admin/role-assignments", body, admin), 404, "scope_not_found")
    assert await _role_rows(db, user) == before


async def test_an_unknown_user_is_404(api: Api, admin: User, db: Database) -> None:
    soc = await api.society(admin, flats=0)
    ghost = str(uuid.uuid4())
    body = _grant_body(ghost, "guard", "society", soc.id)
    assert_error(await api.post("/v1/admin/role-assignments", body, admin), 404, "not_found")
    assert await count(db, "role_assignments", "user_id = $1", uuid.UUID(ghost)) == 0


async def test_a_non_admin_may_not_grant_admin(api: Api, admin: User, db: Database) -> None:
    user = await api.signup()
    other = await api.signup()
    for target in (user, other):
        body = _grant_body(target.id, "admin", "global", None)
        assert_error(await api.post("/v1/admin/role-assignments", body, user), 403, "forbidden")
    assert (
        await count(
            db,
            "role_assignments",
            "user_id = ANY($1::uuid[]) AND role = 'admin'",
            [uuid.UUID(user.id), uuid.UUID(other.id)],
        )
        == 0
    )


async def test_a_society_admin_may_not_grant_outside_its_society_or_above_its_rank(
    api: Api, admin: User, db: Database
) -> None:
    a = await api.society(admin, flats=0)
    b = await api.society(admin, flats=0)
    boss = await api.signup("Boss")
    target = await api.signup("Target")
    await api.grant(admin, boss, "society_admin", "society", a.id)
    before = await _role_rows(db, target)
    for body in [
        _grant_body(target.id, "guard", "society", b.id),
        _grant_body(target.id, "admin", "global", None),
    ]:
        assert_error(await api.post("/v1/admin/role-assignments", body, boss), 403, "forbidden")
    assert await _role_rows(db, target) == before
    granted = await api.post("/v1/admin/role-assignments", _grant_body(target.id, "guard", "society", a.id), boss)
    assert granted.status_code == 201, granted.text


async def test_granting_the_same_role_twice_is_200_without_a_second_row(api: Api, admin: User, db: Database) -> None:
    soc = await api.society(admin, flats=0)
    user = await api.signup()
    body = _grant_body(user.id, "guard", "society", soc.id)
    first = await api.post("/v1/admin/role-assignments", body, admin)
    assert first.status_code == 201, first.text
    second = await api.post("/v1/admin/role-assignments", body, admin)
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    rows = await count(
        db,
        "role_assignments",
        "user_id = $1 AND role = 'guard' AND scope_id = $2",
        uuid.UUID(user.id),
        uuid.UUID(soc.id),
    )
    assert rows == 1


async def test_role_assignment_needs_a_signed_in_caller(api: Api, db: Database) -> None:
    user = await api.signup()
    before = await _role_rows(db, user)
    body = _grant_body(user.id, "admin", "global", None)
    assert_error(await api.post("/v1/admin/role-assignments", body), 401, "unauthorized")
    assert await _role_rows(db, user) == before


# The general rate limit ---------------------------------------------------------------


async def test_the_general_rate_limit_is_429_with_retry_after_and_spares_probes(settings: Settings) -> None:
    # A day-long window, so the run never straddles the turn of a window.
    limited = RunningServer(replace(settings, rate_limit_general="5/day", redis_prefix=settings.redis_prefix + "rl"))
    await limited.start()
    try:
        async with httpx.AsyncClient(base_url=limited.url, timeout=15) as client:
            for _ in range(5):
                response = await client.get("/v1/cities")
                assert response.status_code == 401, response.text  # counted, then refused for want of a token
            response = await client.get("/v1/cities")
            assert_error(response, 429, "rate_limited")
            retry_after = response.headers["retry-after"]
            assert retry_after.isdigit() and int(retry_after) > 0
            assert_security_headers(response)

            # Any other limited path is refused too: the limit is per client, not per route.
            assert_error(await client.post("/v1/auth/login", json={}), 429, "rate_limited")
            assert_error(await client.get("/v1/nope"), 429, "rate_limited")
            # X-Forwarded-For from an untrusted peer does not make a new client.
            spoofed = await client.get("/v1/cities", headers={"x-forwarded-for": "203.0.113.7"})
            assert_error(spoofed, 429, "rate_limited")

            for _ in range(10):
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
            # A provider's signed webhook is not a person: its few addresses post for every shop.
            webhook = await client.post("/v1/payments/stripe/webhook", json={"id": "evt_1", "type": "x", "data": {}})
            assert_error(webhook, 404, "payments_not_configured")
    finally:
        await limited.stop()


async def test_a_client_that_leaves_mid_body_is_no_server_error(api: Api, server) -> None:
    """The body never comes whole: nothing failed on our side, so it is counted as 499, not 500."""
    user = await api.signup("Leaver")
    host, port = server.url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            "POST /v1/issues HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {user.access_token}\r\nContent-Length: 500\r\n\r\n" + '{"mall_id": "'
        ).encode()
    )
    await writer.drain()
    await asyncio.sleep(0.3)  # the handler is waiting for the rest of the body
    writer.close()
    await writer.wait_closed()

    async def counted() -> str:
        metrics = (await api.client.get("/metrics")).text
        return "\n".join(line for line in metrics.splitlines() if 'route="/v1/issues"' in line and "POST" in line)

    for _ in range(50):
        if 'status="499"' in (lines := await counted()):
            break
        await asyncio.sleep(0.1)
    assert 'status="499"' in lines and 'status="500"' not in lines, lines
