// Seed 000_580964c785baa5f8.txt lines 2195-2196 and 2205-2206: resetOffsets, then fetchOffsets with
// resolveOffsets false (the reset's -1 as stored) and again with resolveOffsets true (resolved to the
// log end and committed), verbatim; client from lines 2103-2108 with the broker address substituted.
// The seed leaves groupId and topic to the reader: the harness takes them from SEED_GROUP and
// SEED_TOPIC and prints each fetchOffsets result as JSON.
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
await admin.resetOffsets({ groupId, topic })
const unresolved = // harness
await admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: false })
console.log('unresolved:', JSON.stringify(unresolved)) // harness
await admin.resetOffsets({ groupId, topic })
const resolved = // harness
await admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: true })
console.log('resolved:', JSON.stringify(resolved)) // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
