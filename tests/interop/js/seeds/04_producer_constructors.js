// Seed 000_580964c785baa5f8.txt lines 1256-1260: the two ways to create a producer, verbatim (each in its
// own block since both declare `producer`); client from lines 869-874, broker address substituted.
// harness: each producer connects, sends one record to 'test-topic' and disconnects.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const check = async producer => {
  await producer.connect()
  const r = await producer.send({ topic: 'test-topic', messages: [{ value: 'from-constructor-example' }] })
  console.log('sent', JSON.stringify(r))
  await producer.disconnect()
}
;(async () => {
{
const producer = kafka.producer();
await check(producer)
}
{
const producer = kafka.producer({
allowAutoTopicCreation: false,
transactionTimeout: 30000
});
await check(producer)
}
})().catch(e => { console.error(e); process.exit(1) })
