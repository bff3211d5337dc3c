// Seed 000_580964c785baa5f8.txt lines 2366-2378: deleteGroups([groupId]), deleteGroups(['group-test'])
// and the try/catch over ['a', 'b', 'c'], verbatim; client from lines 2103-2108 with the broker
// address substituted. groupId comes from SEED_GROUP; the harness prints each result and, inside the
// example's catch (which has only comments), the error's name and groups.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
const groupId = process.env.SEED_GROUP // harness
;(async () => {
await admin.connect() // harness
console.log('deleted:', JSON.stringify( // harness
await admin.deleteGroups([groupId])
)) // harness
console.log('deleted:', JSON.stringify( // harness
await admin.deleteGroups(['group-test'])
)) // harness
try {
await admin.deleteGroups(['a', 'b', 'c'])
} catch (error) {
console.log('caught:', error.name, JSON.stringify(error.groups.map(g => [g.groupId, g.error.type]))) // harness
// error.name 'KafkaJSDeleteGroupsError'
// error.groups = [{
// groupId: a
// error: KafkaJSProtocolError
// }]
}
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
