"""Locations compared by place, not by string: "Lisbon, Portugal" is in "Lisbon"."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

_CITY_ALIASES = {
    "münchen": "munich", "munchen": "munich", "lisboa": "lisbon", "köln": "cologne",
    "koln": "cologne", "wien": "vienna", "praha": "prague", "nyc": "new york",
    "new york city": "new york", "sf": "san francisco", "bengaluru": "bangalore",
    "warszawa": "warsaw", "roma": "rome", "milano": "milan", "zürich": "zurich",
    "den haag": "the hague", "frankfurt am main": "frankfurt",
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


@lru_cache(maxsize=65536)
def place_parts(location: Optional[str]) -> tuple[str, ...]:
    """Every folded part of a location, most specific first: ("lisbon", "portugal")."""
    if not location:
        return ()
    parts = [fold(part) for part in re.split(r"[,/|;]| - ", location)]
    return tuple(p for p in parts if p)


def indexed_places(location: Optional[str]) -> list[str]:
    """The rows of candidate_places for a location: each distinct part, as stored."""
    return [part[:120] for part in dict.fromkeys(place_parts(location))]


def city_of(location: Optional[str]) -> Optional[str]:
    parts = place_parts(location)
    return parts[0] if parts else None


def location_matches(candidate_location: Optional[str], wanted: list[str] | tuple[str, ...]) -> bool:
    """True when any wanted place ("Lisbon", "Portugal") is a part of the candidate's location."""
    parts = set(place_parts(candidate_location))
    return any(city_of(place) in parts for place in wanted)
