"""A library repeating itself through an outage (aiokafka: "Unable connect to …" every second)
writes one line a window, and the next line says how many were dropped."""
import logging

from services.logs import RepeatFilter


def record(message: str, *args, name: str = "aiokafka", level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


def test_a_line_repeated_within_the_window_is_dropped_and_counted():
    now = [0.0]
    repeats = RepeatFilter(window_s=60, clock=lambda: now[0])
    passed = []
    for second in range(0, 125):
        now[0] = float(second)
        line = record('Unable connect to "%s": refused', "kafka:9092")
        if repeats.filter(line):
            passed.append((second, line.getMessage()))
    assert passed == [(0, 'Unable connect to "kafka:9092": refused'),
                      (60, 'Unable connect to "kafka:9092": refused (and 59 more like it in 60 s)'),
                      (120, 'Unable connect to "kafka:9092": refused (and 59 more like it in 60 s)')]


def test_other_lines_levels_and_loggers_pass():
    repeats = RepeatFilter(window_s=60, clock=lambda: 0.0)
    assert repeats.filter(record("a")) and not repeats.filter(record("a"))
    assert repeats.filter(record("b")) and repeats.filter(record("a", level=logging.WARNING))
    assert repeats.filter(record("a", name="faust"))


def test_what_it_remembers_is_bounded():
    repeats = RepeatFilter(window_s=60, clock=lambda: 0.0, keep=10)
    for n in range(25):
        assert repeats.filter(record(f"line {n}"))
    assert len(repeats.seen) <= 10


def test_a_group_coordinator_not_elected_yet_is_a_warning():
    from services.logs import ExpectedAtStart

    line = record("Group Coordinator Request failed: [Error 15] CoordinatorNotAvailableError")
    assert ExpectedAtStart().filter(line) and line.levelname == "WARNING" and line.levelno == logging.WARNING
    other = record("Unable connect to kafka:9092")
    assert ExpectedAtStart().filter(other) and other.levelname == "ERROR"
