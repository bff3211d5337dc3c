// Seed 000_580964c785baa5f8.txt lines 2484-2498: describeAcls, verbatim but for the same unterminated
// 'topic-name, literal as in 28, closed here. Client from lines 2103-2108, broker address substituted.
// As written it names the filter resourcePatternTypeFilter, but kafkajs 2.2.4 reads resourcePatternType,
// so kafkajs itself rejects the call before sending anything ("Invalid resource pattern filter type
// undefined"); the test checks exactly that outcome. The DescribeAcls request is sent by 29b.
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
resourcePatternTypeFilter: ResourcePatternTypes.LITERAL,
})

  console.log("RESULT", JSON.stringify(result)) // harness
} catch (error) { // harness: the seed says a cluster without an authorizer throws
  console.log("ERROR", error.name, error.type, error.message) // harness
}
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
