"""`radar rescore` against a real store (SQLite and PostgreSQL) through the pipeline, and
through Kafka with a real worker whose rules change between two runs (a new release)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select, text

from services.adapters.store.models import Candidate, CandidatePlace, CandidateSkill, OutboxMessage
from services.app.pipeline import Pipeline
from services.cli.rescore import request
from tests.helpers import position, profile_event, raw, role_spec
from tests.integration.kafka_helpers import Deployment
from tests.unit.test_rescore import release  # noqa: F401 (the fixture)

NOW = "2026-11-24T10:00:00Z"
RELEASE = {"redpanda": "kafka", "postgres": None}  # Redpanda now counts as Kafka; "Postgres" no longer


def profiles() -> list[dict]:
    def one(cid, skills, location="Berlin, Germany"):
        return profile_event(f"p-{cid}", cid, "2026-11-20T10:00:00Z", skills=skills, location=location,
                             positions=[position("Senior Data Engineer", "Northwind")])
    return [one("c-1", ["Python", "Redpanda"]), one("c-2", ["Postgres"]), one("c-3", ["Kafka", "Redpanda"])]


def roles() -> list[dict]:
    return [role_spec("r-k", must_have=["Kafka"], nice_to_have=[]),
            role_spec("r-p", must_have=["PostgreSQL"], nice_to_have=[])]


def alerts_in_outbox(sessions) -> list[dict]:
    with sessions() as session:
        return [row.payload for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if row.payload.get("type") in ("match.alert", "match.withdrawn")]


def test_a_rescore_stores_what_the_new_rules_read_and_sends_only_the_new_transitions(sessions, release):  # noqa: F811
    pipeline = Pipeline(sessions)
    pipeline.process([raw("role-specs", spec) for spec in roles()])
    pipeline.process([raw("profile-events", event, key=event["candidate_id"]) for event in profiles()])
    assert len(alerts_in_outbox(sessions)) == 2  # r-p/c-2, r-k/c-3

    def rescore(run):
        return pipeline.process([raw("radar-timers", request(run, cid, pipeline.clock()), key=cid)
                                 for cid in ("c-1", "c-2", "c-3")])

    unchanged = rescore("same-rules")
    assert (unchanged.processed, unchanged.alerts, unchanged.withdrawals, unchanged.signals) == (3, 0, 0, 0)
    release(RELEASE)
    changed = rescore("new-rules")
    assert (changed.processed, changed.alerts, changed.withdrawals, changed.signals) == (3, 1, 1, 0)
    new = alerts_in_outbox(sessions)[2:]
    assert [(m["type"], m["role_id"], m["candidate_id"]) for m in new] == [
        ("match.alert", "r-k", "c-1"), ("match.withdrawn", "r-p", "c-2")]
    assert new[0]["reasons"][0]["text"] == "re-evaluated after a rules update (rescore new-rules)"
    with sessions() as session:
        rows = {(r.candidate_id, r.skill): r.evidence for r in session.scalars(select(CandidateSkill))}
        views = {c.candidate_id: c.view["profile"]["skills"] for c in session.scalars(select(Candidate))}
        places = sorted((p.candidate_id, p.place) for p in session.scalars(select(CandidatePlace)))
    assert sorted(rows) == [("c-1", "kafka"), ("c-1", "python"), ("c-2", "postgres"), ("c-3", "kafka")]
    assert rows[("c-1", "kafka")] == "linkedin profile p-c-1 (2026-11-20)"  # the evidence kept
    assert views == {"c-1": ["python", "kafka"], "c-2": ["postgres"], "c-3": ["kafka"]}
    assert places == [(c, p) for c in ("c-1", "c-2", "c-3") for p in ("berlin", "germany")]

    again = rescore("new-rules-again")
    assert (again.processed, again.alerts, again.withdrawals) == (3, 0, 0)
    redelivered = rescore("new-rules")
    assert (redelivered.processed, redelivered.duplicates) == (0, 3)
    assert len(alerts_in_outbox(sessions)) == 4


def test_a_rescore_and_a_profile_event_in_one_batch(sessions, release):  # noqa: F811
    """A key the batch adds before the rescore merges it into an older one is written once."""
    pipeline = Pipeline(sessions)
    pipeline.process([raw("role-specs", spec) for spec in roles()])
    pipeline.process([raw("profile-events", profiles()[0], key="c-1")])  # stores "redpanda"
    release(RELEASE)
    later = profile_event("p-c-1b", "c-1", "2026-11-21T10:00:00Z", skills=["Python", "Redpanda"])
    result = pipeline.process([raw("profile-events", later, key="c-1"),  # adds "kafka" (pending in the batch)
                               raw("radar-timers", request("run", "c-1", pipeline.clock()), key="c-1")])
    assert result.processed == 2 and result.dead_letters == 0
    with sessions() as session:
        rows = {r.skill: r.evidence for r in session.scalars(select(CandidateSkill))}
    assert rows == {"kafka": "linkedin profile p-c-1 (2026-11-20)", "python": "linkedin profile p-c-1 (2026-11-20)"}


# -- through Kafka, with a real worker -------------------------------------------------

SITECUSTOMIZE = textwrap.dedent('''
    """Test hook: a worker started with RADAR_TEST_RELEASE runs changed skill aliases (a new release)."""
    import json
    import os

    _release = json.loads(os.environ.get("RADAR_TEST_RELEASE") or "null")
    if _release:
        from services.domain import taxonomy

        for surface, key in _release.items():
            for form in taxonomy._forms(taxonomy._light(surface)):
                if key is None:
                    taxonomy._INDEX.pop(form, None)
                else:
                    taxonomy._INDEX[form] = key
''')


@pytest.fixture
def deployment(kafka_bootstrap, database_url, tmp_path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    deployment = Deployment(kafka_bootstrap, database_url, tmp_path)
    deployment.extra_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")]))
    yield deployment
    deployment.stop_all()


def radar(deployment, *argv) -> str:
    done = subprocess.run([sys.executable, "-m", "services.cli", *argv], env=deployment.env, cwd=deployment.workdir,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def processed(deployment, run) -> list[str]:
    from sqlalchemy import create_engine

    engine = create_engine(deployment.database_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(text("SELECT event_id FROM processed_events WHERE event_id LIKE :p"),
                                             {"p": f"rescore-{run}-%"}).scalars())
    finally:
        engine.dispose()


@pytest.mark.integration
def test_rescore_through_kafka_and_a_worker_after_a_new_release(deployment):
    worker = deployment.start("worker")
    deployment.send("role-specs", roles(), key_field="role_id")
    deployment.wait_for_role("r-k")
    deployment.wait_for_role("r-p")
    deployment.send("profile-events", profiles(), key_field="candidate_id")
    deployment.read("match-alerts", lambda m: len(m) >= 2)

    out = radar(deployment, "rescore", "--wait", "--timeout", "120", "--run-id", "same-rules")
    assert "3 candidate(s) requested" in out and "0 alert(s) and 0 withdrawal(s) sent" in out

    deployment.stop(worker)
    deployment.extra_env["RADAR_TEST_RELEASE"] = json.dumps(RELEASE)
    deployment.start("worker")
    out = radar(deployment, "rescore", "--wait", "--timeout", "120", "--run-id", "new-rules")
    assert "1 alert(s) and 1 withdrawal(s) sent" in out
    messages = deployment.read("match-alerts", lambda m: len(m) >= 4)
    assert [(m["type"], m["role_id"], m["candidate_id"], m["triggered_by"]) for m in messages[2:]] in (
        [("match.alert", "r-k", "c-1", "rescore-new-rules-c-1"),
         ("match.withdrawn", "r-p", "c-2", "rescore-new-rules-c-2")],
        [("match.withdrawn", "r-p", "c-2", "rescore-new-rules-c-2"),
         ("match.alert", "r-k", "c-1", "rescore-new-rules-c-1")])  # two partitions: either order

    out = radar(deployment, "rescore", "--wait", "--timeout", "120", "--run-id", "twice")
    assert "0 alert(s) and 0 withdrawal(s) sent" in out

    out = radar(deployment, "rescore", "--role", "r-k", "--wait", "--timeout", "120", "--run-id", "one-role")
    assert "2 candidate(s) for role r-k requested" in out
    assert processed(deployment, "one-role") == ["rescore-one-role-c-1", "rescore-one-role-c-3"]

    deployment.wait_for_sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL", {}, 0)
    assert len(deployment.read("match-alerts", lambda m: False, timeout=3)) == 4


@pytest.mark.integration
def test_rescore_refuses_an_unknown_role(deployment):
    deployment.create_topics()
    from services.adapters.store.db import upgrade

    upgrade(deployment.database_url)
    done = subprocess.run([sys.executable, "-m", "services.cli", "rescore", "--role", "r-nope"], env=deployment.env,
                          cwd=deployment.workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("radar: error: no role 'r-nope' is stored (deleted, or never put): "
                                   "nothing to rescore for it")
