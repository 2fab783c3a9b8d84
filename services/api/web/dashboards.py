"""The overview (is the radar paying off?) and operations (is the pipeline healthy?) pages."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.adapters.probes import broker_check, database_check, readiness
from services.adapters.store.db import utcnow
from services.api.auth import ADMIN, VIEWER
from services.api.deps import Api, api
from services.api.web.charts import day_columns, funnel_bars, hbars, response_bars
from services.api.web.render import page
from services.app.dashboards import DAYS, operations, overview
from services.domain.access import Principal

router = APIRouter(include_in_schema=False)
OPS_REFRESH_S = 15


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, ctx: Api = Depends(api), who: Principal = VIEWER) -> Response:
    numbers = overview(ctx.sessions, utcnow().date())
    return page(request, "overview.html", days=DAYS, numbers=numbers, funnel=numbers["funnel"],
                per_day=day_columns(numbers["alerts_per_day"]),
                alerts_total=sum(count for _, count in numbers["alerts_per_day"]),
                signals=hbars([(kind.replace("_", " "), count) for kind, count in numbers["signals_by_type"]]),
                funnel_chart=funnel_bars(numbers["funnel"]), responses=response_bars(numbers["funnel"]["by_signal"]))


@router.get("/ops", response_class=HTMLResponse)
async def operations_page(request: Request, ctx: Api = Depends(api), who: Principal = ADMIN) -> Response:
    store = await asyncio.to_thread(operations, ctx.sessions, ctx.settings.topics, ctx.settings.stall_after_s)
    ready, checks = await readiness({"database": database_check(ctx.engine), "broker": broker_check(ctx.settings)})
    lag, lag_problem = await _lag(ctx)
    oldest = store["outbox_oldest"]
    stalled = [worker["worker_id"] for worker in store["workers"] if worker["problem"]]
    ready = ready and bool(store["workers"]) and not stalled  # the pipeline, not only this API process
    mail_waits = store["email_subscriptions"] > 0 and not ctx.settings.smtp_host
    return page(request, "ops.html", store=store, checks=checks, ready=ready, lag=lag, lag_problem=lag_problem,
                mail_waits=mail_waits, refresh_s=OPS_REFRESH_S, now=utcnow(),
                outbox_age_s=None if oldest is None else max(0, (utcnow() - oldest).total_seconds()),
                reasons=hbars(store["dead_letters_by_reason"]))


async def _lag(ctx: Api) -> tuple[dict[str, Any], Optional[str]]:
    from services.adapters.kafka.lag import consumer_lag

    try:
        return await consumer_lag(ctx.settings), None
    except Exception as exc:  # the broker's own check says what is wrong with it
        return {}, f"could not be read ({type(exc).__name__})"
