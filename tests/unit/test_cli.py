"""Bad command-line input: one clear line on stderr, exit code 2, never a traceback."""
import pytest

from services.cli.main import main


@pytest.mark.parametrize("argv,expected", [
    (["send", "profile-events", "/nonexistent.jsonl"], "no such file"),
    (["send", "no-such-topic", "/nonexistent.jsonl"], "unknown input topic"),
    (["shortlist", "r-1", "--limit", "0"], "--limit must be at least 1"),
    (["subscribe", "--channel", "webhook", "--url", "ftp://x"], "url: must be an http(s) URL"),
    (["subscribe", "--channel", "webhook", "--url", "https://x.example"], "needs a secret"),
    (["subscribe", "--channel", "email", "--address", "a@b.example", "--mode", "digest", "--tz", "Nowhere/City"],
     "no such time zone"),
    (["subscribe", "--channel", "email", "--address", "a@b.example", "--quiet", "10pm-7am"], "must be HH:MM"),
    (["deliveries", "retry"], "say which"),
    (["subscribe", "--channel", "email", "--address", "a@b.example", "--tz", "Europe/Berlin"], "--tz is the time zone"),
    (["subscribe", "--channel", "email", "--address", "a@b.example", "--url", "https://x.example"],
     "takes an address, not a url"),
])
def test_bad_input_is_one_line(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_bad_json_lines_names_the_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "events.jsonl"
    bad.write_text('{"a": 1}\n{oops\n')
    assert main(["send", "profile-events", str(bad)]) == 2
    assert "line 2: not valid JSON" in capsys.readouterr().err


def test_bad_bootstrap_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("RADAR_KAFKA_BOOTSTRAP", "nonsense")
    monkeypatch.setenv("RADAR_KAFKA_HOME", str(tmp_path))
    assert main(["kafka", "status"]) == 2
    assert "host:port" in capsys.readouterr().err


def test_cluster_ids_never_look_like_options():
    from services.adapters.kafka.local_broker import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_a_subscription_from_the_command_line_is_stored_and_listed(capsys, tmp_path, monkeypatch):
    from services.adapters.store.db import upgrade

    monkeypatch.chdir(tmp_path)
    upgrade(f"sqlite:///{tmp_path / 'radar.db'}")
    assert main(["subscribe", "--channel", "email", "--address", "lead@example.com", "--role", "r-7",
                 "--mode", "digest", "--at", "07:30", "--tz", "Europe/Lisbon", "--quiet", "22:00-07:00"]) == 0
    subscription_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["subscriptions"]) == 0
    [shown] = [line for line in capsys.readouterr().out.splitlines() if subscription_id in line]
    assert '"digest": {"every": "day", "at": "07:30", "tz": "Europe/Lisbon"}' in shown and '"roles": ["r-7"]' in shown
    assert '"quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Europe/Lisbon"}' in shown
    assert main(["unsubscribe", subscription_id]) == 0
    assert main(["unsubscribe", subscription_id]) == 2


@pytest.mark.parametrize("argv", [["lead", "r-1", "c-1", "bogus"], ["inbox", "--status", "bogus"],
                                  ["subscribe", "--channel", "pager"], ["frobnicate"]])
def test_a_usage_mistake_is_one_line_too(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("radar: error: ")
    assert "--help" in err


def test_incomplete_kafka_security_settings_are_one_line(capsys, monkeypatch):
    monkeypatch.setenv("RADAR_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    assert main(["kafka", "status"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("radar: error: RADAR_KAFKA_SASL_MECHANISM") and len(err.splitlines()) == 1


def test_a_closed_pipe_ends_quietly(capsys, monkeypatch):
    import importlib
    cli = importlib.import_module("services.cli.main")

    def reader_went_away(args, settings):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "cmd_kafka", reader_went_away)
    assert main(["kafka", "status"]) == 0 and capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["candidate", "c-1"], ["inbox"], ["apikey", "list"], ["subscriptions"]])
def test_a_command_from_another_folder_says_which_database_it_wanted_and_creates_none(argv, capsys, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RADAR_DATABASE_URL", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"radar: error: no database at {tmp_path / 'radar.db'} (RADAR_DATABASE_URL is not set, so "
                   "radar.db in the current folder); run the command where `radar up` runs, or set "
                   "RADAR_DATABASE_URL to the services' database")
    assert not (tmp_path / "radar.db").exists()


def test_a_database_without_tables_is_named(capsys, tmp_path, monkeypatch):
    import sqlite3

    monkeypatch.chdir(tmp_path)
    sqlite3.connect(tmp_path / "radar.db").close()
    assert main(["candidate", "c-1"]) == 2
    assert "has no Talent Radar tables yet: `radar db upgrade`" in capsys.readouterr().err


@pytest.mark.parametrize("name, value, says", [
    ("RADAR_API_PORT", "abc", "RADAR_API_PORT: a whole number, not 'abc'"),
    ("RADAR_RELAY_LEASE_S", "soon", "RADAR_RELAY_LEASE_S: a number, not 'soon'"),
    ("RADAR_TENURE_WINDOWS_MONTHS", "24,x", "RADAR_TENURE_WINDOWS_MONTHS: whole numbers separated by commas"),
    ("RADAR_KAFKA_SECURITY_PROTOCOL", "TLS", "RADAR_KAFKA_SECURITY_PROTOCOL: one of PLAINTEXT"),
    ("RADAR_MIGRATE", "sometimes", "RADAR_MIGRATE: one of auto, wait"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(name, value, says, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    assert main(["inbox"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"radar: error: {says}") and len(err.splitlines()) == 1


def test_up_does_not_start_a_local_broker_for_a_remote_address(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADAR_KAFKA_HOME", str(tmp_path / "kafka"))
    monkeypatch.setenv("RADAR_KAFKA_BOOTSTRAP", "broker.invalid:9096")
    assert main(["kafka", "up"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("radar: error: no broker answers at broker.invalid:9096") and len(err.splitlines()) == 1
    assert not (tmp_path / "kafka").exists()


@pytest.mark.parametrize("argv", [["send", "profile-events", "events.json"], ["follow", "--max", "1"]])
def test_no_broker_is_one_line_saying_where_and_what_to_do(argv, tmp_path):
    """Against a closed port: the command's line only (the Kafka client's own error log and an
    unclosed consumer's complaint stay out of a one-shot command's output)."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening: refused
        (tmp_path / "events.json").write_text('{"event_id": "e1", "candidate_id": "c-1"}\n')
        env = dict(os.environ, RADAR_KAFKA_BOOTSTRAP=closed, RADAR_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}")
        done = subprocess.run([sys.executable, "-m", "services.cli", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"radar: error: no Kafka broker answers at {closed} (RADAR_KAFKA_BOOTSTRAP): "
                                        "start `radar up` or `radar kafka up`, or set RADAR_KAFKA_BOOTSTRAP (and "
                                        "RADAR_KAFKA_SECURITY_PROTOCOL) to yours"]


def test_a_signin_link_for_a_key_in_use(capsys, tmp_path, monkeypatch):
    from services.adapters.store.db import upgrade

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RADAR_API_PORT", "18080")
    upgrade(f"sqlite:///{tmp_path / 'radar.db'}")
    assert main(["apikey", "create", "--name", "maria", "--role", "recruiter"]) == 0
    capsys.readouterr()
    assert main(["apikey", "signin-link", "maria"]) == 0
    assert capsys.readouterr().out.startswith("http://127.0.0.1:18080/login?token=")  # this API's own port
    assert main(["apikey", "signin-link", "nobody"]) == 2
    assert "no key named 'nobody' is in use" in capsys.readouterr().err
