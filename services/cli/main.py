"""The `radar` command. Bad input gets one clear line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from services.cli import access, dlq, notifications, rescore, triage
from services.cli.failures import unexpected
from services.config import Settings
from services.logs import configure_logging


class CliError(Exception):
    """An error the user can fix, shown as one line."""


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line on standard error (and where to read more), exit 2."""

    def error(self, message: str):
        self.exit(2, f"radar: error: {message} (see `{self.prog} --help`)\n")


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    settings = None
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        if args.handler not in SERVICES:  # a one-shot command says what went wrong itself, in one line
            logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        return args.handler(args, settings) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `radar ... | head`: the reader has what it wanted
        try:  # nothing more to write at exit, where Python would complain about the pipe again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except (CliError, OSError, ValueError) as exc:
        print(f"radar: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # keep tracebacks away from users; the kind of failure is enough
        print(f"radar: error: {unexpected(exc, settings)}".splitlines()[0], file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="radar", description="Talent Radar: newly relevant candidates, as they happen.")
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    command("up", cmd_up, "everything on one machine: local Kafka if none answers, migrations, topics, "
                          "worker, scheduler, notifier and API, until Ctrl-C")
    command("worker", cmd_worker, "the stream worker (Faust): profile events, notes, role specs -> signals, alerts")
    command("scheduler", cmd_scheduler, "turns time into events: follow-ups due, tenure windows")
    api = command("api", cmd_api, "the HTTP API: /health, /metrics, alerts, candidates, shortlists")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)

    kafka = command("kafka", None, "the local single-node Kafka broker")
    kafka_sub = kafka.add_subparsers(metavar="ACTION")
    for action, help_text in (("install", "fetch the broker's jars with Maven (done by `up` when missing)"),
                              ("up", "start it (downloads the jars with Maven on first use)"),
                              ("down", "stop it"), ("status", "is it running and answering?")):
        kafka_sub.add_parser(action, help=help_text).set_defaults(handler=cmd_kafka, action=action)

    db = command("db", None, "the database")
    db_sub = db.add_subparsers(metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(handler=cmd_db_upgrade)

    send = command("send", cmd_send, "send a JSON or JSON Lines file of events to a topic")
    send.add_argument("topic", help="e.g. profile-events, interview-notes, role-specs")
    send.add_argument("file", help="a .json file (an object or a list) or a .jsonl file; - for stdin")
    send.add_argument("--raw", action="store_true",
                      help="send each non-empty line as it is, unparsed (to try the dead-letter path)")

    follow = command("follow", cmd_follow, "print messages from a topic as they arrive (default match-alerts)")
    follow.add_argument("--topic", default="match-alerts")
    follow.add_argument("--from-beginning", action="store_true", help="start at the oldest message")
    follow.add_argument("--max", type=int, default=None, help="stop after this many messages")
    follow.add_argument("--timeout", type=float, default=None, help="stop after this many idle seconds")

    candidate = command("candidate", cmd_candidate, "print a candidate's context: view, skills, readiness, timeline")
    candidate.add_argument("candidate_id")

    shortlist = command("shortlist", cmd_shortlist, "the currently relevant candidates of a role, best first")
    shortlist.add_argument("role_id")
    shortlist.add_argument("--limit", type=int, default=10)

    notifications.register(command)
    triage.register(command)
    dlq.register(command)
    rescore.register(command)
    access.register(command)
    access.register_erase(command)

    role = command("role", None, "create, change, pause, close, reopen or delete a role spec (via role-specs)")
    role_sub = role.add_subparsers(metavar="ACTION")
    put = role_sub.add_parser("put", help="create or replace a role spec from a JSON file")
    put.add_argument("file")
    put.set_defaults(handler=cmd_role, action="put")
    for action in ("pause", "close", "reopen", "delete"):
        p = role_sub.add_parser(action, help=f"{action} a role")
        p.add_argument("role_id")
        p.set_defaults(handler=cmd_role, action=action)
    return parser


# -- services -------------------------------------------------------------------

def cmd_worker(args, settings: Settings) -> int:
    from services.adapters.store.db import prepare_schema
    from streams.runner import run_worker

    prepare_schema(settings)
    run_worker(settings)
    return 0


def cmd_scheduler(args, settings: Settings) -> int:
    from services.scheduler import run_scheduler

    run_scheduler(settings)
    return 0


def cmd_api(args, settings: Settings) -> int:
    import uvicorn

    from services.adapters.store.db import prepare_schema
    from services.api.app import create_app

    prepare_schema(settings)

    uvicorn.run(create_app(settings), host=args.host or settings.api_host, port=args.port or settings.api_port,
                log_level="warning", log_config=None)  # uvicorn's lines go through our JSON logging
    return 0


def cmd_db_upgrade(args, settings: Settings) -> int:
    from services.adapters.store.db import upgrade

    upgrade(settings.database_url)
    print(f"database at head: {_redact(settings.database_url)}")
    return 0


def cmd_kafka(args, settings: Settings) -> int:
    broker = local_broker(settings, starting=args.action == "up")
    if args.action == "install":
        from services.adapters.kafka.local_broker import KAFKA_VERSION, ensure_jars
        print(f"kafka {KAFKA_VERSION} jars in {ensure_jars(settings.kafka_home)}")
    elif args.action == "up":
        started = broker.up()
        print(f"kafka {'started' if started else 'already answering'} at {broker.bootstrap}")
    elif args.action == "down":
        print("kafka stopped" if broker.down() else f"no local broker of ours runs at {broker.bootstrap}")
    else:
        print(json.dumps(broker.status()))
    return 0


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def local_broker(settings: Settings, starting: bool = False):
    """The broker `radar kafka` and `radar up` manage: one on this machine, without security.
    Starting one for a remote or secured address would only hide that it does not answer."""
    from services.adapters.kafka.local_broker import LocalKafka, is_answering, parse_bootstrap

    host, port = parse_bootstrap(settings.kafka_bootstrap)
    remote = host not in LOCAL_HOSTS or settings.kafka_security.protocol != "PLAINTEXT"
    if starting and remote and not is_answering(host, port, timeout=3.0):
        raise CliError(f"no broker answers at {settings.kafka_bootstrap} (RADAR_KAFKA_BOOTSTRAP); a local one is "
                       "started only for a plain localhost address: check the address, the network and the "
                       "RADAR_KAFKA_* security settings")
    return LocalKafka(settings.kafka_home, host=host, port=port)


def cmd_up(args, settings: Settings) -> int:
    from services.adapters.kafka.topics import ensure_topics
    from services.adapters.store.db import upgrade

    broker = local_broker(settings, starting=True)
    started = broker.up()
    print(f"kafka {'started' if started else 'answering'} at {broker.bootstrap}", flush=True)
    upgrade(settings.database_url)
    asyncio.run(ensure_topics(settings))
    first_key = _first_admin_key(settings)
    children = [_spawn(name) for name in ("worker", "scheduler", "notifier", "api")]
    print(f"radar is up: API at http://{settings.api_host}:{settings.api_port}  (Ctrl-C to stop)", flush=True)
    if first_key:
        print("An admin API key was made for this first start; it is shown this once, keep it safe:\n"
              f"  export RADAR_API_KEY={first_key}\n"
              f"  curl -H \"Authorization: Bearer $RADAR_API_KEY\" http://{settings.api_host}:{settings.api_port}/inbox",
              flush=True)
    link = _sign_in_link(settings)
    if link:
        print(f"Open the pages (a one-time sign-in link, valid for an hour):\n  {link}", flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            for name, child in children:
                if child.poll() is not None:
                    raise CliError(f"the {name} exited with code {child.returncode}")
            time.sleep(0.5)
    finally:
        for _, child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        if started:
            broker.down()
    return 0


def _sign_in_link(settings: Settings):
    """A one-time link to the pages as radar up's admin (none once that key is revoked)."""
    from services.adapters.store.db import make_engine, make_session_factory
    from services.app.signin import sign_in_link_token

    token = sign_in_link_token(make_session_factory(make_engine(settings.database_url)), "radar-up-admin")
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
    return f"http://{host}:{settings.api_port}/login?token={token}" if token else None


def _first_admin_key(settings: Settings):
    """On the very first start (no key at all), an admin key to begin with."""
    from services.adapters.store.db import make_engine, make_session_factory
    from services.app.access import any_keys, create_key

    sessions = make_session_factory(make_engine(settings.database_url))
    return None if any_keys(sessions) else create_key(sessions, "radar-up-admin", "admin", actor="radar up")


def _spawn(name: str):
    env = dict(os.environ)
    if name == "worker":
        # One worker with a stable id: restarted after a crash, it takes its partitions back at once.
        env.setdefault("RADAR_WORKER_ID", f"{env.get('RADAR_APP_ID', 'talent-radar')}-up-worker")
    return name, subprocess.Popen([sys.executable, "-m", "services.cli", name], env=env)


# -- tools ----------------------------------------------------------------------

def read_events(path: str) -> list[dict]:
    """A JSON object, a JSON list, or JSON Lines; one clear error naming the bad line."""
    text = sys.stdin.read() if path == "-" else _read_text(path)
    stripped = text.strip()
    if not stripped:
        raise CliError(f"{path} is empty")
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
            return data if isinstance(data, list) else [data]
        except json.JSONDecodeError:
            pass  # maybe JSON Lines
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CliError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
    return events


def _read_text(path: str) -> str:
    file = Path(path)
    if not file.exists():
        raise CliError(f"no such file: {path}")
    return file.read_text(encoding="utf-8")


def _key_fields() -> dict[str, str]:
    """The topics `radar send` takes, with the field of the value their key is."""
    from schemas.topics import TOPIC_TABLE
    return {spec.name: spec.key_field for spec in TOPIC_TABLE if spec.inbound and spec.models}


def cmd_send(args, settings: Settings) -> int:
    from services.adapters.kafka.client import produce

    key_fields = _key_fields()
    if args.topic not in key_fields:
        raise CliError(f"unknown input topic {args.topic!r}; choose one of {', '.join(key_fields)}")
    from services.config import TOPICS
    if args.raw:
        lines = [line for line in (sys.stdin.read() if args.file == "-" else _read_text(args.file)).splitlines()
                 if line.strip()]
        asyncio.run(produce(settings, TOPICS.physical(args.topic), [(None, l) for l in lines],
                            raw=True))
        print(f"sent {len(lines)} raw line(s) to {args.topic}")
        return 0
    events = read_events(args.file)
    key_field = key_fields[args.topic]
    messages = [((e.get(key_field) if isinstance(e, dict) else None), e) for e in events]
    asyncio.run(produce(settings, TOPICS.physical(args.topic), messages))
    print(f"sent {len(messages)} message(s) to {args.topic}")
    return 0


def cmd_follow(args, settings: Settings) -> int:
    from services.adapters.kafka.client import follow
    from services.config import TOPICS
    asyncio.run(follow(settings, TOPICS.physical(args.topic), args.from_beginning, args.max, args.timeout))
    return 0


def cmd_candidate(args, settings: Settings) -> int:
    from services.app.read_models import candidate_context
    from services.cli.database import sessions_for

    sessions = sessions_for(settings)
    context = candidate_context(sessions, args.candidate_id)
    if context is None:
        raise CliError(f"no candidate {args.candidate_id!r}")
    print(json.dumps(context, indent=2, default=str))
    return 0


def cmd_shortlist(args, settings: Settings) -> int:
    from services.app.read_models import shortlist
    from services.cli.database import sessions_for

    if args.limit < 1:
        raise CliError("--limit must be at least 1")
    sessions = sessions_for(settings)
    result = shortlist(sessions, args.role_id, args.limit)
    if result is None:
        raise CliError(f"no role {args.role_id!r}")
    for rank, entry in enumerate(result["candidates"], start=1):
        print(f"{rank:>2}. {entry['candidate_id']}  fit {entry['fit']:.2f}  readiness {entry['readiness']:.2f}")
        for reason in entry["reasons"]:
            print(f"      - {reason['kind']}: {reason['text']}")
    if not result["candidates"]:
        print(f"no candidate is currently relevant for {args.role_id}")
    return 0


def cmd_role(args, settings: Settings) -> int:
    from services.adapters.kafka.client import produce
    from services.app.role_admin import role_change_messages
    from services.cli.database import audited, sessions_for

    sessions = sessions_for(settings)
    spec = read_events(args.file)[0] if args.action == "put" else None
    key, value = role_change_messages(sessions, args.action, getattr(args, "role_id", None), spec)
    from services.config import TOPICS
    asyncio.run(produce(settings, TOPICS.role_specs, [(key, value)]))
    audited(sessions, f"role.{args.action}", key, {"event_id": (value or {}).get("event_id")})
    print(f"role {key}: {args.action} sent to role-specs")
    return 0


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# The long-running services log what their Kafka client says; the other commands say it in one line.
SERVICES = frozenset({cmd_up, cmd_worker, cmd_scheduler, cmd_api, cmd_kafka, notifications.cmd_notifier})
