"""Changes people make, the same from the JSON API and from the pages: checked against the
store, published to their topic (the worker applies them in order), and audited."""
from __future__ import annotations

from typing import Any, Optional

from schemas.topics import LOGICAL
from services.api.deps import Api
from services.app import triage
from services.app.access import record
from services.app.role_admin import role_change_messages
from services.domain.access import Principal


async def publish_lead_change(ctx: Api, who: Principal, role_id: str, candidate_id: str,
                              change: dict[str, Any]) -> dict[str, Any]:
    """The lead event for a status change, published; triage.TriageError when it cannot be.
    The actor is who is asking, whatever the change says."""
    event = triage.lead_event(ctx.sessions, role_id, candidate_id, change, who.name)
    await ctx.send(LOGICAL.lead_events, [(candidate_id, event)])
    record(ctx.sessions, who, "lead.status", f"{role_id}/{candidate_id}",
           {"status": event["status"], "event_id": event["event_id"]})
    return event


async def publish_role_change(ctx: Api, who: Principal, action: str, role_id: Optional[str],
                              spec: Optional[dict[str, Any]] = None,
                              **detail: Any) -> tuple[str, Optional[dict[str, Any]]]:
    """(key, value) published to role-specs for put/pause/close/reopen/delete;
    role_admin.RoleAdminError when the change cannot be made."""
    key, value = role_change_messages(ctx.sessions, action, role_id, spec)
    await ctx.send(LOGICAL.role_specs, [(key, value)])
    record(ctx.sessions, who, f"role.{action}", key, {"event_id": (value or {}).get("event_id"), **detail})
    return key, value
