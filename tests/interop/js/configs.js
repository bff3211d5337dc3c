// kafkajs admin: alterConfigs on a topic, then describeConfigs of that topic and of broker 1
// (with synonyms); prints the describe response as JSON. Env: KAFKA_BOOTSTRAP, TOPIC.
const { Kafka, ConfigResourceTypes } = require('kafkajs')
const kafka = new Kafka({ clientId: 'configs', brokers: [process.env.KAFKA_BOOTSTRAP], logLevel: 1 })
const admin = kafka.admin()
;(async () => {
  await admin.connect()
  const topic = process.env.TOPIC
  await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
    configEntries: [{ name: 'retention.ms', value: '424242' }] }] })
  const d = await admin.describeConfigs({ includeSynonyms: true, resources: [
    { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] },
    { type: ConfigResourceTypes.BROKER, name: '1', configNames: ['log.retention.hours', 'log.dirs'] }] })
  console.log(JSON.stringify(d))
  await admin.disconnect()
})().catch(e => { console.error(e); process.exit(1) })
