// Reads records back with a kafkajs consumer group for tests/interop/test_kafkajs.py.
// Reads one JSON job on stdin: { bootstrap, topic, groupId, count, codecs? }; prints one JSON result:
// { records: [{partition, offset, key, value, headers: [[name, value]], timestamp}] } with
// key/value/header values as base64 (or null), once `count` records have arrived.
'use strict'
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4 = require('kafkajs-lz4')
const ZstdCodec = require('@kafkajs/zstd')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4().codec
CompressionCodecs[CompressionTypes.ZSTD] = ZstdCodec()

const b64 = v => (v === null || v === undefined ? null : Buffer.from(v).toString('base64'))

async function main() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const kafka = new Kafka({ clientId: 'interop-kafkajs-consumer', brokers: [job.bootstrap], logLevel: logLevel.ERROR })
  const consumer = kafka.consumer({ groupId: job.groupId })
  const records = []
  await consumer.connect()
  await consumer.subscribe({ topic: job.topic, fromBeginning: true })
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${records.length} of ${job.count} records`)), 60000)
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers = []
        for (const [k, v] of Object.entries(message.headers || {})) {
          for (const one of Array.isArray(v) ? v : [v]) headers.push([k, b64(one)])
        }
        records.push({ partition, offset: Number(message.offset), key: b64(message.key), value: b64(message.value),
                       headers, timestamp: Number(message.timestamp) })
        if (records.length >= job.count) { clearTimeout(timer); resolve() }
      },
    }).catch(reject)
  })
  try {
    await done
  } finally {
    await consumer.disconnect()
  }
  process.stdout.write(JSON.stringify({ records }))
}

main().catch(e => { console.error(e); process.exit(1) })
