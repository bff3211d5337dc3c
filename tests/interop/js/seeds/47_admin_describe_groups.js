// Seed 000_580964c785baa5f8.txt line 2340: describeGroups(['testgroup']), verbatim; client from lines
// 2103-2108 with the broker address substituted. The harness prints the result as JSON (buffers in
// base64).
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
;(async () => {
await admin.connect() // harness
const result = // harness
await admin.describeGroups(['testgroup'])
console.log(JSON.stringify(result, (k, v) => v && v.type === 'Buffer' ? Buffer.from(v.data).toString('base64') : v)) // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
