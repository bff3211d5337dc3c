// Seed 000_580964c785baa5f8.txt lines 1503-1528: producer_run with a transactional producer (transactionalId,
// maxInFlightRequests 1, idempotent), one transaction sending to partitions 0 and 1 of test-topic, then
// commit. Verbatim except the broker address; the harness lines (marked) define `kafka` and call producer_run.
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
// throw new Error("模拟错误,测试事务回滚");
await transaction.commit();
console.log('Transaction committed successfully');
} catch (err) {
await producer.disconnect();
console.error('Error in producer:', err);
}
await producer.disconnect();
};
producer_run().catch(e => { console.error(e); process.exit(1) }) // harness
