"""Schemathesis against the API's own OpenAPI document, with an admin key, at a small size
(SQLite, and PostgreSQL when configured): no request gets a 5xx, and every response (status
code, content type, body, headers) is one the document says the operation can give. Valid
and invalid requests, derandomized; ids in paths name seeded rows (a role, a candidate, its
lead, a subscription, a failed delivery) about half the time, and bodies the document leaves
open are ones the route takes about half the time.

Each operation is its own pytest test, run with `@given` over schemathesis's strategies
rather than its pytest plugin (whose tests all get one node id under pytest 9.2)."""
from datetime import datetime, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from services.adapters.store.db import make_engine, make_session_factory
from services.adapters.store.models import DeliveryRow
from services.api import create_app
from services.api.app import PROBES
from services.app.pipeline import Pipeline
from services.app.subscriptions import SubscriptionIn, subscribe
from services.config import Settings
from tests.databases import migrated_database
from tests.helpers import bearer, position, profile_event, raw, role_spec

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
EXAMPLES = 25  # per operation, valid and invalid requests together
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
CONFIG = schemathesis.Config.from_dict({
    # the probes answer 503 (documented) while the broker is away, as it is here
    "operations": [{"include-path-regex": "^/(health|readyz)$",
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}}}],
})
# The document as served, by an app over no database (it depends on none); requests go to an
# app over a seeded one (the `api` fixture).
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings.from_env(
    database_url="sqlite://", kafka_bootstrap="127.0.0.1:1")), config=CONFIG)
OPERATIONS = {f"{method.upper()} {path}": (path, method) for path, methods in SCHEMA.raw_schema["paths"].items()
              for method in methods}
KNOWN: dict[str, object] = {}  # the seeded rows' ids, set by the `api` fixture


@SCHEMA.hook
def flatmap_path_parameters(context, path_parameters):
    """As generated, or with every id that names a seeded row replaced by it."""
    existing = {name: KNOWN[name] for name in path_parameters or {} if name in KNOWN}
    if not existing:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **existing}])


# Bodies the document leaves open (a JSON object) that the route takes: sent about half the time,
# so the routes' own paths past validation (202, 404, 409) are taken too.
TAKEN = {("PUT", "/roles/{role_id}"): {"status": "open", "title": "Platform Engineer", "must_have": ["Go"]},
         ("POST", "/roles/{role_id}/candidates/{candidate_id}/status"): {"status": "reviewed"},
         ("POST", "/subscriptions"): {"channel": "slack", "url": "https://hooks.example/y"}}


@SCHEMA.hook
def flatmap_body(context, body):
    taken = TAKEN.get((context.operation.method.upper(), context.operation.path))
    return st.just(body) if taken is None else st.sampled_from([body, taken])


def seed(sessions) -> dict[str, object]:
    """A role with a lead for a candidate, a subscription and a failed delivery; their ids."""
    pipeline = Pipeline(sessions, clock=lambda: NOW)
    pipeline.process([raw("role-specs", role_spec("r-7", owner="lead@example.com"))])
    pipeline.process([raw("profile-events", profile_event(
        "p1", "c-1", skills=["Python", "Kafka"], open_to_work=True, positions=[position("Data Engineer", "Northwind")]))])
    subscription = subscribe(sessions, SubscriptionIn.model_validate({"channel": "slack",
                                                                     "url": "https://hooks.example/x"}))["id"]
    with sessions() as session:
        delivery = DeliveryRow(subscription_id=subscription, key="alert-1", channel="slack", kind="instant",
                               payload={}, status="failed", attempts=3, next_attempt_at=NOW, created_at=NOW,
                               candidate_id="c-1", last_error="HTTP 500")
        session.add(delivery)
        session.commit()
        delivery_id = delivery.id
    return {"role_id": "r-7", "candidate_id": "c-1", "subscription_id": subscription, "delivery_id": delivery_id}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """A migrated database of each kind for the module (tests/conftest.py makes one per test)."""
    with migrated_database(request.param, tmp_path_factory.mktemp("schemathesis")) as url:
        yield url


@pytest.fixture(scope="module")
def api(database):
    """The app over the seeded database (what it would publish is dropped) and an admin's key."""
    engine = make_engine(database)
    KNOWN.update(seed(make_session_factory(engine)))
    engine.dispose()

    async def produce(topic, messages):
        pass

    app = create_app(Settings.from_env(database_url=database, kafka_bootstrap="127.0.0.1:1"), produce)
    yield app, bearer(database, "admin")
    KNOWN.clear()
    app.state.api.engine.dispose()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_api_keeps_to_its_openapi_document(label, api):
    app, admin = api
    path, method = OPERATIONS[label]
    operation = SCHEMA[path][method]
    cases = st.one_of(*(operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def keeps_to_it(case):
        case.call_and_validate(headers=admin, checks=CHECKS, app=app)

    keeps_to_it()


# What the run found, and what probing its kinds of failure by hand found beside it (a 500 each, or
# FastAPI's undocumented 400), kept as plain requests on both databases.
FOUND = [
    ("POST", f"/deliveries/{2**63}/retry", {}, 422, "delivery_id: Input should be less than or equal to"),
    ("GET", "/funnel?until=9999-12-31", {}, 200, None),
    ("PUT", "/roles/r-1", {"content": b'{"title": "\xff"}', "headers": {"content-type": "application/json"}}, 422,
     "body: is not valid JSON (not UTF-8)"),
    ("PUT", "/roles/r-1", {"content": b"[" * 100_000 + b"]" * 100_000, "headers": {"content-type": "application/json"}},
     422, "body: is not valid JSON (nested too deeply)"),
    ("GET", "/inbox?owner=a%00b", {}, 422, "query parameter owner: contains a NUL character"),
    ("GET", "/inbox?role=%00", {}, 422, "query parameter role: contains a NUL character"),
    ("GET", "/candidates?role=%00", {}, 422, "query parameter role: contains a NUL character"),
    ("GET", "/roles?owner=%00", {}, 422, "query parameter owner: contains a NUL character"),
    ("GET", "/funnel?owner=%00", {}, 422, "query parameter owner: contains a NUL character"),
    ("GET", "/held-back?role=%00", {}, 422, "query parameter role: contains a NUL character"),
    ("DELETE", "/subscriptions/a%00b", {}, 422, "path parameter subscription_id: contains a NUL character"),
    ("POST", "/subscriptions", {"json": {"channel": "slack", "url": "https://hooks.example/\x00"}}, 422,
     "url: contains a NUL character"),
    ("POST", "/subscriptions", {"json": {"channel": "email", "address": "a\x00@example.com"}}, 422,
     "address: contains a NUL character"),
]


def test_what_it_found_stays_fixed(database_url):
    from fastapi.testclient import TestClient

    async def produce(topic, messages):
        pass

    client = TestClient(create_app(Settings.from_env(database_url=database_url, kafka_bootstrap="127.0.0.1:1"),
                                   produce), headers=bearer(database_url), raise_server_exceptions=False)
    for method, url, request, status, says in FOUND:
        response = client.request(method, url, **request)
        assert response.status_code == status, (method, url, response.status_code, response.text)
        assert says is None or says in response.json()["detail"], (method, url, response.text)


def test_the_document_describes_errors_as_they_are():
    document = SCHEMA.raw_schema
    assert "HTTPValidationError" not in str(document) and "ErrorBody" in document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")) and path not in PROBES:
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    assert set(document["paths"]["/health"]["get"]["responses"]) == {"200", "503"}
    assert list(document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert {"401", "403"} <= set(document["paths"]["/alerts"]["get"]["responses"])
    assert "413" in document["paths"]["/roles/{role_id}"]["put"]["responses"]
