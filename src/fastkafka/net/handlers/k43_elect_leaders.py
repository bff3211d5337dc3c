"""ElectLeaders (key 43), v0-2. As in KRaft Kafka the broker hands the request to the quorum
controller (ReplicationControlManager.electLeaders), which answers per partition:
ELECTION_NOT_NEEDED when the preferred replica already leads (PREFERRED, type 0) or the partition
has a leader (UNCLEAN, type 1); UNKNOWN_TOPIC_OR_PARTITION for a missing topic or partition;
otherwise a PartitionChangeRecord moving the leadership, or PREFERRED_LEADER_NOT_AVAILABLE /
ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica qualifies.

Invariants (Kafka's): `topic_partitions` null means every partition of every topic, and then the
partitions that need no election are left out of the results (each topic is still listed); an
empty list is answered at once with no results; v0 has no election type (PREFERRED) and no
top-level error code. An unknown election type fails the whole request with INVALID_REQUEST,
every requested partition carrying it too (ElectLeadersRequest.getErrorResponse). On a single
node the one replica always leads, so every existing partition answers ELECTION_NOT_NEEDED.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import KafkaError
from fastkafka.protocol.messages import ElectLeadersRequest, ElectLeadersResponse


@handler(43, 0, 2, listeners=("broker", "controller"))
async def handle_elect_leaders(broker: BrokerServices, ctx: RequestContext, req: ElectLeadersRequest) -> ElectLeadersResponse:
    try:
        resp: ElectLeadersResponse = await broker.controller.elect_leaders(req, ctx.api_version)
    except KafkaError as e:
        return _error_response(req, e)
    return resp


def _error_response(req: ElectLeadersRequest, e: KafkaError) -> ElectLeadersResponse:
    Result, PartResult = ElectLeadersResponse.ReplicaElectionResult, ElectLeadersResponse.PartitionResult
    results = [Result(topic=t.topic, partition_result=[
        PartResult(partition_id=p, error_code=e.code, error_message=e.message) for p in t.partitions])
        for t in (req.topic_partitions or ())]
    return ElectLeadersResponse(throttle_time_ms=0, error_code=e.code, replica_election_results=results)
