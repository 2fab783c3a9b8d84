import json
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.notes import NoteExtraction, extract_note

GOLDEN = json.loads((Path(__file__).parent / "golden_notes.json").read_text(encoding="utf-8"))
DAY = datetime(2026, 3, 10, 14, 30, tzinfo=timezone.utc)


def extract(text: str, on: datetime = DAY) -> NoteExtraction:
    return extract_note(text, on)


def keys(items) -> list[str]:
    return [item.key for item in items]


def kinds(cues) -> list[str]:
    return [cue.kind for cue in cues]


def assert_spans(text: str, got: NoteExtraction) -> None:
    for item in (*got.skills, *got.rejected, *got.readiness):
        assert 0 <= item.start < item.end <= len(text)
        assert text[item.start:item.end] == item.surface


# ------------------------------------------------------------------ skills: negation and hedges

# (note, rejected skill, the cue reported)
NEGATED = [
    ("No Rust experience yet.", "rust", "No"),
    ("Not a Terraform person.", "terraform", "Not"),
    ("Hasn't used Go in production.", "go", "Hasn't"),
    ("Has not worked with Kafka directly.", "kafka", "not"),
    ("Doesn’t know Flink.", "flink", "Doesn’t"),
    ("Cannot write Scala.", "scala", "Cannot"),
    ("Never used Kubernetes.", "kubernetes", "Never"),
    ("Neither Flink nor Spark.", "flink", "Neither"),
    ("Did the whole thing without Terraform.", "terraform", "without"),
    ("Zero Kubernetes.", "kubernetes", "Zero"),
    ("Nothing on Kafka in her background.", "kafka", "Nothing on"),
    ("Lacks Terraform.", "terraform", "Lacks"),
    ("A lack of Go experience.", "go", "lack of"),
    ("Has yet to use Flink.", "flink", "yet to"),
    ("Solid everywhere except Rust.", "rust", "except"),
    ("Unfamiliar with Flink.", "flink", "Unfamiliar"),
    ("Weak in Postgres tuning.", "postgresql", "Weak in"),
    ("Rusty on Python these days.", "python", "Rusty on"),
    ("New to Kubernetes.", "kubernetes", "New to"),
    ("Little exposure to Go.", "go", "Little"),
    ("Limited experience with Postgres.", "postgresql", "Limited"),
    ("Minimal Go.", "go", "Minimal"),
    ("Barely touched Kafka.", "kafka", "Barely"),
    ("Basic understanding of Kubernetes.", "kubernetes", "Basic understanding"),
    ("Only read about Flink.", "flink", "Only read about"),
    ("Has read up on Rust.", "rust", "read up on"),
    ("Has read the Kafka Streams docs.", "kafka streams", "read the"),
    ("Theoretical knowledge of Spark.", "spark", "Theoretical"),
    ("Struggled with the Rust questions.", "rust", "Struggled with"),
    ("Gaps: Terraform.", "terraform", "Gaps:"),
]

HEDGED = [
    ("Wants to learn Rust.", "rust", "Wants to"),
    ("Would like to pick up Flink.", "flink", "Would like to"),
    ("Interested in learning Kubernetes.", "kubernetes", "Interested in"),
    ("Keen to get into Go.", "go", "Keen to"),
    ("Curious about Rust.", "rust", "Curious about"),
    ("Currently learning Rust.", "rust", "learning"),
    ("She'd have no problem picking up Go.", "go", "picking up"),
    ("Would need to ramp up on Kubernetes.", "kubernetes", "ramp up"),
    ("Needs to brush up on Terraform.", "terraform", "brush up"),
    ("Dabbled in Rust.", "rust", "Dabbled"),
    ("Has been experimenting with WebAssembly.", "webassembly", "experimenting with"),
    ("Has only played with Terraform.", "terraform", "played with"),
    ("Exploring Flink for a side project.", "flink", "Exploring"),
    ("Hopes to move into Rust.", "rust", "Hopes to"),
    ("Plans to adopt Kubernetes next year.", "kubernetes", "Plans to"),
]

# A cue after the skill: (note, rejected skill, cue)
NEGATED_AFTER = [
    ("Rust: none.", "rust", "none"),
    ("Python yes, Rust no.", "rust", "no"),
    ("Kubernetes (none).", "kubernetes", "none"),
    ("Terraform - never used.", "terraform", "never used"),
    ("Rust: learning.", "rust", "learning"),
    ("Go is new to her.", "go", "is new"),
    ("Kafka would be new.", "kafka", "would be new"),
    ("Her Terraform is a bit rusty.", "terraform", "is a bit rusty"),
    ("Spark knowledge is purely theoretical.", "spark", "is purely theoretical"),
    ("Kubernetes knowledge is shallow.", "kubernetes", "is shallow"),
    ("Go isn't her strength.", "go", "isn't"),
    ("Terraform, not so much.", "terraform", "not so much"),
    ("Terraform only from a weekend course.", "terraform", "only from a weekend course"),
    ("Rust and Go are both on her to-learn list.", "go", "are both on her to-learn list"),
    ("Rust is something she wants to learn.", "rust", "is something she wants to"),
]


@pytest.mark.parametrize("text, key, cue", NEGATED + HEDGED + NEGATED_AFTER, ids=[c[0] for c in NEGATED + HEDGED + NEGATED_AFTER])
def test_each_negation_and_hedge_cue_rejects_its_skill(text, key, cue):
    got = extract(text)
    assert key not in keys(got.skills)
    [rejected] = [r for r in got.rejected if r.key == key]
    assert rejected.cue == cue


@pytest.mark.parametrize("text, positive", [
    ("Not only Kafka but also Flink.", ["kafka", "flink"]),
    ("Not just a Python dev: she owns the Postgres fleet too.", ["python", "postgresql"]),
    ("No doubt about her Kafka depth.", ["kafka"]),
    ("No issues with Go or Rust in the technical round.", ["go", "rust"]),
    ("No stranger to Flink.", ["flink"]),
    ("Never had problems scaling Kafka.", ["kafka"]),
    ("Never stopped coding in Rust.", ["rust"]),
    ("No longer writes Java day to day.", ["java"]),
    ("Wants to do more Kubernetes work.", ["kubernetes"]),
    ("Machine learning engineer, uses PyTorch daily.", ["machine learning", "pytorch"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_phrases_that_look_negative_but_are_not(text, positive):
    got = extract(text)
    assert keys(got.skills) == positive
    assert got.rejected == ()


def test_negation_scope_covers_a_coordinated_list():
    got = extract("No experience with Rust, Go or Terraform.")
    assert keys(got.rejected) == ["rust", "go", "terraform"]
    assert got.skills == ()
    assert keys(extract("Doesn't know Flink, Kafka or Spark.").rejected) == ["flink", "kafka", "spark"]
    assert keys(extract("Has no Kubernetes, no Terraform, no AWS.").rejected) == ["kubernetes", "terraform", "aws"]


def test_a_bare_comma_ends_the_list_unless_a_conjunction_follows():
    got = extract("Hasn't used Go, Kafka is her thing.")
    assert (keys(got.rejected), keys(got.skills)) == (["go"], ["kafka"])


@pytest.mark.parametrize("text", [
    "No Rust; strong Go.",
    "No Rust. Strong Go.",
    "No Rust, but strong Go.",
    "No Rust but strong Go.",
    "No Rust, however strong Go.",
    "No Rust, though strong Go.",
    "No Rust experience, Go is her main language.",
    "No Rust\nGo for five years.",
])
def test_negation_scope_stops_at_a_clause_boundary(text):
    got = extract(text)
    assert (keys(got.rejected), keys(got.skills)) == (["rust"], ["go"])


def test_a_cue_reaches_at_most_six_words_ahead():
    assert keys(extract("Doesn't have hands-on Kubernetes experience.").rejected) == ["kubernetes"]
    got = extract("Not what you would expect from someone who writes Go.")
    assert keys(got.skills) == ["go"]


def test_it_refers_to_the_last_skill_of_this_or_the_previous_sentence():
    assert keys(extract("Flink? Only read about it.").rejected) == ["flink"]
    assert keys(extract("Skipped the Kubernetes section: hasn't worked with it.").rejected) == ["kubernetes"]


def test_too_and_as_well_inherit_the_polarity_before_them():
    assert keys(extract("Kubernetes is new to him, Terraform too.").rejected) == ["kubernetes", "terraform"]
    assert keys(extract("Strong Kafka, Flink as well.").skills) == ["kafka", "flink"]


def test_positive_mentions_are_evidence_and_double_mentions_are_each_reported():
    got = extract("Strong in Kafka and Flink; led the migration to k8s.")
    assert keys(got.skills) == ["kafka", "flink", "kubernetes"]
    got = extract("Used Go at her last company but hasn't touched Go since 2021.")
    assert (keys(got.skills), keys(got.rejected)) == (["go"], ["go"])


# ------------------------------------------------------------------ interest

INTERESTED = [
    "Open to offers.", "Open to new opportunities.", "Actively looking.", "Interested in a move.",
    "Would consider a move.", "She'd consider it.", "Keen to talk.", "Exploring the market.",
    "Looking for a new role.", "Ready for a change.", "Ready to move.", "Considering a move.",
    "Wants to leave.", "Happy to chat.", "Interviewing elsewhere.", "Would like to hear more.",
    "Wants to learn more about the role.",
]
NOT_LOOKING = [
    "Happy where she is.", "Happy where he's.", "Not looking.", "Not looking at the moment.",
    "Not interested.", "Not really interested in a move.", "Isn't actively looking.", "Not open to offers.",
    "Just got promoted.", "Recently promoted.", "Was promoted in March.", "Committed to her current team.",
    "Wouldn't consider a move.", "Happy in her current role.", "Happy at Stripe.", "Seems settled.",
    "Staying put.", "Wants to stay through the IPO.", "No intention of leaving.", "Isn't on the market.",
]


@pytest.mark.parametrize("text", INTERESTED)
def test_each_interest_cue(text):
    [cue] = extract(text).readiness
    assert (cue.kind, cue.follow_up_on) == ("interested", None)


@pytest.mark.parametrize("text", NOT_LOOKING)
def test_each_not_looking_cue(text):
    [cue] = extract(text).readiness
    assert (cue.kind, cue.follow_up_on) == ("not_looking", None)


@pytest.mark.parametrize("text", [
    "Not interested in learning Go.", "Not open to relocation.", "Zero interest in management; wants to stay an IC.",
    "Happy at the thought of it.", "Wants to learn more about lakehouse tooling.",
])
def test_phrases_that_are_not_about_moving(text):
    assert extract(text).readiness == ()


def test_a_negated_interest_cue_is_not_looking_and_cues_keep_text_order():
    got = extract("Happy where she is, but open to offers.")
    assert kinds(got.readiness) == ["not_looking", "interested"]
    [cue] = extract("She isn't open to offers right now.").readiness
    assert (cue.kind, cue.surface) == ("not_looking", "isn't open to offers")


# ------------------------------------------------------------------ timing

def on(day: str) -> datetime:
    return datetime.fromisoformat(day + "T15:00:00+00:00")


TIMING = [
    # in N units: note date + N (a couple = 2, a few = 3, several = 4, ranges -> lower bound)
    ("Check back in 6 months.", "2026-03-10", "2026-09-10"),
    ("Check back in 6 months.", "2026-08-31", "2027-02-28"),
    ("Reach out in a few weeks.", "2026-06-10", "2026-07-01"),
    ("Check in with him in two weeks.", "2026-04-01", "2026-04-15"),
    ("Reach out again in a couple of months.", "2026-07-31", "2026-09-30"),
    ("Touch base in several weeks.", "2026-01-01", "2026-01-29"),
    ("Revisit in 3-6 months.", "2026-02-28", "2026-05-28"),
    ("Follow up in a month or two.", "2026-01-31", "2026-02-28"),
    ("Reach out again in half a year.", "2025-12-20", "2026-06-20"),
    ("Six months from now would be ideal.", "2026-06-15", "2026-12-15"),
    ("Give it a year.", "2026-04-10", "2027-04-10"),
    ("Considering a move within the next 3 months.", "2026-04-30", "2026-07-30"),
    ("She can start in 4 weeks.", "2026-03-19", "2026-04-16"),
    ("Asked not to be contacted for 6 months.", "2026-03-10", "2026-09-10"),
    # a named month / quarter / half / season: its next occurrence, first day
    ("Ping her in January.", "2026-11-03", "2027-01-01"),
    ("Reach out in Q3.", "2026-02-02", "2026-07-01"),
    ("Check back in Q2.", "2026-10-20", "2027-04-01"),
    ("Reach out in Q1 2027.", "2026-06-01", "2027-01-01"),
    ("Check in Q3'27.", "2026-06-01", "2027-07-01"),
    ("Would consider moving in H2.", "2026-03-15", "2026-07-01"),
    ("Circle back in the spring.", "2025-11-12", "2026-03-01"),
    ("Try again in January 2026.", "2025-09-30", "2026-01-01"),
    ("Reach out on 2026-09-01.", "2026-03-10", "2026-09-01"),
    # not before / until / from: the period's first day
    ("Not before March.", "2026-01-20", "2026-03-01"),
    ("Not until September.", "2026-01-20", "2026-09-01"),
    ("Open to new opportunities from September.", "2026-05-12", "2026-09-01"),
    ("No interest in moving before the summer.", "2026-02-10", "2026-06-01"),
    # after <event> in <period>: the period's first day
    ("After her vesting in Q3 she'd consider a move.", "2026-04-15", "2026-07-01"),
    ("Could move after the bonus in March.", "2026-12-01", "2027-03-01"),
    ("Not until her sabbatical ends in the autumn.", "2026-04-01", "2026-09-01"),
    # after <period>: the day after it ends
    ("Check back after the summer.", "2026-05-05", "2026-09-01"),
    ("Not looking until after Q2.", "2026-03-01", "2026-07-01"),
    ("Reach out after Q1 2027.", "2026-11-30", "2027-04-01"),
    ("Call her after March 15.", "2026-02-01", "2026-03-16"),
    ("Open to new roles after the holidays.", "2026-11-20", "2027-01-01"),
    # early / mid / late / end of
    ("Keen to talk early 2027.", "2026-09-01", "2027-01-01"),
    ("Let's touch base mid-March.", "2026-01-05", "2026-03-15"),
    ("She'll be free late 2026.", "2026-02-01", "2026-10-01"),
    ("Follow up end of Q3.", "2026-06-01", "2026-09-01"),
    ("Reach out at the end of March.", "2026-09-10", "2027-03-31"),
    ("Reach out at the end of the year.", "2026-03-10", "2026-12-01"),
    # next week / month / quarter / year, the new year
    ("Revisit next week.", "2026-03-03", "2026-03-10"),
    ("Talk again next month.", "2026-12-15", "2027-01-01"),
    ("Happy to chat again next quarter.", "2026-05-20", "2026-07-01"),
    ("Said to reach out next year.", "2026-10-10", "2027-01-01"),
    ("Check back early next year.", "2026-07-01", "2027-01-01"),
    ("She'll be ready to move late next year.", "2025-07-14", "2026-10-01"),
    ("Reach out in the new year.", "2026-01-20", "2027-01-01"),
]


@pytest.mark.parametrize("text, occurred, expected", TIMING, ids=[f"{t[0]} @{t[1]}" for t in TIMING])
def test_each_timing_rule_resolves_its_follow_up_date(text, occurred, expected):
    got = extract(text, on(occurred))
    assert [c.kind for c in got.readiness if c.kind == "timing"] == ["timing"]
    assert got.follow_up_on == date.fromisoformat(expected)


@pytest.mark.parametrize("text", [
    "Led the Kafka migration in 6 months.",
    "Was promoted in March.",
    "Moved to Berlin in January.",
    "Joined late March.",
    "Joined Stripe in 2021.",
    "When we spoke in March she was happy.",
    "Her notice period is 3 months.",
])
def test_past_dates_and_durations_are_not_follow_ups(text):
    assert extract(text).follow_up_on is None


def test_vague_timing_is_a_cue_without_a_date():
    [cue] = extract("Would like to pick up Flink at some point.").readiness
    assert (cue.kind, cue.surface, cue.follow_up_on) == ("timing", "at some point", None)


def test_follow_up_on_is_the_earliest_date_and_to_dict_is_json_safe():
    text = ("Strong in Kafka; no Rust. Happy where she is, but asked us to check back in 6 months. "
            "Not before her bonus in March.")
    got = extract(text, on("2026-01-15"))
    assert [c.follow_up_on for c in got.readiness if c.kind == "timing"] == [date(2026, 7, 15), date(2026, 3, 1)]
    assert got.follow_up_on == date(2026, 3, 1)
    as_dict = json.loads(json.dumps(got.to_dict()))
    assert as_dict["follow_up_on"] == "2026-03-01"
    assert as_dict["skills"] == [{"key": "kafka", "surface": "Kafka", "start": 10, "end": 15}]
    assert as_dict["rejected"][0]["cue"] == "no"
    assert [c["follow_up_on"] for c in as_dict["readiness"]] == [None, "2026-07-15", "2026-03-01"]


# ------------------------------------------------------------------ spans, robustness, speed

@pytest.mark.parametrize("text", [e["text"] for e in GOLDEN] + [c[0] for c in NEGATED + HEDGED + TIMING])
def test_every_item_points_at_the_words_it_came_from(text):
    assert_spans(text, extract(text))


VOCABULARY = ["Kafka", "Go", "Rust", "k8s", "Terraform", "no", "not", "never", "hasn't", "wants to learn", "it",
              "or", "and", ",", ";", ".", "?", "\n", " - ", ":", "but", "too", "in", "after", "before", "until",
              "March", "Q3", "Q5", "H3", "6 months", "a few weeks", "next year", "early", "end of", "2026-02-31",
              "9999", "check back", "open to offers", "happy where she is", "not looking", "the", "summer"]
notes = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(VOCABULARY), max_size=40).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(text=notes, occurred=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)))
def test_never_raises_and_spans_always_index_the_text(text, occurred):
    got = extract_note(text, occurred)
    assert_spans(text, got)
    mentions = sorted((i.start, i.end) for i in (*got.skills, *got.rejected))
    assert all(a[1] <= b[0] for a, b in zip(mentions, mentions[1:]))
    dates = [c.follow_up_on for c in got.readiness if c.follow_up_on]
    assert all(d > occurred.date() for d in dates)
    assert got.follow_up_on == (min(dates) if dates else None)
    json.dumps(got.to_dict())
    assert extract_note(text, occurred) == got


def test_a_long_note_is_fast():
    note = " ".join(entry["text"] for entry in GOLDEN)
    two_k = note[:2000]
    extract(two_k)
    started = time.perf_counter()
    for _ in range(20):
        extract(two_k)
    assert (time.perf_counter() - started) / 20 < 0.025  # typically ~2-3 ms; the bound only catches blow-ups
    started = time.perf_counter()
    extract((note * 10)[:50_000])
    assert time.perf_counter() - started < 2.0


# ------------------------------------------------------------------ golden set

def test_golden_set_precision_recall_and_follow_up_dates():
    tp = fp = fn = 0
    wrong_dates = []
    for entry in GOLDEN:
        got = extract_note(entry["text"], datetime.fromisoformat(entry["occurred_at"]))
        expected, predicted = set(entry["skills"]), set(keys(got.skills))
        tp, fp, fn = tp + len(expected & predicted), fp + len(predicted - expected), fn + len(expected - predicted)
        if entry["follow_up_on"] and got.follow_up_on != date.fromisoformat(entry["follow_up_on"]):
            wrong_dates.append((entry["text"], entry["follow_up_on"], got.follow_up_on))
    assert len(GOLDEN) >= 90
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.95, precision
    assert recall >= 0.90, recall
    assert wrong_dates == []
