"""Matching cost against catalogue size, printed as ratios measured in the same run.

    python benchmarks/matching.py [--quick] [--database-url URL]

1. Candidate event: evaluate_candidate (RoleIndex.candidate_roles, the hard constraints as one
   boolean, fit for the roles that pass), against evaluate on every role, for synthetic
   catalogues of 100, 1,000 and 10,000 roles.
2. Role event: queries.candidates_for_role + load_facts + evaluate, against reading every
   stored candidate, for 10k, 100k and (full run) 1M candidates in a scratch database
   (SQLite in a temp dir unless --database-url names an EMPTY PostgreSQL database).

Nothing is asserted: the numbers depend on the machine, the ratios are the point.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, inspect, select  # noqa: E402
from timing import best_of, machine_line  # noqa: E402  (benchmarks/, the script's own folder)

from schemas import RoleSpec  # noqa: E402
from services.adapters.store import queries  # noqa: E402
from services.adapters.store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from services.adapters.store.loaders import chunks, load_facts  # noqa: E402
from services.adapters.store.models import Candidate, CandidatePlace, CandidateSkill  # noqa: E402
from services.domain.matcher import (  # noqa: E402
    ANY_LEVEL,
    CandidateFacts,
    Role,
    RoleIndex,
    SkillFact,
    evaluate,
    evaluate_candidate,
)
from services.domain.places import city_of, indexed_places  # noqa: E402
from services.domain.taxonomy import SKILLS_FILE  # noqa: E402

SEED = 20261201
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ZIPF_OFFSET = 5  # Zipf-Mandelbrot: weight 1/(rank + 5), so the top skill is in about half the profiles
SKILL_KEYS = [s["key"] for s in json.loads(SKILLS_FILE.read_text(encoding="utf-8"))][:600]
CUM_WEIGHTS = list(itertools.accumulate(1 / (rank + ZIPF_OFFSET) for rank in range(1, len(SKILL_KEYS) + 1)))
LOCATIONS = ["Lisbon, Portugal", "Porto, Portugal", "Berlin, Germany", "Munich, Germany", "London, UK",
             "Amsterdam, Netherlands", "Paris, France", "Madrid, Spain", "Warsaw, Poland", "New York, USA",
             "San Francisco, USA", "Toronto, Canada", "Bangalore, India"]
ROLE_PLACES = ["Lisbon", "Berlin", "London", "Amsterdam", "New York", "Germany", "Portugal", "USA"]
LEVELS = ["junior", "mid", "senior", "staff", "principal", "manager", "director"]
LEVEL_WEIGHTS = [15, 30, 30, 8, 4, 8, 5]
INDUSTRIES = ["fintech", "healthtech", "e-commerce", "gaming", "saas", "logistics", "media", "adtech"]
COMPANIES = [f"Company {i}" for i in range(300)]
EVIDENCE = "linkedin profile (synthetic)"
LOAD_BATCH = 20_000  # candidates per executemany batch (about 12x as many skill rows)


# --- synthetic data -------------------------------------------------------------------

def pick_skills(rng: random.Random, count: int, exclude: tuple[str, ...] = ()) -> list[str]:
    """`count` distinct skill keys drawn by Zipf-like popularity, in draw order."""
    picked: dict[str, None] = {}
    while len(picked) < count:
        picked.update(dict.fromkeys(s for s in rng.choices(SKILL_KEYS, cum_weights=CUM_WEIGHTS, k=count)
                                    if s not in exclude))
    return list(picked)[:count]


def synthetic_candidate(rng: random.Random, number: int, skill_count: tuple[int, int]) -> dict:
    return {
        "candidate_id": f"c-{number:07d}",
        "skills": {s: NOW - timedelta(days=rng.randint(0, 1500)) for s in pick_skills(rng, rng.randint(*skill_count))},
        "company": rng.choice(COMPANIES), "industry": rng.choice(INDUSTRIES),
        "seniority": rng.choices(LEVELS, LEVEL_WEIGHTS)[0], "location": rng.choice(LOCATIONS),
        "years_experience": round(rng.uniform(0, 25), 1), "do_not_contact": rng.random() < 0.02,
    }


def as_facts(c: dict) -> CandidateFacts:
    return CandidateFacts(
        candidate_id=c["candidate_id"],
        skills={s: SkillFact("profile:linkedin", EVIDENCE, seen) for s, seen in c["skills"].items()},
        company=c["company"], seniority=c["seniority"], location=c["location"],
        years_experience=c["years_experience"], industry=c["industry"], do_not_contact=c["do_not_contact"],
    )


def synthetic_role(rng: random.Random, number: int, status: str | None = None) -> Role:
    must_have = pick_skills(rng, rng.randint(2, 4))
    first_level = rng.randrange(5)
    return Role.from_spec(RoleSpec(
        role_id=f"r-{number:05d}", title="Engineer",
        status=status or ("open" if rng.random() < 0.9 else rng.choice(["paused", "closed"])),
        must_have=must_have, nice_to_have=pick_skills(rng, rng.randint(0, 4), exclude=tuple(must_have)),
        seniority=[] if rng.random() < 0.4 else LEVELS[first_level:first_level + rng.randint(1, 3)],
        min_years=rng.choice([None, None, 2, 3, 5, 8]),
        locations=[] if rng.random() < 0.3 else rng.sample(ROLE_PLACES, rng.randint(1, 2)),
        remote=rng.random() < 0.3,
        domains=[] if rng.random() < 0.7 else [rng.choice(INDUSTRIES)],
        exclude_companies=[] if rng.random() < 0.8 else rng.sample(COMPANIES, 2),
        threshold=round(rng.uniform(0.6, 0.8), 2),
    ))


def edge_roles() -> dict[str, Role]:
    """Hand-made roles that stress the role-event path."""
    def role(name: str, **spec) -> Role:
        return Role.from_spec(RoleSpec(role_id=f"edge-{name}", status="open", title="Edge", **spec))
    top, second = SKILL_KEYS[:2]
    return {
        f"must {top}": role("top", must_have=[top]),
        f"must {top} + {second}": role("top2", must_have=[top, second]),
        f"must {SKILL_KEYS[400]} + {SKILL_KEYS[500]}": role("rare", must_have=[SKILL_KEYS[400], SKILL_KEYS[500]]),
        "no must-have, Lisbon on-site": role("lisbon", locations=["Lisbon"], remote=False),
        "no must-have, Germany on-site": role("germany", locations=["Germany"], remote=False),
        "no must-have, remote": role("remote", remote=True),
    }


# --- 1. candidate events against the role index ------------------------------------------

def fresh(cand: CandidateFacts) -> CandidateFacts:
    # The pipeline builds new facts for every event, so nothing derived from them
    # (company key, places, skill ages) may be carried over from an earlier pass.
    return replace(cand)


def indexed_candidate_events(index: RoleIndex, candidates: list[CandidateFacts]) -> None:
    # What the pipeline does per candidate event (with no relevant pair to leave).
    for cand in candidates:
        evaluate_candidate(index, fresh(cand), (), NOW)


def candidate_lookups(index: RoleIndex, candidates: list[CandidateFacts]) -> None:
    for cand in candidates:
        index.candidate_roles(fresh(cand).skills, cand.seniority)


def brute_candidate_events(roles: list[Role], candidates: list[CandidateFacts]) -> None:
    for cand in candidates:
        facts = fresh(cand)
        for role in roles:
            evaluate(role, facts, NOW)


def explain_alerts(verdicts: list) -> None:
    for verdict in verdicts:
        verdict.__dict__.pop("reasons", None)
        verdict.reasons


def postings_scanned(index: RoleIndex, cand: CandidateFacts) -> int:
    # Reads the index's private postings, only to explain where the time goes.
    levels = (ANY_LEVEL, cand.seniority) if cand.seniority else (ANY_LEVEL,)
    return sum(len(index._postings.get((s, level), ())) for s in [None, *cand.skills] for level in levels)


def bench_candidate_events(sizes: list[int], candidate_count: int, brute_evaluations: int) -> None:
    rng = random.Random(SEED)
    candidates = [as_facts(synthetic_candidate(rng, i, (8, 25))) for i in range(candidate_count)]
    catalogue = [synthetic_role(rng, i) for i in range(max(sizes))]
    top_share = sum(SKILL_KEYS[0] in c.skills for c in candidates) / len(candidates)
    print(f"\n1. CANDIDATE EVENT  ({candidate_count:,} candidates, 8-25 skills each, {top_share:.0%} have"
          f" {SKILL_KEYS[0]}; indexed = best of 3 passes)")
    header = (f"{'roles':>7} {'indexed us/ev':>14} {'(lookup us)':>12} {'brute us/ev':>12} {'brute/indexed':>14}"
              f" {'indexed vs 100':>15} {'lookup vs 100':>14} {'scanned/ev':>11} {'scored/ev':>10} {'relevant/ev':>12}"
              f" {'reasons us/alert':>17} {'brute timed on':>15}")
    print(header + "\n" + "-" * len(header))
    baseline = None
    for size in sizes:
        roles = catalogue[:size]
        index = RoleIndex()
        for role in roles:
            index.upsert(role)
        indexed = best_of(3, lambda: indexed_candidate_events(index, candidates)) / len(candidates)
        lookup = best_of(3, lambda: candidate_lookups(index, candidates)) / len(candidates)
        sample = candidates[:max(20, min(len(candidates), brute_evaluations // size))]
        brute = best_of(1, lambda: brute_candidate_events(roles, sample)) / len(sample)
        baseline = baseline or (indexed, lookup)
        scanned = statistics.mean(postings_scanned(index, c) for c in candidates)
        verdicts = [evaluate_candidate(index, fresh(c), (), NOW) for c in candidates]
        relevant = [v for vs in verdicts for v in vs if v.relevant]
        reasons = best_of(3, lambda: explain_alerts(relevant)) / max(1, len(relevant))
        print(f"{size:>7,} {indexed * 1e6:>14.1f} {lookup * 1e6:>12.1f} {brute * 1e6:>12.1f} {brute / indexed:>13.1f}x"
              f" {indexed / baseline[0]:>14.2f}x {lookup / baseline[1]:>13.2f}x {scanned:>11.1f}"
              f" {statistics.mean(map(len, verdicts)):>10.2f} {len(relevant) / len(candidates):>12.2f}"
              f" {reasons * 1e6:>17.1f} {len(sample):>9,} cands")


# --- 2. role events against the candidate store -------------------------------------------

def candidate_row(c: dict) -> dict:
    profile = {"current": {"company": c["company"], "industry": c["industry"]}, "seniority": c["seniority"],
               "location": c["location"], "city": city_of(c["location"]),
               "years_experience": c["years_experience"], "skills": list(c["skills"])}
    return {"candidate_id": c["candidate_id"], "view": {"profile": profile, "facts": {}},
            "current_company": c["company"], "seniority": c["seniority"], "city": profile["city"],
            "years_experience": c["years_experience"], "do_not_contact": c["do_not_contact"],
            "readiness": 0.0, "readiness_reasons": [], "updated_at": NOW}


def skill_rows(c: dict) -> list[dict]:
    return [{"candidate_id": c["candidate_id"], "skill": s, "origin": "profile:linkedin", "evidence": EVIDENCE,
             "source_event_id": "bench-seed", "first_seen_at": seen} for s, seen in c["skills"].items()]


def load_candidates(url: str, rng: random.Random, start: int, stop: int) -> float:
    """Insert candidates number start..stop-1 with Core executemany; returns seconds taken."""
    began = time.perf_counter()
    engine = make_engine(url)
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        for batch_start in range(start, stop, LOAD_BATCH):
            numbers = range(batch_start, min(stop, batch_start + LOAD_BATCH))
            batch = [synthetic_candidate(rng, i, (6, 18)) for i in numbers]
            conn.execute(insert(Candidate.__table__), [candidate_row(c) for c in batch])
            conn.execute(insert(CandidateSkill.__table__), [row for c in batch for row in skill_rows(c)])
            conn.execute(insert(CandidatePlace.__table__), [{"candidate_id": c["candidate_id"], "place": place}
                                                            for c in batch for place in indexed_places(c["location"])])
            conn.commit()
        if not url.startswith("sqlite"):
            conn.exec_driver_sql("ANALYZE candidates")
            conn.exec_driver_sql("ANALYZE candidate_skills")
            conn.exec_driver_sql("ANALYZE candidate_places")
            conn.commit()
    engine.dispose()
    return time.perf_counter() - began


def evaluate_candidates(session, role: Role, candidate_ids: list[str]) -> None:
    # As the pipeline's role path does it: plain-row facts, chunked.
    for part in chunks(candidate_ids):
        for facts in load_facts(session, part, only_skills=role.wanted).values():
            evaluate(role, facts, NOW)


def indexed_role_event(session_factory, role: Role) -> tuple[float, float, int]:
    """(query seconds, total seconds, candidates touched) for one role event, as the pipeline does it."""
    with session_factory() as session:
        start = time.perf_counter()
        candidate_ids = queries.candidates_for_role(session, role)
        queried = time.perf_counter()
        evaluate_candidates(session, role, candidate_ids)
        return queried - start, time.perf_counter() - start, len(candidate_ids)


def brute_role_event(session_factory, role: Role, limit: int) -> tuple[float, int]:
    """Seconds to read (up to `limit`) stored candidates with their skills and evaluate each."""
    with session_factory() as session:
        start = time.perf_counter()
        query = select(Candidate.candidate_id).order_by(Candidate.candidate_id).limit(limit)
        candidate_ids = list(session.scalars(query))
        for part in chunks(candidate_ids, 5_000):
            evaluate_candidates(session, role, part)
            session.expunge_all()
        return time.perf_counter() - start, len(candidate_ids)


def bench_role_events(url: str, sizes: list[int], role_count: int, brute_roles: int, brute_sample: int) -> None:
    engine = make_engine(url)
    if inspect(engine).has_table("candidates"):
        with engine.connect() as conn:
            if conn.scalar(select(func.count()).select_from(Candidate)):
                sys.exit(f"refusing to load into a non-empty database: {engine.url!r}")
    upgrade(url)
    session_factory = make_session_factory(engine)
    rng = random.Random(SEED + 1)
    roles = [synthetic_role(random.Random(SEED + 2 + i), i, status="open") for i in range(role_count)]
    results, edges, loaded = [], [], 0
    print(f"\n2. ROLE EVENT  ({engine.dialect.name}; {role_count} open synthetic roles; "
          "stored candidates have 6-18 skills each)")
    for size in sizes:
        load_seconds = load_candidates(url, rng, loaded, size)
        with session_factory() as session:
            skill_count = session.scalar(select(func.count()).select_from(CandidateSkill))
        print(f"   loaded {size - loaded:,} candidates in {load_seconds:.1f}s ({skill_count:,} skill rows in total)")
        loaded = size
        indexed = [indexed_role_event(session_factory, role) for role in roles]
        grouped = [grouped_query_seconds(session_factory, role) for role in roles if role.must_have]
        brute = [brute_role_event(session_factory, role, brute_sample) for role in roles[:brute_roles]]
        per_candidate = sum(s for s, _ in brute) / sum(n for _, n in brute)
        results.append((size, indexed, per_candidate * size, brute[0][1], len(brute), grouped))
        edges.append((size, {name: role_query_only(session_factory, role, per_candidate)
                             for name, role in edge_roles().items()}))
    engine.dispose()
    print_role_table(results)
    print_edge_table(edges)


def grouped_query_seconds(session_factory, role: Role) -> float:
    """The role query before rarest-first (the baseline): every holder of every must-have,
    grouped by candidate, kept when it holds them all; with the same column filters."""
    with session_factory() as session:
        start = time.perf_counter()
        holders = (select(CandidateSkill.candidate_id).where(CandidateSkill.skill.in_(role.must_have))
                   .group_by(CandidateSkill.candidate_id).having(func.count() == len(role.must_have)))
        query = select(Candidate.candidate_id).where(Candidate.do_not_contact.is_(False),
                                                     Candidate.candidate_id.in_(holders))
        if role.seniority:
            query = query.where(Candidate.seniority.in_(sorted(role.seniority)))
        if role.min_years is not None:
            query = query.where(Candidate.years_experience >= role.min_years)
        list(session.scalars(query.order_by(Candidate.candidate_id)))
        return time.perf_counter() - start


def role_query_only(session_factory, role: Role, per_candidate: float) -> tuple[float, int, float]:
    """(query seconds, touched, estimated full event seconds) without loading every touched candidate."""
    with session_factory() as session:
        start = time.perf_counter()
        touched = len(queries.candidates_for_role(session, role))
        query = time.perf_counter() - start
    return query, touched, query + touched * per_candidate


def print_role_table(results) -> None:
    header = (f"{'candidates':>11} {'indexed ms/ev':>14} {'(query ms)':>11} {'(grouped query ms, before)':>27}"
              f" {'max ms':>9} {'touched/ev':>11}"
              f" {'max touched':>12} {'brute ms/ev':>12} {'brute/indexed':>14} {'indexed vs 10k':>15}  brute basis")
    print("\n" + header + "\n" + "-" * (len(header) + 30))
    baseline = None
    for size, indexed, brute_seconds, sampled, brute_roles, grouped in results:
        mean_total = statistics.mean(total for _, total, _ in indexed)
        baseline = baseline or mean_total
        basis = (f"{brute_roles} role(s) x all {sampled:,}" if sampled == size
                 else f"{brute_roles} role(s) x first {sampled:,}, extrapolated x{size / sampled:g}")
        print(f"{size:>11,} {mean_total * 1e3:>14.1f} {statistics.mean(q for q, _, _ in indexed) * 1e3:>11.1f}"
              f" {statistics.mean(grouped) * 1e3:>27.1f}"
              f" {max(t for _, t, _ in indexed) * 1e3:>9.1f} {statistics.mean(n for _, _, n in indexed):>11,.0f}"
              f" {max(n for _, _, n in indexed):>12,} {brute_seconds * 1e3:>12,.0f} {brute_seconds / mean_total:>13.1f}x"
              f" {mean_total / baseline:>14.2f}x  {basis}")


def print_edge_table(edges) -> None:
    names = list(edges[0][1])
    print("\n   edge-case roles: candidates_for_role alone (query ms / candidates touched / est. full event ms"
          " = query + touched x measured per-candidate load+evaluate cost)")
    header = f"{'role':>34} " + " ".join(f"{f'{size:,} candidates':>30}" for size, _ in edges)
    print(header + "\n" + "-" * len(header))
    for name in names:
        cells = []
        for _, by_name in edges:
            query, touched, full = by_name[name]
            cells.append(f"{query * 1e3:>8.1f} / {touched:>9,} / {full * 1e3:>8,.0f}")
        print(f"{name:>34} " + " ".join(f"{c:>30}" for c in cells))


# --- main ---------------------------------------------------------------------------------

LEGEND = """
legend
  us/ev, ms/ev     wall time per event (one candidate event / one role event), mean
  indexed          the production path: (1) evaluate_candidate on fresh facts ("lookup" = candidate_roles
                   alone); (2) candidates_for_role + load_facts + evaluate
  brute            evaluate against everything: every role (1); every stored candidate, read with the same
                   load_facts (2), so the ratio isolates the index. Brute force does not depend on the role,
                   so it is timed on fewer events (and, where said, on a sample of candidates, scaled linearly)
  brute/indexed    how many times cheaper the indexed path is at that size
  indexed vs 100 / vs 10k   indexed cost relative to the smallest size: 1.00x means flat with the catalogue
  scanned          roles read from the candidate's skills' posting lists (each checked for all must-haves)
  scored           roles that pass every hard constraint (each gets its fit computed)
  relevant         of those, the roles whose fit also reaches the threshold: the output of the event
  reasons          building an alert's words, paid only per alert (or when a relevant pair's score moves)
  touched          candidates returned by candidates_for_role (each loaded and evaluated)
  skill popularity Zipf-like, weight 1/(rank + {offset}) over the first {keys} keys of services/data/skills.json

  This is the matcher alone. The whole cost of a candidate event (store, signals, matching, outbox) at
  100 / 1,000 / 10,000 roles, with its ratio to 100 roles, is measured by benchmarks/pipeline_cost.py."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller run (about 2 minutes)")
    parser.add_argument("--database-url", help="an EMPTY scratch database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    began = time.perf_counter()
    print(machine_line(f"seed {SEED}" + (", --quick" if args.quick else "")))

    bench_candidate_events([100, 1_000, 10_000], candidate_count=500 if args.quick else 2_000,
                           brute_evaluations=250_000 if args.quick else 2_000_000)
    with tempfile.TemporaryDirectory(prefix="matching-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/matching.db"
        if args.quick:
            bench_role_events(url, [10_000, 100_000], role_count=20, brute_roles=2, brute_sample=20_000)
        else:
            bench_role_events(url, [10_000, 100_000, 1_000_000], role_count=50, brute_roles=2, brute_sample=100_000)
    print(LEGEND.format(offset=ZIPF_OFFSET, keys=len(SKILL_KEYS)))
    print(f"\ntotal runtime {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
