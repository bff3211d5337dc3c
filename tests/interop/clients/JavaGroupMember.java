// One consumer-group member of Apache Kafka's Java consumer (kafka-clients 4.1), as a process so a test
// can kill -9 it. Run by the source launcher (no build step):
//     java -cp '.deps/kafka-4.4.0/libs/*' JavaGroupMember.java BOOTSTRAP TOPIC GROUP [key=value ...]
// The key=value arguments are consumer properties (e.g. group.protocol=consumer, session.timeout.ms=6000).
// It prints JSON lines, the same events as the Python members of test_group_rebalance.py:
//   {"ev": "assign"|"revoke", "parts": [...], "gen": G, "t": seconds}   from its ConsumerRebalanceListener
//     (gen is groupMetadata().generationId(): the generation with the classic protocol, the member epoch with
//     the consumer protocol; lost partitions are printed as revoked)
//   {"ev": "rec", "v": value}                                           per record
//   {"ev": "closed", "t": seconds}                                      after close() (SIGTERM: leaves the group)
// Auto-commit is on; close() commits the consumed offsets before leaving.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

public class JavaGroupMember {
    private static synchronized void emit(String json) {
        System.out.println(json);
        System.out.flush();
    }

    private static String now() {
        return String.format("%.3f", System.currentTimeMillis() / 1000.0);
    }

    private static String partitions(Collection<TopicPartition> parts) {
        List<Integer> ps = new ArrayList<>();
        for (TopicPartition tp : parts) ps.add(tp.partition());
        ps.sort(null);
        return ps.toString();
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], group = args[2];
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "true");
        props.put("auto.commit.interval.ms", "300");
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", StringDeserializer.class.getName());
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props);
        CountDownLatch closed = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            consumer.wakeup();
            try {
                closed.await();
                main.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            private void event(String kind, Collection<TopicPartition> parts) {
                emit("{\"ev\": \"" + kind + "\", \"parts\": " + partitions(parts) + ", \"gen\": "
                        + consumer.groupMetadata().generationId() + ", \"t\": " + now() + "}");
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                event("revoke", parts);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                event("assign", parts);
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> parts) {
                event("revoke", parts);
            }
        });
        try {
            while (true) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    emit("{\"ev\": \"rec\", \"v\": \"" + r.value() + "\"}");
                }
            }
        } catch (WakeupException e) {
            // SIGTERM: fall through to close(), which commits and leaves the group.
        } finally {
            consumer.close();
            emit("{\"ev\": \"closed\", \"t\": " + now() + "}");
            closed.countDown();
        }
    }
}
