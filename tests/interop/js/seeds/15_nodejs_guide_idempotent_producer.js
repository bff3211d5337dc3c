// Seed 003_7390f09eb75c0c64.txt section 五.1 (生产者优化): an idempotent producer and a batch send with
// acks: -1, verbatim (line breaks restored); client from the same seed's producer.js with the broker
// address substituted. The seed leaves batchMessages to the reader: the harness supplies 100 messages.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({clientId: 'node-producer',brokers: [process.env.KAFKA_BOOTSTRAP], // 替换为实际 Broker 地址
});
const batchMessages = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `log line ${i}` })) // harness
;(async () => {
const producer = kafka.producer({idempotent: true, // 开启幂等性,防止重复消息
transactionTimeout: 30000,
});// 批量发送提升吞吐量
await producer.connect() // harness
await producer.send({topic: 'logs',messages: batchMessages,acks: -1 // 所有副本确认后才返回成功
});
console.log('batch of', batchMessages.length, 'sent') // harness
await producer.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
