"""Hostile input through the real broker and a real `radar worker` (SQLite and PostgreSQL):
every bad record becomes a dead letter with a reason, and every good event around it is
processed; nothing stalls, no agent ends."""
import json

import pytest

from tests.helpers import note, position, profile_event, role_spec
from tests.integration.kafka_helpers import Deployment

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(kafka_bootstrap, database_url, tmp_path):
    deployment = Deployment(kafka_bootstrap, database_url, tmp_path)
    yield deployment
    deployment.stop_all()


def good(i):
    event = profile_event(f"g{i}", f"c-{i}", skills=["Python"], positions=[position("Engineer", "Northwind")])
    return event["candidate_id"].encode(), json.dumps(event).encode()


NOTES = "interview-notes"


def hostile():
    """(key, value, what the dead letter's reason must say[, topic]) for each defect of the audit."""
    def event(**profile):
        return json.dumps(profile_event("h", "c-h", **profile)).encode()

    cjk_note = json.dumps(note("h-cjk", "c-h", "漢字" * 100_000), ensure_ascii=False).encode()  # 600 KB of UTF-8
    return [
        (b"c-h", json.dumps(profile_event("h1", "c-h", source="x" * 70)).encode(), "source: at most 64"),
        (b"c-h", event(positions=[position("Engineer", "C" * 201)]), "company: at most 200"),
        (b"c-h", event(location="L" * 121), "location: at most 120"),
        (b"c-h", event(skills=["S" * 121]), "skills.0: at most 100"),
        (b"c-h", json.dumps(dict(note("h5", "c-h", "Kafka."), author="a" * 201)).encode(), "author: at most 200", NOTES),
        (b"k" * 300, b"{not json", "malformed JSON"),
        (None, b"[" * 100_000, "nested deeper than"),
        (None, b'{"event_id": "h8", "x": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"}", "nested deeper than"),
        (None, json.dumps(profile_event("h9", "\udfff")).encode(), "surrogate"),
        (b"c-h", json.dumps(note("h10", "c-h", "Kafka\x00")).encode(), "NUL", NOTES),
        (b"c-h", cjk_note, "text: at most 50000 characters", NOTES),
        (None, b'"' * 900_000, "malformed JSON"),  # its dead letter (JSON-escaped: 1.8 MB) is refused by the broker
    ]


def test_hostile_inputs_are_dead_lettered_and_the_stream_goes_on(deployment):
    worker = deployment.start("worker")
    deployment.send("role-specs", [role_spec("r-1", must_have=["Python"], nice_to_have=[])], key_field="role_id")
    deployment.wait_for_role("r-1")
    bad = hostile()
    profiles, notes = [good(i) for i in range(20)], []
    for index, (key, value, _, *topic) in enumerate(bad):
        (notes if topic else profiles).append((key, value))
        profiles.append(good(100 + index))
    profiles += [good(1000 + i) for i in range(400)]
    deployment.send_raw("profile-events", profiles)
    deployment.send_raw("interview-notes", notes)
    expected = {f"c-{i}" for i in list(range(20)) + [100 + j for j in range(len(bad))] + [1000 + i for i in range(400)]}

    alerts = deployment.read("match-alerts", lambda m: {a["candidate_id"] for a in m} >= expected, timeout=180)
    per_candidate = {}
    for alert in alerts:
        per_candidate.setdefault(alert["candidate_id"], set()).add(alert["alert_id"])
    assert set(per_candidate) == expected and all(len(ids) == 1 for ids in per_candidate.values())

    letters = deployment.read("dead-letters", lambda m: len(m) >= len(bad), timeout=60)
    reasons = [letter["error"] for letter in letters]
    assert len(letters) == len(bad)
    for _, _, said, *_ in bad:
        assert any(said in reason for reason in reasons), f"no dead letter says {said!r}: {reasons}"
    [refused] = [letter for letter in letters if letter.get("outbox_row")]
    assert "MessageSizeTooLargeError" in refused["error"] and refused["value"] is None
    cjk = next(letter for letter in letters if "50000 characters" in letter["error"])
    assert cjk["value"].count("漢字") == 100_000  # the original text, whole
    assert worker.poll() is None  # still running
    log = (deployment.workdir / "worker-0.log").read_text()
    assert "漢字" not in log and "Zelda" not in log and "LLLLLLLL" not in log  # no candidate text in logs
