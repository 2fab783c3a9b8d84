"""orjson at the edges, with the standard library for what it refuses: nothing that stored
before fails now, and the bytes on the wire stay compact UTF-8."""
import json

from services.json_codec import dumps_bytes, dumps_text, loads


def test_compact_utf8_without_escaping_text():
    assert dumps_bytes({"name": "Zoë 王", "n": 1}) == '{"name":"Zoë 王","n":1}'.encode()
    assert loads(dumps_text({"a": [1, 2.5, None, True]})) == {"a": [1, 2.5, None, True]}


def test_what_orjson_refuses_falls_back_to_the_standard_library():
    lone = {"text": "\ud800"}  # a lone surrogate: orjson refuses it, json escapes it
    assert json.loads(dumps_text(lone)) == lone
    huge = {"n": 2 ** 70}  # beyond 64 bits
    assert json.loads(dumps_text(huge)) == huge
    assert json.loads(dumps_bytes(huge)) == huge


def test_keys_that_are_not_text_become_text_as_before():
    assert json.loads(dumps_text({1: "a"})) == {"1": "a"}
