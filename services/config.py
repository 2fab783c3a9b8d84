"""Settings from the environment (see README, "Configuration"): the only reader of it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from schemas.topics import Topics


def _number(env, name: str, default, kind):
    """A number from the environment; a value that is not one is one sentence naming the variable."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}: a {'whole ' if kind is int else ''}number, not {raw!r}") from None


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name}: one of {', '.join(allowed)}, not {value!r}")
    return value


def _int_list(name: str, raw: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{name}: whole numbers separated by commas, not {raw!r}") from None


DEFAULT_TENURE_WINDOWS_MONTHS = (24, 36, 48)
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    """How every client (worker, API, notifier, scheduler, CLI) authenticates to the broker
    (README, "Managed Kafka"). The default is the local broker's plain listener."""
    protocol: str = "PLAINTEXT"
    sasl_mechanism: Optional[str] = None
    sasl_username: Optional[str] = None
    sasl_password: Optional[str] = None
    ssl_cafile: Optional[str] = None        # the CA that signed the brokers' certificates
    ssl_certfile: Optional[str] = None      # client certificate (mutual TLS)
    ssl_keyfile: Optional[str] = None
    ssl_key_password: Optional[str] = None

    def __post_init__(self) -> None:
        if self.protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f"RADAR_KAFKA_SECURITY_PROTOCOL: one of {', '.join(SECURITY_PROTOCOLS)}, "
                             f"not {self.protocol!r}")
        if self.protocol.startswith("SASL"):
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ValueError(f"RADAR_KAFKA_SASL_MECHANISM: one of {', '.join(SASL_MECHANISMS)} with "
                                 f"{self.protocol}")
            if not (self.sasl_username and self.sasl_password):
                raise ValueError("RADAR_KAFKA_SASL_USERNAME and RADAR_KAFKA_SASL_PASSWORD are needed with "
                                 f"{self.protocol}")
        elif self.sasl_mechanism or self.sasl_username or self.sasl_password:
            raise ValueError(f"RADAR_KAFKA_SASL_* is set but RADAR_KAFKA_SECURITY_PROTOCOL is {self.protocol}: "
                             "SASL_PLAINTEXT or SASL_SSL uses it")
        if not self.protocol.endswith("SSL") and (self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile):
            raise ValueError(f"RADAR_KAFKA_SSL_* is set but RADAR_KAFKA_SECURITY_PROTOCOL is {self.protocol}: "
                             "SSL or SASL_SSL uses it")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL")

    @classmethod
    def from_env(cls, env) -> "KafkaSecurity":
        return cls(protocol=env.get("RADAR_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper(),
                   sasl_mechanism=(env.get("RADAR_KAFKA_SASL_MECHANISM") or "").upper() or None,
                   sasl_username=env.get("RADAR_KAFKA_SASL_USERNAME") or None,
                   sasl_password=env.get("RADAR_KAFKA_SASL_PASSWORD") or None,
                   ssl_cafile=env.get("RADAR_KAFKA_SSL_CAFILE") or None,
                   ssl_certfile=env.get("RADAR_KAFKA_SSL_CERTFILE") or None,
                   ssl_keyfile=env.get("RADAR_KAFKA_SSL_KEYFILE") or None,
                   ssl_key_password=env.get("RADAR_KAFKA_SSL_KEY_PASSWORD") or None)


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "localhost:9092"
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
    topic_prefix: str = ""  # every topic under a prefix: several deployments on one cluster
    database_url: str = field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'radar.db'}")
    topic_partitions: int = 6
    topic_replication: int = 1
    app_id: str = "talent-radar"
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    log_level: str = "INFO"
    batch_size: int = 500
    relay_interval_s: float = 0.2
    tenure_windows_months: tuple[int, ...] = DEFAULT_TENURE_WINDOWS_MONTHS
    scheduler_scan_interval_s: float = 30.0
    kafka_home: Path = field(default_factory=lambda: Path.home() / ".radar" / "kafka")
    # Crash recovery: a dead worker's partitions move after the session timeout; a worker
    # restarted with the same id (Kafka static membership) takes them back at once.
    session_timeout_s: float = 10.0
    heartbeat_interval_s: float = 3.0
    worker_id: Optional[str] = None
    worker_metrics_port: Optional[int] = None
    stall_after_s: float = 60.0      # a batch retrying longer than this makes /health say so
    relay_lease_s: float = 10.0      # how long a relay holds unsent outbox rows without renewing
    # The notifier (README, "Notifications")
    public_url: str = "http://127.0.0.1:8080"   # links in notifications point here
    smtp_host: Optional[str] = None
    smtp_port: int = 25
    smtp_user: Optional[str] = None
    smtp_password: Optional[str] = None
    smtp_from: str = "talent-radar@localhost"
    smtp_starttls: bool = False
    notifier_metrics_port: Optional[int] = None
    notifier_max_in_flight: int = 256
    notifier_per_target: int = 8     # connections at a time to one host (or the mail server)
    notifier_timeout_s: float = 10.0
    # Access control (README, "Running in production")
    oidc_issuer: Optional[str] = None
    oidc_audience: Optional[str] = None
    oidc_jwks_url: Optional[str] = None
    oidc_role_claim: str = "radar_role"
    metrics_token: Optional[str] = None    # when set, /metrics wants it as a bearer token
    # Retention (README, "Erasure and retention"): days; 0 keeps for good
    note_text_retention_days: int = 365    # then a note keeps what was learnt from it, not its text
    dead_letter_retention_days: int = 30   # then a dead letter (and the value it holds) is deleted
    scheduler_port: Optional[int] = None   # /livez, /readyz and /metrics of the scheduler
    # "auto": a service brings the schema up to date at start (under a database lock);
    # "wait": it waits until the schema is current (the migration Job's work, in Kubernetes)
    migrate: str = "auto"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            kafka_bootstrap=env.get("RADAR_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            kafka_security=KafkaSecurity.from_env(env),
            topic_prefix=env.get("RADAR_TOPIC_PREFIX", ""),
            database_url=env.get("RADAR_DATABASE_URL") or f"sqlite:///{Path.cwd() / 'radar.db'}",
            topic_partitions=_number(env, "RADAR_TOPIC_PARTITIONS", cls.topic_partitions, int),
            topic_replication=_number(env, "RADAR_TOPIC_REPLICATION", cls.topic_replication, int),
            app_id=env.get("RADAR_APP_ID", cls.app_id),
            api_host=env.get("RADAR_API_HOST", cls.api_host),
            api_port=_number(env, "RADAR_API_PORT", cls.api_port, int),
            log_level=env.get("RADAR_LOG_LEVEL", cls.log_level).upper(),
            batch_size=_number(env, "RADAR_BATCH_SIZE", cls.batch_size, int),
            tenure_windows_months=_int_list("RADAR_TENURE_WINDOWS_MONTHS", env["RADAR_TENURE_WINDOWS_MONTHS"]) if env.get(
                "RADAR_TENURE_WINDOWS_MONTHS") else DEFAULT_TENURE_WINDOWS_MONTHS,
            scheduler_scan_interval_s=_number(env, "RADAR_SCHEDULER_SCAN_S", cls.scheduler_scan_interval_s, float),
            kafka_home=Path(env.get("RADAR_KAFKA_HOME", str(Path.home() / ".radar" / "kafka"))),
            session_timeout_s=_number(env, "RADAR_SESSION_TIMEOUT_S", cls.session_timeout_s, float),
            heartbeat_interval_s=_number(env, "RADAR_HEARTBEAT_INTERVAL_S", cls.heartbeat_interval_s, float),
            worker_id=env.get("RADAR_WORKER_ID") or None,
            worker_metrics_port=_number(env, "RADAR_WORKER_METRICS_PORT", None, int),
            stall_after_s=_number(env, "RADAR_STALL_AFTER_S", cls.stall_after_s, float),
            relay_lease_s=_number(env, "RADAR_RELAY_LEASE_S", cls.relay_lease_s, float),
            public_url=env.get("RADAR_PUBLIC_URL") or  # links in notifications: this API unless told otherwise
            f"http://127.0.0.1:{_number(env, 'RADAR_API_PORT', cls.api_port, int)}",
            smtp_host=env.get("RADAR_SMTP_HOST") or None,
            smtp_port=_number(env, "RADAR_SMTP_PORT", cls.smtp_port, int),
            smtp_user=env.get("RADAR_SMTP_USER") or None,
            smtp_password=env.get("RADAR_SMTP_PASSWORD") or None,
            smtp_from=env.get("RADAR_SMTP_FROM", cls.smtp_from),
            smtp_starttls=env.get("RADAR_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            notifier_metrics_port=_number(env, "RADAR_NOTIFIER_METRICS_PORT", None, int),
            notifier_max_in_flight=_number(env, "RADAR_NOTIFIER_MAX_IN_FLIGHT", cls.notifier_max_in_flight, int),
            notifier_per_target=_number(env, "RADAR_NOTIFIER_PER_TARGET", cls.notifier_per_target, int),
            notifier_timeout_s=_number(env, "RADAR_NOTIFIER_TIMEOUT_S", cls.notifier_timeout_s, float),
            oidc_issuer=env.get("RADAR_OIDC_ISSUER") or None,
            oidc_audience=env.get("RADAR_OIDC_AUDIENCE") or None,
            oidc_jwks_url=env.get("RADAR_OIDC_JWKS_URL") or None,
            oidc_role_claim=env.get("RADAR_OIDC_ROLE_CLAIM", cls.oidc_role_claim),
            metrics_token=env.get("RADAR_METRICS_TOKEN") or None,
            note_text_retention_days=_number(env, "RADAR_NOTE_TEXT_RETENTION_DAYS", cls.note_text_retention_days, int),
            dead_letter_retention_days=_number(env, "RADAR_DEAD_LETTER_RETENTION_DAYS",
                                               cls.dead_letter_retention_days, int),
            scheduler_port=_number(env, "RADAR_SCHEDULER_PORT", None, int),
            migrate=_one_of("RADAR_MIGRATE", env.get("RADAR_MIGRATE", "auto").lower(), ("auto", "wait")),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)


# This process's topic names (RADAR_TOPIC_PREFIX), for code that has no Settings at hand.
# Only the prefix is read here, at import: a bad value elsewhere is reported by the command.
TOPICS = Topics(os.environ.get("RADAR_TOPIC_PREFIX", ""))
