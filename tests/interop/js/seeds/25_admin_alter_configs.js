// Seed 000_580964c785baa5f8.txt lines 2320-2327: alterConfigs cleanup.policy=compact on 'topic-name',
// verbatim; client from lines 2103-2108 with the broker address substituted; harness: connect, print, disconnect.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
;(async () => {
await admin.connect() // harness
const { ConfigResourceTypes } = require('kafkajs')
const result = // harness
await admin.alterConfigs({
resources: [{
type: ConfigResourceTypes.TOPIC,
name: 'topic-name',
configEntries: [{ name: 'cleanup.policy', value: 'compact' }]
}]
})
console.log(JSON.stringify(result)) // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
