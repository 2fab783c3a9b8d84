"""`radar lead`, `radar inbox`, `radar funnel`."""
from __future__ import annotations

import asyncio
import json
from datetime import date, datetime

from schemas.events import LEAD_STATUSES, NOT_A_FIT_REASONS, as_utc
from services.cli.database import audited, sessions_for
from services.config import Settings


def register(command) -> None:
    lead = command("lead", cmd_lead, "change a lead's status (published to lead-events)")
    lead.add_argument("role_id")
    lead.add_argument("candidate_id")
    lead.add_argument("status", choices=LEAD_STATUSES)
    lead.add_argument("--reason", choices=NOT_A_FIT_REASONS, help="why not a fit")
    lead.add_argument("--assignee", help="the recruiter it is handed to")
    lead.add_argument("--note")
    lead.add_argument("--until", help="snoozed until, YYYY-MM-DD")
    lead.add_argument("--actor", help="who is making the change (default: $USER)")
    inbox = command("inbox", cmd_inbox, "leads, newest first (default: the new ones)")
    inbox.add_argument("--owner")
    inbox.add_argument("--role")
    inbox.add_argument("--status", default="new", choices=LEAD_STATUSES + ("all",), metavar="STATUS",
                       help="new (default), reviewed, ..., or all")
    inbox.add_argument("--limit", type=int, default=20)
    inbox.add_argument("--cursor", help="the next page (printed at the end of a full page)")
    funnel = command("funnel", cmd_funnel, "alerts, reviewed, contacted, replied, handed off, hired; rates")
    funnel.add_argument("--role")
    funnel.add_argument("--owner")
    funnel.add_argument("--since", help="YYYY-MM-DD (first alerts on or after)")
    funnel.add_argument("--until", help="YYYY-MM-DD (first alerts before)")
    funnel.add_argument("--json", action="store_true", help="the numbers as JSON, as GET /funnel gives them")


def cmd_lead(args, settings: Settings) -> int:
    import getpass

    from services.adapters.kafka.client import produce
    from services.app.triage import lead_event

    body = {k: v for k, v in (("status", args.status), ("reason", args.reason), ("assignee", args.assignee),
                              ("note", args.note), ("until", args.until)) if v is not None}
    sessions = sessions_for(settings)
    event = lead_event(sessions, args.role_id, args.candidate_id, body, args.actor or getpass.getuser())
    asyncio.run(produce(settings, settings.topics.lead_events, [(args.candidate_id, event)]))
    audited(sessions, "lead.status", f"{args.role_id}/{args.candidate_id}", {"status": event["status"],
                                                                             "event_id": event["event_id"]})
    print(f"lead {args.role_id}/{args.candidate_id}: {args.status} sent to lead-events ({event['event_id']})")
    return 0


def cmd_inbox(args, settings: Settings) -> int:
    from services.app.triage import inbox

    page = inbox(sessions_for(settings), None if args.status == "all" else args.status, args.role, args.owner,
                 args.cursor, max(1, args.limit))
    for lead in page["leads"]:
        alert = lead["alert"] or {}
        print(f"{lead['created_at']:%Y-%m-%d %H:%M}  {lead['role_id']} ({lead['role_title']})  "
              f"{lead['candidate_id']} {lead['name'] or ''}  [{lead['status']}]  fit {alert.get('fit', 0):.2f}")
        for reason in [r for r in alert.get("reasons") or [] if r["kind"] == "change"][:2]:
            print(f"      {reason['text']}")
    if not page["leads"]:
        print("no leads")
    if page["next_cursor"]:
        print(f"more: radar inbox --cursor {page['next_cursor']}")
    return 0


def cmd_funnel(args, settings: Settings) -> int:
    from services.app.funnel import funnel, table

    result = funnel(sessions_for(settings), args.role, args.owner, _day(args.since), _day(args.until))
    if args.json:
        print(json.dumps(result, default=str, indent=2))
    else:
        for line in table(result):
            print(line)
    return 0


def _day(value):
    if value is None:
        return None
    try:
        return as_utc(datetime.combine(date.fromisoformat(value), datetime.min.time()))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None

