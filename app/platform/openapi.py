"""The OpenAPI document, generated from the routes and their pydantic models.

Handlers declare what they take and give with `@doc(...)`; `build()` walks the
mounted routes so the document cannot drift from what is served.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter
from starlette.routing import BaseRoute, Route

_PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
            "required": ["code", "message"],
        }
    },
}


def doc(
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    response: type | None = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    auth: bool = True,
    tag: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach the OpenAPI description of one handler."""

    def attach(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "query": query,
            "auth": auth,
            "tag": tag,
        }
        return fn

    return attach


def _schema(model: type, components: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of a pydantic model or of the dataclass a repository returns (what is served)."""
    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build(
    routes: Iterable[BaseRoute], *, title: str, version: str, tags: Iterable[tuple[str, str]] = ()
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    for route in routes:
        if not isinstance(route, Route):
            continue
        meta = getattr(route.endpoint, "__openapi__", None)
        if meta is None:
            continue
        path = _PARAM.sub(r"{\1}", route.path)
        params = [
            {"name": m.group(1), "in": "path", "required": True, "schema": {"type": "string"}}
            for m in _PARAM.finditer(route.path)
        ]
        if meta["query"] is not None:
            for name, field in meta["query"].model_fields.items():
                params.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": field.is_required(),
                        "schema": {"type": "string"},
                        "description": field.description or "",
                    }
                )
        op: dict[str, Any] = {"summary": meta["summary"], "parameters": params, "responses": {}}
        if meta["tag"]:
            op["tags"] = [meta["tag"]]
        if meta["auth"]:
            op["security"] = [{"bearer": []}]
        if meta["body"] is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(meta["body"], components)}},
            }
        ok: dict[str, Any] = {"description": "Success"}
        if meta["response"] is not None:
            ok["content"] = {"application/json": {"schema": _schema(meta["response"], components)}}
        op["responses"][str(meta["status"])] = ok
        op["responses"]["default"] = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "tags": [{"name": name, "description": description} for name, description in tags],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
