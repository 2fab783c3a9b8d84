"""Whole per-event cost of a candidate event through the real pipeline, against catalogue size.

    python benchmarks/pipeline_cost.py [--quick] [--database-url URL]

For catalogues of 100, 1,000 and 10,000 saved roles, in one run, each in a fresh store (a new
SQLite file in a temp dir per size, unless --database-url names an EMPTY PostgreSQL database,
which then holds one size at a time and is emptied between sizes):

1. the role specs go in as role-specs events through Pipeline.process, 500 per batch (every
   catalogue is the first roles of the largest one);
2. warm-up, untimed: N candidates' first linkedin snapshots (8-25 skills drawn Zipf-like, two
   positions, location, years), 200 per batch; these already raise alerts;
3. timed: two disjoint sets (A, B) of later linkedin snapshots, one per candidate, each adding one
   skill the candidate lacked, 200 per batch (the worker's batch size). Each batch is one
   Pipeline.process call: decode, idempotency check, context load, signals, matching, match-state
   writes, outbox, commit. Each size runs in its own forked process (no size pays for another's
   heap); on SQLite each batch goes through all three, one at a time, before the next batch, so
   background load on the machine weighs on every size alike. Logging is on at INFO, as in the
   worker, written to /dev/null.

Candidates and events are the same at every size. No Kafka and no relay: this is the processing
cost alone (benchmarks/throughput.py measures the service end to end). Nothing is asserted: the
numbers depend on the machine, the ratios against the 100-role row are the point.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import (  # noqa: E402  (benchmarks/, the script's own folder)
    COMPANIES,
    INDUSTRIES,
    LOCATIONS,
    NOW,
    ROLE_PLACES,
    SEED,
    SKILL_KEYS,
    ZIPF_OFFSET,
    pick_skills,
)
from sqlalchemy import func, inspect, select, text  # noqa: E402
from timing import machine_line  # noqa: E402

from services.adapters.kafka.records import RawRecord  # noqa: E402
from services.adapters.store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from services.adapters.store.loaders import load_contexts  # noqa: E402
from services.adapters.store.models import Base, Candidate, MatchState, RoleSpecRow  # noqa: E402
from services.app.pipeline import BatchResult, Pipeline  # noqa: E402
from services.config import TOPICS  # noqa: E402
from services.domain.matcher import evaluate_candidate  # noqa: E402
from services.domain.taxonomy import SKILLS_FILE  # noqa: E402
from services.logs import configure_logging  # noqa: E402

SIZES = [100, 1_000, 10_000]
ROLE_BATCH = 500
CANDIDATE_BATCH = 200  # the worker's batch size
# The synthetic world of benchmarks/matching.py (skills, places, companies, industries).
SKILL_NAMES = {s["key"]: s["name"] for s in json.loads(SKILLS_FILE.read_text(encoding="utf-8"))[:len(SKILL_KEYS)]}
LEVELS = ["junior", "mid", "senior", "lead", "staff", "principal", "manager", "director"]
TITLES = {"Junior Software Engineer": 12, "Software Engineer": 25, "Data Engineer": 10, "Senior Software Engineer": 22,
          "Senior Data Engineer": 8, "Tech Lead": 6, "Staff Engineer": 6, "Principal Engineer": 3,
          "Engineering Manager": 6, "Director of Engineering": 2}


@dataclass(frozen=True)
class Plan:
    candidates: int  # warm-up snapshots, one per candidate
    timed_set: int   # events in each of the two timed sets (A, B)

FULL = Plan(candidates=6_000, timed_set=3_000)
QUICK = Plan(candidates=1_200, timed_set=600)


# --- synthetic events (each a pure function of its number) -------------------------------------

def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def role_spec(number: int) -> dict:
    """A role-specs message: 2-4 must-haves by display name, as matching.synthetic_role draws them."""
    rng = random.Random(f"{SEED}-role-{number}")
    must_have = pick_skills(rng, rng.randint(2, 4))
    first_level = rng.randrange(len(LEVELS) - 2)
    return {
        "event_id": f"rs-{number}", "role_id": f"r-{number:05d}", "title": "Engineer", "owner": "lead@example.com",
        "status": "open" if rng.random() < 0.9 else rng.choice(["paused", "closed"]),
        "must_have": [SKILL_NAMES[k] for k in must_have],
        "nice_to_have": [SKILL_NAMES[k] for k in pick_skills(rng, rng.randint(0, 4), exclude=tuple(must_have))],
        "seniority": [] if rng.random() < 0.4 else LEVELS[first_level:first_level + rng.randint(1, 3)],
        "min_years": rng.choice([None, None, 2, 3, 5, 8]),
        "locations": [] if rng.random() < 0.3 else rng.sample(ROLE_PLACES, rng.randint(1, 2)),
        "remote": rng.random() < 0.3,
        "domains": [] if rng.random() < 0.7 else [rng.choice(INDUSTRIES)],
        "exclude_companies": [] if rng.random() < 0.8 else rng.sample(COMPANIES, 2),
        "threshold": round(rng.uniform(0.6, 0.8), 2),
    }


def candidate(number: int) -> tuple[dict, list[str]]:
    """A candidate's first linkedin snapshot and its skill keys."""
    rng = random.Random(f"{SEED}-candidate-{number}")
    started = NOW - timedelta(days=rng.randint(60, 2200))
    before = started - timedelta(days=rng.randint(300, 1500))
    title = rng.choices(list(TITLES), list(TITLES.values()))[0]
    skills = pick_skills(rng, rng.randint(8, 25))
    profile = {
        "name": f"Candidate {number}", "headline": title, "location": rng.choice(LOCATIONS),
        "open_to_work": rng.random() < 0.15, "years_experience": round(rng.uniform(0, 25), 1),
        "skills": [SKILL_NAMES[k] for k in skills],
        "positions": [
            {"title": title, "company": rng.choice(COMPANIES), "industry": rng.choice(INDUSTRIES),
             "start": started.strftime("%Y-%m"), "end": None, "direct_reports": rng.choice([None, 0, 3, 6])},
            {"title": "Software Engineer", "company": rng.choice(COMPANIES), "industry": rng.choice(INDUSTRIES),
             "start": before.strftime("%Y-%m"), "end": started.strftime("%Y-%m")},
        ],
    }
    if rng.random() < 0.02:
        profile["do_not_contact"] = True
    event = {"event_id": f"first-{number}", "candidate_id": f"c-{number:07d}", "source": "linkedin",
             "occurred_at": iso(NOW - timedelta(days=rng.randint(20, 90))), "profile": profile}
    return event, skills


def follow_up(number: int) -> dict:
    """The candidate's next linkedin snapshot: the same profile plus one skill it lacked."""
    event, skills = candidate(number)
    [new_skill] = pick_skills(random.Random(f"{SEED}-follow-{number}"), 1, exclude=tuple(skills))
    profile = {**event["profile"], "skills": event["profile"]["skills"] + [SKILL_NAMES[new_skill]]}
    return {**event, "event_id": f"next-{number}", "occurred_at": iso(NOW - timedelta(days=1)), "profile": profile}


def records(topic: str, key_field: str, events: list[dict]) -> list[RawRecord]:
    """The events as the worker consumes them (keyed right, increasing offsets)."""
    return [RawRecord(topic=TOPICS.physical(topic), partition=0, offset=offset, key=e[key_field].encode(),
                      value=json.dumps(e).encode()) for offset, e in enumerate(events)]


def batches(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


# --- one catalogue size, in its own process --------------------------------------------------------

@dataclass
class Phase:
    events: int = 0
    seconds: float = 0.0
    result: BatchResult = field(default_factory=BatchResult)

    @property
    def ms_per_event(self) -> float:
        return self.seconds / self.events * 1e3

    def per_event(self, name: str) -> float:
        return getattr(self.result, name) / self.events

    def add(self, other: "Phase") -> None:
        self.events += other.events
        self.seconds += other.seconds
        self.result.add(other.result)


@dataclass
class SizeRun:
    """What one size measured (sent back from its process)."""
    roles: int
    load_roles: Phase = field(default_factory=Phase)
    warm_up: Phase = field(default_factory=Phase)
    timed: list[Phase] = field(default_factory=lambda: [Phase(), Phase()])  # set A, set B
    pairs_per_candidate: float = 0.0
    relevant_per_candidate: float = 0.0
    evaluated_per_event: float = 0.0

    @property
    def timed_total(self) -> Phase:
        total = Phase()
        for phase in self.timed:
            total.add(phase)
        return total


@contextlib.contextmanager
def logs_discarded():
    """The pipeline logs JSON lines to sys.stderr as it is at the time: send them to /dev/null."""
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            yield
        finally:
            sys.stderr = saved


def process(pipeline: Pipeline, batch: list[RawRecord], phase: Phase) -> None:
    """One timed Pipeline.process call, added to `phase`."""
    start = time.perf_counter()
    result = pipeline.process(batch)
    phase.add(Phase(len(batch), time.perf_counter() - start, result))


def run_phase(pipeline: Pipeline, record_batches: list[list[RawRecord]]) -> Phase:
    phase = Phase()
    with logs_discarded():
        for batch in record_batches:
            process(pipeline, batch, phase)
    return phase


def timed_sets(plan: Plan) -> list[list[list[RawRecord]]]:
    """Sets A and B: batches of follow-up snapshots, one per candidate, disjoint candidates."""
    sets = []
    for set_number in range(2):
        numbers = range(set_number * plan.timed_set, (set_number + 1) * plan.timed_set)
        sets.append(batches(records("profile-events", "candidate_id", [follow_up(n) for n in numbers]),
                            CANDIDATE_BATCH))
    return sets


def prepare(pipeline: Pipeline, run: SizeRun, plan: Plan) -> None:
    """Phases 1 and 2: the roles, then the warm-up candidates."""
    roles = records("role-specs", "role_id", [role_spec(n) for n in range(run.roles)])
    run.load_roles = run_phase(pipeline, batches(roles, ROLE_BATCH))
    first = records("profile-events", "candidate_id", [candidate(n)[0] for n in range(plan.candidates)])
    run.warm_up = run_phase(pipeline, batches(first, CANDIDATE_BATCH))
    with pipeline.sessions.begin() as session:
        if session.bind.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))  # fresh tables: give the planner statistics
    run.pairs_per_candidate, run.relevant_per_candidate = store_counts(pipeline.sessions, plan.candidates)


def serve(conn, url: str, size: int, plan: Plan) -> None:
    """The process of one size: prepare its store, then time the batches it is sent, by
    (set, index), until None; then send back its SizeRun."""
    upgrade(url)
    engine = make_engine(url)
    pipeline = Pipeline(make_session_factory(engine), clock=lambda: NOW)
    run = SizeRun(size)
    prepare(pipeline, run, plan)
    sets = timed_sets(plan)
    conn.send("ready")
    with logs_discarded():
        while (order := conn.recv()) is not None:
            set_number, index = order
            process(pipeline, sets[set_number][index], run.timed[set_number])
            conn.send("done")
    run.evaluated_per_event = evaluated_per_event(pipeline, [f"c-{n:07d}" for n in range(2 * plan.timed_set)])
    engine.dispose()
    conn.send(run)


def store_counts(sessions, candidate_count: int) -> tuple[float, float]:
    """(match-state rows, relevant pairs) per candidate."""
    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(MatchState))
        relevant = session.scalar(select(func.count()).select_from(MatchState).where(MatchState.relevant))
    return rows / candidate_count, relevant / candidate_count


def evaluated_per_event(pipeline: Pipeline, candidate_ids: list[str]) -> float:
    """Roles a timed event had scored, recounted afterwards from the stored state (untimed), with
    the pipeline's own evaluate_candidate: the index's roles that pass the hard constraints,
    plus the pairs relevant now."""
    total = 0
    with pipeline.sessions() as session:
        for context in load_contexts(session, candidate_ids).values():
            total += len(evaluate_candidate(pipeline.roles, context.matcher_facts, context.relevant_roles(), NOW))
    return total / len(candidate_ids)


# --- driving the sizes ---------------------------------------------------------------------------

class SizeProcess:
    """A forked process serving one size (separate heaps: no size pays for another's GC).
    Starting one waits until its store is prepared, so preparations never overlap."""

    def __init__(self, url: str, size: int, plan: Plan):
        began = time.perf_counter()
        self.size = size
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=serve, args=(child, url, size, plan), name=f"pipeline-cost-{size}")
        self.process.start()
        self.receive()
        print(f"   {size:,} roles: store ready in {time.perf_counter() - began:.0f}s", flush=True)

    def receive(self):
        try:
            return self.conn.recv()
        except EOFError:
            sys.exit(f"the {self.size:,}-role process failed (its traceback is above)")

    def run_batch(self, set_number: int, index: int) -> None:
        self.conn.send((set_number, index))
        self.receive()

    def result(self) -> SizeRun:
        self.conn.send(None)
        run = self.receive()
        self.process.join()
        return run


def time_interleaved(sizes: list[SizeProcess], plan: Plan) -> list[SizeRun]:
    """Phase 3: each batch goes through every size (one process at a time, in a rotating order)
    before the next batch, so load that comes and goes on the machine weighs on every size alike."""
    batch_count = -(-plan.timed_set // CANDIDATE_BATCH)
    for set_number in range(2):
        for index in range(batch_count):
            turn = index % len(sizes)
            for size in sizes[turn:] + sizes[:turn]:
                size.run_batch(set_number, index)
    return [size.result() for size in sizes]


def refuse_non_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        if inspect(engine).has_table("candidates"):
            with engine.connect() as conn:
                if any(conn.scalar(select(func.count()).select_from(t)) for t in (Candidate, RoleSpecRow)):
                    sys.exit(f"refusing to use a non-empty database: {engine.url!r}")
    finally:
        engine.dispose()


def empty_database(url: str) -> None:
    """Remove what the previous size wrote (only from the database the user named as scratch)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("TRUNCATE " + ", ".join(t.name for t in Base.metadata.sorted_tables) + " CASCADE")
        conn.commit()
    engine.dispose()


def run_all(database_url: Optional[str], plan: Plan) -> list[SizeRun]:
    """SQLite: one file per size, prepared in turn and kept open, timed batches interleaved.
    PostgreSQL: the one scratch database holds one size at a time, so sizes run in turn."""
    if database_url:
        runs = []
        for size in SIZES:
            if runs:
                empty_database(database_url)
            runs += time_interleaved([SizeProcess(database_url, size, plan)], plan)
        return runs
    with tempfile.TemporaryDirectory(prefix="pipeline-cost-") as tmp:
        return time_interleaved([SizeProcess(f"sqlite:///{tmp}/radar-{size}.db", size, plan) for size in SIZES], plan)


# --- output --------------------------------------------------------------------------------------

def warn_if_unprocessed(runs: list[SizeRun]) -> None:
    for run in runs:
        for name, phase in (("role", run.load_roles), ("warm-up", run.warm_up), ("timed", run.timed_total)):
            if phase.result.processed != phase.events:
                print(f"   warning: {run.roles:,} roles, {name}: {phase.events - phase.result.processed} of"
                      f" {phase.events:,} events not processed ({phase.result.dead_letters} dead letters,"
                      f" {phase.result.stale} stale, {phase.result.duplicates} duplicates)")


def print_table(runs: list[SizeRun]) -> None:
    header = (f"{'roles':>7} {'ms/event':>9} {'vs 100 roles':>13} {'set A ms':>9} {'set B ms':>9}"
              f" {'alerts/ev':>10} {'withdrawn/ev':>13} {'signals/ev':>11} {'evaluated/ev':>13}"
              f" {'pairs/cand':>11} {'relevant/cand':>14} {'warm-up ms/ev':>14} {'role ev ms':>11}")
    print("\n" + header + "\n" + "-" * len(header))
    baseline = runs[0].timed_total.ms_per_event
    for run in runs:
        total = run.timed_total
        print(f"{run.roles:>7,} {total.ms_per_event:>9.2f} {total.ms_per_event / baseline:>12.2f}x"
              f" {run.timed[0].ms_per_event:>9.2f} {run.timed[1].ms_per_event:>9.2f}"
              f" {total.per_event('alerts'):>10.3f} {total.per_event('withdrawals'):>13.3f}"
              f" {total.per_event('signals'):>11.2f} {run.evaluated_per_event:>13.2f}"
              f" {run.pairs_per_candidate:>11.2f} {run.relevant_per_candidate:>14.2f}"
              f" {run.warm_up.ms_per_event:>14.2f} {run.load_roles.ms_per_event:>11.2f}")

LEGEND = """
legend
  ms/event        timed wall time per candidate event (sets A and B together), mean over {timed:,} events in
                  batches of {batch}; each batch one Pipeline.process call, commit included; on SQLite the
                  batches are interleaved across the three sizes (each size in its own process)
  vs 100 roles    ms/event relative to the 100-role row (the aim: within 2x at 10,000 roles)
  set A / set B   the same, per disjoint set of {per_set:,} events (a check on the noise)
  alerts/ev, withdrawn/ev, signals/ev   match.alert / match.withdrawn / signals written per timed event
  evaluated/ev    roles scored per timed event (index lookup + cheap hard-constraint check, plus the pairs
                  relevant now), recounted afterwards from the stored state
  pairs/cand      match_state rows per candidate before the timed events (loaded with each candidate's context)
  relevant/cand   of those, pairs relevant then
  warm-up ms/ev   the first snapshots ({candidates:,} candidates), untimed phase, for reference
  role ev ms      a role-specs event while no candidate is stored yet (catalogue loading), for reference
  data            skills Zipf-like, weight 1/(rank + {offset}) over the first {keys} skills of the taxonomy
                  (benchmarks/matching.py); roles 2-4 must-haves, 90% open; every catalogue is a prefix of
                  the 10,000-role one; the same candidates and events at every size"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer candidates and events (under a minute)")
    parser.add_argument("--database-url", help="an EMPTY scratch PostgreSQL database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    began = time.perf_counter()
    plan = QUICK if args.quick else FULL
    if args.database_url:
        refuse_non_empty(args.database_url)
    configure_logging("INFO")
    database = make_engine(args.database_url).dialect.name if args.database_url else "sqlite"
    print(machine_line(f"{database}; seed {SEED}" + (", --quick" if args.quick else "")))
    print(f"{plan.candidates:,} candidates, 2 x {plan.timed_set:,} timed candidate events per size", flush=True)
    runs = run_all(args.database_url, plan)
    warn_if_unprocessed(runs)
    print_table(runs)
    print(LEGEND.format(timed=2 * plan.timed_set, batch=CANDIDATE_BATCH, per_set=plan.timed_set,
                        candidates=plan.candidates, offset=ZIPF_OFFSET, keys=len(SKILL_KEYS)))
    print(f"\ntotal runtime {time.perf_counter() - began:.0f}s")

if __name__ == "__main__":
    main()
