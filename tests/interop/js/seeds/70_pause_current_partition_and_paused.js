// Seed 000_580964c785baa5f8.txt lines 1946-1961 (eachMessage's pause(): pause only the current partition, resume
// it after retryAfter seconds) and 1962-1966 (consumer.paused()). Verbatim; the consumer, the dependency, the error
// class and the timer that lists the paused partitions are harness. The example subscribes without
// fromBeginning: the test produces after the group joined.
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
const main = async () => { // harness
await consumer.connect()
await consumer.subscribe({ topics: ['jobs'] })
await consumer.run({
eachMessage: async ({ topic, message, pause }) => {
try {
await sendToDependency(message)
} catch (e) {
if (e instanceof TooManyRequestsError) {
const resumeThisPartition = pause()
// 仅暂停当前分区,其他分区仍继续运行
setTimeout(resumeThisPartition, e.retryAfter * 1000)
}
throw e
}
},
})
} // harness
setInterval(() => { // harness: list the paused partitions now and then
const pausedTopicPartitions = consumer.paused()
for (const topicPartitions of pausedTopicPartitions) {
const { topic, partitions } = topicPartitions
console.log({ topic, partitions })
}
}, 100) // harness
main().catch(e => { console.error(e); process.exit(1) }) // harness
