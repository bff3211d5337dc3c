// Seed 000_580964c785baa5f8.txt lines 1787-1856 (up to the "});" that ends it): the consume-transform-produce example (e2e-tx-app), verbatim except
// the broker address. It calls producer.initTransactions/beginTransaction/sendOffsetsToTransaction/commitTransaction,
// which are the Java producer's API: KafkaJS 2.2.4 has none of them (its API is producer.transaction()), so run()
// fails with "producer.initTransactions is not a function" before any transactional request (82b is the fix).
const { Kafka, Partitioners } = require('kafkajs');
const kafka = new Kafka({
clientId: 'e2e-tx-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
retry: { retries: Infinity }, // 无限重试
});
const producer = kafka.producer({
transactionalId: 'e2e-tx-source-topic-0', // 固定分区级 ID(防僵尸实例)
idempotent: true, // 启用幂等性
maxInFlightRequests: 1, // 飞行请求=1,确保顺序
createPartitioner: Partitioners.LegacyPartitioner, // v2.x 兼容
});
const consumer = kafka.consumer({ groupId: 'e2e-group' });
const run = async () => {
await producer.connect();
await producer.initTransactions(); // 初始化事务
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
try {
await producer.beginTransaction(); // 开始新事务(每个消息一个事务,或批量)
// 发送处理后消息到目标 topic
const sendResult = await producer.send({
topic: 'target-topic',
messages: [processedMessage],
acks: -1, // 等待所有副本
});
// 将消费 offset 加入事务(原子提交)
const consumerOffset = parseInt(message.offset) + 1; // +1 为下一个 offset
await producer.sendOffsetsToTransaction(
[{ topic, partition, offset: consumerOffset.toString() }], // 已处理 offset
'e2e-group' // 消费者组 ID
);
await producer.commitTransaction(); // 原子提交:消息 + offset
console.log(`Processed: ${originalValue} -> ${processedValue}, offset: ${message.offset}`);
resolveOffset(message.offset); // 标记为已解析(可选,事务已处理)
offsets.push(consumerOffset);
} catch (error) {
await producer.abortTransaction(); // 回滚:不提交消息或 offset
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
setTimeout(() => process.exit(0), Number(process.env.SEED_TIMEOUT_MS || '10000')) // harness: the example runs forever
