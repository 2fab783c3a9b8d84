"""Bad command-line input: one clear line on stderr, exit code 2, never a traceback."""
import pytest

from services.cli.main import main


@pytest.mark.parametrize("argv,expected", [
    (["send", "profile-events", "/nonexistent.jsonl"], "no such file"),
    (["send", "no-such-topic", "/nonexistent.jsonl"], "unknown input topic"),
    (["shortlist", "r-1", "--limit", "0"], "--limit must be at least 1"),
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


def test_unknown_command_uses_argparse_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2


def test_cluster_ids_never_look_like_options():
    from services.adapters.kafka.local_broker import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
