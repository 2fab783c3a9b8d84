"""The notifier's use cases against real databases (SQLite and PostgreSQL), a real HTTP
receiver and a real SMTP server on loopback; the clock is the test's."""
import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.adapters.delivery.senders import Senders, SmtpSettings
from services.adapters.store import notifications as store
from services.adapters.store.models import DeliveryRow, OutboxMessage
from services.app.notifier import Notifier, send
from services.app.pipeline import Pipeline
from services.app.subscriptions import SubscriptionIn, retry, subscribe
from services.domain.notify import verify
from tests.helpers import position, profile_event, raw, role_spec
from tests.integration.receivers import Answer, HttpReceiver, SmtpReceiver

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
SECRET = "whsec-0123456789abcdef"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def alerts(sessions):
    """Two real alerts (Ada for r-7 and r-9) from the pipeline, with the store behind them."""
    pipeline = Pipeline(sessions, clock=lambda: NOW)
    pipeline.process([raw("role-specs", role_spec("r-7", owner="lead@example.com")),
                      raw("role-specs", role_spec("r-9", title="Platform Engineer", must_have=["Python"]))])
    pipeline.process([raw("profile-events", profile_event(
        "p1", "c-1", name="Ada Example", headline="Staff Data Engineer at Northwind", skills=["Python", "Kafka"],
        positions=[position("Staff Data Engineer", "Northwind")]))])
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.topic.endswith("match-alerts"))
                               .order_by(OutboxMessage.id)).all()
        return [r.payload for r in rows]


def add(sessions, **body):
    return subscribe(sessions, SubscriptionIn.model_validate(body))["id"]


async def deliver_due(notifier: Notifier, senders: Senders) -> list:
    """One round of the notifier's delivery loop: claim what is due, send, record."""
    subscriptions = notifier.subscriptions()
    done = []
    for job in notifier.claim():
        digest = notifier.digest(job) if job.kind == "digest" else None
        outcome = await send(job, subscriptions[job.subscription_id], senders, digest)
        done.append((job, outcome, notifier.record(job, outcome)))
    return done


def run(coroutine):
    return asyncio.run(coroutine)


def statuses(sessions):
    with sessions() as session:
        return {(r.subscription_id, r.key): (r.status, r.attempts) for r in session.scalars(select(DeliveryRow))}


def test_an_instant_webhook_is_signed_enriched_and_planned_once(sessions, alerts):
    with HttpReceiver() as receiver:
        sub = add(sessions, channel="webhook", url=receiver.url("/hook"), secret=SECRET, types=["match.alert"])
        clock = Clock(NOW)
        notifier = Notifier(sessions, "http://radar.example", clock)
        assert notifier.plan(alerts) >= 2
        assert notifier.plan(alerts) == 0  # consumed twice: planned once
        senders = Senders(SmtpSettings())
        run(_deliver_and_close(notifier, senders))
        posts = receiver.at("/hook")
        assert sorted(p.headers["X-Radar-Delivery"] for p in posts) == sorted(a["alert_id"] for a in alerts)
        for post in posts:
            signature = post.headers["X-Radar-Signature"]
            assert verify(SECRET, post.body, signature, now=int(datetime.now(UTC).timestamp()))
            body = json.loads(post.body)
            assert body["candidate_name"] == "Ada Example" and body["candidate_headline"].startswith("Staff")
            assert body["role_title"] in ("Senior Data Engineer", "Platform Engineer")
            assert body["link"] == f"http://radar.example/candidates/c-1?role={body['role_id']}"
            assert body["schema_version"] == 1 and body["reasons"]
        assert all(status == ("delivered", 1) for (s, _), status in statuses(sessions).items() if s == sub)
        # the owner of r-7 got a daily digest by e-mail of their roles' alerts, without asking
        owner = [s for s in store.active_subscriptions(_session(sessions)) if s.target == "lead@example.com"]
        assert [(s.channel, s.mode, s.owner) for s in owner] == [("email", "digest", "lead@example.com")]


async def _deliver_and_close(notifier, senders):
    try:
        return await deliver_due(notifier, senders)
    finally:
        await senders.close()


def _session(sessions):
    return sessions()


def test_500_and_429_are_retried_with_backoff_and_retry_after(sessions, alerts):
    with HttpReceiver() as receiver:
        receiver.script["/flaky"] = [Answer(500), Answer(200)]
        receiver.script["/busy"] = [Answer(429, {"Retry-After": "120"}), Answer(200)]
        add(sessions, channel="webhook", url=receiver.url("/flaky"), secret=SECRET, roles=["r-7"])
        add(sessions, channel="webhook", url=receiver.url("/busy"), secret=SECRET, roles=["r-7"])
        clock = Clock(NOW)
        notifier = Notifier(sessions, "http://radar.example", clock)
        notifier.plan(alerts)
        first = run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        retries = {job.channel + outcome.reason: retry_at for job, outcome, retry_at in first if not outcome.delivered}
        assert set(retries) == {"webhookHTTP 500", "webhookHTTP 429"}
        assert timedelta(seconds=2.5) <= retries["webhookHTTP 500"] - NOW <= timedelta(seconds=5)
        assert retries["webhookHTTP 429"] - NOW >= timedelta(seconds=120)  # Retry-After honoured
        clock.now = NOW + timedelta(seconds=6)
        second = run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        assert [(o.delivered, j.attempts) for j, o, _ in second] == [(True, 1)]  # the 500 one; 429 still waits
        clock.now = NOW + timedelta(seconds=121)
        third = run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        assert [o.delivered for _, o, _ in third] == [True]
        assert len(receiver.at("/flaky")) == 2 and len(receiver.at("/busy")) == 2


def test_other_4xx_fail_at_once_and_a_manual_retry_sends_again(sessions, alerts):
    with HttpReceiver() as receiver:
        receiver.script["/gone"] = [Answer(404), Answer(200)]
        add(sessions, channel="webhook", url=receiver.url("/gone"), secret=SECRET, roles=["r-9"])
        clock = Clock(NOW)
        notifier = Notifier(sessions, "http://radar.example", clock)
        notifier.plan(alerts)
        [(job, outcome, retry_at)] = run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        assert not outcome.delivered and retry_at is None
        [failed] = store.listed_deliveries(_session(sessions), "failed", 10)
        assert failed["last_error"] == "HTTP 404" and failed["id"] == job.id
        assert run(_deliver_and_close(notifier, Senders(SmtpSettings()))) == []  # failed stays failed
        assert retry(sessions, job.id) == 1  # radar deliveries retry ID: due now
        clock.now = datetime.now(UTC) + timedelta(seconds=1)
        [(_, again, _)] = run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        assert again.delivered and len(receiver.at("/gone")) == 2


def test_filters_and_quiet_hours(sessions, alerts):
    with HttpReceiver() as receiver:
        add(sessions, channel="webhook", url=receiver.url("/fit"), secret=SECRET, min_fit=0.99)
        add(sessions, channel="webhook", url=receiver.url("/r9"), secret=SECRET, roles=["r-9"])
        add(sessions, channel="webhook", url=receiver.url("/owner"), secret=SECRET, owner="lead@example.com")
        add(sessions, channel="webhook", url=receiver.url("/withdrawn"), secret=SECRET, types=["match.withdrawn"])
        quiet = add(sessions, channel="slack", url=receiver.url("/quiet"),
                    quiet_hours={"start": "09:30", "end": "18:00", "tz": "Europe/Berlin"})  # 10:00 there: quiet
        clock = Clock(NOW)
        notifier = Notifier(sessions, "http://radar.example", clock)
        notifier.plan(alerts)
        run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        fit = {a["role_id"]: a["fit"] for a in alerts}
        assert len(receiver.at("/fit")) == sum(1 for f in fit.values() if f >= 0.99)
        assert [json.loads(r.body)["role_id"] for r in receiver.at("/r9")] == ["r-9"]
        assert [json.loads(r.body)["role_id"] for r in receiver.at("/owner")] == ["r-7"]
        assert receiver.at("/withdrawn") == [] and receiver.at("/quiet") == []
        with sessions() as session:
            due = session.scalars(select(DeliveryRow.next_attempt_at).where(DeliveryRow.subscription_id == quiet)).all()
        assert {d.replace(tzinfo=UTC) if d.tzinfo is None else d for d in due} == {datetime(2026, 12, 1, 17, 0,
                                                                                          tzinfo=UTC)}
        clock.now = datetime(2026, 12, 1, 17, 0, 1, tzinfo=UTC)  # 18:00 in Berlin: the quiet hours are over
        run(_deliver_and_close(notifier, Senders(SmtpSettings())))
        assert len(receiver.at("/quiet")) == 2 and "blocks" in json.loads(receiver.at("/quiet")[0].body)


def test_email_instant_and_a_daily_digest_at_its_time(sessions, alerts):
    with SmtpReceiver() as smtp:
        add(sessions, channel="email", address="instant@example.com")
        add(sessions, channel="email", address="digest@example.com", mode="digest",
            digest={"every": "day", "at": "08:00", "tz": "Europe/Berlin"})
        clock = Clock(NOW)
        notifier = Notifier(sessions, "http://radar.example", clock)
        notifier.plan(alerts)
        senders = Senders(SmtpSettings("127.0.0.1", smtp.port, sender="radar@example.com"))
        run(_deliver_and_close(notifier, senders))
        instant = [m for m in smtp.messages if m["To"] == "instant@example.com"]
        assert len(instant) == 2 and all(m.is_multipart() for m in instant)
        assert {m.get_content_type() for m in instant[0].get_payload()} == {"text/plain", "text/html"}
        assert not [m for m in smtp.messages if m["To"] == "digest@example.com"]
        clock.now = datetime(2026, 12, 2, 6, 59, tzinfo=UTC)  # 07:59 in Berlin: not yet
        run(_deliver_and_close(notifier, Senders(SmtpSettings("127.0.0.1", smtp.port))))
        assert not [m for m in smtp.messages if m["To"] == "digest@example.com"]
        clock.now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
        run(_deliver_and_close(notifier, Senders(SmtpSettings("127.0.0.1", smtp.port))))
        [digest] = [m for m in smtp.messages if m["To"] == "digest@example.com"]
        text = next(p for p in digest.get_payload() if p.get_content_type() == "text/plain").get_payload(decode=True)
        assert digest["Subject"] == "Talent Radar digest: 2 updates"
        assert b"== Senior Data Engineer ==" in text and b"== Platform Engineer ==" in text and b"Ada Example" in text


def test_an_smtp_server_refusing_the_login_fails_the_delivery_with_that_reason(sessions, alerts):
    with SmtpReceiver(password="right") as smtp, HttpReceiver() as receiver:
        add(sessions, channel="email", address="a@example.com", roles=["r-7"])
        add(sessions, channel="webhook", url=receiver.url("/ok"), secret=SECRET, roles=["r-7"])
        notifier = Notifier(sessions, "http://radar.example", Clock(NOW))
        notifier.plan(alerts)
        senders = Senders(SmtpSettings("127.0.0.1", smtp.port, user="radar", password="wrong"))
        done = run(_deliver_and_close(notifier, senders))
        by_channel = {job.channel: (outcome, retry_at) for job, outcome, retry_at in done}
        outcome, retry_at = by_channel["email"]
        assert not outcome.delivered and retry_at is None
        assert outcome.reason.startswith("the SMTP server refused the login: 535")
        assert by_channel["webhook"][0].delivered and len(receiver.at("/ok")) == 1


def test_a_hanging_receiver_holds_up_no_one(sessions, alerts):
    with HttpReceiver() as receiver:
        receiver.script["/hang"] = [Answer(200, hang_s=5)]
        add(sessions, channel="webhook", url=receiver.url("/hang"), secret=SECRET)
        add(sessions, channel="webhook", url=receiver.url("/ok"), secret=SECRET)
        notifier = Notifier(sessions, "http://radar.example", Clock(NOW))
        notifier.plan(alerts)
        senders = Senders(SmtpSettings(), timeout_s=2)
        subscriptions = notifier.subscriptions()
        started = asyncio.run(_concurrently(notifier, senders, subscriptions, receiver))
        assert started["ok_done_after_s"] < 1.5  # the hung host's 2 s timeouts did not hold them
        assert started["hang_outcomes"] == {"no answer within 2 s"}


async def _concurrently(notifier, senders, subscriptions, receiver):
    loop = asyncio.get_running_loop()
    begun = loop.time()
    jobs = notifier.claim()

    async def one(job):
        outcome = await send(job, subscriptions[job.subscription_id], senders)
        return job, outcome, loop.time() - begun

    try:
        results = await asyncio.gather(*(one(job) for job in jobs))
    finally:
        await senders.close()
    hung = {j.subscription_id for j in jobs if "hang" in subscriptions[j.subscription_id].target}
    ok = [t for j, o, t in results if j.subscription_id not in hung and o.delivered]
    return {"ok_done_after_s": max(ok), "hang_outcomes": {o.reason for j, o, _ in results
                                                          if j.subscription_id in hung}}


def withdrawal_of(alert):
    return {"type": "match.withdrawn", "alert_id": "wd-1", "withdraws_alert_id": alert["alert_id"],
            "role_id": alert["role_id"], "candidate_id": alert["candidate_id"], "triggered_by": "profile-events:0:9",
            "reasons": [{"kind": "change", "text": "moved from Northwind to Acme"}],
            "created_at": alert["created_at"]}


def test_a_withdrawal_by_email_has_no_fit_line_and_is_delivered(sessions, alerts):
    with SmtpReceiver() as smtp:
        add(sessions, channel="email", address="a@example.com", roles=["r-7"])
        notifier = Notifier(sessions, "http://radar.example", Clock(NOW))
        r7 = next(a for a in alerts if a["role_id"] == "r-7")
        notifier.plan([r7, withdrawal_of(r7)])
        done = run(_deliver_and_close(notifier, Senders(SmtpSettings("127.0.0.1", smtp.port))))
        assert [outcome.delivered for _, outcome, _ in done] == [True, True]
        texts = [next(p for p in m.get_payload() if p.get_content_type() == "text/plain").get_payload(decode=True)
                 .decode().replace("\r\n", "\n") for m in smtp.messages]
        alert_text, withdrawal_text = sorted(texts, key=lambda t: t.startswith("No longer"))
        assert alert_text.splitlines()[:2] == ["Newly relevant: Ada Example for Senior Data Engineer",
                                               "Staff Data Engineer at Northwind"]
        assert withdrawal_text.startswith("No longer relevant: Ada Example for Senior Data Engineer\n")
        assert "Fit" not in withdrawal_text and "- moved from Northwind to Acme" in withdrawal_text


def test_a_message_that_cannot_be_rendered_fails_visibly_instead_of_waiting_for_ever(sessions, alerts):
    from services.notifier import attempt

    add(sessions, channel="email", address="a@example.com", roles=["r-7"])
    broken = dict(next(a for a in alerts if a["role_id"] == "r-7"), fit="not a number")  # what a defect in a template or a payload looks like
    notifier = Notifier(sessions, "http://radar.example", Clock(NOW))
    notifier.plan([broken])
    [job] = notifier.claim()
    outcome = run(attempt(job, notifier.subscriptions()[job.subscription_id],
                                          Senders(SmtpSettings("127.0.0.1", 9)), None))
    assert not outcome.delivered and not outcome.retry and "TypeError in the notifier" in outcome.reason
    notifier.record(job, outcome)
    with sessions() as session:
        [row] = session.scalars(select(DeliveryRow).where(DeliveryRow.id == job.id)).all()
    assert (row.status, row.attempts) == ("failed", 1) and "radar deliveries retry" in row.last_error


def test_one_owner_of_two_roles_gets_one_digest_and_the_same_subscription_twice_is_refused(sessions, alerts):
    from services.app.subscriptions import DuplicateSubscription

    pipeline = Pipeline(sessions, clock=lambda: NOW)
    pipeline.process([raw("role-specs", role_spec("r-9", title="Platform Engineer", must_have=["Python"],
                                                  owner="lead@example.com"))])
    Notifier(sessions, "http://radar.example", Clock(NOW)).plan(alerts)
    owner = [s for s in store.active_subscriptions(_session(sessions)) if s.target == "lead@example.com"]
    assert len(owner) == 1
    add(sessions, channel="email", address="a@example.com", roles=["r-7"])
    with pytest.raises(DuplicateSubscription, match="exists already: sub-"):
        add(sessions, channel="email", address="a@example.com", roles=["r-7"])
    add(sessions, channel="email", address="a@example.com", roles=["r-9"])  # other filters: another one
