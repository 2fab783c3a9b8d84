"""The notifier's rules, as pure functions: who is told, when, and what happens after a failure.

- A subscription matches a message when every filter it sets holds (absent filters mean
  everything): its types, its roles or role owner, its minimum fit and readiness.
- Instant messages go out at once unless the subscription is in its quiet hours; then at
  their end. Digests collect messages per period (every hour, or every day at a time in a
  named time zone) and go out when the period closes.
- A failed delivery is retried with exponential backoff and jitter for up to 24 hours when
  retrying can help (a timeout, 408, 429, 5xx, a lost connection), honouring Retry-After; any
  other refusal fails at once.
- Webhooks are signed the Stripe way: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
"""
from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Optional, Sequence
from zoneinfo import ZoneInfo

from services.domain.transitions import stable_id

MESSAGE_TYPES = ("match.alert", "match.withdrawn", "revisit_due")
CHANNELS = ("webhook", "slack", "email")
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_S, MAX_RETRY_S = 5.0, 3600.0


@dataclass(frozen=True)
class Digest:
    every: str                 # "day" | "hour"
    at: time = time(8, 0)      # for "day": the local time it goes out
    tz: str = "UTC"


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    tz: str = "UTC"


@dataclass(frozen=True)
class Subscription:
    id: str
    channel: str
    target: str                # a URL, or an e-mail address
    secret: Optional[str] = None
    roles: tuple[str, ...] = ()
    owner: Optional[str] = None
    min_fit: Optional[float] = None
    min_readiness: Optional[float] = None
    types: tuple[str, ...] = ()
    mode: str = "instant"      # "instant" | "digest"
    digest: Optional[Digest] = None
    quiet: Optional[QuietHours] = None


@dataclass(frozen=True)
class Notice:
    """A message to deliver, with what filters need: its type, the role (and its owner), the
    fit and readiness, and for a candidate signal the roles the candidate is relevant for."""
    type: str
    key: str                   # alert_id, or signal_id
    role_id: Optional[str]
    role_owner: Optional[str]
    fit: Optional[float]
    readiness: Optional[float]
    candidate_roles: tuple[tuple[str, Optional[str], float], ...] = ()  # (role id, owner, fit): revisit_due


OWNER_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # a role owner who is an e-mail address
OWNER_DIGEST = Digest("day", time(8, 0), "UTC")


def owner_default(owner: str) -> Subscription:
    """What an owner of roles gets unless they change it: their roles' alerts, by e-mail, in
    one daily digest. Its id is derived, so it is made once; a removed one is not made again."""
    return Subscription(id=stable_id("own", owner.lower()), channel="email", target=owner, owner=owner,
                        types=("match.alert",), mode="digest", digest=OWNER_DIGEST)


def matches(subscription: Subscription, notice: Notice) -> bool:
    if subscription.types and notice.type not in subscription.types:
        return False
    roles = [(notice.role_id, notice.role_owner, notice.fit)] if notice.role_id else list(notice.candidate_roles)
    if subscription.roles or subscription.owner:
        roles = [r for r in roles if (not subscription.roles or r[0] in subscription.roles)
                 and (not subscription.owner or (r[1] or "").lower() == subscription.owner.lower())]
        if not roles:
            return False
    if subscription.min_fit is not None:
        fits = [fit for _, _, fit in roles if fit is not None]
        if notice.type != "match.withdrawn" and (not fits or max(fits) < subscription.min_fit):
            return False
    if subscription.min_readiness is not None and notice.type != "match.withdrawn":
        if notice.readiness is None or notice.readiness < subscription.min_readiness:
            return False
    return True


# -- when ----------------------------------------------------------------------------

def in_quiet_hours(quiet: Optional[QuietHours], moment: datetime) -> Optional[datetime]:
    """The end of the quiet hours `moment` falls in (UTC), or None when it is not quiet."""
    if quiet is None:
        return None
    zone = ZoneInfo(quiet.tz)
    local = moment.astimezone(zone)
    start = datetime.combine(local.date(), quiet.start, zone)
    end = datetime.combine(local.date(), quiet.end, zone)
    if quiet.start <= quiet.end:   # the same day: 12:00-14:00
        quiet_now = start <= local < end
    else:                          # over midnight: 22:00-07:00
        quiet_now = local >= start or local < end
        if local >= start:
            end += timedelta(days=1)
    return end.astimezone(timezone.utc) if quiet_now else None


def digest_period(digest: Digest, moment: datetime) -> tuple[str, datetime]:
    """(period key, when it goes out: UTC) of the digest a message at `moment` belongs to."""
    if digest.every == "hour":
        start = moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        due = start + timedelta(hours=1)
        return start.isoformat(), due
    zone = ZoneInfo(digest.tz)
    local = moment.astimezone(zone)
    due = datetime.combine(local.date(), digest.at, zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), digest.at, zone)
    return due.isoformat(), due.astimezone(timezone.utc)


def first_attempt_at(subscription: Subscription, moment: datetime) -> datetime:
    """When an instant delivery may first go out: now, or when the quiet hours end."""
    return in_quiet_hours(subscription.quiet, moment) or moment


# -- after a failure -------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool = False                  # worth trying again
    retry_after_s: Optional[float] = None
    reason: str = ""


def http_outcome(status: int, retry_after: Optional[str] = None) -> Outcome:
    if 200 <= status < 300:
        return Outcome(True)
    reason = f"HTTP {status}"
    if status in (408, 429) or status >= 500:
        return Outcome(False, retry=True, retry_after_s=parse_retry_after(retry_after), reason=reason)
    return Outcome(False, retry=False, reason=reason)


def parse_retry_after(value: Optional[str], now: Optional[datetime] = None) -> Optional[float]:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def next_attempt(attempts: int, first_tried_at: datetime, now: datetime, outcome: Outcome,
                 rng: random.Random = random.Random()) -> Optional[datetime]:
    """When to try again after `attempts` tries, or None when it is time to give up."""
    if not outcome.retry:
        return None
    backoff = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1))
    delay = backoff * rng.uniform(0.5, 1.0)  # jitter: receivers coming back are not stampeded
    if outcome.retry_after_s is not None:
        delay = max(delay, min(outcome.retry_after_s, MAX_RETRY_S))
    when = now + timedelta(seconds=delay)
    return when if when - first_tried_at <= RETRY_FOR else None


# -- signing ---------------------------------------------------------------------------

def signature(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver does (README, "Webhooks"): recompute, compare in constant time, and
    refuse an old timestamp (a replay)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    at = int(parts.get("t", "0"))
    expected = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(now - at) <= tolerance_s and hmac.compare_digest(expected, parts.get("v1", ""))


def top_reasons(reasons: Sequence[dict[str, Any]], limit: int = 4) -> list[str]:
    """The reasons a person reads first: what changed, then the strongest facts."""
    changes = [r["text"] for r in reasons if r.get("kind") == "change"]
    rest = [r["text"] for r in reasons if r.get("kind") != "change"]
    return (changes + rest)[:limit]
