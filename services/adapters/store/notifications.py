"""The notifier's SQL: subscriptions, and deliveries written before they are sent.

A delivery row is keyed by (subscription, message): inserting one that exists changes
nothing, so a message consumed twice is planned once. A notifier claims due rows for a
short lease (FOR UPDATE SKIP LOCKED on PostgreSQL), sends them, and marks each by its own
outcome; a notifier that dies mid-send leaves its rows to be claimed again when the lease
runs out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Optional

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from schemas.events import as_utc
from services.adapters.store.kept_secrets import insert_ignoring
from services.adapters.store.models import DeliveryRow, DigestItem, SubscriptionRow
from services.domain.notify import Digest, QuietHours, Subscription

_subs, _deliveries, _items = SubscriptionRow.__table__, DeliveryRow.__table__, DigestItem.__table__


# -- subscriptions -----------------------------------------------------------------------

def to_row(subscription: Subscription, origin: str, role_id: Optional[str], now: datetime) -> dict[str, Any]:
    digest, quiet = subscription.digest, subscription.quiet
    return {
        "id": subscription.id, "channel": subscription.channel, "target": subscription.target,
        "secret": subscription.secret, "mode": subscription.mode, "origin": origin, "role_id": role_id,
        "filters": {"roles": list(subscription.roles), "owner": subscription.owner, "min_fit": subscription.min_fit,
                    "min_readiness": subscription.min_readiness, "types": list(subscription.types)},
        "digest": {"every": digest.every, "at": digest.at.strftime("%H:%M"), "tz": digest.tz} if digest else None,
        "quiet_hours": {"start": quiet.start.strftime("%H:%M"), "end": quiet.end.strftime("%H:%M"), "tz": quiet.tz}
        if quiet else None,
        "created_at": now, "deleted_at": None,
    }


def from_row(row) -> Subscription:
    filters = row.filters or {}
    digest = row.digest and Digest(row.digest["every"], time.fromisoformat(row.digest["at"]), row.digest["tz"])
    quiet = row.quiet_hours and QuietHours(time.fromisoformat(row.quiet_hours["start"]),
                                           time.fromisoformat(row.quiet_hours["end"]), row.quiet_hours["tz"])
    return Subscription(id=row.id, channel=row.channel, target=row.target, secret=row.secret,
                        roles=tuple(filters.get("roles") or ()), owner=filters.get("owner"),
                        min_fit=filters.get("min_fit"), min_readiness=filters.get("min_readiness"),
                        types=tuple(filters.get("types") or ()), mode=row.mode, digest=digest or None,
                        quiet=quiet or None)


def add_subscription(session: Session, subscription: Subscription, now: datetime, origin: str = "api",
                     role_id: Optional[str] = None) -> None:
    session.execute(insert(_subs).values(**to_row(subscription, origin, role_id, now)))


def same_subscription(session: Session, subscription: Subscription) -> Optional[str]:
    """The id of an active subscription that sends the same things the same way, if any."""
    wanted = to_row(subscription, "api", None, datetime.min)
    compared = ("mode", "filters", "digest", "quiet_hours")
    for row in session.execute(select(_subs).where(_subs.c.deleted_at.is_(None), _subs.c.channel == wanted["channel"],
                                                   _subs.c.target == wanted["target"])):
        if all(getattr(row, name) == wanted[name] for name in compared):
            return row.id
    return None


def ensure_subscription(session: Session, subscription: Subscription, now: datetime, origin: str,
                        role_id: Optional[str]) -> bool:
    """Insert unless a row with its id exists (even a removed one); True when inserted."""
    statement = insert_ignoring(session, _subs, to_row(subscription, origin, role_id, now), ["id"])
    return bool(session.execute(statement).rowcount)


def active_subscriptions(session: Session) -> list[Subscription]:
    return [from_row(row) for row in session.execute(select(_subs).where(_subs.c.deleted_at.is_(None))
                                                     .order_by(_subs.c.id))]


def listed_subscriptions(session: Session, owner: Optional[str] = None) -> list[dict[str, Any]]:
    """Active subscriptions as the API shows them (the secret never leaves the store)."""
    rows = session.execute(select(_subs).where(_subs.c.deleted_at.is_(None)).order_by(_subs.c.created_at, _subs.c.id))
    shown = []
    for row in rows:
        if owner and (row.filters or {}).get("owner") != owner and row.target != owner:
            continue
        shown.append({"id": row.id, "channel": row.channel, "target": row.target, "mode": row.mode,
                      "digest": row.digest, "quiet_hours": row.quiet_hours, "origin": row.origin,
                      "role_id": row.role_id, "created_at": as_utc(row.created_at), "signed": bool(row.secret),
                      **{k: v for k, v in (row.filters or {}).items() if v not in (None, [])}})
    return shown


def remove_subscription(session: Session, subscription_id: str, now: datetime) -> bool:
    done = session.execute(update(_subs).where(_subs.c.id == subscription_id, _subs.c.deleted_at.is_(None))
                           .values(deleted_at=now))
    return bool(done.rowcount)


# -- deliveries -------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """A claimed delivery: what to send where."""
    id: int
    subscription_id: str
    key: str
    channel: str
    kind: str
    payload: Optional[dict[str, Any]]
    attempts: int
    first_attempt_at: Optional[datetime]
    message_created_at: Optional[datetime]


def plan(session: Session, rows: list[dict[str, Any]], claim_up_to: int = 0,
         claimed_until: Optional[datetime] = None) -> tuple[int, list[Job]]:
    """Insert deliveries; one that exists (the same subscription and key) is left as it is.
    Up to `claim_up_to` of the new ones that are due now are claimed as they are written (the
    notifier sends them at once, without a separate claim); returns (inserted, claimed)."""
    planned, claimed = 0, []
    for row in rows:
        claim = len(claimed) < claim_up_to and row["kind"] == "instant" and row["next_attempt_at"] <= row["created_at"]
        values = {**row, "claimed_until": claimed_until} if claim else row
        statement = insert_ignoring(session, _deliveries, values, ["subscription_id", "key"])
        inserted = session.execute(statement.returning(_deliveries.c.id)).scalar()
        if inserted is None:
            continue
        planned += 1
        if claim:
            claimed.append(Job(inserted, row["subscription_id"], row["key"], row["channel"], row["kind"],
                               row["payload"], 0, None, row.get("message_created_at")))
    return planned, claimed


def add_digest_items(session: Session, items: list[dict[str, Any]]) -> None:
    for item in items:
        session.execute(insert_ignoring(session, _items, item, ["subscription_id", "key"]))


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[Job]:
    query = (select(_deliveries).where(_deliveries.c.status == "pending", _deliveries.c.next_attempt_at <= now,
                                       or_(_deliveries.c.claimed_until.is_(None), _deliveries.c.claimed_until < now))
             .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id).limit(limit))
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.execute(query))
    if rows:
        session.execute(update(_deliveries).where(_deliveries.c.id.in_([r.id for r in rows]))
                        .values(claimed_until=now + lease))
    return [Job(r.id, r.subscription_id, r.key, r.channel, r.kind, r.payload, r.attempts,
                as_utc(r.first_attempt_at), as_utc(r.message_created_at)) for r in rows]


def renew(session: Session, delivery_ids: list[int], until: datetime) -> None:
    session.execute(update(_deliveries).where(_deliveries.c.id.in_(delivery_ids), _deliveries.c.status == "pending")
                    .values(claimed_until=until))


def digest_payloads(session: Session, subscription_id: str, period: str) -> list[dict[str, Any]]:
    return [row.payload for row in session.execute(
        select(_items.c.payload).where(_items.c.subscription_id == subscription_id, _items.c.period == period)
        .order_by(_items.c.created_at, _items.c.key))]


def finish(session: Session, delivery_id: int, now: datetime, delivered: bool, retry_at: Optional[datetime],
           error: str, first_attempt_at: datetime) -> None:
    """Record one attempt: delivered, to be tried again at `retry_at`, or failed for good."""
    status = "delivered" if delivered else ("pending" if retry_at else "failed")
    session.execute(update(_deliveries).where(_deliveries.c.id == delivery_id).values(
        status=status, attempts=_deliveries.c.attempts + 1, claimed_until=None,
        next_attempt_at=retry_at or now, first_attempt_at=first_attempt_at,
        last_error=None if delivered else error[:500], delivered_at=now if delivered else None))


def retry_failed(session: Session, now: datetime, delivery_id: Optional[int] = None) -> int:
    """Send failed deliveries again (one, or all): a new 24-hour window of retries."""
    where = [_deliveries.c.status == "failed"]
    if delivery_id is not None:
        where.append(_deliveries.c.id == delivery_id)
    done = session.execute(update(_deliveries).where(and_(*where)).values(
        status="pending", next_attempt_at=now, first_attempt_at=None, claimed_until=None))
    return done.rowcount or 0


def listed_deliveries(session: Session, status: Optional[str], limit: int) -> list[dict[str, Any]]:
    query = select(_deliveries.c.id, _deliveries.c.subscription_id, _deliveries.c.key, _deliveries.c.channel,
                   _deliveries.c.kind, _deliveries.c.status, _deliveries.c.attempts, _deliveries.c.next_attempt_at,
                   _deliveries.c.last_error, _deliveries.c.created_at, _deliveries.c.delivered_at)
    if status:
        query = query.where(_deliveries.c.status == status)
    rows = session.execute(query.order_by(_deliveries.c.id.desc()).limit(limit))
    return [{**row._asdict(), **{k: as_utc(getattr(row, k)) for k in ("next_attempt_at", "created_at",
                                                                        "delivered_at")}} for row in rows]


def delivery_stats(session: Session) -> dict[str, Any]:
    """Backlog by status, and the oldest pending delivery's creation time."""
    counts = dict(session.execute(select(_deliveries.c.status, func.count()).group_by(_deliveries.c.status)).all())
    oldest = session.scalar(select(func.min(_deliveries.c.created_at)).where(
        _deliveries.c.status == "pending", _deliveries.c.kind == "instant"))
    retrying = session.scalar(select(func.count()).where(_deliveries.c.status == "pending",
                                                         _deliveries.c.attempts > 0)) or 0
    return {"by_status": counts, "oldest_pending": as_utc(oldest), "retrying": retrying}



