"""HTTP handlers for a mall's issues."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.issues import keys, repo, service
from app.mall.issues.schemas import ApiKeyIn, AssignIn, DetectionIn, IssueIn, IssuesQuery, MoveIn
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import page
from app.platform.state import app_state


@doc(
    retryable=True,
    summary="Report an issue in a mall (anyone signed in)",
    body=IssueIn,
    response=repo.Issue,
    status=201,
    tag="issues",
    errors=(404,),
    links={"get_issue": "path.id", "assign_issue": "path.id", "move_issue": "path.id"},
)
async def report_issue(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, IssueIn)
    status, body = await service.report(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(
    summary="A mall's issues by state, type, source, shop, assignee and time: all for its admins and security, "
    "else yours",
    query=IssuesQuery,
    tag="issues",
)
async def list_issues(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, IssuesQuery)
    items = await service.list_issues(app_state(request), actor=caller, q=q)
    return json(page(items, q.limit, lambda i: (i.created_at, i.id)))


@doc(summary="One issue, with who it is assigned to and every move", response=repo.Issue, tag="issues")
async def get_issue(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get_issue(app_state(request), actor=caller, issue_id=path_uuid(request)))


@doc(summary="Delete an issue reported by mistake (the mall's admins; audited)", status=204, tag="issues")
async def delete_issue(request: Request) -> Response:
    caller = await principal(request)
    await service.delete(app_state(request), actor=caller, issue_id=path_uuid(request))
    return no_content()


@doc(
    summary="Assign an issue to staff (the mall's admins and security)",
    body=AssignIn,
    response=repo.Issue,
    tag="issues",
    errors=(409,),
)
async def assign_issue(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, AssignIn)
    return json(await service.assign(app_state(request), actor=caller, issue_id=path_uuid(request), data=data))


@doc(
    retryable=True,
    summary="Move an issue to another state",
    body=MoveIn,
    response=repo.Issue,
    tag="issues",
    errors=(409,),
)
async def move_issue(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, MoveIn)
    status, body = await service.move(
        app_state(request),
        actor=caller,
        issue_id=path_uuid(request),
        data=data,
        attempt=await idempotency.attempt(request),
    )
    return json(body, status)


@doc(
    summary="A camera script reports what it detected (with the mall's API key); 200 when it joins an open issue",
    body=DetectionIn,
    response=repo.Issue,
    status=201,
    also=(200,),
    auth="mallApiKey",
    tag="issues",
)
async def report_detection(request: Request) -> Response:
    state = app_state(request)
    key = await service.camera(state, request.headers.get("x-api-key"))  # before anything else is read
    data = await parse_body(request, DetectionIn)
    issue, created = await service.detect(state, key=key, data=data)
    return json(issue, 201 if created else 200)


@doc(
    summary="Make an API key for a camera script (the mall's admins); the key is shown once",
    body=ApiKeyIn,
    response=keys.NewApiKey,
    status=201,
    tag="issues",
)
async def create_api_key(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ApiKeyIn)
    made = await service.create_key(app_state(request), actor=caller, mall_id=path_uuid(request), name=data.name)
    return json(made, 201)


@doc(summary="A mall's API keys, without the keys (its admins)", tag="issues")
async def list_api_keys(request: Request) -> Response:
    caller = await principal(request)
    found = await service.list_keys(app_state(request), actor=caller, mall_id=path_uuid(request))
    return json({"items": found, "next_cursor": None})


@doc(summary="Revoke an API key (the mall's admins)", status=204, tag="issues")
async def revoke_api_key(request: Request) -> Response:
    caller = await principal(request)
    await service.revoke_key(
        app_state(request), actor=caller, mall_id=path_uuid(request), key_id=path_uuid(request, "key_id")
    )
    return no_content()


routes = [
    Route("/v1/model-issues", report_detection, methods=["POST"]),
    Route("/v1/malls/{id}/api-keys", create_api_key, methods=["POST"]),
    Route("/v1/malls/{id}/api-keys", list_api_keys, methods=["GET"]),
    Route("/v1/malls/{id}/api-keys/{key_id}", revoke_api_key, methods=["DELETE"]),
    Route("/v1/issues", report_issue, methods=["POST"]),
    Route("/v1/issues", list_issues, methods=["GET"]),
    Route("/v1/issues/{id}", get_issue, methods=["GET"]),
    Route("/v1/issues/{id}", delete_issue, methods=["DELETE"]),
    Route("/v1/issues/{id}/assign", assign_issue, methods=["POST"]),
    Route("/v1/issues/{id}/move", move_issue, methods=["POST"]),
]
