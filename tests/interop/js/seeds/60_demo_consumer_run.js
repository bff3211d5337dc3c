// Seed 000_580964c785baa5f8.txt lines 868-938 ("一个简单的demo"), the whole demo verbatim except the broker
// address: create_topic, consumer_run (group test-group, eachMessage) and a producer every second.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
const create_topic = async () => {
const admin = kafka.admin();
await admin.connect();
const topics = await admin.listTopics();
console.log("已有的Topic: ", topics);
if (!topics.includes('test-topic')) {
console.log("创建Topic: test-topic");
const topicConfig = {
topics: [
{
topic: 'test-topic',//主题名
numPartitions: 1,//分区数
replicationFactor: 1//副本数
}],
waitForLeaders: true//等待leader分配完成
};
const result = await admin.createTopics(topicConfig);
console.log('topic created:', result);
}
console.log("已有的Topic: ", await admin.listTopics());
await admin.disconnect();
};
// 创建一个生产者向主题生成消息
const producer_run = async () => {
const producer = kafka.producer();
await producer.connect();
const send_result = await producer.send({
topic: 'test-topic',
messages: [
{ value: `Hello KafkaJS user! ${Date.now()}` },
],
});
console.log('send result:', send_result);
if (send_result && send_result.length > 0) {
console.log(`消息发送成功,主题: ${send_result[0].topicName}, 分区: ${send_result[0].partition}, 偏移量: ${send_result[0].baseOffset}`);
} else {
console.log('消息发送失败');
}
await producer.disconnect();
};
// 创建一个消费者从主题消费消息
const consumer_run = async () => {
let consumeCounter = 0;
const consumer = kafka.consumer({ groupId: 'test-group' });
await consumer.connect();
await consumer.subscribe({ topic: 'test-topic', fromBeginning: true });
await consumer.run({
eachMessage: async ({ topic, partition, message }) => {
consumeCounter++;
console.log(`消费消息: consumeCounter[${consumeCounter}]`, {
value: message.value.toString(),
topic,
partition
})
},
});
console.log("消费者已启动,等待消息...");
};
(async () => {
await create_topic();
await consumer_run();
setInterval(() => {
producer_run();
}, 1000);
})();
