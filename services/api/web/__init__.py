"""The web pages (`/`, `/roles/{id}`, `/candidates/{id}`, `/login`): server-rendered Jinja2
templates over the same use cases as the JSON API, behind the same roles. A page needs a
session cookie (a one-time link from `radar up`, or an API key in the sign-in form)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from services.api.auth import SignInNeeded

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    from services.api.web import dashboards, editor, pages, session
    app.include_router(session.router)
    app.include_router(editor.router)  # /roles/new before /roles/{role_id}
    app.include_router(pages.router)
    app.include_router(dashboards.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInNeeded, session.to_sign_in)
