// Seed 000_580964c785baa5f8.txt lines 1756-1785: autoCommit false, commitOffsets before processing each message,
// fromBeginning false. Verbatim; the client and the call are harness.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
// 创建一个消费者从主题消费消息
const consumer_run = async () => {
let consumeCounter = 0;
const consumer = kafka.consumer({ groupId: 'test-group' });
await consumer.connect();
await consumer.subscribe({ topic: 'test-topic', fromBeginning: false });
consumer.run({
autoCommit: false,
partitionsConsumedConcurrently: 1,
eachMessage: async ({ topic, partition, message }) => {
consumeCounter++;
// 消费前直接提交 Offset
await consumer.commitOffsets([
{ topic: topic, partition: partition, offset: (Number(message.offset) + 1).toString() }
]);
// Offset提交成功再消费
console.log(`消费消息: consumeCounter[${consumeCounter}]`, {
topic,
partition,
message: {
offset: message.offset,
key: message.key.toString(),
value: message.value.toString(),
headers: message.headers,
}
});
}
});
console.log("消费者已启动,等待消息...");
};
// harness: run the example
consumer_run().catch(e => { console.error(e); process.exit(1) })
