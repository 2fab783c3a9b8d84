"""/livez, /readyz and /metrics for the processes without an HTTP API of their own (worker,
scheduler, notifier), served on the process's own event loop: /livez answering proves the
loop runs, and depends on nothing else; /readyz runs the process's checks (database, broker,
partitions assigned ...), each with a short timeout."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Optional

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.adapters.kafka.local_broker import parse_bootstrap
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


def broker_check(bootstrap: str) -> Check:
    """A TCP connection to the first bootstrap broker (the clients authenticate on their own)."""
    async def check() -> Optional[str]:
        host, port = parse_bootstrap(bootstrap.split(",")[0])
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            return f"no broker at {host}:{port} ({exc.strerror or type(exc).__name__})"
        writer.close()
        return None
    return check


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
