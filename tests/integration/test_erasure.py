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
from services.domain.transitions import stable_id
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


def sent(sessions, since: int = 0) -> list[dict]:
    """The alerts and withdrawals in the outbox after row `since`, in order."""
    with sessions() as session:
        return [r.payload | {"_row": r.id} for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if r.topic.endswith("match-alerts") and r.id > since]


def zelda_not_to_contact(event_id: str, at: str, no: bool = True):
    return zelda(event_id, at, profile={**json.loads(zelda().value)["profile"], "do_not_contact": no})


def one_life(pipeline, sessions, first, left_at: str) -> tuple[str, str]:
    """The candidate enters r-7 with `first` and leaves it: (alert id, withdrawal id)."""
    since = max([m["_row"] for m in sent(sessions)], default=0)
    pipeline.process([first])
    pipeline.process([zelda_not_to_contact(f"{first.offset}-left", left_at)])
    alert, withdrawal = [m for m in sent(sessions, since) if m["role_id"] == "r-7"]
    assert alert["type"] == "match.alert" and withdrawal["type"] == "match.withdrawn"
    assert withdrawal["withdraws_alert_id"] == alert["alert_id"]
    return alert["alert_id"], withdrawal["alert_id"]


def test_a_readmitted_candidate_never_gets_an_id_of_an_earlier_life(sessions):
    """Receivers drop an alert id they saw before: a new life after re-admission must not
    reuse the ids of the one before the erasure, while a redelivery still repeats nothing."""
    pipeline = Pipeline(sessions)
    pipeline.process([raw("role-specs", role_spec("r-7", nice_to_have=[]))])
    lives = [one_life(pipeline, sessions, zelda(), "2026-11-20T12:00:00Z")]
    assert lives[0] == (stable_id("al", "r-7", WHO, 1), stable_id("wd", "r-7", WHO, 2))  # ids as they always were

    pipeline.process([raw("profile-events", None, key=WHO)])  # erased
    readmitting = zelda("p3", "2026-11-23T10:00:00Z", consent_renewed=True)
    lives.append(one_life(pipeline, sessions, readmitting, "2026-11-23T12:00:00Z"))
    assert not set(lives[1]) & set(lives[0])
    assert "candidates" in traces(sessions)

    again = pipeline.process([readmitting])  # redelivered: nothing new
    assert again.duplicates == 1 and again.alerts == 0 and again.dead_letters == 0

    # A role made now finds the candidate through the role path: an id of this life too.
    since = max(m["_row"] for m in sent(sessions))
    pipeline.process([zelda_not_to_contact("p4", "2026-11-24T10:00:00Z", no=False)])
    pipeline.process([raw("role-specs", role_spec("r-8", nice_to_have=[]))])
    by_role = {m["role_id"]: m["alert_id"] for m in sent(sessions, since)}
    assert set(by_role) == {"r-7", "r-8"} and by_role["r-8"] != stable_id("al", "r-8", WHO, 1)

    # Erased again, then re-admitted: a third life, with ids of its own on both roles.
    second = [m["alert_id"] for m in sent(sessions)]
    pipeline.process([raw("profile-events", None, key=WHO), zelda("p5", "2026-11-25T08:00:00Z")])
    assert "candidates" not in traces(sessions)  # an event after the erasure in its batch is refused too
    lives.append(one_life(pipeline, sessions, zelda("p6", "2026-11-25T10:00:00Z", consent_renewed=True),
                          "2026-11-25T12:00:00Z"))
    third = [m["alert_id"] for m in sent(sessions)]
    assert len(third) == 4 and not set(third) & {*second, *lives[0]}

    pipeline.process([raw("profile-events", None, key=WHO)])  # and what is kept of it holds no id in clear
    left = traces(sessions)
    assert list(left) == ["outbox"] and all("candidate-erasures" in row for row in left["outbox"])


def test_erasure_forgets_the_candidates_timer_ids_and_keeps_the_others(sessions):
    """Timer event ids name the candidate (and a tenure's, the employer): erased with it, so no
    id stays in clear and a life after re-admission finds none of its timers already taken.
    Other candidates keep theirs, also those whose id begins with this one (an id that merely
    ends with it may lose a row: a redelivered timer then settles again what it settled)."""
    from datetime import datetime, timezone

    from schemas.events import timer_event_id
    from services.adapters.store.models import ProcessedEvent
    from services.app.rescore import request

    other, at = "cand-zq-7", datetime(2026, 11, 20, tzinfo=timezone.utc)
    long_id = WHO + "-" + "x" * 180  # its timers' ids would be too long: they name it by a digest
    ids = {who: [timer_event_id("tenure", who, who, "Initrode", 24),
                 timer_event_id("snooze", who, "r-7", who, "2026-12-01", "20261120T100000000000"),
                 request("20261201T150000-ab12", who, at)["event_id"]] for who in (WHO, other, long_id, WHO + "b")}
    assert all(len(event_id) <= 200 for listed in ids.values() for event_id in listed)
    assert ids[long_id][0].startswith("tenure-") and long_id not in ids[long_id][0]
    with sessions() as session:
        session.add_all(ProcessedEvent(stream="TimerEvent", event_id=event_id, processed_at=at)
                        for listed in ids.values() for event_id in listed)
        session.add(ProcessedEvent(stream="ProfileEvent", event_id=f"profile-{WHO}", processed_at=at))
        session.commit()
    pipeline = Pipeline(sessions)
    pipeline.process([raw("profile-events", None, key=WHO), raw("profile-events", None, key=long_id)])
    with sessions() as session:
        kept = set(session.scalars(select(ProcessedEvent.event_id).where(~ProcessedEvent.stream.like("Candidate%"))))
    assert kept == {*ids[other], *ids[WHO + "b"], f"profile-{WHO}"}  # an id the producer chose is not ours to read
