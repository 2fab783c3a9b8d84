"""Erasure on request: no row in any table keeps the candidate's id or values afterwards, a
later event for the id is a dead letter, consent re-admits; through the pipeline (SQLite and
PostgreSQL) and through the API, Kafka and a real worker."""
import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services.adapters.store.models import Base, OutboxMessage
from services.api import create_app
from services.app.notifier import Notifier
from services.app.pipeline import Pipeline
from services.app.subscriptions import SubscriptionIn, subscribe
from services.config import Settings
from tests.helpers import bearer, note, position, profile_event, raw, role_spec
from tests.integration.kafka_helpers import Deployment

WHO, NAME, CITY = "cand-zq-77", "Zelda Quartermaine", "Reykjavik"


def zelda(event_id="p1", at="2026-11-20T10:00:00Z", **extra):
    event = profile_event(event_id, WHO, at, name=NAME, headline="Staff engineer", location=CITY,
                          skills=["Python", "Kafka"], positions=[position("Engineer", "Initrode")])
    return raw("profile-events", {**event, **extra}, key=WHO)


def traces(sessions) -> dict[str, list[str]]:
    """Every row of every table that mentions the candidate's id or values (as text)."""
    found = {}
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                line = json.dumps([str(v) for v in row], ensure_ascii=False)
                if any(value in line for value in (WHO, NAME, CITY, "Initrode")):
                    found.setdefault(table.name, []).append(line[:200])
    return found


def test_erasure_leaves_no_row_with_the_candidate_and_a_later_event_is_refused(sessions):
    pipeline = Pipeline(sessions)
    pipeline.process([raw("role-specs", role_spec("r-7", owner="lead@example.com", nice_to_have=[]))])
    subscribe(sessions, SubscriptionIn.model_validate({"channel": "email", "address": "a@b.example", "mode": "digest"}))
    subscribe(sessions, SubscriptionIn.model_validate({"channel": "webhook", "url": "https://hooks.example/x",
                                                         "secret": "s" * 20}))
    pipeline.process([zelda()])
    pipeline.process([raw("profile-events", profile_event("p1b", WHO, "2026-11-20T11:00:00Z", name=NAME,
                                                          location=CITY, skills=["Python", "Kafka", "Rust"],
                                                          positions=[position("Engineer", "Initrode")]), key=WHO)])
    pipeline.process([raw("interview-notes", note("n1", WHO, f"{NAME} is strong in Kafka; check back in 2 months."),
                          key=WHO)])
    pipeline.process([raw("lead-events", {"event_id": "l1", "role_id": "r-7", "candidate_id": WHO,
                                          "status": "contacted", "note": f"called {NAME}",
                                          "occurred_at": "2026-11-21T10:00:00Z"}, key=WHO)])
    pipeline.process([raw("profile-events", b'{"candidate_id": "' + WHO.encode() + b'", "name": "' + NAME.encode()
                          + b'"', key=WHO)])  # a dead letter that holds its values
    with sessions() as session:
        alerts = [r.payload for r in session.scalars(select(OutboxMessage)) if r.topic.endswith("match-alerts")]
    Notifier(sessions, "http://radar.example").plan(alerts)
    before = traces(sessions)
    assert {"candidates", "profile_snapshots", "candidate_skills", "notes", "leads", "lead_history", "alerts",
            "deliveries", "digest_items", "outbox", "match_state", "follow_ups", "signals"} <= set(before)

    result = pipeline.process([raw("profile-events", None, key=WHO)])  # the erasure: a tombstone
    assert result.processed == 1
    left = traces(sessions)
    # one row only: the notice on candidate-erasures, waiting for the relay (which deletes it once sent)
    assert list(left) == ["outbox"] and len(left["outbox"]) == 1 and "candidate-erasures" in left["outbox"][0]

    later = pipeline.process([zelda("p2", "2026-11-22T10:00:00Z")])
    assert later.dead_letters == 1 and later.processed == 0
    with sessions() as session:
        letter = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().payload
    assert "erased on request" in letter["error"] and letter["value"] is None  # its values are not kept
    assert "candidates" not in traces(sessions)

    pipeline.process([zelda("p3", "2026-11-23T10:00:00Z", consent_renewed=True)])
    assert "candidates" in traces(sessions)  # consent re-admits


@pytest.fixture
def deployment(kafka_bootstrap, database_url, tmp_path):
    deployment = Deployment(kafka_bootstrap, database_url, tmp_path)
    yield deployment
    deployment.stop_all()


@pytest.mark.integration
def test_erasure_through_the_api_kafka_and_a_worker(deployment, database_url, kafka_bootstrap):
    deployment.start("worker")
    deployment.send("profile-events", [json.loads(zelda().value)], key_field="candidate_id")
    deployment.wait_for_sql("SELECT count(*) FROM candidates", {}, 1)
    settings = Settings.from_env(database_url=database_url, kafka_bootstrap=kafka_bootstrap,
                                 topic_prefix=deployment.prefix)
    client = TestClient(create_app(settings), headers=bearer(database_url, "admin"))
    assert client.get(f"/candidates/{WHO}").status_code == 200
    assert client.delete(f"/candidates/{WHO}").status_code == 202
    deadline = time.monotonic() + 60
    while client.get(f"/candidates/{WHO}").status_code != 404 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert client.get(f"/candidates/{WHO}").status_code == 404
    [notice] = deployment.read("candidate-erasures", lambda m: len(m) >= 1)
    assert notice["type"] == "candidate.erased" and notice["candidate_id"] == WHO
    deployment.wait_for_sql("SELECT count(*) FROM outbox WHERE topic LIKE '%candidate-erasures'", {}, 0)
    deployment.send("profile-events", [json.loads(zelda("p9", "2026-11-25T10:00:00Z").value)],
                    key_field="candidate_id")
    letters = deployment.read("dead-letters", lambda m: len(m) >= 1)
    assert "erased on request" in letters[0]["error"] and letters[0]["value"] is None
    with deployment_engine(database_url) as connection:
        audit = connection.execute(text("SELECT target FROM audit_log WHERE action = 'candidate.erase'")).scalar()
    assert audit != WHO  # the audit keeps a hash of the id, not the id


class deployment_engine:
    def __init__(self, url):
        from sqlalchemy import create_engine
        self.engine = create_engine(url)

    def __enter__(self):
        self.connection = self.engine.connect()
        return self.connection

    def __exit__(self, *exc):
        self.connection.close()
        self.engine.dispose()
