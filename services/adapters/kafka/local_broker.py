"""A single-node Apache Kafka broker in KRaft mode, without Docker.

Its jars come from Maven Central through Maven (deploy/kafka/pom.xml pins the version)
and are cached in `<kafka_home>/libs`; it runs on the machine's JDK 17.
"""
from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO_DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "kafka"
KAFKA_VERSION = "3.9.1"


class KafkaSetupError(RuntimeError):
    """A problem the user can fix: said in one line."""


def parse_bootstrap(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if not host or not port.isdigit():
        raise KafkaSetupError(f"RADAR_KAFKA_BOOTSTRAP must look like host:port, got {bootstrap!r}")
    return host, int(port)


def is_answering(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_cluster_id() -> str:
    """A KRaft cluster id (a UUID in URL-safe base64), never starting with '-', which the
    storage tool's argument parser would take for an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def ensure_jars(home: Path) -> Path:
    """Download the broker's jars once (Maven), then reuse them."""
    libs = home / "libs"
    if (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        return libs
    pom = REPO_DEPLOY / "pom.xml"
    if not pom.exists():
        raise KafkaSetupError(f"cannot find {pom}; run radar from a checkout (pip install -e .)")
    if shutil.which("mvn") is None:
        raise KafkaSetupError("Maven (mvn) is needed to fetch the Kafka jars: install maven and JDK 17+")
    libs.mkdir(parents=True, exist_ok=True)
    command = ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={libs}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise KafkaSetupError("mvn could not fetch the Kafka jars: " + (done.stdout + done.stderr).strip()[-400:])
    return libs


@dataclass
class LocalKafka:
    """One broker: its files live in `home/<port>/`; the jars are shared in `home/libs`."""
    home: Path
    host: str = "127.0.0.1"
    port: int = 9092

    @property
    def dir(self) -> Path:
        return self.home / f"broker-{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.dir / "broker.log"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def pid(self) -> Optional[int]:
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def status(self) -> dict:
        return {"bootstrap": self.bootstrap, "pid": self.pid(), "answering": is_answering(self.host, self.port),
                "version": KAFKA_VERSION, "dir": str(self.dir)}

    def up(self, timeout: float = 90.0) -> bool:
        """Start the broker unless one answers already; True when this call started it."""
        if is_answering(self.host, self.port):
            return False
        libs = ensure_jars(self.home)
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        java = shutil.which("java")
        if java is None:
            raise KafkaSetupError("java is needed to run the local Kafka broker: install JDK 17+")
        base = [java, "-Xms256m", "-Xmx768m", f"-Dlog4j.configuration=file:{REPO_DEPLOY / 'log4j.properties'}",
                "-cp", f"{libs}/*"]
        if not (self.dir / "data" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            formatted = subprocess.run(base + ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)],
                                       capture_output=True, text=True)
            if formatted.returncode != 0:
                raise KafkaSetupError("formatting the broker's storage failed: " + formatted.stderr.strip()[-300:])
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(base + ["kafka.Kafka", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise KafkaSetupError(f"the broker exited with code {process.returncode}; see {self.log_file}")
            if is_answering(self.host, self.port):
                return True
            time.sleep(0.2)
        self.down()
        raise KafkaSetupError(f"the broker did not answer on {self.bootstrap} within {timeout:.0f}s; see {self.log_file}")

    def down(self, timeout: float = 30.0) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.2)
            _reap(pid)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _controller_port(self) -> int:
        """The same controller port across restarts (the KRaft quorum remembers it), if free."""
        saved = self.dir / "controller.port"
        if saved.exists():
            port = int(saved.read_text())
            if not is_answering("127.0.0.1", port):
                return port
        port = free_port()
        saved.write_text(str(port))
        return port

    def _write_config(self) -> Path:
        controller_port = self._controller_port()
        config = self.dir / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://{self.host}:{self.port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.dir / 'data'}",
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "log.retention.hours=168",
            "",
        ]))
        return config


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
