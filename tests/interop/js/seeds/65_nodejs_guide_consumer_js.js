// Seed 003_7390f09eb75c0c64.txt §四 consumer.js (lines 38-45), verbatim except the broker address and one line
// break: the seed text lost its newlines, so the `// 手动提交 Offset` comment swallows the rest of its line
// (a SyntaxError as written); the break after the comment restores the code. One harness line.
// consumer.js
const { Kafka } = require('kafkajs');
const kafka = new Kafka({clientId: 'node-consumer',brokers: [process.env.KAFKA_BOOTSTRAP],
});
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
const consumer = kafka.consumer({ groupId: 'user-analytics-group' });
async function startConsumer() {await consumer.connect();await consumer.subscribe({ topic: 'user_actions', fromBeginning: true });await consumer.run({eachMessage: async ({ topic, partition, message }) => {console.log(`📩 收到消息: Topic: ${topic}Partition: ${partition}Key: ${message.key.toString()}Value: ${message.value.toString()}`);// 手动提交 Offset(确保消息处理完成)
await consumer.commitOffsets([{ topic, partition, offset: message.offset }]);},});
}
startConsumer().catch(console.error);
