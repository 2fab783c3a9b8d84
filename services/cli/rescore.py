"""`radar rescore [--role ROLE] [--wait]`: evaluate stored (role, candidate) pairs again after a
taxonomy or rules change.

The worker owns candidate state and applies each candidate's events in order on its partition,
so a rescore is a request the worker consumes like any other event: one `TimerEvent` of kind
`rescore` per candidate on `radar-timers`, keyed by the candidate id, with the event id
`rescore-<run>-<candidate>` (a redelivery, or the same run sent again, is skipped). The worker
reads the candidate again under the rules it runs (services.app.handlers.decide_rescore) and
settles every pair: only pairs whose outcome changed send an alert or a withdrawal.
"""
from __future__ import annotations

import asyncio
import re
import secrets
import sys
import time
from datetime import datetime, timezone
from typing import Optional

from services.app.rescore import candidates_to_rescore, request, sent_by_run, unprocessed
from services.cli.database import audited, sessions_for
from services.config import Settings

SEND_CHUNK = 20_000      # requests per producer session
CHECK_EVERY_S = 1.0
RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")


def register(command) -> None:
    rescore = command("rescore", cmd_rescore, "evaluate stored candidates again after a taxonomy or rules change "
                                              "(run it once every worker runs the new release): only pairs whose "
                                              "outcome changed alert or withdraw")
    rescore.add_argument("--role", help="only the candidates with a stored pair for this role, or that its "
                                        "must-haves find (each is read again in full: its other pairs settle too)")
    rescore.add_argument("--run-id", help="name the run (default: the time and a random suffix); the same id again "
                                          "re-sends its requests and the worker skips those it already did")
    rescore.add_argument("--wait", action="store_true", help="wait until the worker has processed every request")
    rescore.add_argument("--timeout", type=float, default=600.0, help="seconds to wait with --wait (default 600)")


def cmd_rescore(args, settings: Settings) -> int:
    from services.adapters.kafka.client import produce
    from services.adapters.store.db import utcnow

    run = _run_id(args.run_id)
    if args.timeout <= 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    sessions = sessions_for(settings)
    candidate_ids = candidates_to_rescore(sessions, _role_id(args.role))
    scope = f" for role {args.role}" if args.role else ""
    if not candidate_ids:
        print(f"nothing to rescore: no stored candidate{scope}")
        return 0
    started, now = time.monotonic(), utcnow()
    requests = [(cid, request(run, cid, now, args.role)) for cid in candidate_ids]
    for start in range(0, len(requests), SEND_CHUNK):
        asyncio.run(produce(settings, settings.topics.timers, requests[start:start + SEND_CHUNK]))
    audited(sessions, "rescore", args.role or "*", {"run": run, "candidates": len(requests)})
    print(f"rescore {run}: {len(requests)} candidate(s){scope} requested on {settings.topics.timers}")
    if not args.wait:
        print(f"the worker settles them in order; `radar rescore --run-id {run} --wait` waits for it")
        return 0
    _wait(sessions, run, [event["event_id"] for _, event in requests], args.timeout, started)
    alerts, withdrawals = sent_by_run(sessions, run, now)
    print(f"rescore {run}: {len(requests)} processed in {time.monotonic() - started:.1f} s; "
          f"{alerts} alert(s) and {withdrawals} withdrawal(s) sent")
    return 0


def _run_id(given: Optional[str]) -> str:
    if given is None:
        return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)
    if not RUN_ID.fullmatch(given):
        raise ValueError(f"--run-id: 1-40 letters, digits, '.', '_' or '-', got {given[:60]!r}")
    return given


def _role_id(given: Optional[str]) -> Optional[str]:
    if given is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from schemas.events import Id

    try:
        return TypeAdapter(Id).validate_python(given)
    except ValidationError:
        raise ValueError("--role: 1-200 characters, no control characters") from None


def _wait(sessions, run: str, event_ids: list[str], timeout: float, started: float) -> None:
    """Until every request is in processed_events (only those not seen done are asked again)."""
    remaining, total, said_at = list(event_ids), len(event_ids), time.monotonic()
    while remaining:
        remaining = unprocessed(sessions, remaining)
        if not remaining:
            return
        if time.monotonic() - started > timeout:
            raise ValueError(f"{total - len(remaining)} of {total} rescore requests were processed within "
                             f"{timeout:g} s (is a worker running? see the consumer lag in /metrics); "
                             f"`radar rescore --run-id {run} --wait` sends the run again and the worker skips "
                             f"what it did")
        if time.monotonic() - said_at >= 10:
            print(f"rescore {run}: {total - len(remaining)}/{total} processed", file=sys.stderr, flush=True)
            said_at = time.monotonic()
        time.sleep(CHECK_EVERY_S)
