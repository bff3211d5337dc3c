// Seed 000_580964c785baa5f8.txt lines 1453-1455 (Snappy codec registration), verbatim; client from lines
// 869-874 with the broker address substituted. harness: the send is the seed's GZIP send (lines
// 1441-1448) with compression: CompressionTypes.Snappy, as the seed says the codec is then used with send.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const { CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
const producer = kafka.producer() // harness
;(async () => {
await producer.connect() // harness
await producer.send({
topic: 'topic-name',
compression: CompressionTypes.Snappy,
messages: [
{ key: 'key1', value: 'hello world' },
{ key: 'key2', value: 'hey hey!' }
],
})
console.log('snappy sent') // harness
await producer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
