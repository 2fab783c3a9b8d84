"""Changes made from the command line are audited like the API's; an erasure of an id the
store does not know is refused unless forced (a typo would bar a future candidate)."""
from fastapi.testclient import TestClient

from services.api import create_app
from services.app.access import audit_log
from services.cli.main import main
from services.config import Settings
from tests.helpers import bearer


def test_cli_changes_are_in_the_audit_log(sessions, database_url, monkeypatch, capsys):
    monkeypatch.setenv("RADAR_DATABASE_URL", database_url)
    assert main(["subscribe", "--channel", "email", "--address", "ops@example.com"]) == 0
    subscription_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["unsubscribe", subscription_id]) == 0
    entries = audit_log(sessions)
    assert [(e["action"], e["target"]) for e in entries[:2]] == [("subscription.delete", subscription_id),
                                                                 ("subscription.create", subscription_id)]
    assert all(e["actor"].startswith("cli:") and e["role"] == "admin" for e in entries[:2])


def test_erasing_an_unknown_id_needs_force(sessions, database_url, monkeypatch, capsys):
    sent = []

    async def produce(topic, messages):
        sent.extend(messages)

    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1"),
                                   produce), headers=bearer(database_url, "admin"))
    refused = client.delete("/candidates/c-typo")
    assert refused.status_code == 404 and "force=true" in refused.json()["detail"] and not sent
    assert client.delete("/candidates/c-typo", params={"force": "true"}).status_code == 202
    assert sent == [("c-typo", None)]
    monkeypatch.setenv("RADAR_DATABASE_URL", database_url)
    assert main(["erase", "c-typo2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("radar: error: no candidate 'c-typo2' is stored; `radar erase --force c-typo2`")
