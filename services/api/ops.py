"""Operations: /health (database, broker, workers) and /metrics (Prometheus), read from the
shared store at scrape time so any API process shows the whole pipeline's health."""
from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any, Optional

from fastapi import APIRouter, Depends, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from schemas.events import as_utc
from services.adapters.kafka.local_broker import is_answering, parse_bootstrap
from services.adapters.probes import broker_check, database_check, readiness
from services.adapters.store.heartbeats import worker_health
from services.adapters.store.models import Candidate, MatchState, OutboxMessage, RoleSpecRow
from services.adapters.store.notifications import delivery_stats
from services.adapters.store.outbox import unsent
from services.api.auth import ADMIN, metrics_allowed
from services.api.deps import Api, Text, api
from services.app.access import audit_log
from services.config import Settings
from services.domain.access import Principal

router = APIRouter(tags=["operations"])


class StoreCollector:
    """Pipeline health read from the shared store at scrape time."""

    def __init__(self, sessions, stall_after_s: float = 60.0):
        self.sessions = sessions
        self.stall_after_s = stall_after_s

    def collect(self):
        with self.sessions() as session:
            backlog, oldest = unsent(session)
            by_topic = session.execute(select(OutboxMessage.topic, func.count()).group_by(OutboxMessage.topic)).all()
            candidates = session.scalar(select(func.count()).select_from(Candidate)) or 0
            roles = session.execute(select(RoleSpecRow.status, func.count()).group_by(RoleSpecRow.status)).all()
            relevant = session.scalar(select(func.count()).where(MatchState.relevant.is_(True))) or 0
            workers = worker_health(session, self.stall_after_s)
            deliveries = delivery_stats(session)
        yield GaugeMetricFamily("radar_outbox_backlog", "Outbox messages not yet published to Kafka", value=backlog)
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
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
        yield from _delivery_families(deliveries)


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


def _delivery_families(stats: dict[str, Any]):
    family = GaugeMetricFamily("radar_notifier_deliveries", "Notifier deliveries kept, by status", labels=["status"])
    for status, count in stats["by_status"].items():
        family.add_metric([status], count)
    yield family
    oldest = stats["oldest_pending"]
    yield GaugeMetricFamily("radar_notifier_oldest_pending_seconds", "Age of the oldest pending instant delivery",
                            value=0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp()))
    yield GaugeMetricFamily("radar_notifier_retry_backlog", "Deliveries waiting to be tried again",
                            value=stats["retrying"])


# The API's own metrics (beside those read from the store): not the process-wide REGISTRY,
# where the worker's and notifier's metrics live when they share a process (tests).
API_REGISTRY = CollectorRegistry()
ProcessCollector(registry=API_REGISTRY)
CONSUMER_LAG = Gauge("radar_consumer_lag", "Input messages the worker group has not consumed yet", ["topic"],
                     registry=API_REGISTRY)
CONSUMER_LAG_SECONDS = Gauge("radar_consumer_lag_seconds", "Age of the oldest input message the worker group "
                             "has not consumed yet (0 when none waits)", ["topic"], registry=API_REGISTRY)
LAG_UP = Gauge("radar_consumer_lag_up", "1 when the last consumer-lag reading succeeded", registry=API_REGISTRY)


async def _update_lag(settings: Settings) -> None:
    from services.adapters.kafka.lag import consumer_lag

    try:
        lag = await consumer_lag(settings)
    except Exception:  # broker unreachable: say so rather than show stale numbers
        LAG_UP.set(0)
        return
    LAG_UP.set(1)
    for topic, value in lag.items():
        CONSUMER_LAG.labels(topic=topic).set(value.messages)
        CONSUMER_LAG_SECONDS.labels(topic=topic).set(value.seconds)


def _workers(sessions, settings: Settings) -> list[dict[str, Any]]:
    try:
        with sessions() as session:
            return worker_health(session, settings.stall_after_s)
    except Exception:  # the database check reports the database
        return []


def store_registry(sessions, settings: Settings) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)  # read at scrape time only, not when the app starts
    registry.register(StoreCollector(sessions, settings.stall_after_s))
    return registry


@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process and its event loop answer; depends on nothing else (the liveness probe)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(response: Response, ctx: Api = Depends(api)) -> dict[str, Any]:
    """The database and the broker answer (the readiness probe): 200, or 503 with what is wrong."""
    ready, answers = await readiness({"database": database_check(ctx.engine),
                                      "broker": broker_check(ctx.settings)})
    response.status_code = 200 if ready else 503
    return {"ready": ready, "checks": answers}


@router.get("/health")
def health(response: Response, ctx: Api = Depends(api)) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    host, port = parse_bootstrap(ctx.settings.kafka_bootstrap)
    checks["kafka"] = "ok" if is_answering(host, port) else "unreachable"
    stalled = [w for w in _workers(ctx.sessions, ctx.settings) if w["problem"]]
    checks["workers"] = "ok" if not stalled else "; ".join(f"{w['worker_id']}: {w['problem']}" for w in stalled)
    healthy = all(v == "ok" for v in checks.values())
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "degraded", "checks": checks}


@router.get("/metrics", dependencies=[Depends(metrics_allowed)])
async def metrics(ctx: Api = Depends(api)) -> Response:
    await _update_lag(ctx.settings)
    return Response(generate_latest(API_REGISTRY) + generate_latest(ctx.store_metrics), media_type=CONTENT_TYPE_LATEST)


@router.get("/audit")
def audit(limit: int = Query(100, ge=1, le=1000), actor: Optional[Text] = Query(None, max_length=200),
          since: Optional[date] = None, ctx: Api = Depends(api), who: Principal = ADMIN) -> list[dict[str, Any]]:
    """Every change made through the API: who, what, when (newest first)."""
    start = None if since is None else as_utc(datetime.combine(since, datetime.min.time()))
    return audit_log(ctx.sessions, limit, actor, start)
