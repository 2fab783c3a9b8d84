"""The fault suite: real `radar worker` processes, a real broker and PostgreSQL, broken on
purpose while events stream, and every alert counted.

Each scenario runs in its own deployment (topic prefix, consumer group, database) and
reports expected, delivered, lost and duplicated alerts (by pair and by alert_id), dead
letters against the bad inputs sent, the seconds from each fault to the pipeline moving
again, stalls (a wait for progress that timed out) and agent crashes (Faust's "Crashed"
in a worker log). `benchmarks/faults.py` runs it at full size, `tests/faults` at a small
one in CI.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import create_engine, text

from services.adapters.kafka.local_broker import LocalKafka, free_port
from tests.faults.fuzz import Record, good_record, mixed
from tests.processes import stop_process

PROGRESS_TIMEOUT_S = 90.0


@dataclass
class Outcome:
    name: str
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated_pairs: int = 0
    duplicated_alert_ids: int = 0
    bad_inputs: int = 0
    dead_lettered: int = 0
    recoveries_s: list[float] = field(default_factory=list)
    stalls: int = 0
    agent_crashes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def worst_recovery_s(self) -> Optional[float]:
        return max(self.recoveries_s) if self.recoveries_s else None

    def row(self) -> str:
        recover = (f"{min(self.recoveries_s):.1f}-{max(self.recoveries_s):.1f} s (n={len(self.recoveries_s)})"
                   if self.recoveries_s else "-")
        return (f"| {self.name} | {self.expected} | {self.delivered} | {self.lost} | {self.duplicated_pairs} | "
                f"{self.duplicated_alert_ids} | {self.dead_lettered}/{self.bad_inputs} | {recover} | {self.stalls} | "
                f"{self.agent_crashes} |")

    def ok(self) -> bool:
        return (self.lost == 0 and self.duplicated_pairs == 0 and self.duplicated_alert_ids == 0
                and self.dead_lettered == self.bad_inputs and self.stalls == 0 and self.agent_crashes == 0)


HEADER = ("| scenario | expected | delivered | lost | duplicated pairs | duplicated alert_ids | dead-lettered / bad "
          "| recovery | stalls | agent crashes |\n|---|---|---|---|---|---|---|---|---|---|")


class PostgresCluster:
    """A PostgreSQL cluster of its own (Debian's pg_createcluster), so the suite may stop and
    start it without touching anyone else's. Needs root and the postgresql package."""

    def __init__(self, name: str):
        self.version = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
        self.name = name
        self.port = free_port()

    @staticmethod
    def available() -> Optional[str]:
        """None when a cluster can be made here, else why not."""
        if os.geteuid() != 0:
            return "needs root (pg_createcluster)"
        if not shutil.which("pg_createcluster") or not Path("/usr/lib/postgresql").exists():
            return "needs Debian's postgresql package"
        return None

    def create(self) -> str:
        subprocess.run(["pg_createcluster", self.version, self.name, "-p", str(self.port), "--start",
                        "--", "--auth=trust"], check=True, capture_output=True)
        self._wait_ready()
        self._psql("CREATE ROLE radar LOGIN SUPERUSER PASSWORD 'radar'")
        return f"postgresql+psycopg2://radar:radar@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(["pg_ctlcluster", self.version, self.name, "stop", "-m", "fast"], check=True,
                       capture_output=True)

    def start(self) -> None:
        subprocess.run(["pg_ctlcluster", self.version, self.name, "start"], check=True, capture_output=True)
        self._wait_ready()

    def drop(self) -> None:
        subprocess.run(["pg_dropcluster", self.version, self.name, "--stop"], capture_output=True)

    def _wait_ready(self) -> None:
        for _ in range(60):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q"]).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"PostgreSQL cluster {self.name} did not start")

    def _psql(self, sql: str) -> None:
        subprocess.run(["su", "postgres", "-c", f"psql -q -p {self.port} -c \"{sql}\""], check=True,
                       capture_output=True)


class Deployment:
    """One scenario's deployment: its topics, consumer group, database and worker processes."""

    def __init__(self, lab: "FaultLab", name: str, database_url: str, partitions: int = 6):
        self.lab, self.name, self.database_url, self.partitions = lab, name, database_url, partitions
        self.prefix = f"f{uuid.uuid4().hex[:6]}-"
        self.workdir = lab.workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workers: dict[int, subprocess.Popen] = {}
        self.logs: list[Path] = []
        self.engine = create_engine(database_url, pool_pre_ping=True)

    def env(self, index: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(RADAR_KAFKA_BOOTSTRAP=self.lab.broker.bootstrap, RADAR_DATABASE_URL=self.database_url,
                   RADAR_TOPIC_PREFIX=self.prefix, RADAR_APP_ID=f"radar-{self.prefix}",
                   RADAR_TOPIC_PARTITIONS=str(self.partitions), RADAR_LOG_LEVEL="INFO",
                   RADAR_WORKER_ID=f"{self.prefix}worker-{index}")
        return env

    def topic(self, logical: str) -> str:
        return self.prefix + logical

    def start_worker(self, index: int = 0) -> None:
        log_path = self.workdir / f"worker-{index}-{len(self.logs)}.log"
        self.logs.append(log_path)
        with open(log_path, "ab") as log:
            self.workers[index] = subprocess.Popen([sys.executable, "-m", "services.cli", "worker"],
                                                   env=self.env(index), stdout=log, stderr=subprocess.STDOUT)

    def kill_worker(self, index: int) -> None:
        process = self.workers.pop(index)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for index in list(self.workers):
            stop_process(self.workers.pop(index))
        self.engine.dispose()

    # -- talking to it ---------------------------------------------------------------

    def send(self, records: list[Record]) -> None:
        asyncio.run(_produce(self.lab.broker.bootstrap, [(self.topic(t), k, v) for t, k, v in records]))

    def send_role(self) -> None:
        role = {"event_id": "fault-role", "role_id": "r-fault", "status": "open", "title": "Engineer",
                "must_have": ["Python"]}
        self.send([("role-specs", b"r-fault", json.dumps(role).encode())])
        self.wait_for(lambda: self.scalar("SELECT count(*) FROM role_specs WHERE role_id = 'r-fault'") == 1,
                      "the fault role to be applied")

    def processed(self) -> int:
        try:
            return self.scalar("SELECT count(*) FROM processed_events") or 0
        except Exception:  # the database is down or not migrated yet
            return -1

    def scalar(self, sql: str):
        with self.engine.connect() as connection:
            return connection.execute(text(sql)).scalar()

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = PROGRESS_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return True
            except Exception:
                pass
            time.sleep(0.1)
        self.lab.say(f"[{self.name}] timed out waiting for {what}")
        return False

    def time_to_progress(self, since: float, baseline: int, outcome: Outcome) -> None:
        """Seconds from `since` until the processed count passes `baseline` (a stall if never)."""
        if self.wait_for(lambda: self.processed() > baseline, "processing to resume"):
            outcome.recoveries_s.append(time.monotonic() - since)
        else:
            outcome.stalls += 1

    def read(self, logical: str) -> list[dict]:
        return asyncio.run(_read_all(self.lab.broker.bootstrap, self.topic(logical)))

    def settle(self, outcome: Outcome, goods: list[str], bad_inputs: int, timeout: float = 180.0) -> Outcome:
        """Wait until every expected alert and dead letter is out, then count them."""
        expected = set(goods)
        deadline = time.monotonic() + timeout
        alerts, letters = [], []
        while time.monotonic() < deadline:
            alerts = [a for a in self.read("match-alerts") if a.get("type") == "match.alert"]
            letters = self.read("dead-letters")
            if {a["candidate_id"] for a in alerts} >= expected and len(letters) >= bad_inputs:
                break
            time.sleep(1.0)
        time.sleep(2.0)  # anything late (a repeat) has time to land
        alerts = [a for a in self.read("match-alerts") if a.get("type") == "match.alert"]
        letters = self.read("dead-letters")
        by_pair: dict[tuple[str, str], list[str]] = {}
        for alert in alerts:
            by_pair.setdefault((alert["role_id"], alert["candidate_id"]), []).append(alert["alert_id"])
        ids = [alert["alert_id"] for alert in alerts]
        delivered = {cid for (_, cid) in by_pair} & expected
        outcome.expected, outcome.delivered = len(expected), len(delivered)
        outcome.lost = len(expected - delivered)
        outcome.duplicated_pairs = sum(1 for found in by_pair.values() if len(found) > 1)
        outcome.duplicated_alert_ids = len(ids) - len(set(ids))
        outcome.bad_inputs, outcome.dead_lettered = bad_inputs, len(letters)
        outcome.agent_crashes = sum(log.read_text(errors="replace").count("rashed") for log in self.logs
                                    if log.exists())
        return outcome


class FaultLab:
    """Owns the broker (killable) and the databases of every scenario."""

    def __init__(self, workdir: Path, postgres_admin_url: str, kafka_home: Path, say: Callable[[str], None] = print):
        self.workdir = workdir
        self.admin_url = postgres_admin_url
        self.say = say
        self.broker = LocalKafka(kafka_home, port=free_port())
        self.databases: list[str] = []

    def __enter__(self) -> "FaultLab":
        self.broker.up()
        return self

    def __exit__(self, *exc) -> None:
        self.broker.down()
        shutil.rmtree(self.broker.dir, ignore_errors=True)
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.databases:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def database(self) -> str:
        from services.adapters.store.db import upgrade

        name = f"radar_faults_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.databases.append(name)
        url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        return url

    def deployment(self, name: str, database_url: Optional[str] = None, partitions: int = 6) -> Deployment:
        return Deployment(self, name, database_url or self.database(), partitions)

    def kill_broker(self) -> None:
        pid = self.broker.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if self.broker.pid() is None:
                    break
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.1)
        self.broker.pid_file.unlink(missing_ok=True)


# -- the scenarios -----------------------------------------------------------------------

def worker_kills(lab: FaultLab, kills: int, events: int) -> Outcome:
    """`kills` times: stream a share of the events, kill -9 the worker mid-stream, send the next
    share, restart it at once (same id: Kafka static membership); time kill -> progress."""
    outcome, run = Outcome(f"worker kill -9 x{kills}"), lab.deployment("kills")
    try:
        run.start_worker(0)
        run.send_role()
        goods = [f"k-{i}" for i in range(events)]
        shares = _split(goods, kills + 1)
        run.send([good_record(cid) for cid in shares[0]])
        for share in shares[1:]:
            base = run.processed()
            run.wait_for(lambda: run.processed() > base, "the share to be under way", timeout=60)
            time.sleep(random.uniform(0.05, 0.3))
            run.kill_worker(0)
            killed_at, at_kill = time.monotonic(), run.processed()
            run.send([good_record(cid) for cid in share])
            run.start_worker(0)
            run.time_to_progress(killed_at, at_kill, outcome)
        return run.settle(outcome, goods, 0)
    finally:
        run.stop()


def broker_kill(lab: FaultLab, events: int) -> Outcome:
    """kill -9 the broker mid-stream, restart it 3 s later; time restart -> progress."""
    outcome, run = Outcome("broker kill -9 and restart"), lab.deployment("broker")
    try:
        run.start_worker(0)
        run.send_role()
        goods = [f"b-{i}" for i in range(events)]
        first, second = _split(goods, 2)
        run.send([good_record(cid) for cid in first])
        run.wait_for(lambda: run.processed() > 0, "the stream to be under way", timeout=60)
        lab.kill_broker()
        time.sleep(3)
        lab.broker.up()
        restarted_at, base = time.monotonic(), run.processed()
        run.send([good_record(cid) for cid in second])
        run.time_to_progress(restarted_at, base, outcome)
        return run.settle(outcome, goods, 0)
    finally:
        run.stop()


def postgres_stop(lab: FaultLab, events: int, down_s: float = 10.0) -> Outcome:
    """Stop PostgreSQL mid-stream for `down_s`, start it again; time start -> progress."""
    outcome = Outcome(f"PostgreSQL stop {down_s:.0f} s and start")
    why_not = PostgresCluster.available()
    if why_not:
        outcome.notes.append(f"skipped: {why_not}")
        return outcome
    cluster = PostgresCluster(f"faults{uuid.uuid4().hex[:6]}")
    url = cluster.create()
    from services.adapters.store.db import upgrade
    upgrade(url)
    run = lab.deployment("postgres", url)
    try:
        run.start_worker(0)
        run.send_role()
        goods = [f"p-{i}" for i in range(events)]
        first, second = _split(goods, 2)
        run.send([good_record(cid) for cid in first])
        run.wait_for(lambda: run.processed() > 0, "the stream to be under way", timeout=60)
        cluster.stop()
        run.engine.dispose()
        run.send([good_record(cid) for cid in second])
        time.sleep(down_s)
        cluster.start()
        started_at = time.monotonic()
        run.time_to_progress(started_at, _last_progress(run), outcome)
        return run.settle(outcome, goods, 0)
    finally:
        run.stop()
        cluster.drop()


def rebalance_kill(lab: FaultLab, events: int, workers: int = 3) -> Outcome:
    """Three workers share the partitions; one is killed and not restarted. Time from the kill
    until every event sent after it is processed (the others take its partitions)."""
    outcome, run = Outcome(f"rebalance: {workers} workers, one killed for good"), lab.deployment("rebalance")
    try:
        for index in range(workers):
            run.start_worker(index)
        run.send_role()
        goods = [f"r-{i}" for i in range(events)]
        first, second = _split(goods, 2)
        run.send([good_record(cid) for cid in first])
        run.wait_for(lambda: run.processed() > len(first) // 3, "the stream to be under way", timeout=90)
        run.kill_worker(workers - 1)
        killed_at = time.monotonic()
        run.send([good_record(cid) for cid in second])
        target = 1 + len(goods)  # the role spec and every event
        if run.wait_for(lambda: run.processed() >= target, "the killed worker's partitions to move"):
            outcome.recoveries_s.append(time.monotonic() - killed_at)
        else:
            outcome.stalls += 1
        return run.settle(outcome, goods, 0)
    finally:
        run.stop()


def fuzz(lab: FaultLab, bad: int, good: int, seed: int = 8) -> Outcome:
    """Adversarial inputs mixed with good events through one worker."""
    outcome, run = Outcome(f"fuzz: {bad} adversarial + {good} good"), lab.deployment("fuzz")
    try:
        run.start_worker(0)
        run.send_role()
        records, goods, kinds = mixed(random.Random(seed), bad, good)
        run.send(records)
        outcome.notes.append(f"{len(set(kinds))} kinds of bad input")
        return run.settle(outcome, goods, bad, timeout=300)
    finally:
        run.stop()


def _last_progress(run: Deployment) -> int:
    for _ in range(100):
        value = run.processed()
        if value >= 0:
            return value
        time.sleep(0.1)
    return 0


def _split(items: list, parts: int) -> list[list]:
    size = -(-len(items) // parts)
    return [items[i:i + size] for i in range(0, len(items), size)]


async def _produce(bootstrap: str, records: list[tuple[str, Optional[bytes], Optional[bytes]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2_000_000,
                                linger_ms=5, request_timeout_ms=60_000)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value, key=key) for topic, key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _read_all(bootstrap: str, topic: str) -> list[dict]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                fetch_max_bytes=50_000_000, max_partition_fetch_bytes=5_000_000)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not parts:
            return []
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.seek_to_beginning(*parts)
        remaining = {tp for tp in parts if ends[tp] > 0}
        out: list[dict] = []
        deadline = time.monotonic() + 120
        while remaining and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).items():
                out.extend(json.loads(r.value) for r in records if r.value is not None)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()
