import pytest

from services.domain import ladder, places


@pytest.mark.parametrize("title,level", [
    ("Software Engineering Intern", "intern"), ("Junior Developer", "junior"), ("Data Engineer", "mid"),
    ("Senior Data Engineer", "senior"), ("Sr. Backend Engineer", "senior"), ("Staff Engineer", "staff"),
    ("Principal Engineer", "principal"), ("Distinguished Engineer", "distinguished"),
    ("Tech Lead", "lead"), ("Engineering Manager", "manager"), ("Senior Engineering Manager", "senior manager"),
    ("Director of Engineering", "director"), ("VP Engineering", "vp"), ("Head of Data", "head of"),
    ("Chief Technology Officer", "c-level"), ("CTO", "c-level"), ("Software Engineer II", "mid"),
])
def test_seniority_from_title(title, level):
    assert ladder.seniority_of_title(title) == level


def test_ladder_order_and_spec_words():
    assert ladder.rank("staff") > ladder.rank("senior") > ladder.rank("mid") > ladder.rank("junior")
    assert ladder.rank("vp") > ladder.rank("director") > ladder.rank("manager")
    assert ladder.normalize_level("Senior") == "senior" and ladder.normalize_level("VP") == "vp"
    assert ladder.seniority_of_title(None) is None


@pytest.mark.parametrize("location,wanted,ok", [
    ("Lisbon, Portugal", ["Lisbon"], True), ("Berlin, Germany", ["Lisbon", "Berlin"], True),
    ("München, Bayern, Germany", ["Munich"], True), ("Greater Berlin Area", ["Berlin"], True),
    ("Porto, Portugal", ["Lisbon"], False), ("Lisbon, Portugal", ["Portugal"], True), (None, ["Berlin"], False),
    ("Lisbon", ["Portugal"], True), ("Berlin, Deutschland", ["Germany"], True), ("London, England", ["UK"], True),
    ("Austin, TX, United States", ["USA"], True), ("Lisbon", ["Spain"], False), ("Cambridge, MA", ["UK"], False),
])
def test_location_matches_by_place(location, wanted, ok):
    assert places.location_matches(location, wanted) is ok


def test_city_reformatting_is_the_same_city():
    assert places.city_of("Berlin, Germany") == places.city_of("berlin") == places.city_of(" BERLIN , DE ")
