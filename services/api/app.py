"""`radar api`: wiring of the HTTP API (its routes are in the modules beside this one)."""
from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.adapters.kafka.client import client_options
from services.adapters.store.db import make_engine, make_session_factory
from services.api import notifications, ops, routes, triage, web
from services.api.auth import metrics_allowed, wants_page
from services.api.deps import ERRORS, Api, ErrorBody, Publish
from services.api.web.render import page
from services.config import Settings

PAGE_TITLES = {403: "Not for your role", 404: "Not found", 409: "Not allowed now", 422: "Not valid"}
MAX_BODY_BYTES = 1_000_000  # a role spec is a few kilobytes; its description at most 20,000 characters


def create_app(settings: Settings, produce: Publish | None = None) -> FastAPI:
    """`produce(topic, [(key, value)])` is injectable for tests; by default it is aiokafka."""
    client_options(settings)  # a RADAR_KAFKA_* setting no client could use stops the API here (ValueError)
    engine = make_engine(settings.database_url)
    app = FastAPI(title="Talent Radar", version="0.2.0")
    app.state.api = Api(settings, engine, make_session_factory(engine), produce)
    app.state.api.store_metrics = ops.store_registry(app.state.api.sessions, settings)
    if settings.oidc_jwks_url:
        from services.adapters.identity import OidcVerifier
        app.state.api.oidc = OidcVerifier(settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url,
                                          settings.oidc_role_claim)

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def one_clear_message(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": validation_message(exc.errors())}, status_code=422)

    @app.exception_handler(HTTPException)
    async def unreadable_body(request: Request, exc: HTTPException):
        """FastAPI's 400 for a JSON body it could not decode (not UTF-8, nested too deeply) is
        a 422 like any other body that is not valid JSON; every other HTTPException as is."""
        if exc.status_code == 400 and exc.__cause__ is not None:
            why = _UNREADABLE.get(type(exc.__cause__), "could not be read")
            return JSONResponse({"detail": f"body: is not valid JSON ({why})"}, status_code=422)
        if wants_page(request):  # a browser: the same sentence, on a page
            return page(request, "problem.html", exc.status_code, title=PAGE_TITLES.get(exc.status_code, "Error"),
                        problem=exc.detail, back="/")
        return await http_exception_handler(request, exc)

    routers = (ops.router, routes.router, notifications.router, triage.router)
    for router in routers:
        app.include_router(router)
    web.mount(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = completed(FastAPI.openapi(app), [r for router in routers for r in router.routes])
        return app.openapi_schema

    app.openapi = openapi
    return app


class BodyOverLimit(Exception):
    """Raised from `receive` to the app once the body passed the limit (FastAPI wraps it, or not)."""


class BodyLimit:
    """No request body is read past `limit` bytes, whatever its framing: a Content-Length over
    it is refused before anything is read; otherwise (chunked, or a Content-Length that lies)
    the bytes of `http.request` messages are counted as the app receives them, and once the
    count passes the limit the app gets an exception instead of more body, whatever it answers
    is dropped, and the client gets the 413 with `Connection: close`, so the server stops
    reading the rest."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self.refuse(scope, receive, send)
            return
        received, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                raise BodyOverLimit()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise BodyOverLimit()
            return message

        async def unless_over(message: Message) -> None:
            nonlocal started
            if over:
                return  # the app's answer to the exception (FastAPI's 400 ...): the 413 is sent instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, unless_over)
        except BodyOverLimit:
            pass
        except Exception:
            if not over:
                raise
        if over and not started:
            await self.refuse(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = JSONResponse({"detail": f"request body over {self.limit:,} bytes"}, status_code=413,
                              headers={"Connection": "close"})  # the rest of the body is not read
        await answer(scope, receive, send)


_UNREADABLE = {UnicodeDecodeError: "not UTF-8", RecursionError: "nested too deeply"}
PROBES = ("/health", "/readyz")  # 200, or 503 with the same body saying what is wrong
PROMETHEUS = "/metrics"          # Prometheus text, not JSON
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_CHALLENGE = {"WWW-Authenticate": {"description": "Bearer", "required": True, "schema": {"type": "string"}}}


def completed(document: dict[str, Any], api_routes) -> dict[str, Any]:
    """FastAPI's OpenAPI document with what it cannot see: every error is an ErrorBody (422
    too: `one_clear_message` makes its detail a sentence, not FastAPI's list); 401 and 403
    where a route needs credentials (auth.requires, auth.metrics_allowed); 413 where it takes
    a body (the middleware); the probes' 503; /metrics as Prometheus text."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    document["components"]["securitySchemes"] = {"bearer": {
        "type": "http", "scheme": "bearer", "description": "an API key (`radar apikey create`) or an OIDC token"}}
    for route in api_routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        calls = _calls(route.dependant)
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            if any(getattr(call, "required_role", None) for call in calls):
                responses.setdefault("401", _error(401, _CHALLENGE))
                responses.setdefault("403", _error(403))
                operation["security"] = [{"bearer": []}]
            elif metrics_allowed in calls:
                responses.setdefault("401", _error(401, _CHALLENGE))
            if "requestBody" in operation:
                responses.setdefault("413", _error(413))
            if "422" in responses:
                responses["422"] = _error(422)
    for path in PROBES:
        for operation in document["paths"].get(path, {}).values():
            ok = operation["responses"]["200"]
            operation["responses"].setdefault("503", {"description": "Degraded: the body says what is wrong",
                                                      "content": ok.get("content", {})})
    for operation in document["paths"].get(PROMETHEUS, {}).values():
        operation["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, which this API does not answer
        if f'"#/components/schemas/{unused}"' not in json.dumps(document):
            schemas.pop(unused, None)
    return document


def _calls(dependant) -> set:
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def _error(code: int, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response = {"description": ERRORS[code], "content": {"application/json": {"schema": dict(_ERROR_REF)}}}
    return {**response, "headers": headers} if headers else response


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
