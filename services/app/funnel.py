"""The funnel a recruiting leader is measured on: how many alerts were acted on, how many
people replied, were handed off and hired, and which signals led there.

A lead counts in every stage of new → reviewed → contacted → replied → handed_off →
interviewing → hired up to the furthest it reached (one contacted without being marked
reviewed was reviewed too). Alerts are the leads whose first alert falls in the window.
Response rate = replied / contacted; conversion = hired / alerts; the time to first action is
from the first alert to the first change a person made.
"""
from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from services.adapters.store.models import LeadHistoryRow, LeadRow, RoleSpecRow
from services.domain.leads import PIPELINE

STAGES = PIPELINE[1:]  # alerts stand for "new"
BANDS = ((0.7, "high"), (0.4, "medium"), (0.0, "low"))  # readiness at the alert


def funnel(sessions: sessionmaker[Session], role_id: Optional[str] = None, owner: Optional[str] = None,
           since: Optional[datetime] = None, until: Optional[datetime] = None) -> dict[str, Any]:
    query = select(LeadRow.role_id, LeadRow.candidate_id, LeadRow.furthest, LeadRow.first_signals,
                   LeadRow.readiness_at_alert, LeadRow.created_at, LeadRow.first_action_at)
    if owner:
        query = query.join(RoleSpecRow, RoleSpecRow.role_id == LeadRow.role_id).where(RoleSpecRow.owner == owner)
    if role_id:
        query = query.where(LeadRow.role_id == role_id)
    if since:
        query = query.where(LeadRow.created_at >= since)
    if until:
        query = query.where(LeadRow.created_at < until)
    with sessions() as session:
        leads = session.execute(query).all()
        not_a_fit = _not_a_fit_reasons(session, role_id, {(r.role_id, r.candidate_id) for r in leads})
    result = counts(leads, not_a_fit)
    result["by_signal"] = {signal: counts(group, not_a_fit) for signal, group in
                           _grouped(leads, lambda r: r.first_signals or ["none"]).items()}
    result["by_readiness"] = {band: counts(group, not_a_fit) for band, group in
                              _grouped(leads, lambda r: [_band(r.readiness_at_alert)]).items()}
    result["window"] = {"role": role_id, "owner": owner, "since": since, "until": until}
    return result


def counts(leads: list, not_a_fit: dict[tuple[str, str], str]) -> dict[str, Any]:
    alerts = len(leads)
    result: dict[str, Any] = {"alerts": alerts}
    for rank, stage in enumerate(STAGES, start=1):
        result[stage] = sum(1 for lead in leads if lead.furthest >= rank)
    reasons = [not_a_fit[(lead.role_id, lead.candidate_id)] for lead in leads
               if (lead.role_id, lead.candidate_id) in not_a_fit]
    result["not_a_fit"] = len(reasons)
    result["not_a_fit_by_reason"] = {reason: reasons.count(reason) for reason in sorted(set(reasons))}
    result["response_rate"] = round(result["replied"] / result["contacted"], 4) if result["contacted"] else None
    result["conversion"] = round(result["hired"] / alerts, 4) if alerts else None
    waits = [(as_utc(lead.first_action_at) - as_utc(lead.created_at)).total_seconds() / 3600 for lead in leads
             if lead.first_action_at is not None]
    result["median_hours_to_first_action"] = round(statistics.median(waits), 2) if waits else None
    return result


def _not_a_fit_reasons(session: Session, role_id: Optional[str], pairs: set) -> dict[tuple[str, str], str]:
    """The latest not_a_fit reason of every lead ever marked so (by lead)."""
    query = select(LeadHistoryRow.role_id, LeadHistoryRow.candidate_id, LeadHistoryRow.reason).where(
        LeadHistoryRow.status == "not_a_fit").order_by(LeadHistoryRow.id)
    if role_id:
        query = query.where(LeadHistoryRow.role_id == role_id)
    return {(r, c): reason or "other" for r, c, reason in session.execute(query) if (r, c) in pairs}


def _grouped(leads: list, keys) -> dict[str, list]:
    groups: dict[str, list] = {}
    for lead in leads:
        for key in keys(lead):
            groups.setdefault(key, []).append(lead)
    return dict(sorted(groups.items()))


def _band(readiness: float) -> str:
    return next(name for floor, name in BANDS if readiness >= floor)


def table(result: dict[str, Any]) -> Iterable[str]:
    """`radar funnel`'s lines."""
    yield ("stage            leads   of alerts")
    for stage in ("alerts", *STAGES, "not_a_fit"):
        share = result[stage] / result["alerts"] if result["alerts"] else 0
        yield f"{stage:<15} {result[stage]:>6}   {share:>7.1%}"
    yield f"response rate    {_pct(result['response_rate'])}   (replied / contacted)"
    yield f"conversion       {_pct(result['conversion'])}   (hired / alerts)"
    hours = result["median_hours_to_first_action"]
    yield f"median time to first action: {'-' if hours is None else f'{hours:g} h'}"
    if result["not_a_fit_by_reason"]:
        yield "not a fit: " + ", ".join(f"{k} {v}" for k, v in result["not_a_fit_by_reason"].items())
    if result.get("by_signal"):
        yield "by signal:        alerts  contacted  replied  hired  response"
        for signal, part in result["by_signal"].items():
            yield (f"  {signal:<18} {part['alerts']:>4}  {part['contacted']:>9}  {part['replied']:>7}  "
                   f"{part['hired']:>5}  {_pct(part['response_rate'])}")


def _pct(value: Optional[float]) -> str:
    return "   -  " if value is None else f"{value:6.1%}"
