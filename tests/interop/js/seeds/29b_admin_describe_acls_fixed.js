// Seed 000_580964c785baa5f8.txt lines 2484-2498: describeAcls as in 29, with its two defects fixed (the
// unterminated 'topic-name, literal, and resourcePatternTypeFilter -> resourcePatternType, the key kafkajs
// 2.2.4 reads), so that the DescribeAcls request reaches the broker. Outcome as in 27.
const { Kafka } = require('kafkajs');
const kafka = new Kafka({
clientId: 'my-app',// 客户端ID
// Kafka集群地址,把Broker的地址写到数组内,每个item为一个Broker
brokers: [process.env.KAFKA_BOOTSTRAP]
});
const admin = kafka.admin() // harness
;(async () => {
await admin.connect() // harness
let result // harness
try { // harness
const {
AclResourceTypes,
AclOperationTypes,
AclPermissionTypes,
ResourcePatternTypes,
} = require('kafkajs')
result = // harness
await admin.describeAcls({
resourceName: 'topic-name', // FIXED: the seed has 'topic-name, (unterminated string)
resourceType: AclResourceTypes.TOPIC,
host: '*',
permissionType: AclPermissionTypes.ALLOW,
operation: AclOperationTypes.ANY,
resourcePatternType: ResourcePatternTypes.LITERAL, // FIXED: the seed says resourcePatternTypeFilter, which kafkajs ignores
})

  console.log("RESULT", JSON.stringify(result)) // harness
} catch (error) { // harness: the seed says a cluster without an authorizer throws
  console.log("ERROR", error.name, error.type, error.message) // harness
}
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
