// Seed 000_580964c785baa5f8.txt lines 2222-2223: resetOffsets (latest by default; the earliest
// variant is a comment in the seed, run by 43), verbatim; client from lines 2103-2108 with the broker
// address substituted. groupId and topic come from SEED_GROUP and SEED_TOPIC.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
const groupId = process.env.SEED_GROUP // harness
const topic = process.env.SEED_TOPIC // harness
;(async () => {
await admin.connect() // harness
await admin.resetOffsets({ groupId, topic }) // latest by default
// await admin.resetOffsets({ groupId, topic, earliest: true })
console.log('reset done') // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
