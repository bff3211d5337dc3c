// Seed 000_580964c785baa5f8.txt lines 2176 and 2184: fetchTopicOffsets(topic) and
// fetchTopicOffsetsByTimestamp(topic, timestamp), verbatim; client from lines 2103-2108 with the broker
// address substituted. The seed leaves topic and timestamp to the reader: the harness takes them from
// the environment (SEED_TOPIC, SEED_TIMESTAMP) and prints both results as JSON.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
const topic = process.env.SEED_TOPIC // harness
const timestamp = Number(process.env.SEED_TIMESTAMP) // harness
;(async () => {
await admin.connect() // harness
const offsets = // harness
await admin.fetchTopicOffsets(topic)
const byTimestamp = // harness
await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)
console.log(JSON.stringify({ offsets, byTimestamp })) // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
