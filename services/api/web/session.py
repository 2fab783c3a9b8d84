"""Signing in and out of the pages: `/login?token=…` (the one-time link `radar up` prints) or
the form with an API key sets the session cookie; `/logout` clears it."""
from __future__ import annotations

from typing import Optional
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.api.auth import COOKIE, SignInNeeded
from services.api.deps import Api, api
from services.api.web.render import SECURITY_HEADERS, page
from services.app.access import record
from services.app.signin import SESSION_HOURS, end_session, redeem_link, session_for_key, session_token

router = APIRouter(include_in_schema=False)


async def to_sign_in(request: Request, exc: SignInNeeded) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def safe_next(target: Optional[str]) -> str:
    """Only a path on this site: never `//elsewhere` or `https://elsewhere`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def sign_in_page(request: Request, token: Optional[str] = None, next: Optional[str] = None,
                 ctx: Api = Depends(api)) -> Response:
    if token:
        who = redeem_link(ctx.sessions, token)
        if who is None:
            return page(request, "login.html", 401, next=safe_next(next),
                        error="That sign-in link was used already, has expired, or is not valid. "
                              "Sign in with an API key, or start `radar up` again for a new link.")
        record(ctx.sessions, who, "web.sign_in", who.name, {"with": "link"})
        return signed_in(safe_next(next), session_token(ctx.sessions, who.name), request)
    return page(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
async def sign_in_with_key(request: Request, ctx: Api = Depends(api)) -> Response:
    fields = await form(request)
    target = safe_next(fields.get("next"))
    found = session_for_key(ctx.sessions, fields.get("api_key", "")) if fields.get("api_key") else None
    if found is None:
        return page(request, "login.html", 401, next=target,
                    error="That API key is not valid (unknown or revoked). Ask an admin for one: "
                          "`radar apikey create --name YOUR-NAME --role viewer` (or recruiter, admin).")
    who, token = found
    record(ctx.sessions, who, "web.sign_in", who.name, {"with": "api-key"})
    return signed_in(target, token, request)


@router.post("/logout")
def sign_out(request: Request, ctx: Api = Depends(api)) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        end_session(ctx.sessions, token)
    answer = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    answer.delete_cookie(COOKIE, path="/")
    return answer


def signed_in(target: str, token: str, request: Request) -> Response:
    answer = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    # Secure over HTTPS, also behind a proxy that ends TLS (RADAR_PUBLIC_URL says https)
    https = request.url.scheme == "https" or request.app.state.api.settings.public_url.startswith("https://")
    answer.set_cookie(COOKIE, token, max_age=SESSION_HOURS * 3600, path="/", httponly=True, samesite="strict",
                      secure=https)
    return answer


async def form(request: Request) -> dict[str, str]:
    """An urlencoded form: the last value of each field, stripped."""
    return {name: values[-1].strip() for name, values in (await form_lists(request)).items()}


async def form_lists(request: Request) -> dict[str, list[str]]:
    """An urlencoded form: every value of each field (checkboxes of one name), as sent."""
    return parse_qs((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)
