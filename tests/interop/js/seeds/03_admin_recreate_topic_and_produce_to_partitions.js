// Seed 000_580964c785baa5f8.txt lines 1288-1333 ("具有自定义分区的示例"): create_topic (delete, then
// create with 2 partitions) and producer_run (explicit partitions 0 and 1), verbatim; client from
// lines 869-874 with only the broker address substituted. Its consumer_run is pending (README.md).
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const create_topic = async () => {
const admin = kafka.admin();
await admin.connect();
let topics = await admin.listTopics();
console.log("已有的Topic: ", topics);
if (topics.includes('test-topic'))
await admin.deleteTopics({ topics: ['test-topic'] });
topics = await admin.listTopics();
console.log("删除test-topic后,已有的Topic: ", topics);
if (!topics.includes('test-topic')) {
console.log("创建Topic: test-topic");
const topicConfig = {
topics: [
{
topic: 'test-topic',//主题名
numPartitions: 2,//分区数
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
{ key: 'key1', value: `key1 Hello KafkaJS user! ${Date.now()}`, partition: 0 },
{ key: 'key2', value: `key2 Hello KafkaJS user! ${Date.now()}`, partition: 1 },
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

// harness
(async () => { await create_topic(); await producer_run(); })().catch(e => { console.error(e); process.exit(1) })
