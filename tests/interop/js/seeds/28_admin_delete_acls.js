// Seed 000_580964c785baa5f8.txt lines 2447-2462: deleteAcls, verbatim but for one character: the seed's
// resourceName: 'topic-name, is an unterminated string literal (a SyntaxError), closed here as
// 'topic-name'. Client from lines 2103-2108 with the broker address substituted. Outcome as in 27.
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
const acl = {
resourceName: 'topic-name', // FIXED: the seed has 'topic-name, (unterminated string)
resourceType: AclResourceTypes.TOPIC,
host: '*',
permissionType: AclPermissionTypes.ALLOW,
operation: AclOperationTypes.ANY,
resourcePatternType: ResourcePatternTypes.LITERAL,
}
result = // harness
await admin.deleteAcls({ filters: [acl] })

  console.log("RESULT", JSON.stringify(result)) // harness
} catch (error) { // harness: the seed says a cluster without an authorizer throws
  console.log("ERROR", error.name, error.type, error.message) // harness
}
await admin.disconnect() // harness
})().catch(e => { console.error(e); process.exit(1) })
