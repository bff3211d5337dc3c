// Seed 000_580964c785baa5f8.txt lines 2233-2240: setOffsets for my-consumer-group on custom-topic
// (partition 0 to 35, partition 3 to 19), verbatim; client from lines 2103-2108 with the broker
// address substituted.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
;(async () => {
await admin.connect() // harness
await admin.setOffsets({
groupId: 'my-consumer-group',
topic: 'custom-topic',
partitions: [
{ partition: 0, offset: '35' },
{ partition: 3, offset: '19' },
]
})
console.log('set done') // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
