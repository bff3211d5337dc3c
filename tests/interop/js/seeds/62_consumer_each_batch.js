// Seed 000_580964c785baa5f8.txt lines 1653-1692: eachBatch with eachBatchAutoResolve, resolveOffset and heartbeat,
// verbatim; the client and the call are harness.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
// 创建一个消费者从主题消费消息
const consumer_run = async () => {
let consumeCounter = 0;
const consumer = kafka.consumer({ groupId: 'test-group' });
await consumer.connect();
await consumer.subscribe({ topic: 'test-topic', fromBeginning: true });
await consumer.run({
eachBatchAutoResolve: true,
eachBatch: async ({
batch,
resolveOffset,
heartbeat,
commitOffsetsIfNecessary,
uncommittedOffsets,
isRunning,
isStale,
pause
}) => {
for (let message of batch.messages) {
consumeCounter++;
console.log(`消费消息: consumeCounter[${consumeCounter}]`, {
topic: batch.topic,
partition: batch.partition,
highWatermark: batch.highWatermark,
message: {
offset: message.offset,
key: message.key.toString(),
value: message.value.toString(),
headers: message.headers,
}
});
// 标记已消费
resolveOffset(message.offset);
// 心跳
await heartbeat();
}
}
});
console.log("消费者已启动,等待消息...");
};
// harness: run the example
consumer_run().catch(e => { console.error(e); process.exit(1) })
