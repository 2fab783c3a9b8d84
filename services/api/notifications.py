"""Subscriptions (who is told of what, and how) and the deliveries made to them."""
from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ValidationError

from services.api.auth import ADMIN, VIEWER
from services.api.deps import Api, Text, api, errors, storable_body, unprocessable
from services.app import subscriptions as use_cases
from services.app.access import record
from services.app.subscriptions import SubscriptionIn
from services.domain.access import Principal

router = APIRouter(tags=["notifications"])
DeliveryId = Path(ge=-(2**63), le=2**63 - 1)  # what the store can look up; beyond it, a 422 rather than a 500


class Deleted(BaseModel):
    deleted: str


class Retrying(BaseModel):
    """How many failed deliveries will be tried again."""
    retrying: int


@router.post("/subscriptions", status_code=201, responses=errors(409))
def subscribe(body: dict[str, Any] = Body(...), ctx: Api = Depends(api), who: Principal = ADMIN) -> dict[str, Any]:
    try:
        wanted = SubscriptionIn.model_validate(storable_body(body))
    except ValidationError as exc:
        raise unprocessable(exc) from None
    try:
        shown = use_cases.subscribe(ctx.sessions, wanted)
    except use_cases.DuplicateSubscription as exc:
        raise HTTPException(409, str(exc)) from None
    record(ctx.sessions, who, "subscription.create", shown["id"], {"channel": shown["channel"]})
    return shown


@router.get("/subscriptions")
def subscriptions(owner: Optional[str] = Query(None, max_length=320), ctx: Api = Depends(api),
                  who: Principal = VIEWER) -> list[dict[str, Any]]:
    """Webhook and Slack URLs often carry a token in their path: only an admin sees them whole."""
    return use_cases.listed(ctx.sessions, owner, whole_urls=who.role == "admin")


@router.delete("/subscriptions/{subscription_id}", response_model=Deleted, responses=errors(404))
def unsubscribe(subscription_id: Text, ctx: Api = Depends(api), who: Principal = ADMIN) -> dict[str, Any]:
    if not use_cases.unsubscribe(ctx.sessions, subscription_id[:40]):
        raise HTTPException(404, f"no subscription {subscription_id[:40]!r}")
    record(ctx.sessions, who, "subscription.delete", subscription_id[:40])
    return {"deleted": subscription_id}


@router.get("/deliveries")
def deliveries(status: Optional[Literal["pending", "delivered", "failed"]] = None,
               limit: int = Query(100, ge=1, le=1000), ctx: Api = Depends(api),
               who: Principal = VIEWER) -> list[dict[str, Any]]:
    return use_cases.deliveries(ctx.sessions, status, limit)


@router.post("/deliveries/{delivery_id}/retry", response_model=Retrying, responses=errors(404))
def retry_one(delivery_id: int = DeliveryId, ctx: Api = Depends(api), who: Principal = ADMIN) -> dict[str, Any]:
    if not use_cases.retry(ctx.sessions, delivery_id):
        raise HTTPException(404, f"no failed delivery {delivery_id}")
    record(ctx.sessions, who, "delivery.retry", str(delivery_id))
    return {"retrying": 1}


@router.post("/deliveries/retry-failed", response_model=Retrying)
def retry_failed(ctx: Api = Depends(api), who: Principal = ADMIN) -> dict[str, Any]:
    count = use_cases.retry(ctx.sessions, None)
    record(ctx.sessions, who, "delivery.retry_failed", "*", {"count": count})
    return {"retrying": count}
