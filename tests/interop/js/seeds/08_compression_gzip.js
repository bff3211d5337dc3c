// Seed 000_580964c785baa5f8.txt lines 1439-1449 (GZIP), verbatim; client from lines 869-874 with the
// broker address substituted. The seed defines the async function without calling it: the harness
// calls it, with the producer connected.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const producer = kafka.producer() // harness
const { CompressionTypes } = require('kafkajs')
const seed = // harness: name the seed's function so it can be called
async () => {
await producer.send({
topic: 'topic-name',
compression: CompressionTypes.GZIP,
messages: [
{ key: 'key1', value: 'hello world' },
{ key: 'key2', value: 'hey hey!' }
],
})
}
;(async () => { await producer.connect(); await seed(); console.log('gzip sent'); await producer.disconnect() })() // harness
  .catch(e => { console.error(e); process.exit(1) })
