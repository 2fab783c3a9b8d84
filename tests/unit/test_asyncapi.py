"""schemas/asyncapi.yaml: generated from the models, valid AsyncAPI 3.0.0, complete, every $ref resolving.

tests/data/asyncapi-3.0.0.schema.json is the official AsyncAPI 3.0.0 JSON Schema, bundled with every
definition it refers to: `schemas/3.0.0.json` of the npm package @asyncapi/specs 6.11.1 (Apache-2.0),
unchanged (sha256 d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626).
"""
import json
from pathlib import Path

import pytest
import yaml

from schemas.asyncapi import ASYNCAPI_PATH, REF_TEMPLATE, REKEY_HEADERS, TOMBSTONES, build_document, render
from schemas.topics import CANDIDATE_TOPICS, LOGICAL, TOPIC_TABLE

OFFICIAL_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def doc():
    return build_document()


def test_the_committed_document_matches_the_models():
    assert ASYNCAPI_PATH.exists(), "schemas/asyncapi.yaml missing: run python -m schemas.generate"
    assert ASYNCAPI_PATH.read_text() == render(), "schemas/asyncapi.yaml drifted: run python -m schemas.generate"


def test_the_yaml_reads_back_as_the_document(doc):
    assert yaml.safe_load(render()) == json.loads(json.dumps(doc))


def test_it_is_valid_asyncapi_3_0_0(doc):
    jsonschema = pytest.importorskip("jsonschema", reason="needs jsonschema (the test extras)")
    official = json.loads(OFFICIAL_SCHEMA.read_text())
    assert official["properties"]["asyncapi"]["const"] == "3.0.0"
    validator = jsonschema.Draft7Validator(official)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:10])


def test_the_official_schema_catches_mistakes(doc):
    """The validation is not vacuous: a wrong action, a non-string address, an unknown security scheme
    type, an unknown top-level field, an unknown Kafka binding version and a broken payload schema are
    each refused."""
    jsonschema = pytest.importorskip("jsonschema", reason="needs jsonschema (the test extras)")
    validator = jsonschema.Draft7Validator(json.loads(OFFICIAL_SCHEMA.read_text()))
    spoil = [
        lambda d: d["operations"]["receiveProfileEvents"].update(action="consume"),
        lambda d: d["channels"]["profile-events"].update(address=7),
        lambda d: d["components"]["securitySchemes"]["tls"].update(type="tls"),
        lambda d: d.update(topics={}),
        lambda d: d["components"]["messages"]["ProfileEvent"]["bindings"]["kafka"].update(bindingVersion="9"),
        lambda d: d["components"]["schemas"]["ProfileEvent"].update(required="event_id"),
    ]
    for change in spoil:
        bad = json.loads(json.dumps(doc))
        change(bad)
        assert not validator.is_valid(bad)


def test_every_topic_has_a_channel_and_operations_from_the_service_side(doc):
    for spec in TOPIC_TABLE:
        channel = doc["channels"][spec.name]
        assert channel["address"] == spec.name
        assert "RADAR_TOPIC_PREFIX" in channel["description"]
        on_channel = [op for op in doc["operations"].values() if op["channel"]["$ref"] == f"#/channels/{spec.name}"]
        ops = {op["action"]: op for op in on_channel}
        expected = {"in": {"receive"}, "out": {"send"}, "internal": {"send", "receive"}}[spec.direction]
        assert set(ops) == expected, spec.name
        for op in ops.values():
            assert op["tags"] == [{"$ref": f"#/components/tags/{spec.direction}"}]
            assert [m["$ref"] for m in op["messages"]] == [
                f"#/channels/{spec.name}/messages/{message_id}" for message_id in channel["messages"]]
    assert len(doc["channels"]) == len(TOPIC_TABLE)


def test_every_model_has_a_message_keyed_as_its_topic_says(doc):
    messages = doc["components"]["messages"]
    for spec in TOPIC_TABLE:
        for model in spec.models:
            name = model.__name__
            assert doc["channels"][spec.name]["messages"][name] == {"$ref": f"#/components/messages/{name}"}
            message = messages[name]
            assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
            key = message["bindings"]["kafka"]["key"]
            assert key["type"] == "string"
            assert (f"`{spec.key_field}`" if spec.key_field else "as received") in key["description"]
    for topic, (message_id, _) in TOMBSTONES.items():
        assert message_id in doc["channels"][topic]["messages"]
        assert messages[message_id]["payload"] == {"$ref": "#/components/schemas/Tombstone"}


def test_rekeyed_carries_every_candidate_event_with_its_origin_headers(doc):
    from services.adapters.kafka.records import ORIGIN_KEY_HEADER, REKEY_HEADER

    assert set(REKEY_HEADERS) == {REKEY_HEADER, ORIGIN_KEY_HEADER}
    carried = doc["channels"][LOGICAL.rekeyed]["messages"]
    models = [m.__name__ for name in CANDIDATE_TOPICS for m in next(s for s in TOPIC_TABLE if s.name == name).models]
    assert list(carried) == [f"Rekeyed{name}" for name in models]
    for name in models:
        message = doc["components"]["messages"][f"Rekeyed{name}"]
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}


def test_payload_schemas_are_the_models_json_schemas(doc):
    """components.schemas holds what schemas/json/ holds, nested models hoisted beside them."""
    schemas = doc["components"]["schemas"]
    for spec in TOPIC_TABLE:
        for model in spec.models:
            own = model.model_json_schema(ref_template=REF_TEMPLATE)
            for name, nested in own.pop("$defs", {}).items():
                assert schemas[name] == nested
            assert schemas[model.__name__] == own
    assert "$defs" not in json.dumps(doc)


def walk_refs(node, path="#"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path, value
            else:
                yield from walk_refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_refs(value, f"{path}/{i}")


def resolve(doc, ref):
    assert ref.startswith("#/"), f"{ref}: only local refs are expected"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve (at {part!r})"
        node = node[part]
    return node


def test_every_ref_resolves(doc):
    refs = list(walk_refs(doc))
    assert len(refs) > 50
    for where, ref in refs:
        target = resolve(doc, ref)
        assert isinstance(target, dict), f"{where}: {ref} is not an object"
    # every message and schema in components is used by something
    used = {ref for _, ref in refs}
    for kind in ("messages", "schemas", "securitySchemes", "tags"):
        for name in doc["components"][kind]:
            assert f"#/components/{kind}/{name}" in used, f"components.{kind}.{name} is never referred to"
