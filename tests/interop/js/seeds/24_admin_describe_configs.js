// Seed 000_580964c785baa5f8.txt lines 2263-2283: describeConfigs of every config of 'test-topic', then of
// cleanup.policy of 'topic-name', verbatim (the second block in its own scope: both import
// ConfigResourceTypes, the first uses it before the seed's require). Client from lines 2103-2108 with the
// broker address substituted; harness: connect, print both responses, disconnect.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
const { ConfigResourceTypes } = require('kafkajs') // harness: the seed's first example uses it before its require
;(async () => {
await admin.connect() // harness
let describeConfigResponse = await admin.describeConfigs({
includeSynonyms: false,
resources: [
{
type: ConfigResourceTypes.TOPIC,
name: 'test-topic'
}
]
});
console.log(JSON.stringify(describeConfigResponse)) // harness
{
const { ConfigResourceTypes } = require('kafkajs')
const second = // harness
await admin.describeConfigs({
includeSynonyms: false,
resources: [
{
type: ConfigResourceTypes.TOPIC,
name: 'topic-name',
configNames: ['cleanup.policy']
}
]
});
console.log(JSON.stringify(second)) // harness
}
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
