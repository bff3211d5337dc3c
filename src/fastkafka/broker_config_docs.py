"""Documentation text DescribeConfigs v3+ returns for broker keys (Kafka returns its ConfigDef
documentation for every key). Written for fastkafka; where a key only exists for compatibility
(no thread pool, no remote storage) the text says so.

Invariant: every key here is a key of BROKER_CONFIG_DEFS (a unit test checks it); a broker key
that is a topic key's broker-level synonym gets the topic key's text instead (see `broker_doc`).
"""
from __future__ import annotations

_NOT_USED = " Accepted for compatibility; fastkafka has no such component, so it changes nothing."

BROKER_CONFIG_DOCS: dict[str, str] = {
    "node.id": "The id of this node in the cluster (broker and/or controller).",
    "broker.id": "The broker id; kept equal to node.id in KRaft mode.",
    "process.roles": "The roles this node plays: broker, controller, or both (KRaft combined mode).",
    "listeners": "The addresses the node listens on, as a comma-separated list of NAME://host:port.",
    "advertised.listeners": "The listener addresses given to clients in Metadata; defaults to listeners.",
    "listener.security.protocol.map": "Maps each listener name to its security protocol.",
    "inter.broker.listener.name": "The listener other brokers use to reach this broker.",
    "controller.listener.names": "The listener names used by the KRaft controller.",
    "controller.quorum.voters": "The static KRaft voter set, as id@host:port entries.",
    "controller.quorum.bootstrap.servers": "Controller endpoints used to discover the KRaft quorum.",
    "broker.rack": "The rack of this broker, used for rack-aware replica placement.",
    "log.dirs": "The directories partition logs are stored in (comma-separated).",
    "log.dir": "The log directory used when log.dirs is not set.",
    "metadata.log.dir": "The directory of the __cluster_metadata log; defaults to the first log dir.",
    "num.partitions": "The default number of partitions of a topic created without one.",
    "default.replication.factor": "The default replication factor of a topic created without one.",
    "auto.create.topics.enable": "Create a topic when a client asks Metadata for one that does not exist.",
    "delete.topic.enable": "Whether DeleteTopics is allowed.",
    "socket.request.max.bytes": "The largest request the broker accepts, in bytes.",
    "queued.max.request.bytes": "The number of queued bytes allowed for request bodies before no more requests are read; -1 (or 0) means one socket.request.max.bytes.",
    "socket.send.buffer.bytes": "The SO_SNDBUF of client sockets; -1 keeps the OS default.",
    "socket.receive.buffer.bytes": "The SO_RCVBUF of client sockets; -1 keeps the OS default.",
    "queued.max.requests": "How many requests may wait on a connection before the broker stops reading it.",
    "max.request.partition.size.limit": "The most partitions one DescribeTopicPartitions response may carry.",
    "num.network.threads": "Threads receiving requests and sending responses." + _NOT_USED,
    "num.io.threads": "Threads processing requests." + _NOT_USED,
    "num.recovery.threads.per.data.dir": "Threads per log dir recovering logs at start-up and flushing them at shut-down.",
    "num.replica.fetchers": "Fetcher threads replicating from leaders." + _NOT_USED,
    "background.threads": "Threads for background tasks." + _NOT_USED,
    "max.connections": "The most connections the broker accepts." + _NOT_USED,
    "max.connections.per.ip": "The most connections accepted from one address." + _NOT_USED,
    "max.connections.per.ip.overrides": "Per-address overrides of max.connections.per.ip." + _NOT_USED,
    "max.connection.creation.rate": "The most new connections accepted per second." + _NOT_USED,
    "transaction.partition.verification.enable": "Verify that a partition was added to a transaction before a transactional write.",
    "remote.log.index.file.cache.total.size.bytes": "Size of the tiered-storage index cache." + _NOT_USED,
    "remote.fetch.max.wait.ms": "How long a fetch waits for tiered-storage data." + _NOT_USED,
    "remote.log.manager.copy.max.bytes.per.second": "Bandwidth limit for copying to tiered storage." + _NOT_USED,
    "remote.log.manager.fetch.max.bytes.per.second": "Bandwidth limit for reading tiered storage." + _NOT_USED,
    "remote.list.offsets.request.timeout.ms": "Timeout of ListOffsets answered from tiered storage." + _NOT_USED,
    "log.retention.check.interval.ms": "How often the broker looks for log segments to delete by retention.",
    "log.flush.offset.checkpoint.interval.ms": "How often the recovery-point checkpoint of each log dir is written.",
    "log.flush.start.offset.checkpoint.interval.ms": "How often the log-start-offset checkpoint of each log dir is written.",
    "log.dir.failure.timeout.ms": "How long a broker waits after a log dir failure before shutting down.",
    "log.cleaner.enable": "Run the log cleaner, which compacts topics with cleanup.policy=compact.",
    "log.cleaner.threads": "Threads compacting logs.",
    "log.cleaner.io.max.bytes.per.second": "The combined read and write rate the log cleaner stays under.",
    "log.cleaner.dedupe.buffer.size": "Memory for the cleaner's key-to-offset map, across all cleaner threads.",
    "log.cleaner.io.buffer.size": "Memory for the cleaner's read and write buffers, across all cleaner threads.",
    "log.cleaner.io.buffer.load.factor": "How full the cleaner's key map may get before a cleaning pass stops.",
    "log.cleaner.backoff.ms": "How long the cleaner sleeps when no log needs cleaning.",
    "log.initial.task.delay.ms": "Delay before the first run of the retention, flush and checkpoint tasks (internal).",
    "replica.high.watermark.checkpoint.interval.ms": "How often each log dir's high-watermark checkpoint is written.",
    "offsets.topic.num.partitions": "Partitions of __consumer_offsets (fixed once the topic exists).",
    "offsets.topic.replication.factor": "Replication factor of __consumer_offsets.",
    "offsets.retention.minutes": "How long committed offsets of an empty group are kept.",
    "offsets.retention.check.interval.ms": "How often the group coordinator looks for expired committed offsets.",
    "offsets.topic.segment.bytes": "Segment size of __consumer_offsets (small segments compact and load faster).",
    "offsets.topic.compression.codec": "Compression codec id for the group coordinator's writes to __consumer_offsets"
                                       " (0 none); fastkafka writes them uncompressed.",
    "offsets.load.buffer.size": "Bytes read at a time when the group coordinator loads __consumer_offsets.",
    "offsets.commit.timeout.ms": "How long a write of the group coordinator waits for the offsets topic's replicas"
                                 " (one node here: writes complete at once).",
    "offset.metadata.max.bytes": "The largest metadata string an offset commit may carry.",
    "transaction.state.log.num.partitions": "Partitions of __transaction_state.",
    "transaction.state.log.replication.factor": "Replication factor of __transaction_state.",
    "transaction.state.log.min.isr": "min.insync.replicas of __transaction_state.",
    "transaction.max.timeout.ms": "The largest transaction timeout a producer may ask for.",
    "transactional.id.expiration.ms": "The time in ms that the transaction coordinator will wait without receiving"
                                      " any transaction status updates for the current transaction before expiring"
                                      " its transactional id.",
    "transaction.state.log.segment.bytes": "Segment size of __transaction_state (small segments compact and load"
                                           " faster).",
    "transaction.state.log.load.buffer.size": "Bytes read at a time when the transaction coordinator loads"
                                              " __transaction_state (a soft limit: a larger batch is read whole).",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": "The interval at which to rollback transactions"
                                                                   " that have timed out.",
    "transaction.remove.expired.transaction.cleanup.interval.ms": "The interval at which to remove transactions that"
                                                                  " have expired due to transactional.id.expiration.ms"
                                                                  " passing.",
    "producer.id.expiration.ms": "How long the producer state of an idle producer id is kept.",
    "producer.id.expiration.check.interval.ms": "How often producer ids that expired are removed from the partitions' producer state.",
    "group.initial.rebalance.delay.ms": "How long the first rebalance of a new group waits for more members.",
    "group.min.session.timeout.ms": "The smallest session timeout a classic group member may ask for.",
    "group.max.session.timeout.ms": "The largest session timeout a classic group member may ask for.",
    "group.max.size": "The most members a consumer group may have.",
    "group.coordinator.rebalance.protocols": "The group protocols the coordinator serves: classic, consumer (KIP-848).",
    "group.consumer.session.timeout.ms": "Consumer-protocol members are removed after this long without a heartbeat.",
    "group.consumer.min.session.timeout.ms": "The smallest session timeout a consumer-protocol group may use.",
    "group.consumer.max.session.timeout.ms": "The largest session timeout a consumer-protocol group may use.",
    "group.consumer.heartbeat.interval.ms": "How often consumer-protocol members heartbeat.",
    "group.consumer.min.heartbeat.interval.ms": "The smallest heartbeat interval a consumer-protocol group may use.",
    "group.consumer.max.heartbeat.interval.ms": "The largest heartbeat interval a consumer-protocol group may use.",
    "group.consumer.max.size": "The most members a consumer-protocol group may have.",
    "group.consumer.assignors": "Server-side assignors (uniform, range); the first is the default.",
    "group.consumer.migration.policy": "Online conversion of a group with members between the classic and the"
                                       " consumer protocol: disabled, upgrade, downgrade or bidirectional (empty"
                                       " groups always convert); disabled also keeps classic-protocol members"
                                       " out of consumer groups.",
    "group.consumer.regex.refresh.interval.ms": "How often the topics a consumer group's subscribed regexes match"
                                                " are resolved again (new topics trigger it sooner).",
    "replica.lag.time.max.ms": "How long a follower may lag before it leaves the ISR.",
    "replica.fetch.max.bytes": "Bytes fetched per partition by replica fetchers.",
    "fetch.max.bytes": "The most bytes a Fetch response carries.",
    "connections.max.idle.ms": "Idle connections are closed after this long.",
    "metadata.max.idle.interval.ms": "How often the controller writes a NoOpRecord to the metadata log when idle.",
    "metadata.log.segment.bytes": "Segment size of the __cluster_metadata log.",
    "cluster.id": "The cluster id (set by `fastkafka format`; read from meta.properties).",
}


def broker_doc(name: str) -> str | None:
    """The documentation of a broker key: its own, else that of the topic key it is the broker
    default for."""
    doc = BROKER_CONFIG_DOCS.get(name)
    if doc is not None:
        return doc
    from fastkafka.storage.log_config import TOPIC_CONFIG_DEFS

    for d in TOPIC_CONFIG_DEFS.values():
        for syn, mult in d.synonyms:
            if syn == name:
                unit = {3_600_000: " (in hours)", 60_000: " (in minutes)"}.get(mult, "")
                return f"The broker default{unit} for the topic config {d.name}: {d.doc}"
    return None
