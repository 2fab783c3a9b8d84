"""The `radar` command (wiring only: each subcommand calls the services)."""
from services.cli.main import main

__all__ = ["main"]
