"""The funnel a recruiting leader is measured on: how many alerts were acted on, how many
people replied, were handed off and hired, and which signals led there.

A lead counts in every stage of new → reviewed → contacted → replied → handed_off →
interviewing → hired up to the furthest it reached (one contacted without being marked
reviewed was reviewed too). Alerts are the leads whose first alert falls in the window.
Response rate = replied / contacted; conversion = hired / alerts; the time to first action is
from the first alert to the first change a person made.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Optional

from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from services.adapters.store.models import LeadHistoryRow, LeadRow, RoleSpecRow
from services.domain.leads import PIPELINE

STAGES = PIPELINE[1:]  # alerts stand for "new"
BANDS = ((0.7, "high"), (0.4, "medium"), (0.0, "low"))  # readiness at the alert


def funnel(sessions: sessionmaker[Session], role_id: Optional[str] = None, owner: Optional[str] = None,
           since: Optional[datetime] = None, until: Optional[datetime] = None) -> dict[str, Any]:
    """Counted by the database (leads grouped by furthest stage, first signals and readiness
    band), never by reading every lead: only the leads someone acted on are read, for the
    median time to first action."""
    where = _window(role_id, owner, since, until)
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    with sessions() as session:
        for furthest, signals, band, count in session.execute(
                _leads(owner, LeadRow.furthest, _SIGNALS, _BAND, func.count()).where(*where)
                .group_by(LeadRow.furthest, _SIGNALS, _BAND)):
            for tally in _tallies(tallies, signals, band):
                tally.stages[furthest] += count
        for signals, band, reason, count in session.execute(_not_a_fit(owner, role_id, where)):
            for tally in _tallies(tallies, signals, band):
                tally.reasons[reason or "other"] += count
        for signals, band, created, acted in session.execute(
                _leads(owner, _SIGNALS, _BAND, LeadRow.created_at, LeadRow.first_action_at)
                .where(*where, LeadRow.first_action_at.is_not(None))):
            hours = (as_utc(acted) - as_utc(created)).total_seconds() / 3600
            for tally in _tallies(tallies, signals, band):
                tally.waits.append(hours)
    result = tallies[("all", "")].counts()
    result["by_signal"] = {key: tally.counts() for (kind, key), tally in sorted(tallies.items()) if kind == "signal"}
    result["by_readiness"] = {key: tally.counts() for (kind, key), tally in sorted(tallies.items()) if kind == "band"}
    result["window"] = {"role": role_id, "owner": owner, "since": since, "until": until}
    return result


@dataclass
class Tally:
    """One group's leads: how many reached each furthest stage, their not-a-fit reasons, and
    the hours to first action of those acted on."""
    stages: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        alerts = sum(self.stages.values())
        result: dict[str, Any] = {"alerts": alerts}
        for rank, stage in enumerate(STAGES, start=1):
            result[stage] = sum(count for furthest, count in self.stages.items() if furthest >= rank)
        result["not_a_fit"] = sum(self.reasons.values())
        result["not_a_fit_by_reason"] = dict(sorted(self.reasons.items()))
        result["response_rate"] = round(result["replied"] / result["contacted"], 4) if result["contacted"] else None
        result["conversion"] = round(result["hired"] / alerts, 4) if alerts else None
        result["median_hours_to_first_action"] = round(statistics.median(self.waits), 2) if self.waits else None
        return result


# A lead's first signals as text (PostgreSQL cannot group JSON), and its readiness band.
_SIGNALS = cast(LeadRow.first_signals, String)
_BAND = case(*((LeadRow.readiness_at_alert >= floor, name) for floor, name in BANDS[:-1]), else_=BANDS[-1][1])


def _tallies(tallies: dict, signals: Optional[str], band: str) -> list[Tally]:
    """The groups a lead counts in: all, each of its first signals (or none), its band."""
    named = (json.loads(signals) if signals else None) or ["none"]
    return [tallies[("all", "")], tallies[("band", band)], *(tallies[("signal", name)] for name in named)]


def _window(role_id, owner, since, until) -> list:
    where = []
    if owner:
        where.append(RoleSpecRow.owner == owner)
    if role_id:
        where.append(LeadRow.role_id == role_id)
    if since:
        where.append(LeadRow.created_at >= since)
    if until:
        where.append(LeadRow.created_at < until)
    return where


def _leads(owner: Optional[str], *columns):
    query = select(*columns).select_from(LeadRow)
    return query.join(RoleSpecRow, RoleSpecRow.role_id == LeadRow.role_id) if owner else query


def _not_a_fit(owner: Optional[str], role_id: Optional[str], where: list):
    """(signals, band, the latest not_a_fit reason, leads) of the window's leads ever marked so."""
    latest = select(LeadHistoryRow.role_id, LeadHistoryRow.candidate_id, func.max(LeadHistoryRow.id).label("id")) \
        .where(LeadHistoryRow.status == "not_a_fit", *([LeadHistoryRow.role_id == role_id] if role_id else [])) \
        .group_by(LeadHistoryRow.role_id, LeadHistoryRow.candidate_id).subquery()
    reason = LeadHistoryRow.__table__.alias("reason")
    return (_leads(owner, _SIGNALS, _BAND, reason.c.reason, func.count())
            .join(latest, and_(latest.c.role_id == LeadRow.role_id, latest.c.candidate_id == LeadRow.candidate_id))
            .join(reason, reason.c.id == latest.c.id).where(*where).group_by(_SIGNALS, _BAND, reason.c.reason))


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
