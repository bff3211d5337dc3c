// 82_consume_transform_produce.js (seed 000 lines 1787-1856) with KafkaJS's transaction API in place of the Java
// producer's methods it calls (lines marked "fixed"): producer.transaction(), transaction.send,
// transaction.sendOffsets (as lines 1554-1560 describe it), transaction.commit(). Each source-topic record becomes
// value+1 in target-topic in one transaction with the group's offset. The harness ends the run after SEED_EXPECT
// "Processed:" lines (it disconnects the consumer; the producer is disconnected before exit).
const { Kafka, Partitioners } = require('kafkajs');
const kafka = new Kafka({
clientId: 'e2e-tx-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
retry: { retries: Infinity }, // 无限重试
});
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT processed messages
const producer = kafka.producer({
transactionalId: 'e2e-tx-source-topic-0', // 固定分区级 ID(防僵尸实例)
idempotent: true, // 启用幂等性
maxInFlightRequests: 1, // 飞行请求=1,确保顺序
createPartitioner: Partitioners.LegacyPartitioner, // v2.x 兼容
});
const consumer = kafka.consumer({ groupId: 'e2e-group' });
const run = async () => {
await producer.connect();
await consumer.connect();
await consumer.subscribe({
topics: ['source-topic'],
fromBeginning: true,
});
await consumer.run({
autoCommit: false, // 禁用自动提交,手动事务控制
eachBatchAutoResolve: false, // 手动解析 offset
eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
const topic = batch.topic;
const partition = batch.partition;
const offsets = []; // 收集已处理 offset
for (let message of batch.messages) {
await heartbeat(); // 发送心跳,防再平衡
// 转换处理(示例:假设 value 是数字字符串)
const originalValue = parseInt(message.value.toString());
const processedValue = originalValue + 1;
const processedMessage = { value: processedValue.toString() };
let transaction; // fixed
try {
transaction = await producer.transaction(); // fixed: KafkaJS's API (was producer.beginTransaction())
// 发送处理后消息到目标 topic
const sendResult = await transaction.send({ // fixed: transaction.send (was producer.send)
topic: 'target-topic',
messages: [processedMessage],
acks: -1, // 等待所有副本
});
// 将消费 offset 加入事务(原子提交)
const consumerOffset = parseInt(message.offset) + 1; // +1 为下一个 offset
await transaction.sendOffsets({ consumerGroupId: 'e2e-group', topics: [{ topic, partitions: [{ partition, offset: consumerOffset.toString() }] }] }); // fixed: L1556's transaction.sendOffsets
await transaction.commit(); // fixed: (was producer.commitTransaction())
console.log(`Processed: ${originalValue} -> ${processedValue}, offset: ${message.offset}`);
resolveOffset(message.offset); // 标记为已解析(可选,事务已处理)
offsets.push(consumerOffset);
} catch (error) {
if (transaction && transaction.isActive()) await transaction.abort(); // fixed: (was producer.abortTransaction())
console.error('Transaction aborted:', error);
// 可重试或跳过此消息
break; // 或 continue,根据策略
}
}
// 可选:批量 commitOffsetsIfNecessary(offsets) 如果不全用事务
},
});
};
run().catch(console.error);
// 优雅关闭
process.on('SIGINT', async () => {
await consumer.disconnect();
await producer.disconnect();
process.exit(0);
});
