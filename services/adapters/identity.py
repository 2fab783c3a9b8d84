"""OIDC tokens: a JWT signed by the identity provider, checked against its published keys
(JWKS, cached), its issuer and audience; the role comes from a claim."""
from __future__ import annotations

from typing import Optional

import jwt

from services.domain.access import Principal, highest_role

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcVerifier:
    def __init__(self, issuer: str, audience: str, jwks_url: str, role_claim: str = "radar_role",
                 name_claims: tuple[str, ...] = ("email", "preferred_username", "sub")):
        self.issuer, self.audience, self.role_claim, self.name_claims = issuer, audience, role_claim, name_claims
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)

    def principal(self, token: str) -> Optional[Principal]:
        """Who the token says, or None when it is not a valid token of this provider for this
        audience, or names no known role."""
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                options={"require": ["exp", "iss", "aud"]})
        except (jwt.PyJWTError, ValueError):
            return None
        role = highest_role(claims.get(self.role_claim))
        name = next((str(claims[c]) for c in self.name_claims if claims.get(c)), None)
        return Principal(name[:200], role, "oidc") if role and name else None
