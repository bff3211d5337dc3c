// Seed 000_580964c785baa5f8.txt lines 1150-1175, 1189-1196 and 1211-1232: the plain-TCP client options
// (connectionTimeout, requestTimeout, enforceRequestTimeout, retry, logLevel, socketFactory), each
// `new Kafka({...})` verbatim except brokers ['kafka1:9092', 'kafka2:9092'] -> the test broker.
// harness: each client's admin lists the topics, proving the option set works against the broker.
const clients = [] // harness
{
const { Kafka } = require('kafkajs') // harness
clients.push(
new Kafka({
clientId: 'my-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
connectionTimeout: 3000
}))
clients.push(
new Kafka({
clientId: 'my-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
requestTimeout: 25000
}))
clients.push(
new Kafka({
clientId: 'my-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
enforceRequestTimeout: false
}))
clients.push(
new Kafka({
clientId: 'my-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
retry: {
initialRetryTime: 100,
retries: 8
}
}))
}
{
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({
clientId: 'my-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
logLevel: logLevel.ERROR
})
clients.push(kafka) // harness
}
{
const { Kafka } = require('kafkajs')
// Example socket factory setting a custom TTL
const net = require('net')
const tls = require('tls')
const myCustomSocketFactory = ({ host, port, ssl, onConnect }) => {
const socket = ssl
? tls.connect(
Object.assign({ host, port }, ssl),
onConnect
)
: net.connect(
{ host, port },
onConnect
)
socket.setKeepAlive(true, 30000)
return socket
}
const kafka = new Kafka({
clientId: 'my-app',
brokers: [process.env.KAFKA_BOOTSTRAP],
socketFactory: myCustomSocketFactory,
})
clients.push(kafka) // harness
}
;(async () => { // harness
  for (const [i, k] of clients.entries()) {
    const admin = k.admin()
    await admin.connect()
    console.log('client', i, 'topics', (await admin.listTopics()).length >= 0)
    await admin.disconnect()
  }
  console.log('all clients ok')
})().catch(e => { console.error(e); process.exit(1) })
