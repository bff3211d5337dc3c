// Seed 000_580964c785baa5f8.txt lines 1468-1485 (custom codec object, its registration, and a send with
// it), verbatim; client from lines 869-874 with the broker address substituted. The seed leaves
// someCompressFunction/someDecompressFunction to the reader: the harness supplies raw Snappy from
// snappyjs (the library kafkajs-snappy uses), so the custom codec really is a Snappy codec.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const snappyjs = require('snappyjs') // harness
const someCompressFunction = buf => Buffer.from(snappyjs.compress(buf)) // harness
const someDecompressFunction = buf => Buffer.from(snappyjs.uncompress(buf)) // harness
const producer = kafka.producer() // harness
const MyCustomSnappyCodec = {
async compress(encoder){
return someCompressFunction(encoder.buffer);
},
async decompress(buffer){
return someDecompressFunction(buffer);
}
}
const { CompressionTypes, CompressionCodecs } = require('kafkajs')
CompressionCodecs[CompressionTypes.Snappy] = () => MyCustomSnappyCodec
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
console.log('custom codec sent') // harness
await producer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
