"""The OpenAPI document, generated from the routes and the pydantic models that validate them.

Handlers declare what they take and give with `@doc(...)`; `build()` walks the
mounted routes, and every parameter and body schema comes from the same model
`parse_query` / `parse_body` validate with, so the document cannot drift from
what is served. The statuses an operation answers follow from what it takes
(a body can be 400/413/415/422, a path id 404, a signed-in call 401/403) plus
those its `@doc` names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema
from starlette.routing import BaseRoute, Route

_PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")
# A schema keyword standing for a list of names the installed modules declare (roles, scope types): `build`
# turns it into an enum of them.
VOCABULARY = "x-gatehouse-vocabulary"
REF = "#/components/schemas/{model}"
_UUID = {"type": "string", "format": "uuid"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Send the same key with the same body again and get the first answer again, not a second "
    "write; another body with a used key is 422 `idempotency_key_reused`. Keys are the caller's own and kept "
    "for IDEMPOTENCY_RETENTION_DAYS.",
    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"},
}
_NOT_MODIFIED = {"description": "Not modified: the copy named in If-None-Match is current"}
ERROR = {
    "type": "object",
    "description": "Every error: a stable snake_case code to branch on, a message for people, details if any.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
_REASONS = {
    400: "Not JSON, or not a JSON object",
    401: "No token, or not a live one (`token_expired`: refresh; `invalid_token`, `session_ended`: sign in)",
    403: "Signed in, but not allowed",
    404: "No such resource (or not one the caller may see)",
    409: "Conflicts with the resource's state",
    413: "Body over MAX_BODY_BYTES",
    415: "Body not `application/json`",
    422: "A field, parameter or rule is not met; `details` names them",
    429: "Over a rate limit; see `Retry-After`",
    503: "A service the answer depends on (PostgreSQL, Redis, a payment provider) is unavailable; see `Retry-After`",
}
# Who may call: a bearer token, the same token in `x-access-token`, or the browser's sign-in cookie.
SIGNED_IN = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "accessTokenHeader": {"type": "apiKey", "in": "header", "name": "x-access-token"},
    "cookie": {"type": "apiKey", "in": "cookie", "name": "gh_access"},
}
# Scripts without a person behind them (a mall's camera detections) show a key instead.
SECURITY_SCHEMES = {**SIGNED_IN, "mallApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}


def doc(
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    body_optional: bool = False,
    body_media: str = "application/json",
    response: type | None = None,
    produces: Iterable[str] = (),
    status: int = 200,
    query: type[BaseModel] | None = None,
    auth: bool | str = True,
    tag: str | None = None,
    errors: Iterable[int] = (),
    also: Iterable[int] = (),
    links: dict[str, str] | None = None,
    path_params: dict[str, dict[str, Any]] | None = None,
    reasons: dict[int, str] | None = None,
    retryable: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach the OpenAPI description of one handler (`auth`: signed in, not, or the name of another
    security scheme); `errors` are the statuses its own rules answer
    (404, 409, ...) beyond those its inputs and sign-in bring, `also` other successes with the same body
    (200 for a create that found the thing already there), `links` the operations that take the id this
    one answers with, each with the parameter it goes in (`{"get_mall": "path.id"}`): clients and the
    stateful tests follow them from a create to what acts on it. A body other than JSON names its
    `body_media`, a response other than JSON the types it `produces`; a path parameter other than a uuid
    has its schema in `path_params`, and `reasons` words a status for this operation. A `retryable` write
    takes an `Idempotency-Key`."""

    def attach(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "body_optional": body_optional,
            "body_media": body_media,
            "response": response,
            "produces": tuple(produces),
            "status": status,
            "query": query,
            "auth": auth,
            "tag": tag,
            "errors": tuple(errors),
            "also": tuple(also),
            "links": dict(links or {}),
            "path_params": dict(path_params or {}),
            "reasons": dict(reasons or {}),
            "retryable": retryable,
        }
        return fn

    return attach


class EdgeSchema(GenerateJsonSchema):
    """JSON Schema of what the edge accepts, where pydantic's own says less: text never holds NUL
    (PostgreSQL cannot store it), and surrounding whitespace is trimmed before lengths are checked."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """A field that may be left out but never sent as null (PATCH's `name`) shows no null default."""
        out = super().default_schema(schema)
        if "default" in out and out["default"] is None and not _takes_null(out):
            del out["default"]
        return out

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        out = super().str_schema(schema)
        if schema.get("strip_whitespace"):
            low, high = out.pop("minLength", 0), out.pop("maxLength", None)
            inner = out.pop("pattern", None)
            out["pattern"] = _trimmed(low, high, inner)
        elif "pattern" not in out:
            out["pattern"] = r"^[^\x00]*$"
        return out


def _takes_null(schema: JsonSchemaValue) -> bool:
    kinds = schema.get("type")
    return (
        kinds == "null"
        or (isinstance(kinds, list) and "null" in kinds)
        or any(_takes_null(alt) for alt in schema.get("anyOf", ()))
    )


# What pydantic trims: Unicode's White_Space, spelled out, since regex engines differ on what `\s` takes.
_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS = f"[{_SPACE}]"
_INK = f"[^{_SPACE}\\x00]"  # neither whitespace nor NUL


def _trimmed(low: int, high: int | None, inner: str | None) -> str:
    """A pattern for text that, trimmed of whitespace, is `low`..`high` characters, or matches `inner` (which
    must begin and end with characters that are not whitespace, as trimmed text does)."""
    if inner is not None:
        return rf"^{_WS}*(?:{inner.removeprefix('^').removesuffix('$')}){_WS}*$"
    if high is None:
        core = rf"{_INK}(?:[^\x00]*{_INK})?" if low <= 1 else rf"{_INK}[^\x00]{{{low - 2},}}{_INK}"
    elif high == 1:
        core = _INK + ("" if low >= 1 else "?")
    else:
        core = (
            rf"(?:{_INK}(?:[^\x00]{{0,{high - 2}}}{_INK})?)"
            if low <= 1
            else rf"{_INK}[^\x00]{{{low - 2},{high - 2}}}{_INK}"
        )
    if low == 0:
        core = f"(?:{core})?"
    return rf"^{_WS}*{core}{_WS}*$"


def add_schema(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """Name a schema; two different ones under one name (a request model and a response dataclass both
    called `Hours`, say) would make one of them lie, so that stops the build."""
    if components.get(name, schema) != schema:
        raise ValueError(f"two different schemas are named {name}: rename one of the classes")
    components[name] = schema


def _schema(model: type, components: dict[str, Any]) -> dict[str, Any]:
    """A named component for a pydantic model or for the dataclass a repository returns (what is served)."""
    schema = TypeAdapter(model).json_schema(ref_template=REF, schema_generator=EdgeSchema)
    for name, sub in schema.pop("$defs", {}).items():
        add_schema(components, name, sub)
    add_schema(components, model.__name__, schema)
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF, schema_generator=EdgeSchema)
    for name, sub in schema.pop("$defs", {}).items():
        add_schema(components, name, sub)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None) or ""
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _error(status: int, reason: str | None = None) -> dict[str, Any]:
    return {
        "description": reason or _REASONS[status],
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _statuses(meta: dict[str, Any], has_path_params: bool) -> set[int]:
    found = {429, 503, *meta["errors"]}  # every call meets the rate limit, and most the database
    if meta["body"] is not None:
        found |= {400, 413, 415, 422}
    if meta["query"] is not None:
        found.add(422)
    if meta["retryable"]:
        found |= {400, 422}
    if has_path_params:
        found.add(404)
    if meta["auth"]:
        found |= {401, 403} if meta["auth"] is True else {401}
    return found


def _security(auth: bool | str) -> list[dict[str, list[str]]]:
    if auth is True:
        return [{name: []} for name in SIGNED_IN]
    return [{auth: []}] if auth else []


def _operation(route: Route, meta: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    path_params = [m.group(1) for m in _PARAM.finditer(route.path)]
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": meta["path_params"].get(name, _UUID)}
        for name in path_params
    ]
    if meta["query"] is not None:
        params += _query_parameters(meta["query"], components)
    if meta["retryable"]:
        params.append(IDEMPOTENCY_KEY)
    op: dict[str, Any] = {
        "operationId": route.endpoint.__name__,
        "summary": meta["summary"],
        "parameters": params,
        "security": _security(meta["auth"]),
    }
    if meta["tag"]:
        op["tags"] = [meta["tag"]]
    if meta["body"] is not None:
        op["requestBody"] = {
            "required": not meta["body_optional"],
            "content": {meta["body_media"]: {"schema": _schema(meta["body"], components)}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if meta["response"] is not None:
        ok["content"] = {"application/json": {"schema": _schema(meta["response"], components)}}
    if meta["produces"]:
        ok["content"] = {media: {"schema": {"type": "string", "format": "binary"}} for media in meta["produces"]}
    if meta["links"]:
        ok["links"] = {
            target: {"operationId": target, "parameters": {parameter: "$response.body#/id"}}
            for target, parameter in meta["links"].items()
        }
    op["responses"] = {
        str(status): ok if status != 304 else _NOT_MODIFIED for status in (meta["status"], *meta["also"])
    } | {
        str(status): _error(status, meta["reasons"].get(status))
        for status in sorted(_statuses(meta, bool(path_params)))
    }
    return op


def _with_vocabularies(node: Any, vocabularies: dict[str, list[str]]) -> Any:
    if isinstance(node, dict):
        if VOCABULARY in node:
            return {"type": "string", "enum": sorted(vocabularies[node[VOCABULARY]])}
        return {k: _with_vocabularies(v, vocabularies) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_vocabularies(v, vocabularies) for v in node]
    return node


def build(
    routes: Iterable[BaseRoute],
    *,
    title: str,
    version: str,
    tags: Iterable[tuple[str, str]] = (),
    vocabularies: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {"Error": ERROR}
    operation_ids: set[str] = set()
    linked: set[str] = set()
    for route in routes:
        meta = getattr(route.endpoint, "__openapi__", None) if isinstance(route, Route) else None
        if meta is None:
            continue
        op = _operation(route, meta, components)
        if op["operationId"] in operation_ids:
            raise ValueError(f"two handlers are named {op['operationId']}: operation ids must be unique")
        operation_ids.add(op["operationId"])
        linked |= {
            link["operationId"] for response in op["responses"].values() for link in response.get("links", {}).values()
        }
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(_PARAM.sub(r"{\1}", route.path), {})[method.lower()] = op
    if linked - operation_ids:
        raise ValueError(f"links to operations that do not exist: {sorted(linked - operation_ids)}")
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "tags": [{"name": name, "description": description} for name, description in tags],
        "paths": _with_vocabularies(paths, vocabularies or {}),  # query parameters may name one too
        "components": {
            "schemas": _with_vocabularies(components, vocabularies or {}),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
