// Seed 000_580964c785baa5f8.txt lines 2189-2191: admin.fetchOffsets for test-group on test-topic, verbatim;
// client from lines 2103-2108 with the broker address substituted. The harness connects the admin and
// waits for the example's promise before disconnecting.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
;(async () => {
await admin.connect() // harness
await // harness
admin.fetchOffsets({ groupId: 'test-group', topics: ['test-topic'] }).then(result => {
console.log('group offsets:', JSON.stringify(result));
});
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
