import { InvalidRecordError, invalidRecordIndex } from "../connector/control-flow.js";
import type { SinkPlugin } from "../connector/plugin.js";
import type { SinkRecord } from "../connector/records.js";
import { withWriter } from "../connector/sink.js";
import type { DStream } from "../dstream/dstream.js";
import type { RecordFailures } from "../dstream/record-failures.js";
import type { SinkInput, SinkOutputOptions } from "../dstream/sink-options.js";
import { deadLetterOf } from "../recovery/dead-letters.js";
import { pluginName } from "./context-connectors.js";
import { SinkSession } from "./sink-session.js";

export type { SinkInput, SinkOutputOptions };

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
  const scope = stream.scope;
  scope.assertCanAddOperations();
  const { registry, signal } = scope.connectors;
  const name = pluginName(registry, sink);
  const instance = registry.createSink(
    name,
    config,
    options.id === undefined ? {} : { id: options.id },
  );
  const session = new SinkSession(instance.connector, {
    logger: registry.logger.child({ connector: instance.id }),
    retriesEnd: scope.connectors.retriesEnd,
    waitsEnd: scope.connectors.waitsEnd,
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  let outputId = -1;
  const output = new scope.operators.ForEachDStream(
    stream,
    async (batch, time) => {
      for (const [partition, records] of batch.partitions.entries()) {
        const write = (sinkRecords: readonly SinkRecord[]): Promise<void> =>
          session.write(
            sinkRecords,
            withWriter(
              {
                batchTime: time,
                partition,
                idempotencyKey: `${scope.appName}/${time}/${outputId}/${partition}`,
              },
              scope.outputWriter(),
            ),
            signal,
          );
        await writeOrDivert(
          scope.recordFailures,
          `sink(${instance.id})`,
          { time, partition },
          records.map(toSinkRecord),
          write,
        );
      }
    },
    `sink(${instance.id})`,
  );
  outputId = output.outputId;
}

/**
 * Writes the records; when the sink refuses one it names (`InvalidRecordError` with
 * `recordIndex`) and the job has a dead-letter sink, that record goes there and the others are
 * written again. The sink counts `recordIndex` in the write it refused, which after a diversion
 * lacks the records refused before; each dead letter gets the record's index in the whole
 * partition (`batchPosition`), and its error says so when the two differ.
 *
 * @example
 * await writeOrDivert(failures, "sink(sink:file#1)", { time: 3000, partition: 0 }, records, write);
 */
async function writeOrDivert(
  failures: RecordFailures,
  operation: string,
  batch: { readonly time: number; readonly partition: number },
  records: readonly SinkRecord[],
  write: (records: readonly SinkRecord[]) => Promise<void>,
): Promise<void> {
  let pending = records.map((record, index) => ({ record, index }));
  for (;;) {
    try {
      await write(pending.map((entry) => entry.record));
      return;
    } catch (error) {
      const refusedAt = invalidRecordIndex(error);
      const refused = refusedAt === undefined ? undefined : pending[refusedAt];
      const deadLetters = failures.activeDeadLetters();
      if (refusedAt === undefined || refused === undefined || deadLetters === undefined) {
        throw error;
      }
      const left = records.length - pending.length;
      const cause =
        refusedAt === refused.index
          ? error
          : new InvalidRecordError(
              `${error instanceof Error ? error.message : String(error)} (the sink counted in a write that left out the ${left} record${left === 1 ? "" : "s"} it refused before; in the batch it is record ${refused.index} of partition ${batch.partition})`,
              { recordIndex: refused.index, cause: error },
            );
      deadLetters.capture({
        ...deadLetterOf(refused.record, cause, operation, batch.time),
        batchPosition: { partition: batch.partition, index: refused.index },
      });
      pending = pending.filter((entry) => entry !== refused);
    }
  }
}

function toSinkRecord(record: SinkInput): SinkRecord {
  if (typeof record === "string") return { value: encoder.encode(record) };
  if (record instanceof Uint8Array) return { value: record };
  return record;
}
