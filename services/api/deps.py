"""What every route needs: the settings, the store, a way to publish; and path ids checked
under the wire's rules."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Awaitable, Callable, Optional

from fastapi import HTTPException, Request
from pydantic import AfterValidator, BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from schemas.bounds import storable_problem
from schemas.events import Id
from services.app.decoding import describe_validation_error
from services.config import Settings

ERRORS = {401: "No credentials, or ones that are wrong, revoked or expired",
          403: "A role too weak for this route",
          404: "No such thing (the sentence says which)",
          409: "Not allowed from the current state",
          413: "Request body over 1 MB",
          422: "A parameter or the body is not valid (the sentence names the field and the bound)",
          503: "The broker could not take the change; try again"}


class ErrorBody(BaseModel):
    """Every error the API answers: one sentence a person reads."""
    detail: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the errors it answers of its own; 401 and 403 (credentials),
    413 (a body) and 422 are added to the document in services.api.app.completed."""
    return {code: {"model": ErrorBody, "description": ERRORS[code]} for code in codes}


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


def _storable(value: str) -> str:
    if problem := storable_problem(value):
        raise PydanticCustomError("storable", problem.split(": ", 1)[1])
    return value


# Text a parameter takes to the store: one that cannot be stored (a NUL character, which
# PostgreSQL refuses) is a 422, not a 500.
Text = Annotated[str, AfterValidator(_storable)]


def storable_body(body: Any) -> Any:
    """A JSON body whose every string can be stored, or one clear 422."""
    if problem := storable_problem(body):
        raise HTTPException(422, problem)
    return body


def unprocessable(error: ValidationError) -> HTTPException:
    return HTTPException(422, describe_validation_error(error).removeprefix("schema validation failed: "))
