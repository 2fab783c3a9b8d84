"""The notifier's use cases: plan the deliveries of consumed messages, and deliver one.

`plan` runs in one transaction per batch of consumed messages: it enriches each message
with what a person needs (role title, candidate name and headline, a link), finds the
subscriptions it matches (a role's owner is subscribed to that role's alerts by e-mail, as
a daily digest, unless they changed it), and writes one delivery per (subscription,
message), or a digest item and its digest's delivery. The consumer commits its offsets only
after. `deliver` sends one claimed delivery and records the attempt's outcome.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from services.adapters.delivery import render
from services.adapters.delivery.senders import Senders
from services.adapters.store import notifications as store
from services.adapters.store.db import utcnow
from services.adapters.store.models import Candidate, MatchState, RoleSpecRow
from services.domain.notify import (
    OWNER_ADDRESS,
    Notice,
    Outcome,
    Subscription,
    digest_period,
    first_attempt_at,
    matches,
    next_attempt,
    owner_default,
)
from services.logs import get_logger

log = get_logger("radar.notifier")

class Notifier:
    def __init__(self, sessions: sessionmaker[Session], public_url: str, clock: Callable[[], datetime] = utcnow,
                 lease_s: float = 60.0):
        self.sessions = sessions
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.lease = timedelta(seconds=lease_s)

    # -- planning ---------------------------------------------------------------------

    def plan(self, messages: list[dict[str, Any]]) -> int:
        """Deliveries for consumed messages (match.alert, match.withdrawn, revisit_due)."""
        return self.plan_and_claim(messages, 0)[0]

    def plan_and_claim(self, messages: list[dict[str, Any]], room: int) -> tuple[int, list[store.Job]]:
        """`plan`, claiming up to `room` of the deliveries due now for the caller to send at once."""
        now = self.clock()
        with self.sessions.begin() as session:
            roles = _roles(session, {m["role_id"] for m in messages if m.get("role_id")})
            people = _candidates(session, {m["candidate_id"] for m in messages})
            for role_id, (_, owner) in roles.items():
                if owner and OWNER_ADDRESS.match(owner):
                    store.ensure_subscription(session, owner_default(owner), now, "role-owner", None)
            subscriptions = store.active_subscriptions(session)
            rows, items = [], []
            for message in messages:
                notice, payload = self._notice(session, message, roles, people)
                for subscription in subscriptions:
                    if matches(subscription, notice):
                        self._route(subscription, notice, payload, now, rows, items)
            store.add_digest_items(session, items)
            return store.plan(session, rows, room, now + self.lease)

    def _notice(self, session: Session, message: dict[str, Any], roles, people) -> tuple[Notice, dict[str, Any]]:
        kind = message.get("type")
        candidate_id = message["candidate_id"]
        name, headline = people.get(candidate_id, (None, None))
        if kind in ("match.alert", "match.withdrawn"):
            title, owner = roles.get(message["role_id"], (None, None))
            notice = Notice(kind, message["alert_id"], message["role_id"], owner, message.get("fit"),
                            message.get("readiness"))
            link = f"{self.public_url}/candidates/{candidate_id}?role={message['role_id']}"
        else:  # a candidate signal: revisit_due
            kind, title = "revisit_due", None
            relevant = _relevant_roles(session, candidate_id)
            notice = Notice(kind, message["signal_id"], None, None, None, _readiness(session, candidate_id),
                            candidate_roles=tuple(relevant))
            link = f"{self.public_url}/candidates/{candidate_id}"
        payload = {**message, "role_title": title, "candidate_name": name, "candidate_headline": headline,
                   "link": link}
        return notice, payload

    def _route(self, subscription: Subscription, notice: Notice, payload: dict[str, Any], now: datetime,
               rows: list, items: list) -> None:
        created = as_utc(datetime.fromisoformat(payload.get("created_at") or payload.get("detected_at")
                                                or now.isoformat()))
        row = {"subscription_id": subscription.id, "channel": subscription.channel, "status": "pending",
               "attempts": 0, "created_at": now, "message_created_at": created,
               "candidate_id": payload.get("candidate_id")}
        if subscription.mode == "digest" and subscription.digest is not None:
            period, due = digest_period(subscription.digest, now)
            items.append({"subscription_id": subscription.id, "key": notice.key, "period": period,
                          "payload": payload, "created_at": now, "candidate_id": payload.get("candidate_id")})
            rows.append({**row, "key": f"digest:{period}", "kind": "digest", "payload": None,
                         "next_attempt_at": due, "message_created_at": None, "candidate_id": None})
        else:
            rows.append({**row, "key": notice.key, "kind": "instant", "payload": payload,
                         "next_attempt_at": first_attempt_at(subscription, now)})

    # -- delivering -------------------------------------------------------------------

    def claim(self, limit: int = 200) -> list[store.Job]:
        with self.sessions.begin() as session:
            return store.claim_due(session, self.clock(), limit, self.lease)

    def renew(self, delivery_ids: list[int]) -> None:
        with self.sessions.begin() as session:
            store.renew(session, delivery_ids, self.clock() + self.lease)

    def subscriptions(self) -> dict[str, Subscription]:
        with self.sessions() as session:
            return {s.id: s for s in store.active_subscriptions(session)}

    def digest(self, job: store.Job) -> list[dict[str, Any]]:
        with self.sessions() as session:
            return store.digest_payloads(session, job.subscription_id, job.key.removeprefix("digest:"))

    def record(self, job: store.Job, outcome: Outcome) -> Optional[datetime]:
        """Store one attempt's outcome; returns when it will be tried again (None: it will not)."""
        return self.record_many([(job, outcome)])[0]

    def record_many(self, attempts: list[tuple[store.Job, Outcome]]) -> list[Optional[datetime]]:
        """Store several attempts' outcomes in one transaction (the notifier gathers the ones
        that finish within a few milliseconds of each other)."""
        now = self.clock()
        retries = []
        with self.sessions.begin() as session:
            for job, outcome in attempts:
                first = job.first_attempt_at or now
                retry_at = None if outcome.delivered else next_attempt(job.attempts + 1, first, now, outcome)
                store.finish(session, job.id, now, outcome.delivered, retry_at, outcome.reason, first)
                retries.append(retry_at)
        return retries


async def send(job: store.Job, subscription: Subscription, senders: Senders,
               digest: Optional[list[dict[str, Any]]] = None) -> Outcome:
    """One delivery over its channel: an alert, or a digest of several."""
    if job.kind == "digest":
        period = job.key.removeprefix("digest:")
        if not digest:
            return Outcome(True)  # nothing collected (a removed subscription's digest): nothing to send
        if subscription.channel == "email":
            return await senders.email(render.digest_email(digest, period, senders.smtp.sender, subscription.target))
        body = {"type": "digest", "period": period, "messages": digest}
        if subscription.channel == "slack":
            return await senders.slack(subscription.target, render.slack_digest_body(digest, period))
        return await senders.webhook(subscription.target, subscription.secret, f"{job.key}:{subscription.id}",
                                     render.webhook_body(body))
    payload = job.payload or {}
    if subscription.channel == "email":
        return await senders.email(render.alert_email(payload, senders.smtp.sender, subscription.target))
    if subscription.channel == "slack":
        return await senders.slack(subscription.target, render.slack_body(payload))
    return await senders.webhook(subscription.target, subscription.secret, job.key, render.webhook_body(payload))


def _roles(session: Session, role_ids: set[str]) -> dict[str, tuple[Optional[str], Optional[str]]]:
    """role id -> (title, owner)."""
    if not role_ids:
        return {}
    rows = session.execute(select(RoleSpecRow.role_id, RoleSpecRow.spec).where(RoleSpecRow.role_id.in_(role_ids)))
    return {role_id: ((spec or {}).get("title"), (spec or {}).get("owner")) for role_id, spec in rows}


def _candidates(session: Session, candidate_ids: set[str]) -> dict[str, tuple[Optional[str], Optional[str]]]:
    """candidate id -> (name, headline), from the merged view."""
    rows = session.execute(select(Candidate.candidate_id, Candidate.view).where(
        Candidate.candidate_id.in_(candidate_ids)))
    found = {}
    for candidate_id, view in rows:
        profile = (view or {}).get("profile") or {}
        found[candidate_id] = (profile.get("name"), profile.get("headline"))
    return found


def _relevant_roles(session: Session, candidate_id: str) -> list[tuple[str, Optional[str], float]]:
    rows = session.execute(select(MatchState.role_id, MatchState.fit).where(
        MatchState.candidate_id == candidate_id, MatchState.relevant.is_(True)))
    pairs = list(rows)
    owners = _roles(session, {role_id for role_id, _ in pairs})
    return [(role_id, owners.get(role_id, (None, None))[1], fit) for role_id, fit in pairs]


def _readiness(session: Session, candidate_id: str) -> Optional[float]:
    return session.scalar(select(Candidate.readiness).where(Candidate.candidate_id == candidate_id))
