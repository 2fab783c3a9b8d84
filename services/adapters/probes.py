"""/livez, /readyz and /metrics for the processes without an HTTP API of their own (worker,
scheduler, notifier), served on the process's own event loop: /livez answering proves the
loop runs, and depends on nothing else; /readyz runs the process's checks (database, broker,
partitions assigned ...), each with a short timeout."""
from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any, Awaitable, Callable, Optional

from aiohttp import web
from aiokafka import errors as kafka_errors
from aiokafka.conn import create_conn
from aiokafka.protocol.metadata import MetadataRequest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.adapters.kafka.client import client_options
from services.adapters.kafka.local_broker import KafkaSetupError, parse_bootstrap
from services.config import Settings
from services.logs import get_logger

log = get_logger("radar.probes")
Check = Callable[[], Awaitable[Optional[str]]]  # None when fine, else what is wrong
CHECK_TIMEOUT_S = 2.0


async def readiness(checks: dict[str, Check]) -> tuple[bool, dict[str, str]]:
    """Run every check at once; each one's answer, "ok" or what is wrong."""
    async def one(check: Check) -> str:
        try:
            problem = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except asyncio.TimeoutError:
            problem = f"no answer within {CHECK_TIMEOUT_S:g} s"
        except Exception as exc:  # a probe reports; it never fails itself
            problem = f"{type(exc).__name__}"
        return problem or "ok"

    answers = dict(zip(checks, await asyncio.gather(*(one(c) for c in checks.values()))))
    return all(a == "ok" for a in answers.values()), answers


def database_check(engine: Engine) -> Check:
    async def check() -> Optional[str]:
        def ping() -> None:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        await asyncio.to_thread(ping)
        return None
    return check


def broker_check(settings: Settings) -> Check:
    """Kafka spoken the way every client of this process speaks it (`client_options`: TLS,
    SASL): to every bootstrap broker at once, a connection, its API versions, the SASL
    handshake and a metadata request; fine as soon as one answers. What is wrong is one short
    phrase and the address, never a credential."""
    async def check() -> Optional[str]:
        try:
            options = client_options(settings)
        except ValueError as exc:  # a TLS file gone since the start
            return str(exc)
        options.pop("bootstrap_servers")
        try:
            addresses = [parse_bootstrap(part) for part in settings.kafka_bootstrap.split(",") if part.strip()]
        except KafkaSetupError as exc:
            return str(exc)
        attempts = [asyncio.ensure_future(_metadata(host, port, options)) for host, port in addresses]
        problems = []
        try:
            for attempt in asyncio.as_completed(attempts):
                problem = await attempt
                if problem is None:
                    return None
                problems.append(problem)
        finally:
            for attempt in attempts:
                attempt.cancel()
        return problems[0] if problems else "RADAR_KAFKA_BOOTSTRAP: no broker address"
    return check


async def _metadata(host: str, port: int, options: dict[str, Any]) -> Optional[str]:
    connection = None
    try:
        connection = await create_conn(host, port, client_id="radar-readyz",
                                       request_timeout_ms=int(CHECK_TIMEOUT_S * 1000), **options)
        await connection.send(MetadataRequest([]))  # no topics: just the brokers
        return None
    except Exception as exc:  # every failure is an answer
        return _what_failed(exc, f"{host}:{port}")
    finally:
        if connection is not None:
            connection.close()


_AUTHENTICATION = (kafka_errors.SaslAuthenticationFailed, kafka_errors.AuthenticationFailedError,
                   kafka_errors.IllegalSaslStateError)


def _what_failed(exc: BaseException, address: str) -> str:
    """The kind of failure, from the exception or what caused it (aiokafka wraps a TLS alert
    in a closed connection): TLS, authentication, or no broker (refused, unknown host, no
    answer, closed). Broker messages are not repeated: only the kind."""
    chain, seen = [], exc
    while seen is not None and len(chain) < 5:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS error at {address} (certificate not trusted: {cause.verify_message or cause.reason})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error at {address} ({(cause.reason or type(cause).__name__).replace('_', ' ').lower()})"
        if isinstance(cause, kafka_errors.UnsupportedSaslMechanismError):
            return f"authentication failed at {address} (RADAR_KAFKA_SASL_MECHANISM not enabled there)"
        if isinstance(cause, _AUTHENTICATION):
            return f"authentication failed at {address}"
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return f"no broker at {address} (connection refused)"
        if isinstance(cause, socket.gaierror):
            return f"no broker at {address} (unknown host)"
        if isinstance(cause, (asyncio.TimeoutError, kafka_errors.RequestTimedOutError)):
            return f"no broker at {address} (no answer)"
        if isinstance(cause, OSError):
            return f"no broker at {address} ({cause.strerror or type(cause).__name__})"
    if isinstance(exc, kafka_errors.KafkaConnectionError):
        return f"no broker at {address} (connection closed: is RADAR_KAFKA_SECURITY_PROTOCOL right?)"
    return f"no broker at {address} ({type(exc).__name__})"


class ProbeServer:
    """A small aiohttp server on the caller's loop: /livez, /readyz, /metrics."""

    def __init__(self, host: str, port: int, checks: dict[str, Check]):
        self.host, self.port, self.checks = host, port, checks
        self.runner: Optional[web.AppRunner] = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/livez", self.livez)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()
        log.info("probes_listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def livez(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        ready, answers = await readiness(self.checks)
        return web.json_response({"ready": ready, "checks": answers}, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
