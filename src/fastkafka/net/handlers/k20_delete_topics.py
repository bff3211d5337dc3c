"""DeleteTopics (key 20), v1-6 (v0 removed in Kafka 4.0); v6 deletes by name or topic id.
Forwarded to the quorum controller (RemoveTopicRecord); replicas drop their logs when the image
without the topic is published. `delete.topic.enable=false` answers TOPIC_DELETION_DISABLED."""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import DeleteTopicsRequest, DeleteTopicsResponse


@handler(20, 1, 6, listeners=("broker", "controller"))
async def handle_delete_topics(broker: BrokerServices, ctx: RequestContext, req: DeleteTopicsRequest) -> DeleteTopicsResponse:
    if not broker.config.delete_topic_enable:
        if ctx.api_version >= 6:
            results = [DeleteTopicsResponse.DeletableTopicResult(name=t.name, topic_id=t.topic_id,
                                                                 error_code=Errors.TOPIC_DELETION_DISABLED)
                       for t in req.topics]
        else:
            results = [DeleteTopicsResponse.DeletableTopicResult(name=n, error_code=Errors.TOPIC_DELETION_DISABLED)
                       for n in req.topic_names]
        return DeleteTopicsResponse(throttle_time_ms=0, responses=results)
    resp: DeleteTopicsResponse = await broker.controller.delete_topics(req, ctx.api_version)
    return resp
