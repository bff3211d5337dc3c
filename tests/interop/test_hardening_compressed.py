"""Issue 13 hardening: compressed batches are validated as Kafka's LogValidator does.

Rows of the issue's table: "a gzip-flagged batch of random bytes to a normal topic" (was
acknowledged, then every consumer failed at that offset forever) and "zstd/gzip/lz4 batches that
decompress to 1-4 GB, sent to a compacted topic" (was decompressed whole on the event loop).

What Apache Kafka 4.4 answers (measured with FASTKAFKA_TEST_TARGET=apache; fastkafka matches):
- a stream the codec cannot read (random bytes flagged gzip/snappy/lz4/zstd): UNKNOWN_SERVER_ERROR
  (-1), no error message (KafkaException "Failed to decompress record stream" is unexpected);
- fewer records than RecordsCount, records left over: INVALID_RECORD (87) without a message;
- offset deltas not 0..n-1: UNKNOWN_SERVER_ERROR (Kafka fails formatting that record error);
- a keyless record on a compacted topic: INVALID_RECORD with the message and RecordErrors;
- a batch decompressing to 1 GB (or 4 GB) of keyed records on a compacted topic: accepted (Kafka
  decompresses it as a stream to check keys); fastkafka does the same off the event loop with
  bounded memory, and the probe shows every other client still served.

Hostile bytes go on a raw socket (hostile_batches.py); the checks before/after use confluent-kafka.
The 4 GB cases run with FASTKAFKA_LONG_TESTS=1 only.
"""
from __future__ import annotations

import os
import random
import time

import pytest

from broker_process import BrokerProcess
from clients import confluent
from hostile_batches import CODECS, batch, compress, compressed_records_stream, raw_produce, record
from interop_data import Rec
from responsiveness import responsiveness_probe

pytestmark = pytest.mark.interop

UNKNOWN_SERVER_ERROR = -1
INVALID_RECORD = 87
LONG = os.environ.get("FASTKAFKA_LONG_TESTS") == "1"
# The 4 GB cases take minutes each: `make test-long-compressed` only; the 1 GB ones run in `make test`.
_LONG_ONLY = pytest.mark.skipif(not LONG, reason="4 GB decompressed per case, minutes each: long run only "
                                "(FASTKAFKA_LONG_TESTS=1, make test-long-compressed); the 1 GB cases cover make test")


def _recs(prefix: str, n: int) -> list[Rec]:
    now = int(time.time() * 1000)
    return [Rec(0, b"k%d" % i, f"{prefix}-{i}".encode(), (), now) for i in range(n)]


def _values(bootstrap: str, topic: str) -> list[bytes | None]:
    return [v for _p, _o, _k, v in confluent.read_to_end(bootstrap, topic, 1)]


def _refused_between_good_records(broker: BrokerProcess, topic: str, hostile: bytes,
                                  config: dict[str, str] | None = None) -> tuple[int, str | None, list]:
    """Good records, the hostile batch, good records: the hostile one's answer; a consumer then
    reads exactly the good ones."""
    confluent.create_topic(broker.bootstrap, topic, 1, config)
    confluent.produce(broker.bootstrap, topic, _recs("before", 5))
    answer = raw_produce(broker.bootstrap, topic, 0, hostile)
    confluent.produce(broker.bootstrap, topic, _recs("after", 5), compression="zstd")
    assert _values(broker.bootstrap, topic) == [r.value for r in _recs("before", 5) + _recs("after", 5)]
    return answer


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_random_bytes_flagged_compressed_are_refused(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    garbage = random.Random(13).randbytes(4096)
    code, msg, errors = _refused_between_good_records(broker, topic_name, batch(CODECS[codec], garbage, 10))
    # Apache: KafkaException("Failed to decompress record stream") -> UNKNOWN_SERVER_ERROR, no message.
    assert (code, msg, errors) == (UNKNOWN_SERVER_ERROR, None, [])


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
@pytest.mark.parametrize("declared,case", [(5, "fewer records than declared"), (2, "records left over")])
def test_record_count_mismatch_is_invalid_record(broker: BrokerProcess, topic_name: str, codec: str,
                                                 declared: int, case: str) -> None:
    records = b"".join(record(i, value=b"x" * 20) for i in range(3))
    code, msg, _ = _refused_between_good_records(broker, topic_name,
                                                 batch(CODECS[codec], compress(CODECS[codec], records), declared))
    # Apache: InvalidRecordException from the batch's record iterator, answered without a message.
    assert (code, msg) == (INVALID_RECORD, None), case


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_inner_offsets_must_be_consecutive(broker: BrokerProcess, topic_name: str, codec: str) -> None:
    records = b"".join(record(i, offset_delta=i * 2) for i in range(3))
    code, msg, _ = _refused_between_good_records(broker, topic_name,
                                                 batch(CODECS[codec], compress(CODECS[codec], records), 3))
    # Apache 4.4 collects the mismatch as a record error and then fails formatting it
    # ("key is skipped in PartialDefaultRecord"): UNKNOWN_SERVER_ERROR, no message.
    assert (code, msg) == (UNKNOWN_SERVER_ERROR, None)


def test_lz4_frame_with_linked_blocks_is_refused(broker: BrokerProcess, topic_name: str) -> None:
    """Kafka reads LZ4 frames of independent blocks only: "Dependent block stream is unsupported"."""
    records = b"".join(record(i, value=b"y" * 100) for i in range(3))
    hostile = batch(3, compressed_records_stream(3, iter([records]), lz4_linked=True), 3)
    assert _refused_between_good_records(broker, topic_name, hostile) == (UNKNOWN_SERVER_ERROR, None, [])


def test_keyless_record_in_compressed_batch_on_compacted_topic(broker: BrokerProcess, topic_name: str) -> None:
    records = b"".join(record(i, key=None if i == 1 else b"k") for i in range(3))
    code, msg, errors = _refused_between_good_records(broker, topic_name, batch(4, compress(4, records), 3),
                                                      {"cleanup.policy": "compact"})
    assert code == INVALID_RECORD and msg
    assert [i for i, _m in errors] == [1]


_MIB = 1 << 20


def _big_records(total_bytes: int) -> tuple[int, list[bytes]]:
    """Records of 1 MiB zero values with keys, about total_bytes in all (count, stream parts)."""
    value = bytes(_MIB)
    n = total_bytes // _MIB
    return n, (record(i, key=b"key-%d" % i, value=value) for i in range(n))  # type: ignore[return-value]


_BIG_CACHE: dict[tuple[int, int], tuple[int, bytes]] = {}


def _big_batch(codec: int, total_bytes: int) -> bytes:
    if (codec, total_bytes) not in _BIG_CACHE:
        n, parts = _big_records(total_bytes)
        _BIG_CACHE[(codec, total_bytes)] = (n, compressed_records_stream(codec, parts))
    n, data = _BIG_CACHE[(codec, total_bytes)]
    return batch(codec, data, n)


@pytest.mark.parametrize("codec,gib", [
    ("zstd", 1), ("lz4", 1), ("gzip", 1),
    pytest.param("zstd", 4, marks=_LONG_ONLY),
    # LZ4's ratio is at most ~255:1, so 4 GB of records is a 17 MB request: its CRC, stamping and
    # segment write run off the loop too (payloads of 1 MiB or more; test_hardening_bigframe.py).
    pytest.param("lz4", 4, marks=_LONG_ONLY),
    pytest.param("gzip", 4, marks=_LONG_ONLY),
])
def test_batch_decompressing_to_gigabytes_on_a_compacted_topic(broker: BrokerProcess, topic_name: str,
                                                                codec: str, gib: int) -> None:
    hostile = _big_batch(CODECS[codec], gib << 30)
    confluent.create_topic(broker.bootstrap, topic_name, 1,
                           {"cleanup.policy": "compact", "max.message.bytes": str(len(hostile) + _MIB)})
    with responsiveness_probe(broker) as probe:
        code, msg, errors = raw_produce(broker.bootstrap, topic_name, 0, hostile)
    # Apache accepts it (every record has a key; Kafka checks them through a decompressing stream).
    assert (code, msg, errors) == (0, None, []), (code, msg)
    probe.assert_responsive()
    other = topic_name + "-after"
    confluent.create_topic(broker.bootstrap, other, 1)
    confluent.produce(broker.bootstrap, other, _recs("after", 5), compression="lz4")
    assert _values(broker.bootstrap, other) == [r.value for r in _recs("after", 5)]


def test_gigabyte_batch_with_a_keyless_record_is_refused(broker: BrokerProcess, topic_name: str) -> None:
    """The last of 1024 records of 1 MiB has no key: the whole batch is refused, that record named."""
    value = bytes(_MIB)
    n = 1024
    parts = (record(i, key=None if i == n - 1 else b"key-%d" % i, value=value) for i in range(n))
    hostile = batch(4, compressed_records_stream(4, parts), n)
    confluent.create_topic(broker.bootstrap, topic_name, 1,
                           {"cleanup.policy": "compact", "max.message.bytes": str(len(hostile) + _MIB)})
    with responsiveness_probe(broker) as probe:
        code, msg, errors = raw_produce(broker.bootstrap, topic_name, 0, hostile)
    assert code == INVALID_RECORD and msg
    assert [i for i, _m in errors] == [n - 1]
    probe.assert_responsive()
