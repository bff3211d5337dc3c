// Seed 000_580964c785baa5f8.txt line 2241: setOffsets from fetchTopicOffsetsByTimestamp, verbatim;
// client from lines 2103-2108 with the broker address substituted. groupId, topic and timestamp come
// from SEED_GROUP, SEED_TOPIC and SEED_TIMESTAMP.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
const groupId = process.env.SEED_GROUP // harness
const topic = process.env.SEED_TOPIC // harness
const timestamp = Number(process.env.SEED_TIMESTAMP) // harness
;(async () => {
await admin.connect() // harness
await admin.setOffsets({ groupId, topic, partitions: await admin.fetchTopicOffsetsByTimestamp(topic, timestamp) })
console.log('set done') // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
