"""Subscriptions as people write them (API and CLI), checked into the notifier's rules.

`POST /subscriptions` takes, for example:
    {"channel": "webhook", "url": "https://…", "secret": "…", "roles": ["r-7"], "types": ["match.alert"],
     "min_fit": 0.7, "mode": "instant"}
    {"channel": "slack", "url": "https://hooks.slack.com/…"}
    {"channel": "email", "address": "lead@example.com", "mode": "digest",
     "digest": {"every": "day", "at": "08:00", "tz": "Europe/Berlin"}}
Absent filters mean everything; `mode` defaults to `instant`. A bad field gets one clear
message (an invalid URL, an unknown channel, a webhook without a secret, a time zone that
does not exist).
"""
from __future__ import annotations

import re
import uuid
from datetime import time
from typing import Any, Literal, Optional
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import Id
from services.adapters.store import notifications as store
from services.adapters.store.db import utcnow
from services.domain.notify import Digest, QuietHours, Subscription

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{2,63}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError("time_zone", "no such time zone (use an IANA name such as Europe/Berlin)")
    return value


def _clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise PydanticCustomError("clock", "must be HH:MM (24-hour)")
    return value


class DigestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: Literal["day", "hour"] = "day"
    at: str = "08:00"
    tz: str = "UTC"

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return _clock(value)

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)


class QuietIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str
    end: str
    tz: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _times(cls, value: str) -> str:
        return _clock(value)

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    channel: Literal["webhook", "slack", "email"]
    url: Optional[str] = Field(default=None, max_length=2000)
    address: Optional[str] = Field(default=None, max_length=320)
    secret: Optional[str] = Field(default=None, min_length=16, max_length=200)
    roles: list[Id] = Field(default=[], max_length=100)
    owner: Optional[str] = Field(default=None, max_length=200)
    min_fit: Optional[float] = Field(default=None, ge=0, le=1)
    min_readiness: Optional[float] = Field(default=None, ge=0, le=1)
    types: list[Literal["match.alert", "match.withdrawn", "revisit_due"]] = []
    mode: Literal["instant", "digest"] = "instant"
    digest: Optional[DigestIn] = None
    quiet_hours: Optional[QuietIn] = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise PydanticCustomError("url", "must be an http(s) URL with a host")
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _EMAIL.match(value):
            raise PydanticCustomError("address", "must be an e-mail address")
        return value

    @model_validator(mode="after")
    def _fits_the_channel(self) -> "SubscriptionIn":
        if self.channel in ("webhook", "slack") and not self.url:
            raise PydanticCustomError("url", f"a {self.channel} subscription needs a url")
        if self.channel == "webhook" and not self.secret:
            raise PydanticCustomError("secret", "a webhook subscription needs a secret (16+ characters) to sign with")
        if self.channel == "email" and not self.address:
            raise PydanticCustomError("address", "an email subscription needs an address")
        if self.channel == "email" and self.url:
            raise PydanticCustomError("url", "an email subscription takes an address, not a url")
        if self.channel != "email" and self.address:
            raise PydanticCustomError("address", f"a {self.channel} subscription takes a url, not an address")
        if self.channel != "webhook" and self.secret:
            raise PydanticCustomError("secret", "only webhooks are signed: a secret goes with a webhook")
        if self.mode == "instant" and self.digest is not None:
            raise PydanticCustomError("digest", 'a digest schedule needs mode "digest"')
        if self.mode == "digest" and self.digest is None:
            self.digest = DigestIn()
        if self.quiet_hours and self.quiet_hours.start == self.quiet_hours.end:
            raise PydanticCustomError("quiet_hours", "quiet hours that start when they end: give two different times")
        return self

    def to_subscription(self, subscription_id: Optional[str] = None) -> Subscription:
        return Subscription(
            id=subscription_id or f"sub-{uuid.uuid4().hex[:12]}", channel=self.channel,
            target=self.url if self.channel != "email" else self.address, secret=self.secret,
            roles=tuple(self.roles), owner=self.owner, min_fit=self.min_fit, min_readiness=self.min_readiness,
            types=tuple(self.types), mode=self.mode,
            digest=Digest(self.digest.every, time.fromisoformat(self.digest.at), self.digest.tz)
            if self.mode == "digest" and self.digest else None,
            quiet=QuietHours(time.fromisoformat(self.quiet_hours.start), time.fromisoformat(self.quiet_hours.end),
                             self.quiet_hours.tz) if self.quiet_hours else None)


# -- the use cases (API and CLI) ------------------------------------------------------------

class DuplicateSubscription(ValueError):
    def __init__(self, existing_id: str):
        super().__init__(f"the same subscription exists already: {existing_id}")
        self.existing_id = existing_id


def subscribe(sessions: sessionmaker[Session], wanted: SubscriptionIn) -> dict[str, Any]:
    """A new subscription; the same one twice (same channel, target, filters and timing) would
    send everything twice, so it is refused with the existing one's id."""
    subscription = wanted.to_subscription()
    with sessions.begin() as session:
        existing = store.same_subscription(session, subscription)
        if existing:
            raise DuplicateSubscription(existing)
        store.add_subscription(session, subscription, utcnow())
    return shown(sessions, subscription.id)


def shown(sessions: sessionmaker[Session], subscription_id: str) -> dict[str, Any]:
    return next(s for s in listed(sessions) if s["id"] == subscription_id)


def listed(sessions: sessionmaker[Session], owner: Optional[str] = None,
           whole_urls: bool = True) -> list[dict[str, Any]]:
    with sessions() as session:
        shown = store.listed_subscriptions(session, owner)
    if not whole_urls:
        for subscription in shown:
            if subscription["channel"] != "email":
                subscription["target"] = redacted_url(subscription["target"])
    return shown


def redacted_url(url: str) -> str:
    """https://hooks.slack.com/services/T0/B0/XYZ -> https://hooks.slack.com/…"""
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc.rpartition('@')[2]}/…"


def unsubscribe(sessions: sessionmaker[Session], subscription_id: str) -> bool:
    with sessions.begin() as session:
        return store.remove_subscription(session, subscription_id, utcnow())


def deliveries(sessions: sessionmaker[Session], status: Optional[str], limit: int = 100) -> list[dict[str, Any]]:
    with sessions() as session:
        return store.listed_deliveries(session, status, limit)


def retry(sessions: sessionmaker[Session], delivery_id: Optional[int]) -> int:
    """Send a failed delivery again (or every failed one): `radar deliveries retry`."""
    with sessions.begin() as session:
        return store.retry_failed(session, utcnow(), delivery_id)
