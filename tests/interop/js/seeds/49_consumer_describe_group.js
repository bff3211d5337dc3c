// Seed 000_580964c785baa5f8.txt line 2080: consumer.describeGroup(), verbatim; client from lines
// 2103-2108 with the broker address substituted. The seed leaves the consumer to the reader: the
// harness makes one in SEED_GROUP subscribed to SEED_TOPIC, runs it until it has joined the group,
// prints the result as JSON (buffers in base64) and disconnects.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const consumer = kafka.consumer({ groupId: process.env.SEED_GROUP }) // harness
;(async () => {
await consumer.connect() // harness
await consumer.subscribe({ topics: [process.env.SEED_TOPIC], fromBeginning: true }) // harness
const joined = new Promise(resolve => consumer.on(consumer.events.GROUP_JOIN, resolve)) // harness
await consumer.run({ eachMessage: async () => {} }) // harness
await joined // harness
const data = await consumer.describeGroup()
console.log(JSON.stringify(data, (k, v) => v && v.type === 'Buffer' ? Buffer.from(v.data).toString('base64') : v)) // harness
await consumer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
