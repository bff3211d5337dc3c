"""DescribeAcls (29), CreateAcls (30), DeleteAcls (31), v1-3 (v0 removed in Kafka 4.0).

No authorizer is configured (`authorizer.class.name` is empty, Kafka's default), so, as Kafka
does, every ACL call answers SECURITY_DISABLED. The authorizer arrives with the security issue.
"""
from __future__ import annotations

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import (
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest,
    DescribeAclsResponse)

_MESSAGE = "No Authorizer is configured."


@handler(29, 1, 3, listeners=("broker", "controller"))
def handle_describe_acls(broker: BrokerServices, ctx: RequestContext, req: DescribeAclsRequest) -> DescribeAclsResponse:
    return DescribeAclsResponse(throttle_time_ms=0, error_code=Errors.SECURITY_DISABLED, error_message=_MESSAGE,
                                resources=[])


@handler(30, 1, 3, listeners=("broker", "controller"))
def handle_create_acls(broker: BrokerServices, ctx: RequestContext, req: CreateAclsRequest) -> CreateAclsResponse:
    return CreateAclsResponse(throttle_time_ms=0, results=[
        CreateAclsResponse.AclCreationResult(error_code=Errors.SECURITY_DISABLED, error_message=_MESSAGE)
        for _ in req.creations])


@handler(31, 1, 3, listeners=("broker", "controller"))
def handle_delete_acls(broker: BrokerServices, ctx: RequestContext, req: DeleteAclsRequest) -> DeleteAclsResponse:
    return DeleteAclsResponse(throttle_time_ms=0, filter_results=[
        DeleteAclsResponse.DeleteAclsFilterResult(error_code=Errors.SECURITY_DISABLED, error_message=_MESSAGE,
                                                  matching_acls=[])
        for _ in req.filters])
