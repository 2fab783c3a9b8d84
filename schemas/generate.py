"""Write the JSON Schema files and the AsyncAPI document for downstream subscribers: `python -m schemas.generate`."""
import json
import re
from pathlib import Path

from pydantic import BaseModel

from schemas import asyncapi
from schemas.topics import TOPIC_TABLE

SCHEMA_DIR = Path(__file__).parent / "json"


def schema_name(model: type[BaseModel]) -> str:
    """ProfileEvent -> profile-event."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", model.__name__).lower()


# Every model any topic carries, by the name of its schema file.
WIRE_MODELS: dict[str, type[BaseModel]] = {schema_name(m): m for spec in TOPIC_TABLE for m in spec.models}


def render_all() -> dict[str, str]:
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in WIRE_MODELS.items()
    }


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for filename, text in render_all().items():
        (SCHEMA_DIR / filename).write_text(text)
        print(f"wrote schemas/json/{filename}")
    asyncapi.ASYNCAPI_PATH.write_text(asyncapi.render())
    print(f"wrote schemas/{asyncapi.ASYNCAPI_PATH.name}")


if __name__ == "__main__":
    main()
