"""The notifier's rules on plain data: filters, quiet hours, digests, retries, signatures,
and what each channel sends."""
import json
import random
from datetime import datetime, time, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.adapters.delivery import render
from services.app.decoding import describe_validation_error
from services.app.subscriptions import SubscriptionIn
from services.domain.notify import (
    Digest,
    Notice,
    Outcome,
    QuietHours,
    Subscription,
    digest_period,
    first_attempt_at,
    http_outcome,
    in_quiet_hours,
    matches,
    next_attempt,
    parse_retry_after,
    signature,
    verify,
)

UTC = timezone.utc
ALERT = Notice("match.alert", "al-1", "r-7", "lead@example.com", 0.8, 0.5)


def sub(**fields):
    return Subscription(id="s", channel="webhook", target="https://x.example/hook", **fields)


@pytest.mark.parametrize("fields,expected", [
    ({}, True),
    ({"types": ("match.withdrawn",)}, False),
    ({"roles": ("r-7", "r-8")}, True),
    ({"roles": ("r-9",)}, False),
    ({"owner": "LEAD@example.com"}, True),
    ({"owner": "other@example.com"}, False),
    ({"min_fit": 0.8}, True),
    ({"min_fit": 0.81}, False),
    ({"min_readiness": 0.6}, False),
])
def test_filters_absent_mean_everything(fields, expected):
    assert matches(sub(**fields), ALERT) is expected


def test_a_withdrawal_is_not_held_back_by_score_filters_and_revisit_due_follows_relevant_roles():
    withdrawn = Notice("match.withdrawn", "wd-1", "r-7", None, None, None)
    assert matches(sub(min_fit=0.9, min_readiness=0.9), withdrawn)
    revisit = Notice("revisit_due", "sg-1", None, None, None, 0.7, candidate_roles=(("r-7", "a@x.io", 0.75),))
    assert matches(sub(), revisit) and matches(sub(roles=("r-7",), min_fit=0.7), revisit)
    assert not matches(sub(roles=("r-8",)), revisit) and not matches(sub(min_fit=0.8), revisit)


def test_quiet_hours_over_midnight_in_a_named_zone():
    quiet = QuietHours(time(22, 0), time(7, 0), "Europe/Berlin")  # UTC+1 in December
    assert in_quiet_hours(quiet, datetime(2026, 12, 1, 20, 0, tzinfo=UTC)) is None  # 21:00 local
    late = in_quiet_hours(quiet, datetime(2026, 12, 1, 22, 30, tzinfo=UTC))  # 23:30 local
    assert late == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 07:00 local the next morning
    early = in_quiet_hours(quiet, datetime(2026, 12, 2, 4, 0, tzinfo=UTC))  # 05:00 local
    assert early == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    assert first_attempt_at(sub(quiet=quiet), datetime(2026, 12, 1, 22, 30, tzinfo=UTC)) == late


def test_digest_periods():
    daily = Digest("day", time(8, 0), "Europe/Berlin")
    key, due = digest_period(daily, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))  # 07:00 local: today's digest
    assert due == datetime(2026, 12, 1, 7, 0, tzinfo=UTC) and key.startswith("2026-12-01T08:00")
    _, later = digest_period(daily, datetime(2026, 12, 1, 7, 30, tzinfo=UTC))  # after 08:00 local: tomorrow's
    assert later == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    key, due = digest_period(Digest("hour"), datetime(2026, 12, 1, 6, 41, tzinfo=UTC))
    assert due == datetime(2026, 12, 1, 7, 0, tzinfo=UTC) and key == "2026-12-01T06:00:00+00:00"


def test_which_answers_are_retried():
    assert http_outcome(204).delivered
    assert http_outcome(500).retry and http_outcome(503).retry and http_outcome(408).retry
    assert http_outcome(429, "30").retry_after_s == 30
    assert not http_outcome(404).retry and not http_outcome(400).retry and not http_outcome(410).retry
    assert parse_retry_after("Wed, 02 Dec 2026 00:00:30 GMT", datetime(2026, 12, 2, tzinfo=UTC)) == 30


def test_backoff_grows_with_jitter_honours_retry_after_and_gives_up_after_a_day():
    start = datetime(2026, 12, 1, tzinfo=UTC)
    rng = random.Random(1)
    retry = Outcome(False, retry=True)
    delays = [(next_attempt(n, start, start, retry, rng) - start).total_seconds() for n in range(1, 8)]
    assert all(2.5 <= d <= 5 for d in delays[:1]) and delays[-1] > delays[0] * 8
    waited = next_attempt(1, start, start, Outcome(False, retry=True, retry_after_s=120), rng)
    assert waited - start >= timedelta(seconds=120)
    assert next_attempt(30, start, start + timedelta(hours=23, minutes=59), retry, rng) is None
    assert next_attempt(1, start, start, Outcome(False, retry=False), rng) is None


def test_the_signature_is_the_stripe_scheme_and_verifies():
    body = b'{"alert_id":"al-1"}'
    header = signature("s3cret-s3cret-16", body, 1_764_547_200)
    assert header.startswith("t=1764547200,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("s3cret-s3cret-16", body, header, now=1_764_547_200 + 10)
    assert not verify("s3cret-s3cret-16", body + b" ", header, now=1_764_547_200)
    assert not verify("other-secret-16ch", body, header, now=1_764_547_200)
    assert not verify("s3cret-s3cret-16", body, header, now=1_764_547_200 + 3600)  # a replay


MESSAGE = {"type": "match.alert", "alert_id": "al-1", "role_id": "r-7", "candidate_id": "c-1", "fit": 0.82,
           "readiness": 0.65, "reasons": [{"kind": "skill", "text": "has Kafka <must-have>"},
                                          {"kind": "change", "text": "new skill: Kafka"}],
           "signals": ["new_skill"], "triggered_by": "p2", "created_at": "2026-12-01T10:00:00Z",
           "schema_version": 1, "role_title": "Senior Data Engineer", "candidate_name": "Ada Example",
           "candidate_headline": "Staff Data Engineer at Northwind", "link": "http://radar.example/candidates/c-1"}


def test_slack_gets_block_kit_with_a_button_to_the_candidate():
    payload = json.loads(render.slack_body(MESSAGE))
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "context", "section", "actions"]
    assert payload["blocks"][0]["text"]["text"] == "Newly relevant: Ada Example for Senior Data Engineer"
    fields = [f["text"] for f in payload["blocks"][1]["fields"]]
    assert "*Fit*\n0.82" in fields and "*Readiness*\n0.65" in fields
    reasons = payload["blocks"][3]["text"]["text"]
    assert reasons.startswith("• new skill: Kafka") and "&lt;must-have&gt;" in reasons  # changes first, escaped
    assert payload["blocks"][4]["elements"][0]["url"] == MESSAGE["link"]


def test_emails_are_text_and_html_and_a_digest_groups_by_role():
    email = render.alert_email(MESSAGE, "radar@example.com", "lead@example.com")
    assert email["Subject"] == "Newly relevant: Ada Example for Senior Data Engineer"
    text = email.get_body(("plain",)).get_content()
    assert "Fit 0.82 · readiness 0.65" in text and "- new skill: Kafka" in text and MESSAGE["link"] in text
    assert "&lt;must-have&gt;" in email.get_body(("html",)).get_content()  # HTML escapes what it shows
    other = {**MESSAGE, "alert_id": "al-2", "role_id": "r-9", "role_title": "Platform Engineer"}
    digest = render.digest_email([MESSAGE, other, {**MESSAGE, "alert_id": "al-3", "candidate_name": "Grace"}],
                                 "2026-12-01T08:00+01:00", "radar@example.com", "lead@example.com")
    body = digest.get_body(("plain",)).get_content()
    assert digest["Subject"] == "Talent Radar digest: 3 updates"
    assert body.index("== Senior Data Engineer ==") < body.index("Grace") < body.index("== Platform Engineer ==")


@pytest.mark.parametrize("body,says", [
    ({"channel": "fax"}, "channel"),
    ({"channel": "webhook", "url": "not a url", "secret": "x" * 16}, "url: must be an http(s) URL"),
    ({"channel": "webhook", "url": "https://x.example"}, "needs a secret"),
    ({"channel": "slack"}, "needs a url"),
    ({"channel": "email", "address": "nobody"}, "address: must be an e-mail address"),
    ({"channel": "email", "address": "a@b.example", "mode": "digest", "digest": {"tz": "Mars/Base"}},
     "no such time zone"),
    ({"channel": "email", "address": "a@b.example", "quiet_hours": {"start": "25:00", "end": "07:00"}},
     "must be HH:MM"),
])
def test_bad_subscriptions_get_one_clear_reason(body, says):
    with pytest.raises(ValidationError) as error:
        SubscriptionIn.model_validate(body)
    assert says in describe_validation_error(error.value)  # the line the API and CLI show


def test_a_digest_subscription_defaults_to_daily_at_eight_utc():
    subscription = SubscriptionIn.model_validate({"channel": "email", "address": "a@b.example",
                                                  "mode": "digest"}).to_subscription()
    assert subscription.digest == Digest("day", time(8, 0), "UTC")
