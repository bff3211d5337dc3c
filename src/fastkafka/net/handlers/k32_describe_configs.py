"""DescribeConfigs (key 32), v1-4 (v0 removed in Kafka 4.0). Topic (2), broker (4; "" is the
cluster default), broker-logger (8) and group (32; any group id, its GroupConfig over the broker's
group.* settings) resources. Values come from the metadata image's
ConfigRecords over the broker's static config over Kafka's defaults, with Kafka's sources,
synonyms (v1+), config types and documentation (v3+); see cluster/config_describer.py."""
from __future__ import annotations

from typing import Any

from fastkafka.cluster.config_describer import ConfigEntry, describe
from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.net.sliced_encoding import EncodedArray, SlicedEncoder
from fastkafka.protocol.errors import KafkaError
from fastkafka.protocol.messages import DescribeConfigsRequest, DescribeConfigsResponse

_Result = DescribeConfigsResponse.DescribeConfigsResult
_Entry = DescribeConfigsResponse.DescribeConfigsResourceResult
_Synonym = DescribeConfigsResponse.DescribeConfigsSynonym


def _entry(e: ConfigEntry, include_synonyms: bool, include_docs: bool) -> Any:
    return _Entry(
        name=e.name, value=None if e.sensitive else e.value, read_only=e.read_only,
        config_source=e.source, is_sensitive=e.sensitive,
        synonyms=[_Synonym(name=s.name, value=None if e.sensitive else s.value, source=s.source)
                  for s in e.synonyms] if include_synonyms else [],
        config_type=e.config_type, documentation=e.documentation if include_docs else None,
    )


@handler(32, 1, 4, listeners=("broker", "controller"))
async def handle_describe_configs(broker: BrokerServices, ctx: RequestContext,
                                  req: DescribeConfigsRequest) -> DescribeConfigsResponse:
    """One request may name every topic (kafka-topics --describe does): the results are built and
    encoded in slices (`SlicedEncoder`), and topics with the same overrides share one resolved and
    encoded config list (10,000 topics x ~40 keys held the loop for seconds in one callback)."""
    v = ctx.api_version
    include_synonyms = req.include_synonyms if v >= 1 else False
    include_docs = req.include_documentation if v >= 3 else False
    topic_memo: dict[tuple[Any, ...], list[ConfigEntry]] = {}
    encoded: dict[int, tuple[list[ConfigEntry], EncodedArray]] = {}  # by id(entries), kept alive
    enc = SlicedEncoder(v)
    for r in req.resources:
        try:
            entries = describe(broker, r.resource_type, r.resource_name, r.configuration_keys, topic_memo)
        except KafkaError as e:
            result = _Result(error_code=e.code, error_message=e.message, resource_type=r.resource_type,
                             resource_name=r.resource_name, configs=[])
        else:
            hit = encoded.get(id(entries))
            if hit is None or hit[0] is not entries:
                configs = SlicedEncoder(v)
                for entry in entries:
                    configs.add(_entry(entry, include_synonyms, include_docs))  # one resource: ~100 keys at most
                hit = encoded[id(entries)] = (entries, configs.result())
            result = _Result(error_code=0, error_message=None, resource_type=r.resource_type,
                             resource_name=r.resource_name, configs=hit[1])
        if enc.add(result):
            await enc.pause()
    return DescribeConfigsResponse(throttle_time_ms=0, results=enc.result())
