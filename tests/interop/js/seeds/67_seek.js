// Seed 000_580964c785baa5f8.txt lines 1969-1975: seek to offset 10 right after run (not awaited), verbatim;
// the client and the wrapping async function are harness. The harness prints each fetched batch's first offset.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
const consumer_run = async () => { // harness
const consumer = kafka.consumer({ groupId: 'test-group' });
await consumer.connect();
await consumer.subscribe({ topics: ['test-topic'] });
// 不需要等待 consumer.run 完成
consumer.run({ eachMessage: async ({ topic, message }) => true });
// 手动指定offset位置
consumer.seek({ topic: 'test-topic', partition: 0, offset: '10' });
} // harness
// harness: run the example
consumer_run().catch(e => { console.error(e); process.exit(1) })
