"""`radar dlq list|replay`: dead letters listed and filtered, and sent back through the
pipeline after a fix, once, never looping; in process (SQLite and PostgreSQL) and end to end
through Kafka, a real worker and the real command."""
import asyncio
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text

from services.adapters.kafka.records import RawRecord
from services.adapters.store.models import DeadLetterReplay, LeadRow
from services.app import dead_letters as dl
from services.app.pipeline import Pipeline
from services.cli.main import main
from services.config import TOPICS
from tests.helpers import position, profile_event, raw, role_spec
from tests.integration.kafka_helpers import Deployment

NOT_UTF8 = b'{"event_id": "p9", "candidate_id": "c-9", "name": "\xff\xfe"}'


def ada(event_id, cid="c-1", at="2026-11-20T10:00:00Z"):
    return profile_event(event_id, cid, at, name="Ada", skills=["Python", "Kafka"], location="Berlin, Germany",
                         positions=[position("Senior Data Engineer", "Northwind")])


def lead(event_id, cid="c-1", status="contacted", role_id="r-7"):
    return {"event_id": event_id, "role_id": role_id, "candidate_id": cid, "status": status,
            "occurred_at": "2026-11-22T12:00:00Z", "actor": "sourcer@example.com"}


class FakeKafka:
    """A sender that puts each copy at the next offset of its topic, keeping what it got."""

    def __init__(self):
        self.sent: list[tuple[RawRecord, list]] = []

    async def __call__(self, replays):
        landed = []
        for item in replays:
            record = RawRecord(item.topic, 0, 10_000 + len(self.sent), item.key, item.value)
            self.sent.append((record, item.headers))
            landed.append((record.topic, record.partition, record.offset))
        return landed

    def take(self) -> list[RawRecord]:
        records, self.sent = [record for record, _ in self.sent], []
        return records


def replay(sessions, send, **options):
    filters = dl.Filters(reason=options.pop("reason", None), topic=options.pop("topic", None))
    return asyncio.run(dl.replay(sessions, TOPICS, send, filters, by="ops@example.com", **options))


def listed(sessions, **filters):
    return dl.list_dead_letters(sessions, TOPICS, dl.Filters(**filters), limit=100)


def test_dead_letters_are_listed_filtered_and_replayed_once_after_the_fix(sessions):
    pipeline = Pipeline(sessions)
    pipeline.process([raw("profile-events", {"event_id": "p0", "candidate_id": "c-1"}, key="c-1"),  # no source
                      raw("profile-events", b"{not json", key="c-1"),
                      raw("profile-events", NOT_UTF8, key="c-9"),
                      raw("lead-events", lead("l1"), key="c-1"),            # no lead yet: the alert comes later
                      raw("lead-events", lead("l2", cid="c-2"), key="c-2")])
    entries = listed(sessions)
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True) and len(entries) == 5
    assert all(e.replayed_at is None and e.replay_of is None and e.has_value for e in entries)
    assert {e.key for e in listed(sessions, reason="NO LEAD")} == {"c-1", "c-2"}  # any case
    assert [e.key for e in listed(sessions, reason="malformed json")] == ["c-1"]
    assert listed(sessions, reason="100%_") == []  # wildcards are text
    assert len(listed(sessions, topic="profile-events")) == 3 and len(listed(sessions, topic="lead-events")) == 2
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    assert listed(sessions, since=tomorrow) == [] and len(listed(sessions, since=tomorrow - timedelta(days=2))) == 5
    first_line = listed(sessions, reason="no lead")[-1].line()
    assert "lead-events:0:" in first_line and "key c-1" in first_line and first_line.endswith("[not replayed]")

    # the fix: role r-7 and Ada arrive, the alert starts c-1's lead
    pipeline.process([raw("role-specs", role_spec("r-7"), key="r-7")])
    pipeline.process([raw("profile-events", ada("p1"), key="c-1")])
    kafka = FakeKafka()
    dry = replay(sessions, kafka, reason="no lead", dry_run=True)
    assert len(dry.sent) == 2 and kafka.sent == [] and _replays(sessions) == 0  # says, sends nothing

    report = replay(sessions, kafka, reason="no lead")
    assert len(report.sent) == 2 and _replays(sessions) == 2
    (first, headers), _ = kafka.sent
    assert json.loads(first.value) == lead("l1") and first.key == b"c-1"
    assert headers == [("radar-replay-of", str(report.sent[0].outbox_id).encode())]
    result = pipeline.process(kafka.take())
    assert result.dead_letters == 1 and result.lead_changes == {"contacted": 1}  # c-2 still has no lead
    assert _lead_status(sessions, "c-1") == "contacted"

    again = next(e for e in listed(sessions) if e.replay_of is not None)
    assert again.key == "c-2" and again.replay_of == report.sent[1].outbox_id
    replayed = next(e for e in listed(sessions) if e.id == report.sent[0].outbox_id)
    assert f"replay of #{again.replay_of}" in again.line() and "by ops@example.com]" in replayed.line()
    second = replay(sessions, kafka, reason="no lead")
    assert second.sent == [] and kafka.sent == []
    assert second.skipped == {"replayed before": 2, "a replay's own dead letter (--again sends it)": 1}

    pipeline.process([raw("profile-events", ada("p2", cid="c-2"), key="c-2")])  # c-2's lead begins
    third = replay(sessions, kafka, reason="no lead", again=True)
    assert [r.outbox_id for r in third.sent] == [again.id]
    assert pipeline.process(kafka.take()).lead_changes == {"contacted": 1}
    assert _lead_status(sessions, "c-2") == "contacted"
    assert replay(sessions, kafka, again=True, topic="lead-events").sent == []  # nothing sends itself again


def test_bytes_go_back_as_received_and_what_cannot_go_back_is_said(sessions):
    pipeline = Pipeline(sessions)
    pipeline.process([raw("profile-events", NOT_UTF8, key="c-9"),
                      raw("role-specs", {"role_id": "r-8", "title": "x", "status": "bogus"}, key="r-8"),
                      raw("role-specs", {"role_id": "r-9", "title": "x", "status": "bogus"}, key="r-9")])
    time.sleep(0.01)
    pipeline.process([raw("role-specs", role_spec("r-8"), key="r-8")])  # r-8 changed after its letter failed
    pipeline.process([RawRecord(TOPICS.timers, 0, 1, b"c-1", b"[]")])  # not an input topic
    pipeline.process([raw("profile-events", ada("p1", cid="c-5"), key="c-5"),
                      raw("profile-events", None, key="c-5")])           # c-5 erased
    pipeline.process([raw("profile-events", ada("p2", cid="c-5", at="2026-11-21T10:00:00Z"), key="c-5")])
    kafka = FakeKafka()
    report = replay(sessions, kafka)
    [(copy, _), (spec, _)] = kafka.sent
    assert copy.value == NOT_UTF8 and copy.key == b"c-9"  # the very bytes, not the text with replacements
    assert json.loads(spec.value)["role_id"] == "r-9"
    assert report.skipped == {"role r-8 changed after it failed (send the spec again instead)": 1,
                              "radar-timers is not an input topic": 1, "its value was not kept": 1}


def test_the_command_prints_one_line_each_and_refuses_bad_input(sessions, database_url, monkeypatch, capsys):
    monkeypatch.setenv("RADAR_DATABASE_URL", database_url)
    Pipeline(sessions).process([raw("lead-events", lead("l1"), key="c-1")])
    capsys.readouterr()  # the worker's log lines
    assert main(["dlq", "list", "--reason", "no lead"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert "lead-events:0:" in line and "no lead for role r-7 and candidate c-1" in line
    assert main(["dlq", "replay", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would send 1 dead letter(s)" in out and "nothing was sent (--dry-run)" in out
    for bad in (["--since", "last tuesday"], ["--topic", "match-alerts"], ["--limit", "0"]):
        assert main(["dlq", "list", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("radar: error: ") and len(err.splitlines()) == 1


def _replays(sessions) -> int:
    with sessions() as session:
        return len(session.scalars(select(DeadLetterReplay)).all())


def _lead_status(sessions, cid):
    with sessions() as session:
        return session.scalar(select(LeadRow.status).where(LeadRow.candidate_id == cid, LeadRow.role_id == "r-7"))


# -- through Kafka ------------------------------------------------------------------


@pytest.fixture
def deployment(kafka_bootstrap, database_url, tmp_path):
    deployment = Deployment(kafka_bootstrap, database_url, tmp_path)
    yield deployment
    deployment.stop_all()


def radar(deployment, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "services.cli", "dlq", *args], env=deployment.env,
                          cwd=deployment.workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def records(deployment, logical_topic: str, timeout: float = 3.0) -> list:
    """Every record on a topic, with its headers."""
    async def read():
        from aiokafka import AIOKafkaConsumer, TopicPartition
        consumer = AIOKafkaConsumer(bootstrap_servers=deployment.bootstrap, group_id=None,
                                    auto_offset_reset="earliest")
        await consumer.start()
        found, deadline = [], time.monotonic() + timeout
        try:
            topic = deployment.topic(logical_topic)
            await consumer._client.force_metadata_update()
            consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
            await consumer.seek_to_beginning()
            while time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    found.extend(batch)
        finally:
            await consumer.stop()
        return found
    return asyncio.run(read())


def count(deployment, query: str) -> int:
    engine = create_engine(deployment.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query)).scalar()
    finally:
        engine.dispose()


@pytest.mark.integration
def test_replay_through_kafka_applies_a_lead_change_once_after_its_lead_began(deployment):
    letters = f"SELECT count(*) FROM outbox WHERE topic = '{deployment.topic('dead-letters')}'"
    deployment.start("worker")
    deployment.send("lead-events", [lead("l1"), lead("l2", cid="c-2")], key_field="candidate_id")
    deployment.wait_for_sql(letters, {}, 2)
    assert "no lead for role r-7" in radar(deployment, "list", "--reason", "no lead", "--topic", "lead-events")

    deployment.send("role-specs", [role_spec("r-7")], key_field="role_id")  # the fix: the alert starts c-1's lead
    deployment.wait_for_role("r-7")
    deployment.send("profile-events", [ada("p1")], key_field="candidate_id")
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-1'", {}, "new")

    out = radar(deployment, "replay", "--reason", "no lead", "--dry-run")
    assert "would send 2 dead letter(s)" in out and len(records(deployment, "lead-events")) == 2
    out = radar(deployment, "replay", "--reason", "no lead")
    assert "sent 2 dead letter(s)" in out
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-1'", {}, "contacted")
    deployment.wait_for_sql(letters, {}, 3)  # c-2 has no lead yet: its copy fails again
    copies = [r for r in records(deployment, "lead-events") if dict(r.headers).get("radar-replay-of")]
    assert len(copies) == 2 and {r.key for r in copies} == {b"c-1", b"c-2"}
    assert count(deployment, "SELECT count(*) FROM lead_history WHERE event_id = 'l1'") == 1

    listing = radar(deployment, "list").splitlines()
    assert "replay of #" in listing[0] and "key c-2" in listing[0]  # the newest: the copy's own dead letter
    out = radar(deployment, "replay", "--reason", "no lead")
    assert "sent 0 dead letter(s)" in out and "2 replayed before" in out and "1 a replay's own dead letter" in out
    time.sleep(2)
    assert len(records(deployment, "lead-events")) == 4 and count(deployment, letters) == 3  # nothing sent

    deployment.send("profile-events", [ada("p2", cid="c-2")], key_field="candidate_id")  # c-2's lead begins
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-2'", {}, "new")
    assert "sent 1 dead letter(s)" in radar(deployment, "replay", "--again")
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-2'", {}, "contacted")
    assert "sent 0 dead letter(s)" in radar(deployment, "replay", "--again")
    assert count(deployment, "SELECT count(*) FROM dead_letter_replays") == 3
    dead = deployment.read("dead-letters", lambda m: len(m) >= 3)
    assert [m["key"] for m in dead].count("c-2") == 2
    assert count(deployment, "SELECT count(*) FROM lead_history WHERE event_id = 'l2'") == 1
