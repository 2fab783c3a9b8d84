"""`radar subscribe`, `subscriptions`, `unsubscribe`, `deliveries`, `notifier`."""
from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import ValidationError

from services.cli.database import audited, sessions_for
from services.config import Settings


def register(command) -> None:
    """Add the notification commands to the parser (`command(name, handler, help)`)."""
    command("notifier", cmd_notifier, "deliver alerts to subscriptions: signed webhooks, Slack, e-mail")
    subscribe = command("subscribe", cmd_subscribe, "tell a webhook, a Slack channel or an e-mail address of alerts")
    subscribe.add_argument("--channel", required=True, choices=("webhook", "slack", "email"))
    subscribe.add_argument("--url", help="webhook or Slack incoming-webhook URL")
    subscribe.add_argument("--address", help="e-mail address")
    subscribe.add_argument("--secret", help="webhook signing secret (16+ characters)")
    subscribe.add_argument("--role", action="append", default=[], dest="roles", help="only these roles (repeatable)")
    subscribe.add_argument("--owner", help="only roles this person owns")
    subscribe.add_argument("--type", action="append", default=[], dest="types",
                           choices=("match.alert", "match.withdrawn", "revisit_due"), help="only these (repeatable)")
    subscribe.add_argument("--min-fit", type=float)
    subscribe.add_argument("--min-readiness", type=float)
    subscribe.add_argument("--mode", choices=("instant", "digest"), default="instant")
    subscribe.add_argument("--every", choices=("day", "hour"), help="digest period (default day)")
    subscribe.add_argument("--at", help="digest time, HH:MM (default 08:00)")
    subscribe.add_argument("--tz", help="time zone of --at and --quiet, e.g. Europe/Berlin (default UTC)")
    subscribe.add_argument("--quiet", help="quiet hours, HH:MM-HH:MM: instant messages wait until they end")
    listing = command("subscriptions", cmd_subscriptions, "list the subscriptions")
    listing.add_argument("--owner")
    unsubscribe = command("unsubscribe", cmd_unsubscribe, "remove a subscription")
    unsubscribe.add_argument("subscription_id")
    deliveries = command("deliveries", cmd_deliveries, "list deliveries, or `retry ID` / `retry --failed`")
    deliveries.add_argument("action", nargs="?", choices=("list", "retry"), default="list")
    deliveries.add_argument("delivery_id", nargs="?", type=int)
    deliveries.add_argument("--failed", action="store_true", help="list (or retry) the failed ones")
    deliveries.add_argument("--status", choices=("pending", "delivered", "failed"))
    deliveries.add_argument("--limit", type=int, default=50)


def cmd_notifier(args, settings: Settings) -> int:
    from services.notifier import run_notifier

    run_notifier(settings)
    return 0


def subscription_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": args.channel, "mode": args.mode}
    for name in ("url", "address", "secret", "owner", "min_fit", "min_readiness"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    body.update({k: v for k, v in (("roles", args.roles), ("types", args.types)) if v})
    if args.mode == "digest" or args.every or args.at:
        body["mode"] = "digest"
        body["digest"] = {k: v for k, v in (("every", args.every), ("at", args.at), ("tz", args.tz)) if v}
    if args.tz and not (args.quiet or body.get("mode") == "digest"):
        raise ValueError("--tz is the time zone of --at (a digest) or --quiet: give one of them")
    if args.quiet:
        start, _, end = args.quiet.partition("-")
        body["quiet_hours"] = {"start": start, "end": end, **({"tz": args.tz} if args.tz else {})}
    return body


def cmd_subscribe(args, settings: Settings) -> int:
    from services.app.decoding import describe_validation_error
    from services.app.subscriptions import SubscriptionIn, subscribe

    try:
        wanted = SubscriptionIn.model_validate(subscription_body(args))
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc).removeprefix("schema validation failed: ")) from None
    sessions = sessions_for(settings)
    shown = subscribe(sessions, wanted)
    audited(sessions, "subscription.create", shown["id"], {"channel": shown["channel"]})
    print(json.dumps(shown, default=str))
    print(shown["id"])
    return 0


def cmd_subscriptions(args, settings: Settings) -> int:
    from services.app.subscriptions import listed

    found = listed(sessions_for(settings), args.owner)
    for subscription in found:
        print(json.dumps(subscription, default=str))
    if not found:
        print("no subscriptions")
    return 0


def cmd_unsubscribe(args, settings: Settings) -> int:
    from services.app.subscriptions import unsubscribe

    sessions = sessions_for(settings)
    if not unsubscribe(sessions, args.subscription_id):
        raise ValueError(f"no subscription {args.subscription_id!r}")
    audited(sessions, "subscription.delete", args.subscription_id)
    print(f"unsubscribed {args.subscription_id}")
    return 0


def cmd_deliveries(args, settings: Settings) -> int:
    from services.app.subscriptions import deliveries, retry

    if args.action == "retry":
        if (args.delivery_id is None) == (not args.failed):
            raise ValueError("say which: `radar deliveries retry ID` or `radar deliveries retry --failed`")
        sessions = sessions_for(settings)
        count = retry(sessions, None if args.failed else args.delivery_id)
        audited(sessions, "delivery.retry_failed" if args.failed else "delivery.retry",
                "*" if args.failed else str(args.delivery_id), {"count": count})
        if not count and args.delivery_id is not None:
            raise ValueError(f"no failed delivery {args.delivery_id}")
        print(f"{count} deliver{'y' if count == 1 else 'ies'} to send again")
        return 0
    status = "failed" if args.failed else args.status
    for delivery in deliveries(sessions_for(settings), status, max(1, args.limit)):
        print(json.dumps(delivery, default=str))
    return 0

