// Seed 000_580964c785baa5f8.txt lines 1380-1390 (message headers), verbatim; client from lines 869-874
// with the broker address substituted; harness: connect/disconnect around the seed's send.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const producer = kafka.producer() // harness
;(async () => {
await producer.connect() // harness
await producer.send({
topic: 'topic-name',
messages: [{
key: 'key1',
value: 'hello world',
headers: {
'correlation-id': '2bfb68bb-893a-423b-a7fa-7b568cad5b67',
'system-id': 'my-system',
}
}]
})
console.log('headers sent') // harness
await producer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
