"""A Kafka record as the worker consumed it, and how a re-keyed one remembers where it came from."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional


@dataclass(frozen=True)
class RawRecord:
    """A record as consumed. A re-keyed record keeps the topic, partition and offset it was
    first consumed from, so decoding and dead letters speak of the original."""
    topic: str
    partition: Optional[int]
    offset: Optional[int]
    key: Optional[bytes]
    value: Optional[bytes]
    rekeyed: bool = False  # already routed by candidate_id through radar-rekeyed
    failure: Optional[str] = None  # set when the worker already knows why it must be dead-lettered

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    def failing(self, reason: str) -> "RawRecord":
        return replace(self, failure=reason)


REKEY_HEADER = "radar-origin"  # "topic/partition/offset" of a re-keyed record
ORIGIN_KEY_HEADER = "radar-origin-key"  # its key as received, when it had one


def from_rekeyed(key: Optional[bytes], value: Optional[bytes], origin: str) -> RawRecord:
    topic, partition, offset = origin.rsplit("/", 2)
    return RawRecord(topic, int(partition), int(offset), key, value, rekeyed=True)


