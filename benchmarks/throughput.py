"""End-to-end throughput and alert latency of `radar worker`, against a bare aiokafka loop.

    python benchmarks/throughput.py [--quick] [--database-url URL] [--workers N] [--partitions P]
                                    [--candidates N] [--soak-minutes M] [--profile FILE]

1. Starts its own single-node Kafka broker on a free port and a fresh store (SQLite in a temp
   dir unless --database-url names an EMPTY PostgreSQL database), preloaded through SQLAlchemy
   Core with 10,000 role specs and 100,000 candidates (--quick: 1,000 and 10,000), each with
   its linkedin snapshot, merged view, skills with evidence, and the match state of the pairs
   already relevant (so alerts only come from what the events change).
2. Baseline: a bare aiokafka loop on the same broker consumes N JSON messages, decodes each
   and produces it to another topic (acks=all).
3. Pipeline: --workers `radar worker` subprocesses (default 1) over --partitions partitions
   (default 3); after one warm-up event per partition (each worker has joined and loaded the
   role index), N profile snapshots that each add one new skill to an existing candidate,
   timed from the first produce until the last event is committed (processed_events), and
   until the outbox is relayed.
4. Latency: at half the measured pipeline rate, M snapshots, evenly paced, each giving a
   candidate the last missing must-have of a role it then meets; produce -> alert on
   match-alerts (matched by triggered_by). Then 200 more at 10 events/s (low load).
5. Memory: the workers' RSS after the run; with --soak-minutes, events at --soak-rate for that
   long first, sampled every minute. Exactly once: match-alerts is read back whole and its
   records counted against their distinct alert ids and the outbox's alerts.

--profile FILE samples the first worker with py-spy during one phase (--profile-phase).
Nothing is asserted: the numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import multiprocessing
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PREFIX = "bench-"
os.environ["RADAR_TOPIC_PREFIX"] = PREFIX  # read by schemas.TOPICS at import, here and in the worker

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from schemas import Profile, RoleSpec  # noqa: E402
from services.adapters.kafka.local_broker import LocalKafka, free_port  # noqa: E402
from services.adapters.kafka.topics import ensure_topics  # noqa: E402
from services.adapters.store.db import make_engine, upgrade  # noqa: E402
from services.adapters.store.models import (  # noqa: E402
    Candidate,
    CandidatePlace,
    CandidateSkill,
    MatchState,
    OutboxMessage,
    ProcessedEvent,
    ProfileSnapshot,
    RoleSpecRow,
)
from services.config import (
    TOPICS,
    Settings,  # noqa: E402
)
from services.domain.context import Facts, matcher_facts  # noqa: E402
from services.domain.matcher import CandidateFacts, Role, SkillFact, evaluate  # noqa: E402
from services.domain.places import indexed_places  # noqa: E402
from services.domain.profile import SourcedSnapshot, merge_snapshots  # noqa: E402
from services.domain.readiness import estimate  # noqa: E402
from services.domain.taxonomy import SKILLS_FILE  # noqa: E402
from services.domain.transitions import stable_id  # noqa: E402
from services.logs import configure_logging  # noqa: E402

SEED = 20261201
NOW = datetime.now(timezone.utc).replace(microsecond=0)
EVENT_AT = NOW.isoformat().replace("+00:00", "Z")
PARTITIONS = 3
ZIPF_OFFSET = 5  # weight 1/(rank + 5) over the first 600 skills, as in benchmarks/matching.py
SKILL_NAMES = {s["key"]: s["name"] for s in json.loads(SKILLS_FILE.read_text(encoding="utf-8"))[:600]}
SKILL_KEYS = list(SKILL_NAMES)
SKILL_KEY_OF = {name: key for key, name in SKILL_NAMES.items()}
CUM_WEIGHTS = list(itertools.accumulate(1 / (rank + ZIPF_OFFSET) for rank in range(1, len(SKILL_KEYS) + 1)))
LOCATIONS = ["Lisbon, Portugal", "Porto, Portugal", "Berlin, Germany", "Munich, Germany", "London, UK",
             "Amsterdam, Netherlands", "Paris, France", "Madrid, Spain", "Warsaw, Poland", "New York, USA",
             "San Francisco, USA", "Toronto, Canada", "Bangalore, India"]
ROLE_PLACES = ["Lisbon", "Berlin", "London", "Amsterdam", "New York", "Germany", "Portugal", "USA"]
TITLES = {"Junior Software Engineer": 12, "Software Engineer": 25, "Data Engineer": 10, "Senior Software Engineer": 22,
          "Senior Data Engineer": 8, "Tech Lead": 6, "Staff Engineer": 6, "Principal Engineer": 3,
          "Engineering Manager": 6, "Director of Engineering": 2}
LEVELS = ["junior", "mid", "senior", "lead", "staff", "principal", "manager", "director"]
INDUSTRIES = ["fintech", "healthtech", "e-commerce", "gaming", "saas", "logistics", "media", "adtech"]
COMPANIES = [f"Company {i}" for i in range(300)]
LOAD_BATCH = 5_000
LOW_RATE = 10.0  # events/s for the low-load latency


@dataclass(frozen=True)
class Sizes:
    roles: int
    candidates: int
    events: int
    latency_events: int
    low_load_events: int = 200


FULL = Sizes(roles=10_000, candidates=100_000, events=20_000, latency_events=1_000)
QUICK = Sizes(roles=1_000, candidates=10_000, events=3_000, latency_events=300)


# --- synthetic data (every candidate is a pure function of its number) --------------------

def pick_skills(rng: random.Random, count: int, exclude=()) -> list[str]:
    """`count` distinct skill keys drawn by Zipf-like popularity."""
    picked: dict[str, None] = {}
    while len(picked) < count:
        picked.update(dict.fromkeys(s for s in rng.choices(SKILL_KEYS, cum_weights=CUM_WEIGHTS, k=count)
                                    if s not in exclude))
    return list(picked)[:count]


def month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def raw_profile(rng: random.Random, number: int) -> dict:
    """A linkedin snapshot as a producer sends it: skills by display name, two positions."""
    started = NOW - timedelta(days=rng.randint(60, 2200))
    before = started - timedelta(days=rng.randint(300, 1500))
    title = rng.choices(list(TITLES), list(TITLES.values()))[0]
    current = {"title": title, "company": rng.choice(COMPANIES), "industry": rng.choice(INDUSTRIES),
               "start": month(started), "end": None, "direct_reports": rng.choice([None, 0, 3, 6])}
    previous = {"title": "Software Engineer", "company": rng.choice(COMPANIES), "industry": rng.choice(INDUSTRIES),
                "start": month(before), "end": month(started)}
    return {"name": f"Candidate {number}", "headline": title, "location": rng.choice(LOCATIONS),
            "open_to_work": True if rng.random() < 0.15 else None,
            "do_not_contact": True if rng.random() < 0.02 else None,
            "years_experience": round(rng.uniform(0, 25), 1), "positions": [current, previous],
            "skills": [SKILL_NAMES[k] for k in pick_skills(rng, rng.randint(6, 18))]}


@dataclass
class Seed:
    """One preloaded candidate: its stored snapshot, merged view and skills."""
    number: int
    profile: dict
    occurred_at: datetime
    view: dict
    skills: dict[str, datetime]

    @property
    def candidate_id(self) -> str:
        return f"c-{self.number:07d}"

    @property
    def event_id(self) -> str:
        return f"seed-{self.number}"

    def evidence(self, seen: datetime) -> str:
        return f"linkedin profile {self.event_id} ({seen.date().isoformat()})"

    def candidate_row(self) -> dict:
        """What the batch writer would have written for this candidate."""
        readiness = estimate(self.view, Facts(), NOW.date())
        current = self.view.get("current") or {}
        return {"candidate_id": self.candidate_id, "view": {"profile": self.view, "facts": {}},
                "current_company": current.get("company"), "seniority": self.view.get("seniority"),
                "city": self.view.get("city"), "years_experience": self.view.get("years_experience"),
                "do_not_contact": bool(self.view.get("do_not_contact")), "readiness": readiness.score,
                "readiness_reasons": readiness.reasons, "updated_at": self.occurred_at}

    def skill_rows(self) -> list[dict]:
        return [{"candidate_id": self.candidate_id, "skill": k, "origin": "profile:linkedin",
                 "evidence": self.evidence(seen), "source_event_id": self.event_id, "first_seen_at": seen}
                for k, seen in self.skills.items()]

    def snapshot_row(self) -> dict:
        return {"candidate_id": self.candidate_id, "source": "linkedin", "event_id": self.event_id,
                "occurred_at": self.occurred_at, "profile": self.profile}

    def facts(self, new_skill: Optional[str] = None) -> CandidateFacts:
        """What the matcher would know of the stored candidate, optionally with one more skill."""
        skills = {k: SkillFact("profile:linkedin", self.evidence(seen), seen) for k, seen in self.skills.items()}
        if new_skill:
            skills[new_skill] = SkillFact("profile:linkedin", "new", NOW)
        row = self.candidate_row()
        return matcher_facts(self.candidate_id, self.view, row["do_not_contact"], row["readiness"],
                             row["readiness_reasons"], skills)

    def event(self, event_id: str, new_skill: str) -> dict:
        """The next linkedin snapshot: the same profile plus one skill."""
        profile = {**self.profile, "skills": self.profile["skills"] + [SKILL_NAMES[new_skill]]}
        return {"event_id": event_id, "candidate_id": self.candidate_id, "source": "linkedin",
                "occurred_at": EVENT_AT, "profile": profile}


def make_seed(number: int) -> Seed:
    rng = random.Random(SEED * 1_000_003 + number)
    profile = Profile.model_validate(raw_profile(rng, number)).model_dump(mode="json", exclude_none=True)
    occurred = NOW - timedelta(days=rng.randint(1, 60), seconds=rng.randint(0, 86_399))
    view = merge_snapshots([SourcedSnapshot("linkedin", f"seed-{number}", occurred, profile)])
    skills = {k: occurred - timedelta(days=rng.randint(0, 1500)) for k in view["skills"]}
    return Seed(number, profile, occurred, view, skills)


def make_role(rng: random.Random, number: int) -> RoleSpec:
    must_have = pick_skills(rng, rng.randint(2, 3))
    first_level = rng.randrange(len(LEVELS) - 2)
    return RoleSpec(
        role_id=f"r-{number:05d}", title="Engineer",
        status="open" if rng.random() < 0.9 else rng.choice(["paused", "closed"]),
        must_have=[SKILL_NAMES[k] for k in must_have],
        nice_to_have=[SKILL_NAMES[k] for k in pick_skills(rng, rng.randint(0, 3), exclude=must_have)],
        seniority=[] if rng.random() < 0.4 else LEVELS[first_level:first_level + rng.randint(2, 3)],
        min_years=rng.choice([None, None, 2, 3, 5]),
        locations=[] if rng.random() < 0.3 else rng.sample(ROLE_PLACES, rng.randint(1, 2)),
        remote=rng.random() < 0.3, domains=[] if rng.random() < 0.7 else [rng.choice(INDUSTRIES)],
        exclude_companies=[] if rng.random() < 0.8 else rng.sample(COMPANIES, 2),
        threshold=round(rng.uniform(0.6, 0.75), 2))


# --- which roles a candidate meets -----------------------------------------------------------

class MustHaveIndex:
    """The open roles by must-have, kept here so that the preload depends on `evaluate` only,
    not on how the worker's RoleIndex narrows roles down."""

    def __init__(self, roles: list[Role]):
        rank = {key: i for i, key in enumerate(SKILL_KEYS)}
        self.by_skill: dict[str, list[Role]] = defaultdict(list)   # under every must-have
        self.by_rarest: dict[str, list[Role]] = defaultdict(list)  # under the least popular one
        for role in roles:
            if role.status == "open":
                for key in role.must_have:
                    self.by_skill[key].append(role)
                self.by_rarest[max(role.must_have, key=lambda k: rank.get(k, len(rank)))].append(role)

    def met(self, skills) -> list[Role]:
        """Roles whose every must-have is in `skills`."""
        return [r for k in skills for r in self.by_rarest.get(k, ()) if all(s in skills for s in r.must_have)]

    def one_away(self, skills) -> list[tuple[Role, str]]:
        """(role, the one must-have missing) for the roles `skills` lack exactly one must-have of."""
        hits = Counter(r.role_id for k in skills for r in self.by_skill.get(k, ()))
        roles = {r.role_id: r for k in skills for r in self.by_skill.get(k, ())}
        return [(roles[rid], next(k for k in roles[rid].must_have if k not in skills))
                for rid, have in hits.items() if have == len(roles[rid].must_have) - 1]


# --- preloading the store ------------------------------------------------------------------

def relevant_rows(seed: Seed, index: MustHaveIndex) -> list[dict]:
    """match_state rows for the pairs already relevant, as if their alerts went out long ago."""
    facts = seed.facts()
    rows = []
    for role in index.met(facts.skills):
        evaluation = evaluate(role, facts, NOW)
        if evaluation.relevant:
            rows.append({"role_id": role.role_id, "candidate_id": seed.candidate_id, "relevant": True,
                         "fit": evaluation.fit, "readiness": facts.readiness, "reasons": list(evaluation.reasons),
                         "transitions": 1, "last_alert_id": stable_id("al", role.role_id, seed.candidate_id, 1),
                         "changed_at": seed.occurred_at})
    return rows


def insert_roles(conn, specs: list[RoleSpec]) -> None:
    conn.execute(insert(RoleSpecRow.__table__), [
        {"role_id": s.role_id, "spec": s.model_dump(mode="json"), "status": s.status, "deleted": False,
         "revision": i + 1, "updated_at": NOW} for i, s in enumerate(specs)])


_POOL_INDEX: Optional[MustHaveIndex] = None


def _pool_init(index: MustHaveIndex) -> None:
    global _POOL_INDEX
    _POOL_INDEX = index


def seed_rows(numbers: range) -> dict[str, list[dict]]:
    """The rows of candidates `numbers` (run in a pool process: matching is the slow part)."""
    rows: dict[str, list[dict]] = {"candidates": [], "skills": [], "places": [], "snapshots": [], "matches": []}
    for seed in map(make_seed, numbers):
        rows["candidates"].append(seed.candidate_row())
        rows["skills"] += seed.skill_rows()
        rows["places"] += [{"candidate_id": seed.candidate_id, "place": p} for p in indexed_places(seed.view.get("location"))]
        rows["snapshots"].append(seed.snapshot_row())
        rows["matches"] += relevant_rows(seed, _POOL_INDEX)
    return rows


def insert_candidates(conn, rows: dict[str, list[dict]]) -> Counter:
    for table, key in ((Candidate, "candidates"), (CandidateSkill, "skills"), (CandidatePlace, "places"),
                       (ProfileSnapshot, "snapshots"), (MatchState, "matches")):
        if rows[key]:
            conn.execute(insert(table.__table__), rows[key])
    return Counter({key: len(value) for key, value in rows.items()})


def preload(url: str, sizes: Sizes, specs: list[RoleSpec], index: MustHaveIndex) -> Counter:
    upgrade(url)
    engine = make_engine(url)
    counts: Counter = Counter()
    batches = [range(start, min(sizes.candidates, start + LOAD_BATCH))
               for start in range(0, sizes.candidates, LOAD_BATCH)]
    # fork: the pool shares NOW and the role index with this process.
    pool = ProcessPoolExecutor(len(os.sched_getaffinity(0)), mp_context=multiprocessing.get_context("fork"),
                               initializer=_pool_init, initargs=(index,))
    with pool, engine.connect() as conn:
        if any(conn.scalar(select(func.count()).select_from(table)) for table in (Candidate, RoleSpecRow)):
            sys.exit(f"refusing to load into a non-empty database: {engine.url!r}")
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        insert_roles(conn, specs)
        for rows in pool.map(seed_rows, batches):
            counts += insert_candidates(conn, rows)
            conn.commit()
        if engine.dialect.name == "postgresql":
            for table in ("candidates", "candidate_skills", "candidate_places", "match_state", "profile_snapshots",
                          "role_specs"):
                conn.exec_driver_sql(f"ANALYZE {table}")
        conn.commit()
    engine.dispose()
    return counts


# --- the events ------------------------------------------------------------------------------

def throughput_events(numbers: list[int]) -> list[dict]:
    """One snapshot per candidate, each adding a skill drawn by popularity that it lacked."""
    rng = random.Random(SEED + 7)
    events = []
    for number in numbers:
        seed = make_seed(number)
        [skill] = pick_skills(rng, 1, exclude=seed.skills)
        events.append(seed.event(f"tp-{number}", skill))
    return events


def newly_relevant(seed: Seed, index: MustHaveIndex, new_skill: str) -> int:
    """How many roles the candidate enters when it gains `new_skill` (what the worker should alert)."""
    before, after = seed.facts(), seed.facts(new_skill)
    return sum(evaluate(r, after, NOW).relevant and not evaluate(r, before, NOW).relevant
               for r in index.met(after.skills))


def expected_alerts(events: list[dict], index: MustHaveIndex, sample: int = 1000) -> float:
    """Alerts per event the preloaded state implies, on a sample: the worker should agree."""
    part = events[:sample]
    return sum(newly_relevant(make_seed(int(e["event_id"].split("-")[1])), index,
                              SKILL_KEY_OF[e["profile"]["skills"][-1]]) for e in part) / len(part)


def completing_skill(seed: Seed, index: MustHaveIndex) -> Optional[str]:
    """A skill that is the last missing must-have of a role the candidate then meets, if any."""
    for role, missing in index.one_away(seed.skills):
        if evaluate(role, seed.facts(missing), NOW).relevant:
            return missing
    return None


def latency_events(pool: list[int], count: int, index: MustHaveIndex) -> list[dict]:
    events = []
    for number in pool:
        seed = make_seed(number)
        skill = completing_skill(seed, index)
        if skill:
            events.append(seed.event(f"lat-{number}", skill))
            if len(events) == count:
                return events
    raise RuntimeError(f"only {len(events)} of {count} candidates are one must-have away from a role")


def encode(event: dict) -> tuple[bytes, bytes]:
    return event["candidate_id"].encode(), json.dumps(event).encode()


# --- Kafka helpers -----------------------------------------------------------------------------

async def create_topics(bootstrap: str, extra: list[str]) -> None:
    await ensure_topics(Settings.from_env(kafka_bootstrap=bootstrap, topic_partitions=PARTITIONS))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1) for name in extra])
    finally:
        await admin.close()


async def produce_all(producer: AIOKafkaProducer, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    futures = [await producer.send(topic, value=value, key=key) for key, value in messages]
    await asyncio.gather(*futures)


async def produce_once(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await produce_all(producer, topic, messages)
    finally:
        await producer.stop()


async def open_reader(bootstrap: str, topic: str, from_end: bool) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await (consumer.seek_to_end if from_end else consumer.seek_to_beginning)(*partitions)
    for tp in partitions:
        await consumer.position(tp)  # resolve the offsets now, before anything is sent
    return consumer


# --- 1. the bare aiokafka loop ----------------------------------------------------------------

async def bare_loop(bootstrap: str, events: list[dict]) -> float:
    """Seconds to consume every message of bench-in, decode it and produce it to bench-out."""
    source, sink = PREFIX + "bench-in", PREFIX + "bench-out"
    await produce_once(bootstrap, source, [encode(e) for e in events])
    consumer = await open_reader(bootstrap, source, from_end=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        began, futures = time.perf_counter(), []
        while len(futures) < len(events):
            for records in (await consumer.getmany(timeout_ms=100, max_records=1000)).values():
                for record in records:
                    decoded = json.loads(record.value)
                    futures.append(await producer.send(sink, value=json.dumps(decoded).encode(), key=record.key))
        await asyncio.gather(*futures)
        return time.perf_counter() - began
    finally:
        await consumer.stop()
        await producer.stop()


# --- 2. the worker -------------------------------------------------------------------------------

class WorkerProcess:
    def __init__(self, bootstrap: str, url: str, workdir: Path, index: int = 0):
        self.log_path = Path((index == 0 and os.environ.get("BENCH_WORKER_LOG")) or workdir / f"worker-{index}.log")
        env = dict(os.environ, RADAR_KAFKA_BOOTSTRAP=bootstrap, RADAR_DATABASE_URL=url, RADAR_TOPIC_PREFIX=PREFIX,
                   RADAR_APP_ID="radar-bench", RADAR_TOPIC_PARTITIONS=str(PARTITIONS),
                   RADAR_WORKER_ID=f"bench-worker-{index}", RADAR_KAFKA_HOME=str(workdir / "kafka"),
                   PYTHONPATH=str(REPO))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "services.cli", "worker"], env=env, cwd=REPO,
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def rss_mib(self) -> float:
        """The worker's resident memory now (MiB), from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def check(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited with code {self.process.returncode}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class WorkerGroup:
    """`count` worker processes in one consumer group (stable ids bench-worker-N)."""

    def __init__(self, bootstrap: str, url: str, workdir: Path, count: int):
        self.members = [WorkerProcess(bootstrap, url, workdir, index) for index in range(count)]

    def check(self) -> None:
        for member in self.members:
            member.check()

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(member.log_tail(lines) for member in self.members)

    def rss_mib(self) -> list[float]:
        return [member.rss_mib() for member in self.members]

    def stop(self) -> None:
        for member in self.members:
            member.stop()


async def warm_up(bootstrap: str, workers: WorkerGroup, events: list[dict], timeout: float = 180.0) -> float:
    """One event on each partition, and wait for their signals: every worker has joined and
    loaded the role index."""
    reader = await open_reader(bootstrap, TOPICS.candidate_signals, from_end=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        began = time.perf_counter()
        for partition, event in enumerate(events):
            key, value = encode(event)
            await producer.send_and_wait(TOPICS.profile_events, value=value, key=key, partition=partition)
        waiting = {event["event_id"] for event in events}
        while time.perf_counter() - began < timeout:
            workers.check()
            for records in (await reader.getmany(timeout_ms=200)).values():
                waiting -= {json.loads(r.value)["source_event_id"] for r in records}
            if not waiting:
                return time.perf_counter() - began
        raise RuntimeError(f"no signal for {len(waiting)} warm-up events within {timeout:.0f}s:\n{workers.log_tail()}")
    finally:
        await producer.stop()
        await reader.stop()


async def alerts_on_topic(bootstrap: str) -> tuple[int, int]:
    """(records, distinct message ids) on match-alerts: every alert exactly once when equal."""
    # earliest: a reset to the end racing the seek below would read nothing
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPICS.match_alerts, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        count, ids = 0, set()
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).items():
                count += len(records)
                ids.update(dict(r.headers)["radar-message-id"] for r in records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return count, len(ids)
    finally:
        await consumer.stop()


# --- 3. pipeline throughput -----------------------------------------------------------------------

class StoreProbe:
    """Counts in the worker's database, read from a separate connection."""

    def __init__(self, url: str):
        self.engine = make_engine(url)

    def scalar(self, query):
        with self.engine.connect() as conn:
            return conn.scalar(query)

    def processed(self) -> int:
        return self.scalar(select(func.count()).select_from(ProcessedEvent))

    def unsent(self) -> int:
        return self.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))

    def outbox_by_kind(self) -> Counter:
        """Outbox rows by message id prefix: sg- signals, al- alerts, wd- withdrawals, dl- dead letters."""
        kind = func.substr(OutboxMessage.message_id, 1, 2)
        with self.engine.connect() as conn:
            return Counter(dict(conn.execute(select(kind, func.count()).group_by(kind)).all()))


async def wait_until(condition, worker: WorkerProcess, timeout: float, what: str) -> float:
    """perf_counter() at the first poll (every 50 ms) where `condition()` holds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await asyncio.to_thread(condition):
            return time.perf_counter()
        worker.check()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}:\n{worker.log_tail()}")


@dataclass
class PipelineRun:
    events: int
    produced_s: float
    committed_s: float
    relayed_s: float
    emitted: Counter

    @property
    def rate(self) -> float:
        return self.events / self.committed_s


async def pipeline_phase(bootstrap: str, probe: StoreProbe, worker: WorkerProcess, events: list[dict]) -> PipelineRun:
    messages = [encode(e) for e in events]
    target = probe.processed() + len(events)
    before = probe.outbox_by_kind()
    timeout = max(180.0, len(events) / 20)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        began = time.perf_counter()
        await produce_all(producer, TOPICS.profile_events, messages)
        produced = time.perf_counter()
    finally:
        await producer.stop()
    committed = await wait_until(lambda: probe.processed() >= target, worker, timeout, "the events to be processed")
    relayed = await wait_until(lambda: probe.unsent() == 0, worker, timeout, "the outbox to be relayed")
    return PipelineRun(len(events), produced - began, committed - began, relayed - began,
                       probe.outbox_by_kind() - before)


# --- 4. alert latency -----------------------------------------------------------------------------

async def send_paced(producer: AIOKafkaProducer, events: list[dict], rate: float, sent_at: dict[str, float]) -> None:
    futures, began = [], time.perf_counter()
    for i, event in enumerate(events):
        await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        key, value = encode(event)
        sent_at[event["event_id"]] = time.perf_counter()
        futures.append(await producer.send(TOPICS.profile_events, value=value, key=key))
    await asyncio.gather(*futures)


async def collect_alerts(reader: AIOKafkaConsumer, sent_at: dict[str, float], expected: int,
                         sending: asyncio.Task, grace: float) -> dict[str, float]:
    """Arrival time of the first alert per triggering event, until all came or `grace` after sending."""
    arrived: dict[str, float] = {}
    deadline = math.inf
    while len(arrived) < expected and time.perf_counter() < deadline:
        for records in (await reader.getmany(timeout_ms=50)).values():
            now = time.perf_counter()
            for record in records:
                message = json.loads(record.value)
                if message.get("type") == "match.alert" and message["triggered_by"] in sent_at:
                    arrived.setdefault(message["triggered_by"], now)
        if sending.done() and deadline == math.inf:
            sending.result()
            deadline = time.perf_counter() + grace
    return arrived


async def latency_phase(bootstrap: str, events: list[dict], rate: float) -> list[float]:
    reader = await open_reader(bootstrap, TOPICS.match_alerts, from_end=True)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent_at: dict[str, float] = {}
    try:
        sending = asyncio.create_task(send_paced(producer, events, rate, sent_at))
        arrived = await collect_alerts(reader, sent_at, len(events), sending, grace=30.0)
    finally:
        await producer.stop()
        await reader.stop()
    return sorted(arrived[e] - sent_at[e] for e in arrived)


# --- 5. memory over a long run ------------------------------------------------------------------

async def soak_phase(bootstrap: str, workers: WorkerGroup, numbers: list[int], rate: float,
                     minutes: float) -> list[tuple[float, list[float]]]:
    """Events paced at `rate` for `minutes`, each a new skill for a candidate not touched
    before; the workers' RSS sampled every minute: (minutes since the start, MiB per worker)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    rng, samples = random.Random(SEED + 11), [(0.0, workers.rss_mib())]
    try:
        began = time.perf_counter()
        for i, number in enumerate(numbers):
            elapsed = time.perf_counter() - began
            if elapsed >= minutes * 60:
                break
            if elapsed >= len(samples) * 60:
                workers.check()
                samples.append((elapsed / 60, workers.rss_mib()))
            await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
            seed = make_seed(number)
            key, value = encode(seed.event(f"soak-{number}", pick_skills(rng, 1, exclude=seed.skills)[0]))
            await producer.send(TOPICS.profile_events, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()
    samples.append(((time.perf_counter() - began) / 60, workers.rss_mib()))
    return samples


# --- report ------------------------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def percentiles(sorted_seconds: list[float]) -> str:
    if not sorted_seconds:
        return ""
    ms = [value * 1e3 for value in sorted_seconds]
    return (f"; produce -> alert ms: p50 {percentile(ms, 0.5):,.0f}  p99 {percentile(ms, 0.99):,.0f}"
            f"  max {ms[-1]:,.0f}  (min {ms[0]:,.0f})")


def machine_line(quick: bool, load_before: float) -> str:
    return (f"machine   nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} CPUs),"
            f" Python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()};"
            f" load average {load_before:.2f} before,"
            f" {os.getloadavg()[0]:.2f} after" + ("; --quick" if quick else ""))


def print_report(r: dict) -> None:
    sizes, counts, run, settings = r["sizes"], r["counts"], r["pipeline"], r["settings"]
    bare_rate, lat = sizes.events / r["bare_s"], r["latencies"]
    print("\n" + "=" * 78)
    print(machine_line(r["quick"], r["load_before"]))
    print(f"store     {r['dialect']}: {sizes.roles:,} role specs ({r['open_roles']:,} open),"
          f" {sizes.candidates:,} candidates,"
          f" {counts['skills']:,} skill rows, {counts['matches']:,} relevant pairs; loaded in {r['load_s']:.0f}s")
    print(f"workers   {r['workers']} process(es), {PARTITIONS} partitions, batches of up to {settings.batch_size} (closed when drained),"
          f" log level {settings.log_level}; warm-up (join + role index) {r['warmup_s']:.1f}s")
    print("-" * 78)
    print(f"{'throughput':<44}{'events':>9}{'seconds':>10}{'events/s':>12}")
    print(f"{'bare aiokafka loop (decode + produce)':<44}{sizes.events:>9,}{r['bare_s']:>10.2f}{bare_rate:>12,.0f}")
    print(f"{'pipeline: first produce -> last committed':<44}{run.events:>9,}{run.committed_s:>10.2f}"
          f"{run.rate:>12,.0f}")
    print(f"{'pipeline: first produce -> outbox relayed':<44}{run.events:>9,}{run.relayed_s:>10.2f}"
          f"{run.events / run.relayed_s:>12,.0f}")
    print(f"{'  (producing the events alone took)':<44}{'':>9}{run.produced_s:>10.2f}")
    print(f"{'pipeline / bare loop':<44}{'':>19}{run.rate / bare_rate:>12.1%}"
          f"   (bare is {bare_rate / run.rate:.0f}x faster)")
    print(f"emitted   {run.emitted['sg']:,} signals, {run.emitted['al']:,} alerts"
          f" ({run.emitted['al'] / run.events:.2f}/event; the preloaded state implies {r['expected_alerts']:.2f}),"
          f" {run.emitted['wd']:,} withdrawals, {run.emitted['dl']:,} dead letters")
    print("-" * 78)
    print(f"latency   {len(r['latency_events']):,} events paced at {r['latency_rate']:,.0f}/s (half the pipeline rate),"
          f" each completing a role's must-haves")
    print(f"          alerts arrived {len(lat):,}/{len(r['latency_events']):,}{percentiles(lat)}")
    low = r["low_latencies"]
    print(f"low load  {len(r['low_events']):,} events paced at {LOW_RATE:.0f}/s;"
          f" alerts arrived {len(low):,}{percentiles(low)}")
    print("memory    worker RSS after the run: " + ", ".join(f"{mib:,.0f} MiB" for mib in r["rss_mib"]))
    for minute, mib in r["soak"]:
        print(f"          at {minute:5.1f} min: " + ", ".join(f"{m:,.0f} MiB" for m in mib))
    records, distinct = r["on_topic"]
    print(f"exactly   match-alerts holds {records:,} records, {distinct:,} distinct alert ids"
          f" ({records - distinct:,} repeated); the outbox wrote {r['outbox_alerts']:,} alerts and withdrawals")
    if r["changed"]:
        print("WARNING   project files changed during the run (numbers may mix two versions):",
              ", ".join(r["changed"]))
    print("=" * 78)


# --- main --------------------------------------------------------------------------------------

def source_mtimes() -> dict[str, float]:
    """The project's Python files: the preload and the worker must run the same code."""
    return {str(path.relative_to(REPO)): path.stat().st_mtime
            for folder in ("services", "streams", "schemas") for path in (REPO / folder).rglob("*.py")}


def changed_since(before: dict[str, float]) -> list[str]:
    after = source_mtimes()
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build_roles(count: int) -> tuple[list[RoleSpec], MustHaveIndex]:
    rng = random.Random(SEED + 1)
    specs = [make_role(rng, i) for i in range(count)]
    return specs, MustHaveIndex([Role.from_spec(spec) for spec in specs])


def start_kafka(kafka: LocalKafka):
    """Start the broker; returns how to stop it (and remove its files when this run created them)."""
    fresh = not kafka.dir.exists()
    kafka.up()

    def stop() -> None:
        kafka.down()
        if fresh:
            shutil.rmtree(kafka.dir, ignore_errors=True)
    return stop


def warm_up_event(number: int) -> dict:
    seed = make_seed(number)
    return seed.event(f"warm-up-{number}", pick_skills(random.Random(SEED), 1, exclude=seed.skills)[0])


def choose_candidates(sizes: Sizes) -> tuple[list[int], list[int], list[int]]:
    """Warm-up candidates (one per partition), throughput candidates, and the pool latency
    targets come from: disjoint."""
    order = random.Random(SEED + 3).sample(range(sizes.candidates), sizes.candidates)
    warm = PARTITIONS
    return order[:warm], order[warm:warm + sizes.events], order[warm + sizes.events:]


def run(args: argparse.Namespace, workdir: Path, cleanup: list) -> dict:
    global PARTITIONS
    PARTITIONS = args.partitions
    sizes = QUICK if args.quick else FULL
    if args.candidates:
        sizes = replace(sizes, candidates=args.candidates)
    load_before, mtimes = os.getloadavg()[0], source_mtimes()
    url = args.database_url or f"sqlite:///{workdir}/radar.db"
    kafka = LocalKafka(Path.home() / ".radar" / "kafka", port=free_port())
    step(f"starting Kafka on {kafka.bootstrap}")
    cleanup.append(start_kafka(kafka))
    asyncio.run(create_topics(kafka.bootstrap, [PREFIX + "bench-in", PREFIX + "bench-out"]))

    specs, index = build_roles(sizes.roles)
    warm_numbers, tp_numbers, pool = choose_candidates(sizes)
    tp_events = throughput_events(tp_numbers)
    expected = expected_alerts(tp_events, index)
    step(f"bare aiokafka loop over {len(tp_events):,} messages")
    bare_s = asyncio.run(bare_loop(kafka.bootstrap, tp_events))

    step(f"preloading {sizes.roles:,} roles and {sizes.candidates:,} candidates into {url.split(':')[0]}")
    began = time.perf_counter()
    counts = preload(url, sizes, specs, index)
    load_s = time.perf_counter() - began
    both = latency_events(pool, sizes.latency_events + sizes.low_load_events, index)
    lat_events, low_events = both[:sizes.latency_events], both[sizes.latency_events:]

    step(f"starting {args.workers} worker(s)")
    worker = WorkerGroup(kafka.bootstrap, url, workdir, args.workers)
    cleanup.append(worker.stop)
    warmup_s = asyncio.run(warm_up(kafka.bootstrap, worker, [warm_up_event(n) for n in warm_numbers]))

    probe = StoreProbe(url)
    cleanup.append(probe.engine.dispose)
    step(f"pipeline: {len(tp_events):,} events")
    profiler = start_profiler(args, "pipeline", worker)
    pipeline = asyncio.run(pipeline_phase(kafka.bootstrap, probe, worker, tp_events))
    stop_profiler(profiler)
    rate = pipeline.rate / 2
    step(f"latency: {len(lat_events):,} events at {rate:,.0f}/s")
    profiler = start_profiler(args, "latency", worker)
    latencies = asyncio.run(latency_phase(kafka.bootstrap, lat_events, rate))
    stop_profiler(profiler)
    step(f"latency at low load: {len(low_events):,} events at {LOW_RATE:.0f}/s")
    profiler = start_profiler(args, "low", worker)
    low_latencies = asyncio.run(latency_phase(kafka.bootstrap, low_events, LOW_RATE))
    stop_profiler(profiler)
    worker.check()
    rss_mib = worker.rss_mib()
    soak = []
    if args.soak_minutes:
        step(f"memory: events at {args.soak_rate:.0f}/s for {args.soak_minutes:.0f} minutes")
        soak = asyncio.run(soak_phase(kafka.bootstrap, worker, pool[::-1], args.soak_rate, args.soak_minutes))
    on_topic = asyncio.run(alerts_on_topic(kafka.bootstrap))
    return {"quick": args.quick, "sizes": sizes, "counts": counts, "load_s": load_s, "bare_s": bare_s,
            "dialect": probe.engine.dialect.name, "open_roles": sum(s.status == "open" for s in specs),
            "settings": Settings.from_env(), "warmup_s": warmup_s, "pipeline": pipeline, "latency_rate": rate,
            "latency_events": lat_events, "latencies": latencies, "expected_alerts": expected,
            "low_events": low_events, "low_latencies": low_latencies, "rss_mib": rss_mib, "on_topic": on_topic, "soak": soak,
            "outbox_alerts": sum(probe.outbox_by_kind()[k] for k in ("al", "wd")), "workers": args.workers,
            "load_before": load_before, "changed": changed_since(mtimes)}


def start_profiler(args: argparse.Namespace, phase: str, worker: WorkerProcess) -> Optional[subprocess.Popen]:
    """py-spy sampling the worker (every thread, idle ones too) during one phase, as collapsed
    stacks (one line per stack and its sample count), when --profile asked for it."""
    if not args.profile or args.profile_phase != phase:
        return None
    return subprocess.Popen(["py-spy", "record", "--pid", str(worker.members[0].process.pid), "--format", "raw",
                             "--output", args.profile, "--rate", "200", "--idle", "--threads"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(profiler: Optional[subprocess.Popen]) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        profiler.wait(timeout=60)


def raise_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smaller run (about half a minute; the full run takes about 5 minutes)")
    parser.add_argument("--database-url", help="an EMPTY scratch database (default: SQLite in a temp dir)")
    parser.add_argument("--candidates", type=int, help="stored candidates (default 100,000; --quick 10,000)")
    parser.add_argument("--soak-minutes", type=float, default=0,
                        help="after the latency phases, send events for this long and sample the workers' RSS")
    parser.add_argument("--soak-rate", type=float, default=100.0, help="events/s during --soak-minutes")
    parser.add_argument("--workers", type=int, default=1, help="worker processes in the group (default 1)")
    parser.add_argument("--partitions", type=int, default=3, help="partitions of every topic (default 3)")
    parser.add_argument("--profile", metavar="FILE",
                        help="sample the worker with py-spy during one phase (collapsed stacks to FILE)")
    parser.add_argument("--profile-phase", choices=("pipeline", "latency", "low"), default="pipeline",
                        help="the phase --profile samples: throughput (pipeline), latency at half the rate, "
                             "or latency at low load")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, raise_interrupt)
    configure_logging("WARNING")
    began = time.perf_counter()
    cleanup: list = []
    with tempfile.TemporaryDirectory(prefix="throughput-bench-") as tmp:
        try:
            report = run(args, Path(tmp), cleanup)
        except KeyboardInterrupt:
            sys.exit("interrupted")
        finally:
            step("stopping the worker and the broker")
            for undo in reversed(cleanup):
                undo()
    print_report(report)
    print(f"total runtime {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
