// Seed 004_8a9152f67cb555e1.txt lines 254-282 (producer.js of the tutorial), verbatim except the
// broker address ('192.168.23.128:9092' in the seed).
// kafka producer example
const { Kafka }= require('kafkajs');

const kafka = new Kafka({
clientId:'my-producer',
brokers:[process.env.KAFKA_BOOTSTRAP]
});

const producer = kafka.producer();

async function sendMessage(topic,message) {
try {
await producer.connect();
console.log('Producer connected');

const result = await producer.send({
topic: topic,
messages:[{value:message}]
});
console.log('Message sent successfully:', result);
} catch (error) {
console.error('Error sending message:', error);
} finally {
await producer.disconnect();
console.log('Producer disconnected');
}
}

sendMessage('test-topic', 'Hello KafkaJS user!');
