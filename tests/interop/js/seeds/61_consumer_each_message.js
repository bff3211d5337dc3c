// Seed 000_580964c785baa5f8.txt lines 1624-1643: eachMessage with sessionTimeout 30000 (keys and headers logged),
// verbatim; the client and the call are harness.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
// 创建一个消费者从主题消费消息
const consumer_run = async () => {
let consumeCounter = 0;
const consumer = kafka.consumer({ groupId: 'test-group', sessionTimeout: 30000 });
await consumer.connect();
await consumer.subscribe({ topic: 'test-topic', fromBeginning: true });
await consumer.run({
eachMessage: async ({ topic, partition, message, heartbeat, pause }) => {
consumeCounter++;
console.log(`消费消息: consumeCounter[${consumeCounter}]`, {
key: message.key.toString(),
value: message.value.toString(),
topic,
partition,
headers: message.headers,
})
},
});
console.log("消费者已启动,等待消息...");
};
// harness: run the example
consumer_run().catch(e => { console.error(e); process.exit(1) })
