// Seed 000_580964c785baa5f8.txt lines 1392-1414 (sendBatch to three topics), verbatim; client from
// lines 869-874 with the broker address substituted; harness: connect/disconnect.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const producer = kafka.producer() // harness
;(async () => {
await producer.connect() // harness
const topicMessages = [
{
topic: 'topic-a',
messages: [{ key: 'key', value: 'hello topic-a' }],
},
{
topic: 'topic-b',
messages: [{ key: 'key', value: 'hello topic-b' }],
},
{
topic: 'topic-c',
messages: [
{
key: 'key',
value: 'hello topic-c',
headers: {
'correlation-id': '2bfb68bb-893a-423b-a7fa-7b568cad5b67',
},
}
],
}
]
await producer.sendBatch({ topicMessages })
console.log('batch sent') // harness
await producer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
