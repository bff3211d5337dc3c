// 68_custom_partition_assigner.js with the seed's defect fixed (two lines, marked): KafkaJS passes `topics` to
// assign() as topic names, so the partitions come from the cluster metadata. Otherwise as 68: the seed's lines
// 2033-2040 and 2040-2072, a custom partition assigner registered before roundRobin; the assigner block is put
// before the consumer block that uses it (the seed shows them the other way round). The harness creates the consumer
// twice (two members of my-group), runs them on test-topic and prints each member's partitions and describeGroup().
const { Kafka } = require('kafkajs') // harness
const kafka = new Kafka({ clientId: 'seed-consumer', brokers: [process.env.KAFKA_BOOTSTRAP] }) // harness
const h = require('./_consumer_harness')(kafka) // harness: ends the run after SEED_EXPECT consumed messages
const { AssignerProtocol: { MemberAssignment, MemberMetadata } } = require('kafkajs')
const MyPartitionAssigner = ({ cluster }) => ({
name: 'MyPartitionAssigner',
version: 1,
async assign({ members, topics }) {
// 假设我们只处理单个 topic
const topic = topics[0] // fixed: topics are names
const partitions = cluster.findTopicPartitionMetadata(topic).map(p => p.partitionId) // fixed: from the metadata
// 简单分配:按索引轮流分配
const assignment = {}
members.forEach((member, index) => {
assignment[member.memberId] = {
[topic]: partitions.filter((_, i) => i % members.length === index)
}
})
return members.map(member => ({
memberId: member.memberId,
memberAssignment: MemberAssignment.encode({
version: this.version,
assignment: assignment[member.memberId]
})
}))
},
protocol({ topics }) {
return {
name: this.name,
metadata: MemberMetadata.encode({
version: this.version,
topics
})
}
}
})
for (const _ of [1, 2]) { // harness: two members
const { PartitionAssigners: { roundRobin } } = require('kafkajs')
kafka.consumer({
groupId: 'my-group',
partitionAssigners: [
MyPartitionAssigner,
roundRobin
]
})
} // harness
// harness: run both members; once SEED_RECORDS were consumed, print the group description (ends the run)
let consumed = 0
const records = Number(process.env.SEED_RECORDS || '1')
;(async () => {
  await Promise.all(h.consumers.map(async (c, i) => {
    await c.connect()
    await c.subscribe({ topic: 'test-topic', fromBeginning: true })
    await c.run({
      eachMessage: async ({ partition }) => {
        console.log(`harness consumed member=${i} partition=${partition}`)
        if (++consumed === records) {
          const d = await h.consumers[0].describeGroup()
          console.log(`harness describeGroup protocol=${d.protocol} state=${d.state} members=${d.members.length}`)
        }
      }
    })
  }))
})().catch(e => { console.error(e); process.exit(1) })
