// Seed 000_580964c785baa5f8.txt lines 1928-1945: pause one partition on TooManyRequestsError and resume it after
// retryAfter seconds, partitionsConsumedConcurrently 3. Verbatim; the consumer, the dependency and the error
// class are harness.
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
// harness: the dependency the examples call; its third call answers "too many requests, retry after 1 s"
class TooManyRequestsError extends Error { constructor (retryAfter) { super('too many requests'); this.retryAfter = retryAfter } } // harness
let calls = 0 // harness
const sendToDependency = async message => { // harness
  if (++calls === 3) { console.log(`harness: throttled ${message.value.toString()}`); throw new TooManyRequestsError(1) } // harness
  console.log(`消费消息 ${message.value.toString()}`) // harness
} // harness
const consumer = kafka.consumer({ groupId: 'test-group' }) // harness
const main = async () => { await consumer.connect(); await consumer.subscribe({ topics: ['jobs'], fromBeginning: true }) // harness
consumer.run({
partitionsConsumedConcurrently: 3, // 默认值为 1
eachMessage: async ({ topic, partition, message }) => {
try {
await sendToDependency(message)
} catch (e) {
if (e instanceof TooManyRequestsError) {
consumer.pause([{ topic, partitions: [partition] }])
// 其他分区仍会继续拉取与处理
setTimeout(() => {
consumer.resume([{ topic, partitions: [partition] }])
// 其他已暂停的分区不会被自动恢复
}, e.retryAfter * 1000)
}
throw e
}
},
})
} // harness
main().catch(e => { console.error(e); process.exit(1) }) // harness
