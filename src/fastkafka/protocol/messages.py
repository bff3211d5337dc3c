"""Every request and response class, re-exported: `from fastkafka.protocol.messages import ProduceRequest`."""
from __future__ import annotations

from fastkafka.protocol._generated.add_offsets_to_txn import AddOffsetsToTxnRequest, AddOffsetsToTxnResponse
from fastkafka.protocol._generated.add_partitions_to_txn import AddPartitionsToTxnRequest, AddPartitionsToTxnResponse
from fastkafka.protocol._generated.add_raft_voter import AddRaftVoterRequest, AddRaftVoterResponse
from fastkafka.protocol._generated.allocate_producer_ids import AllocateProducerIdsRequest, AllocateProducerIdsResponse
from fastkafka.protocol._generated.alter_client_quotas import AlterClientQuotasRequest, AlterClientQuotasResponse
from fastkafka.protocol._generated.alter_configs import AlterConfigsRequest, AlterConfigsResponse
from fastkafka.protocol._generated.alter_partition import AlterPartitionRequest, AlterPartitionResponse
from fastkafka.protocol._generated.alter_partition_reassignments import AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse
from fastkafka.protocol._generated.alter_replica_log_dirs import AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse
from fastkafka.protocol._generated.alter_user_scram_credentials import AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse
from fastkafka.protocol._generated.api_versions import ApiVersionsRequest, ApiVersionsResponse
from fastkafka.protocol._generated.assign_replicas_to_dirs import AssignReplicasToDirsRequest, AssignReplicasToDirsResponse
from fastkafka.protocol._generated.begin_quorum_epoch import BeginQuorumEpochRequest, BeginQuorumEpochResponse
from fastkafka.protocol._generated.broker_heartbeat import BrokerHeartbeatRequest, BrokerHeartbeatResponse
from fastkafka.protocol._generated.broker_registration import BrokerRegistrationRequest, BrokerRegistrationResponse
from fastkafka.protocol._generated.consumer_group_describe import ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse
from fastkafka.protocol._generated.consumer_group_heartbeat import ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse
from fastkafka.protocol._generated.controlled_shutdown import ControlledShutdownRequest, ControlledShutdownResponse
from fastkafka.protocol._generated.controller_registration import ControllerRegistrationRequest, ControllerRegistrationResponse
from fastkafka.protocol._generated.create_acls import CreateAclsRequest, CreateAclsResponse
from fastkafka.protocol._generated.create_delegation_token import CreateDelegationTokenRequest, CreateDelegationTokenResponse
from fastkafka.protocol._generated.create_partitions import CreatePartitionsRequest, CreatePartitionsResponse
from fastkafka.protocol._generated.create_topics import CreateTopicsRequest, CreateTopicsResponse
from fastkafka.protocol._generated.delete_acls import DeleteAclsRequest, DeleteAclsResponse
from fastkafka.protocol._generated.delete_groups import DeleteGroupsRequest, DeleteGroupsResponse
from fastkafka.protocol._generated.delete_records import DeleteRecordsRequest, DeleteRecordsResponse
from fastkafka.protocol._generated.delete_share_group_state import DeleteShareGroupStateRequest, DeleteShareGroupStateResponse
from fastkafka.protocol._generated.delete_topics import DeleteTopicsRequest, DeleteTopicsResponse
from fastkafka.protocol._generated.describe_acls import DescribeAclsRequest, DescribeAclsResponse
from fastkafka.protocol._generated.describe_client_quotas import DescribeClientQuotasRequest, DescribeClientQuotasResponse
from fastkafka.protocol._generated.describe_cluster import DescribeClusterRequest, DescribeClusterResponse
from fastkafka.protocol._generated.describe_configs import DescribeConfigsRequest, DescribeConfigsResponse
from fastkafka.protocol._generated.describe_delegation_token import DescribeDelegationTokenRequest, DescribeDelegationTokenResponse
from fastkafka.protocol._generated.describe_groups import DescribeGroupsRequest, DescribeGroupsResponse
from fastkafka.protocol._generated.describe_log_dirs import DescribeLogDirsRequest, DescribeLogDirsResponse
from fastkafka.protocol._generated.describe_producers import DescribeProducersRequest, DescribeProducersResponse
from fastkafka.protocol._generated.describe_quorum import DescribeQuorumRequest, DescribeQuorumResponse
from fastkafka.protocol._generated.describe_topic_partitions import DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse
from fastkafka.protocol._generated.describe_transactions import DescribeTransactionsRequest, DescribeTransactionsResponse
from fastkafka.protocol._generated.describe_user_scram_credentials import DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse
from fastkafka.protocol._generated.elect_leaders import ElectLeadersRequest, ElectLeadersResponse
from fastkafka.protocol._generated.end_quorum_epoch import EndQuorumEpochRequest, EndQuorumEpochResponse
from fastkafka.protocol._generated.end_txn import EndTxnRequest, EndTxnResponse
from fastkafka.protocol._generated.envelope import EnvelopeRequest, EnvelopeResponse
from fastkafka.protocol._generated.expire_delegation_token import ExpireDelegationTokenRequest, ExpireDelegationTokenResponse
from fastkafka.protocol._generated.fetch import FetchRequest, FetchResponse
from fastkafka.protocol._generated.fetch_snapshot import FetchSnapshotRequest, FetchSnapshotResponse
from fastkafka.protocol._generated.find_coordinator import FindCoordinatorRequest, FindCoordinatorResponse
from fastkafka.protocol._generated.get_telemetry_subscriptions import GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse
from fastkafka.protocol._generated.heartbeat import HeartbeatRequest, HeartbeatResponse
from fastkafka.protocol._generated.incremental_alter_configs import IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse
from fastkafka.protocol._generated.init_producer_id import InitProducerIdRequest, InitProducerIdResponse
from fastkafka.protocol._generated.initialize_share_group_state import InitializeShareGroupStateRequest, InitializeShareGroupStateResponse
from fastkafka.protocol._generated.join_group import JoinGroupRequest, JoinGroupResponse
from fastkafka.protocol._generated.leader_and_isr import LeaderAndIsrRequest, LeaderAndIsrResponse
from fastkafka.protocol._generated.leave_group import LeaveGroupRequest, LeaveGroupResponse
from fastkafka.protocol._generated.list_client_metrics_resources import ListClientMetricsResourcesRequest, ListClientMetricsResourcesResponse
from fastkafka.protocol._generated.list_groups import ListGroupsRequest, ListGroupsResponse
from fastkafka.protocol._generated.list_offsets import ListOffsetsRequest, ListOffsetsResponse
from fastkafka.protocol._generated.list_partition_reassignments import ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse
from fastkafka.protocol._generated.list_transactions import ListTransactionsRequest, ListTransactionsResponse
from fastkafka.protocol._generated.metadata import MetadataRequest, MetadataResponse
from fastkafka.protocol._generated.offset_commit import OffsetCommitRequest, OffsetCommitResponse
from fastkafka.protocol._generated.offset_delete import OffsetDeleteRequest, OffsetDeleteResponse
from fastkafka.protocol._generated.offset_fetch import OffsetFetchRequest, OffsetFetchResponse
from fastkafka.protocol._generated.offset_for_leader_epoch import OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse
from fastkafka.protocol._generated.produce import ProduceRequest, ProduceResponse
from fastkafka.protocol._generated.push_telemetry import PushTelemetryRequest, PushTelemetryResponse
from fastkafka.protocol._generated.read_share_group_state import ReadShareGroupStateRequest, ReadShareGroupStateResponse
from fastkafka.protocol._generated.read_share_group_state_summary import ReadShareGroupStateSummaryRequest, ReadShareGroupStateSummaryResponse
from fastkafka.protocol._generated.remove_raft_voter import RemoveRaftVoterRequest, RemoveRaftVoterResponse
from fastkafka.protocol._generated.renew_delegation_token import RenewDelegationTokenRequest, RenewDelegationTokenResponse
from fastkafka.protocol._generated.sasl_authenticate import SaslAuthenticateRequest, SaslAuthenticateResponse
from fastkafka.protocol._generated.sasl_handshake import SaslHandshakeRequest, SaslHandshakeResponse
from fastkafka.protocol._generated.share_acknowledge import ShareAcknowledgeRequest, ShareAcknowledgeResponse
from fastkafka.protocol._generated.share_fetch import ShareFetchRequest, ShareFetchResponse
from fastkafka.protocol._generated.share_group_describe import ShareGroupDescribeRequest, ShareGroupDescribeResponse
from fastkafka.protocol._generated.share_group_heartbeat import ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponse
from fastkafka.protocol._generated.stop_replica import StopReplicaRequest, StopReplicaResponse
from fastkafka.protocol._generated.sync_group import SyncGroupRequest, SyncGroupResponse
from fastkafka.protocol._generated.txn_offset_commit import TxnOffsetCommitRequest, TxnOffsetCommitResponse
from fastkafka.protocol._generated.unregister_broker import UnregisterBrokerRequest, UnregisterBrokerResponse
from fastkafka.protocol._generated.update_features import UpdateFeaturesRequest, UpdateFeaturesResponse
from fastkafka.protocol._generated.update_metadata import UpdateMetadataRequest, UpdateMetadataResponse
from fastkafka.protocol._generated.update_raft_voter import UpdateRaftVoterRequest, UpdateRaftVoterResponse
from fastkafka.protocol._generated.vote import VoteRequest, VoteResponse
from fastkafka.protocol._generated.write_share_group_state import WriteShareGroupStateRequest, WriteShareGroupStateResponse
from fastkafka.protocol._generated.write_txn_markers import WriteTxnMarkersRequest, WriteTxnMarkersResponse
from fastkafka.protocol._generated.headers import RequestHeader, ResponseHeader

__all__ = [
    'AddOffsetsToTxnRequest',
    'AddOffsetsToTxnResponse',
    'AddPartitionsToTxnRequest',
    'AddPartitionsToTxnResponse',
    'AddRaftVoterRequest',
    'AddRaftVoterResponse',
    'AllocateProducerIdsRequest',
    'AllocateProducerIdsResponse',
    'AlterClientQuotasRequest',
    'AlterClientQuotasResponse',
    'AlterConfigsRequest',
    'AlterConfigsResponse',
    'AlterPartitionReassignmentsRequest',
    'AlterPartitionReassignmentsResponse',
    'AlterPartitionRequest',
    'AlterPartitionResponse',
    'AlterReplicaLogDirsRequest',
    'AlterReplicaLogDirsResponse',
    'AlterUserScramCredentialsRequest',
    'AlterUserScramCredentialsResponse',
    'ApiVersionsRequest',
    'ApiVersionsResponse',
    'AssignReplicasToDirsRequest',
    'AssignReplicasToDirsResponse',
    'BeginQuorumEpochRequest',
    'BeginQuorumEpochResponse',
    'BrokerHeartbeatRequest',
    'BrokerHeartbeatResponse',
    'BrokerRegistrationRequest',
    'BrokerRegistrationResponse',
    'ConsumerGroupDescribeRequest',
    'ConsumerGroupDescribeResponse',
    'ConsumerGroupHeartbeatRequest',
    'ConsumerGroupHeartbeatResponse',
    'ControlledShutdownRequest',
    'ControlledShutdownResponse',
    'ControllerRegistrationRequest',
    'ControllerRegistrationResponse',
    'CreateAclsRequest',
    'CreateAclsResponse',
    'CreateDelegationTokenRequest',
    'CreateDelegationTokenResponse',
    'CreatePartitionsRequest',
    'CreatePartitionsResponse',
    'CreateTopicsRequest',
    'CreateTopicsResponse',
    'DeleteAclsRequest',
    'DeleteAclsResponse',
    'DeleteGroupsRequest',
    'DeleteGroupsResponse',
    'DeleteRecordsRequest',
    'DeleteRecordsResponse',
    'DeleteShareGroupStateRequest',
    'DeleteShareGroupStateResponse',
    'DeleteTopicsRequest',
    'DeleteTopicsResponse',
    'DescribeAclsRequest',
    'DescribeAclsResponse',
    'DescribeClientQuotasRequest',
    'DescribeClientQuotasResponse',
    'DescribeClusterRequest',
    'DescribeClusterResponse',
    'DescribeConfigsRequest',
    'DescribeConfigsResponse',
    'DescribeDelegationTokenRequest',
    'DescribeDelegationTokenResponse',
    'DescribeGroupsRequest',
    'DescribeGroupsResponse',
    'DescribeLogDirsRequest',
    'DescribeLogDirsResponse',
    'DescribeProducersRequest',
    'DescribeProducersResponse',
    'DescribeQuorumRequest',
    'DescribeQuorumResponse',
    'DescribeTopicPartitionsRequest',
    'DescribeTopicPartitionsResponse',
    'DescribeTransactionsRequest',
    'DescribeTransactionsResponse',
    'DescribeUserScramCredentialsRequest',
    'DescribeUserScramCredentialsResponse',
    'ElectLeadersRequest',
    'ElectLeadersResponse',
    'EndQuorumEpochRequest',
    'EndQuorumEpochResponse',
    'EndTxnRequest',
    'EndTxnResponse',
    'EnvelopeRequest',
    'EnvelopeResponse',
    'ExpireDelegationTokenRequest',
    'ExpireDelegationTokenResponse',
    'FetchRequest',
    'FetchResponse',
    'FetchSnapshotRequest',
    'FetchSnapshotResponse',
    'FindCoordinatorRequest',
    'FindCoordinatorResponse',
    'GetTelemetrySubscriptionsRequest',
    'GetTelemetrySubscriptionsResponse',
    'HeartbeatRequest',
    'HeartbeatResponse',
    'IncrementalAlterConfigsRequest',
    'IncrementalAlterConfigsResponse',
    'InitProducerIdRequest',
    'InitProducerIdResponse',
    'InitializeShareGroupStateRequest',
    'InitializeShareGroupStateResponse',
    'JoinGroupRequest',
    'JoinGroupResponse',
    'LeaderAndIsrRequest',
    'LeaderAndIsrResponse',
    'LeaveGroupRequest',
    'LeaveGroupResponse',
    'ListClientMetricsResourcesRequest',
    'ListClientMetricsResourcesResponse',
    'ListGroupsRequest',
    'ListGroupsResponse',
    'ListOffsetsRequest',
    'ListOffsetsResponse',
    'ListPartitionReassignmentsRequest',
    'ListPartitionReassignmentsResponse',
    'ListTransactionsRequest',
    'ListTransactionsResponse',
    'MetadataRequest',
    'MetadataResponse',
    'OffsetCommitRequest',
    'OffsetCommitResponse',
    'OffsetDeleteRequest',
    'OffsetDeleteResponse',
    'OffsetFetchRequest',
    'OffsetFetchResponse',
    'OffsetForLeaderEpochRequest',
    'OffsetForLeaderEpochResponse',
    'ProduceRequest',
    'ProduceResponse',
    'PushTelemetryRequest',
    'PushTelemetryResponse',
    'ReadShareGroupStateRequest',
    'ReadShareGroupStateResponse',
    'ReadShareGroupStateSummaryRequest',
    'ReadShareGroupStateSummaryResponse',
    'RemoveRaftVoterRequest',
    'RemoveRaftVoterResponse',
    'RenewDelegationTokenRequest',
    'RenewDelegationTokenResponse',
    'RequestHeader',
    'ResponseHeader',
    'SaslAuthenticateRequest',
    'SaslAuthenticateResponse',
    'SaslHandshakeRequest',
    'SaslHandshakeResponse',
    'ShareAcknowledgeRequest',
    'ShareAcknowledgeResponse',
    'ShareFetchRequest',
    'ShareFetchResponse',
    'ShareGroupDescribeRequest',
    'ShareGroupDescribeResponse',
    'ShareGroupHeartbeatRequest',
    'ShareGroupHeartbeatResponse',
    'StopReplicaRequest',
    'StopReplicaResponse',
    'SyncGroupRequest',
    'SyncGroupResponse',
    'TxnOffsetCommitRequest',
    'TxnOffsetCommitResponse',
    'UnregisterBrokerRequest',
    'UnregisterBrokerResponse',
    'UpdateFeaturesRequest',
    'UpdateFeaturesResponse',
    'UpdateMetadataRequest',
    'UpdateMetadataResponse',
    'UpdateRaftVoterRequest',
    'UpdateRaftVoterResponse',
    'VoteRequest',
    'VoteResponse',
    'WriteShareGroupStateRequest',
    'WriteShareGroupStateResponse',
    'WriteTxnMarkersRequest',
    'WriteTxnMarkersResponse',
]
