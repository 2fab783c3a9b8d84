# Talent Radar service image.
#
# One image runs every role; pick it with the command:
#   radar worker      (default)  Faust stream worker; /livez, /readyz, /metrics on $RADAR_WORKER_METRICS_PORT
#   radar scheduler              periodic scans (leader-elects through the DB); probes on $RADAR_SCHEDULER_PORT
#   radar notifier               delivers alerts; probes on $RADAR_NOTIFIER_METRICS_PORT
#   radar api                    HTTP API on $RADAR_API_PORT (8080): /livez, /readyz, /health, /metrics
#   radar db upgrade             Alembic migrations (run once per release, before the services;
#                                the services then run with RADAR_MIGRATE=wait)
# The probe/metrics ports are off unless their variable is set (deploy/k8s and docker-compose
# use 9100 worker, 9101 notifier, 9102 scheduler).
#
# Configuration is by environment variables only (RADAR_KAFKA_BOOTSTRAP,
# RADAR_DATABASE_URL, ...); see docker-compose.yml and deploy/k8s/.
FROM python:3.11-slim

# RADAR_API_HOST is the address every listener binds (the API and the probe/metrics ports).
# The application default is 127.0.0.1; 0.0.0.0 here is the default for containers only, where
# loopback would be unreachable for probes and Prometheus: who may connect is decided outside
# (compose publishes the API on the host's 127.0.0.1 only; Kubernetes uses a NetworkPolicy).
# Override it with -e RADAR_API_HOST=... like any other setting.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    RADAR_API_HOST=0.0.0.0 \
    RADAR_API_PORT=8080

# Unprivileged runtime user (fixed uid/gid so Kubernetes can check runAsNonRoot).
RUN groupadd --system --gid 10001 radar \
 && useradd --system --uid 10001 --gid radar --home-dir /home/radar \
            --create-home --shell /usr/sbin/nologin radar

# Build from a scratch directory; only what the package needs is copied.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas/ schemas/
COPY streams/ streams/
COPY services/ services/
RUN pip install --no-cache-dir . \
 && rm -rf /src/build /src/*.egg-info

# Runtime working directory: writable by the service user (Faust keeps its
# local table/offset data in ./<app-id>-data under the working directory).
WORKDIR /app
RUN chown radar:radar /app

USER 10001:10001

EXPOSE 8080

CMD ["radar", "worker"]
