"""The durable log in Kafka's on-disk format: segments, indexes, checkpoints, producer state.

Not implemented yet (deliberate gaps): producer-state `.snapshot` files (state is rebuilt from
batch headers on open), the transaction index (`.txnindex`, aborted transactions for
READ_COMMITTED), `preallocate`, recompression to a topic's `compression.type`, the log cleaner
(compaction), asynchronous segment deletion after `file.delete.delay.ms`, offset-overflow
segment splitting on load, io_uring/sendfile I/O.
"""
from fastkafka.storage.checkpoint_file import CheckpointFile, OffsetCheckpointFile
from fastkafka.storage.fetch_data_info import FetchDataInfo
from fastkafka.storage.file_records import FileRecords, FileRecordsSlice
from fastkafka.storage.leader_epoch_file_cache import EpochEntry, LeaderEpochFileCache
from fastkafka.storage.log_append_info import LogAppendInfo
from fastkafka.storage.log_config import TOPIC_CONFIG_DEFS, LogConfig, TopicConfigDef
from fastkafka.storage.log_manager import LogManager
from fastkafka.storage.log_offset_metadata import LogOffsetMetadata
from fastkafka.storage.log_segment import LogSegment
from fastkafka.storage.meta_properties import MetaProperties, read_meta_properties, write_meta_properties
from fastkafka.storage.partition_metadata_file import PartitionMetadataFile
from fastkafka.storage.producer_state_manager import AppendOrigin, ProducerStateEntry, ProducerStateManager
from fastkafka.storage.topic_partition import TopicPartition
from fastkafka.storage.unified_log import UnifiedLog

__all__ = [
    "TOPIC_CONFIG_DEFS", "AppendOrigin", "CheckpointFile", "EpochEntry", "FetchDataInfo", "FileRecords",
    "FileRecordsSlice", "LeaderEpochFileCache", "LogAppendInfo", "LogConfig", "LogManager",
    "LogOffsetMetadata", "LogSegment", "MetaProperties", "OffsetCheckpointFile", "PartitionMetadataFile",
    "ProducerStateEntry", "ProducerStateManager", "TopicConfigDef", "TopicPartition", "UnifiedLog",
    "read_meta_properties", "write_meta_properties",
]
