from datetime import date

from services.domain.context import Facts
from services.domain.readiness import BASE, WEIGHTS
from services.domain.readiness import estimate as estimate_with_facts

TODAY = date(2026, 11, 23)


def estimate(view, facts, today):
    """Facts as they are stored (JSON beside the view)."""
    return estimate_with_facts(view, Facts.from_json(facts), today)


def view(start="2024-01", open_to_work=None):
    current = {"title": "Engineer", "company": "Northwind", "start": start, "end": None}
    return {"current": current, "positions": [current], "open_to_work": open_to_work}


def test_base_when_nothing_is_known():
    assert estimate({}, {}, TODAY).score == BASE and estimate({}, {}, TODAY).reasons == []


def test_open_to_work_and_tenure_window_raise_it_with_reasons():
    result = estimate(view("2023-06", open_to_work=True), {}, TODAY)
    assert result.score == round(BASE + WEIGHTS["open_to_work"] + WEIGHTS["tenure_window"], 3)
    assert any("open to work" in r for r in result.reasons) and any("3y 5m at Northwind" in r for r in result.reasons)


def test_recent_move_and_short_tenure_lower_it():
    result = estimate(view("2026-09"), {"last_move_on": "2026-09-01", "last_move_type": "role_change"}, TODAY)
    assert result.score < BASE and any("recent role change" in r for r in result.reasons)


def test_stated_interest_counts_while_fresh_only():
    fresh = {"interest": {"kind": "interested", "surface": "open to offers", "on": "2026-11-01"}}
    stale = {"interest": {"kind": "interested", "surface": "open to offers", "on": "2025-01-01"}}
    assert estimate({}, fresh, TODAY).score > BASE
    assert estimate({}, stale, TODAY).score == BASE


def test_due_follow_up_and_bounds():
    facts = {"revisit_due_on": "2026-11-01", "interest": {"kind": "interested", "surface": "x", "on": "2026-11-20"}}
    result = estimate(view("2019-01", open_to_work=True), facts, TODAY)
    assert result.score == 1.0 and any("follow-up due" in r for r in result.reasons)
    assert estimate(view("2026-10"), {"last_move_on": "2026-10-01", "interest": {"kind": "not_looking", "surface": "happy", "on": "2026-11-20"}}, TODAY).score >= 0.0


def test_a_named_later_time_lowers_it_until_then():
    waiting = {"next_follow_up_on": "2027-03-01", "next_follow_up_said": "not before March"}
    result = estimate({}, waiting, TODAY)
    assert result.score == round(BASE + WEIGHTS["waiting"], 3)
    assert result.reasons == ['asked to wait until 2027-03-01 ("not before March")']
    assert estimate({}, waiting, date(2027, 3, 1)).score == BASE


def test_tenure_counts_the_unbroken_run_at_the_current_employer_only():
    from services.domain.profile import tenure_months

    def position(company, start, end=None):
        return {"title": "Engineer", "company": company, "start": start, "end": end}
    back = [position("Contoso", "2021-01", "2026-09"), position("Initech GmbH", "2026-10", "2026-10"),
            position("Contoso S.A.", "2026-11")]
    promoted = [position("Contoso", "2023-01", "2024-12"), position("Contoso Inc.", "2025-01")]
    assert tenure_months({"current": back[-1], "positions": back}, TODAY) == 0
    assert tenure_months({"current": promoted[-1], "positions": promoted}, TODAY) == 46
