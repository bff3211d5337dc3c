// Seed 000_580964c785baa5f8.txt lines 1503-1528 with its simulated error switched on (the seed's own commented
// line "模拟错误,测试事务回滚") and, as lines 1489-1490 say ("完成后调用 transaction.commit() 或 transaction.abort()"),
// the transaction aborted in the catch (marked); the seed's catch only disconnects. Harness lines are marked.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'my-app', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
// 创建一个生产者向主题生成消息
const producer_run = async () => {
const producer = kafka.producer({
transactionalId: 'my-transactional-producer', // 为producer指定一个唯一的事务ID
maxInFlightRequests: 1, // 只能有一个飞行请求
idempotent: true // 开启幂等
});
await producer.connect();
const transaction = await producer.transaction();
try {
await transaction.send({
topic: 'test-topic',
messages: [
{ key: 'key1', value: `key1 Hello KafkaJS user! ${Date.now()}`, partition: 0 },
{ key: 'key2', value: `key2 Hello KafkaJS user! ${Date.now()}`, partition: 1 },
],
});
throw new Error("模拟错误,测试事务回滚");
await transaction.commit();
console.log('Transaction committed successfully');
} catch (err) {
await transaction.abort(); console.log('Transaction aborted') // abort, as L1490 says
await producer.disconnect();
console.error('Error in producer:', err);
}
await producer.disconnect();
};
producer_run().catch(e => { console.error(e); process.exit(1) }) // harness
