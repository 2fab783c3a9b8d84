"""The HTTP API: health, Prometheus metrics, alerts, candidate context, shortlists, role admin."""
from __future__ import annotations

import time
from typing import Any, Optional

from fastapi import Body, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, text

from schemas.events import Id, as_utc
from services.adapters.store.db import make_engine, make_session_factory
from services.adapters.store.heartbeats import worker_health
from services.adapters.store.models import Candidate, MatchState, OutboxMessage, RoleSpecRow
from services.app.read_models import candidate_context, recent_alerts, shortlist
from services.app.role_admin import RoleAdminError, RoleNotFound, role_change_messages
from services.config import Settings


class StoreCollector:
    """Pipeline health read from the shared store at scrape time."""

    def __init__(self, sessions, stall_after_s: float = 60.0):
        self.sessions = sessions
        self.stall_after_s = stall_after_s

    def collect(self):
        with self.sessions() as session:
            backlog = session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) or 0
            oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.sent_at.is_(None)))
            by_topic = session.execute(select(OutboxMessage.topic, func.count()).group_by(OutboxMessage.topic)).all()
            candidates = session.scalar(select(func.count()).select_from(Candidate)) or 0
            roles = session.execute(select(RoleSpecRow.status, func.count()).group_by(RoleSpecRow.status)).all()
            relevant = session.scalar(select(func.count()).where(MatchState.relevant.is_(True))) or 0
            workers = worker_health(session, self.stall_after_s)
        yield GaugeMetricFamily("radar_outbox_backlog", "Outbox messages not yet published to Kafka", value=backlog)
        age = 0.0 if oldest is None else max(0.0, time.time() - as_utc(oldest).timestamp())
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
        yield from _worker_families(workers)


def _worker_families(workers: list[dict[str, Any]]):
    stalled = GaugeMetricFamily("radar_worker_stalled", "1 when a worker's batch has retried, or it has been "
                                "silent, longer than RADAR_STALL_AFTER_S", labels=["worker"])
    retrying = GaugeMetricFamily("radar_worker_batch_retrying_seconds", "How long a worker's current batch has "
                                 "been retrying (0 when none is)", labels=["worker"])
    last_batch = GaugeMetricFamily("radar_worker_last_batch_age_seconds", "Seconds since a worker last committed "
                                   "a batch", labels=["worker"])
    for worker in workers:
        stalled.add_metric([worker["worker_id"]], 1 if worker["problem"] else 0)
        retrying.add_metric([worker["worker_id"]], worker["retrying_s"])
        if worker["last_batch_age_s"] is not None:
            last_batch.add_metric([worker["worker_id"]], worker["last_batch_age_s"])
    yield from (stalled, retrying, last_batch)


CONSUMER_LAG = Gauge("radar_consumer_lag", "Input messages the worker group has not consumed yet", ["topic"])
LAG_UP = Gauge("radar_consumer_lag_up", "1 when the last consumer-lag reading succeeded")


async def _update_lag(settings: Settings) -> None:
    from services.adapters.kafka.lag import consumer_lag

    try:
        lag = await consumer_lag(settings.kafka_bootstrap, settings.app_id)
    except Exception:  # broker unreachable: say so rather than show stale numbers
        LAG_UP.set(0)
        return
    LAG_UP.set(1)
    for topic, value in lag.items():
        CONSUMER_LAG.labels(topic=topic).set(value)


def _workers(sessions, settings: Settings) -> list[dict[str, Any]]:
    try:
        with sessions() as session:
            return worker_health(session, settings.stall_after_s)
    except Exception:  # the database check reports the database
        return []




MAX_BODY_BYTES = 1_000_000  # a role spec is a few kilobytes; its description at most 20,000 characters
_ID = TypeAdapter(Id)


def checked_id(name: str, value: str) -> str:
    """A path id under the same rules as the wire's ids, or one clear 422."""
    try:
        return _ID.validate_python(value)
    except ValidationError as exc:
        from services.app.decoding import describe_validation_error
        raise HTTPException(422, f"{name}: " + describe_validation_error(exc).split(": ", 1)[1]) from None


def create_app(settings: Settings, produce=None) -> FastAPI:
    """`produce(topic, [(key, value)])` is injectable for tests; by default it is aiokafka."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    app = FastAPI(title="Talent Radar", version="0.1.0")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"detail": f"request body over {MAX_BODY_BYTES:,} bytes"}, status_code=413)
        return await call_next(request)
    store_metrics = CollectorRegistry(auto_describe=True)  # this app's store, read at scrape time
    store_metrics.register(StoreCollector(sessions, settings.stall_after_s))

    async def send(topic: str, messages: list[tuple[str, Optional[dict[str, Any]]]]) -> None:
        try:
            if produce is not None:
                await produce(topic, messages)
                return
            from services.adapters.kafka.client import produce as kafka_produce
            from services.config import TOPICS
            await kafka_produce(settings.kafka_bootstrap, TOPICS.physical(topic), messages)
        except Exception as exc:
            raise HTTPException(503, f"could not publish to {topic}: {type(exc).__name__}; try again") from None

    @app.get("/health")
    def health(response: Response) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        from services.adapters.kafka.local_broker import is_answering, parse_bootstrap
        host, port = parse_bootstrap(settings.kafka_bootstrap)
        checks["kafka"] = "ok" if is_answering(host, port) else "unreachable"
        workers = _workers(sessions, settings)
        stalled = [w for w in workers if w["problem"]]
        checks["workers"] = "ok" if not stalled else "; ".join(f"{w['worker_id']}: {w['problem']}" for w in stalled)
        healthy = all(v == "ok" for v in checks.values())
        response.status_code = 200 if healthy else 503
        return {"status": "ok" if healthy else "degraded", "checks": checks}

    @app.get("/metrics")
    async def metrics() -> Response:
        await _update_lag(settings)
        return Response(generate_latest(REGISTRY) + generate_latest(store_metrics), media_type=CONTENT_TYPE_LATEST)

    @app.get("/alerts")
    def alerts(limit: int = Query(50, ge=1, le=1000)) -> list[dict[str, Any]]:
        return recent_alerts(sessions, limit)

    @app.get("/candidates/{candidate_id}")
    def candidate(candidate_id: str) -> dict[str, Any]:
        candidate_id = checked_id("candidate_id", candidate_id)
        context = candidate_context(sessions, candidate_id)
        if context is None:
            raise HTTPException(404, f"no candidate {candidate_id!r}")
        return context

    @app.post("/candidates/{candidate_id}/do-not-contact", status_code=202)
    async def do_not_contact(candidate_id: str, value: bool = Query(True)) -> dict[str, Any]:
        import uuid

        from schemas import Profile, ProfileEvent
        from services.adapters.store.db import utcnow
        event = ProfileEvent(event_id=f"dnc-{uuid.uuid4()}", candidate_id=checked_id("candidate_id", candidate_id),
                             source="radar-api", occurred_at=utcnow(), profile=Profile(do_not_contact=value))
        await send("profile-events", [(event.candidate_id, event.model_dump(mode="json", exclude_none=True))])
        return {"accepted": True, "event_id": event.event_id}

    @app.get("/roles/{role_id}/shortlist")
    def role_shortlist(role_id: str, limit: int = Query(10, ge=1, le=200)) -> dict[str, Any]:
        result = shortlist(sessions, checked_id("role_id", role_id), limit)
        if result is None:
            raise HTTPException(404, f"no role {role_id!r}")
        return result

    @app.put("/roles/{role_id}", status_code=202)
    async def put_role(role_id: str, spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        role_id = checked_id("role_id", role_id)
        spec = dict(spec, role_id=role_id)
        return await _role_action(send, sessions, "put", role_id, spec)

    @app.post("/roles/{role_id}/{action}", status_code=202)
    async def role_action(role_id: str, action: str) -> dict[str, Any]:
        if action not in ("pause", "close", "reopen"):
            raise HTTPException(404, "unknown action: pause, close or reopen")
        return await _role_action(send, sessions, action, checked_id("role_id", role_id))

    @app.delete("/roles/{role_id}", status_code=202)
    async def delete_role(role_id: str) -> dict[str, Any]:
        return await _role_action(send, sessions, "delete", checked_id("role_id", role_id))

    return app


async def _role_action(send, sessions, action: str, role_id: str, spec=None) -> dict[str, Any]:
    try:
        key, value = role_change_messages(sessions, action, role_id, spec)
    except RoleNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except RoleAdminError as exc:
        raise HTTPException(422, str(exc)) from None
    await send("role-specs", [(key, value)])
    return {"accepted": True, "role_id": key, "action": action}
