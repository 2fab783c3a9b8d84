"""The fault suite's fuzzer is an oracle only if its bad inputs are bad and its good ones good."""
import random

import pytest

from services.adapters.kafka.records import RawRecord
from services.app.decoding import Rejected, decode
from services.config import TOPICS
from tests.faults.fuzz import MAKERS, adversarial, good_record


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_every_kind_of_bad_input_is_rejected_by_construction(kind):
    rng = random.Random(kind)
    for index in range(3):
        topic, key, value = MAKERS[kind](rng, f"c-{index}")
        decoded = decode(RawRecord(TOPICS.physical(topic), 0, index, key, value))
        assert isinstance(decoded, Rejected), f"{kind} was accepted"
        assert decoded.error


def test_good_records_are_valid_and_a_draw_is_repeatable():
    topic, key, value = good_record("c-1")
    assert not isinstance(decode(RawRecord(TOPICS.physical(topic), 0, 1, key, value)), Rejected)
    first = [kind for kind, _ in adversarial(random.Random(8), 200)]
    assert first == [kind for kind, _ in adversarial(random.Random(8), 200)]
    assert len(set(first)) >= 20
