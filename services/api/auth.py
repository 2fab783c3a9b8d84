"""Credentials on every request: `Authorization: Bearer <API key or OIDC token>`.

No credentials, or ones that are wrong, revoked or expired: 401. A role too weak for the
route: 403. Each route says the least role it needs (`requires(...)`); the public ones are
the probes, /health and /metrics (which has a token of its own when RADAR_METRICS_TOKEN is
set). tests/integration/test_access.py walks every route against its rule.
"""
from __future__ import annotations

import hmac
from typing import Optional

from fastapi import Depends, HTTPException, Request

from services.api.deps import Api, api
from services.app.access import principal_of_key
from services.domain.access import Principal

PUBLIC = frozenset({"/health", "/livez", "/readyz", "/metrics", "/docs", "/openapi.json", "/docs/oauth2-redirect",
                    "/redoc"})


def bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal(request: Request, ctx: Api) -> Optional[Principal]:
    token = bearer(request)
    if token is None:
        return None
    who = principal_of_key(ctx.sessions, token)
    if who is None and ctx.oidc is not None and token.count(".") == 2:
        who = ctx.oidc.principal(token)
    return who


def requires(role: str):
    """A dependency: the caller, when they hold at least `role`; 401 / 403 otherwise."""
    def check(request: Request, ctx: Api = Depends(api)) -> Principal:
        who = principal(request, ctx)
        if who is None:
            raise HTTPException(401, "credentials needed: Authorization: Bearer <API key or token>"
                                if bearer(request) is None else "credentials not valid (unknown, revoked or expired)",
                                headers={"WWW-Authenticate": "Bearer"})
        if not who.may(role):
            raise HTTPException(403, f"this needs the {role} role; {who.name} is a {who.role}")
        request.state.principal = who
        return who
    check.required_role = role  # read by the access test, which holds every route to a rule
    return Depends(check)


def metrics_allowed(request: Request, ctx: Api = Depends(api)) -> None:
    token = ctx.settings.metrics_token
    if token and not hmac.compare_digest(bearer(request) or "", token):
        raise HTTPException(401, "metrics need the metrics token: Authorization: Bearer <RADAR_METRICS_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


VIEWER, RECRUITER, ADMIN = requires("viewer"), requires("recruiter"), requires("admin")
