// Seed 004_8a9152f67cb555e1.txt lines 396-423 consumer.js, verbatim except the broker address; one harness line.
// kafka consumer example
const { Kafka }= require('kafkajs');
const kafka = new Kafka({
clientId:'my-consumer',
brokers:[process.env.KAFKA_BOOTSTRAP]
});
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages

const consumer = kafka.consumer({ groupId:'my-group'});

async function consumeMessages(){
try {
await consumer.connect();
console.log('Consumer connected');

await consumer.subscribe({ topic:'test-topic', fromBeginning:true});
console.log('Subscribed to topic test-topic');

await consumer.run({
eachMessage:async ({topic,partition,message})=>{
console.log(`Received message on topic ${topic} in partition ${partition} at offset ${message.offset}:`, message.value.toString());
}
});
} catch (error) {
console.error('Error consuming messages:', error);
}
}
consumeMessages("my-topic");

