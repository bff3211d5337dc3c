// Seed 000_580964c785baa5f8.txt lines 2385-2391: deleteTopicRecords on 'custom-topic' (partition 0 up to
// offset 30, partition 3 everything), verbatim; client from lines 2103-2108 with the broker address
// substituted. The test creates 'custom-topic' with 4 partitions and enough records first.
// kafkajs 2.2.4's deleteTopicRecords looks the partition leaders up in metadata it never loads itself:
// run alone it throws KafkaJSTopicMetadataNotLoaded (against Apache Kafka too), so the harness loads the
// topic's metadata first, as any program that used the topic before would have.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
;(async () => {
await admin.connect() // harness
await admin.fetchTopicMetadata({ topics: ['custom-topic'] }) // harness: see above
await admin.deleteTopicRecords({
topic: 'custom-topic',
partitions: [
{ partition: 0, offset: '30' }, // delete up to and including offset 29
{ partition: 3, offset: '-1' }, // delete all available records on this partition
]
})
console.log('records deleted') // harness
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
