"""HTTP handler for the audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.audit_log import service
from app.identity.audit_log.schemas import AuditQuery
from app.identity.current import principal
from app.platform.http import json, parse_query
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="The audit log, newest first, by place, actor, action, target and time (admins; a place's admins for it)",
    query=AuditQuery,
    tag="admin",
    errors=(404,),
)
async def list_audit(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, AuditQuery)
    return json(await service.read(app_state(request), actor=caller, q=q))


routes = [Route("/v1/audit", list_audit, methods=["GET"])]
