"""Write the JSON Schema files for downstream subscribers: `python -m schemas.generate`."""
import json
from pathlib import Path

from schemas.events import WIRE_MODELS

SCHEMA_DIR = Path(__file__).parent / "json"


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


if __name__ == "__main__":
    main()
