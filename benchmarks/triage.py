"""The inbox and candidate search at 100,000 leads and 1,000,000 candidates, beside a scan.

    python benchmarks/triage.py [--candidates 1000000] [--leads 100000] [--database-url URL]

Builds a store (SQLite in a temp dir unless --database-url names an EMPTY database): 1,000
roles under 50 owners, the candidates with 3 skills each (Zipf-like over the taxonomy) and a
place, 100,000 leads over 90 days (60 % new, the rest along the funnel) with their alerts.
Then, for each read the API serves (services.app.triage, the indexed queries), the median
time of 9 runs, beside the same answer computed by reading the whole table (the scan). The
answers are compared. Nothing is asserted: the point is milliseconds against seconds.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402
from timing import machine_line  # noqa: E402  (benchmarks/, the script's own folder)

from services.adapters.store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from services.adapters.store.models import (  # noqa: E402
    AlertRow,
    Candidate,
    CandidatePlace,
    CandidateSkill,
    LeadRow,
    MatchState,
    RoleSpecRow,
)
from services.app import triage  # noqa: E402
from services.domain.taxonomy import SKILLS_FILE  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
CITIES = ["berlin", "lisbon", "london", "paris", "madrid", "amsterdam", "warsaw", "milan", "vienna", "dublin",
          "prague", "stockholm", "munich", "porto", "barcelona", "zurich", "oslo", "helsinki", "brussels", "rome"]
STATUSES = ["new"] * 60 + ["reviewed"] * 15 + ["contacted"] * 10 + ["replied"] * 5 + ["not_a_fit"] * 6 + \
    ["handed_off"] * 2 + ["hired"] * 2


def skills() -> list[str]:
    import json
    return [s["key"] for s in json.loads(SKILLS_FILE.read_text())][:600]


def build(sessions, n_candidates: int, n_leads: int, rng: random.Random) -> None:
    keys = skills()
    weights = [1 / (rank + 5) for rank in range(len(keys))]
    with sessions.begin() as session:
        session.execute(insert(RoleSpecRow), [
            {"role_id": f"r-{i:04d}", "spec": {"role_id": f"r-{i:04d}", "status": "open", "title": f"Role {i}"},
             "status": "open", "owner": f"owner{i % 50}@example.com", "deleted": False, "revision": i + 1,
             "updated_at": NOW} for i in range(1000)])
    for start in range(0, n_candidates, 20_000):
        candidates, skill_rows, places = [], [], []
        for i in range(start, min(n_candidates, start + 20_000)):
            cid = f"c-{i:07d}"
            city = CITIES[i % len(CITIES)]
            candidates.append({"candidate_id": cid, "view": {"profile": {"name": f"Person {i}", "location": city},
                                                             "facts": {}},
                               "city": city, "do_not_contact": False, "readiness": round(rng.random(), 3),
                               "readiness_reasons": [], "updated_at": NOW})
            for skill in set(rng.choices(keys, weights, k=3)):
                skill_rows.append({"candidate_id": cid, "skill": skill, "origin": "profile:linkedin",
                                   "evidence": "bench", "source_event_id": "bench", "first_seen_at": NOW})
            places.append({"candidate_id": cid, "place": city})
        with sessions.begin() as session:
            session.execute(insert(Candidate), candidates)
            session.execute(insert(CandidateSkill), skill_rows)
            session.execute(insert(CandidatePlace), places)
    pairs: set[tuple[int, int]] = set()  # (role, candidate) without repeats
    while len(pairs) < n_leads:
        pairs.add((rng.randrange(1000), rng.randrange(n_candidates)))
    ordered = sorted(pairs)
    for start in range(0, n_leads, 20_000):
        leads, alerts, states = [], [], []
        for role, candidate in ordered[start:start + 20_000]:
            role_id, cid = f"r-{role:04d}", f"c-{candidate:07d}"
            p = role * n_candidates + candidate
            created = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
            alert_id = f"al-{p}"
            status = rng.choice(STATUSES)
            leads.append({"role_id": role_id, "candidate_id": cid, "status": status, "furthest": 0,
                          "created_at": created, "first_alert_id": alert_id, "first_signals": ["new_skill"],
                          "readiness_at_alert": 0.5, "updated_at": created})
            alerts.append({"alert_id": alert_id, "type": "match.alert", "role_id": role_id, "candidate_id": cid,
                           "created_at": created, "payload": {"alert_id": alert_id, "fit": 0.8, "readiness": 0.5,
                                                              "reasons": [{"kind": "change", "text": "new skill"}]}})
            states.append({"role_id": role_id, "candidate_id": cid, "relevant": True, "fit": 0.8, "readiness": 0.5,
                           "reasons": [], "transitions": 1, "last_alert_id": alert_id, "changed_at": created})
        with sessions.begin() as session:
            session.execute(insert(LeadRow), leads)
            session.execute(insert(AlertRow), alerts)
            session.execute(insert(MatchState), states)


def timed(fn, runs: int = 9) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


# -- the scans: the same answers from whole tables ---------------------------------------

def scan_inbox(sessions, status=None, role=None, owner=None, limit=50, skip=0):
    with sessions() as session:
        owners = dict(session.execute(select(RoleSpecRow.role_id, RoleSpecRow.owner)).all())
        leads = [r for r in session.execute(select(LeadRow.role_id, LeadRow.candidate_id, LeadRow.status,
                                                   LeadRow.created_at))
                 if (not status or r.status == status) and (not role or r.role_id == role)
                 and (not owner or owners.get(r.role_id) == owner)]
    leads.sort(key=lambda r: (r.created_at, r.role_id, r.candidate_id), reverse=True)
    return [(r.role_id, r.candidate_id) for r in leads[skip:skip + limit]]


def scan_search(sessions, skill=None, place=None, min_readiness=None, role=None, limit=50):
    with sessions() as session:
        with_skill = None if not skill else {c for c, s in session.execute(
            select(CandidateSkill.candidate_id, CandidateSkill.skill)) if s == skill}
        in_place = None if not place else {c for c, p in session.execute(
            select(CandidatePlace.candidate_id, CandidatePlace.place)) if p == place}
        relevant = None if not role else {c for r, c, rel in session.execute(
            select(MatchState.role_id, MatchState.candidate_id, MatchState.relevant)) if r == role and rel}
        found = [c for c, readiness in session.execute(select(Candidate.candidate_id, Candidate.readiness))
                 if (with_skill is None or c in with_skill) and (in_place is None or c in in_place)
                 and (relevant is None or c in relevant) and (min_readiness is None or readiness >= min_readiness)]
    return sorted(found)[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'triage.db'}"
    print(machine_line(f"{args.candidates:,} candidates, {args.leads:,} leads, {url.split(':')[0]}"), flush=True)
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    started = time.perf_counter()
    build(sessions, args.candidates, args.leads, random.Random(20261201))
    print(f"store built in {time.perf_counter() - started:.0f} s", flush=True)
    page20 = None
    cursor = None
    for _ in range(20):
        cursor = triage.inbox(sessions, "new", None, None, cursor, 50)["next_cursor"]
    page20 = cursor
    common, rare = skills()[0], skills()[300]
    reads = [
        ("inbox: new, first page of 50", lambda: triage.inbox(sessions, "new", limit=50),
         lambda: scan_inbox(sessions, "new")),
        ("inbox: new, page 21 (cursor)", lambda: triage.inbox(sessions, "new", cursor=page20, limit=50),
         lambda: scan_inbox(sessions, "new", skip=1000)),
        ("inbox: one owner's new leads", lambda: triage.inbox(sessions, "new", owner="owner7@example.com"),
         lambda: scan_inbox(sessions, "new", owner="owner7@example.com")),
        ("a role's leads, any status", lambda: triage.inbox(sessions, None, role_id="r-0042"),
         lambda: scan_inbox(sessions, None, role="r-0042")),
        (f"search: skill {common} (common)", lambda: triage.search_candidates(sessions, skill=common),
         lambda: scan_search(sessions, skill=common)),
        (f"search: skill {rare} (rare)", lambda: triage.search_candidates(sessions, skill=rare),
         lambda: scan_search(sessions, skill=rare)),
        (f"search: {common} in lisbon, readiness >= 0.8",
         lambda: triage.search_candidates(sessions, skill=common, place="Lisbon", min_readiness=0.8),
         lambda: scan_search(sessions, skill=common, place="lisbon", min_readiness=0.8)),
        ("search: relevant for r-0042", lambda: triage.search_candidates(sessions, role_id="r-0042"),
         lambda: scan_search(sessions, role="r-0042")),
    ]
    print(f"\n{'read':<44} {'indexed ms':>11} {'scan ms':>10} {'scan / indexed':>15}  same answer")
    for name, indexed, scan in reads:
        fast, got = timed(indexed)
        slow, expected = timed(scan, runs=1)
        rows = got["leads"] if "leads" in got else got["candidates"]
        keys = [(r["role_id"], r["candidate_id"]) if "role_id" in r else r["candidate_id"] for r in rows]
        print(f"{name:<44} {fast:>11.1f} {slow:>10.0f} {slow / fast:>14.0f}x  {keys == expected}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
