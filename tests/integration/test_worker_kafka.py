"""The whole worker through a real Kafka broker and a real database (SQLite and PostgreSQL)."""
import time

import pytest

from tests.helpers import note, position, profile_event, role_spec
from tests.integration.kafka_helpers import Deployment

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(kafka_bootstrap, database_url, tmp_path):
    deployment = Deployment(kafka_bootstrap, database_url, tmp_path)
    yield deployment
    deployment.stop_all()


def alerts_for(messages, role_id, candidate_id, kind="match.alert"):
    return [m for m in messages if m["role_id"] == role_id and m["candidate_id"] == candidate_id and m["type"] == kind]


def candidate(event_id, cid, skills, at, company="Northwind", **extra):
    return profile_event(event_id, cid, at, skills=skills, location="Berlin, Germany",
                         positions=[position("Senior Data Engineer", company)], **extra)


def test_alert_signals_duplicates_and_dead_letters(deployment):
    deployment.start("worker")
    deployment.send("role-specs", [role_spec("r-7", locations=["Berlin"])], key_field="role_id")
    deployment.wait_for_role("r-7")
    first = candidate("p1", "c-1", ["Python"], "2026-11-20T10:00:00Z")
    second = candidate("p2", "c-1", ["Python", "Kafka"], "2026-11-21T10:00:00Z")
    deployment.send("profile-events", [first, b"{not json", {"event_id": "x"}, second, second], key_field="candidate_id")
    deployment.send("profile-events", [{"event_id": "y", "candidate_id": "c-3"}])  # unkeyed: re-keyed, then invalid
    later = candidate("p3", "c-2", ["Python", "Kafka"], "2026-11-21T11:00:00Z")
    deployment.send("profile-events", [later])  # no key: the worker re-keys it by candidate_id

    alerts = deployment.read("match-alerts", lambda m: len(alerts_for(m, "r-7", "c-2")) >= 1)
    [alert] = alerts_for(alerts, "r-7", "c-1")
    assert alert["triggered_by"] == "p2" and alert["signals"] == ["new_skill"] and alert["schema_version"] == 1
    assert any("Kafka" in r["text"] for r in alert["reasons"])
    assert len(alerts_for(alerts, "r-7", "c-2")) == 1

    letters = deployment.read("dead-letters", lambda m: len(m) >= 3)
    letters.sort(key=lambda l: l["value"])
    assert [l["value"] for l in letters] == ['{"event_id": "x"}', '{"event_id": "y", "candidate_id": "c-3"}', "{not json"]
    assert "candidate_id" in letters[0]["error"] and "source" in letters[1]["error"]
    assert "malformed JSON" in letters[2]["error"]
    # the topic, position and key as first received, also for the re-keyed one
    assert all(l["topic"] == deployment.topic("profile-events") and l["offset"] is not None for l in letters)
    assert [l["key"] for l in letters] == [None, None, None]

    signals = deployment.read("candidate-signals", lambda m: any(s["candidate_id"] == "c-1" for s in m))
    assert [(s["type"], s["detail"]["skill"]) for s in signals if s["candidate_id"] == "c-1"] == [("new_skill", "kafka")]


def test_worker_restarted_mid_stream_neither_loses_nor_repeats(deployment):
    worker = deployment.start("worker")
    deployment.send("role-specs", [role_spec("r-1", must_have=["Python"], nice_to_have=[])], key_field="role_id")
    deployment.wait_for_role("r-1")
    batch_one = [candidate(f"a{i}", f"c-{i}", ["Python"], "2026-11-20T10:00:00Z") for i in range(20)]
    deployment.send("profile-events", batch_one, key_field="candidate_id")
    deployment.read("match-alerts", lambda m: len(m) >= 5, timeout=60)
    deployment.stop(worker, hard=True)  # a crash: no clean shutdown, offsets maybe uncommitted
    batch_two = [candidate(f"b{i}", f"c-{i}", ["Python"], "2026-11-20T10:00:00Z") for i in range(20, 40)]
    deployment.send("profile-events", batch_one[:10] + batch_two, key_field="candidate_id")  # redelivered + new
    deployment.start("worker")
    alerts = deployment.read("match-alerts", lambda m: len(m) >= 40, timeout=90)
    time.sleep(3)
    alerts = deployment.read("match-alerts", lambda m: False, timeout=3)
    per_candidate = {}
    for alert in alerts:
        per_candidate.setdefault(alert["candidate_id"], set()).add(alert["alert_id"])
    assert sorted(per_candidate) == sorted(f"c-{i}" for i in range(40))
    assert all(len(ids) == 1 for ids in per_candidate.values())


def test_two_workers_share_the_load_and_a_rebalance_doubles_nothing(deployment):
    first = deployment.start("worker")
    deployment.start("worker")
    deployment.send("role-specs", [role_spec("r-3", must_have=["Python"], nice_to_have=[])], key_field="role_id")
    deployment.wait_for_role("r-3")
    events = [candidate(f"e{i}", f"c-{i}", ["Python"], "2026-11-20T10:00:00Z") for i in range(60)]
    deployment.send("profile-events", events[:30], key_field="candidate_id")
    deployment.read("match-alerts", lambda m: len(m) >= 10, timeout=90)
    deployment.stop(first, hard=True)  # the group rebalances onto the survivor mid-stream
    deployment.send("profile-events", events[30:] + events[:5])  # unkeyed, and some redelivered
    alerts = deployment.read("match-alerts", lambda m: len({a["candidate_id"] for a in m}) >= 60, timeout=120)
    time.sleep(3)
    alerts = deployment.read("match-alerts", lambda m: False, timeout=3)
    per_candidate = {}
    for alert in alerts:
        per_candidate.setdefault(alert["candidate_id"], set()).add(alert["alert_id"])
    assert len(per_candidate) == 60 and all(len(ids) == 1 for ids in per_candidate.values())


def test_enter_stay_leave_reenter_and_role_lifecycle(deployment):
    deployment.start("worker")
    deployment.send("profile-events", [candidate("p1", "c-1", ["Python"], "2026-11-20T10:00:00Z")],
                    key_field="candidate_id")
    deployment.send("role-specs", [role_spec("r-2", exclude_companies=["Initech"])], key_field="role_id")
    deployment.wait_for_role("r-2")
    text = "Strong in Kafka and Flink; led the migration to k8s. No Rust experience yet."
    deployment.send("interview-notes", [note("n-88", "c-1", text)], key_field="candidate_id")
    messages = deployment.read("match-alerts", lambda m: len(alerts_for(m, "r-2", "c-1")) == 1)
    [alert] = alerts_for(messages, "r-2", "c-1")
    assert alert["triggered_by"] == "n-88" and any("n-88" in r["text"] for r in alert["reasons"])

    def count(kind):
        return lambda m: len(alerts_for(m, "r-2", "c-1", kind))

    stays = candidate("p2", "c-1", ["Python", "Go"], "2026-11-21T10:00:00Z")
    leaves = candidate("p3", "c-1", ["Python", "Go"], "2026-11-22T10:00:00Z", company="Initech")
    deployment.send("profile-events", [stays, leaves], key_field="candidate_id")
    messages = deployment.read("match-alerts", lambda m: count("match.withdrawn")(m) == 1)
    assert count("match.alert")(messages) == 1  # staying relevant (p2) sent nothing
    [withdrawn] = alerts_for(messages, "r-2", "c-1", "match.withdrawn")
    assert withdrawn["triggered_by"] == "p3" and any("Initech" in r["text"] for r in withdrawn["reasons"])
    back = candidate("p4", "c-1", ["Python"], "2026-11-23T10:00:00Z", company="Northwind")
    deployment.send("profile-events", [back], key_field="candidate_id")
    messages = deployment.read("match-alerts", lambda m: count("match.alert")(m) == 2)
    assert len({a["alert_id"] for a in alerts_for(messages, "r-2", "c-1")}) == 2

    deployment.send("role-specs", [role_spec("r-2", status="closed")], key_field="role_id")
    messages = deployment.read("match-alerts", lambda m: count("match.withdrawn")(m) == 2)
    reopen = role_spec("r-2", status="open")
    deployment.send("role-specs", [reopen], key_field="role_id")
    messages = deployment.read("match-alerts", lambda m: count("match.alert")(m) == 3)
    assert count("match.alert")(messages) == 3
    needs_rust = role_spec("r-2", must_have=["Python", "Kafka", "Rust"])
    deployment.send("role-specs", [needs_rust], key_field="role_id")
    messages = deployment.read("match-alerts", lambda m: count("match.withdrawn")(m) == 3)
    assert any("Rust" in r["text"] for r in alerts_for(messages, "r-2", "c-1", "match.withdrawn")[-1]["reasons"])
    # the reopen spec redelivered (same event_id) changes nothing; the next edit is what alerts
    back_to_two = role_spec("r-2", must_have=["Python", "Kafka"])
    deployment.send("role-specs", [reopen, back_to_two], key_field="role_id")
    messages = deployment.read("match-alerts", lambda m: count("match.alert")(m) >= 4)
    assert count("match.alert")(messages) == 4
    assert alerts_for(messages, "r-2", "c-1")[-1]["triggered_by"] == back_to_two["event_id"]
    deployment.send("role-specs", [("r-2", None)])
    messages = deployment.read("match-alerts", lambda m: count("match.withdrawn")(m) == 4)
    assert count("match.withdrawn")(messages) == 4
    signals = deployment.read("candidate-signals", lambda m: len(m) >= 3)
    assert {s["detail"].get("skill") for s in signals if s["type"] == "new_skill"} >= {"kafka", "flink", "kubernetes"}
    assert "rust" not in {s["detail"].get("skill") for s in signals}


def test_scheduler_fires_follow_up_once_across_restarts_and_two_instances(deployment):
    deployment.start("worker")
    long_tenure = profile_event("p6", "c-6", positions=[position("Engineer", "Northwind", start="2022-01")])
    deployment.send("profile-events", [long_tenure], key_field="candidate_id")
    past_note = note("n-5", "c-5", "Happy where he is; check back in 2 months.", occurred_at="2025-01-10T10:00:00Z")
    deployment.send("interview-notes", [past_note], key_field="candidate_id")
    deployment.wait_for_sql("SELECT count(*) FROM candidates WHERE candidate_id IN ('c-5', 'c-6')", {}, 2)

    leader = deployment.start("scheduler")
    deployment.start("scheduler")  # a second instance: the lease keeps it on standby
    wanted = {"revisit_due", "tenure_milestone"}
    signals = deployment.read("candidate-signals", lambda m: wanted <= {s["type"] for s in m}, timeout=90)
    [revisit] = [s for s in signals if s["type"] == "revisit_due"]
    assert revisit["candidate_id"] == "c-5" and revisit["detail"]["due_on"] == "2025-03-10"
    [tenure] = [s for s in signals if s["type"] == "tenure_milestone"]
    assert tenure["candidate_id"] == "c-6" and tenure["detail"]["window_months"] == 48

    deployment.stop(leader)  # the standby takes over; a restarted one joins: nothing fires twice
    deployment.start("scheduler")
    time.sleep(12)
    signals = deployment.read("candidate-signals", lambda m: False, timeout=3)
    assert [s["type"] for s in signals].count("revisit_due") == 1
    assert [s["type"] for s in signals].count("tenure_milestone") == 1


def test_every_profile_signal_type_through_kafka(deployment):
    deployment.start("worker")
    steps = [
        profile_event("s1", "c-9", "2026-01-01T00:00:00Z", location="Berlin, Germany", open_to_work=False,
                      skills=["Python"], positions=[position("Senior Engineer", "Northwind", industry="fintech", reports=0)]),
        profile_event("s2", "c-9", "2026-02-01T00:00:00Z",
                      positions=[position("Staff Engineer", "Northwind", industry="fintech", reports=2)]),
        profile_event("s3", "c-9", "2026-03-01T00:00:00Z", location="Lisbon, Portugal", open_to_work=True,
                      skills=["Python", "Go"], positions=[position("Staff Engineer", "Contoso", industry="healthtech",
                                                                   start="2026-03", reports=2)]),
    ]
    deployment.send("profile-events", steps, key_field="candidate_id")
    deployment.send("interview-notes", [note("n-9", "c-9", "Open to offers. Strong in Terraform.")], key_field="candidate_id")
    wanted = {"promotion", "leadership_growth", "role_change", "domain_shift", "relocation", "open_to_work",
              "new_skill", "interest_expressed"}
    signals = deployment.read("candidate-signals", lambda m: wanted <= {s["type"] for s in m}, timeout=60)
    assert {s["type"] for s in signals} == wanted
    by_type = {s["type"]: s for s in signals}
    assert by_type["promotion"]["source_event_id"] == "s2" and by_type["role_change"]["source_event_id"] == "s3"
    assert {s["detail"]["skill"] for s in signals if s["type"] == "new_skill"} == {"go", "terraform"}
    assert all(s["evidence"] for s in signals)
