"""Sending: signed webhooks and Slack over one pooled HTTP client, e-mail over SMTP.

Every send returns an Outcome (services.domain.notify): delivered, worth retrying (a
timeout, a lost connection, 408, 429, 5xx, a busy mail server) or refused for good, with a
reason a person can act on. A slow or dead receiver holds up no other: each target (a host,
or the mail server) has a few connections of its own, and every request has a timeout.
"""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Optional
from urllib.parse import urlsplit

import aiosmtplib
import httpx

from services.domain.notify import Outcome, http_outcome, signature

USER_AGENT = "TalentRadar-Notifier/1"


@dataclass(frozen=True)
class SmtpSettings:
    host: Optional[str] = None
    port: int = 25
    user: Optional[str] = None
    password: Optional[str] = None
    sender: str = "talent-radar@localhost"
    starttls: bool = False


class Senders:
    def __init__(self, smtp: SmtpSettings, timeout_s: float = 10.0, per_target: int = 4, total: int = 64):
        self.smtp = smtp
        self.timeout_s = timeout_s
        self.client = httpx.AsyncClient(timeout=timeout_s, headers={"User-Agent": USER_AGENT},
                                        limits=httpx.Limits(max_connections=total, max_keepalive_connections=total))
        self._per_target: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_target))

    async def close(self) -> None:
        await self.client.aclose()

    async def webhook(self, url: str, secret: Optional[str], delivery_id: str, body: bytes) -> Outcome:
        headers = {"Content-Type": "application/json", "X-Radar-Delivery": delivery_id}
        if secret:
            headers["X-Radar-Signature"] = signature(secret, body, int(time.time()))
        return await self.post(url, body, headers)

    async def slack(self, url: str, body: bytes) -> Outcome:
        return await self.post(url, body, {"Content-Type": "application/json"})

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        async with self._per_target[urlsplit(url).netloc]:
            try:
                response = await self.client.post(url, content=body, headers=headers)
            except httpx.TimeoutException:
                return Outcome(False, retry=True, reason=f"no answer within {self.timeout_s:g} s")
            except httpx.HTTPError as exc:
                return Outcome(False, retry=True, reason=f"could not connect: {type(exc).__name__}")
        return http_outcome(response.status_code, response.headers.get("retry-after"))

    async def email(self, message: EmailMessage) -> Outcome:
        if not self.smtp.host:
            return Outcome(False, retry=False, reason="no SMTP server configured (RADAR_SMTP_HOST)")
        async with self._per_target[f"smtp:{self.smtp.host}:{self.smtp.port}"]:
            try:
                await aiosmtplib.send(message, hostname=self.smtp.host, port=self.smtp.port,
                                      username=self.smtp.user, password=self.smtp.password,
                                      start_tls=self.smtp.starttls, timeout=self.timeout_s)
            except aiosmtplib.SMTPAuthenticationError as exc:
                return Outcome(False, retry=False, reason=f"the SMTP server refused the login: {exc.code} "
                                                          f"{_first_line(exc.message)}")
            except aiosmtplib.SMTPRecipientsRefused as exc:
                return Outcome(False, retry=False, reason=f"the SMTP server refused the address: "
                                                          f"{_first_line(str(exc))}")
            except aiosmtplib.SMTPResponseException as exc:
                # 4xx is "try later"; 5xx is a refusal
                return Outcome(False, retry=exc.code < 500, reason=f"SMTP {exc.code} {_first_line(exc.message)}")
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                return Outcome(False, retry=True, reason=f"could not reach the SMTP server: {type(exc).__name__}")
        return Outcome(True)


def _first_line(text: str) -> str:
    return (str(text).strip().splitlines() or [""])[0][:200]
