"""The job-description drafter: its rules one by one, and its scores on the golden set
(tests/golden/job_descriptions, written by hand before the drafter was tuned)."""
import json
from pathlib import Path

import pytest

from services.domain import places
from services.domain.drafter import Draft, draft_role

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "job_descriptions"


def must(text: str) -> list[str]:
    return draft_role(text).spec_fields()["must_have"]


def nice(text: str) -> list[str]:
    return draft_role(text).spec_fields()["nice_to_have"]


@pytest.mark.parametrize("text", [
    "Python is required.", "You must know Python.", "You have solid Python skills.",
    "You bring hands-on experience with Python.", "Requirements\n- Python",
])
def test_requirement_cues_make_must_haves(text):
    assert must(text) == ["python"]


@pytest.mark.parametrize("text", [
    "Kafka is nice to have.", "Bonus: Kafka.", "Ideally you know Kafka.", "Kafka would be a plus.",
    "Experience with Kafka is preferred.", "Nice to have\n- Kafka",
])
def test_nice_cues_make_nice_to_haves(text):
    assert (must(text), nice(text)) == ([], ["kafka"])


def test_headings_carry_over_to_their_bullets():
    text = "Requirements\n- Go\n- PostgreSQL\n\nNice to have\n- Kubernetes\n- Terraform"
    fields = draft_role(text).spec_fields()
    assert fields["must_have"] == ["go", "postgresql"]
    assert fields["nice_to_have"] == ["kubernetes", "terraform"]


def test_a_nice_cue_in_a_requirements_section_wins_for_its_clause():
    text = "Requirements\n- Strong Python, ideally with some Kafka\n- SQL"
    assert (must(text), nice(text)) == (["python", "sql"], ["kafka"])


@pytest.mark.parametrize("text, years", [
    ("5+ years of backend development", 5), ("at least five years of experience", 5),
    ("3-5 years of experience in embedded systems", 3), ("3 years+ of Android", 3),
    ("5 years or more building iOS apps", 5), ("Mindestens 3 Jahre Erfahrung", 3),
    ("Minimum of eight years in IT, including at least four years on Azure", 8),
    ("We were founded 8 years ago.", None), ("Ideally 7+ years in fintech.", None),
])
def test_years(text, years):
    assert draft_role(text).spec_fields()["min_years"] == years


@pytest.mark.parametrize("text, levels", [
    ("Senior Backend Engineer\nRequirements\n- Go", ["senior"]),
    ("Staff Platform Engineer — Remote", ["staff"]), ("Tech Lead, Backend – Berlin", ["lead"]),
    ("Junior QA Engineer", ["junior"]), ("Mid-level Android Engineer", ["mid"]),
    ("Full-Stack Developer (Intermediate) - Toronto", ["mid"]), ("(Senior) Consultant Data", ["mid", "senior"]),
    ("Head of Data\nYou will report to our CTO.", ["head of"]), ("Product Manager – Growth", []),
    ("We'd love to meet a Senior or Staff Research Engineer.", ["senior", "staff"]),
    ("Account Executive, Mid-Market — London", []),
    ("We are hiring for a senior or staff role on our payments team.", ["senior", "staff"]),
    ("Backend Engineer\nThis is a senior, staff or principal position.", ["senior", "staff", "principal"]),
    ("Backend Engineer\nYou will lead engineers across two teams.", []),
])
def test_seniority(text, levels):
    assert draft_role(text).spec_fields()["seniority"] == levels


@pytest.mark.parametrize("text, where, remote", [
    ("Location: Berlin, Germany (hybrid, 2 days a week in the office)", ["Berlin"], False),
    ("Data Engineer – Lisbon / remote (Portugal)", ["Lisbon", "Portugal"], True),
    ("Remote within Germany, with a team week in Leipzig twice a year.", ["Germany"], True),
    ("Fully remote within the UK; occasional trips to London.", ["UK"], True),
    ("Standort: München, hybrid (2 Tage remote pro Woche)", ["Munich"], False),
    ("On-site in Kraków, Poland.", ["Krakow"], False),
    ("About us\nWe are a Berlin fintech.\n\nRequirements\n- Go", [], False),
])
def test_places_and_remote(text, where, remote):
    fields = draft_role(text).spec_fields()
    assert (fields["locations"], fields["remote"]) == (where, remote)


@pytest.mark.parametrize("text", [
    "No Java needed.", "You don't need to know Kubernetes.", "no PHP experience needed",
    "You don't need Rust experience.", "You don't need to be a Java expert.",
])
def test_negated_skills_are_dropped(text):
    assert (must(text), nice(text)) == ([], [])


@pytest.mark.parametrize("text", [
    "Not required: React or any frontend work", "Not required\n- React\n- Vue.js", "No need for Kubernetes knowledge.",
    "You don't need Go, Kafka, Flink, Spark or Terraform.", "We don't expect Python or Go.", "Not needed: GraphQL.",
    "React or Vue.js is not required.", "Requirements\n- GraphQL is not needed",
])
def test_negated_requirements_give_no_skill(text):
    assert (must(text), nice(text)) == ([], [])


@pytest.mark.parametrize("text", ["Not required, but nice: Kafka.", "Kafka is not required, but would be a plus."])
def test_not_required_but_nice_is_nice(text):
    assert (must(text), nice(text)) == ([], ["kafka"])


@pytest.mark.parametrize("text, musts, nices", [
    ("Requirements\n- Experience building backend systems in Python", ["python"], []),
    ("Requirements\n- 6+ years of backend experience\n- a frontend dev at heart", [], []),
    ("Requirements\n- 5+ years of professional backend development", ["backend development"], []),
    ("Requirements\n- Strong background in web development", ["web development"], []),
    ("Requirements\n- Experience building data pipelines with Airflow", ["airflow"], ["data pipelines"]),
    ("Nice to have\n- Frontend (React)", [], ["frontend development", "react"]),
    ("Requirements\n- 3 years as a Data Engineer", ["data engineering"], []),
])
def test_generic_areas_are_must_haves_only_when_named_as_a_skill(text, musts, nices):
    assert (must(text), nice(text)) == (musts, nices)


@pytest.mark.parametrize("text, domains", [
    ("About us\nWe are a Berlin fintech.", ["fintech"]), ("We're a healthtech startup.", ["healthtech"]),
    ("Experience in e-commerce or FinTech is a plus.", ["e-commerce", "fintech"]),
    ("Nice to have: experience in payments or banking", ["payments", "banking"]),
    ("Knowledge of the insurance industry", ["insurance"]), ("Alpenstrom is an energy retailer.", ["energy"]),
    ("We build B2B SaaS for salons.", ["saas"]), ("No fintech experience needed.", []),
    ("You will improve our payments API and our energy usage.", []),
])
def test_domains(text, domains):
    assert draft_role(text).spec_fields()["domains"] == domains


@pytest.mark.parametrize("text, companies", [
    ("Please note: we will not consider candidates currently at Initech.", ["Initech"]),
    ("No candidates from Acme, please.", ["Acme"]),
    ("We will not consider applicants from Acme Health, Initech or Globex.", ["Acme Health", "Initech", "Globex"]),
    ("We don't hire from Initech (non-solicit).", ["Initech"]),
    ("We won't consider candidates without a recognised accounting qualification.", []),
    ("No experience with Kafka needed.", []),
])
def test_excluded_companies(text, companies):
    assert draft_role(text).spec_fields()["exclude_companies"] == companies


def test_the_audit_text():
    text = ("Backend Engineer\n\nWe build backend systems for a fintech. This is a senior or staff role.\n\n"
            "Requirements\n- Building backend systems in Go\n- PostgreSQL\n\n"
            "Not required: React or any frontend work\n\nWe will not consider candidates currently at Initech.")
    fields = draft_role(text).spec_fields()
    assert (fields["must_have"], fields["nice_to_have"]) == (["go", "postgresql"], [])
    assert (fields["seniority"], fields["domains"], fields["exclude_companies"]) == (
        ["senior", "staff"], ["fintech"], ["Initech"])


def test_skills_in_the_company_blurb_are_not_requirements():
    text = ("About us\nOur platform runs on Go, Kafka and PostgreSQL.\n\nWe use Terraform everywhere.\n\n"
            "Requirements\n- Python\n- Solid SQL (we use PostgreSQL)")
    assert (must(text), nice(text)) == (["python", "sql"], ["postgresql"])


def test_alternatives_and_examples_are_not_must_haves():
    text = ("You have:\n- Go or Python\n- a modern data stack (Snowflake, dbt or similar)\n"
            "- MLOps tooling such as MLflow")
    assert must(text) == ["mlops"]
    assert nice(text) == ["go", "python", "snowflake", "dbt", "mlflow"]


def test_a_skill_is_never_both_and_must_wins():
    fields = draft_role("Requirements\n- Kafka\n\nNice to have\n- Kafka, Flink").spec_fields()
    assert (fields["must_have"], fields["nice_to_have"]) == (["kafka"], ["flink"])


def test_every_drafted_value_carries_its_words_and_where_they_are():
    text = json.loads((GOLDEN / "01_backend_fintech.json").read_text(encoding="utf-8"))["text"]
    draft = draft_role(text)
    drafted = [*draft.must_have, *draft.nice_to_have, *draft.seniority, *draft.locations, *draft.domains,
               draft.min_years, draft.remote, draft.title]
    assert all(d is not None for d in drafted)
    for d in drafted:
        assert d.words and text[d.start:d.start + len(d.words)] == d.words
    assert draft.title.value == "Senior Backend Engineer (Payments)"
    assert draft.min_years.words == "5+ years"


def test_spec_fields_of_an_empty_text():
    assert draft_role("") == Draft([], [], [], None, [], None, None)
    assert draft_role("").spec_fields() == {"must_have": [], "nice_to_have": [], "seniority": [], "min_years": None,
                                            "locations": [], "remote": False, "title": None, "domains": [],
                                            "exclude_companies": []}


# --- the golden set ---------------------------------------------------------------------

def golden() -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(GOLDEN.glob("*.json"))]


def precision_recall(field: str) -> tuple[float, float]:
    tp = fp = fn = 0
    for entry in golden():
        expected, got = set(entry["expected"][field]), set(draft_role(entry["text"]).spec_fields()[field])
        tp, fp, fn = tp + len(expected & got), fp + len(got - expected), fn + len(expected - got)
    return tp / (tp + fp), tp / (tp + fn)


def same(field: str, a, b) -> bool:
    if field == "locations":
        return {places.fold(x) for x in a} == {places.fold(x) for x in b}
    if field == "seniority":
        return set(a) == set(b)
    return a == b


def test_the_golden_set_is_big_and_well_formed():
    entries = golden()
    assert len(entries) >= 32
    for entry in entries:
        assert set(entry["expected"]) == {"must_have", "nice_to_have", "seniority", "min_years", "locations", "remote",
                                          "domains", "exclude_companies"}


def test_golden_must_haves():
    precision, recall = precision_recall("must_have")
    assert precision >= 0.9 and recall >= 0.85, (precision, recall)


def test_golden_nice_to_haves():
    precision, recall = precision_recall("nice_to_have")
    assert precision >= 0.75 and recall >= 0.75, (precision, recall)


def test_golden_domains_and_exclusions():
    for field, (least_p, least_r) in {"domains": (0.9, 0.7), "exclude_companies": (0.9, 0.9)}.items():
        precision, recall = precision_recall(field)
        assert precision >= least_p and recall >= least_r, (field, precision, recall)


@pytest.mark.parametrize("field", ["seniority", "min_years", "locations", "remote"])
def test_golden_accuracy(field):
    entries = golden()
    hits = sum(same(field, draft_role(e["text"]).spec_fields()[field], e["expected"][field]) for e in entries)
    assert hits / len(entries) >= 0.85, (field, hits, len(entries))
