"""structlog set-up: one JSON line per event, ids only, never profile or note text."""
from __future__ import annotations

import logging
import logging.config
import sys
import threading
import time
from typing import Callable

import structlog

# Keys that may carry personal data: dropped from every log line, whatever a caller passes.
_FORBIDDEN_KEYS = {"text", "profile", "name", "headline", "note", "value", "payload"}


def _drop_personal_data(_logger, _method, event_dict):
    for key in _FORBIDDEN_KEYS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


class _StderrLogger:
    """Writes each rendered line to whatever sys.stderr is at that moment."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = error = critical = exception = fatal = log = msg


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """Lines from libraries that log through the standard library (Faust, aiokafka, uvicorn)
    rendered as JSON too, so one process writes one format."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _drop_personal_data,
                        structlog.processors.JSONRenderer()],
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                               structlog.processors.TimeStamper(fmt="iso", utc=True),
                               structlog.processors.format_exc_info])


class RepeatFilter(logging.Filter):
    """A library line said again within `window_s` is dropped and counted: a Kafka client
    retrying every second through an hour's outage writes one line a minute, not 3,600. The
    next line that passes says how many like it were dropped."""

    def __init__(self, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic, keep: int = 1000):
        super().__init__()
        self.window_s, self.clock, self.keep = window_s, clock, keep
        self.seen: dict[tuple[str, int, str], list] = {}  # key -> [last passed at, dropped since]
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage())
        now = self.clock()
        with self.lock:
            entry = self.seen.get(key)
            if entry is not None and now - entry[0] < self.window_s:
                entry[1] += 1
                return False
            dropped = entry[1] if entry else 0
            if len(self.seen) >= self.keep:
                self.seen.clear()
            self.seen[key] = [now, 0]
        if dropped:
            record.msg, record.args = f"{key[2]} (and {dropped} more like it in {self.window_s:.0f} s)", None
        return True


class ExpectedAtStart(logging.Filter):
    """The Kafka client says "error" when a consumer group's coordinator is not elected yet,
    which is every first start of a group: a warning (still said, and repeated if it lasts)."""

    PASSING = ("CoordinatorNotAvailable",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.name.startswith("aiokafka") and any(
                word in record.getMessage() for word in self.PASSING):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def stdlib_logging_config(level: str = "INFO") -> dict:
    """A logging.config dictionary: the root logger writes JSON lines to stderr."""
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"repeats": {"()": RepeatFilter}, "expected": {"()": ExpectedAtStart}},
        "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                 "formatter": "json", "level": level, "filters": ["expected", "repeats"]}},
        "root": {"level": level, "handlers": ["default"]},
    }


def configure_logging(level: str = "INFO") -> None:
    logging.config.dictConfig(stdlib_logging_config(level if level in logging._nameToLevel else "INFO"))
    for noisy in ("alembic", "aiokafka", "kafka", "apscheduler.scheduler", "apscheduler.executors.default", "httpx",
                  "httpcore", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, getattr(logging, level, logging.INFO)))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_personal_data,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level, logging.INFO)),
        logger_factory=lambda *args: _StderrLogger(),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str):
    return structlog.get_logger(name)
