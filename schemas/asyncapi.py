"""The AsyncAPI 3.0.0 document of every topic, built from the one table of topics and the wire models.

`python -m schemas.generate` writes it to schemas/asyncapi.yaml; a test fails when the committed
file drifts from `build_document()` and checks it against the official AsyncAPI 3.0.0 JSON Schema.
Channels are the logical topic names (a deployment may prefix them: RADAR_TOPIC_PREFIX);
operations are the service's side: it receives on "in" topics and sends on "out" ones.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.topics import CANDIDATE_TOPICS, LOGICAL, SPEC_BY_NAME, TOPIC_TABLE, TopicSpec

ASYNCAPI_PATH = Path(__file__).parent / "asyncapi.yaml"
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
REF_TEMPLATE = "#/components/schemas/{model}"

# What each topic is for (CONTRACT.md section 1); a topic missing here still gets a channel.
TOPIC_DESCRIPTIONS: dict[str, str] = {
    "profile-events": "A candidate profile as a source sees it now (full snapshot per source).",
    "interview-notes": "Free-text notes from screens, interviews, debriefs, sourcing calls.",
    "role-specs": "A saved role spec: created, updated, paused, closed. Compacted: a later message for the same "
                  "role_id replaces the spec.",
    "candidate-signals": "Every signal detected, one message per signal.",
    "match-alerts": "A saved role spec became newly relevant for a candidate (`type: match.alert`), or stopped being "
                    "relevant (`type: match.withdrawn`). Subscribers that only want alerts filter on `type`.",
    "dead-letters": "Every input that could not be processed, with the reason. Nothing is dropped silently.",
    "lead-events": "A person's action on a (role, candidate) lead: status, assignee, note.",
    "candidate-erasures": "A candidate was erased on request; downstream systems erase too.",
    "radar-timers": "Internal: the scheduler turns time into events here; the worker consumes them.",
    "radar-rekeyed": "Internal: candidate events whose Kafka key was not their candidate_id, re-keyed so that each "
                     "candidate's events land on one partition (one worker, in order).",
}

# Null values (Kafka tombstones) a topic accepts besides its models: topic -> (message id, summary).
TOMBSTONES: dict[str, tuple[str, str]] = {
    "role-specs": ("RoleSpecTombstone", "A null value keyed by the role_id: deletes the role spec."),
    "profile-events": ("CandidateErasureRequest", "A null value keyed by the candidate_id: erase the candidate "
                       "(every row about them); the erasure is announced on candidate-erasures."),
}

# radar-rekeyed declares no models: it carries the candidate topics' messages, with these headers.
REKEY_HEADERS: dict[str, str] = {
    "radar-origin": "topic/partition/offset of the original record",
    "radar-origin-key": "the original record's key as received, when it had one",
}

DIRECTION_TAGS: dict[str, str] = {
    "in": "Published by producers (and by the service's API and CLI on a user's behalf); the service consumes it.",
    "out": "Published by the service for downstream subscribers.",
    "internal": "The service's own plumbing: it both publishes and consumes it. Not part of the public contract.",
}

SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "saslPlain": {
        "type": "plain",
        "description": "SASL/PLAIN: RADAR_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT), "
                       "RADAR_KAFKA_SASL_MECHANISM=PLAIN, RADAR_KAFKA_SASL_USERNAME, RADAR_KAFKA_SASL_PASSWORD.",
    },
    "saslScramSha256": {
        "type": "scramSha256",
        "description": "SASL/SCRAM-SHA-256: RADAR_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT), "
                       "RADAR_KAFKA_SASL_MECHANISM=SCRAM-SHA-256, RADAR_KAFKA_SASL_USERNAME, "
                       "RADAR_KAFKA_SASL_PASSWORD.",
    },
    "saslScramSha512": {
        "type": "scramSha512",
        "description": "SASL/SCRAM-SHA-512: RADAR_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT), "
                       "RADAR_KAFKA_SASL_MECHANISM=SCRAM-SHA-512, RADAR_KAFKA_SASL_USERNAME, "
                       "RADAR_KAFKA_SASL_PASSWORD.",
    },
    "tls": {
        "type": "X509",
        "description": "TLS: RADAR_KAFKA_SECURITY_PROTOCOL=SSL (or SASL_SSL with one of the SASL schemes); the CA that "
                       "signed the brokers' certificates in RADAR_KAFKA_SSL_CAFILE; for mutual TLS a client "
                       "certificate in RADAR_KAFKA_SSL_CERTFILE and RADAR_KAFKA_SSL_KEYFILE "
                       "(RADAR_KAFKA_SSL_KEY_PASSWORD).",
    },
}

INFO_DESCRIPTION = """\
The Kafka topics of Talent Radar: what producers send it and what downstream subscribers receive.

The public contract is CONTRACT.md (`../shared/CONTRACT.md` beside the repository); this document is \
generated from the wire models in `schemas/` (`python -m schemas.generate`) and never contradicts it.

- Every value is a UTF-8 JSON object (or a null tombstone where a channel says so).
- Channel addresses are the logical topic names. A deployment may put every topic under a prefix \
(`RADAR_TOPIC_PREFIX`): with the prefix `acme.` the address `profile-events` is the topic `acme.profile-events`.
- Producers may send the key or not: the service routes by the id in the value.
- Operations are the service's side: it receives on inbound topics and sends on outbound ones; \
topics tagged `internal` are its own plumbing.
"""


def package_version() -> str:
    """pyproject.toml's version in a checkout, else the installed distribution's."""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.exists():
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("talent-radar")
    except PackageNotFoundError:
        return "0.0.0"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_.]", name) if part)


def _title(model_name: str) -> str:
    """ProfileEvent -> Profile event."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model_name).capitalize()


def _key_schema(spec: TopicSpec) -> dict[str, Any]:
    if spec.key_field is None:
        return {"type": "string",
                "description": "The failed record's key as received (empty when it had none)."}
    if spec.direction == "in":
        where = "Producers may leave it out: the service routes by the id in the value"
        if spec.name in TOMBSTONES:
            where += ", except on a tombstone, whose key is the id"
        return {"type": "string", "description": f"The value's `{spec.key_field}`. {where}."}
    return {"type": "string", "description": f"The value's `{spec.key_field}`."}


def _kafka_message_binding(spec: TopicSpec) -> dict[str, Any]:
    return {"kafka": {"key": _key_schema(spec), "bindingVersion": KAFKA_BINDING_VERSION}}


def _kafka_channel_binding(spec: TopicSpec) -> dict[str, Any]:
    binding: dict[str, Any] = {}
    if spec.single_partition:
        binding["partitions"] = 1
    binding["topicConfiguration"] = {"cleanup.policy": ["compact" if spec.compacted else "delete"]}
    binding["bindingVersion"] = KAFKA_BINDING_VERSION
    return {"kafka": binding}


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in path)}


def _channel_messages(spec: TopicSpec) -> list[tuple[str, dict[str, Any]]]:
    """(message id, message object) of every message a topic carries, in a stable order."""
    messages = []
    if spec.name == LOGICAL.rekeyed and not spec.models:
        for name in CANDIDATE_TOPICS:
            for model in SPEC_BY_NAME[name].models:
                messages.append((f"Rekeyed{model.__name__}", {
                    "name": f"Rekeyed{model.__name__}",
                    "title": f"Re-keyed {_title(model.__name__).lower()}",
                    "summary": f"A {name} record re-keyed by its candidate_id; the value is unchanged.",
                    "contentType": "application/json",
                    "headers": _ref("components", "schemas", "RekeyHeaders"),
                    "payload": _ref("components", "schemas", model.__name__),
                    "bindings": _kafka_message_binding(spec),
                }))
        return messages
    for model in spec.models:
        message: dict[str, Any] = {"name": model.__name__, "title": _title(model.__name__)}
        doc = model.__dict__.get("__doc__")
        if doc:
            message["summary"] = " ".join(doc.split())
        message.update({"contentType": "application/json",
                        "payload": _ref("components", "schemas", model.__name__),
                        "bindings": _kafka_message_binding(spec)})
        messages.append((model.__name__, message))
    if spec.name in TOMBSTONES:
        message_id, summary = TOMBSTONES[spec.name]
        messages.append((message_id, {
            "name": message_id, "title": _title(message_id), "summary": summary,
            "payload": _ref("components", "schemas", "Tombstone"),
            "bindings": _kafka_message_binding(spec),
        }))
    return messages


def _schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    """Every model's JSON schema (validation mode, as schemas/json/) with nested models hoisted
    next to it: each $ref points into components.schemas."""
    _, top = models_json_schema([(model, "validation") for model in models], ref_template=REF_TEMPLATE)
    schemas = dict(top.get("$defs", {}))
    schemas["RekeyHeaders"] = {
        "type": "object",
        "description": "Kafka headers of a re-keyed record (UTF-8).",
        "properties": {name: {"type": "string", "description": text} for name, text in REKEY_HEADERS.items()},
        "required": ["radar-origin"],
    }
    schemas["Tombstone"] = {"type": "null", "description": "A Kafka tombstone: the record's value is null."}
    return schemas


def _operation(spec: TopicSpec, action: str, message_ids: list[str]) -> dict[str, Any]:
    verb = "consumes" if action == "receive" else "publishes"
    return {
        "action": action,
        "channel": _ref("channels", spec.name),
        "summary": f"The service {verb} {spec.name}.",
        "messages": [_ref("channels", spec.name, "messages", message_id) for message_id in message_ids],
        "tags": [_ref("components", "tags", spec.direction)],
    }


def build_document() -> dict[str, Any]:
    for name in TOMBSTONES:
        if name not in SPEC_BY_NAME:
            raise ValueError(f"TOMBSTONES names {name!r}, which is not in TOPIC_TABLE")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in TOPIC_TABLE:
        carried = _channel_messages(spec)
        for message_id, message in carried:
            if message_id in messages:
                raise ValueError(f"message {message_id!r} is on two topics: give it one id per topic")
            messages[message_id] = message
        key = f"`{spec.key_field}`" if spec.key_field else "the failed record's key, as received"
        description = TOPIC_DESCRIPTIONS.get(spec.name, f"The {spec.name} topic.")
        channels[spec.name] = {
            "address": spec.name,
            "title": spec.name,
            "description": f"{description}\n\nKey: {key}. The topic's name is `RADAR_TOPIC_PREFIX` + `{spec.name}`.",
            "messages": {message_id: _ref("components", "messages", message_id) for message_id, _ in carried},
            "tags": [_ref("components", "tags", spec.direction)],
            "bindings": _kafka_channel_binding(spec),
        }
        actions = {"in": ["receive"], "out": ["send"], "internal": ["send", "receive"]}[spec.direction]
        for action in actions:
            operations[f"{action}{_pascal(spec.name)}"] = _operation(spec, action, [m for m, _ in carried])

    models = list(dict.fromkeys(model for spec in TOPIC_TABLE for model in spec.models))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Talent Radar",
            "version": package_version(),
            "description": INFO_DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The single-node broker of `radar up` and `radar kafka up`: plaintext, "
                               "no authentication.",
            },
            "production": {
                "host": "{bootstrap}",
                "protocol": "kafka-secure",
                "description": "The cluster named by RADAR_KAFKA_BOOTSTRAP. RADAR_KAFKA_SECURITY_PROTOCOL picks "
                               "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; a managed cluster usually wants "
                               "SASL_SSL with one of the SASL schemes below, or SSL (TLS).",
                "variables": {
                    "bootstrap": {
                        "description": "RADAR_KAFKA_BOOTSTRAP: the brokers' host:port list, comma-separated.",
                        "examples": ["broker-1.example.com:9093,broker-2.example.com:9093"],
                    },
                },
                "security": [_ref("components", "securitySchemes", name) for name in SECURITY_SCHEMES],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": _schemas(models),
            "messages": messages,
            "securitySchemes": SECURITY_SCHEMES,
            "tags": {name: {"name": name, "description": text} for name, text in DIRECTION_TAGS.items()},
        },
    }


def render() -> str:
    """The document as YAML (PyYAML, a test extra), keys in build order, long texts as blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    Dumper.ignore_aliases = lambda self, data: True  # no &id001 anchors: every object written out
    return yaml.dump(build_document(), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120)
