"""What every route needs: the settings, the store, a way to publish; and path ids checked
under the wire's rules."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from fastapi import HTTPException, Request
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import Id
from services.app.decoding import describe_validation_error
from services.config import Settings

Publish = Callable[[str, list[tuple[str, Optional[dict[str, Any]]]]], Awaitable[None]]
_ID = TypeAdapter(Id)


@dataclass
class Api:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    produce: Optional[Publish] = None  # injected by tests; aiokafka otherwise
    store_metrics: Any = None          # the store's gauges, read at scrape time (services.api.ops)
    oidc: Any = None                   # an OidcVerifier when RADAR_OIDC_* are set

    async def send(self, topic: str, messages: list[tuple[str, Optional[dict[str, Any]]]]) -> None:
        """Publish to a topic (logical name); a broker that cannot take it is a 503."""
        try:
            if self.produce is not None:
                await self.produce(topic, messages)
                return
            from services.adapters.kafka.client import produce as kafka_produce
            await kafka_produce(self.settings, self.settings.topics.physical(topic), messages)
        except Exception as exc:
            raise HTTPException(503, f"could not publish to {topic}: {type(exc).__name__}; try again") from None


def api(request: Request) -> Api:
    return request.app.state.api


def checked_id(name: str, value: str) -> str:
    """A path id under the same rules as the wire's ids, or one clear 422."""
    try:
        return _ID.validate_python(value)
    except ValidationError as exc:
        raise HTTPException(422, f"{name}: " + describe_validation_error(exc).split(": ", 1)[1]) from None


def unprocessable(error: ValidationError) -> HTTPException:
    return HTTPException(422, describe_validation_error(error).removeprefix("schema validation failed: "))
