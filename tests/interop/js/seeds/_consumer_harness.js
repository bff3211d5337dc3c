// Test harness for the seeds' consumer examples (not from the seeds). The examples consume forever;
// this ends a run: it counts the log lines the example prints per consumed message (those starting with
// SEED_MARK, default "消费消息"), and once SEED_EXPECT were printed, disconnects every consumer the
// example created from `kafka` (so the group is left cleanly) and exits 0. After SEED_TIMEOUT_MS it
// exits 2. It also prints each consumer's fetched batches ("harness batch <topic> <partition> <first offset>")
// from KafkaJS's instrumentation events, so a test can see where consumption started.
module.exports = function harness(kafka) {
  const consumers = []
  const make = kafka.consumer.bind(kafka)
  kafka.consumer = (...args) => {
    const c = make(...args)
    consumers.push(c)
    c.on(c.events.START_BATCH_PROCESS, e => console.log(`harness batch ${e.payload.topic} ${e.payload.partition} ${e.payload.firstOffset}`))
    return c
  }
  const mark = process.env.SEED_MARK || '消费消息'
  const expect = Number(process.env.SEED_EXPECT || '1')
  const log = console.log
  let seen = 0
  let done = false
  const finish = async code => {
    if (done) return
    done = true
    await Promise.all(consumers.map(c => c.disconnect().catch(() => {})))
    log(`harness: ${seen} messages`)
    process.exit(code)
  }
  console.log = (...args) => {
    log(...args)
    if (typeof args[0] === 'string' && args[0].startsWith(mark) && ++seen >= expect) setImmediate(() => finish(0))
  }
  setTimeout(() => { log(`harness: timed out after ${seen} messages`); finish(2) }, Number(process.env.SEED_TIMEOUT_MS || '60000'))
  return { consumers }
}
