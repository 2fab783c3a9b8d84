"""Who may do what, route by route: a table of every route's rule, held against the app (a
new route without a rule fails here), API keys, OIDC tokens from a local JWKS, the metrics
token, and the audit log (SQLite and PostgreSQL)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from services.adapters.kafka.local_broker import free_port
from services.api import create_app
from services.api.auth import PUBLIC
from services.app.access import AccessError, create_key, revoke_key
from services.config import Settings
from services.domain.access import RANK, ROLES
from tests.helpers import bearer

# (method, path) -> the least role it needs. Every route of the API must be here or public.
RULES = {
    ("GET", "/alerts"): "viewer",
    ("GET", "/candidates"): "viewer",
    ("GET", "/candidates/{candidate_id}"): "viewer",
    ("POST", "/candidates/{candidate_id}/do-not-contact"): "recruiter",
    ("DELETE", "/candidates/{candidate_id}"): "admin",
    ("GET", "/roles"): "viewer",
    ("GET", "/roles/{role_id}/shortlist"): "viewer",
    ("GET", "/roles/{role_id}/leads"): "viewer",
    ("PUT", "/roles/{role_id}"): "admin",
    ("POST", "/roles/{role_id}/{action}"): "admin",
    ("DELETE", "/roles/{role_id}"): "admin",
    ("POST", "/roles/{role_id}/candidates/{candidate_id}/status"): "recruiter",
    ("GET", "/roles/{role_id}/candidates/{candidate_id}/lead"): "viewer",
    ("GET", "/inbox"): "viewer",
    ("GET", "/funnel"): "viewer",
    ("GET", "/held-back"): "viewer",
    ("POST", "/subscriptions"): "admin",
    ("GET", "/subscriptions"): "viewer",
    ("DELETE", "/subscriptions/{subscription_id}"): "admin",
    ("GET", "/deliveries"): "viewer",
    ("POST", "/deliveries/{delivery_id}/retry"): "admin",
    ("POST", "/deliveries/retry-failed"): "admin",
    ("GET", "/audit"): "admin",
}
BODIES = {"PUT": {"status": "open", "title": "X"}, "POST": {"channel": "slack", "url": "https://hooks.example/x",
                                                            "status": "reviewed"}}


@pytest.fixture
def app(database_url):
    sent = []

    async def produce(topic, messages):
        sent.extend(messages)

    return create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1"), produce)


def routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the API serves, as its OpenAPI document lists them."""
    return {(method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations}


def test_every_route_has_a_rule(app):
    public = {(m, p) for m, p in routes(app) if p in PUBLIC}
    assert routes(app) - public == set(RULES), "a route without a rule in RULES (or a rule without a route)"
    assert {p for _, p in public} <= {"/health", "/livez", "/readyz", "/metrics"}


def test_every_route_refuses_no_credentials_and_a_weaker_role_and_lets_its_own_in(app, database_url):
    client = TestClient(app)
    keys = {role: bearer(database_url, role) for role in ROLES}
    for (method, path), role in RULES.items():
        url = path.format(role_id="r-7", candidate_id="c-1", subscription_id="sub-x", delivery_id=1, action="pause")
        body = BODIES.get(method)
        assert client.request(method, url, json=body).status_code == 401, (method, path)
        assert client.request(method, url, json=body, headers={"Authorization": "Bearer rk_nope"}).status_code == 401
        if RANK[role] > 0:
            weaker = ROLES[RANK[role] - 1]
            refused = client.request(method, url, json=body, headers=keys[weaker])
            assert refused.status_code == 403 and role in refused.json()["detail"], (method, path, weaker)
        allowed = client.request(method, url, json=body, headers=keys[role])
        assert allowed.status_code not in (401, 403), (method, path, allowed.status_code, allowed.text)


def test_keys_are_shown_once_kept_hashed_and_revoked_at_once(app, database_url, sessions):
    from sqlalchemy import select

    from services.adapters.store.models import ApiKeyRow

    client = TestClient(app)
    key = create_key(sessions, "ops-dashboard", "viewer")
    with sessions() as session:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == "ops-dashboard"))
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    assert client.get("/inbox", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    revoke_key(sessions, "ops-dashboard")
    assert client.get("/inbox", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    with pytest.raises(AccessError):
        create_key(sessions, "ops-dashboard", "admin")  # a name stays taken


def test_changes_are_audited_with_their_actor(app, database_url):
    client = TestClient(app, headers=bearer(database_url, "admin", name="lead-admin"))
    assert client.put("/roles/r-9", json={"status": "open", "title": "Platform"}).status_code == 202
    assert client.post("/candidates/c-1/do-not-contact").status_code == 202
    entries = client.get("/audit").json()
    assert [(e["actor"], e["action"], e["target"]) for e in entries[:2]] == [
        ("lead-admin", "candidate.do_not_contact", "c-1"), ("lead-admin", "role.put", "r-9")]


def test_the_metrics_token(database_url):
    settings = Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1", metrics_token="m-secret")
    client = TestClient(create_app(settings))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer m-secret"}).status_code == 200
    assert client.get("/health").status_code in (200, 503)  # never behind credentials


class Jwks:
    """An identity provider's key set, served on loopback."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"

    def token(self, **claims):
        base = {"iss": "https://id.example", "aud": "talent-radar", "exp": int(time.time()) + 300,
                "email": "maria@example.com", "radar_role": "recruiter"}
        return jwt.encode({**base, **claims}, self.key, algorithm="RS256", headers={"kid": "k1"})


def test_oidc_tokens_from_a_local_jwks(database_url):
    jwks = Jwks()
    try:
        settings = Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1",
                                     oidc_issuer="https://id.example", oidc_audience="talent-radar",
                                     oidc_jwks_url=jwks.url)

        async def produce(topic, messages):
            pass

        client = TestClient(create_app(settings, produce))

        def status(token, method="GET", path="/inbox"):
            return client.request(method, path, headers={"Authorization": f"Bearer {token}"},
                                  json={"status": "open", "title": "X"} if method == "PUT" else None).status_code

        assert status(jwks.token()) == 200
        assert status(jwks.token(), "PUT", "/roles/r-1") == 403  # a recruiter changes no roles
        assert status(jwks.token(radar_role=["viewer", "admin"]), "PUT", "/roles/r-1") == 202
        assert status(jwks.token(aud="someone-else")) == 401
        assert status(jwks.token(iss="https://evil.example")) == 401
        assert status(jwks.token(exp=int(time.time()) - 10)) == 401
        assert status(jwks.token(radar_role="superuser")) == 401  # no known role
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode({"iss": "https://id.example", "aud": "talent-radar", "exp": int(time.time()) + 60,
                             "email": "x@example.com", "radar_role": "admin"}, other, "RS256", headers={"kid": "k1"})
        assert status(forged) == 401
    finally:
        jwks.server.shutdown()
