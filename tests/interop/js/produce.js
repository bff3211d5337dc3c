// Drives kafkajs 2.2.4 for tests/interop/test_kafkajs.py.
// Reads one JSON job on stdin, prints one JSON result on stdout:
//   { bootstrap, topic, createTopic: {numPartitions, configEntries}?, compression: "none"|"gzip"|"snappy"|"lz4"|"zstd",
//     idempotent, records: [{partition, key, value, headers: [[name, value]], timestamp}] }
// key/value/header values are base64 strings or null; the result is {acks: [[partition, baseOffset]], created}.
'use strict'
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4 = require('kafkajs-lz4')
const ZstdCodec = require('@kafkajs/zstd')

// As the kafkajs docs register them; only GZIP is built in.
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4().codec
CompressionCodecs[CompressionTypes.ZSTD] = ZstdCodec()

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

const b64 = v => (v === null ? null : Buffer.from(v, 'base64'))

async function main() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const kafka = new Kafka({ clientId: 'interop-kafkajs', brokers: [job.bootstrap], logLevel: logLevel.ERROR })
  let created = null
  if (job.createTopic) {
    const admin = kafka.admin()
    await admin.connect()
    try {
      created = await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: job.topic, numPartitions: job.createTopic.numPartitions, replicationFactor: 1,
                   configEntries: job.createTopic.configEntries || [] }],
      })
    } finally {
      await admin.disconnect()
    }
  }
  const producer = kafka.producer({ idempotent: !!job.idempotent, maxInFlightRequests: job.idempotent ? 1 : undefined,
                                    allowAutoTopicCreation: false })
  await producer.connect()
  const acks = []
  try {
    const messages = job.records.map(r => {
      const headers = {}
      for (const [name, value] of r.headers) {
        // kafkajs sends an array value as repeated headers with the same name, in order.
        if (name in headers) headers[name] = [].concat(headers[name], [b64(value)])
        else headers[name] = b64(value)
      }
      return { partition: r.partition, key: b64(r.key), value: b64(r.value), headers, timestamp: String(r.timestamp) }
    })
    const result = await producer.send({ topic: job.topic, acks: -1, compression: CODECS[job.compression], messages })
    for (const r of result) acks.push([r.partition, Number(r.baseOffset)])
  } finally {
    await producer.disconnect()
  }
  process.stdout.write(JSON.stringify({ acks, created }))
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
