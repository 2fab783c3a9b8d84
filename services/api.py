"""The HTTP API: health, Prometheus metrics, alerts, candidate context, shortlists, role admin."""
from __future__ import annotations

import time
from typing import Any, Optional

from fastapi import Body, FastAPI, HTTPException, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from services.config import Settings
from services.queries_api import candidate_context, recent_alerts, shortlist
from services.roles_admin import RoleAdminError, role_change_messages
from services.store.db import make_engine, make_session_factory
from services.store.models import Candidate, MatchState, OutboxMessage, RoleSpecRow


class StoreCollector:
    """Pipeline health read from the shared store at scrape time."""

    def __init__(self, sessions):
        self.sessions = sessions

    def collect(self):
        with self.sessions() as session:
            backlog = session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) or 0
            oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.sent_at.is_(None)))
            by_topic = session.execute(select(OutboxMessage.topic, func.count()).group_by(OutboxMessage.topic)).all()
            candidates = session.scalar(select(func.count()).select_from(Candidate)) or 0
            roles = session.execute(select(RoleSpecRow.status, func.count()).group_by(RoleSpecRow.status)).all()
            relevant = session.scalar(select(func.count()).where(MatchState.relevant.is_(True))) or 0
        yield GaugeMetricFamily("radar_outbox_backlog", "Outbox messages not yet published to Kafka", value=backlog)
        age = 0.0 if oldest is None else max(0.0, time.time() - _epoch(oldest))
        yield GaugeMetricFamily("radar_outbox_oldest_unsent_seconds", "Age of the oldest unpublished message", value=age)
        family = GaugeMetricFamily("radar_outbox_messages", "Outbox messages kept, by topic", labels=["topic"])
        for topic, count in by_topic:
            family.add_metric([topic], count)
        yield family
        yield GaugeMetricFamily("radar_candidates", "Candidates with a stored context", value=candidates)
        role_family = GaugeMetricFamily("radar_roles", "Role specs by status", labels=["status"])
        for status, count in roles:
            role_family.add_metric([status], count)
        yield role_family
        yield GaugeMetricFamily("radar_relevant_pairs", "(role, candidate) pairs currently relevant", value=relevant)


CONSUMER_LAG = Gauge("radar_consumer_lag", "Input messages the worker group has not consumed yet", ["topic"])
LAG_UP = Gauge("radar_consumer_lag_up", "1 when the last consumer-lag reading succeeded")


async def _update_lag(settings: Settings) -> None:
    from streams.lag import consumer_lag

    try:
        lag = await consumer_lag(settings.kafka_bootstrap, settings.app_id)
    except Exception:  # broker unreachable: say so rather than show stale numbers
        LAG_UP.set(0)
        return
    LAG_UP.set(1)
    for topic, value in lag.items():
        CONSUMER_LAG.labels(topic=topic).set(value)


def _epoch(moment) -> float:
    from services.context import as_utc
    return as_utc(moment).timestamp()


def create_app(settings: Settings, produce=None) -> FastAPI:
    """`produce(topic, [(key, value)])` is injectable for tests; by default it is aiokafka."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    app = FastAPI(title="Talent Radar", version="0.1.0")
    collector = StoreCollector(sessions)
    try:
        REGISTRY.register(collector)
    except ValueError:
        pass  # already registered in this process (tests create several apps)

    async def send(topic: str, messages: list[tuple[str, Optional[dict[str, Any]]]]) -> None:
        if produce is not None:
            await produce(topic, messages)
            return
        from schemas import TOPICS
        from streams.client import produce as kafka_produce
        await kafka_produce(settings.kafka_bootstrap, TOPICS.physical(topic), messages)

    @app.get("/health")
    def health(response: Response) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        from services.kafka_local import is_answering, parse_bootstrap
        host, port = parse_bootstrap(settings.kafka_bootstrap)
        checks["kafka"] = "ok" if is_answering(host, port) else "unreachable"
        healthy = all(v == "ok" for v in checks.values())
        response.status_code = 200 if healthy else 503
        return {"status": "ok" if healthy else "degraded", "checks": checks}

    @app.get("/metrics")
    async def metrics() -> Response:
        await _update_lag(settings)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/alerts")
    def alerts(limit: int = Query(50, ge=1, le=1000)) -> list[dict[str, Any]]:
        return recent_alerts(sessions, limit)

    @app.get("/candidates/{candidate_id}")
    def candidate(candidate_id: str) -> dict[str, Any]:
        context = candidate_context(sessions, candidate_id)
        if context is None:
            raise HTTPException(404, f"no candidate {candidate_id!r}")
        return context

    @app.post("/candidates/{candidate_id}/do-not-contact", status_code=202)
    async def do_not_contact(candidate_id: str, value: bool = Query(True)) -> dict[str, Any]:
        from datetime import datetime, timezone
        import uuid
        event = {"event_id": f"dnc-{uuid.uuid4()}", "candidate_id": candidate_id, "source": "radar-api",
                 "occurred_at": datetime.now(timezone.utc).isoformat(), "profile": {"do_not_contact": value}}
        await send("profile-events", [(candidate_id, event)])
        return {"accepted": True, "event_id": event["event_id"]}

    @app.get("/roles/{role_id}/shortlist")
    def role_shortlist(role_id: str, limit: int = Query(10, ge=1, le=200)) -> dict[str, Any]:
        result = shortlist(sessions, role_id, limit)
        if result is None:
            raise HTTPException(404, f"no role {role_id!r}")
        return result

    @app.put("/roles/{role_id}", status_code=202)
    async def put_role(role_id: str, spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        spec = dict(spec, role_id=role_id)
        return await _role_action(send, sessions, "put", role_id, spec)

    @app.post("/roles/{role_id}/{action}", status_code=202)
    async def role_action(role_id: str, action: str) -> dict[str, Any]:
        if action not in ("pause", "close", "reopen"):
            raise HTTPException(404, f"unknown action {action!r}: pause, close or reopen")
        return await _role_action(send, sessions, action, role_id)

    @app.delete("/roles/{role_id}", status_code=202)
    async def delete_role(role_id: str) -> dict[str, Any]:
        return await _role_action(send, sessions, "delete", role_id)

    return app


async def _role_action(send, sessions, action: str, role_id: str, spec=None) -> dict[str, Any]:
    try:
        key, value = role_change_messages(sessions, action, role_id, spec)
    except RoleAdminError as exc:
        status = 404 if str(exc).startswith("no role") else 422
        raise HTTPException(status, str(exc)) from None
    await send("role-specs", [(key, value)])
    return {"accepted": True, "role_id": key, "action": action}
