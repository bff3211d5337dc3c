// A Kafka Streams 4.1 application with processing.guarantee=exactly_once_v2, as a process a test can kill -9.
// Run by the source launcher (no build step):
//     java -cp '.deps/kafka-4.4.0/libs/*' JavaStreamsEos.java BOOTSTRAP APP_ID INPUT OUTPUT STATE_DIR
// Topology: INPUT (key k, value v) -> selectKey (same key: it forces a repartition topic, so the
// exactly-once path also crosses Streams' own transactional repartition write and its DeleteRecords)
// -> groupByKey -> count (a state store with a compacted changelog topic) -> OUTPUT (k, count as text).
// Record caches are off, so every input record emits one update: under exactly-once a read_committed
// reader of OUTPUT sees, per key, exactly 1, 2, ..., n. Prints "state <NEW>" on every state change.
// Crash-only: an uncaught exception shuts the client down and exits with status 3; the test starts a
// new instance on the same state directory (same process id, so the same transactional ids: the new
// producers fence the old ones at once).

import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Materialized;

public class JavaStreamsEos {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], appId = args[1], input = args[2], output = args[3], stateDir = args[4];
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        // A killed instance's members leave the group after 6 s instead of Kafka's 45 s default.
        p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 6000);
        p.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 500);

        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream(input)
                .selectKey((k, v) -> k)
                .groupByKey()
                .count(Materialized.as("counts"))
                .toStream()
                .mapValues(count -> Long.toString(count))
                .to(output);

        KafkaStreams streams = new KafkaStreams(builder.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        streams.setStateListener((newState, oldState) -> {
            System.out.println("state " + newState);
            System.out.flush();
            if (newState == KafkaStreams.State.ERROR || newState == KafkaStreams.State.NOT_RUNNING) done.countDown();
        });
        streams.setUncaughtExceptionHandler(e -> {
            System.out.println("uncaught " + e);
            System.out.flush();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        done.await();
        streams.close();
        System.exit(3);
    }
}
