"""`radar api`: the HTTP API (wiring only; what it reads and changes lives in services.app)."""
from services.api.app import create_app

__all__ = ["create_app"]
