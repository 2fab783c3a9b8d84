"""Prometheus metrics of the stream worker (served on RADAR_WORKER_METRICS_PORT when set).

The HTTP API's /metrics adds store-level gauges (outbox backlog, alerts, consumer lag)
computed at scrape time, so any API instance shows the pipeline's health.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter("radar_records_total", "Records consumed by the worker", ["topic"])
OUTCOMES = Counter("radar_outcomes_total", "What the worker did with records",
                   ["outcome"])  # processed, duplicate, stale, dead_letter
SIGNALS = Counter("radar_signals_total", "Signals detected", ["type"])
ALERTS = Counter("radar_alerts_total", "Match alerts written to the outbox", ["type"])
REKEYED = Counter("radar_rekeyed_total", "Candidate events forwarded to radar-rekeyed (key was not the candidate_id)")
OUTBOX_PUBLISHED = Counter("radar_outbox_published_total", "Outbox messages acknowledged by Kafka", ["topic"])
LEAD_CHANGES = Counter("radar_lead_changes_total", "Lead status changes applied (the funnel's moves)", ["status"])
HELD_BACK = Counter("radar_alerts_held_back_total", "Alerts held back by a lead's feedback", ["because"])
OUTBOX_REFUSED = Counter("radar_outbox_refused_total",
                         "Outbox messages the broker refused for good (replaced by a small dead letter)")
RELAY_FOUND_PUBLISHED = Counter("radar_relay_found_published_total",
                                "In-doubt outbox rows found already on their topic after a crash (not sent again)")
CONSUME_FAILURES = Counter("radar_consume_failures_total",
                           "Attempts to route or store a batch that failed and will be retried", ["stage", "error"])
RETRYING_SECONDS = Gauge("radar_batch_retrying_seconds",
                         "How long the current batch has been retrying (0 when none is)")
BATCH_SECONDS = Histogram("radar_batch_seconds", "Time to process and commit one batch",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def record_batch(records, result) -> None:
    for record in records:
        RECORDS.labels(topic=record.topic).inc()
    OUTCOMES.labels(outcome="processed").inc(result.processed)
    OUTCOMES.labels(outcome="duplicate").inc(result.duplicates)
    OUTCOMES.labels(outcome="stale").inc(result.stale)
    OUTCOMES.labels(outcome="dead_letter").inc(result.dead_letters)
    for signal_type, count in result.counts_by_type.items():
        SIGNALS.labels(type=signal_type).inc(count)
    for status, count in result.lead_changes.items():
        LEAD_CHANGES.labels(status=status).inc(count)
    for because, count in result.held_back.items():
        HELD_BACK.labels(because=because).inc(count)
    ALERTS.labels(type="match.alert").inc(result.alerts)
    ALERTS.labels(type="match.withdrawn").inc(result.withdrawals)

# -- the notifier (served on RADAR_NOTIFIER_METRICS_PORT) --------------------------------
DELIVERIES = Counter("radar_notifier_deliveries_total", "Delivery attempts by channel and outcome",
                     ["channel", "outcome"])  # delivered, retry, failed
DELIVERY_LATENCY = Histogram("radar_notifier_delivery_latency_seconds",
                             "From the message's created_at to its delivery (instant deliveries)",
                             buckets=(0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600))
RETRY_BACKLOG = Gauge("radar_notifier_retry_backlog", "Deliveries waiting to be tried again")
OLDEST_PENDING = Gauge("radar_notifier_oldest_pending_seconds", "Age of the oldest pending instant delivery")
SCHEDULER_LAST_RUN_AGE = Gauge("radar_scheduler_last_run_age_seconds",
                               "Seconds since this scheduler's jobs last ran (served on RADAR_SCHEDULER_PORT)")
RETENTION_PURGED = Counter("radar_retention_purged_total", "Rows purged by retention", ["what"])
