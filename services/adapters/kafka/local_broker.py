"""A single-node Apache Kafka broker in KRaft mode, without Docker.

Its jars come from Maven Central through Maven (deploy/kafka/pom.xml pins the version)
and are cached in `<kafka_home>/libs`; it runs on the machine's JDK 17.

For tests of client security it can also require SASL (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN)
and TLS (a throwaway CA made with the JDK's keytool); by default it is plain and open.
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
SASL_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")
TLS_PASSWORD = "radar-local"  # of the throwaway key stores only: a test broker's, never a real one


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
    """One broker: its files live in `home/<port>/`; the jars are shared in `home/libs`.

    With `sasl_users` ({name: password}) `port` is a SASL_PLAINTEXT listener taking any of
    SASL_MECHANISMS; with `tls` there are also an SSL listener wanting a client certificate
    signed by the broker's CA (`ca_file`, `client_keystore`) and, with users, a SASL_SSL one
    (`listeners` says where). The SCRAM users are stored when the storage is formatted, so
    a broker directory keeps the users it was first started with. The broker talks to itself
    on a PLAINTEXT listener on 127.0.0.1 only."""
    home: Path
    host: str = "127.0.0.1"
    port: int = 9092
    sasl_users: Optional[dict[str, str]] = None
    tls: bool = False

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

    @property
    def secured(self) -> bool:
        return bool(self.sasl_users) or self.tls

    @property
    def listeners(self) -> dict[str, str]:
        """Where clients connect, by security protocol (only PLAINTEXT unless secured)."""
        if not self.secured:
            return {"PLAINTEXT": self.bootstrap}
        names = (["SASL_PLAINTEXT"] if self.sasl_users else []) + (["SSL"] if self.tls else [])
        names += ["SASL_SSL"] if self.sasl_users and self.tls else []
        ports = [self.port] + [self._saved_port(name.lower(), check=False) for name in names[1:]]
        return {name: f"{self.host}:{port}" for name, port in zip(names, ports)}

    @property
    def ca_file(self) -> Path:
        """The PEM certificate of the CA that signed the broker's (and the client's) certificate."""
        return self.dir / "tls" / "ca.pem"

    @property
    def client_keystore(self) -> Path:
        """A client certificate and key for the SSL listener (PKCS12, password TLS_PASSWORD); the
        certificate alone is `client.pem` beside it."""
        return self.dir / "tls" / "client.p12"

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
        if self.tls:
            self._make_certificates()
        base = [java, "-Xms256m", "-Xmx768m", f"-Dlog4j.configuration=file:{REPO_DEPLOY / 'log4j.properties'}",
                "-cp", f"{libs}/*"]
        if not (self.dir / "data" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            formatted = subprocess.run(base + ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)]
                                       + self._scram_arguments(), capture_output=True, text=True)
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
        return self._saved_port("controller")

    def _saved_port(self, name: str, check: bool = True) -> int:
        """A port kept in the broker's directory; a new one if it is taken (`check`, before starting)."""
        saved = self.dir / f"{name}.port"
        if saved.exists():
            port = int(saved.read_text())
            if not check or not is_answering("127.0.0.1", port):
                return port
        self.dir.mkdir(parents=True, exist_ok=True)
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
        if self.secured:
            config.write_text(self._secure(config.read_text(), controller_port))
        return config

    def _secure(self, plain: str, controller_port: int) -> str:
        """The plain configuration with the client listener(s) swapped for secured ones."""
        internal = f"PLAINTEXT://127.0.0.1:{self._saved_port('internal')}"
        for name in list(self.listeners)[1:]:
            self._saved_port(name.lower())  # free now, or moved
        clients = ",".join(f"{name}://{address}" for name, address in self.listeners.items())
        protocols = ",".join(f"{name}:{name}" for name in self.listeners)
        lines = [line for line in plain.splitlines() if not line.startswith(("listeners=", "advertised.listeners=",
                                                                             "listener.security.protocol.map="))]
        lines += [f"listeners={clients},{internal},CONTROLLER://127.0.0.1:{controller_port}",
                  f"advertised.listeners={clients},{internal}",
                  f"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,{protocols}",
                  "inter.broker.listener.name=PLAINTEXT"]
        if self.sasl_users:
            lines.append(f"sasl.enabled.mechanisms={','.join(SASL_MECHANISMS)}")
            plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.sasl_users.items())
            for listener in (name.lower() for name in self.listeners if name.startswith("SASL")):
                for scram in ("scram-sha-256", "scram-sha-512"):
                    lines.append(f"listener.name.{listener}.{scram}.sasl.jaas.config="
                                 "org.apache.kafka.common.security.scram.ScramLoginModule required;")
                lines.append(f"listener.name.{listener}.plain.sasl.jaas.config="
                             f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};")
        if self.tls:
            tls = self.dir / "tls"
            lines += ["ssl.keystore.type=PKCS12", f"ssl.keystore.location={tls / 'broker.p12'}",
                      f"ssl.keystore.password={TLS_PASSWORD}", f"ssl.key.password={TLS_PASSWORD}",
                      "ssl.truststore.type=PKCS12", f"ssl.truststore.location={tls / 'truststore.p12'}",
                      f"ssl.truststore.password={TLS_PASSWORD}", "listener.name.ssl.ssl.client.auth=required"]
        return "\n".join(lines + [""])

    def _scram_arguments(self) -> list[str]:
        """The storage tool's --add-scram for every user and SCRAM mechanism (Kafka 3.5+)."""
        arguments: list[str] = []
        for name, password in (self.sasl_users or {}).items():
            if not name or any(c in name + password for c in '",=[]\\ \n') or not password:
                raise KafkaSetupError(f"SASL user {name!r}: names and passwords of the local broker's users are "
                                      "non-empty and have no quotes, commas, '=', brackets, backslashes or spaces")
            for scram in SASL_MECHANISMS[:2]:
                arguments += ["--add-scram", f"{scram}=[name={name},password={password}]"]
        return arguments

    def _make_certificates(self) -> None:
        """A CA, a broker key store and trust store, a client key store and the CA as PEM,
        all made once with the JDK's keytool (PKCS12)."""
        tls = self.dir / "tls"
        if (tls / "made").exists():
            return
        keytool = shutil.which("keytool")
        if keytool is None:
            raise KafkaSetupError("keytool (part of the JDK) is needed for the local broker's TLS")
        shutil.rmtree(tls, ignore_errors=True)  # what an interrupted run left
        tls.mkdir(parents=True)
        secret = ["-storepass", TLS_PASSWORD, "-keypass", TLS_PASSWORD]

        def run(*arguments: str) -> None:  # the JVM flags halve keytool's start-up
            done = subprocess.run([keytool, "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", *arguments],
                                  capture_output=True, text=True, cwd=tls)
            if done.returncode != 0:
                raise KafkaSetupError(f"keytool {arguments[0]} failed: " + (done.stdout + done.stderr).strip()[-300:])

        def keypair(store: str, alias: str, name: str) -> None:
            run("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "3650",
                "-dname", f"CN={name}", "-keystore", store, "-storetype", "PKCS12", *secret,
                *(["-ext", "bc:c"] if alias == "ca" else []))

        def signed(store: str, alias: str, name: str, usage: str, san: str = "") -> None:
            keypair(store, alias, name)
            run("-certreq", "-alias", alias, "-keystore", store, "-storepass", TLS_PASSWORD, "-file", f"{alias}.csr")
            run("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", TLS_PASSWORD, "-infile",
                f"{alias}.csr", "-outfile", f"{alias}.pem", "-rfc", "-validity", "3650", "-ext", f"EKU={usage}",
                *(["-ext", f"SAN={san}"] if san else []))
            chain = tls / f"{alias}-chain.pem"
            chain.write_text((tls / f"{alias}.pem").read_text() + (tls / "ca.pem").read_text())
            run("-importcert", "-alias", alias, "-file", chain.name, "-keystore", store, "-storepass", TLS_PASSWORD,
                "-noprompt")

        keypair("ca.p12", "ca", "radar-local-ca")
        run("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-storepass", TLS_PASSWORD, "-file", "ca.pem")
        run("-importcert", "-alias", "ca", "-file", "ca.pem", "-keystore", "truststore.p12", "-storetype", "PKCS12",
            "-storepass", TLS_PASSWORD, "-noprompt")
        names = sorted({"dns:localhost", "ip:127.0.0.1",
                        f"ip:{self.host}" if self.host.replace(".", "").isdigit() else f"dns:{self.host}"})
        signed("broker.p12", "broker", "localhost", "serverAuth,clientAuth", ",".join(names))
        signed("client.p12", "client", "radar-client", "clientAuth")
        (tls / "made").write_text("")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
