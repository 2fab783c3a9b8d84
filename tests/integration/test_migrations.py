"""The Alembic migrations create exactly the tables the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.adapters.store.db import make_engine
from services.adapters.store.models import Base


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_0002_backfills_the_places_of_candidates_already_stored(database_url):
    from alembic import command
    from sqlalchemy import text

    from services.adapters.store.db import alembic_config, upgrade

    command.downgrade(alembic_config(database_url), "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO candidates (candidate_id, view, do_not_contact, readiness, readiness_reasons, updated_at)"
            " VALUES ('c-1', :view, false, 0, '[]', '2026-11-23 10:00:00')"),
            {"view": '{"profile": {"location": "Lisbon, Portugal"}, "facts": {}}'})
    upgrade(database_url)
    with engine.connect() as connection:
        rows = set(connection.execute(text("SELECT candidate_id, place FROM candidate_places")))
    engine.dispose()
    assert rows == {("c-1", "lisbon"), ("c-1", "portugal")}
