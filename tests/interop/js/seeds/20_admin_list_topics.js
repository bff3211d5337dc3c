// Seed 000_580964c785baa5f8.txt lines 2103-2116 (admin listTopics program), verbatim except the broker address.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
// 创建admin实例
(async () => {
const admin = kafka.admin();
await admin.connect();
const topics = await admin.listTopics();
console.log("已有的Topic: ", topics);
await admin.disconnect();
})();
