// Seed 000_580964c785baa5f8.txt lines 1270-1288 (producer.send with keys), verbatim; the client is the
// one the seed's demo builds (lines 869-874), with only the broker address substituted.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
// 创建一个生产者向主题生成消息
const producer_run = async () => {
const producer = kafka.producer();
await producer.connect();
const send_result = await producer.send({
topic: 'test-topic',
messages: [
{ key: 'key1', value: `key1 Hello KafkaJS user! ${Date.now()}` },
{ key: 'key2', value: `key2 Hello KafkaJS user! ${Date.now()}` },
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
producer_run().catch(e => { console.error(e); process.exit(1) })
