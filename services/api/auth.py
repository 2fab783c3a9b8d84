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
from services.app.signin import principal_of_session
from services.domain.access import Principal

COOKIE = "radar_session"  # the web pages' session (services.api.web.session signs people in)


class SignInNeeded(Exception):
    """A page asked for without a session: to the sign-in page, and back afterwards."""


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not a client of the JSON API)."""
    return "text/html" in request.headers.get("accept", "") and request.headers.get("authorization") is None


PUBLIC = frozenset({"/health", "/livez", "/readyz", "/metrics", "/docs", "/openapi.json", "/docs/oauth2-redirect",
                    "/redoc"})


def bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal(request: Request, ctx: Api) -> Optional[Principal]:
    token = bearer(request)
    if token is None:
        return _signed_in(request, ctx)
    who = principal_of_key(ctx.sessions, token)
    if who is None and ctx.oidc is not None and token.count(".") == 2:
        who = ctx.oidc.principal(token)
    return who


def requires(role: str):
    """A dependency: the caller, when they hold at least `role`; 401 / 403 otherwise."""
    def check(request: Request, ctx: Api = Depends(api)) -> Principal:
        who = principal(request, ctx)
        if who is None and wants_page(request):
            raise SignInNeeded()
        if who is None:
            raise HTTPException(401, "credentials needed: Authorization: Bearer <API key or token>"
                                if bearer(request) is None else "credentials not valid (unknown, revoked or expired)",
                                headers={"WWW-Authenticate": "Bearer"})
        if who is not None:
            request.state.principal = who  # a page saying no still shows who is signed in
        if not who.may(role):
            raise HTTPException(403, f"this needs the {role} role; {who.name} is a {who.role}")
        request.state.principal = who
        return who
    check.required_role = role  # read by the access test, which holds every route to a rule
    return Depends(check)


def _signed_in(request: Request, ctx: Api) -> Optional[Principal]:
    """The web pages' session cookie. A change it makes must come from these pages: a browser
    says where a request comes from (Sec-Fetch-Site, Origin), and another site is refused (the
    cookie is SameSite=Strict too)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    if request.method not in ("GET", "HEAD") and not same_site(request):
        raise HTTPException(403, "a change from another site is refused; use the Talent Radar pages")
    return principal_of_session(ctx.sessions, token)


def same_site(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def metrics_allowed(request: Request, ctx: Api = Depends(api)) -> None:
    token = ctx.settings.metrics_token
    if token and not hmac.compare_digest(bearer(request) or "", token):
        raise HTTPException(401, "metrics need the metrics token: Authorization: Bearer <RADAR_METRICS_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


VIEWER, RECRUITER, ADMIN = requires("viewer"), requires("recruiter"), requires("admin")
