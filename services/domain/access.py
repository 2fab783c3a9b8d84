"""Roles and who is asking. A viewer reads; a recruiter also acts on leads; an admin also
changes roles, subscriptions and keys, and erases candidates."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

ROLES = ("viewer", "recruiter", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a key's name or a token's subject, and their role."""
    name: str
    role: str
    via: str  # "api-key" | "oidc" | "cli" | "session"

    def may(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


def highest_role(claimed: Optional[str | Iterable[str]]) -> Optional[str]:
    """The highest known role among what a token claims (one role, or a list of them)."""
    values = [claimed] if isinstance(claimed, str) else list(claimed or [])
    known = [value for value in values if value in RANK]
    return max(known, key=RANK.__getitem__) if known else None
