// The keyed cluster job (a defineJob module, as `sluice run --cluster` takes it): words of the
// Kafka topic `input` into three Cassandra tables, through state that lives in the keyed tasks:
//   totals(word, total)                 running count per word (updateStateByKey)
//   windows(window_end, word, count)    count over the last WINDOW_BATCHES batches, sliding by
//                                       one (reduceByKeyAndWindow with an inverse)
//   batches(batch_time, word, count)    count per batch (reduceByKey)
import { type ConnectorPlugin, defineJob } from "sluice";
import { type KeyedJobSettings, WINDOW_BATCHES } from "./keyed-settings.js";

const kafka = (await import(
  new URL("../../../connectors/kafka/src/index.ts", import.meta.url).href
)) as { plugins: ConnectorPlugin[] };
const cassandra = (await import(
  new URL("../../../connectors/cassandra/src/index.ts", import.meta.url).href
)) as { plugins: ConnectorPlugin[] };
const decoder = new TextDecoder();

export default defineJob<KeyedJobSettings>({
  plugins: [...kafka.plugins, ...cassandra.plugins],
  build(ctx, settings) {
    const table = (name: string) => ({
      contactPoints: [...settings.cassandra],
      keyspace: settings.keyspace,
      table: name,
      consistency: "one" as const,
    });
    const pairs = ctx
      .source("kafka", {
        brokers: [...settings.brokers],
        topics: [settings.input],
        groupId: settings.group,
        startFrom: "earliest",
        pollTimeoutMs: 100,
        maxWaitTimeMs: 100,
        sessionTimeoutMs: settings.sessionTimeoutMs ?? 6_000,
        rebalanceTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
        // A killed process's map-side transaction holds the keyed partitions back until it ends.
        transactionTimeoutMs: 10_000,
      })
      .flatMap((record) =>
        decoder
          .decode(record.value)
          .split(" ")
          .filter((word) => word !== ""),
      )
      .map((word): [string, number] => [word, 1]);
    pairs
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.length === 0 ? total : values.reduce((sum, value) => sum + value, total ?? 0),
      )
      .map(([word, total]) => JSON.stringify({ word, total }))
      .sink("cassandra", table("totals"));
    const interval = settings.batchIntervalMs;
    pairs
      .reduceByKeyAndWindow((a, b) => a + b, {
        window: WINDOW_BATCHES * interval,
        slide: interval,
        inverse: (a, b) => a - b,
        filter: ([, count]) => count !== 0,
      })
      .transform((batch, time) => ({
        time,
        partitions: batch.partitions.map((rows) =>
          rows.map(([word, count]) => JSON.stringify({ window_end: time, word, count })),
        ),
      }))
      .sink("cassandra", table("windows"));
    pairs
      .reduceByKey((a, b) => a + b)
      .transform((batch, time) => ({
        time,
        partitions: batch.partitions.map((rows) =>
          rows.map(([word, count]) => JSON.stringify({ batch_time: time, word, count })),
        ),
      }))
      .sink("cassandra", table("batches"));
  },
});
