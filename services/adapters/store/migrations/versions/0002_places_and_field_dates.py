"""candidate places (roles without must-haves find candidates by place) and the date each
snapshot field was last stated

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""
import re
import unicodedata
from typing import Optional

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5_000


def upgrade() -> None:
    op.create_table('candidate_places',
    sa.Column('candidate_id', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('candidate_id', 'place')
    )
    with op.batch_alter_table('candidate_places', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_places_place_candidate', ['place', 'candidate_id'], unique=False)
    with op.batch_alter_table('profile_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stated_at', sa.JSON(), nullable=True))
    backfill()


def backfill() -> None:
    """Places of the candidates already stored, from the location in their merged view."""
    connection = op.get_bind()
    candidates = sa.table("candidates", sa.column("candidate_id"), sa.column("view", sa.JSON))
    places = sa.table("candidate_places", sa.column("candidate_id"), sa.column("place"))
    rows = []
    for candidate_id, view in connection.execute(sa.select(candidates.c.candidate_id, candidates.c.view)):
        location = ((view or {}).get("profile") or {}).get("location")
        rows.extend({"candidate_id": candidate_id, "place": place} for place in indexed_places(location))
        if len(rows) >= BACKFILL_BATCH:
            connection.execute(places.insert(), rows)
            rows = []
    if rows:
        connection.execute(places.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table('profile_snapshots', schema=None) as batch_op:
        batch_op.drop_column('stated_at')
    with op.batch_alter_table('candidate_places', schema=None) as batch_op:
        batch_op.drop_index('ix_candidate_places_place_candidate')
    op.drop_table('candidate_places')


# -- place folding as it stood when this migration was written -------------------------
# Frozen here (a copy, not an import of services.domain.places): a later change to the
# domain must not change what an old migration does.

_CITY_ALIASES = {
    "münchen": "munich", "munchen": "munich", "lisboa": "lisbon", "köln": "cologne",
    "koln": "cologne", "wien": "vienna", "praha": "prague", "nyc": "new york",
    "new york city": "new york", "sf": "san francisco", "bengaluru": "bangalore",
    "warszawa": "warsaw", "roma": "rome", "milano": "milan", "zürich": "zurich",
    "den haag": "the hague", "frankfurt am main": "frankfurt",
}
# Country names as people write them, folded to one name each (two-letter codes other than
# US and UK are left alone: "DE" is also a state and a language).
_COUNTRY_ALIASES = {
    "deutschland": "germany", "united kingdom": "uk", "great britain": "uk", "england": "uk", "scotland": "uk",
    "united states": "usa", "united states of america": "usa", "us": "usa", "españa": "spain", "espana": "spain",
    "the netherlands": "netherlands", "holland": "netherlands", "nederland": "netherlands", "polska": "poland",
    "italia": "italy", "österreich": "austria", "osterreich": "austria", "schweiz": "switzerland",
    "suisse": "switzerland", "sverige": "sweden", "danmark": "denmark", "norge": "norway", "suomi": "finland",
    "éire": "ireland", "eire": "ireland", "česko": "czechia", "czech republic": "czechia",
}
_CITY_ALIASES.update(_COUNTRY_ALIASES)
# The country of well-known cities, for a location that names only the city ("Lisbon" is in
# Portugal, so a role in "Portugal" finds it).
CITY_COUNTRY = {
    **dict.fromkeys(("lisbon", "porto", "braga", "coimbra"), "portugal"),
    **dict.fromkeys(("berlin", "munich", "hamburg", "frankfurt", "cologne", "stuttgart", "dusseldorf", "leipzig"),
                    "germany"),
    **dict.fromkeys(("london", "manchester", "edinburgh", "bristol", "cambridge", "oxford", "glasgow"), "uk"),
    **dict.fromkeys(("paris", "lyon", "toulouse", "nantes"), "france"),
    **dict.fromkeys(("madrid", "barcelona", "valencia", "seville", "malaga"), "spain"),
    **dict.fromkeys(("amsterdam", "rotterdam", "utrecht", "eindhoven", "the hague"), "netherlands"),
    **dict.fromkeys(("warsaw", "krakow", "wroclaw", "gdansk"), "poland"),
    **dict.fromkeys(("milan", "rome", "turin"), "italy"),
    **dict.fromkeys(("vienna",), "austria"), **dict.fromkeys(("zurich", "geneva", "basel"), "switzerland"),
    **dict.fromkeys(("dublin", "cork"), "ireland"), **dict.fromkeys(("prague", "brno"), "czechia"),
    **dict.fromkeys(("stockholm", "gothenburg"), "sweden"), **dict.fromkeys(("copenhagen",), "denmark"),
    **dict.fromkeys(("oslo",), "norway"), **dict.fromkeys(("helsinki",), "finland"),
    **dict.fromkeys(("brussels", "antwerp"), "belgium"),
    **dict.fromkeys(("new york", "san francisco", "seattle", "boston", "austin", "chicago", "los angeles",
                     "denver"), "usa"),
    **dict.fromkeys(("toronto", "vancouver", "montreal"), "canada"),
    **dict.fromkeys(("bangalore", "mumbai", "hyderabad", "pune", "delhi"), "india"),
}
_NOISE = re.compile(r"\b(greater|area|metropolitan|region|metro)\b")


def fold(text: str) -> str:
    """Case, accents and punctuation folded: "  São Paulo " -> "sao paulo"."""
    lowered = text.strip().lower()
    lowered = _CITY_ALIASES.get(lowered, lowered)
    ascii_text = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode()
    ascii_text = _NOISE.sub(" ", re.sub(r"[^a-z0-9 ]+", " ", ascii_text))
    folded = " ".join(ascii_text.split())
    return _CITY_ALIASES.get(folded, folded)


def place_parts(location: Optional[str]) -> tuple[str, ...]:
    """Every folded part of a location, most specific first: ("lisbon", "portugal")."""
    if not location:
        return ()
    parts = [p for p in (fold(part) for part in re.split(r"[,/|;]| - ", location)) if p]
    if len(parts) == 1 and parts[0] in CITY_COUNTRY:  # only a city named ("Cambridge, MA" is not Cambridge, UK)
        parts.append(CITY_COUNTRY[parts[0]])
    return tuple(parts)


def indexed_places(location: Optional[str]) -> list[str]:
    """The rows of candidate_places for a location: each distinct part, as stored."""
    return [part[:120] for part in dict.fromkeys(place_parts(location))]
