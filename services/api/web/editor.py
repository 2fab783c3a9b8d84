"""The role editor (`/roles/new`, admins): a form for a spec that drafts itself from a pasted
job description (each drafted value shows the words it came from), says before saving how
many stored candidates would be relevant now, and saves by publishing to `role-specs` like
`PUT /roles/{id}`."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from services.adapters.store import queries
from services.adapters.store.db import utcnow
from services.api.auth import ADMIN, VIEWER
from services.api.changes import publish_role_change
from services.api.deps import Api, api
from services.api.web.render import SECURITY_HEADERS, page
from services.api.web.session import form_lists
from services.app.role_admin import RoleAdminError, relevant_now
from services.domain.access import Principal
from services.domain.drafter import Draft, draft_role
from services.domain.ladder import LADDER
from services.domain.taxonomy import is_known_skill, normalize_skill, skill_label, skill_labels

router = APIRouter(include_in_schema=False)
LISTS = ("must_have", "nice_to_have", "locations", "domains", "exclude_companies")
TEXTS = ("role_id", "title", "owner", "description")
EMPTY = {"status": "open", "threshold": "0.6", "seniority": [], "remote": False, "min_years": "", "editing": False,
         **{name: "" for name in LISTS + TEXTS}}


@router.get("/roles/new", response_class=HTMLResponse)
def editor_page(request: Request, role: Optional[str] = Query(None, max_length=200), ctx: Api = Depends(api),
                who: Principal = ADMIN) -> Response:
    values = dict(EMPTY)
    if role:
        with ctx.sessions() as session:
            stored = queries.stored_role(session, role)
        if stored:
            values = {**_values_of(stored), "editing": True}
    return _editor(request, values)


@router.post("/roles/new", response_class=HTMLResponse)
async def editor_action(request: Request, ctx: Api = Depends(api), who: Principal = ADMIN) -> Response:
    fields = await form_lists(request)
    values = _values_of_form(fields)
    action = (fields.get("do") or ["preview"])[-1]
    if action == "draft":
        return _drafted(request, values)
    spec = _spec_of(values)
    if action == "save":
        return await _save(request, ctx, who, values, spec)
    try:
        _checked_id(spec)
        count = await asyncio.to_thread(relevant_now, ctx.sessions, spec, utcnow())
    except RoleAdminError as exc:
        return _editor(request, values, 422, problem=_plain(exc))
    return _editor(request, values, relevant=count)


@router.get("/ui/skills")
def skills(q: str = Query("", max_length=100), who: Principal = VIEWER) -> JSONResponse:
    """Skills of the taxonomy that start with (or contain) what was typed, for the editor."""
    typed = q.strip().lower()
    labels = skill_labels()
    found = [label for label in labels if label.lower().startswith(typed)] if typed else []
    found += [label for label in labels if typed and typed in label.lower() and label not in found]
    return JSONResponse(found[:10], headers=SECURITY_HEADERS)


async def _save(request: Request, ctx: Api, who: Principal, values: dict[str, Any], spec: dict[str, Any]) -> Response:
    try:
        key, value = await publish_role_change(ctx, who, "put", _checked_id(spec), spec, **{"from": "web"})
    except RoleAdminError as exc:
        return _editor(request, values, 422, problem=_plain(exc))
    return RedirectResponse(f"/roles/{quote(key)}?saved={quote(value['event_id'])}", status_code=303,
                            headers=SECURITY_HEADERS)


def _checked_id(spec: dict[str, Any]) -> Optional[str]:
    """A role id typed here goes into addresses and links: no blanks in it."""
    role_id = spec.get("role_id")
    if role_id and re.search(r"\s", role_id):
        suggestion = re.sub(r"\s+", "-", role_id.strip())
        raise RoleAdminError(f"Role id: no spaces or other blanks, e.g. {suggestion!r}")
    return role_id


def _plain(exc: Exception) -> str:
    return str(exc).removeprefix("schema validation failed: ")


def _drafted(request: Request, values: dict[str, Any]) -> Response:
    text = values["description"]
    if not text.strip():
        return _editor(request, values, 422, problem="Paste a job description first, then draft.")
    draft = draft_role(text)
    drafted = draft.spec_fields()
    for name in ("must_have", "nice_to_have"):
        values[name] = ", ".join(skill_label(key) for key in drafted[name])  # as people write them
    for name in ("locations", "domains", "exclude_companies"):
        values[name] = ", ".join(drafted.get(name) or []) or values[name]
    values["seniority"] = drafted["seniority"]
    values["min_years"] = "" if drafted["min_years"] is None else f"{drafted['min_years']:g}"
    values["remote"] = drafted["remote"]
    values["title"] = values["title"] or drafted["title"] or ""
    return _editor(request, values, evidence=_evidence(draft))


def _evidence(draft: Draft) -> list[dict[str, str]]:
    """Each drafted value with the words it came from, for the user to check."""
    rows = []
    for field in ("title", "must_have", "nice_to_have", "seniority", "min_years", "locations", "remote", "domains",
                  "exclude_companies"):
        found = getattr(draft, field, None)
        for item in found if isinstance(found, list) else ([found] if found else []):
            value = skill_label(item.value) if field in ("must_have", "nice_to_have") else _shown(item.value)
            rows.append({"field": field.replace("_", " "), "value": value, "words": item.words})
    return rows


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _editor(request: Request, values: dict[str, Any], status_code: int = 200, **context: Any) -> Response:
    return page(request, "editor.html", status_code, v=values, levels=list(LADDER),
                unknown=_unknown_skills(values), **context)


def _unknown_skills(values: dict[str, Any]) -> list[str]:
    return [raw for name in ("must_have", "nice_to_have") for raw in _split(values[name])
            if not is_known_skill(normalize_skill(raw))]


def _values_of(spec: dict[str, Any]) -> dict[str, Any]:
    values = dict(EMPTY)
    values.update({name: ", ".join(spec.get(name) or []) for name in LISTS})
    values.update({name: spec.get(name) or "" for name in TEXTS})
    values.update(status=spec.get("status", "open"), seniority=list(spec.get("seniority") or []),
                  remote=bool(spec.get("remote")), threshold=f"{spec.get('threshold', 0.6):g}",
                  min_years="" if spec.get("min_years") is None else f"{spec['min_years']:g}")
    return values


def _values_of_form(fields: dict[str, list[str]]) -> dict[str, Any]:
    last = {name: values[-1].strip() for name, values in fields.items()}
    values = dict(EMPTY)
    values.update({name: last.get(name, "") for name in LISTS + TEXTS + ("min_years", "threshold", "status")})
    values.update(seniority=[level for level in fields.get("seniority", []) if level in LADDER],
                  remote=last.get("remote") == "on", editing=last.get("editing") == "1")
    return values


def _spec_of(values: dict[str, Any]) -> dict[str, Any]:
    """The spec the form says; what is not a number stays as typed, for the spec's own check to name."""
    spec: dict[str, Any] = {name: _split(values[name]) for name in LISTS}
    spec.update({name: values[name] for name in ("role_id", "title", "status") if values[name]})
    spec.update(seniority=values["seniority"], remote=values["remote"],
                owner=values["owner"] or None, description=values["description"] or None)
    for name in ("min_years", "threshold"):
        if values[name]:
            spec[name] = _number(values[name])
    return spec


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
