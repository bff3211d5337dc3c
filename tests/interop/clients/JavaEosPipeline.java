// An exactly-once pipeline with Apache Kafka's Java clients (kafka-clients 4.1), as a process so a test can
// kill -9 it: a read_committed consumer of INPUT (group GROUP, no auto-commit) -> transform -> a transactional
// producer (transactional.id TXN_ID) writing OUTPUT and committing the consumed offsets in the same transaction
// with sendOffsetsToTransaction. Run by the source launcher (no build step):
//     java -cp '.deps/kafka-4.4.0/libs/*' JavaEosPipeline.java BOOTSTRAP INPUT OUTPUT GROUP TXN_ID [GROUP_PROTOCOL]
// GROUP_PROTOCOL is the consumer's group.protocol: classic (the default) or consumer (KIP-848, where the
// transactional offset commit carries the member epoch as its generation).
// Each input record (key k, value v) becomes (k, "out-" + v). After each committed transaction it prints
// "committed <records in it>". Crash-only: any error other than a retriable one aborts (when it can) and exits
// with status 3, and the test starts a new instance, whose initTransactions() fences the old one and aborts
// whatever it left open; the group's committed offsets say where to resume.

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class JavaEosPipeline {
    public static void main(String[] args) {
        String bootstrap = args[0], input = args[1], output = args[2], group = args[3], txnId = args[4];
        String groupProtocol = args.length > 5 ? args[5] : "classic";
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        cp.put("group.id", group);
        cp.put("group.protocol", groupProtocol);
        cp.put("isolation.level", "read_committed");
        cp.put("enable.auto.commit", "false");
        cp.put("auto.offset.reset", "earliest");
        cp.put("max.poll.records", "500");
        if (groupProtocol.equals("classic")) {
            // KIP-848 groups take these from the broker (group.consumer.session.timeout.ms and friends).
            cp.put("session.timeout.ms", "6000");
            cp.put("heartbeat.interval.ms", "500");
        }
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", StringDeserializer.class.getName());
        Properties pp = new Properties();
        pp.put("bootstrap.servers", bootstrap);
        pp.put("transactional.id", txnId);
        pp.put("transaction.timeout.ms", "10000");
        pp.put("linger.ms", "5");
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp);
        KafkaProducer<String, String> producer = new KafkaProducer<>(pp);
        int status = 0;
        try {
            producer.initTransactions();
            consumer.subscribe(List.of(input));
            while (true) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) continue;
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    producer.send(new ProducerRecord<>(output, r.key(), "out-" + r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                System.out.println("committed " + records.count());
                System.out.flush();
            }
        } catch (Exception e) {
            System.err.println("pipeline stops: " + e);
            try {
                producer.abortTransaction();
            } catch (Exception ignored) {
                // fenced or broken: the next instance's initTransactions aborts what is left open
            }
            status = 3;
        } finally {
            try {
                producer.close(Duration.ofSeconds(5));
                consumer.close(Duration.ofSeconds(5));
            } catch (Exception ignored) {
                // the process is ending anyway
            }
        }
        System.exit(status);
    }
}
