"""The funnel of a scripted history comes out exactly as calculated by hand, in the API and
the CLI (SQLite and PostgreSQL); the inbox pages newest first."""
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from services.api import create_app
from services.app.pipeline import Pipeline
from services.cli.main import main
from services.config import Settings
from tests.helpers import bearer, position, profile_event, raw, role_spec

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def scripted(sessions):
    """40 candidates alerted for r-7 (the first 20 on a new skill, the others on their first
    snapshot), then by hand: 25 reviewed, 12 of them contacted, 5 replied, 3 handed off,
    2 interviewing and hired; 6 not a fit (4 wrong_level, 2 wrong_location)."""
    clock = {"now": T0}
    pipeline = Pipeline(sessions, clock=lambda: clock["now"])
    pipeline.process([raw("role-specs", role_spec("r-7", owner="lead@example.com", must_have=["Python"],
                                                  nice_to_have=[]))])
    for i in range(40):
        first_skills = ["Go"] if i < 20 else ["Python"]
        pipeline.process([raw("profile-events", profile_event(f"a{i}", f"c-{i:02d}", "2026-11-01T10:00:00Z",
                                                              skills=first_skills,
                                                              positions=[position("Engineer", "Northwind")]))])
        if i < 20:
            pipeline.process([raw("profile-events", profile_event(f"b{i}", f"c-{i:02d}", "2026-11-02T10:00:00Z",
                                                                  skills=["Go", "Python"]))])
    steps = []  # (candidate, status, hours after the alert, extra)
    for i in range(25):
        steps.append((i, "reviewed", 2 + i, {}))  # first actions 2..26 hours after the alert
    for i in range(12):
        steps.append((i, "contacted", 30, {}))
    for i in range(5):
        steps.append((i, "replied", 50, {}))
    for i in range(3):
        steps.append((i, "handed_off", 60, {"assignee": "maria@example.com"}))
    for i in range(2):
        steps += [(i, "interviewing", 70, {}), (i, "hired", 100, {})]
    steps += [(25 + i, "not_a_fit", 5, {"reason": "wrong_level"}) for i in range(4)]
    steps += [(29 + i, "not_a_fit", 5, {"reason": "wrong_location"}) for i in range(2)]
    for n, (i, status, hours, extra) in enumerate(steps):
        at = T0 + timedelta(hours=hours)
        clock["now"] = at
        pipeline.process([raw("lead-events", {"event_id": f"l{n}", "role_id": "r-7", "candidate_id": f"c-{i:02d}",
                                              "status": status, "occurred_at": at.isoformat(),
                                              "actor": "sourcer@example.com", **extra})])


EXPECTED = {"alerts": 40, "reviewed": 25, "contacted": 12, "replied": 5, "handed_off": 3, "interviewing": 2,
            "hired": 2, "not_a_fit": 6, "not_a_fit_by_reason": {"wrong_level": 4, "wrong_location": 2},
            "response_rate": 0.4167, "conversion": 0.05, "median_hours_to_first_action": 11.0}


def test_the_funnel_of_a_scripted_history_is_exact_in_the_api_and_the_cli(sessions, database_url, capsys,
                                                                            monkeypatch):
    scripted(sessions)
    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1")),
                        headers=bearer(database_url))
    result = client.get("/funnel", params={"role": "r-7"}).json()
    # first actions: 25 reviews at 2..26 h and 6 not-a-fit marks at 5 h -> 31 values, the 16th is 11 h
    assert {k: result[k] for k in EXPECTED} == EXPECTED
    assert result["by_signal"]["new_skill"]["alerts"] == 20 and result["by_signal"]["none"]["alerts"] == 20
    assert result["by_signal"]["new_skill"]["hired"] == 2 and result["by_signal"]["none"]["hired"] == 0
    assert sum(band["alerts"] for band in result["by_readiness"].values()) == 40
    assert client.get("/funnel", params={"owner": "lead@example.com"}).json()["alerts"] == 40
    assert client.get("/funnel", params={"owner": "nobody@example.com"}).json()["alerts"] == 0
    assert client.get("/funnel", params={"since": "2026-11-03"}).json()["alerts"] == 0

    monkeypatch.setenv("RADAR_DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["funnel", "--role", "r-7"]) == 0
    out = capsys.readouterr().out
    assert "alerts              40" in out and "hired                2" in out and "response rate     41.7%" in out
    assert main(["funnel", "--role", "r-7", "--json"]) == 0
    import json
    as_json = json.loads(capsys.readouterr().out)
    assert {k: as_json[k] for k in EXPECTED} == EXPECTED


def test_the_inbox_pages_newest_first_with_a_cursor_and_a_lead_keeps_its_history(sessions, database_url):
    scripted(sessions)
    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1")),
                        headers=bearer(database_url))
    seen, cursor = [], None
    while True:
        page = client.get("/inbox", params={"status": "all", "limit": 7, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["leads"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 40 and len({(l["role_id"], l["candidate_id"]) for l in seen}) == 40
    assert [l["created_at"] for l in seen] == sorted((l["created_at"] for l in seen), reverse=True)
    new = client.get("/inbox").json()["leads"]
    assert {l["status"] for l in new} == {"new"} and len(new) == 40 - 25 - 6 + 0
    assert all(l["alert"]["reasons"] for l in new) and new[0]["role_title"] == "Senior Data Engineer"
    history = client.get("/roles/r-7/candidates/c-00/lead").json()
    assert [h["status"] for h in history["history"]] == ["new", "reviewed", "contacted", "replied", "handed_off",
                                                         "interviewing", "hired"]
    assert history["assignee"] == "maria@example.com" and history["history"][1]["actor"] == "sourcer@example.com"
    [role] = client.get("/roles").json()
    assert role["leads"] == {"hired": 2, "handed_off": 1, "replied": 2, "contacted": 7, "reviewed": 13,
                             "not_a_fit": 6, "new": 9}
    assert client.get("/inbox", params={"cursor": "garbage"}).status_code == 422


@pytest.mark.parametrize("body,status,says", [
    ({"status": "reviewed"}, 404, "no lead for role"),
    ({"status": "not_a_fit"}, 422, "not_a_fit needs a reason"),
    ({"status": "snoozed"}, 422, "snoozed needs until"),
])
def test_a_status_change_through_the_api_is_checked_first(sessions, database_url, body, status, says):
    sent = []

    async def produce(topic, messages):
        sent.extend(messages)

    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1"),
                                   produce), headers=bearer(database_url))
    response = client.post("/roles/r-7/candidates/c-00/status", json=body)
    assert response.status_code == status and says in response.json()["detail"] and sent == []


def test_bad_filters_get_one_clear_message(sessions, database_url):
    scripted(sessions)
    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1")),
                        headers=bearer(database_url))
    bogus = client.get("/inbox", params={"status": "bogus"})
    assert bogus.status_code == 422 and bogus.json()["detail"].startswith("query parameter status: Input should be")
    assert client.get("/roles", params={"status": "x"}).status_code == 422
    assert client.get("/roles/r-nope/leads").status_code == 404
    assert client.get("/funnel", params={"since": "2026-12-02", "until": "2026-12-01"}).json()["detail"] == (
        "since (2026-12-02) is after until (2026-12-01)")
    assert client.get("/inbox", params={"limit": 0}).json() == {
        "detail": "query parameter limit: Input should be greater than or equal to 1"}
    assert client.post("/subscriptions", content=b"{bad", headers={"content-type": "application/json"}).json() == {
        "detail": "body: is not valid JSON"}


def test_a_nul_in_a_filter_is_a_422_not_a_500(sessions, database_url):
    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1")),
                        headers=bearer(database_url, "admin"))
    for path, params in (("/audit", {"actor": "a\x00"}), ("/inbox", {"owner": "a\x00"})):
        answer = client.get(path, params=params)
        assert answer.status_code == 422 and "detail" in answer.json(), path
