// Seed 000_580964c785baa5f8.txt lines 2402-2430: createAcls with two ACL bindings, verbatim; client from
// lines 2103-2108 with the broker address substituted. The seed notes that a cluster whose security
// features are disabled (no authorizer) throws "KafkaJSProtocolError: Security features are disabled":
// the harness prints the outcome either way and the test checks it is exactly that.
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
const acl = [
{
resourceType: AclResourceTypes.TOPIC,
resourceName: 'topic-name',
resourcePatternType: ResourcePatternTypes.LITERAL,
principal: 'User:bob',
host: '*',
operation: AclOperationTypes.ALL,
permissionType: AclPermissionTypes.DENY,
},
{
resourceType: AclResourceTypes.TOPIC,
resourceName: 'topic-name',
resourcePatternType: ResourcePatternTypes.LITERAL,
principal: 'User:alice',
host: '*',
operation: AclOperationTypes.ALL,
permissionType: AclPermissionTypes.ALLOW,
},
]
result = // harness
await admin.createAcls({ acl })

  console.log("RESULT", JSON.stringify(result)) // harness
} catch (error) { // harness: the seed says a cluster without an authorizer throws
  console.log("ERROR", error.name, error.type, error.message) // harness
}
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
