// The cluster word count as `sluice run` takes it (a module exporting defineJob), for
// `sluice run test/cluster/kafka/cli-job.ts --cluster <group>@<brokers>`: the same module in
// every process; --cluster alone makes it a member of the group.
import { type ConnectorPlugin, defineJob } from "sluice";

const kafka = (await import(
  new URL("../../../connectors/kafka/src/index.ts", import.meta.url).href
)) as { plugins: ConnectorPlugin[] };
const decoder = new TextDecoder();

/** `--set job.brokers=host:port --set job.input=... --set job.output=...` */
interface CliJobArgs {
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
}

export default defineJob<CliJobArgs>({
  plugins: kafka.plugins,
  build(ctx, args) {
    const brokers = args.brokers.split(",");
    ctx
      .source("kafka", {
        brokers,
        topics: [args.input],
        groupId: "replaced-by-the-cluster-group",
        transactionalId: "cli-word-count",
        startFrom: "earliest",
        pollTimeoutMs: 100,
        maxWaitTimeMs: 100,
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
      })
      .flatMap((record) => decoder.decode(record.value).split(" "))
      .map((word): [string, number] => [word, 1])
      .reduceByKey((a, b) => a + b)
      .map((pair) => JSON.stringify(pair))
      .sink("kafka", {
        brokers,
        topic: args.output,
        transactionalId: "cli-word-count",
        transactionTimeoutMs: 10_000,
      });
  },
});
