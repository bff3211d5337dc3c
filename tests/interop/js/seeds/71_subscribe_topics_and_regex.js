// Seed 000_580964c785baa5f8.txt lines 1607-1615: subscribing to topic lists (topic-D from the beginning) and to a
// regular expression. Verbatim; the client, the wrapping function and the run that logs each record are harness.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
const main = async () => { // harness
const consumer = kafka.consumer({ groupId: 'test-group' });
await consumer.connect();
await consumer.subscribe({ topics: ['topic-A'] })
// You can subscribe to multiple topics at once
await consumer.subscribe({ topics: ['topic-B', 'topic-C'] })
// It's possible to start from the beginning of the topic
await consumer.subscribe({ topics: ['topic-D'], fromBeginning: true })
await consumer.connect()
await consumer.subscribe({ topics: [/topic-(eu|us)-.*/i] })
await consumer.run({ eachMessage: async ({ topic, message }) => console.log(`消费消息 ${topic} ${message.value.toString()}`) }) // harness
} // harness
main().catch(e => { console.error(e); process.exit(1) }) // harness
