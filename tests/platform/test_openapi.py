"""`/openapi.json` says what the server really takes and answers: parameters and bodies from the models
that validate them, every status an operation answers, the ways to sign in (#15)."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.helpers import Api


@pytest.fixture
async def spec(api: Api) -> dict[str, Any]:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _component(spec: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


async def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)  # raises, naming the first thing wrong


async def test_bodies_come_from_the_models_that_validate_them(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0" and spec["info"]["title"] == "Gatehouse"
    signup = spec["paths"]["/v1/auth/signup"]["post"]
    body = _component(spec, signup["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"email", "password", "name"}
    name = body["properties"]["name"]
    assert "minLength" not in name and name["pattern"].startswith(r"^[\t\n"), "trimmed before its length counts"
    checkin = _component(
        spec, spec["paths"]["/v1/visits/checkin"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert [alt["required"] for alt in checkin["oneOf"]] == [["visitor_id"], ["invite_code"]]
    logout = spec["paths"]["/v1/auth/logout"]["post"]
    assert logout["requestBody"]["required"] is False


async def test_query_and_path_parameters_are_typed(spec: dict[str, Any]) -> None:
    visits = {p["name"]: p for p in spec["paths"]["/v1/visits"]["get"]["parameters"]}
    assert visits["limit"]["schema"]["type"] == "integer"
    assert (visits["limit"]["schema"]["minimum"], visits["limit"]["schema"]["maximum"]) == (1, 100)
    assert {"format": "uuid", "type": "string"} in visits["flat_id"]["schema"]["anyOf"]
    assert visits["from"]["schema"]["anyOf"][0].items() >= {"format": "date-time", "type": "string"}.items()
    statuses = {p["name"]: p for p in spec["paths"]["/v1/visitors"]["get"]["parameters"]}["status"]["schema"]
    assert "pending" in str(statuses)
    respond = spec["paths"]["/v1/visitors/{id}/respond"]["post"]["parameters"]
    assert respond == [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]


async def test_every_operation_lists_what_it_answers_with_the_error_envelope(spec: dict[str, Any]) -> None:
    seen = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op["operationId"] not in seen
            seen.add(op["operationId"])
            codes = {int(c) for c in op["responses"]}
            assert "default" not in op["responses"]
            assert 429 in codes, (method, path)
            for code in codes - {200, 201, 202, 204, 304}:
                assert op["responses"][str(code)]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
            if {"bearer": []} in op["security"]:
                assert {401, 403} <= codes, (method, path)
            elif op["security"]:
                assert 401 in codes, (method, path)
            if "requestBody" in op:
                assert {400, 413, 415, 422} <= codes, (method, path)
    respond = spec["paths"]["/v1/visitors/{id}/respond"]["post"]["responses"]
    assert {"200", "404", "409"} <= set(respond)
    assert _component(spec, respond["200"]["content"]["application/json"]["schema"])["type"] == "object"


async def test_the_ways_to_sign_in_are_declared_and_open_operations_say_so(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["accessTokenHeader"] == {"type": "apiKey", "in": "header", "name": "x-access-token"}
    assert schemes["cookie"] == {"type": "apiKey", "in": "cookie", "name": "gh_access"}
    assert spec["paths"]["/v1/auth/login"]["post"]["security"] == []
    assert {"bearer": []} in spec["paths"]["/v1/flats"]["get"]["security"]


async def test_creates_link_to_what_acts_on_what_they_made(spec: dict[str, Any]) -> None:
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    links = spec["paths"]["/v1/visitors"]["post"]["responses"]["201"]["links"]
    assert links["respond"] == {"operationId": "respond", "parameters": {"path.id": "$response.body#/id"}}
    every = [
        link
        for item in spec["paths"].values()
        for op in item.values()
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(every) >= 15 and {link["operationId"] for link in every} <= operations


async def test_main_flows_carry_examples_and_cross_field_rules(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("SignupIn", "LoginIn", "VisitorIn", "MallIn", "CarEntryIn"):
        assert schemas[name]["examples"], name
    grant = schemas["RoleAssignmentIn"]
    assert grant["if"] == {"properties": {"scope_type": {"const": "global"}}}
    assert grant["else"]["required"] == ["scope_id"]
    assert "admin" in grant["properties"]["role"]["enum"] and "mall" in grant["properties"]["scope_type"]["enum"]
