// Seed 003_7390f09eb75c0c64.txt "// producer.js" (section 三), verbatim except the broker address
// ('localhost:9092' in the seed). The seed's lines are joined; only line breaks were restored.
// producer.js
const { Kafka } = require('kafkajs');
const kafka = new Kafka({clientId: 'node-producer',brokers: [process.env.KAFKA_BOOTSTRAP], // 替换为实际 Broker 地址
});
const producer = kafka.producer();
async function sendMessage() {await producer.connect();await producer.send({topic: 'user_actions',messages: [{ key: 'user1', // 相同 Key 的消息分配到同一分区
value: JSON.stringify({ action: 'click', page: 'home' })},],});console.log('✅ 消息发送成功');await producer.disconnect();
}
sendMessage().catch(console.error);
