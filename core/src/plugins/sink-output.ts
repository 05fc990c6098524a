import { internalsOf } from "../context/context-internals.js";
import type { DStream } from "../dstream/dstream.js";
import { operator } from "../dstream/operator-registry.js";
import type { BackoffPolicy } from "./backoff.js";
import { contextConnectors, pluginName } from "./context-connectors.js";
import type { SinkPlugin } from "./plugin.js";
import type { SinkRecord } from "./records.js";
import { SinkSession } from "./sink-session.js";

/** What `stream.sink(...)` accepts per record: a `SinkRecord`, raw bytes, or text (UTF-8). */
export type SinkInput = SinkRecord | Uint8Array | string;

/** Options of `stream.sink(...)`. */
export interface SinkOutputOptions {
  /** The connector's id in logs and errors (default `sink:<name>#<n>`). */
  readonly id?: string;
  /** How reconnects back off; default 100 ms doubling to 30 s, ±20%. */
  readonly backoff?: BackoffPolicy;
}

const encoder = new TextEncoder();

/**
 * Adds an output operation writing every batch of `stream` to a connector sink, one
 * `writeBatch` per partition, with the idempotency key `appName/batchTime/outputId/partition`.
 * The config is validated at once; a lost connection is retried with backoff.
 *
 * @example
 * addSinkOutput(counts.map((pair) => JSON.stringify(pair)), "file", { directory: "out" });
 */
export function addSinkOutput<T extends SinkInput>(
  stream: DStream<T>,
  sink: string | SinkPlugin,
  config: unknown,
  options: SinkOutputOptions = {},
): void {
  const context = stream.context;
  internalsOf(context).assertCanAddOperations();
  const { registry, signal } = contextConnectors(context);
  const name = pluginName(registry, sink);
  const instance = registry.createSink(
    name,
    config,
    options.id === undefined ? {} : { id: options.id },
  );
  const session = new SinkSession(instance.connector, {
    logger: registry.logger.child({ connector: instance.id }),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  let outputId = -1;
  const output = new (operator("ForEachDStream"))(
    stream,
    async (batch, time) => {
      for (const [partition, records] of batch.partitions.entries()) {
        await session.write(
          records.map(toSinkRecord),
          {
            batchTime: time,
            partition,
            idempotencyKey: `${context.appName}/${time}/${outputId}/${partition}`,
          },
          signal,
        );
      }
    },
    `sink(${instance.id})`,
  );
  outputId = output.outputId;
}

function toSinkRecord(record: SinkInput): SinkRecord {
  if (typeof record === "string") return { value: encoder.encode(record) };
  if (record instanceof Uint8Array) return { value: record };
  return record;
}
