"""`radar api`: wiring of the HTTP API (its routes are in the modules beside this one)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.adapters.store.db import make_engine, make_session_factory
from services.api import notifications, ops, routes, triage
from services.api.deps import Api, Publish
from services.config import Settings

MAX_BODY_BYTES = 1_000_000  # a role spec is a few kilobytes; its description at most 20,000 characters


def create_app(settings: Settings, produce: Publish | None = None) -> FastAPI:
    """`produce(topic, [(key, value)])` is injectable for tests; by default it is aiokafka."""
    engine = make_engine(settings.database_url)
    app = FastAPI(title="Talent Radar", version="0.2.0")
    app.state.api = Api(settings, engine, make_session_factory(engine), produce)
    app.state.api.store_metrics = ops.store_registry(app.state.api.sessions, settings)
    if settings.oidc_jwks_url:
        from services.adapters.identity import OidcVerifier
        app.state.api.oidc = OidcVerifier(settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url,
                                          settings.oidc_role_claim)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"detail": f"request body over {MAX_BODY_BYTES:,} bytes"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def one_clear_message(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": validation_message(exc.errors())}, status_code=422)

    for router in (ops.router, routes.router, notifications.router, triage.router):
        app.include_router(router)
    return app


_WHERE = {"query": "query parameter", "path": "path parameter", "body": "body", "header": "header"}


def validation_message(errors) -> str:
    """FastAPI's list of validation errors as the one sentence a person reads: where, and what."""
    parts = []
    for error in list(errors)[:3]:
        where, *field = [str(part) for part in error.get("loc", ())] or ["request"]
        name = ".".join(field)
        label = f"{_WHERE.get(where, where)} {name}".strip() if name else _WHERE.get(where, where)
        message = error.get("msg", "is not valid")
        if error.get("type") == "json_invalid":
            label, message = "body", "is not valid JSON"
        parts.append(f"{label}: {message}")
    return "; ".join(parts)
