"""The HTTP API over a real database; what it would publish is captured, not sent."""
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.app.pipeline import Pipeline
from services.config import Settings
from tests.helpers import bearer, note, position, profile_event, raw, role_spec

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def api(sessions, database_url):
    sent = []

    async def produce(topic, messages):
        sent.extend((topic, key, value) for key, value in messages)

    pipeline = Pipeline(sessions, clock=lambda: NOW)
    pipeline.process([raw("role-specs", role_spec("r-7"))])
    pipeline.process([raw("profile-events", profile_event("p1", "c-1", skills=["Python", "Kafka"], open_to_work=True,
                                                           positions=[position("Senior Data Engineer", "Northwind")]))])
    pipeline.process([raw("interview-notes", note("n-1", "c-1", "Strong in Flink. Open to offers."))])
    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1"), produce),
                        headers=bearer(database_url))
    return client, sent


def test_health_reports_each_dependency(api):
    client, _ = api
    response = client.get("/health")
    assert response.status_code == 503  # no broker at 127.0.0.1:1
    assert response.json()["checks"] == {"database": "ok", "kafka": "unreachable", "workers": "ok"}


def test_metrics_are_prometheus_text(api):
    client, _ = api
    body = client.get("/metrics").text
    assert "radar_outbox_backlog" in body and "radar_relevant_pairs 1.0" in body


def test_candidate_context(api):
    client, _ = api
    context = client.get("/candidates/c-1").json()
    assert {s["skill"] for s in context["skills"]} >= {"python", "kafka", "flink"}
    flink = next(s for s in context["skills"] if s["skill"] == "flink")
    assert flink["origin"] == "note" and "n-1" in flink["evidence"]
    assert context["readiness"]["score"] > 0.5 and context["readiness"]["reasons"]
    assert any(item["kind"] == "note" for item in context["timeline"])
    assert client.get("/candidates/nobody").status_code == 404


def test_shortlist_and_alerts(api):
    client, _ = api
    shortlist = client.get("/roles/r-7/shortlist").json()
    assert [c["candidate_id"] for c in shortlist["candidates"]] == ["c-1"]
    assert shortlist["candidates"][0]["reasons"]
    assert client.get("/roles/nope/shortlist").status_code == 404
    assert client.get("/alerts").json()[0]["role_id"] == "r-7"


def test_role_changes_are_published_to_role_specs(api):
    client, sent = api
    assert client.post("/roles/r-7/pause").status_code == 202
    assert sent[-1][0] == "role-specs" and sent[-1][2]["status"] == "paused"
    assert client.delete("/roles/r-7").status_code == 202 and sent[-1][2] is None
    bad = client.put("/roles/r-8", json={"status": "open"})
    assert bad.status_code == 422 and "title" in bad.json()["detail"]
    assert client.put("/roles/r-8", json={"status": "open", "title": "X", "must_have": ["Go"]}).status_code == 202
    assert client.post("/roles/nope/close").status_code == 404


def test_do_not_contact_goes_through_profile_events(api):
    client, sent = api
    assert client.post("/candidates/c-1/do-not-contact").status_code == 202
    topic, key, event = sent[-1]
    assert topic == "profile-events" and key == "c-1" and event["profile"] == {"do_not_contact": True}


def test_times_carry_their_utc_offset(api):
    client, _ = api

    def utc(text):
        return text.endswith(("Z", "+00:00"))
    context = client.get("/candidates/c-1").json()
    assert utc(context["updated_at"]) and utc(context["skills"][0]["first_seen_at"])
    assert all(utc(item["at"]) for item in context["timeline"])
    assert utc(client.get("/roles/r-7/shortlist").json()["candidates"][0]["relevant_since"])


def test_hostile_path_ids_get_one_clear_error_never_a_500(api):
    client, sent = api
    long_id = "c" * 300
    response = client.post(f"/candidates/{long_id}/do-not-contact")
    assert response.status_code == 422 and response.json()["detail"] == "candidate_id: at most 200 characters, got 300"
    assert sent == []  # nothing published that would stall the worker
    assert client.get("/candidates/%00").status_code == 422
    assert "control characters" in client.get("/candidates/%00").json()["detail"]
    assert client.get(f"/roles/{long_id}/shortlist").status_code == 422
    assert client.put(f"/roles/{long_id}", json={"status": "open", "title": "X"}).status_code == 422


def test_an_oversized_role_is_refused_clearly(api):
    client, sent = api
    too_long = client.put("/roles/r-9", json={"status": "open", "title": "X", "description": "d" * 25_000})
    assert too_long.status_code == 422 and "description: at most 20000 characters, got 25000" in too_long.json()["detail"]
    huge = client.put("/roles/r-9", content=b'{"description": "' + b"d" * 2_000_000 + b'"}',
                      headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "over 1,000,000 bytes" in huge.json()["detail"]
    assert sent == []


def test_a_broker_that_cannot_take_the_change_is_a_503_not_a_500(sessions, database_url):
    async def down(topic, messages):
        raise ConnectionError("broker down")

    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1"), down),
                        headers=bearer(database_url))
    response = client.post("/candidates/c-1/do-not-contact")
    assert response.status_code == 503 and response.json()["detail"].startswith("could not publish to profile-events")


def test_health_names_a_stalled_worker(api, sessions):
    from datetime import timedelta

    from services.adapters.store.db import utcnow
    from services.adapters.store.heartbeats import WorkerPulse, beat

    client, _ = api
    beat(sessions, WorkerPulse("worker-7", started_at=utcnow(), retrying_since=utcnow() - timedelta(seconds=120),
                               last_error="store: OperationalError at services/pipeline.py:1"))
    checks = client.get("/health").json()["checks"]
    assert checks["workers"].startswith("worker-7: batch retrying for 1")
    assert 'radar_worker_stalled{worker="worker-7"} 1.0' in client.get("/metrics").text


def test_subscriptions_are_created_listed_and_removed(api, database_url):
    client, _ = api
    created = client.post("/subscriptions", json={"channel": "webhook", "url": "https://hooks.example/radar",
                                                  "secret": "whsec-0123456789abcdef", "roles": ["r-7"],
                                                  "types": ["match.alert"], "min_fit": 0.7, "mode": "instant"})
    assert created.status_code == 201
    shown = created.json()
    assert shown["id"].startswith("sub-") and shown["roles"] == ["r-7"] and shown["min_fit"] == 0.7
    assert "secret" not in shown and shown["signed"] is True  # the secret never leaves the store
    digest = client.post("/subscriptions", json={"channel": "email", "address": "lead@example.com", "mode": "digest",
                                                 "digest": {"every": "day", "at": "08:00", "tz": "Europe/Berlin"}})
    assert digest.status_code == 201 and digest.json()["digest"] == {"every": "day", "at": "08:00",
                                                                     "tz": "Europe/Berlin"}
    assert {s["id"] for s in client.get("/subscriptions").json()} == {shown["id"], digest.json()["id"]}
    slack = client.post("/subscriptions", json={"channel": "slack", "url": "https://hooks.slack.com/services/T0/B0/XYZ"})
    listed = {s["id"]: s["target"] for s in client.get("/subscriptions").json()}
    assert listed[slack.json()["id"]] == "https://hooks.slack.com/services/T0/B0/XYZ"  # an admin sees it whole
    viewer = client.get("/subscriptions", headers=bearer(database_url, "viewer")).json()
    assert {s["target"] for s in viewer} == {"https://hooks.slack.com/…", "https://hooks.example/…",
                                             "lead@example.com"}  # a URL can be a credential
    assert client.delete(f"/subscriptions/{slack.json()['id']}").status_code == 200
    assert client.delete(f"/subscriptions/{shown['id']}").status_code == 200
    assert client.delete(f"/subscriptions/{shown['id']}").status_code == 404
    assert [s["id"] for s in client.get("/subscriptions").json()] == [digest.json()["id"]]


@pytest.mark.parametrize("body,says", [
    ({"channel": "pigeon", "url": "https://x.example"}, "channel"),
    ({"channel": "webhook", "url": "nope", "secret": "whsec-0123456789abcdef"}, "url: must be an http(s) URL"),
    ({"channel": "webhook", "url": "https://x.example"}, "needs a secret"),
    ({"channel": "email", "address": "a@b.example", "mode": "digest", "digest": {"tz": "Atlantis/Capital"}},
     "digest.tz: no such time zone"),
])
def test_bad_subscriptions_are_one_clear_422(api, body, says):
    client, _ = api
    response = client.post("/subscriptions", json=body)
    assert response.status_code == 422 and says in response.json()["detail"]


def test_failed_deliveries_are_listed_and_sent_again(api, sessions):
    from services.adapters.store import notifications as store
    from services.adapters.store.db import utcnow

    client, _ = api
    with sessions.begin() as session:
        store.plan(session, [{"subscription_id": "sub-x", "key": "al-1", "channel": "webhook", "kind": "instant",
                              "payload": {}, "status": "failed", "attempts": 3, "next_attempt_at": utcnow(),
                              "created_at": utcnow(), "last_error": "HTTP 404"}])
    [failed] = client.get("/deliveries?status=failed").json()
    assert failed["last_error"] == "HTTP 404"
    assert client.post(f"/deliveries/{failed['id']}/retry").json() == {"retrying": 1}
    assert client.post(f"/deliveries/{failed['id']}/retry").status_code == 404  # not failed any more
    assert client.get("/deliveries?status=pending").json()[0]["id"] == failed["id"]
    assert client.get("/deliveries?status=bogus").status_code == 422
