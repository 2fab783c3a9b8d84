"""`radar apikey create|list|revoke|signin-link`."""
from __future__ import annotations

import json

from services.cli.database import sessions_for
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
    link = actions.add_parser("signin-link", help="a one-time link to the web pages as a key's holder (an hour)")
    link.add_argument("name", nargs="?", default="radar-up-admin", help="the key's name (default: radar up's admin)")
    link.set_defaults(handler=cmd_signin_link)
    revoke = actions.add_parser("revoke", help="a key stops working at once")
    revoke.add_argument("name")
    revoke.set_defaults(handler=cmd_revoke)


def cmd_signin_link(args, settings: Settings) -> int:
    from services.app.signin import sign_in_link_token

    token = sign_in_link_token(sessions_for(settings), args.name)
    if token is None:
        raise ValueError(f"no key named {args.name!r} is in use (unknown or revoked); see `radar apikey list`")
    print(f"{settings.public_url.rstrip('/')}/login?token={token}")
    return 0


def cmd_create(args, settings: Settings) -> int:
    from services.app.access import create_key

    key = create_key(sessions_for(settings), args.name, args.role, actor=_me())
    print(f"API key {args.name!r} ({args.role}); it is shown this once, keep it safe:")
    print(key)
    return 0


def cmd_list(args, settings: Settings) -> int:
    from services.app.access import list_keys

    for key in list_keys(sessions_for(settings)):
        print(json.dumps(key, default=str))
    return 0


def cmd_revoke(args, settings: Settings) -> int:
    from services.app.access import revoke_key

    revoke_key(sessions_for(settings), args.name, actor=_me())
    print(f"revoked {args.name}")
    return 0


def _me() -> str:
    import getpass
    return f"cli:{getpass.getuser()}"



def register_erase(command) -> None:
    erase = command("erase", cmd_erase, "erase a candidate on request (GDPR art. 17); waits until it is done")
    erase.add_argument("candidate_id")
    erase.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the worker (default 60)")
    erase.add_argument("--force", action="store_true", help="erase an id the store does not know (yet): its "
                                                             "later events are refused")


def cmd_erase(args, settings: Settings) -> int:
    """A tombstone on profile-events keyed by the id, then wait until the worker applied it."""
    import asyncio
    import time

    from pydantic import TypeAdapter, ValidationError

    from schemas.events import Id
    from services.adapters.kafka.client import produce
    from services.adapters.store import erasure
    from services.app.access import record_erasure
    from services.app.read_models import candidate_known
    from services.cli.database import operator

    try:
        candidate_id = TypeAdapter(Id).validate_python(args.candidate_id)
    except ValidationError:
        raise ValueError("candidate_id: 1-200 characters, no control characters") from None
    sessions = sessions_for(settings)
    if not args.force and not candidate_known(sessions, candidate_id):
        raise ValueError(f"no candidate {candidate_id!r} is stored; `radar erase --force {candidate_id}` bars the id "
                         "anyway (events about them still on their way)")
    asyncio.run(produce(settings, settings.topics.profile_events, [(candidate_id, None)]))
    record_erasure(sessions, operator(), candidate_id)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        with sessions.begin() as session:
            if erasure.erased(session, [candidate_id]):
                print(f"erased {candidate_id}; candidate-erasures tells downstream systems")
                return 0
        time.sleep(0.5)
    raise ValueError(f"the erasure of {candidate_id} was sent to profile-events but no worker applied it within "
                     f"{args.timeout:g} s: is a worker running?")
