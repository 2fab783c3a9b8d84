"""`radar dlq list|replay`: dead letters, and sending them back through the pipeline after a fix."""
from __future__ import annotations

import asyncio
from typing import Sequence

from services.cli.database import audited, sessions_for
from services.config import Settings


def register(command) -> None:
    dlq = command("dlq", None, "dead letters: list them, replay them after a fix")
    actions = dlq.add_subparsers(metavar="ACTION")
    listing = actions.add_parser("list", help="dead letters, newest first, and whether each was replayed")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=cmd_list)
    again = actions.add_parser("replay", help="send dead letters back to their input topic (each at most once)")
    again.add_argument("--again", action="store_true",
                       help="also send dead letters that a replayed copy became (a replay that failed again)")
    again.add_argument("--dry-run", action="store_true", help="say what would be sent; send nothing")
    again.add_argument("--limit", type=int, default=None, help="send at most this many")
    again.add_argument("--by", help="who is replaying (default: $USER)")
    again.set_defaults(handler=cmd_replay)
    for parser in (listing, again):
        parser.add_argument("--reason", help="only those whose reason contains this text (any case)")
        parser.add_argument("--since", help="only those dead-lettered on or after this date (YYYY-MM-DD) or time")
        parser.add_argument("--topic", help="only those from this input topic (profile-events, ...)")


def _filters(args):
    from services.app.dead_letters import Filters, check_topic, parse_since

    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    return Filters(reason=args.reason or None, since=parse_since(args.since), topic=check_topic(args.topic))


def cmd_list(args, settings: Settings) -> int:
    from services.app.dead_letters import list_dead_letters

    filters = _filters(args)
    entries = list_dead_letters(sessions_for(settings), settings.topics, filters, args.limit)
    for entry in entries:
        print(entry.line())
    if not entries:
        print("no dead letters" + (" match" if (filters.reason or filters.since or filters.topic) else ""))
    return 0


def cmd_replay(args, settings: Settings) -> int:
    from services.app.dead_letters import replay, summary

    filters, sessions = _filters(args), sessions_for(settings)

    async def run():
        async with KafkaSender(settings) as send:
            return await replay(sessions, settings.topics, send, filters, again=args.again,
                                dry_run=args.dry_run, by=args.by or _me(), limit=args.limit)

    lines = summary(asyncio.run(run()))
    if not args.dry_run:
        audited(sessions, "dead_letters.replay", args.reason or "*", {"summary": lines[:1]})
    for line in lines:
        print(line)
    return 0


class KafkaSender:
    """Sends a batch of replays and waits for every acknowledgement (acks=all, idempotent);
    gives back where each landed, or what refused it. Started only when something is sent."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.producer = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if self.producer is not None:
            await self.producer.stop()

    async def __call__(self, replays: Sequence) -> list:
        from aiokafka import AIOKafkaProducer

        from services.adapters.kafka.client import client_options

        if self.producer is None:
            self.producer = AIOKafkaProducer(**client_options(self.settings), acks="all", enable_idempotence=True,
                                             request_timeout_ms=15000, max_request_size=16 * 1024 * 1024)
            await self.producer.start()
        futures = []
        for item in replays:
            try:
                futures.append(await self.producer.send(item.topic, value=item.value, key=item.key,
                                                        headers=item.headers))
            except Exception as exc:  # refused before it left (too large, unknown topic): say so
                futures.append(_failed(exc))
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        return [o if isinstance(o, BaseException) else (o.topic, o.partition, o.offset) for o in outcomes]


def _failed(exc: Exception):
    future = asyncio.get_running_loop().create_future()
    future.set_exception(exc)
    return future


def _me():
    import getpass
    try:
        return getpass.getuser()
    except Exception:  # no login name to be found (a container without a passwd entry)
        return None

