"""Leads through the real broker and a real worker (SQLite and PostgreSQL): what people say
of an alert changes what is sent next; bad lead events are dead letters, the stream goes on."""
import time

import pytest

from tests.helpers import position, profile_event, role_spec
from tests.integration.kafka_helpers import Deployment

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(kafka_bootstrap, database_url, tmp_path):
    deployment = Deployment(kafka_bootstrap, database_url, tmp_path)
    yield deployment
    deployment.stop_all()


def ada(event_id, at, company="Northwind", cid="c-1"):
    return profile_event(event_id, cid, at, skills=["Python", "Kafka"], location="Berlin, Germany",
                         positions=[position("Senior Data Engineer", company)])


def lead(event_id, status, cid="c-1", role_id="r-7", **fields):
    return {"event_id": event_id, "role_id": role_id, "candidate_id": cid, "status": status,
            "occurred_at": "2026-11-22T12:00:00Z", "actor": "sourcer@example.com", **fields}


def alerts(messages, cid="c-1"):
    return [m for m in messages if m["type"] == "match.alert" and m["candidate_id"] == cid]


def test_feedback_changes_what_is_sent_and_bad_lead_events_are_dead_letters(deployment):
    deployment.start("worker")
    deployment.send("role-specs", [role_spec("r-7", exclude_companies=["Initech"])], key_field="role_id")
    deployment.wait_for_role("r-7")
    deployment.send("profile-events", [ada("p1", "2026-11-20T10:00:00Z")], key_field="candidate_id")
    deployment.read("match-alerts", lambda m: len(alerts(m)) == 1)
    deployment.wait_for_sql("SELECT status FROM leads WHERE role_id = 'r-7' AND candidate_id = 'c-1'", {}, "new")

    not_a_fit = lead("l1", "not_a_fit", reason="wrong_level", note="wants to manage")
    deployment.send("lead-events", [not_a_fit, not_a_fit], key_field="candidate_id")  # the second: a redelivery
    deployment.send("profile-events", [ada("p2", "2026-11-21T10:00:00Z", "Initech"),
                                       ada("p3", "2026-11-21T11:00:00Z")], key_field="candidate_id")
    deployment.wait_for_sql("SELECT count(*) FROM held_back_alerts", {}, 1)
    messages = deployment.read("match-alerts", lambda m: False, timeout=3)
    assert len(alerts(messages)) == 1  # re-entry after "not a fit": nothing sent
    assert [m["type"] for m in messages].count("match.withdrawn") == 1
    deployment.wait_for_sql("SELECT count(*) FROM lead_history WHERE event_id = 'l1'", {}, 1)  # applied once

    deployment.send("role-specs", [role_spec("r-7", exclude_companies=["Initech"], nice_to_have=["Go"])],
                    key_field="role_id")  # the role changed after the feedback
    deployment.wait_for_sql("SELECT revision FROM role_specs WHERE role_id = 'r-7'", {}, 2)
    deployment.send("profile-events", [ada("p4", "2026-11-22T10:00:00Z", "Initech"),
                                       ada("p5", "2026-11-22T11:00:00Z")], key_field="candidate_id")
    deployment.read("match-alerts", lambda m: len(alerts(m)) == 2)

    deployment.send("lead-events", [lead("l2", "hired")], key_field="candidate_id")
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-1'", {}, "hired")
    deployment.send("lead-events", [
        lead("l3", "new"),                                        # hired -> new makes no sense
        lead("l4", "reviewed", role_id="r-404"),                  # no such lead
        dict(lead("l5", "reviewed"), status="adored"),            # no such status
    ], key_field="candidate_id")
    deployment.send("profile-events", [ada("p6", "2026-11-23T10:00:00Z", "Initech"),
                                       ada("p7", "2026-11-23T11:00:00Z")], key_field="candidate_id")
    letters = deployment.read("dead-letters", lambda m: len(m) >= 3)
    reasons = sorted(letter["error"] for letter in letters)
    assert any("the lead is closed (hired); it cannot become new" in r for r in reasons)
    assert any("no lead for role r-404 and candidate c-1" in r for r in reasons)
    assert any(r.startswith("schema validation failed: status") for r in reasons)
    deployment.wait_for_sql("SELECT count(*) FROM held_back_alerts WHERE reason = 'lead closed (hired)'", {}, 1)
    assert len(alerts(deployment.read("match-alerts", lambda m: False, timeout=3))) == 2  # hired: closed


def test_a_snooze_ends_by_the_scheduler_and_the_pair_alerts_once_more(deployment):
    deployment.start("worker")
    deployment.send("role-specs", [role_spec("r-7")], key_field="role_id")
    deployment.wait_for_role("r-7")
    deployment.send("profile-events", [ada("p1", "2026-11-20T10:00:00Z")], key_field="candidate_id")
    deployment.read("match-alerts", lambda m: len(alerts(m)) == 1)
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-1'", {}, "new")
    deployment.send("lead-events", [lead("s1", "snoozed", until="2026-11-30")], key_field="candidate_id")
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-1'", {}, "snoozed")
    deployment.start("scheduler")  # 2026-11-30 is past: the scheduler ends the snooze
    messages = deployment.read("match-alerts", lambda m: len(alerts(m)) == 2, timeout=90)
    again = alerts(messages)[1]
    assert [r["text"] for r in again["reasons"] if r["kind"] == "change"] == ["the snooze until 2026-11-30 ended"]
    deployment.wait_for_sql("SELECT status FROM leads WHERE candidate_id = 'c-1'", {}, "new")
    time.sleep(4)  # the scheduler scans every second: the woken lead is not woken twice
    assert len(alerts(deployment.read("match-alerts", lambda m: False, timeout=3))) == 2
