"""`radar apikey create|list|revoke`."""
from __future__ import annotations

import json

from services.config import Settings
from services.domain.access import ROLES


def register(command) -> None:
    apikey = command("apikey", None, "API keys: create (shown once), list, revoke")
    actions = apikey.add_subparsers(metavar="ACTION")
    create = actions.add_parser("create", help="make a key; it is printed once, alone on the last line")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True, help="who or what uses it (stays taken after a revoke)")
    create.set_defaults(handler=cmd_create)
    actions.add_parser("list", help="the keys, without the keys").set_defaults(handler=cmd_list)
    revoke = actions.add_parser("revoke", help="a key stops working at once")
    revoke.add_argument("name")
    revoke.set_defaults(handler=cmd_revoke)


def cmd_create(args, settings: Settings) -> int:
    from services.app.access import create_key

    key = create_key(_sessions(settings), args.name, args.role, actor=_me())
    print(f"API key {args.name!r} ({args.role}); it is shown this once, keep it safe:")
    print(key)
    return 0


def cmd_list(args, settings: Settings) -> int:
    from services.app.access import list_keys

    for key in list_keys(_sessions(settings)):
        print(json.dumps(key, default=str))
    return 0


def cmd_revoke(args, settings: Settings) -> int:
    from services.app.access import revoke_key

    revoke_key(_sessions(settings), args.name, actor=_me())
    print(f"revoked {args.name}")
    return 0


def _me() -> str:
    import getpass
    return f"cli:{getpass.getuser()}"


def _sessions(settings: Settings):
    from services.adapters.store.db import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.database_url))
