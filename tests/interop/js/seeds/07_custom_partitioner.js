// Seed 000_580964c785baa5f8.txt lines 1421-1434 (custom partitioner), verbatim; client from lines
// 869-874 with the broker address substituted. harness: the producer built with the seed's
// createPartitioner sends keyed records to the 3-partition topic 'partitioner-topic' and prints where
// they went (the seed's partitioner always answers 0).
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const MyPartitioner = () => {
return ({ topic, partitionMetadata, message }) => {
// select a partition based on some logic
// return the partition number
return 0
}
}
const producer = kafka.producer({ createPartitioner: MyPartitioner })
;(async () => {
await producer.connect() // harness
const r = await producer.send({ topic: 'partitioner-topic', // harness
  messages: ['a', 'b', 'c', 'd', 'e', 'f'].map(k => ({ key: k, value: 'v-' + k })) })
console.log('partitions:', JSON.stringify(r.map(x => x.partition))) // harness
await producer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
