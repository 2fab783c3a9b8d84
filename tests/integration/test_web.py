"""The web pages through HTTP (SQLite and PostgreSQL): signing in (a one-time link, an API
key), every page behind its role, one-click lead actions published like the API's, changes
from another site refused, personal data escaped, errors as pages."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.adapters.store.models import AuditRow
from services.api import create_app
from services.app.access import create_key, revoke_key
from services.app.pipeline import Pipeline
from services.app.signin import sign_in_link_token
from services.config import Settings
from tests.helpers import note, position, profile_event, raw, role_spec

PAGE = {"Accept": "text/html,application/xhtml+xml"}
NAME = 'Ann <script>alert("x")</script> Lee'


@pytest.fixture
def site(database_url, sessions):
    """The API app over a store with one role, one candidate and her lead; what it publishes."""
    pipeline = Pipeline(sessions)
    pipeline.process([raw("role-specs", role_spec("r-7", owner="lead@example.com"))])
    pipeline.process([raw("profile-events", profile_event(
        "p1", "c-1", "2026-11-20T10:00:00Z", name=NAME, headline="Staff engineer", location="Berlin",
        skills=["Python", "Kafka"], positions=[position("Engineer", "Initrode", start="2020-01")]), key="c-1")])
    pipeline.process([raw("interview-notes", note("n1", "c-1", "Strong in Kafka; check back in 2 months."),
                          key="c-1")])
    published = []

    async def produce(topic, messages):
        published.append((topic, messages))

    app = create_app(Settings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"), produce)
    app.state.published = published
    return app


def signed_in(app, sessions, role: str, name: str = None) -> TestClient:
    key = create_key(sessions, name or f"web-{role}", role)
    client = TestClient(app, headers=PAGE)
    answer = client.post("/login", data={"api_key": key, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    return client


PAGES = ["/", "/roles/r-7", "/candidates/c-1", "/?status=all"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_a_session_goes_to_sign_in_and_back(site, path):
    answer = TestClient(site, headers=PAGE).get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


def test_every_page_renders_for_a_viewer_with_the_data_escaped(site, sessions):
    client = signed_in(site, sessions, "viewer")
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")
        assert "<script>alert" not in answer.text
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    inbox = client.get("/").text
    assert "Ann &lt;script&gt;" in inbox and "Senior Data Engineer" in inbox and "has Kafka" in inbox
    candidate = client.get("/candidates/c-1").text
    assert "Berlin <span class=\"source\">(linkedin, 2026-11-20)</span>" in candidate  # each field's source and date
    assert '<mark class="skills">Kafka</mark>' in candidate and '<mark class="readiness">check back in 2 months' \
        in candidate
    role = client.get("/roles/r-7").text
    assert "<svg" in role and "Funnel of Senior Data Engineer: alerts 1" in role


def test_a_viewer_sees_no_actions_and_cannot_act(site, sessions):
    client = signed_in(site, sessions, "viewer")
    assert 'action="/ui/leads/' not in client.get("/").text
    answer = client.post("/ui/leads/r-7/c-1", data={"status": "reviewed", "next": "/"})
    assert answer.status_code == 403 and "needs the recruiter role" in answer.text
    assert site.state.published == []


def test_a_recruiter_acts_in_one_click_and_it_is_published_and_audited(site, sessions):
    client = signed_in(site, sessions, "recruiter", name="maria")
    assert 'action="/ui/leads/r-7/c-1"' in client.get("/").text
    answer = client.post("/ui/leads/r-7/c-1", data={"status": "contacted", "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/?sent=contacted"
    assert "Marked <strong>contacted</strong>" in client.get(answer.headers["location"]).text
    handed = client.post("/ui/leads/r-7/c-1", data={"status": "handed_off", "assignee": "Jo (recruiter)",
                                                    "note": "warm, call after 5", "next": "/roles/r-7"},
                         follow_redirects=False)
    assert handed.headers["location"] == "/roles/r-7?sent=handed_off"
    [(topic, [(key, first)]), (_, [(_, second)])] = site.state.published
    assert topic == "lead-events" and key == "c-1" and first["status"] == "contacted" and first["actor"] == "maria"
    assert second["assignee"] == "Jo (recruiter)" and second["note"] == "warm, call after 5"
    with sessions() as session:
        audit = session.scalars(select(AuditRow.action).where(AuditRow.actor == "maria")).all()
    assert audit.count("lead.status") == 2 and "web.sign_in" in audit


def test_a_change_that_is_not_valid_is_a_page_saying_why(site, sessions):
    client = signed_in(site, sessions, "recruiter")
    answer = client.post("/ui/leads/r-7/c-1", data={"status": "snoozed", "until": "2020-01-01", "next": "/"})
    assert answer.status_code == 422 and "Pick a snooze date after today." in answer.text
    missing = client.post("/ui/leads/r-7/c-404", data={"status": "reviewed", "next": "/"})
    assert missing.status_code == 422 and "no lead for role" in missing.text
    assert site.state.published == []


def test_a_change_from_another_site_is_refused(site, sessions):
    client = signed_in(site, sessions, "recruiter")
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = client.post("/ui/leads/r-7/c-1", data={"status": "reviewed", "next": "/"}, headers=headers)
        assert answer.status_code == 403 and "another site" in answer.text
    assert site.state.published == []


def test_the_one_time_link_signs_in_once(site, sessions):
    create_key(sessions, "radar-up-admin", "admin")
    token = sign_in_link_token(sessions, "radar-up-admin")
    first = TestClient(site, headers=PAGE).get(f"/login?token={token}&next=/roles/r-7", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/roles/r-7"
    again = TestClient(site, headers=PAGE).get(f"/login?token={token}", follow_redirects=False)
    assert again.status_code == 401 and "was used already" in again.text
    forged = TestClient(site, headers=PAGE).get(f"/login?token={token[:-4]}abcd", follow_redirects=False)
    assert forged.status_code == 401


def test_a_bad_key_and_a_foreign_next_are_refused(site, sessions):
    client = TestClient(site, headers=PAGE)
    answer = client.post("/login", data={"api_key": "rk_not-a-key", "next": "/"})
    assert answer.status_code == 401 and "not valid" in answer.text
    key = create_key(sessions, "someone", "viewer")
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        moved = client.post("/login", data={"api_key": key, "next": target}, follow_redirects=False)
        assert moved.headers["location"] == "/"


def test_revoking_the_key_ends_its_sessions(site, sessions):
    client = signed_in(site, sessions, "recruiter", name="leaver")
    assert client.get("/").status_code == 200
    revoke_key(sessions, "leaver")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.post("/logout", follow_redirects=False).headers["location"] == "/login"


def test_json_clients_still_get_json(site, sessions, database_url):
    key = create_key(sessions, "json-client", "viewer")
    answer = TestClient(site).get("/candidates/c-1", headers={"Authorization": f"Bearer {key}"})
    assert answer.headers["content-type"] == "application/json" and answer.json()["candidate_id"] == "c-1"
    assert TestClient(site).get("/candidates/c-1").status_code == 401  # no page redirect for an API client


def test_not_found_is_a_page(site, sessions):
    client = signed_in(site, sessions, "viewer")
    for path, says in (("/roles/nope", "no role 'nope'"), ("/candidates/nobody", "no candidate 'nobody'")):
        answer = client.get(path)
        assert answer.status_code == 404 and says in re.sub("&#39;", "'", answer.text)


JOB = """Senior Data Engineer, Lisbon

About us: we sell Java tooling to banks.

Requirements:
- 5+ years building data pipelines
- Python and Kafka
Nice to have: Rust, dbt
Hybrid in Lisbon, Portugal."""


def test_the_overview_and_operations_pages(site, sessions):
    viewer = signed_in(site, sessions, "viewer")
    overview = viewer.get("/overview")
    assert overview.status_code == 200
    assert "Alerts per day" in overview.text and "Funnel across roles: alerts 1" in overview.text
    assert viewer.get("/ops").status_code == 403  # operations: admins
    admin = signed_in(site, sessions, "admin")
    ops = admin.get("/ops")
    assert ops.status_code == 200 and "Dead letters by reason" in ops.text
    assert "no broker at 127.0.0.1:1" in ops.text  # the broker check, in words


def test_the_editor_drafts_previews_and_saves(site, sessions):
    assert signed_in(site, sessions, "recruiter").get("/roles/new").status_code == 403
    admin = signed_in(site, sessions, "admin", name="lead-admin")
    assert 'name="must_have"' in admin.get("/roles/new").text
    drafted = admin.post("/roles/new", data={"do": "draft", "description": JOB, "role_id": "r-new"})
    assert drafted.status_code == 200
    must, nice = (re.search(f'name="{name}" value="([^"]*)"', drafted.text).group(1).split(", ")
                  for name in ("must_have", "nice_to_have"))
    assert {"Python", "Kafka"} <= set(must) and {"Rust", "dbt"} <= set(nice)  # as people write them
    assert "<q>5+ years</q>" in drafted.text and 'value="5"' in drafted.text  # each value with its words
    form = {"role_id": "r-new", "title": "Data Engineer", "status": "open", "must_have": "Python, Kafka",
            "nice_to_have": "", "threshold": "0.5", "description": JOB}
    preview = admin.post("/roles/new", data={**form, "do": "preview"})
    assert preview.status_code == 200 and "1 stored candidate would be relevant now" in preview.text
    bad = admin.post("/roles/new", data={**form, "do": "preview", "threshold": "2"})
    assert bad.status_code == 422 and "threshold" in bad.text
    saved = admin.post("/roles/new", data={**form, "do": "save"}, follow_redirects=False)
    [(topic, [(key, spec)])] = site.state.published
    assert saved.status_code == 303 and saved.headers["location"] == f"/roles/r-new?saved={spec['event_id']}"
    assert topic == "role-specs" and key == "r-new" and spec["must_have"] == ["Python", "Kafka"]
    assert spec["threshold"] == 0.5 and spec["description"] == JOB
    pending = admin.get(saved.headers["location"])
    assert pending.status_code == 200 and "Saving r-new" in pending.text  # until the worker applies it
    Pipeline(sessions).process([raw("role-specs", spec, key="r-new")])  # the worker applies it
    assert "Saved." in admin.get(saved.headers["location"]).text
    edited = admin.post("/roles/new", data={**form, "title": "Data Engineer II", "do": "save"}, follow_redirects=False)
    assert "Saving r-new" in admin.get(edited.headers["location"]).text  # the old version is not shown as saved
    edit = admin.get("/roles/new?role=r-7")
    assert 'value="Senior Data Engineer"' in edit.text


def test_skill_suggestions(site, sessions):
    viewer = signed_in(site, sessions, "viewer")
    assert "Kafka" in viewer.get("/ui/skills?q=kaf").json()
    assert viewer.get("/ui/skills?q=").json() == []
    assert TestClient(site).get("/ui/skills?q=kaf").status_code == 401


def test_the_inbox_pages_back_to_older_leads(site, sessions, monkeypatch):
    import services.api.web.pages as pages

    Pipeline(sessions).process([raw("role-specs", role_spec("r-8", title="Platform Engineer"))])  # a second lead
    monkeypatch.setattr(pages, "INBOX_SIZE", 1)
    client = signed_in(site, sessions, "viewer")
    first = client.get("/").text
    older = re.search(r'href="(/\?status=new&amp;cursor=[^"]+)"', first)
    assert older and "Platform Engineer" in first and 'data-stream="/ui/inbox/events"' in first
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert "Senior Data Engineer" in second and "Platform Engineer" not in second
    assert 'data-stream=""' in second  # only the newest page is live
    assert client.get("/?cursor=not-a-cursor").status_code == 422


def test_signing_out_ends_the_session_even_for_a_kept_cookie(site, sessions):
    client = signed_in(site, sessions, "admin", name="careful")
    kept = client.cookies.get("radar_session")
    assert client.get("/ops").status_code == 200
    assert client.post("/logout", follow_redirects=False).status_code == 303
    replay = TestClient(site, headers=PAGE, cookies={"radar_session": kept})
    assert replay.get("/ops", follow_redirects=False).status_code == 303  # back to sign in


def test_a_page_asked_for_without_a_session_comes_back_with_its_query(site):
    answer = TestClient(site, headers=PAGE).get("/candidates/c-1?role=r-7", follow_redirects=False)
    assert answer.headers["location"] == "/login?next=/candidates/c-1%3Frole%3Dr-7"


def test_a_lead_shows_why_it_is_where_it_is_and_only_the_moves_it_can_make(site, sessions):
    pipeline = Pipeline(sessions)
    pipeline.process([raw("lead-events", {"event_id": "l1", "role_id": "r-7", "candidate_id": "c-1",
                                          "status": "not_a_fit", "reason": "wrong_level", "note": "junior for now",
                                          "actor": "maria", "occurred_at": "2026-11-22T10:00:00Z"}, key="c-1")])
    client = signed_in(site, sessions, "recruiter")
    card = client.get("/?status=not_a_fit").text
    assert "Not a fit: wrong level." in card and "junior for now" in card
    assert "aria-label=\"Contacted" not in card and "aria-label=\"Reviewed" in card  # no move it cannot make
    candidate = client.get("/candidates/c-1?role=r-7").text
    assert 'class="focus"' in candidate and "for <a href=\"/roles/r-7\">Senior Data Engineer</a>" in candidate


def test_a_role_id_with_spaces_is_refused_with_a_suggestion(site, sessions):
    admin = signed_in(site, sessions, "admin")
    answer = admin.post("/roles/new", data={"do": "save", "role_id": "r platform streaming", "title": "X"})
    assert answer.status_code == 422 and "no spaces or other blanks, e.g. &#39;r-platform-streaming&#39;" in answer.text
    assert site.state.published == []
    years = admin.post("/roles/new", data={"do": "preview", "role_id": "r-x", "title": "X", "min_years": "abc"})
    assert years.status_code == 422 and "schema validation failed" not in years.text and "min_years" in years.text


def test_a_refused_page_still_shows_who_is_signed_in(site, sessions):
    viewer = signed_in(site, sessions, "viewer", name="vera")
    refused = viewer.get("/ops")
    assert refused.status_code == 403 and "vera · viewer" in refused.text and "Sign out" in refused.text


def test_the_live_inbox_sends_every_new_lead_however_many_come_at_once(site, sessions, monkeypatch):
    import asyncio
    import json as json_module

    import services.api.web.pages as pages
    from services.domain.access import Principal

    shown = pages._position(pages.triage.inbox(sessions, "new", limit=1)["leads"][0])
    Pipeline(sessions).process([raw("profile-events", profile_event(
        f"p-many-{n}", f"c-many-{n:02d}", "2026-11-20T10:00:00Z", name=f"Person {n}", skills=["Python", "Kafka"],
        positions=[position("Engineer", "Initrode", start="2020-01")]), key=f"c-many-{n:02d}") for n in range(60)])

    class Browser:  # stays until it has been sent three rounds
        rounds = 0

        async def is_disconnected(self):
            self.rounds += 1
            return self.rounds > 3

    async def collect():
        sent = []
        async for chunk in pages._new_leads(Browser(), site.state.api, shown, Principal("v", "viewer", "session")):
            if chunk.startswith("event: lead"):
                sent.append(json_module.loads(chunk.split("data: ", 1)[1]))
        return sent

    monkeypatch.setattr(pages, "PUSH_EVERY_S", 0.01)
    sent = asyncio.run(collect())
    names = [re.search(r"Person \d+", item["html"]).group(0) for item in sent]
    assert sorted(names) == sorted(f"Person {n}" for n in range(60))  # all of them, once each
    assert {item["group"] for item in sent} == {"role-r-7"}


def test_the_cookie_is_secure_behind_a_proxy_that_ends_tls(sessions, database_url):
    app = create_app(Settings(database_url=database_url, kafka_bootstrap="127.0.0.1:1",
                              public_url="https://radar.example.com"))
    key = create_key(sessions, "behind-proxy", "viewer")
    answer = TestClient(app, headers=PAGE).post("/login", data={"api_key": key}, follow_redirects=False)
    assert "Secure" in answer.headers["set-cookie"]
